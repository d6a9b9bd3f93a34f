"""The helpers autograd code imports from ``autograd.util``."""

from __future__ import annotations

from typing import Any

from .core.backward import toposort
from .core.wrap_util import subvals
from .test_util import check_grads

__all__ = ["subvals", "subval", "toposort", "func", "check_grads"]


def subval(values: tuple, i: int, value: Any) -> tuple:
    """``values`` as a tuple with ``values[i]`` replaced by ``value``."""
    return subvals(values, [(i, value)])


def func(f: Any) -> Any:
    """``f`` itself: autograd's name for taking a function out of a method (old code calls it)."""
    return f
