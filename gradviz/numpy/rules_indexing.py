"""Indexing: ``x[index]``, take, take_along_axis, choose, compress and extract.

Each of these picks elements of ``x`` by an index that is a constant, so each is ``x[index]`` for some index that
NumPy's fancy indexing understands. The VJP puts ``g`` back at that index, adding where an element was picked more
than once (``np.add.at``). A plain ``g`` goes back as an ``IndexedGrad`` that the backward pass adds in place into
the dense gradient, so picking ``x[i]`` n times costs O(n), not O(n * x.size). A traced ``g`` (inside a
higher-order derivative) goes back through ``untake``, a primitive whose own VJP indexes again.
"""

from __future__ import annotations

from typing import Any

import numpy as _np

from ..core.backward import IndexedGrad, defvjp
from ..core.forward import def_linear, defjvp
from ..core.tracer import Primitive, box_types
from . import wrapped as anp
from .rules_util import dtype_of, match_complex, shape_of

__all__ = ["untake"]


def _untake(g: Any, index: Any, shape: tuple, dtype: Any) -> _np.ndarray:
    out = _np.zeros(shape, dtype)
    _np.add.at(out, index, g)
    return out


untake = Primitive(_untake, "gradviz.untake")
untake.__doc__ = "Zeros of ``shape`` with ``g`` added at ``index`` (repeats add up): the transpose of x[index]."

defvjp(untake, lambda ans, g, index, shape, dtype: lambda outgrad: match_complex(g, anp._getitem(outgrad, index)))
def_linear(untake)


def _grad_dtype(x: Any) -> _np.dtype:
    dtype = dtype_of(x)
    return dtype if dtype.kind in "fc" else _np.dtype(float)


def _put_back(x: Any, index: Any) -> Any:
    """The VJP of ``x[index]``: ``g`` at ``index`` in zeros shaped like ``x``."""
    shape, dtype = shape_of(x), _grad_dtype(x)

    def vjp(g: Any) -> Any:
        g = match_complex(x, g)
        if type(g) in box_types:
            return untake(g, index, shape, dtype)
        return IndexedGrad(shape, dtype, index, g)

    return vjp


defvjp(anp._getitem, lambda ans, x, index: _put_back(x, index), None)
defjvp(anp._getitem, "same", None)


# --- functions that are x[index] for an index built from their arguments

def _normalize(indices: Any, size: int, mode: str) -> _np.ndarray:
    """``indices`` as NumPy's ``mode`` ('raise', 'wrap', 'clip') reads them, made non-negative."""
    indices = _np.asarray(indices, dtype=_np.intp)
    if mode == "clip":
        return _np.clip(indices, 0, size - 1)
    return indices % size if size else indices


def _with_axis(axis: int, index: Any) -> tuple:
    return (slice(None),) * axis + (index,)


def _take_index(shape: tuple, indices: Any, axis: Any, mode: str) -> Any:
    if axis is None:
        size = int(_np.prod(shape))
        return _np.unravel_index(_normalize(indices, size, mode), shape)
    axis = int(axis) % len(shape)
    return _with_axis(axis, _normalize(indices, shape[axis], mode))


defvjp(anp.take, lambda ans, x, indices, axis=None, out=None, mode="raise": _put_back(
    x, _take_index(shape_of(x), indices, axis, mode)), None)
defjvp(anp.take, "same", None)


def _along_axis_index(shape: tuple, indices: Any, axis: Any) -> tuple:
    """The fancy index with ``x[index] == take_along_axis(x, indices, axis)``: aranges on the other axes."""
    indices = _np.asarray(indices)
    if axis is None:
        return _np.unravel_index(_normalize(indices, int(_np.prod(shape)), "raise"), shape)
    ndim = len(shape)
    axis = int(axis) % ndim
    index = []
    for dim, size in enumerate(shape):
        if dim == axis:
            index.append(_normalize(indices, size, "raise"))
        else:
            index.append(_np.arange(size).reshape([-1 if d == dim else 1 for d in range(ndim)]))
    return tuple(index)


defvjp(anp.take_along_axis, lambda ans, x, indices, axis=-1, **kw: _put_back(
    x, _along_axis_index(shape_of(x), indices, axis)), None)
defjvp(anp.take_along_axis, "same", None)


def _choose_index(a: Any, shape: tuple, mode: str) -> tuple:
    """The index into the stacked ``choices`` (shape ``shape``) that ``choose(a, choices)`` reads."""
    a = _normalize(a, shape[0], mode)
    out_ndim = max(a.ndim, len(shape) - 1)
    index = [a]
    for dim in range(1, len(shape)):
        position = out_ndim - len(shape) + dim
        index.append(_np.arange(shape[dim]).reshape([-1 if d == position else 1 for d in range(out_ndim)]))
    return tuple(index)


defvjp(anp.choose_array, None, lambda ans, a, choices, out=None, mode="raise": _put_back(
    choices, _choose_index(a, shape_of(choices), mode)))
defjvp(anp.choose_array, None, "same")


def _compress_index(condition: Any, shape: tuple, axis: Any) -> Any:
    picked = _np.flatnonzero(_np.asarray(condition))
    if axis is None:
        return _np.unravel_index(picked, shape)
    axis = int(axis) % len(shape)
    return _with_axis(axis, picked)


defvjp(anp.compress, None, lambda ans, condition, x, axis=None, out=None: _put_back(
    x, _compress_index(condition, shape_of(x), axis)))
defjvp(anp.compress, None, "same")

defvjp(anp.extract, None, lambda ans, condition, x: _put_back(
    x, _np.unravel_index(_np.flatnonzero(_np.asarray(condition)), shape_of(x))))
defjvp(anp.extract, None, "same")


# bincount(x, weights) sums the weights into bins: linear in the weights, whose gradient reads g at each bin.
defvjp(anp.bincount, None, lambda ans, x, weights=None, minlength=0: lambda g: anp.take(g, _np.asarray(x)))
defjvp(anp.bincount, None, "same")
