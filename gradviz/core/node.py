"""Nodes and their recipes: how each traced value was made."""

from __future__ import annotations

import itertools
from collections.abc import Iterator
from typing import Any

__all__ = ["Node"]


class Node:
    """One traced value and its recipe: the primitive, its arguments, and its parents with their argnums.

    ``args`` holds the unboxed arguments (the parents' values at the argnums in ``argnums``). A root node (the
    value being differentiated) has no primitive and no parents. ``id`` counts from 0 within one trace.
    """

    __slots__ = ("value", "fun", "args", "kwargs", "argnums", "parents", "id", "level")
    notrace: frozenset = frozenset()  # primitives whose output traces of this node type take as constants

    def __init__(self, value: Any, fun: Any, args: list, kwargs: dict, argnums: list[int], parents: list[Node],
                 level: Any) -> None:
        self.value = value
        self.fun = fun
        self.args = args
        self.kwargs = kwargs
        self.argnums = argnums
        self.parents = parents
        self.id = next(level.ids)
        self.level = level

    @classmethod
    def new_ids(cls) -> Iterator[int]:
        """The ids for the nodes of a new trace (a recorder numbers nested traces' nodes together)."""
        return itertools.count()

    @classmethod
    def root(cls, value: Any, level: Any) -> Node:
        """The node of the value being differentiated: no primitive, no parents."""
        node = cls.__new__(cls)
        Node.__init__(node, value, None, [], {}, [], [], level)
        return node

    @property
    def recipe(self) -> tuple:
        """(primitive, args, kwargs, [(argnum, parent), ...]): everything needed to make this value again."""
        return self.fun, self.args, self.kwargs, list(zip(self.argnums, self.parents))

    def __repr__(self) -> str:
        name = "input" if self.fun is None else getattr(self.fun, "qualname", repr(self.fun))
        parents = ", ".join(f"{i}:%{p.id}" for i, p in zip(self.argnums, self.parents))
        return f"<{type(self).__name__} %{self.id} = {name}({parents})>"


class LooseNode:
    """A recipe outside any graph, with the fields the VJP and JVP dispatchers read (for the debugger's checks)."""

    __slots__ = ("fun", "args", "kwargs", "value", "argnums", "parents")

    def __init__(self, fun: Any, args: list, kwargs: dict, value: Any, argnums: list, parents: list) -> None:
        self.fun, self.args, self.kwargs, self.value = fun, args, kwargs, value
        self.argnums, self.parents = argnums, parents
