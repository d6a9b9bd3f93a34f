"""Python's container builtins that see through traced values: ``from gradviz.builtins import tuple, ...``.

``tuple(items)`` with traced items is one traced tuple (so it can be returned, or differentiated as a whole);
``isinstance`` and ``type`` answer for the value inside a box.
"""

from __future__ import annotations

import builtins as _builtins
from typing import Any

from .core.containers import make_dict, make_sequence
from .core.tracer import box_types, getval

__all__ = ["tuple", "list", "dict", "isinstance", "type"]


def _has_box(items: Any) -> bool:
    return _builtins.any(_builtins.type(item) in box_types for item in items)


def tuple(items: Any = ()) -> Any:
    """A tuple; traced if any item is traced."""
    items = _builtins.list(items)
    return make_sequence(_builtins.tuple, *items) if _has_box(items) else _builtins.tuple(items)


def list(items: Any = ()) -> Any:
    """A list; traced if any item is traced."""
    items = _builtins.list(items)
    return make_sequence(_builtins.list, *items) if _has_box(items) else items


def dict(*args: Any, **kwargs: Any) -> Any:
    """A dict; traced if any value is traced."""
    plain = _builtins.dict(*args, **kwargs)
    if not _has_box(plain.values()):
        return plain
    return make_dict(_builtins.tuple(plain), *plain.values())


def isinstance(value: Any, classinfo: Any) -> bool:
    """``isinstance`` of the value inside any boxes."""
    return _builtins.isinstance(getval(value), classinfo)


def type(value: Any) -> _builtins.type:
    """The type of the value inside any boxes."""
    return _builtins.type(getval(value))
