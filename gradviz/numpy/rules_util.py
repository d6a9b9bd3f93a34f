"""What the rule tables share: un-broadcasting gradients, broadcasting tangents, and axis bookkeeping.

Every helper works on plain and traced values alike (it calls gradviz.numpy), so that a rule written with them can
itself be differentiated.
"""

from __future__ import annotations

from typing import Any

import numpy as _np

from ..core.backward import defvjp
from ..core.forward import defjvp
from ..core.tracer import box_types
from . import wrapped as anp

__all__ = [
    "shape_of", "ndim_of", "dtype_of", "iscomplex", "unbroadcast", "unbroadcast_f", "broadcast_like",
    "match_complex", "cast_like", "normalize_axis", "restore_reduced", "repeat_to_match", "balanced_eq", "replace_zero",
]

_SCALAR_TYPES = (float, int, bool, complex)


def _raw(x: Any) -> Any:
    while type(x) in box_types:
        x = x._value
    return x


def shape_of(x: Any) -> tuple:
    x = _raw(x)
    if type(x) is _np.ndarray:
        return x.shape
    if type(x) in _SCALAR_TYPES or isinstance(x, _np.generic):
        return ()
    return _np.shape(x)


def ndim_of(x: Any) -> int:
    return len(shape_of(x))


def dtype_of(x: Any) -> _np.dtype:
    x = _raw(x)
    return x.dtype if type(x) is _np.ndarray else _np.result_type(x)


def iscomplex(x: Any) -> bool:
    x = _raw(x)
    if type(x) is _np.ndarray:
        return x.dtype.kind == "c"
    return isinstance(x, (complex, _np.complexfloating))


_REAL_SCALARS = frozenset({float, _np.float64, _np.float32, _np.float16, int, bool})


def match_complex(target: Any, g: Any) -> Any:
    """``g`` made real if ``target`` is real (the gradient of a real value is real)."""
    if type(g) in _REAL_SCALARS:
        return g
    if iscomplex(g) and not iscomplex(target):
        return anp.real(g)
    return g


def cast_like(x: Any, g: Any) -> Any:
    """``g`` as a gradient of ``x``: real if x is real, and in x's precision (float32 stays float32)."""
    g = match_complex(x, g)
    x_dtype, g_dtype = dtype_of(x), dtype_of(g)
    if g_dtype != x_dtype and x_dtype.kind in "fc" and g_dtype.kind in "fc":
        g = anp._astype(g, x_dtype)
    return g


def unbroadcast(target: Any, g: Any) -> Any:
    """``g``, the gradient of a broadcast result, summed back to the shape of ``target``."""
    if type(g) in _REAL_SCALARS and type(target) in _REAL_SCALARS:  # the scalar fast path
        return g
    target_shape = shape_of(target)
    g_shape = shape_of(g)
    if g_shape != target_shape:
        extra = len(g_shape) - len(target_shape)
        if extra > 0:
            g = anp.sum(g, axis=tuple(range(extra)))
        stretched = tuple(axis for axis, size in enumerate(target_shape) if size == 1 and shape_of(g)[axis] != 1)
        if stretched:
            g = anp.sum(g, axis=stretched, keepdims=True)
    return match_complex(target, g)


def unbroadcast_f(target: Any, fun: Any) -> Any:
    """``g -> unbroadcast(target, fun(g))``: a VJP for an argument that the primitive may broadcast."""
    return lambda g: unbroadcast(target, fun(g))


def broadcast_like(tangent: Any, ans: Any) -> Any:
    """``tangent`` broadcast to the shape of ``ans`` (a JVP's tangent has the output's shape)."""
    ans_shape = shape_of(ans)
    if shape_of(tangent) == ans_shape:
        return tangent
    return anp.broadcast_to(tangent, ans_shape)


def normalize_axis(axis: Any, ndim: int) -> tuple[int, ...]:
    """``axis`` (None, an int or a tuple, possibly negative) as a sorted tuple of non-negative axes."""
    if axis is None:
        return tuple(range(ndim))
    if isinstance(axis, (int, _np.integer)):
        axis = (axis,)
    return tuple(sorted(int(a) % ndim if ndim else 0 for a in axis))


def restore_reduced(g: Any, x: Any, axis: Any, keepdims: bool) -> Any:
    """``g``, the gradient of a reduction of ``x`` over ``axis``, given back its reduced axes (size 1)."""
    shape = shape_of(x)
    if keepdims or not shape:
        return g
    axes = normalize_axis(axis, len(shape))
    kept = [1 if i in axes else size for i, size in enumerate(shape)]
    return anp.reshape(g, tuple(kept))


def repeat_to_match(g: Any, x: Any, axis: Any, keepdims: bool) -> Any:
    """``g`` of a reduction of ``x``, broadcast back over the reduced axes to the full shape of ``x``."""
    return anp.broadcast_to(restore_reduced(g, x, axis, keepdims), shape_of(x))


def balanced_eq(x: Any, ans: Any, y: Any) -> Any:
    """Where ``x`` is the max/min ``ans``: 1, or 1/2 where ``x`` ties with ``y``; 0 elsewhere (in ans's precision)."""
    x, ans, y = _raw(x), _raw(ans), _raw(y)
    with _np.errstate(invalid="ignore"):
        won = (x == ans) | (_np.isnan(x) & _np.isnan(ans))  # a NaN that propagates wins, and gets g
        tie = (x == y) | (_np.isnan(x) & _np.isnan(y))
    mask = _np.where(won, _np.where(tie, 0.5, 1.0), 0.0)
    return mask.astype(_np.result_type(dtype_of(ans), _np.float32), copy=False)


def replace_zero(x: Any, value: Any) -> Any:
    """``x`` with its zeros replaced by ``value`` (to keep 0/0 out of a rule)."""
    return anp.where(x == 0, value, x)


# broadcast_to is linear; its VJP sums the broadcast axes away. The broadcasting helpers above need it.
defvjp(anp.broadcast_to, lambda ans, x, shape, **kw: lambda g: unbroadcast(x, g))
defjvp(anp.broadcast_to, "same")
