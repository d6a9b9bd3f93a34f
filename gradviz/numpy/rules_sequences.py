"""Sequences: differences, numerical gradients, interpolation, convolution, integration, polynomials and friends.

Each function is written once more as a composition of traced primitives (slices, sums, products, takes), and its
rules come from that composition (``def_composite``). Most of these functions are linear in their array argument,
and the composition makes the transpose (the VJP) follow without a second formula. Functions that move elements
(resize, delete, insert, diagflat) find where each output element comes from by applying NumPy's own function to
an array of positions, then take those elements.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as _np

from ..core.backward import defvjp
from ..core.forward import defjvp
from ..core.tracer import getval
from . import wrapped as anp
from .rules_shape import _astype_jvp, _astype_vjp
from .rules_statistics import def_composite
from .rules_util import iscomplex, normalize_axis, shape_of

# --- helpers


def _slice_along(x: Any, axis: int, start: int | None, stop: int | None) -> Any:
    index = [slice(None)] * len(shape_of(x))
    index[axis] = slice(start, stop)
    return anp._getitem(x, tuple(index))


def _along(v: Any, axis: int, ndim: int) -> Any:
    """A 1-D v shaped to broadcast along ``axis`` of an ndim-dimensional array."""
    return anp.reshape(v, tuple(-1 if d == axis else 1 for d in range(ndim)))


def _positions(shape: tuple, first: int = 1) -> _np.ndarray:
    return _np.arange(first, first + math.prod(shape)).reshape(shape)


def _gather_from(flat_sources: Any, index: _np.ndarray) -> Any:
    """Elements of the 1-D traced ``flat_sources`` at the constant ``index`` (any shape)."""
    return anp.reshape(anp.take(flat_sources, index.ravel()), index.shape)


# --- diff and ediff1d: repeated differences of neighbours


def _diff(a, n=1, axis=-1, prepend=_np._NoValue, append=_np._NoValue):
    axis = normalize_axis(axis, len(shape_of(a)))[0]
    pieces = []
    for extra in (prepend, append):
        if extra is _np._NoValue:
            pieces.append(None)
            continue
        extra = _np.asarray(extra)
        if extra.ndim == 0:
            shape = list(shape_of(a))
            shape[axis] = 1
            extra = _np.broadcast_to(extra, shape)
        pieces.append(extra)
    parts = [p for p in (pieces[0], a, pieces[1]) if p is not None]
    x = anp.concatenate_args(axis, *parts) if len(parts) > 1 else a
    for _ in range(n):
        x = _slice_along(x, axis, 1, None) - _slice_along(x, axis, None, -1)
    return x


def _ediff1d(ary, to_end=None, to_begin=None):
    parts = [anp.diff(anp.ravel(ary))]
    if to_begin is not None:
        parts.insert(0, _np.ravel(to_begin))
    if to_end is not None:
        parts.append(_np.ravel(to_end))
    return anp.concatenate_args(0, *parts) if len(parts) > 1 else parts[0]


def_composite(anp.diff, _diff)
def_composite(anp.ediff1d, _ediff1d)


# --- gradient: central differences inside, one-sided of order 1 or 2 at the edges, on uniform or given spacing


def _gradient_along(f, axis, spacing, edge_order):
    n, ndim = shape_of(f)[axis], len(shape_of(f))

    def at(start, stop):
        return _slice_along(f, axis, start, stop)

    if _np.ndim(spacing) == 0:
        h = float(spacing)
        inner = (at(2, None) - at(None, -2)) / (2 * h)
        if edge_order == 1:
            first = (at(1, 2) - at(0, 1)) / h
            last = (at(n - 1, n) - at(n - 2, n - 1)) / h
        else:
            first = (-1.5 * at(0, 1) + 2 * at(1, 2) - 0.5 * at(2, 3)) / h
            last = (0.5 * at(n - 3, n - 2) - 2 * at(n - 2, n - 1) + 1.5 * at(n - 1, n)) / h
        return anp.concatenate_args(axis, first, inner, last)
    x = _np.asarray(spacing, float)
    dx = _np.diff(x)
    dx1, dx2 = dx[:-1], dx[1:]
    a, b, c = -dx2 / (dx1 * (dx1 + dx2)), (dx2 - dx1) / (dx1 * dx2), dx1 / (dx2 * (dx1 + dx2))
    inner = (_along(a, axis, ndim) * at(None, -2) + _along(b, axis, ndim) * at(1, -1)
             + _along(c, axis, ndim) * at(2, None))
    if edge_order == 1:
        first = (at(1, 2) - at(0, 1)) / dx[0]
        last = (at(n - 1, n) - at(n - 2, n - 1)) / dx[-1]
    else:
        d1, d2 = dx[0], dx[1]
        first = (-(2 * d1 + d2) / (d1 * (d1 + d2)) * at(0, 1) + (d1 + d2) / (d1 * d2) * at(1, 2)
                 - d1 / (d2 * (d1 + d2)) * at(2, 3))
        d1, d2 = dx[-2], dx[-1]
        last = (d2 / (d1 * (d1 + d2)) * at(n - 3, n - 2) - (d2 + d1) / (d1 * d2) * at(n - 2, n - 1)
                + (2 * d2 + d1) / (d2 * (d1 + d2)) * at(n - 1, n))
    return anp.concatenate_args(axis, first, inner, last)


def _gradient(f, *varargs, axis=None, edge_order=1):
    ndim = len(shape_of(f))
    axes = normalize_axis(axis, ndim) if axis is not None else tuple(range(ndim))
    if isinstance(axis, (int, _np.integer)):
        axes = (int(axis) % ndim,)
    elif axis is not None:
        axes = tuple(int(a) % ndim for a in axis)
    if not varargs:
        spacings = [1.0] * len(axes)
    elif len(varargs) == 1 and _np.ndim(varargs[0]) == 0:
        spacings = [varargs[0]] * len(axes)
    else:
        spacings = list(varargs)
    out = [_gradient_along(f, ax, h, edge_order) for ax, h in zip(axes, spacings)]
    return out[0] if len(out) == 1 else tuple(out)


def_composite(anp.gradient, _gradient)


# --- interp: piecewise-linear in the data fp and in the query points x (xp constant)


def _interp(x, xp, fp, left=None, right=None, period=None):
    xp_raw = _np.asarray(getval(xp), float)
    if period is not None:
        period = abs(float(period))
        x = x - _np.floor(_np.asarray(getval(x)) / period) * period
        xp = anp.remainder(xp, period)
        xp_raw = xp_raw % period
        order = _np.argsort(xp_raw, kind="stable")
        xp_raw = _np.concatenate([xp_raw[order][-1:] - period, xp_raw[order], xp_raw[order][:1] + period])
        xp = anp.concatenate([anp.take(xp, order[-1:]) - period, anp.take(xp, order), anp.take(xp, order[:1]) + period])
        order = _np.concatenate([order[-1:], order, order[:1]])
        fp = anp.take(fp, order)
        left = right = None
    x_raw = _np.asarray(getval(x), float)
    i = _np.clip(_np.searchsorted(xp_raw, x_raw, side="right") - 1, 0, len(xp_raw) - 2)
    x0, x1 = anp.take(xp, i), anp.take(xp, i + 1)  # traced too: the sample points move the line
    t = (x - x0) / (x1 - x0)
    f0, f1 = anp.take(fp, i), anp.take(fp, i + 1)
    y = f0 + t * (f1 - f0)
    if period is None:
        below, above = x_raw < xp_raw[0], x_raw > xp_raw[-1]
        if below.any():
            y = anp.where(below, anp.take(fp, 0) if left is None else left, y)
        if above.any():
            y = anp.where(above, anp.take(fp, -1) if right is None else right, y)
    return y


def_composite(anp.interp, _interp)


# --- convolve and correlate: bilinear; out[k] = sum_i a[i] v[k - i] (correlate: v reversed and conjugated)


def _convolve(a, v, mode="full"):
    a, v = anp.ravel(a), anp.ravel(v)
    n, m = shape_of(a)[0], shape_of(v)[0]
    if n < m:
        a, v, n, m = v, a, m, n
    k, i = _np.arange(n + m - 1)[:, None], _np.arange(n)[None, :]
    lag = k - i
    index = _np.where((lag >= 0) & (lag < m), lag, m)  # m points at an appended zero
    zero = _np.zeros(1, _np.result_type(getval(v), float))
    toeplitz = _gather_from(anp.concatenate_args(0, v, zero), index)
    full = anp.matmul(toeplitz, a)
    if mode == "full":
        return full
    if mode == "same":
        start = (m - 1) // 2
        return _slice_along(full, 0, start, start + n)
    if mode == "valid":
        return _slice_along(full, 0, m - 1, n)
    raise ValueError(f"numpy.convolve: mode must be 'full', 'same' or 'valid', not {mode!r}")


def _correlate(a, v, mode="valid"):
    flipped = anp.flip(anp.ravel(v))
    return anp.convolve(a, anp.conjugate(flipped) if iscomplex(v) else flipped, mode)


def_composite(anp.convolve, _convolve)
def_composite(anp.correlate, _correlate)


# --- trapezoid: sum of (y[i] + y[i+1]) / 2 times the step, in y and in the sample points x


def _trapezoid(y, x=None, dx=1.0, axis=-1):
    ndim = len(shape_of(y))
    axis = normalize_axis(axis, ndim)[0]
    if x is None:
        step = dx
    else:
        step = anp.diff(x, axis=-1 if len(shape_of(x)) == 1 else axis)
        if len(shape_of(x)) == 1 and ndim > 1:
            step = _along(step, axis, ndim)
    pairs = (_slice_along(y, axis, 1, None) + _slice_along(y, axis, None, -1)) / 2
    return anp.sum(step * pairs, axis=axis)


if hasattr(anp, "trapezoid"):  # NumPy >= 2.0
    def_composite(anp.trapezoid, _trapezoid)
if hasattr(anp, "trapz"):  # NumPy < 2.4
    def_composite(anp.trapz, _trapezoid)


# --- polyval (Horner's scheme), unwrap, vander


def _polyval(p, x):
    p = anp.asarray(p) if isinstance(p, (list, tuple)) else p
    y = anp.zeros_like(x) if len(shape_of(p)) else p
    for j in range(shape_of(p)[0] if shape_of(p) else 0):
        y = y * x + anp._getitem(p, j)
    return y


def_composite(anp.polyval, _polyval)


def _unwrap(p, discont=None, axis=-1, *, period=2 * _np.pi):
    # unwrap adds multiples of the period, a piecewise-constant correction: its derivative is the identity
    raw = _np.asarray(getval(p))
    return p + (_np.unwrap(raw, discont, axis, period=period) - raw)


def_composite(anp.unwrap, _unwrap)


def _vander(x, N=None, increasing=False):
    count = shape_of(x)[0] if N is None else N
    powers = range(count) if increasing else range(count - 1, -1, -1)
    return anp.stack_args(1, *[x ** k if k else anp.ones_like(x) for k in powers])


def_composite(anp.vander, _vander)


# --- cumulative_sum / cumulative_prod (NumPy 2): cumsum / cumprod with an optional leading identity


def _cumulative(reduce, identity):
    def impl(x, /, *, axis=None, dtype=None, out=None, include_initial=False):
        axis = 0 if axis is None else normalize_axis(axis, len(shape_of(x)))[0]
        result = reduce(x, axis=axis, **({} if dtype is None else {"dtype": dtype}))
        if include_initial:
            shape = list(shape_of(x))
            shape[axis] = 1
            result = anp.concatenate_args(axis, _np.full(shape, identity, getval(result).dtype), result)
        return result
    return impl


if hasattr(anp, "cumulative_sum"):
    def_composite(anp.cumulative_sum, _cumulative(anp.cumsum, 0))
    def_composite(anp.cumulative_prod, _cumulative(anp.cumprod, 1))


# --- functions that move elements: where each output element comes from is NumPy's function on positions


def _diagflat(v, k=0):
    sources = _np.diagflat(_positions(shape_of(v)), k)  # 0 marks a constant zero
    flat = anp.ravel(v)
    zero = _np.zeros(1, _np.result_type(getval(v), float))
    return _gather_from(anp.concatenate_args(0, zero, flat), sources)


def _resize(a, new_shape):
    if math.prod(shape_of(a)) == 0:
        return _np.zeros(new_shape, getval(a).dtype)
    return _gather_from(anp.ravel(a), _np.resize(_positions(shape_of(a), 0), new_shape))


def _delete(arr, obj, axis=None):
    return _gather_from(anp.ravel(arr), _np.delete(_positions(shape_of(arr), 0), obj, axis))


def _insert(arr, obj, values, axis=None):
    size = math.prod(shape_of(arr))
    values_shape = shape_of(values) if not isinstance(values, (list, tuple)) else _np.shape(values)
    marks = _np.insert(_positions(shape_of(arr), 0), obj, -_positions(values_shape), axis)
    index = _np.where(marks >= 0, marks, size - marks - 1)
    flat_values = anp.ravel(anp.asarray(values) if isinstance(values, (list, tuple)) else values)
    return _gather_from(anp.concatenate_args(0, anp.ravel(arr), flat_values), index)


def_composite(anp.diagflat, _diagflat)
def_composite(anp.resize, _resize)
def_composite(anp.delete, _delete)
def_composite(anp.insert, _insert)


# --- real_if_close: the real part when the imaginary part is negligible (then the gradient is real)


def _real_if_close_vjp(ans, a, tol=100):
    if iscomplex(a) and not iscomplex(ans):
        return lambda g: anp.real(g) * (1 + 0j)
    return lambda g: g


def _real_if_close_jvp(g, ans, a, tol=100):
    return anp.real(g) if iscomplex(g) and not iscomplex(ans) else g


defvjp(anp.real_if_close, _real_if_close_vjp)
defjvp(anp.real_if_close, _real_if_close_jvp)

# --- np.astype (NumPy 2's function form of ndarray.astype): the same rules as the method
if hasattr(anp, "astype"):
    defvjp(anp.astype, _astype_vjp)
    defjvp(anp.astype, _astype_jvp)
