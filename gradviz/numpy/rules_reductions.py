"""Reductions: sums, means, products, extrema, moments and running totals over axes, with ``keepdims``.

The VJP of a reduction over ``axis`` spreads ``g`` back over the reduced axes (``repeat_to_match``) and weights it
by the derivative of each element; its JVP is the reduction of the weighted tangent. Products never divide by x:
the product of "all the others" is a product of prefix and suffix products (cumprod), and cumprod's own rules are
linear recurrences solved by a scan of shifts and multiplies, so zeros are exact at every order.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as _np

from ..core.backward import defvjp
from ..core.forward import defjvp
from ..core.tracer import getval, primitive
from . import wrapped as anp
from .rules_util import (
    cast_like,
    dtype_of,
    iscomplex,
    normalize_axis,
    repeat_to_match,
    replace_zero,
    shape_of,
)

# --- helpers


def _kw(**kwargs: Any) -> dict:
    """The keyword arguments that were given (None means not given)."""
    return {key: value for key, value in kwargs.items() if value is not None}


def _count(x: Any, axis: Any) -> int:
    """How many elements of ``x`` each output of a reduction over ``axis`` reduces."""
    shape = shape_of(x)
    return math.prod(shape[a] for a in normalize_axis(axis, len(shape))) if shape else 1


def _real_dtype(x: Any) -> _np.dtype:
    dtype = dtype_of(x)
    return _np.finfo(dtype).dtype if dtype.kind in "fc" else _np.dtype(float)


def _mask_count(x: Any, axis: Any, where: Any) -> Any:
    """Per-output count of the elements selected by ``where`` (kept dims), in x's real precision."""
    mask = _np.broadcast_to(where, shape_of(x))
    axes = normalize_axis(axis, len(shape_of(x)))
    return _np.sum(mask, axis=axes, keepdims=True).astype(_real_dtype(x))


def _broadcast_ans(ans: Any, x: Any, axis: Any, keepdims: bool) -> Any:
    """The plain value of a reduction's result with its reduced axes restored (size 1), to compare with x."""
    ans = _np.asarray(getval(ans))
    shape = shape_of(x)
    if keepdims or not shape:
        return ans
    return _np.expand_dims(ans, normalize_axis(axis, len(shape)))


# --- sum and mean: linear


def _sum_vjp(ans, x, axis=None, dtype=None, out=None, keepdims=False, initial=None, where=None):
    def vjp(g):
        g = repeat_to_match(g, x, axis, keepdims)
        return cast_like(x, g if where is None else g * where)
    return vjp


def _sum_jvp(g, ans, x, axis=None, dtype=None, out=None, keepdims=False, initial=None, where=None):
    return anp.sum(g, **_kw(axis=axis, dtype=dtype, keepdims=keepdims, where=where))


defvjp(anp.sum, _sum_vjp)
defjvp(anp.sum, _sum_jvp)


def _mean_vjp(ans, x, axis=None, dtype=None, out=None, keepdims=False, where=None):
    def vjp(g):
        g = repeat_to_match(g, x, axis, keepdims)
        if where is None:
            return cast_like(x, g / _count(x, axis))
        return cast_like(x, g * (where / _np.maximum(_mask_count(x, axis, where), 1)))
    return vjp


def _mean_jvp(g, ans, x, axis=None, dtype=None, out=None, keepdims=False, where=None):
    return anp.mean(g, **_kw(axis=axis, dtype=dtype, keepdims=keepdims, where=where))


defvjp(anp.mean, _mean_vjp)
defjvp(anp.mean, _mean_jvp)


# --- shifts and linear recurrences (the machinery behind cumprod and prod)


@primitive
def _shift(v: Any, d: int, axis: int, fill: Any) -> Any:
    """``v`` moved ``d`` places along ``axis`` (to higher indices if d > 0); the vacated places hold ``fill``."""
    v = _np.asarray(v)
    out = _np.full_like(v, fill)
    n = v.shape[axis]
    if abs(d) < n:
        src, dst = [slice(None)] * v.ndim, [slice(None)] * v.ndim
        src[axis], dst[axis] = (slice(0, n - d), slice(d, n)) if d >= 0 else (slice(-d, n), slice(0, n + d))
        out[tuple(dst)] = v[tuple(src)]
    return out


# The shift is affine in v (the fill is constant): its tangent is the shift with zero fill; its transpose the
# opposite shift.
defvjp(_shift, lambda ans, v, d, axis, fill: lambda g: _shift(g, -d, axis, 0))
defjvp(_shift, lambda g, ans, v, d, axis, fill: _shift(g, d, axis, 0))


def _linear_scan(a: Any, b: Any, axis: int, reverse: bool = False) -> Any:
    """s with s[t] = a[t] * s[t-1] + b[t] along ``axis`` (s[t+1] if ``reverse``), s outside = 0.

    A Hillis-Steele scan: log2(n) rounds of composing affine maps over windows of doubling length. Only shifts,
    products and sums, so it is exact with zeros and differentiable to any order.
    """
    n = shape_of(b)[axis]
    d = 1
    while d < n:
        step = -d if reverse else d
        b = b + a * _shift(b, step, axis, 0)
        a = a * _shift(a, step, axis, 1)
        d *= 2
    return b


def _exclusive_cumprod(x: Any, axis: int) -> Any:
    """The product of the elements before each one along ``axis`` (1 for the first)."""
    return _shift(anp.cumprod(x, axis=axis), 1, axis, 1)


def _cumprod_vjp_along(g: Any, ans: Any, x: Any, axis: int) -> Any:
    # d ans[i] / d x[j] = prod_{k <= i, k != j} x[k] for j <= i, so grad[j] = before[j] * S[j] with the suffix
    # recurrence S[j] = g[j] + x[j+1] S[j+1].
    before = _shift(ans, 1, axis, 1)
    return before * _linear_scan(_shift(x, -1, axis, 0), g, axis, reverse=True)


def _cumprod_jvp_along(g: Any, ans: Any, x: Any, axis: int) -> Any:
    # ans[t] = ans[t-1] x[t], so d ans[t] = x[t] d ans[t-1] + ans[t-1] dx[t].
    return _linear_scan(x, _shift(ans, 1, axis, 1) * g, axis)


def _others_along(x: Any, axis: int) -> Any:
    """The product of all the other elements along ``axis``, at each position; no division."""
    before = _exclusive_cumprod(x, axis)
    after = anp.flip(_exclusive_cumprod(anp.flip(x, axis), axis), axis)
    return before * after


def _others(x: Any, axis: Any) -> Any:
    """The product of the other elements of each element's reduction group over ``axis`` (tuple or None)."""
    shape = shape_of(x)
    axes = normalize_axis(axis, len(shape))
    if not shape or not axes:
        return anp.ones_like(x)
    if len(axes) == 1:
        return _others_along(x, axes[0])
    kept = [a for a in range(len(shape)) if a not in axes]
    order = kept + list(axes)
    moved = anp.transpose(x, order)
    grouped = anp.reshape(moved, tuple(shape[a] for a in kept) + (math.prod(shape[a] for a in axes),))
    others = anp.reshape(_others_along(grouped, len(kept)), shape_of(moved))
    return anp.transpose(others, tuple(_np.argsort(order)))


# --- prod


def _prod_factor(x, axis, initial, where):
    """d prod / d x elementwise: the product of the others (times ``initial``), zero where not selected."""
    if where is None:
        others = _others(x, axis)
    else:
        others = _others(anp.where(where, x, 1), axis) * where
    return others if initial is None else others * initial


def _prod_vjp(ans, x, axis=None, dtype=None, out=None, keepdims=False, initial=None, where=None):
    return lambda g: cast_like(x, repeat_to_match(g, x, axis, keepdims) * _prod_factor(x, axis, initial, where))


def _prod_jvp(g, ans, x, axis=None, dtype=None, out=None, keepdims=False, initial=None, where=None):
    return anp.sum(g * _prod_factor(x, axis, initial, where), **_kw(axis=axis, dtype=dtype, keepdims=keepdims))


defvjp(anp.prod, _prod_vjp)
defjvp(anp.prod, _prod_jvp)


# --- cumsum and cumprod (axis None: over the flattened array)


def _cumsum_vjp(ans, x, axis=None, dtype=None, out=None):
    def vjp(g):
        along = 0 if axis is None else axis
        total_after = anp.flip(anp.cumsum(anp.flip(g, along), along), along)
        return cast_like(x, anp.reshape(total_after, shape_of(x)) if axis is None else total_after)
    return vjp


def _cumsum_jvp(g, ans, x, axis=None, dtype=None, out=None):
    return anp.cumsum(g, **_kw(axis=axis, dtype=dtype))


defvjp(anp.cumsum, _cumsum_vjp)
defjvp(anp.cumsum, _cumsum_jvp)


def _cumprod_vjp(ans, x, axis=None, dtype=None, out=None):
    if axis is None:
        return lambda g: cast_like(x, anp.reshape(_cumprod_vjp_along(g, ans, anp.ravel(x), 0), shape_of(x)))
    along = normalize_axis(axis, len(shape_of(x)))[0]
    return lambda g: cast_like(x, _cumprod_vjp_along(g, ans, x, along))


def _cumprod_jvp(g, ans, x, axis=None, dtype=None, out=None):
    if axis is None:
        return _cumprod_jvp_along(anp.ravel(g), ans, anp.ravel(x), 0)
    return _cumprod_jvp_along(g, ans, x, normalize_axis(axis, len(shape_of(x)))[0])


defvjp(anp.cumprod, _cumprod_vjp)
defjvp(anp.cumprod, _cumprod_jvp)


# --- max, min, ptp: the gradient goes to the extremal elements, split evenly among ties


def _extremum_weights(ans, x, axis, keepdims, where=None):
    """1/count at the elements equal to the extremum (count = how many tie), 0 elsewhere; a constant."""
    values, extremum = _np.asarray(getval(x)), _broadcast_ans(ans, x, axis, keepdims)
    mask = values == extremum
    if values.dtype.kind in "fc" and _np.isnan(extremum).any():  # a NaN wins (it propagates): it gets g
        mask = mask | (_np.isnan(values) & _np.isnan(extremum))
    if where is not None:
        mask = mask & where
    if not shape_of(x):
        return mask.astype(_real_dtype(x))
    counts = _np.sum(mask, axis=normalize_axis(axis, len(shape_of(x))), keepdims=True)
    return (mask / _np.maximum(counts, 1)).astype(_real_dtype(x))


def _extremum_vjp(ans, x, axis=None, out=None, keepdims=False, initial=None, where=None):
    weights = _extremum_weights(ans, x, axis, keepdims, where)
    return lambda g: cast_like(x, repeat_to_match(g, x, axis, keepdims) * weights)


def _extremum_jvp(g, ans, x, axis=None, out=None, keepdims=False, initial=None, where=None):
    return anp.sum(g * _extremum_weights(ans, x, axis, keepdims, where), **_kw(axis=axis, keepdims=keepdims))


for _extremum in (anp.max, anp.min, anp.amax, anp.amin):
    defvjp(_extremum, _extremum_vjp)
    defjvp(_extremum, _extremum_jvp)


def _ptp_weights(x, axis, keepdims):
    high = _extremum_weights(_np.max(getval(x), axis=axis, keepdims=keepdims), x, axis, keepdims)
    low = _extremum_weights(_np.min(getval(x), axis=axis, keepdims=keepdims), x, axis, keepdims)
    return high - low


defvjp(anp.ptp, lambda ans, x, axis=None, out=None, keepdims=False: lambda g: cast_like(
    x, repeat_to_match(g, x, axis, keepdims) * _ptp_weights(x, axis, keepdims)))
defjvp(anp.ptp, lambda g, ans, x, axis=None, out=None, keepdims=False: anp.sum(
    g * _ptp_weights(x, axis, keepdims), **_kw(axis=axis, keepdims=keepdims)))


# --- var and std: var = sum |x - mean|^2 / (n - ddof); its gradient is 2 conj(x - mean) / (n - ddof)
# (the mean's own change drops out, since the deviations sum to zero)


def _deviation_and_scale(x, axis, ddof, where, mean, correction):
    """(x - mean, masked to ``where``) and 1 / (n - ddof), broadcastable against x."""
    ddof = ddof if correction is None else correction
    if mean is not None:
        center = mean
    else:
        center = anp.mean(x, **_kw(axis=axis, keepdims=True, where=where))
    deviation = x - center
    if where is None:
        return deviation, 1.0 / (_count(x, axis) - ddof)
    return deviation * where, (1.0 / (_mask_count(x, axis, where) - ddof)).astype(_real_dtype(x))


def _conj_if_complex(x, d):
    return anp.conjugate(d) if iscomplex(x) else d


def _var_vjp(ans, x, axis=None, dtype=None, out=None, ddof=0, keepdims=False, where=None, mean=None,
             correction=None):
    def vjp(g):
        deviation, scale = _deviation_and_scale(x, axis, ddof, where, mean, correction)
        return cast_like(x, repeat_to_match(g, x, axis, keepdims) * (2 * scale) * _conj_if_complex(x, deviation))
    return vjp


def _var_jvp(g, ans, x, axis=None, dtype=None, out=None, ddof=0, keepdims=False, where=None, mean=None,
             correction=None):
    deviation, scale = _deviation_and_scale(x, axis, ddof, where, mean, correction)
    change = anp.real(_conj_if_complex(x, deviation) * g) if iscomplex(x) or iscomplex(g) else deviation * g
    return anp.sum(change * (2 * scale), **_kw(axis=axis, keepdims=keepdims))


defvjp(anp.var, _var_vjp)
defjvp(anp.var, _var_jvp)


def _std_vjp(ans, x, axis=None, dtype=None, out=None, ddof=0, keepdims=False, where=None, mean=None,
             correction=None):
    # std = sqrt(var): the var gradient over 2 std. Where std = 0 every deviation is 0, so is the gradient.
    def vjp(g):
        deviation, scale = _deviation_and_scale(x, axis, ddof, where, mean, correction)
        spread = repeat_to_match(replace_zero(ans, 1.0), x, axis, keepdims)
        return cast_like(x, repeat_to_match(g, x, axis, keepdims) * scale * _conj_if_complex(x, deviation) / spread)
    return vjp


def _std_jvp(g, ans, x, axis=None, dtype=None, out=None, ddof=0, keepdims=False, where=None, mean=None,
             correction=None):
    deviation, scale = _deviation_and_scale(x, axis, ddof, where, mean, correction)
    change = anp.real(_conj_if_complex(x, deviation) * g) if iscomplex(x) or iscomplex(g) else deviation * g
    return anp.sum(change * scale, **_kw(axis=axis, keepdims=keepdims)) / replace_zero(ans, 1.0)


defvjp(anp.std, _std_vjp)
defjvp(anp.std, _std_jvp)


# --- trace: the sum of a diagonal; its gradient puts g on that diagonal


def _diagonal_sources(x, offset, axis1, axis2):
    """The flat index in x of each element of its diagonal (shape: other axes + diagonal)."""
    positions = _np.arange(math.prod(shape_of(x))).reshape(shape_of(x))
    return _np.diagonal(positions, offset, axis1, axis2)


@primitive
def _onto_diagonal(g: Any, sources: Any, shape: tuple) -> Any:
    """Zeros of ``shape`` with g (broadcast over the diagonal's length) added at the flat ``sources``."""
    g = _np.asarray(g)
    out = _np.zeros(math.prod(shape), g.dtype if g.dtype.kind in "fc" else float)
    _np.add.at(out, sources, _np.broadcast_to(g[..., None], sources.shape))
    return out.reshape(shape)


@primitive
def _diagonal_sum(x: Any, sources: Any) -> Any:
    """The sum of x's elements at the flat ``sources`` over their last axis: the transpose of _onto_diagonal."""
    return _np.sum(_np.ravel(x)[sources], axis=-1)


defvjp(_onto_diagonal, lambda ans, g, sources, shape: lambda h: _diagonal_sum(h, sources))
defjvp(_onto_diagonal, "same")
defvjp(_diagonal_sum, lambda ans, x, sources: lambda g: cast_like(x, _onto_diagonal(g, sources, shape_of(x))))
defjvp(_diagonal_sum, "same")


def _trace_vjp(ans, x, offset=0, axis1=0, axis2=1, dtype=None, out=None):
    sources = _diagonal_sources(x, offset, axis1, axis2)
    return lambda g: cast_like(x, _onto_diagonal(g, sources, shape_of(x)))


def _trace_jvp(g, ans, x, offset=0, axis1=0, axis2=1, dtype=None, out=None):
    return anp.trace(g, offset, axis1, axis2, **_kw(dtype=dtype))


defvjp(anp.trace, _trace_vjp)
defjvp(anp.trace, _trace_jvp)

