"""Vector spaces: where a value's gradients live, and the arithmetic the differential operators need there.

Every differentiable value (a float or complex scalar or array, or a tuple, list or dict of them) has a vector
space that knows its shape and dtype and can make zeros, ones, basis vectors and random directions, add, scale,
take inner products, and flatten to one real or complex vector. Methods work on plain values; the traced versions
used inside derivatives are the primitives in ``vspace_ops``.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import numpy as np

from .tracer import getval as _unbox

__all__ = ["VSpace", "ArrayVSpace", "vspace", "describe"]


class VSpace:
    """The vector space of one value. Subclasses fill in the arithmetic for their kind of value."""

    shape: tuple = ()
    dtype: Any = None
    size: int = 0
    iscomplex: bool = False
    _mappings: dict[type, type] = {}

    @classmethod
    def register(cls, value_type: type, vspace_maker: Any = None) -> None:
        """Use this vector space (or ``vspace_maker(value)``) for values of ``value_type``."""
        VSpace._mappings[value_type] = vspace_maker or cls

    # The operations each kind of space defines.
    def zeros(self) -> Any:
        raise NotImplementedError

    def ones(self) -> Any:
        raise NotImplementedError

    def standard_basis(self) -> Iterator[Any]:
        raise NotImplementedError

    def randn(self) -> Any:
        raise NotImplementedError

    def add(self, x: Any, y: Any) -> Any:
        raise NotImplementedError

    def scalar_mul(self, x: Any, a: Any) -> Any:
        raise NotImplementedError

    def inner_prod(self, x: Any, y: Any) -> Any:
        raise NotImplementedError

    def covector(self, x: Any) -> Any:
        raise NotImplementedError

    def flatten(self, x: Any, covector: bool = False) -> np.ndarray:
        raise NotImplementedError

    def unflatten(self, flat: np.ndarray, covector: bool = False) -> Any:
        raise NotImplementedError

    def cast(self, x: Any) -> Any:
        """``x`` (a gradient of a value in this space) with that value's type and dtype."""
        return x

    @property
    def is_differentiable(self) -> bool:
        return True

    def mut_add(self, x: Any, y: Any) -> Any:
        return y if x is None else self.add(x, y)

    def __eq__(self, other: object) -> bool:
        return type(self) is type(other) and self.__dict__ == other.__dict__

    def __hash__(self) -> int:
        return hash((type(self), repr(self)))

    def __repr__(self) -> str:
        return f"{type(self).__name__}({describe_space(self)})"


_ARRAY_TYPES = (np.ndarray, float, complex, int, bool, np.generic)


class ArrayVSpace(VSpace):
    """Scalars and arrays of one dtype and shape."""

    def __init__(self, value: Any) -> None:
        if type(value) is np.ndarray:
            self.shape, self.dtype, self.type = value.shape, value.dtype, np.ndarray
        else:
            array = np.asarray(value)
            self.shape, self.dtype, self.type = array.shape, array.dtype, type(value)
        self.size = int(np.prod(self.shape, dtype=np.int64))
        self.ndim = len(self.shape)
        self.iscomplex = self.dtype.kind == "c"

    @property
    def is_differentiable(self) -> bool:
        return self.dtype.kind in "fc"

    def zeros(self) -> Any:
        # A scalar's zero is a scalar of its type (0.0 for a float), so that a gradient that is zero everywhere
        # (an output that does not depend on the input) still has the input's type.
        return self._of_type(np.zeros(self.shape, self.dtype))

    def ones(self) -> Any:
        return self._of_type(np.ones(self.shape, self.dtype))

    def _of_type(self, array: np.ndarray) -> Any:
        return array if self.type is np.ndarray or not self.is_differentiable else self.cast(array)

    def standard_basis(self) -> Iterator[np.ndarray]:
        for index in np.ndindex(*self.shape):
            basis = np.zeros(self.shape, self.dtype)
            basis[index] = 1
            yield basis

    def randn(self) -> np.ndarray:
        if self.iscomplex:
            draw = np.random.randn(*self.shape) + 1j * np.random.randn(*self.shape)
        else:
            draw = np.random.randn(*self.shape)
        return np.asarray(draw, dtype=self.dtype if self.dtype.kind in "fc" else float)

    def add(self, x: Any, y: Any) -> Any:
        return x + y

    def scalar_mul(self, x: Any, a: Any) -> Any:
        return x * a

    def inner_prod(self, x: Any, y: Any) -> Any:
        return np.real(np.vdot(np.ravel(x), np.ravel(y))) if self.iscomplex else np.dot(np.ravel(x), np.ravel(y))

    def covector(self, x: Any) -> Any:
        return np.conj(x)

    def flatten(self, x: Any, covector: bool = False) -> np.ndarray:
        flat = np.ravel(x)
        return np.conj(flat) if covector and self.iscomplex else flat

    def unflatten(self, flat: np.ndarray, covector: bool = False) -> Any:
        flat = np.conj(flat) if covector and self.iscomplex else flat
        return self.cast(np.reshape(flat, self.shape))

    def cast(self, x: Any) -> Any:
        if type(x) is self.type and np.result_type(x) == self.dtype:
            return x
        if self.dtype.kind == "f" and np.iscomplexobj(x):
            x = np.real(x)
        array = np.asarray(x, dtype=self.dtype if self.dtype.kind in "fc" else None)
        if array.shape != self.shape:
            array = np.broadcast_to(array, self.shape).copy()
        if self.type is np.ndarray:
            return array
        if self.type in (float, complex):
            return self.type(array)
        if issubclass(self.type, np.generic):
            return array[()]
        return array

    def __eq__(self, other: object) -> bool:
        return type(other) is ArrayVSpace and self.shape == other.shape and self.dtype == other.dtype

    __hash__ = VSpace.__hash__


for _type in _ARRAY_TYPES:
    ArrayVSpace.register(_type)


def vspace(value: Any) -> VSpace:
    """The vector space of ``value`` (traced or not)."""
    value = _unbox(value)
    maker = VSpace._mappings.get(type(value))
    if maker is None:
        for value_type, candidate in VSpace._mappings.items():
            if isinstance(value, value_type):
                maker = candidate
                break
        else:
            raise TypeError(
                f"gradviz has no vector space for values of type {type(value).__name__}: differentiable values are "
                "float and complex scalars and arrays, and tuples, lists and dicts of them."
            )
    return maker(value)


def describe_space(vs: VSpace) -> str:
    if isinstance(vs, ArrayVSpace):
        return f"{vs.dtype}{list(vs.shape)}"
    return describe_value_space(vs)


def describe_value_space(vs: VSpace) -> str:
    inner = getattr(vs, "describe", None)
    return inner() if inner else type(vs).__name__


def describe(value: Any) -> str:
    """A short description of a value's type and shape for error messages, e.g. ``float64[3, 4]``."""
    value = _unbox(value)
    if isinstance(value, _ARRAY_TYPES):
        return f"{np.result_type(value)}{list(np.shape(value))}"
    try:
        return describe_space(vspace(value))
    except TypeError:
        return type(value).__name__
