"""The notebook widget: an anywidget running the bundled JS (DOT builder + Graphviz compiled to WebAssembly).

The view model goes to the browser once, as UTF-8 JSON bytes (zlib-compressed when big); layout, expanding groups,
search and stepping through the backward pass then all run in the browser. ``view``, ``step`` and ``selected`` are
synced both ways.
"""

from __future__ import annotations

import json
import zlib
from typing import Any

import anywidget
import traitlets

from .html import bundle_text
from .model import model_counts

__all__ = ["TraceWidget", "mimebundle"]

COMPRESS_ABOVE = 1_000_000  # bytes of JSON above which the model goes zlib-compressed
TEXT_LINES = 400  # the text/plain fallback beside the widget keeps this many lines of the listing


class TraceWidget(anywidget.AnyWidget):
    """The interactive graph of a Trace (or of a view model dict from gradviz.render.model.view_model)."""

    _esm = traitlets.Unicode().tag(sync=True)
    # The view model as UTF-8 JSON bytes: a binary buffer beside the comm message, so a 100,000-node model (tens of
    # MB) is neither escaped into the message's JSON by the kernel nor parsed twice by the browser. Above
    # COMPRESS_ABOVE bytes it is zlib-compressed (about 10x: the websocket, and saved widget state, carry less).
    _model_json = traitlets.Bytes(b"{}").tag(sync=True)
    _model_encoding = traitlets.Unicode("").tag(sync=True)  # "" (plain JSON) or "zlib"
    view = traitlets.Enum(["forward", "backward"], default_value="forward").tag(sync=True)
    step = traitlets.Int(-1).tag(sync=True)  # index into the backward steps; -1 = before the first
    selected = traitlets.Int(-1).tag(sync=True)  # the clicked node's id; -1 = none

    def __init__(self, trace: Any, budget: int = 300, view: str = "forward", **kwargs: Any) -> None:
        if isinstance(trace, dict):
            model = trace
        else:
            from .model import browser_model

            model = browser_model(trace, budget=budget)
        self.trace = None if isinstance(trace, dict) else trace
        self.view_model = model
        data = json.dumps(model, allow_nan=False, ensure_ascii=False, separators=(",", ":")).encode("utf-8")
        encoding = ""
        if len(data) > COMPRESS_ABOVE:
            data, encoding = zlib.compress(data, 1), "zlib"
        super().__init__(_esm=bundle_text(), _model_json=data, _model_encoding=encoding, view=view, **kwargs)

    @traitlets.validate("step")
    def _valid_step(self, proposal: Any) -> int:
        return max(-1, min(int(proposal["value"]), model_counts(self.view_model)[1] - 1))

    @traitlets.validate("selected")
    def _valid_selected(self, proposal: Any) -> int:
        value = int(proposal["value"])
        return value if 0 <= value < model_counts(self.view_model)[0] else -1


def _in_kernel() -> bool:
    """True inside a Jupyter kernel (where a widget can show), False in a terminal or plain Python."""
    try:
        from IPython import get_ipython
    except ImportError:
        return False
    shell = get_ipython()
    return shell is not None and getattr(shell, "kernel", None) is not None


def _short_listing(trace: Any) -> str:
    text = str(trace)
    lines = text.splitlines()
    if len(lines) <= TEXT_LINES:
        return text
    return "\n".join(lines[:TEXT_LINES] + [f"... ({len(lines) - TEXT_LINES} more lines; print() the trace for all)"])


def mimebundle(trace: Any, include: Any = None, exclude: Any = None) -> dict | tuple[dict, dict]:
    """How a Trace displays: the widget in a notebook kernel (text listing beside it), the listing elsewhere.

    Returns the data dict, or (data, metadata) when anywidget asks for metadata (Colab).
    """
    if not _in_kernel():
        return {"text/plain": str(trace)}
    bundle = TraceWidget(trace)._repr_mimebundle_(include=include, exclude=exclude)
    data, metadata = bundle if isinstance(bundle, tuple) else (bundle, {})
    data = dict(data or {})
    data["text/plain"] = _short_listing(trace)
    return (data, metadata) if metadata else data
