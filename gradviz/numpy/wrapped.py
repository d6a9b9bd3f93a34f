"""The gradviz.numpy namespace: NumPy's functions as primitives, plus the few that take sequences of arrays.

A NumPy function that takes a list of arrays (``concatenate``, ``stack``, ``array``) can't see traced values
inside the list, so each gets a primitive that takes the arrays as separate arguments and a wrapper with NumPy's
own signature that spreads the list out.
"""

from __future__ import annotations

import operator as _operator_module
from collections.abc import Sequence
from typing import Any

import numpy as _np

from ..core.tracer import Primitive, box_types, getval
from .numpy_wrapper import publish, wrap_numpy

wrap_numpy(_np, globals(), "numpy")


# NumPy 2's ufuncs take about 1.5 us to dispatch on scalars, where a NumPy scalar's own operator takes 0.1 us and
# gives the same result by the same rules (precision, inf and nan with a warning). Scalar-heavy code is mostly
# arithmetic, so the arithmetic primitives take that shortcut when a NumPy scalar meets a scalar.
_NUMPY_SCALARS = frozenset({_np.float64, _np.float32, _np.float16, _np.complex128, _np.complex64})
_SCALARS = _NUMPY_SCALARS | {float, int, complex}


def _scalar_shortcut(ufunc: _np.ufunc, operator: Any) -> Any:
    def call(x: Any, y: Any, *args: Any, **kwargs: Any) -> Any:
        if (type(x) in _NUMPY_SCALARS and type(y) in _SCALARS or type(y) in _NUMPY_SCALARS and type(x) in _SCALARS) \
                and not args and not kwargs:
            return operator(x, y)
        return ufunc(x, y, *args, **kwargs)

    return call


for _name, _operator in (("add", _operator_module.add), ("subtract", _operator_module.sub),
                         ("multiply", _operator_module.mul), ("true_divide", _operator_module.truediv),
                         ("power", _operator_module.pow)):
    globals()[_name].fun = _scalar_shortcut(getattr(_np, _name), _operator)


def _contains_box(value: Any) -> bool:
    if type(value) in box_types:
        return True
    if isinstance(value, (list, tuple)):
        return any(_contains_box(item) for item in value)
    return False


def _no_out(name: str, out: Any) -> None:
    if out is not None:
        raise TypeError(f"numpy.{name}: out= writes into an array in place, which can't be traced; use the result.")


concatenate_args = Primitive(lambda axis, *arrays: _np.concatenate(arrays, axis=axis), "numpy.concatenate")
stack_args = Primitive(lambda axis, *arrays: _np.stack(arrays, axis=axis), "numpy.stack")
_getitem = Primitive(lambda array, index: array[index], "numpy.ndarray.__getitem__")
_astype = Primitive(lambda array, dtype, *args, **kwargs: _np.asarray(array).astype(dtype, *args, **kwargs),
                    "numpy.ndarray.astype")


def _join(name: str, joined_args: Primitive, arrays: Sequence[Any], axis: Any, out: Any, dtype: Any,
          casting: str) -> Any:
    """numpy.concatenate or numpy.stack: the arrays spread into ``joined_args`` when any of them is traced."""
    _no_out(name, out)
    if not _contains_box(list(arrays)):
        return getattr(_np, name)(arrays, axis=axis, dtype=dtype, casting=casting)
    joined = joined_args(axis, *arrays)
    return joined if dtype is None else _astype(joined, dtype, casting=casting)


def concatenate(arrays: Sequence[Any], axis: int | None = 0, out: Any = None, dtype: Any = None,
                casting: str = "same_kind") -> Any:
    """numpy.concatenate, traced in every array."""
    return _join("concatenate", concatenate_args, arrays, axis, out, dtype, casting)


def stack(arrays: Sequence[Any], axis: int = 0, out: Any = None, dtype: Any = None,
          casting: str = "same_kind") -> Any:
    """numpy.stack, traced in every array."""
    return _join("stack", stack_args, arrays, axis, out, dtype, casting)


concat = concatenate  # NumPy 2's name for it


def hstack(arrays: Sequence[Any], **kwargs: Any) -> Any:
    arrays = [atleast_1d(a) for a in arrays]  # noqa: F821 (wrapped above)
    return concatenate(arrays, axis=0 if getval(arrays[0]).ndim == 1 else 1, **kwargs)


def vstack(arrays: Sequence[Any], **kwargs: Any) -> Any:
    return concatenate([atleast_2d(a) for a in arrays], axis=0, **kwargs)  # noqa: F821


def dstack(arrays: Sequence[Any], **kwargs: Any) -> Any:
    return concatenate([atleast_3d(a) for a in arrays], axis=2, **kwargs)  # noqa: F821


def column_stack(arrays: Sequence[Any]) -> Any:
    columns = [a if _np.ndim(getval(a)) >= 2 else reshape(a, (-1, 1)) for a in arrays]  # noqa: F821
    return concatenate(columns, axis=1)


def row_stack(arrays: Sequence[Any], **kwargs: Any) -> Any:
    return vstack(arrays, **kwargs)


def select(condlist: Sequence[Any], choicelist: Sequence[Any], default: Any = 0) -> Any:
    """numpy.select, traced in the choices and the default: the first true condition picks."""
    if not _contains_box(list(choicelist)) and type(default) not in box_types:
        return _np.select(condlist, choicelist, default)
    result = default
    for condition, choice in reversed(list(zip(condlist, choicelist))):
        result = where(condition, choice, result)  # noqa: F821
    return result


choose_array = choose  # noqa: F821  (the primitive, traced in one array of choices)


def choose(a: Any, choices: Sequence[Any], out: Any = None, mode: str = "raise") -> Any:
    """numpy.choose, traced in the choices (given as one array or as a list of arrays)."""
    _no_out("choose", out)
    if type(choices) not in box_types and isinstance(choices, (list, tuple)) and _contains_box(list(choices)):
        shape = _np.broadcast_shapes(*(_np.shape(getval(c)) for c in choices))
        choices = stack_args(0, *[broadcast_to(c, shape) for c in choices])  # noqa: F821
    return choose_array(a, choices, mode=mode)


def array(obj: Any, dtype: Any = None, *args: Any, **kwargs: Any) -> Any:
    """numpy.array; a (nested) list of traced values becomes one traced array."""
    if type(obj) in box_types:
        copied = copy(obj)  # noqa: F821
        return copied if dtype is None else _astype(copied, dtype)
    if isinstance(obj, (list, tuple)) and _contains_box(obj):
        stacked = stack_args(0, *[array(item) if isinstance(item, (list, tuple)) else item for item in obj])
        return stacked if dtype is None else _astype(stacked, dtype)
    return _np.array(obj, dtype, *args, **kwargs)


def asarray(obj: Any, dtype: Any = None, *args: Any, **kwargs: Any) -> Any:
    """numpy.asarray; a traced array is returned as it is."""
    if type(obj) in box_types:
        return obj if dtype is None or _np.result_type(getval(obj)) == _np.dtype(dtype) else _astype(obj, dtype)
    if isinstance(obj, (list, tuple)) and _contains_box(obj):
        return array(obj, dtype)
    return _np.asarray(obj, dtype, *args, **kwargs)


asanyarray = asarray


publish(_np, dict(globals()))

__all__ = sorted({name for name in dir(_np) if not name.startswith("_") and name in globals()}
                 | {"concatenate_args", "stack_args", "row_stack", "choose_array"})
