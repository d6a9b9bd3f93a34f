"""Flattening nested tuples, lists and dicts of arrays into one 1-D array, and back.

Both directions are made of gradviz.numpy primitives, so flattening a traced value (inside ``grad``) is traced
too: a loss written on the flat vector differentiates back to the nested parameters, and vice versa.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as _np

from .. import numpy as gnp
from ..core.tracer import getval

__all__ = ["flatten", "flatten_func"]


def _dict_keys(value: dict) -> list:
    """A dict's keys in sorted order (as autograd lays them out), or insertion order if they don't sort."""
    try:
        return sorted(value)
    except TypeError:
        return list(value)


def _pieces(value: Any, out: list) -> Callable[[Any, int], tuple[Any, int]]:
    """Append the 1-D pieces of ``value`` to ``out``; return ``rebuild(flat, start) -> (value, stop)``."""
    plain = getval(value)
    if isinstance(plain, (tuple, list)):
        rebuilds = [_pieces(item, out) for item in value]
        kind = type(plain)

        def rebuild_sequence(flat: Any, start: int) -> tuple[Any, int]:
            items = []
            for rebuild in rebuilds:
                item, start = rebuild(flat, start)
                items.append(item)
            return kind(items), start

        return rebuild_sequence
    if isinstance(plain, dict):
        keys = _dict_keys(plain)
        rebuilds = [_pieces(value[key], out) for key in keys]
        kind = type(plain)

        def rebuild_dict(flat: Any, start: int) -> tuple[Any, int]:
            items = {}
            for key, rebuild in zip(keys, rebuilds):
                items[key], start = rebuild(flat, start)
            return kind((key, items[key]) for key in plain), start  # the caller's key order

        return rebuild_dict
    shape, size = _np.shape(plain), int(_np.size(plain))
    scalar = not isinstance(plain, _np.ndarray)  # a float comes back as a scalar, a 0-d array as a 0-d array
    out.append(gnp.ravel(value))

    def rebuild_leaf(flat: Any, start: int) -> tuple[Any, int]:
        stop = start + size
        return (flat[start] if scalar else gnp.reshape(flat[start:stop], shape)), stop

    return rebuild_leaf


def flatten(value: Any) -> tuple[Any, Callable[[Any], Any]]:
    """``(flat, unflatten)``: the leaves of ``value`` raveled and concatenated, and the map back to its structure.

    Dict values are laid out in sorted-key order, so the layout does not depend on insertion order. Both
    ``flatten`` and ``unflatten`` can be traced (differentiated).
    """
    pieces: list = []
    rebuild = _pieces(value, pieces)
    flat = gnp.concatenate(pieces) if pieces else _np.zeros(0)
    size = int(_np.size(getval(flat)))

    def unflatten(flat_value: Any) -> Any:
        if _np.shape(getval(flat_value)) != (size,):
            raise ValueError(f"unflatten: expected a 1-D array of {size} values, got shape "
                             f"{_np.shape(getval(flat_value))}")
        return rebuild(flat_value, 0)[0]

    return flat, unflatten


def flatten_func(func: Callable, example: Any) -> tuple[Callable, Callable[[Any], Any], Any]:
    """``(flat_func, unflatten, flat_example)``: ``func`` as a function of (and to) flat vectors.

    ``flat_func(flat_x, *args) = flatten(func(unflatten(flat_x), *args))[0]``, so optimizers and ``jacobian``
    written for 1-D arrays apply to functions of nested parameters.
    """
    flat_example, unflatten = flatten(example)

    def flat_func(flat_x: Any, *args: Any) -> Any:
        return flatten(func(unflatten(flat_x), *args))[0]

    flat_func.__name__ = f"flat_{getattr(func, '__name__', 'func')}"
    return flat_func, unflatten, flat_example
