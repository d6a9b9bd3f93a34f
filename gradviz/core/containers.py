"""Tuples, lists and dicts as differentiable values: their boxes, vector spaces and primitives.

A traced container is one value with one node. Taking an item is the primitive ``container_take``; building a
container from traced items is ``make_sequence`` or ``make_dict``. Their VJPs put a gradient back in its slot
(``untake``) or pick it out, so gradients of containers are containers of the same structure.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import numpy as np

from .backward import add_outgrads, defvjp, defvjp_argnum
from .forward import defjvp, defjvp_argnum
from .sparse import ItemGrads
from .tracer import Box, box_types, getval, primitive
from .vspace import VSpace, describe_space, vspace

__all__ = [
    "SequenceBox", "DictBox", "SequenceVSpace", "DictVSpace", "container_take", "untake", "make_sequence",
    "make_dict", "add_any", "pack_container",
]


class SequenceBox(Box):
    """A traced tuple or list."""

    __slots__ = ()

    def __getitem__(self, index: Any) -> Any:
        if isinstance(index, slice):  # a slice is a new traced sequence of the items it takes
            items = [container_take(self, i) for i in range(*index.indices(len(self._value)))]
            return make_sequence(type(getval(self)), *items)
        return container_take(self, index)

    def __len__(self) -> int:
        return len(self._value)

    def __iter__(self) -> Iterator[Any]:
        return (container_take(self, i) for i in range(len(self._value)))

    def __add__(self, other: Any) -> Any:
        return make_sequence(type(getval(self)), *self, *other)

    def __radd__(self, other: Any) -> Any:
        return make_sequence(type(getval(self)), *other, *self)

    def index(self, value: Any) -> int:
        return self._value.index(value)

    def __setitem__(self, index: Any, value: Any) -> None:
        raise TypeError(
            f"item assignment on a traced {type(getval(self)).__name__} can't be followed by the trace. Build a new "
            "one instead, e.g. items = list(items); items[i] = new (on a plain list of the items), or "
            "items[:i] + [new] + items[i + 1:]."
        )


class DictBox(Box):
    """A traced dict."""

    __slots__ = ()

    def __getitem__(self, key: Any) -> Any:
        return container_take(self, key)

    def __len__(self) -> int:
        return len(self._value)

    def __iter__(self) -> Iterator[Any]:
        return iter(self._value)

    def __contains__(self, key: Any) -> bool:
        return key in self._value

    def keys(self):
        return self._value.keys()

    def values(self) -> list:
        return [self[key] for key in self._value]

    def items(self) -> list:
        return [(key, self[key]) for key in self._value]

    def get(self, key: Any, default: Any = None) -> Any:
        return self[key] if key in self._value else default

    def __setitem__(self, key: Any, value: Any) -> None:
        raise TypeError(
            f"item assignment on a traced dict ({key!r}) can't be followed by the trace. Build a new dict instead: "
            f"params = {{**params, {key!r}: new_value}}."
        )


SequenceBox.register(tuple)
SequenceBox.register(list)
DictBox.register(dict)


class SequenceVSpace(VSpace):
    """The space of a tuple or list: the product of its items' spaces."""

    def __init__(self, value: Any) -> None:
        self.seq_type = type(value)
        self.spaces = [vspace(item) for item in value]
        self.size = sum(vs.size for vs in self.spaces)
        self.iscomplex = any(vs.iscomplex for vs in self.spaces)
        self.shape = (len(self.spaces),)

    @property
    def is_differentiable(self) -> bool:
        return all(vs.is_differentiable for vs in self.spaces)

    def _make(self, items: Any) -> Any:
        return self.seq_type(items)

    def zeros(self) -> Any:
        return self._make(vs.zeros() for vs in self.spaces)

    def ones(self) -> Any:
        return self._make(vs.ones() for vs in self.spaces)

    def randn(self) -> Any:
        return self._make(vs.randn() for vs in self.spaces)

    def standard_basis(self) -> Iterator[Any]:
        for i, space in enumerate(self.spaces):
            for basis in space.standard_basis():
                yield self._make(basis if j == i else vs.zeros() for j, vs in enumerate(self.spaces))

    def add(self, x: Any, y: Any) -> Any:
        return self._make(add_outgrads(a, b) for a, b in zip(x, y))

    def scalar_mul(self, x: Any, a: Any) -> Any:
        return self._make(vs.scalar_mul(item, a) for vs, item in zip(self.spaces, x))

    def inner_prod(self, x: Any, y: Any) -> Any:
        return sum(vs.inner_prod(a, b) for vs, a, b in zip(self.spaces, x, y))

    def covector(self, x: Any) -> Any:
        return self._make(vs.covector(item) for vs, item in zip(self.spaces, x))

    def flatten(self, x: Any, covector: bool = False) -> np.ndarray:
        parts = [vs.flatten(item, covector) for vs, item in zip(self.spaces, x)]
        return np.concatenate(parts) if parts else np.zeros(0)

    def unflatten(self, flat: np.ndarray, covector: bool = False) -> Any:
        items, start = [], 0
        for vs in self.spaces:
            items.append(vs.unflatten(flat[start:start + vs.size], covector))
            start += vs.size
        return self._make(items)

    def cast(self, x: Any) -> Any:
        return self._make(vs.cast(item) for vs, item in zip(self.spaces, x))

    def describe(self) -> str:
        inner = ", ".join(describe_space(vs) for vs in self.spaces)
        return f"({inner},)" if self.seq_type is tuple and len(self.spaces) == 1 else (
            f"({inner})" if self.seq_type is tuple else f"[{inner}]")

    def __eq__(self, other: object) -> bool:
        return type(other) is SequenceVSpace and self.seq_type is other.seq_type and self.spaces == other.spaces

    __hash__ = VSpace.__hash__


class DictVSpace(VSpace):
    """The space of a dict: the product of its values' spaces, keyed."""

    def __init__(self, value: dict) -> None:
        self.dict_type = type(value)
        self.spaces = {key: vspace(item) for key, item in value.items()}
        self.size = sum(vs.size for vs in self.spaces.values())
        self.iscomplex = any(vs.iscomplex for vs in self.spaces.values())
        self.shape = (len(self.spaces),)

    @property
    def is_differentiable(self) -> bool:
        return all(vs.is_differentiable for vs in self.spaces.values())

    def _map(self, fun, *values) -> dict:
        return self.dict_type((key, fun(vs, *(v[key] for v in values))) for key, vs in self.spaces.items())

    def zeros(self) -> dict:
        return self._map(lambda vs: vs.zeros())

    def ones(self) -> dict:
        return self._map(lambda vs: vs.ones())

    def randn(self) -> dict:
        return self._map(lambda vs: vs.randn())

    def standard_basis(self) -> Iterator[dict]:
        for key, space in self.spaces.items():
            for basis in space.standard_basis():
                yield self.dict_type((k, basis if k == key else vs.zeros()) for k, vs in self.spaces.items())

    def add(self, x: dict, y: dict) -> dict:
        return self._map(lambda vs, a, b: add_outgrads(a, b), x, y)

    def scalar_mul(self, x: dict, a: Any) -> dict:
        return self._map(lambda vs, item: vs.scalar_mul(item, a), x)

    def inner_prod(self, x: dict, y: dict) -> Any:
        return sum(vs.inner_prod(x[key], y[key]) for key, vs in self.spaces.items())

    def covector(self, x: dict) -> dict:
        return self._map(lambda vs, item: vs.covector(item), x)

    def flatten(self, x: dict, covector: bool = False) -> np.ndarray:
        parts = [vs.flatten(x[key], covector) for key, vs in self.spaces.items()]
        return np.concatenate(parts) if parts else np.zeros(0)

    def unflatten(self, flat: np.ndarray, covector: bool = False) -> dict:
        items, start = [], 0
        for key, vs in self.spaces.items():
            items.append((key, vs.unflatten(flat[start:start + vs.size], covector)))
            start += vs.size
        return self.dict_type(items)

    def cast(self, x: dict) -> dict:
        return self._map(lambda vs, item: vs.cast(item), x)

    def describe(self) -> str:
        return "{" + ", ".join(f"{key!r}: {describe_space(vs)}" for key, vs in self.spaces.items()) + "}"

    def __eq__(self, other: object) -> bool:
        # Key order does not matter: a cotangent may list the keys in another order than the output.
        return type(other) is DictVSpace and self.spaces == other.spaces

    def __hash__(self) -> int:
        return hash((DictVSpace, frozenset(self.spaces.items())))


SequenceVSpace.register(tuple)
SequenceVSpace.register(list)
DictVSpace.register(dict)


@primitive
def container_take(container: Any, index: Any) -> Any:
    """``container[index]`` as a primitive."""
    return container[index]


@primitive
def untake(g: Any, index: Any, space: VSpace) -> Any:
    """The gradient of ``container`` given the gradient ``g`` of ``container[index]``: zeros elsewhere."""
    # g takes the item's type and dtype (a float32 item of a float64 loss gets a float32 gradient), so that the
    # gradient is in the container's own space.
    g = space.spaces[index].cast(g)
    zeros = space.zeros()
    if isinstance(zeros, dict):
        zeros[index] = g
        return zeros
    items = list(zeros)
    items[index] = g
    return space.seq_type(items)


defvjp(container_take, lambda ans, container, index: lambda g: (
    untake(g, index, vspace(container)) if type(g) in box_types else ItemGrads.one(container, index, g)))
defjvp(container_take, "same")
defvjp(untake, lambda ans, g, index, space: lambda h: container_take(h, index))
defjvp(untake, "same")


@primitive
def make_sequence(seq_type: type, *items: Any) -> Any:
    """A tuple or list made of (possibly traced) items."""
    return seq_type(items)


defvjp_argnum(make_sequence, lambda argnum, ans, args, kwargs: lambda g: container_take(g, argnum - 1))
defjvp_argnum(make_sequence,
              lambda argnum, g, ans, args, kwargs: untake(g, argnum - 1, vspace(ans)))


@primitive
def make_dict(keys: tuple, *values: Any) -> dict:
    """A dict made of (possibly traced) values."""
    return dict(zip(keys, values))


defvjp_argnum(make_dict, lambda argnum, ans, args, kwargs: lambda g: container_take(g, args[0][argnum - 1]))
defjvp_argnum(make_dict, lambda argnum, g, ans, args, kwargs: untake(g, args[0][argnum - 1], vspace(ans)))


@primitive
def add_any(x: Any, y: Any) -> Any:
    """x + y for any two values of one vector space (arrays or containers)."""
    return vspace(x).add(x, y)


defvjp(add_any, lambda ans, x, y: lambda g: g, lambda ans, x, y: lambda g: g)
defjvp(add_any, lambda g, ans, x, y: g, lambda g, ans, x, y: g)


def pack_container(value: Any) -> Any:
    """Turn a plain tuple, list or dict holding traced values into one traced value (recursively)."""
    if isinstance(value, (tuple, list)) and type(value) in (tuple, list):
        items = [pack_container(item) for item in value]
        if any(isinstance(item, Box) for item in items):
            return make_sequence(type(value), *items)
        return value
    if type(value) is dict:
        items = {key: pack_container(item) for key, item in value.items()}
        if any(isinstance(item, Box) for item in items.values()):
            return make_dict(tuple(items), *items.values())
        return value
    return value
