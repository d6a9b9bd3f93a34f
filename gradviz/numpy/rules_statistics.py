"""Statistics: weighted averages, the NaN-ignoring reductions, covariance and correlation, quantiles.

Most of these are compositions of functions that already have rules (a nanmean is a sum of the non-NaN elements
over their count), so their rules come from that composition: ``def_composite(prim, impl)`` traces ``impl`` — a
gradviz implementation of the same function — inside the rule, in either mode and at any order. NaNs are replaced
by a constant before any arithmetic, so they get a zero gradient. A quantile is the linear interpolation between two
order statistics picked by constant indices, so its gradient goes to those two elements (and, in q, is the slope
between them).
"""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import Any

import numpy as _np

from ..core.backward import VJPNode, backward_pass, defvjp_argnum
from ..core.containers import pack_container
from ..core.forward import JVPNode, defjvp_argnum
from ..core.tracer import Primitive, getval, isbox, trace
from . import wrapped as anp
from .rules_util import cast_like, dtype_of, iscomplex, normalize_axis, shape_of

__all__ = ["def_composite"]


# --- rules from an implementation


def _grad_zeros(x: Any) -> _np.ndarray:
    dtype = dtype_of(x)
    return _np.zeros(shape_of(x), dtype if dtype.kind in "fc" else float)


def _in_argnum(impl: Callable, args: tuple, kwargs: dict, argnum: int) -> Callable:
    def fun(x):
        args_ = list(args)
        args_[argnum] = x
        return impl(*args_, **kwargs)
    return fun


def def_composite(prim: Primitive, impl: Callable) -> None:
    """Rules for ``prim`` in every argument, from ``impl``: the same function written with traced primitives.

    The VJP traces ``impl`` in the argument and sends ``g`` back through that trace; the JVP pushes the tangent
    forward through it. Both are themselves traceable, so higher derivatives follow.
    """

    def vjp(argnum, ans, args, kwargs):
        x = args[argnum]
        start, _, end = trace(VJPNode, _in_argnum(impl, args, kwargs, argnum), x, pack_output=pack_container)

        def back(g):
            result = None if end is None else backward_pass(g, end, start)
            return _grad_zeros(x) if result is None else cast_like(x, result)
        return back

    def jvp(argnum, g, ans, args, kwargs):
        _, _, end = trace(JVPNode, _in_argnum(impl, args, kwargs, argnum), args[argnum],
                          pack_output=pack_container, tangent=g)
        return None if end is None else end.tangent

    defvjp_argnum(prim, vjp)
    defjvp_argnum(prim, jvp)


def _kw(**kwargs: Any) -> dict:
    return {key: value for key, value in kwargs.items() if value is not None}


def _nan_mask(x: Any) -> _np.ndarray:
    return _np.isnan(getval(x))


def _without_nans(x: Any, fill: float) -> Any:
    """x with its NaNs replaced by the constant ``fill`` (so they get no gradient)."""
    mask = _nan_mask(x)
    return anp.where(mask, fill, x) if mask.any() else x


# --- average: sum(w a) / sum(w), over axis; weights (positional argument 2) may be traced


def _average(a, axis=None, weights=None, returned=False, *, keepdims=False):
    keepdims = bool(keepdims) if keepdims is not _np._NoValue else False
    if weights is None:
        avg = anp.mean(a, axis=axis, keepdims=keepdims)
        scale = _np.asarray(math.prod(shape_of(a)) / max(math.prod(shape_of(avg)), 1), dtype_of(getval(avg)))
    else:
        w = weights
        if shape_of(w) != shape_of(a):  # a 1-D weight vector along a single axis
            ndim = len(shape_of(a))
            along = normalize_axis(axis, ndim)[0]
            w = anp.reshape(w, tuple(-1 if d == along else 1 for d in range(ndim)))
            w = anp.broadcast_to(w, shape_of(a))
        scale = anp.sum(w, axis=axis, keepdims=keepdims)
        avg = anp.sum(a * w, axis=axis, keepdims=keepdims) / scale
    if returned:
        if shape_of(scale) != shape_of(avg):
            scale = anp.broadcast_to(scale, shape_of(avg))
        return avg, scale
    return avg


def_composite(anp.average, _average)


# --- the NaN-ignoring reductions


def _nan_count(a, axis, keepdims):
    return _np.sum(~_nan_mask(a), axis=axis, keepdims=keepdims).astype(_real(a))


def _real(a):
    dtype = dtype_of(a)
    return _np.finfo(dtype).dtype if dtype.kind in "fc" else _np.dtype(float)


def _nansum(a, axis=None, dtype=None, out=None, keepdims=False, initial=None, where=None):
    return anp.sum(_without_nans(a, 0.0), **_kw(axis=axis, dtype=dtype, keepdims=keepdims, initial=initial,
                                                where=where))


def _nanmean(a, axis=None, dtype=None, out=None, keepdims=False, *, where=None):
    if where is not None:
        return anp.mean(_without_nans(a, 0.0), axis=axis, keepdims=keepdims, where=where & ~_nan_mask(a))
    return anp.sum(_without_nans(a, 0.0), axis=axis, keepdims=keepdims) / _nan_count(a, axis, keepdims)


def _nanprod(a, axis=None, dtype=None, out=None, keepdims=False, initial=None, where=None):
    return anp.prod(_without_nans(a, 1.0), **_kw(axis=axis, dtype=dtype, keepdims=keepdims, initial=initial,
                                                 where=where))


def _nan_extremum(reduce, fill):
    def impl(a, axis=None, out=None, keepdims=False, initial=None, where=None):
        return reduce(_without_nans(a, fill), **_kw(axis=axis, keepdims=keepdims, initial=initial, where=where))
    return impl


def _nan_moment(reduce):
    def impl(a, axis=None, dtype=None, out=None, ddof=0, keepdims=False, *, where=None, mean=None,
             correction=None):
        valid = ~_nan_mask(a)
        if where is not None:
            valid = valid & where
        return reduce(_without_nans(a, 0.0), **_kw(axis=axis, ddof=ddof, keepdims=keepdims, where=valid, mean=mean,
                                                   correction=correction))
    return impl


def _nancumsum(a, axis=None, dtype=None, out=None):
    return anp.cumsum(_without_nans(a, 0.0), **_kw(axis=axis, dtype=dtype))


def _nancumprod(a, axis=None, dtype=None, out=None):
    return anp.cumprod(_without_nans(a, 1.0), **_kw(axis=axis, dtype=dtype))


def_composite(anp.nansum, _nansum)
def_composite(anp.nanmean, _nanmean)
def_composite(anp.nanprod, _nanprod)
def_composite(anp.nanmax, _nan_extremum(anp.max, -_np.inf))
def_composite(anp.nanmin, _nan_extremum(anp.min, _np.inf))
def_composite(anp.nanvar, _nan_moment(anp.var))
def_composite(anp.nanstd, _nan_moment(anp.std))
def_composite(anp.nancumsum, _nancumsum)
def_composite(anp.nancumprod, _nancumprod)


# --- covariance and correlation: c = (X - mean) (X - mean)^H / (N - ddof), with optional constant weights


def _cov(m, y=None, rowvar=True, bias=False, ddof=None, fweights=None, aweights=None, *, dtype=None):
    X = anp.atleast_2d(m)
    if not rowvar and shape_of(X)[0] != 1:
        X = anp.transpose(X)
    if y is not None:
        Y = anp.atleast_2d(y)
        if not rowvar and shape_of(Y)[0] != 1:
            Y = anp.transpose(Y)
        X = anp.concatenate_args(0, X, Y)
    n = shape_of(X)[1]
    ddof = (0 if bias else 1) if ddof is None else ddof
    w = None
    if fweights is not None:
        w = _np.asarray(fweights, float)
    if aweights is not None:
        w = _np.asarray(aweights, float) if w is None else w * _np.asarray(aweights, float)
    if w is None:
        center = anp.mean(X, axis=1, keepdims=True)
        fact = n - ddof
        deviation = X - center
        weighted = deviation
    else:
        w_sum = w.sum()
        center = anp.sum(X * w, axis=1, keepdims=True) / w_sum
        fact = w_sum - ddof if aweights is None else w_sum - ddof * (w * _np.asarray(aweights)).sum() / w_sum
        deviation = X - center
        weighted = deviation * w
    conj = anp.conjugate(deviation) if iscomplex(deviation) else deviation
    c = anp.dot(weighted, anp.transpose(conj)) / max(fact, 0)
    return anp.squeeze(c)


def _corrcoef(x, y=None, rowvar=True, *, dtype=None):
    c = anp.cov(x, y, rowvar)
    if not shape_of(c):
        return c / c
    spread = anp.sqrt(anp.real(anp.diagonal(c)))
    return c / anp.reshape(spread, (-1, 1)) / anp.reshape(spread, (1, -1))


def_composite(anp.cov, _cov)
def_composite(anp.corrcoef, _corrcoef)


# --- quantiles (method='linear'): interpolate between the order statistics at floor and ceil of q (n - 1)


def _to_last(a, axis):
    """a with the reduced axes moved to one last axis (axis None: flattened), and the reduced axes."""
    ndim = len(shape_of(a))
    axes = normalize_axis(axis, ndim)
    kept = [d for d in range(ndim) if d not in axes]
    moved = anp.transpose(a, tuple(kept + list(axes))) if ndim else anp.reshape(a, (1,))
    shape = shape_of(moved)
    return anp.reshape(moved, shape[:len(kept)] + (math.prod(shape[len(kept):]),)), axes


def _quantile(a, q, axis=None, out=None, overwrite_input=False, method="linear", keepdims=False, *,
              weights=None, interpolation=None):
    method = interpolation if interpolation is not None else method
    q = q if isbox(q) else _np.asarray(q, float)
    if method != "linear" or weights is not None:
        raise NotImplementedError(
            f"numpy.quantile: method={method!r} (or weights=) has no derivative rule in gradviz; method='linear' "
            "has one.")
    flat, axes = _to_last(a, axis)
    n = shape_of(flat)[-1]
    order = _np.argsort(getval(flat), axis=-1, kind="stable")
    ranked = anp.take_along_axis(flat, order, axis=-1)
    position = q * (n - 1)
    raw_position = _np.asarray(getval(position))
    low = _np.clip(_np.floor(raw_position), 0, n - 1).astype(_np.intp)
    high = _np.minimum(low + 1, n - 1)
    frac = position - low  # traced in q
    below = anp.take(ranked, low, axis=-1)  # shape: kept + q's shape
    above = anp.take(ranked, high, axis=-1)
    ndim_q = len(shape_of(q))
    lead = len(shape_of(below)) - ndim_q
    result = below + (above - below) * frac
    if ndim_q:  # NumPy puts q's axes first
        result = anp.moveaxis(result, tuple(range(lead, lead + ndim_q)), tuple(range(ndim_q)))
    if keepdims:
        ndim = len(shape_of(a))
        shape = shape_of(q) + tuple(1 if d in axes else s for d, s in enumerate(shape_of(a)))
        result = anp.reshape(result, shape) if ndim else result
    return result


def _percentile(a, q, axis=None, out=None, overwrite_input=False, method="linear", keepdims=False, *,
                weights=None, interpolation=None):
    q = q if isbox(q) else _np.asarray(q, float)
    method = interpolation if interpolation is not None else method
    return anp.quantile(a, q / 100, axis, None, overwrite_input, method, keepdims, **_kw(weights=weights))


def _median(a, axis=None, out=None, overwrite_input=False, keepdims=False):
    return anp.quantile(a, 0.5, axis, keepdims=keepdims)


def_composite(anp.quantile, _quantile)
def_composite(anp.percentile, _percentile)
def_composite(anp.median, _median)
