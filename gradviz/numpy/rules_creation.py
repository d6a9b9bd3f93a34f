"""Creation: ranges between traced endpoints, filled arrays, coordinate grids, and the r_ / c_ index tricks.

linspace is affine in its endpoints: start + (stop - start) t for constant fractions t; logspace and geomspace are
exponentials of it. full(shape, v) broadcasts v. meshgrid broadcasts each coordinate vector along its own axis.
Their rules come from these compositions (``def_composite``). ``np.r_[x, y]`` is an object, not a function, so
gradviz has its own r_ and c_ whose indexing concatenates traced pieces with gradviz.numpy.concatenate.
"""

from __future__ import annotations

from typing import Any

import numpy as _np

from ..core.tracer import NoTracePrimitive, box_types, getval
from . import wrapped as anp
from .rules_statistics import def_composite
from .rules_util import iscomplex, shape_of

# --- linspace, logspace, geomspace


def _linspace(start, stop, num=50, endpoint=True, retstep=False, dtype=None, axis=0, *, device=None):
    divisions = (num - 1 if endpoint else num) if num > 0 else 1
    fractions = _np.arange(num) / max(divisions, 1)
    if endpoint and num > 1:
        fractions[-1] = 1.0
    shape = _np.broadcast_shapes(shape_of(start), shape_of(stop))
    delta = stop - start
    fractions = fractions.reshape((-1,) + (1,) * len(shape))
    result = start + fractions * delta  # the sample axis first
    if axis != 0:
        result = anp.moveaxis(result, 0, axis)
    if dtype is not None:
        result = anp._astype(result, dtype)
    if retstep:
        step = delta / divisions if num > 1 or not endpoint else _np.nan * delta
        return result, step
    return result


def _as_axis_array(value, axis):
    """A constant array argument (base, sign) given a size-1 axis where the samples go."""
    value = _np.asarray(value)
    return _np.expand_dims(value, axis) if value.ndim else value


def _logspace(start, stop, num=50, endpoint=True, base=10.0, dtype=None, axis=0):
    exponents = anp.linspace(start, stop, num, endpoint, axis=axis)
    result = anp.power(_as_axis_array(base, axis), exponents)
    return result if dtype is None else anp._astype(result, dtype)


def _geomspace(start, stop, num=50, endpoint=True, dtype=None, axis=0):
    # NumPy's construction: divide out the direction of start (its sign, or start / |start| if complex), space the
    # logarithms evenly, multiply the direction back in (with a size-1 axis where the samples go)
    if iscomplex(start) or iscomplex(stop):
        direction = start / anp.absolute(start)  # traced: it moves with a complex start
        along = anp.expand_dims(direction, axis) if shape_of(direction) else direction
    else:
        direction = _np.sign(_np.asarray(getval(start)))  # real endpoints of one sign: a constant
        along = _as_axis_array(direction, axis)
    logs = anp.linspace(anp.log(start / direction), anp.log(stop / direction), num, endpoint, axis=axis)
    result = along * anp.exp(logs)
    return result if dtype is None else anp._astype(result, dtype)


def_composite(anp.linspace, _linspace)
def_composite(anp.logspace, _logspace)
def_composite(anp.geomspace, _geomspace)


# --- full and full_like: the fill value, broadcast


def _full(shape, fill_value, dtype=None, order="C", **kwargs):
    result = anp.broadcast_to(fill_value, shape if isinstance(shape, tuple) else tuple(_np.atleast_1d(shape)))
    result = anp.copy(result)
    return result if dtype is None else anp._astype(result, dtype)


def _full_like(a, fill_value, dtype=None, order="K", subok=True, shape=None, **kwargs):
    target = shape_of(a) if shape is None else (shape if isinstance(shape, tuple) else tuple(_np.atleast_1d(shape)))
    dtype = getval(a).dtype if dtype is None and hasattr(getval(a), "dtype") else dtype
    result = anp.copy(anp.broadcast_to(fill_value, target))
    return result if dtype is None or _np.dtype(dtype) == getval(result).dtype else anp._astype(result, dtype)


def_composite(anp.full, _full)
def_composite(anp.full_like, _full_like)


# --- meshgrid: coordinate vector i laid along axis i (axes 0 and 1 swapped for indexing='xy')


def _meshgrid(*xi, copy=True, sparse=False, indexing="xy"):
    ndim = len(xi)
    shapes = [1] * ndim
    sizes = [int(_np.size(getval(x))) for x in xi]
    grids = []
    for i, x in enumerate(xi):
        along = i
        if indexing == "xy" and ndim > 1 and i < 2:
            along = 1 - i
        shape = list(shapes)
        shape[along] = -1
        grids.append(anp.reshape(x, tuple(shape)))
    if not sparse:
        full = list(sizes)
        if indexing == "xy" and ndim > 1:
            full[0], full[1] = full[1], full[0]
        grids = [anp.copy(anp.broadcast_to(g, tuple(full))) for g in grids]
    return tuple(grids)


def_composite(anp.meshgrid, _meshgrid)
anp.ix_ = NoTracePrimitive(_np.ix_, "numpy.ix_")  # index arrays: a constant


# --- r_ and c_: NumPy's concatenating index tricks, traced


def _has_box(items: tuple) -> bool:
    return any(type(item) in box_types for item in items)


def _upgrade(item: Any, ndmin: int, trans1d: int) -> Any:
    """``item`` with at least ``ndmin`` axes, its own axes placed as NumPy's index tricks place them."""
    ndim = len(shape_of(item))
    if ndim >= ndmin:
        return item
    upgraded = anp.reshape(item, (1,) * (ndmin - ndim) + shape_of(item))
    if trans1d != -1:
        k2, k1 = ndmin - ndim, trans1d
        if k1 < 0:
            k1 += k2 + 1
        axes = list(range(ndmin))
        upgraded = anp.transpose(upgraded, tuple(axes[:k1] + axes[k2:] + axes[:k2][k1:]))
    return upgraded


class _TracedConcatenator:
    """r_ / c_ that also take traced arrays: ``np.r_[x, 0.0, y]`` concatenates, traced in x and y."""

    def __init__(self, plain: Any, axis: int, ndmin: int, trans1d: int) -> None:
        self.plain, self.axis, self.ndmin, self.trans1d = plain, axis, ndmin, trans1d

    def __getitem__(self, key: Any) -> Any:
        items = key if isinstance(key, tuple) else (key,)
        if not _has_box(items):
            return self.plain[key]
        axis, ndmin, trans1d = self.axis, self.ndmin, self.trans1d
        pieces = []
        for position, item in enumerate(items):
            if isinstance(item, str):
                if position != 0 or item in ("r", "c"):
                    raise NotImplementedError(f"gradviz r_/c_: the directive {item!r} is not supported with traced "
                                              "values; an integer axis string ('0', '1,2,0') is.")
                numbers = [int(part) for part in item.split(",")]
                axis = numbers[0]
                ndmin = numbers[1] if len(numbers) > 1 else ndmin
                trans1d = numbers[2] if len(numbers) > 2 else trans1d
                continue
            if isinstance(item, slice):
                piece = self.plain[item]
            elif type(item) in box_types:
                piece = item
            else:
                piece = _np.asarray(item)
            pieces.append(_upgrade(piece, max(ndmin, 1), trans1d))
        return anp.concatenate(pieces, axis=axis)

    def __len__(self) -> int:
        return 0


anp.r_ = _TracedConcatenator(_np.r_, 0, 1, -1)
anp.c_ = _TracedConcatenator(_np.c_, -1, 2, 0)
