"""Shape and layout: functions that move, copy, pick or pad elements without arithmetic.

They are all linear, so each JVP applies the function itself to the tangent (or reshapes it), and each VJP is the
transpose: the inverse permutation of a permutation, a reshape back for a reshape, a sum over copies for a copy.
Functions that pick elements by position (repeat, tile, pad, diag, diagonal, tril, triu, ravel in memory order)
share one pair of transposed primitives, ``_gather`` and ``_scatter_add``, driven by where each output element
comes from: the function applied to an array of positions tells exactly that.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as _np

from ..core.backward import defvjp, defvjp_argnum
from ..core.containers import untake
from ..core.forward import defjvp, defjvp_argnum, defjvp_argnums
from ..core.tracer import getval, primitive
from ..core.vspace import vspace
from . import wrapped as anp
from .rules_util import cast_like, dtype_of, match_complex, normalize_axis, shape_of, unbroadcast

# --- reshapes: the VJP reshapes back, the JVP reshapes the tangent the same way


def _def_reshaping(fun) -> None:
    """Rules for a function whose output is its (single) input with another shape, elements in C order."""
    defvjp(fun, lambda ans, x, *args, **kwargs: lambda g: cast_like(x, anp.reshape(g, shape_of(x))))
    defjvp(fun, lambda g, ans, x, *args, **kwargs: anp.reshape(g, shape_of(ans)))


for _fun in (anp.squeeze, anp.expand_dims):
    _def_reshaping(_fun)


def _copy_vjp(ans, x, *args, **kwargs):
    return lambda g: cast_like(x, g)


defvjp(anp.copy, _copy_vjp)
defjvp(anp.copy, lambda g, ans, x, *args, **kwargs: anp.copy(g))


# --- gathers: each output element is one input element or a constant zero


def _positions(x: Any) -> _np.ndarray:
    """1 + the flat (C-order) index of each element of x, laid out in memory like x (for order='K'/'A')."""
    raw = getval(x)
    count = _np.arange(1, math.prod(shape_of(x)) + 1).reshape(shape_of(x))
    if type(raw) is not _np.ndarray:
        return count
    positions = _np.empty_like(raw, dtype=_np.int64)
    positions[...] = count
    return positions


def _sources(fun, x: Any, args: tuple, kwargs: dict) -> _np.ndarray:
    """Where each element of ``fun(x, ...)`` comes from: its flat index in x, or -1 for a constant zero."""
    return _np.asarray(fun.fun(_positions(x), *args, **kwargs)) - 1


@primitive
def _gather(x: Any, sources: _np.ndarray) -> Any:
    """x's elements at the flat indices ``sources`` (zero where an index is -1)."""
    flat = _np.ravel(x)
    if flat.size == 0:
        return _np.zeros(sources.shape, flat.dtype)
    return _np.where(sources >= 0, flat[_np.maximum(sources, 0)], flat.dtype.type(0))


@primitive
def _scatter_add(g: Any, sources: _np.ndarray, shape: tuple) -> Any:
    """The transpose of _gather: zeros of ``shape`` with each g added at its flat index in ``sources``."""
    g = _np.asarray(g)
    keep = sources >= 0
    index, values = sources[keep], _np.broadcast_to(g, sources.shape)[keep]
    size = math.prod(shape)
    if g.dtype.kind == "c":
        out = _np.bincount(index, values.real, size) + 1j * _np.bincount(index, values.imag, size)
    else:
        out = _np.bincount(index, values, size)
    return out.astype(g.dtype if g.dtype.kind in "fc" else float, copy=False).reshape(shape)


defvjp(_gather, lambda ans, x, sources: lambda g: cast_like(x, _scatter_add(g, sources, shape_of(x))))
defjvp(_gather, "same")
defvjp(_scatter_add, lambda ans, g, sources, shape: lambda h: _gather(h, sources))
defjvp(_scatter_add, "same")


def _def_gather(fun, prepare=None) -> None:
    """Rules for ``fun``, which picks elements of its first argument by position (or puts zeros).

    ``prepare(args, kwargs)`` may adjust the arguments used to find the sources (e.g. zero pad values), or raise.
    """

    def sources(x, args, kwargs):
        if prepare is not None:
            args, kwargs = prepare(args, kwargs)
        return _sources(fun, x, args, kwargs)

    defvjp(fun, lambda ans, x, *args, **kwargs: lambda g: cast_like(
        x, _scatter_add(g, sources(x, args, kwargs), shape_of(x))))
    defjvp(fun, lambda g, ans, x, *args, **kwargs: _gather(g, sources(x, args, kwargs)))


_GATHER_PAD_MODES = ("constant", "edge", "reflect", "symmetric", "wrap")


def _prepare_pad(args: tuple, kwargs: dict) -> tuple[tuple, dict]:
    """pad's arguments for finding sources: constants become zeros; modes that compute values are refused."""
    mode = args[1] if len(args) > 1 else kwargs.get("mode", "constant")
    if mode not in _GATHER_PAD_MODES:
        name = getattr(mode, "__name__", mode)
        raise NotImplementedError(
            f"numpy.pad: mode={name!r} has no derivative rule in gradviz (its padding is computed from the values, "
            f"not copied). Differentiable modes: {', '.join(_GATHER_PAD_MODES)}."
        )
    if kwargs.get("reflect_type", "even") != "even":
        raise NotImplementedError(
            "numpy.pad: reflect_type='odd' has no derivative rule in gradviz; reflect_type='even' has one.")
    if mode == "constant":
        args = args[:1] + ("constant",)
        kwargs = {}  # constant_values: constants have no gradient; pad with zeros to mark them
    return args, kwargs


for _fun in (anp.repeat, anp.tile, anp.diag, anp.diagonal, anp.tril, anp.triu):
    _def_gather(_fun)
_def_gather(anp.pad, _prepare_pad)


# --- reshape and ravel: C and F order are reshapes; 'A' and 'K' follow x's memory layout, so they are gathers


def _resolved(order: str | None) -> str | None:
    return order.upper() if isinstance(order, str) and order.upper() in ("C", "F") else None


def _reshape_sources(x, args, kwargs, order):
    return _sources(anp.reshape, x, (), {"shape": args[0] if args else kwargs["shape"], "order": order})


def _reshape_vjp(ans, x, *args, order="C", **kwargs):
    order = args[1] if len(args) > 1 else order
    if _resolved(order):
        return lambda g: cast_like(x, anp.reshape(g, shape_of(x), order=_resolved(order)))
    sources = _reshape_sources(x, args, kwargs, order)
    return lambda g: cast_like(x, _scatter_add(g, sources, shape_of(x)))


def _reshape_jvp(g, ans, x, *args, order="C", **kwargs):
    order = args[1] if len(args) > 1 else order
    if _resolved(order):
        return anp.reshape(g, shape_of(ans), order=_resolved(order))
    return _gather(g, _reshape_sources(x, args, kwargs, order))


def _ravel_vjp(ans, x, order="C"):
    if _resolved(order):
        return lambda g: cast_like(x, anp.reshape(g, shape_of(x), order=_resolved(order)))
    sources = _sources(anp.ravel, x, (order,), {})
    return lambda g: cast_like(x, _scatter_add(g, sources, shape_of(x)))


def _ravel_jvp(g, ans, x, order="C"):
    if _resolved(order):
        return anp.reshape(g, shape_of(ans), order=_resolved(order))
    return _gather(g, _sources(anp.ravel, x, (order,), {}))


defvjp(anp.reshape, _reshape_vjp)
defjvp(anp.reshape, _reshape_jvp)
defvjp(anp.ravel, _ravel_vjp)
defjvp(anp.ravel, _ravel_jvp)


# --- permutations of axes and of elements: the VJP applies the inverse permutation


def _transpose_vjp(ans, x, axes=None):
    if axes is None:
        return lambda g: cast_like(x, anp.transpose(g))
    inverse = tuple(int(i) for i in _np.argsort([a % len(shape_of(x)) for a in axes]))
    return lambda g: cast_like(x, anp.transpose(g, inverse))


defvjp(anp.transpose, _transpose_vjp)  # also permute_dims, the same function
defjvp(anp.transpose, "same")
if hasattr(anp, "matrix_transpose"):
    defvjp(anp.matrix_transpose, lambda ans, x: lambda g: cast_like(x, anp.matrix_transpose(g)))
    defjvp(anp.matrix_transpose, "same")
defvjp(anp.moveaxis, lambda ans, x, source, destination: lambda g: cast_like(x, anp.moveaxis(g, destination, source)))
defjvp(anp.moveaxis, "same")
defvjp(anp.swapaxes, lambda ans, x, axis1, axis2: lambda g: cast_like(x, anp.swapaxes(g, axis1, axis2)))
defjvp(anp.swapaxes, "same")


def _rollaxis_order(ndim: int, axis: int, start: int) -> list[int]:
    """The axes of x in the order rollaxis(x, axis, start) puts them."""
    axis, start = axis % ndim, start + ndim if start < 0 else start
    if axis < start:
        start -= 1
    order = [a for a in range(ndim) if a != axis]
    order.insert(start, axis)
    return order


def _rollaxis_vjp(ans, x, axis, start=0):
    inverse = tuple(int(i) for i in _np.argsort(_rollaxis_order(len(shape_of(x)), axis, start)))
    return lambda g: cast_like(x, anp.transpose(g, inverse))


defvjp(anp.rollaxis, _rollaxis_vjp)
defjvp(anp.rollaxis, "same")

defvjp(anp.flip, lambda ans, x, axis=None: lambda g: cast_like(x, anp.flip(g, axis)))
defjvp(anp.flip, "same")
defvjp(anp.fliplr, lambda ans, x: lambda g: cast_like(x, anp.fliplr(g)))
defjvp(anp.fliplr, "same")
defvjp(anp.flipud, lambda ans, x: lambda g: cast_like(x, anp.flipud(g)))
defjvp(anp.flipud, "same")


def _negated(shift: Any) -> Any:
    return tuple(-int(s) for s in shift) if _np.ndim(shift) else -shift


defvjp(anp.roll, lambda ans, x, shift, axis=None: lambda g: cast_like(x, anp.roll(g, _negated(shift), axis)))
defjvp(anp.roll, "same")
defvjp(anp.rot90, lambda ans, x, k=1, axes=(0, 1): lambda g: cast_like(x, anp.rot90(g, -k, axes)))
defjvp(anp.rot90, "same")


# --- atleast_1d/2d/3d and broadcast_arrays: one argument gives an array, several give a tuple of arrays


def _def_per_argument(fun, to_output, to_input) -> None:
    """Rules for ``fun(*arrays)``, each output made from the matching input alone.

    ``to_output(g, ans_i)`` maps an input's tangent to its output's; ``to_input(g, x)`` an output's gradient back.
    """

    def vjp(argnum, ans, args, kwargs):
        x = args[argnum]
        if isinstance(getval(ans), tuple):
            return lambda g: cast_like(x, to_input(g[argnum], x))
        return lambda g: cast_like(x, to_input(g, x))

    def jvp(argnum, g, ans, args, kwargs):
        if isinstance(getval(ans), tuple):
            return untake(to_output(g, ans[argnum]), argnum, vspace(ans))
        return to_output(g, ans)

    defvjp_argnum(fun, vjp)
    defjvp_argnum(fun, jvp)


for _fun in (anp.atleast_1d, anp.atleast_2d, anp.atleast_3d):
    _def_per_argument(_fun, lambda g, out: anp.reshape(g, shape_of(out)), lambda g, x: anp.reshape(g, shape_of(x)))
_def_per_argument(anp.broadcast_arrays, lambda g, out: anp.broadcast_to(g, shape_of(out)),
                  lambda g, x: unbroadcast(x, g))


# --- splits: a list of pieces, whose gradients concatenate back


def _def_split(fun, axis_of) -> None:
    """Rules for a split into pieces along the axis ``axis_of(x, args, kwargs)``."""
    def vjp(ans, x, *args, **kwargs):
        axis = axis_of(x, args, kwargs)
        return lambda g: cast_like(x, anp.concatenate_args(axis, *g))

    defvjp(fun, vjp)
    defjvp(fun, "same")


_def_split(anp.split, lambda x, args, kwargs: args[1] if len(args) > 1 else kwargs.get("axis", 0))
_def_split(anp.array_split, lambda x, args, kwargs: args[1] if len(args) > 1 else kwargs.get("axis", 0))
_def_split(anp.hsplit, lambda x, args, kwargs: 0 if len(shape_of(x)) == 1 else 1)
_def_split(anp.vsplit, lambda x, args, kwargs: 0)
_def_split(anp.dsplit, lambda x, args, kwargs: 2)
if hasattr(anp, "unstack"):
    defvjp(anp.unstack, lambda ans, x, axis=0: lambda g: cast_like(x, anp.stack_args(axis, *g)))
    defjvp(anp.unstack, "same")


# --- concatenate, stack, append: each argument's gradient is its own slice of g


@primitive
def _slice(x: Any, index: tuple) -> Any:
    """``x[index]`` for a basic index (ints and slices), as a copy."""
    return _np.array(_np.asarray(x)[index])


@primitive
def _unslice(g: Any, index: tuple, shape: tuple) -> Any:
    """Zeros of ``shape`` with g at ``index``: the transpose of _slice."""
    g = _np.asarray(g)
    out = _np.zeros(shape, g.dtype if g.dtype.kind in "fc" else float)
    out[index] = g
    return out


defvjp(_slice, lambda ans, x, index: lambda g: cast_like(x, _unslice(g, index, shape_of(x))))
defjvp(_slice, "same")
defvjp(_unslice, lambda ans, g, index, shape: lambda h: _slice(h, index))
defjvp(_unslice, "same")


def _piece(g: Any, axis: int, start: int, stop: int) -> Any:
    """g's elements from ``start`` to ``stop`` along ``axis``."""
    index = [slice(None)] * len(shape_of(g))
    index[axis] = slice(start, stop)
    return _slice(g, tuple(index))


def _concatenated_piece(g: Any, arrays: tuple, argnum: int, axis: Any) -> Any:
    """The part of g, the gradient of concatenate(arrays, axis), that belongs to arrays[argnum]."""
    if axis is None:
        sizes = [math.prod(shape_of(a)) for a in arrays]
        start = sum(sizes[:argnum])
        return anp.reshape(_piece(g, 0, start, start + sizes[argnum]), shape_of(arrays[argnum]))
    axis = normalize_axis(axis, len(shape_of(g)))[0]
    start = sum(shape_of(a)[axis] for a in arrays[:argnum])
    return _piece(g, axis, start, start + shape_of(arrays[argnum])[axis])


def _full_tangents(argnums: tuple, tangents: list, args: tuple, first: int) -> list:
    """Tangents for args[first:], zeros (in the argument's dtype) for the arguments that are not traced."""
    given = dict(zip(argnums, tangents))
    return [given[i] if i in given else _np.zeros(shape_of(args[i]), dtype_of(args[i]))
            for i in range(first, len(args))]


defvjp_argnum(anp.concatenate_args, lambda argnum, ans, args, kwargs: lambda g: cast_like(
    args[argnum], _concatenated_piece(g, args[1:], argnum - 1, args[0])))
defjvp_argnums(anp.concatenate_args, lambda argnums, tangents, ans, args, kwargs: anp.concatenate_args(
    args[0], *_full_tangents(argnums, tangents, args, 1)))


def _stacked_piece(g: Any, argnum: int, axis: int) -> Any:
    index = [slice(None)] * len(shape_of(g))
    index[normalize_axis(axis, len(shape_of(g)))[0]] = argnum
    return _slice(g, tuple(index))


defvjp_argnum(anp.stack_args, lambda argnum, ans, args, kwargs: lambda g: cast_like(
    args[argnum], _stacked_piece(g, argnum - 1, args[0])))
defjvp_argnums(anp.stack_args, lambda argnums, tangents, ans, args, kwargs: anp.stack_args(
    args[0], *_full_tangents(argnums, tangents, args, 1)))


def _append_vjp(argnum, ans, args, kwargs):
    arrays = args[:2]
    axis = args[2] if len(args) > 2 else kwargs.get("axis")
    if axis is None:
        return lambda g: cast_like(arrays[argnum], _concatenated_piece(g, arrays, argnum, None))
    return lambda g: cast_like(arrays[argnum], _concatenated_piece(g, arrays, argnum, axis))


def _append_jvp(argnums, tangents, ans, args, kwargs):
    arr, values = _full_tangents(argnums, tangents, args[:2], 0)
    return anp.append(arr, values, *args[2:], **kwargs)


defvjp_argnum(anp.append, _append_vjp)
defjvp_argnums(anp.append, _append_jvp)


# --- astype: a cast. To a float or complex dtype the gradient is cast back (its real part for a real input); to
# an integer or boolean dtype the output is piecewise constant, so the gradient is zero.


def _astype_vjp(ans, x, dtype, *args, **kwargs):
    if _np.dtype(dtype).kind not in "fc":
        return lambda g: _np.zeros(shape_of(x), dtype_of(x))
    return lambda g: cast_like(x, g)


def _astype_jvp(g, ans, x, dtype, *args, **kwargs):
    if _np.dtype(dtype).kind not in "fc":
        return None
    if _np.dtype(dtype).kind != "c":
        g = match_complex(ans, g)
    return g if dtype_of(g) == _np.dtype(dtype) else anp._astype(g, dtype)


defvjp(anp._astype, _astype_vjp)
defjvp(anp._astype, _astype_jvp)
