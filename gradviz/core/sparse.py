"""Sparse gradients: what taking a part of a value sends back, kept sparse until a dense value is needed.

Taking ``x[i]`` (an array element, or an item of a tuple, list or dict) has a gradient that is zero except at
``i``. Written out densely, a loop over the items of ``x``, or unpacking a tuple of parameters, would build and add
one full-size zero gradient per item. These objects hold just the nonzero part; the backward pass adds them into
one accumulator, and turns them dense only when a VJP or the caller needs the value.
"""

from __future__ import annotations

from typing import Any

import numpy as np

__all__ = ["IndexedGrad", "ItemGrads", "SPARSE_TYPES", "densify"]


class IndexedGrad:
    """The gradient of an array that is zero except at ``index``, where it is ``values`` (added, repeats too)."""

    __slots__ = ("shape", "dtype", "index", "values")

    def __init__(self, shape: tuple, dtype: Any, index: Any, values: Any) -> None:
        self.shape, self.dtype, self.index, self.values = shape, dtype, index, values

    def dense(self) -> np.ndarray:
        out = np.zeros(self.shape, self.dtype)
        np.add.at(out, self.index, self.values)
        return out

    def add_into(self, dense: np.ndarray) -> np.ndarray:
        np.add.at(dense, self.index, self.values)
        return dense


class ItemGrads:
    """The gradient of a tuple, list or dict that is zero except in the items ``items`` (key -> gradient)."""

    __slots__ = ("container", "items")

    def __init__(self, container: Any, items: dict) -> None:
        self.container = container  # the value itself, for its structure
        self.items = items

    @classmethod
    def one(cls, container: Any, key: Any, grad: Any) -> ItemGrads:
        from .tracer import getval

        container = getval(container)  # only its structure matters
        if not isinstance(container, dict) and key < 0:
            key += len(container)
        return cls(container, {key: grad})

    def dense(self) -> Any:
        from .vspace import vspace

        space = vspace(self.container)
        items = self.items
        if isinstance(self.container, dict):
            return {key: densify(items[key]) if key in items else vs.zeros() for key, vs in space.spaces.items()}
        return space.seq_type(densify(items[i]) if i in items else vs.zeros() for i, vs in enumerate(space.spaces))

    def plus(self, other: Any) -> Any:
        """self + other, where other is ItemGrads of the same container or a dense gradient of it."""
        from .backward import add_outgrads

        if type(other) is ItemGrads:
            items = dict(self.items)
            for key, grad in other.items.items():
                items[key] = add_outgrads(items[key], grad) if key in items else grad
            return ItemGrads(self.container, items)
        if isinstance(other, (tuple, list, dict)):  # dense and untraced: add our items into a copy
            total = dict(other) if isinstance(other, dict) else list(other)
            for key, grad in self.items.items():
                total[key] = add_outgrads(total[key], grad)
            return total if isinstance(other, dict) else type(other)(total)
        return add_outgrads(self.dense(), other)


SPARSE_TYPES = frozenset({IndexedGrad, ItemGrads})


def densify(grad: Any) -> Any:
    """``grad`` as a plain (dense) value."""
    return grad.dense() if type(grad) in SPARSE_TYPES else grad
