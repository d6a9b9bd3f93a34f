"""Summaries of values: what a trace keeps of an array instead of the array itself.

A summary costs a few fast reductions (sum, dot, min, max) and a few bytes, so a trace's memory grows with its
number of nodes, not with the size of its arrays. NaN and Inf are counted exactly: the sum of an array is finite
exactly when the array has no NaN or Inf (unless the sum overflows, and then the counts are taken one by one).
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from ..core.tracer import getval

__all__ = ["Summary", "summarize", "HEAD"]

HEAD = 4  # how many leading values a summary keeps


@dataclass(slots=True)
class Summary:
    """Shape, dtype and statistics of one value (for complex values, min/max/mean are of |x|).

    ``items`` holds the summaries of a tuple's, list's or dict's items (``kind`` says which); ``value`` the value
    itself when the trace was made with ``keep_values=True`` (or for a tapped node's gradient).
    """

    kind: str  # "array", "tuple", "list", "dict", "none" or "other"
    shape: tuple = ()
    dtype: str = ""
    min: float | None = None
    max: float | None = None
    mean: float | None = None
    norm: float | None = None
    nan: int = 0
    inf: int = 0
    head: list = field(default_factory=list)
    items: dict | None = None
    value: Any = None

    @property
    def size(self) -> int:
        return math.prod(self.shape)

    @property
    def finite(self) -> bool:
        """No NaN or Inf anywhere (in the items too)."""
        if self.items is not None:
            return all(item.finite for item in self.items.values())
        return self.nan == 0 and self.inf == 0

    def type_str(self) -> str:
        """``f64[256, 512]``-style: a short dtype and the shape."""
        if self.items is not None:
            if self.kind == "dict":
                return "{" + ", ".join(f"{key!r}: {item.type_str()}" for key, item in self.items.items()) + "}"
            inner = ", ".join(item.type_str() for item in self.items.values())
            return f"[{inner}]" if self.kind == "list" else f"({inner})"
        if self.kind != "array":
            return self.dtype or self.kind
        return f"{short_dtype(self.dtype)}[{', '.join(str(n) for n in self.shape)}]"


_SHORT = {"float64": "f64", "float32": "f32", "float16": "f16", "complex128": "c128", "complex64": "c64",
          "int64": "i64", "int32": "i32", "int16": "i16", "int8": "i8", "uint8": "u8", "bool": "bool"}


def short_dtype(dtype: str) -> str:
    return _SHORT.get(dtype, dtype)


SCALAR_DTYPES = {float: "float64", np.float64: "float64", np.float32: "float32", np.float16: "float16"}


def scalar_summary(value: Any, dtype: str, keep: bool = False) -> Summary:
    """The summary of a real scalar whose type SCALAR_DTYPES maps to ``dtype``: the fast path, as scalar code makes
    one per primitive."""
    x = float(value)
    if x - x == 0:  # finite
        return Summary("array", (), dtype, x, x, x, abs(x), 0, 0, [x], None, value if keep else None)
    return Summary("array", (), dtype, x, x, x, abs(x), int(x != x), int(x == x), [x], None, value if keep else None)


def summarize(value: Any, keep: bool = False) -> Summary:
    """The summary of ``value`` (plain or traced); with ``keep``, the value itself too."""
    value = getval(value)
    kind = type(value)
    dtype = SCALAR_DTYPES.get(kind)
    if dtype is not None:
        return scalar_summary(value, dtype, keep)
    if isinstance(value, (tuple, list)):
        items = {i: summarize(item, keep) for i, item in enumerate(value)}
        return Summary(kind.__name__ if kind in (tuple, list) else "tuple", (len(value),), items=items)
    if isinstance(value, dict):
        return Summary("dict", (len(value),), items={key: summarize(item, keep) for key, item in value.items()})
    if value is None:
        return Summary("none")
    if isinstance(value, (np.ndarray, np.generic, int, complex, bool)):
        return _array_summary(np.asarray(value), value if keep else None)
    return Summary("other", dtype=type(value).__name__)


def _array_summary(array: np.ndarray, kept: Any) -> Summary:
    summary = Summary("array", array.shape, array.dtype.name, value=kept)
    if array.size == 0 or array.dtype.kind not in "biufc":
        return summary
    flat = array.ravel()
    magnitude = np.abs(flat) if array.dtype.kind == "c" else flat
    if array.dtype.kind == "b":
        magnitude = magnitude.astype(np.int64)
    with np.errstate(all="ignore"):
        total = magnitude.sum(dtype=np.float64 if array.dtype.kind in "biu" else None)
        squares = np.vdot(flat, flat).real if array.dtype.kind in "fc" else float(np.dot(magnitude, magnitude))
        if not (np.isfinite(total) and np.isfinite(squares)):
            summary.nan = int(np.count_nonzero(np.isnan(flat))) if array.dtype.kind in "fc" else 0
            summary.inf = int(np.count_nonzero(np.isinf(flat))) if array.dtype.kind in "fc" else 0
        pick = (np.nanmin, np.nanmax) if summary.nan and summary.nan < flat.size else (np.min, np.max)
        summary.min, summary.max = float(pick[0](magnitude)), float(pick[1](magnitude))
        summary.mean = float(total) / flat.size
        summary.norm = math.sqrt(squares) if squares >= 0 else float("nan")
    summary.head = [_plain(v) for v in flat[:HEAD].tolist()]
    return summary


def _plain(value: Any) -> Any:
    """A JSON-friendly scalar: complex numbers become [re, im]."""
    return [value.real, value.imag] if isinstance(value, complex) else value
