"""Sorting: sort, partition and sort_complex permute the elements of x along an axis.

A permutation is linear, with a constant index: the output is take_along_axis(x, order, axis) where ``order`` says
where each output element comes from. So the JVP permutes the tangent the same way, and the VJP un-permutes g with
the inverse permutation, argsort(order) — for sort, ``order`` is the argsort of x.
"""

from __future__ import annotations

from typing import Any

import numpy as _np

from ..core.backward import defvjp
from ..core.forward import defjvp
from ..core.tracer import getval
from . import wrapped as anp
from .rules_util import cast_like, shape_of


def _matching_order(x: _np.ndarray, ans: _np.ndarray, axis: int) -> _np.ndarray:
    """An index with take_along_axis(x, order, axis) == ans, for ans a permutation of x along axis.

    The r-th smallest element of ans comes from the r-th smallest of x (equal elements are interchangeable).
    """
    from_x = _np.argsort(x, axis=axis, kind="stable")
    from_ans = _np.argsort(ans, axis=axis, kind="stable")
    return _np.take_along_axis(from_x, _np.argsort(from_ans, axis=axis, kind="stable"), axis=axis)


def _def_permutation(fun, order_of) -> None:
    """Rules for ``fun(x, ...)``, a permutation along an axis; ``order_of(ans, x, args, kwargs)`` gives
    (order, axis, flatten): flatten means the permutation acts on ravel(x) (axis=None)."""

    def vjp(ans, x, *args, **kwargs):
        order, axis, flatten = order_of(ans, x, args, kwargs)
        inverse = _np.argsort(order, axis=axis, kind="stable")

        def back(g):
            g = anp.take_along_axis(g, inverse, axis=axis)
            return cast_like(x, anp.reshape(g, shape_of(x)) if flatten else g)
        return back

    def jvp(g, ans, x, *args, **kwargs):
        order, axis, flatten = order_of(ans, x, args, kwargs)
        tangent = anp.take_along_axis(anp.ravel(g) if flatten else g, order, axis=axis)
        return tangent if _np.iscomplexobj(getval(ans)) == _np.iscomplexobj(getval(tangent)) else \
            anp._astype(tangent, getval(ans).dtype)

    defvjp(fun, vjp)
    defjvp(fun, jvp)


def _axis_arg(args: tuple, kwargs: dict, default: Any = -1) -> Any:
    return args[0] if args else kwargs.get("axis", default)


def _sort_order(ans, x, args, kwargs):
    axis = _axis_arg(args, kwargs)
    raw = _np.asarray(getval(x))
    if axis is None:
        return _np.argsort(raw.ravel(), kind="stable"), 0, True
    return _np.argsort(raw, axis=axis, kind="stable"), axis, False


def _partition_order(ans, x, args, kwargs):
    axis = args[1] if len(args) > 1 else kwargs.get("axis", -1)
    raw = _np.asarray(getval(x))
    if axis is None:
        return _matching_order(raw.ravel(), _np.asarray(getval(ans)), 0), 0, True
    return _matching_order(raw, _np.asarray(getval(ans)), axis), axis, False


def _sort_complex_order(ans, x, args, kwargs):
    return _np.argsort(_np.asarray(getval(x)), axis=-1, kind="stable"), -1, False


_def_permutation(anp.sort, _sort_order)
_def_permutation(anp.partition, _partition_order)
_def_permutation(anp.sort_complex, _sort_complex_order)
