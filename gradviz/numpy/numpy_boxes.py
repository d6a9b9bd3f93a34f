"""The traced array: NumPy's operators, attributes and methods on a boxed value, all routed to primitives."""

from __future__ import annotations

import threading
from typing import Any

import numpy as _np

from ..core.tracer import Box
from . import numpy_wrapper

__all__ = ["ArrayBox"]

_gnp: dict[str, Any] = {}  # filled by gradviz.numpy once its namespace exists


def _f(name: str):
    return _gnp[name]


class ArrayBox(Box):
    """A traced scalar or array. Behaves like an ndarray whose every operation is recorded."""

    __slots__ = ()
    __array_priority__ = 100.0  # ndarray (op) box defers to the box

    # --- attributes
    shape = property(lambda self: _np.shape(self._value))
    ndim = property(lambda self: _np.ndim(self._value))
    size = property(lambda self: _np.size(self._value))
    dtype = property(lambda self: _np.result_type(self._value))
    T = property(lambda self: _f("transpose")(self))
    mT = property(lambda self: _f("swapaxes")(self, -1, -2))
    real = property(lambda self: _f("real")(self))
    imag = property(lambda self: _f("imag")(self))

    def __len__(self) -> int:
        return len(self._value)

    def __iter__(self):
        return (self[i] for i in range(len(self._value)))

    def __getitem__(self, index: Any) -> Any:
        return _f("_getitem")(self, index)

    # --- operators
    def __neg__(self): return _f("negative")(self)
    def __pos__(self): return self
    def __abs__(self): return _f("absolute")(self)
    def __add__(self, other): return _f("add")(self, other)
    def __radd__(self, other): return _f("add")(other, self)
    def __sub__(self, other): return _f("subtract")(self, other)
    def __rsub__(self, other): return _f("subtract")(other, self)
    def __mul__(self, other): return _f("multiply")(self, other)
    def __rmul__(self, other): return _f("multiply")(other, self)
    def __truediv__(self, other): return _f("true_divide")(self, other)
    def __rtruediv__(self, other): return _f("true_divide")(other, self)
    def __floordiv__(self, other): return _f("floor_divide")(self, other)
    def __rfloordiv__(self, other): return _f("floor_divide")(other, self)
    def __mod__(self, other): return _f("remainder")(self, other)
    def __rmod__(self, other): return _f("remainder")(other, self)
    def __pow__(self, other): return _f("power")(self, other)
    def __rpow__(self, other): return _f("power")(other, self)
    def __matmul__(self, other): return _f("matmul")(self, other)
    def __rmatmul__(self, other): return _f("matmul")(other, self)
    def __eq__(self, other): return _f("equal")(self, other)
    def __ne__(self, other): return _f("not_equal")(self, other)
    def __lt__(self, other): return _f("less")(self, other)
    def __le__(self, other): return _f("less_equal")(self, other)
    def __gt__(self, other): return _f("greater")(self, other)
    def __ge__(self, other): return _f("greater_equal")(self, other)
    __hash__ = Box.__hash__

    # --- methods, as in ndarray
    def sum(self, *args, **kwargs): return _f("sum")(self, *args, **kwargs)
    def mean(self, *args, **kwargs): return _f("mean")(self, *args, **kwargs)
    def prod(self, *args, **kwargs): return _f("prod")(self, *args, **kwargs)
    def max(self, *args, **kwargs): return _f("max")(self, *args, **kwargs)
    def min(self, *args, **kwargs): return _f("min")(self, *args, **kwargs)
    def std(self, *args, **kwargs): return _f("std")(self, *args, **kwargs)
    def var(self, *args, **kwargs): return _f("var")(self, *args, **kwargs)
    def cumsum(self, *args, **kwargs): return _f("cumsum")(self, *args, **kwargs)
    def cumprod(self, *args, **kwargs): return _f("cumprod")(self, *args, **kwargs)
    def ptp(self, *args, **kwargs): return _f("ptp")(self, *args, **kwargs)
    def dot(self, other): return _f("dot")(self, other)
    def ravel(self, order="C"): return _f("ravel")(self, order=order)
    def flatten(self, order="C"): return _f("ravel")(self, order=order)
    def squeeze(self, axis=None): return _f("squeeze")(self, axis=axis)
    def swapaxes(self, axis1, axis2): return _f("swapaxes")(self, axis1, axis2)
    def repeat(self, repeats, axis=None): return _f("repeat")(self, repeats, axis=axis)
    def clip(self, min=None, max=None): return _f("clip")(self, min, max)
    def conj(self): return _f("conjugate")(self)
    conjugate = conj
    def trace(self, *args, **kwargs): return _f("trace")(self, *args, **kwargs)
    def diagonal(self, *args, **kwargs): return _f("diagonal")(self, *args, **kwargs)
    def take(self, indices, axis=None): return _f("take")(self, indices, axis=axis)
    def round(self, decimals=0): return _f("round")(self, decimals)
    def copy(self): return _f("copy")(self)
    def astype(self, dtype, *args, **kwargs): return _f("_astype")(self, dtype, *args, **kwargs)
    def all(self, *args, **kwargs): return _f("all")(self, *args, **kwargs)
    def any(self, *args, **kwargs): return _f("any")(self, *args, **kwargs)
    def argmax(self, *args, **kwargs): return _f("argmax")(self, *args, **kwargs)
    def argmin(self, *args, **kwargs): return _f("argmin")(self, *args, **kwargs)
    def argsort(self, *args, **kwargs): return _f("argsort")(self, *args, **kwargs)
    def nonzero(self): return _f("nonzero")(self)

    def reshape(self, *shape, order="C"):
        shape = shape[0] if len(shape) == 1 and not isinstance(shape[0], int) else shape
        return _f("reshape")(self, shape, order=order)

    def transpose(self, *axes):
        axes = None if not axes else (axes[0] if len(axes) == 1 and not isinstance(axes[0], int) else axes)
        return _f("transpose")(self, axes)

    # --- what can't be traced, with what to write instead
    def __setitem__(self, index: Any, value: Any) -> None:
        raise TypeError(
            f"item assignment on a traced array ({self._describe()}) can't be differentiated: gradviz arrays are "
            "values, not buffers. Build a new array instead, e.g. np.where(mask, new, x), np.concatenate of the "
            "pieces, or x + np.eye(n)[i] * (v - x[i]) for one element."
        )

    def __float__(self) -> float:
        raise TypeError(self._detach_message("float()") + " Python's math functions (math.sin, math.exp, ...) call "
                        "float(): use np.sin, np.exp, ... from gradviz.numpy instead.")

    def __round__(self, ndigits: int | None = None):
        if ndigits is None:
            raise TypeError(self._detach_message("round()") + " For rounding as an array, use np.round(x).")
        return _f("round")(self, ndigits)

    def __int__(self) -> int:
        raise TypeError(self._detach_message("int()"))

    def __complex__(self) -> complex:
        raise TypeError(self._detach_message("complex()"))

    def __index__(self) -> int:
        raise TypeError(self._detach_message("using it as an index"))

    def item(self, *args):
        raise TypeError(self._detach_message(".item()"))

    def tolist(self):
        raise TypeError(self._detach_message(".tolist()"))

    def __array__(self, dtype: Any = None, copy: Any = None):
        raise TypeError(
            f"a traced array ({self._describe()}) was passed to plain NumPy, which would drop it from the trace "
            "(np.asarray/np.array or a function that calls them). Use gradviz.numpy (import gradviz.numpy as np) "
            "for this call, or gradviz.getval(x) if you really mean a constant."
        )

    def __format__(self, spec: str) -> str:
        return format(self._value, spec)

    def _describe(self) -> str:
        return f"{_np.result_type(self._value)}{list(_np.shape(self._value))}"

    def _detach_message(self, what: str) -> str:
        return (
            f"{what} on a traced value ({self._describe()}) would cut it from the trace and give a silently wrong "
            "gradient. Keep it as an array (use x, np.sum(x), x[0]), or take gradviz.getval(x) if you mean a "
            "constant (e.g. for printing or for control flow)."
        )

    # --- plain NumPy calls on a traced value are routed to gradviz's primitives
    def __array_ufunc__(self, ufunc: _np.ufunc, method: str, *inputs: Any, **kwargs: Any) -> Any:
        wrapped = numpy_wrapper.gradviz_version(ufunc)
        if method == "__call__" and wrapped is not None and "out" not in kwargs:
            return wrapped(*inputs, **kwargs)
        raise TypeError(
            f"numpy.{ufunc.__name__}.{method} on a traced value can't be traced"
            + (" (out= writes in place)" if "out" in kwargs else "")
            + ": use gradviz.numpy's functions instead (import gradviz.numpy as np)."
        )

    def __array_function__(self, func: Any, types: Any, args: Any, kwargs: Any) -> Any:
        wrapped = numpy_wrapper.gradviz_version(func)
        if wrapped is None:
            raise TypeError(
                f"numpy.{getattr(func, '__name__', func)} was called on a traced value, and gradviz has no "
                "version of it: use gradviz.numpy (import gradviz.numpy as np)."
            )
        if func in _dispatching.funcs:  # gradviz's version handed the traced value straight back to NumPy
            raise TypeError(
                f"numpy.{getattr(func, '__name__', func)} got a traced value inside a list or other container, "
                "where gradviz can't see it. Pass the arrays as separate arguments or stack them first "
                "(np.stack), or use gradviz.getval on values that are constants."
            )
        _dispatching.funcs.add(func)
        try:
            return wrapped(*args, **kwargs)
        finally:
            _dispatching.funcs.discard(func)


class _Dispatching(threading.local):
    """The NumPy functions this thread is routing to gradviz right now (to stop a dispatch loop)."""

    def __init__(self) -> None:
        self.funcs: set = set()


_dispatching = _Dispatching()


for _type in (_np.ndarray, float, complex, int, bool, _np.float64, _np.float32, _np.float16, _np.complex64,
              _np.complex128, _np.int64, _np.int32, _np.int16, _np.int8, _np.uint8, _np.uint16, _np.uint32,
              _np.uint64, _np.bool_):
    ArrayBox.register(_type)
if hasattr(_np, "longdouble"):
    ArrayBox.register(_np.longdouble)
    ArrayBox.register(_np.clongdouble)
