"""Where a NaN or an Inf was born: in a trace's record (``nonfinite``), or at once, raising (``detect_anomaly``).

A non-finite value spreads: every node downstream of it is non-finite too, and the one that matters is the first
whose own inputs were finite. Forward, that is a node whose value is non-finite while its parents and constant
arguments are finite (log of a negative, exp overflowing, 0/0). Backward, it is a step whose VJP sent a
non-finite gradient while the outgrad it was given, the node's value and its inputs were finite (sqrt at 0, a VJP
dividing by zero): a NaN that came in with the data, or one born forward, only spreads through the VJPs after it.
"""

from __future__ import annotations

import html
import math
import os
import sys
from dataclasses import dataclass
from typing import Any

import numpy as np

from ..core import backward
from ..core.backward import VJPNode
from ..core.sparse import SPARSE_TYPES
from ..core.tracer import box_types
from ..core.vspace import describe
from .located import AtNode

__all__ = ["Origin", "NonfiniteReport", "nonfinite", "detect_anomaly", "AnomalyNode"]


@dataclass
class Origin(AtNode):
    """One birth of a NaN or Inf: the node (forward) or the backward step whose output is the first non-finite."""

    direction: str  # "forward" or "backward"
    node: int
    primitive: str | None
    argnum: int | None  # backward: the argument whose gradient the VJP made non-finite
    parent: int | None  # backward: the node that gradient went to
    site: Any  # gradviz.record.Site
    code: str | None
    type: str  # the non-finite value's type, e.g. float64[3]
    nan: int
    inf: int
    inputs: list[str]  # the types of the (finite) inputs: parents and constants, or the outgrad
    role: str = "operation"  # the node's role: "input" and "constant" hold a NaN that no operation made
    made_in: str | None = None  # for a node of an inner backward pass (grad of grad): "the VJP of sqrt (node %3) ..."

    outside = "outside your code"

    def message(self) -> str:
        what = ", ".join(part for part in (f"{self.nan} NaN" if self.nan else "", f"{self.inf} Inf" if self.inf
                                           else "") if part) or "non-finite values"
        if self.direction == "forward":
            if self.primitive is None:
                if self.role == "constant":
                    where = f" (an argument at {self.where})" if self.site is not None else ""
                    return (f"the constant %{self.node} ({self.type}){where} already holds {what}: it came in with "
                            "the data, no operation made it")
                return f"the input %{self.node} ({self.type}) already holds {what}: no operation made it"
            inside = f", inside {self.made_in}," if self.made_in else ""
            return (f"{self.name} (node %{self.node}) at {self.where}{inside} made {what} in its output {self.type} "
                    f"from finite inputs ({', '.join(self.inputs) or 'none'})")
        return (f"the VJP of {self.name} (node %{self.node}, argnum {self.argnum}) at {self.where} sent {what} "
                f"({self.type}) to %{self.parent} from a finite outgrad ({', '.join(self.inputs)})")


@dataclass
class NonfiniteReport:
    """The first forward and the first backward birth of a NaN or Inf in a trace (None where there is none)."""

    forward: Origin | None
    backward: Origin | None
    function: str = ""

    @property
    def origins(self) -> list[Origin]:
        return [origin for origin in (self.forward, self.backward) if origin is not None]

    @property
    def ok(self) -> bool:
        return not self.origins

    def __str__(self) -> str:
        if self.ok:
            return f"{self.function}: every value and gradient is finite"
        lines = [f"{self.function}: where NaN / Inf were born"]
        lines += [f"  {origin.direction:8}  {origin.message()}" for origin in self.origins]
        return "\n".join(lines)

    def __repr__(self) -> str:
        return f"<NonfiniteReport of {self.function}: forward {self._short(self.forward)}, backward " \
               f"{self._short(self.backward)}>"

    @staticmethod
    def _short(origin: Origin | None) -> str:
        return "finite" if origin is None else f"%{origin.node} {origin.name}"

    def _repr_html_(self) -> str:
        if self.ok:
            return f"<p>{html.escape(str(self))}</p>"
        rows = "".join(
            "<tr>" + "".join(f"<td>{html.escape(str(value))}</td>" for value in (
                origin.direction, f"%{origin.node}", origin.name, "" if origin.argnum is None else origin.argnum,
                origin.type, origin.where, origin.message())) + "</tr>" for origin in self.origins)
        head = "".join(f"<th>{name}</th>" for name in ("pass", "node", "primitive", "argnum", "type", "where",
                                                       "what"))
        return f"<table><thead><tr>{head}</tr></thead><tbody>{rows}</tbody></table>"


def _finite(summary: Any) -> bool:
    return summary is None or summary.finite


def nonfinite(trace: Any) -> NonfiniteReport:
    """The first forward node and the first backward step that made a NaN or Inf from finite values.

    Read from the trace's summaries (their NaN and Inf counts), so it works on any trace, loaded from JSON too.
    Fills ``trace.annotations`` ("nonfinite-forward", "nonfinite-backward", status "fail").
    """
    nodes = trace.nodes
    by_id = {node.id: node for node in nodes}

    def inputs_of(node: Any) -> list:
        found = [by_id[parent] for _, parent in node.parents if parent in by_id]
        return found + [by_id[arg["constant"]] for arg in node.args if "constant" in arg and arg["constant"] in by_id]

    forward_origin = None
    first_input = None
    for node in nodes:
        if _finite(node.value):
            continue
        if node.primitive is None:
            if first_input is None:
                first_input = _origin("forward", node, None, None, node.value, [])
            continue
        inputs = inputs_of(node)
        if all(_finite(other.value) for other in inputs):
            forward_origin = _origin("forward", node, None, None, node.value,
                                     [other.value.type_str() for other in inputs], by_id.get(node.made_by))
            break
    if forward_origin is None:
        forward_origin = first_input
    backward_origin = None
    for step in trace.steps:
        if not _finite(step.outgrad):
            continue
        node = by_id[step.node]
        # A VJP computes with the node's value and inputs too: where one of them is NaN or Inf (an input that
        # held one, or a forward birth upstream), a non-finite gradient is that value spreading, not a birth.
        if not _finite(node.value) or not all(_finite(other.value) for other in inputs_of(node)):
            continue
        for sent in step.sent:
            if not _finite(sent.value):
                backward_origin = _origin("backward", node, sent.argnum, sent.parent, sent.value,
                                          [f"outgrad {step.outgrad.type_str()}"])
                break
        if backward_origin is not None:
            break
    report = NonfiniteReport(forward_origin, backward_origin, trace.function)
    annotations = trace.annotations
    for kind in ("nonfinite-forward", "nonfinite-backward"):
        for node_id in list(annotations):
            annotations[node_id] = [entry for entry in annotations[node_id] if entry.get("kind") != kind]
            if not annotations[node_id]:
                del annotations[node_id]
    for origin in report.origins:
        annotations.setdefault(origin.node, []).append({
            "kind": f"nonfinite-{origin.direction}", "status": "fail", "message": origin.message(), "error": None})
    return report


def _origin(direction: str, node: Any, argnum: int | None, parent: int | None, value: Any,
            inputs: list[str], maker: Any = None) -> Origin:
    nan, inf = _counts(value)
    made_in = None
    if maker is not None:  # made by an inner backward pass: the VJP that made it is the place to look
        where = "" if maker.site is None else f" at {os.path.basename(maker.site.file)}:{maker.site.line}" + (
            f" `{maker.code}`" if maker.code else "")
        made_in = f"the VJP of {(maker.primitive or 'input').rsplit('.', 1)[-1]} (node %{maker.id}){where}"
    return Origin(direction, node.id, node.primitive, argnum, parent, node.site, node.code, value.type_str(), nan,
                  inf, inputs, node.role, made_in)


def _counts(summary: Any) -> tuple[int, int]:
    if summary.items is not None:
        counts = [_counts(item) for item in summary.items.values()]
        return sum(c[0] for c in counts), sum(c[1] for c in counts)
    return summary.nan, summary.inf


# --- the raising mode

def _all_finite(value: Any) -> bool:
    """No NaN or Inf in ``value`` (arrays, scalars, and containers of them; anything else counts as finite)."""
    while type(value) in box_types:
        value = value._value
    if type(value) in SPARSE_TYPES:
        value = value.dense()
    kind = type(value)
    if kind is float or kind is np.float64 or kind is np.float32:
        return math.isfinite(value)  # no RuntimeWarning for a NumPy inf, unlike value - value
    if kind is np.ndarray:
        if value.dtype.kind not in "fc":
            return True
        with np.errstate(all="ignore"):
            total = value.sum()
        return bool(np.isfinite(total)) or bool(np.all(np.isfinite(value)))
    if isinstance(value, (tuple, list)):
        return all(_all_finite(item) for item in value)
    if isinstance(value, dict):
        return all(_all_finite(item) for item in value.values())
    if isinstance(value, (np.generic, complex)):
        try:
            return bool(np.all(np.isfinite(value)))
        except TypeError:
            return True
    return True


def _user_line(depth: int) -> tuple[str, int, str, str | None] | None:
    """(file, line, function, code) of the innermost frame of the user's code."""
    import linecache

    from ..record.recorder import _library

    frame = sys._getframe(depth)
    while frame is not None and _library(frame.f_code):
        frame = frame.f_back
    if frame is None:
        return None
    code = frame.f_code
    return code.co_filename, frame.f_lineno, code.co_name, linecache.getline(code.co_filename,
                                                                                frame.f_lineno).strip() or None


def _where(site: tuple | None) -> str:
    if site is None:
        return "outside your code"
    file, line, function, code = site
    return f"{file}:{line} in {function}" + (f": `{code}`" if code else "")


class AnomalyNode(VJPNode):
    """A reverse-mode node that raises FloatingPointError when its primitive makes a NaN or Inf from finite
    inputs, and keeps the user's line (for the backward pass's message)."""

    __slots__ = ("site",)

    def __init__(self, value, fun, args, kwargs, argnums, parents, level) -> None:
        VJPNode.__init__(self, value, fun, args, kwargs, argnums, parents, level)
        self.site = _user_line(2)
        if not _all_finite(value) and all(_all_finite(arg) for arg in args):
            raise FloatingPointError(
                f"detect_anomaly: {fun.qualname} made a non-finite value ({describe(value)}) from finite inputs "
                f"({', '.join(_describe(arg) for arg in args)}), at {_where(self.site)}"
            )

    @classmethod
    def root(cls, value: Any, level: Any) -> AnomalyNode:
        node = super().root(value, level)
        node.site = None
        return node


def _describe(value: Any) -> str:
    try:
        return describe(value)
    except Exception:
        return type(value).__name__


class _AnomalyObserver:
    """Told of each backward step: raises at the first VJP that sends a non-finite gradient from a finite one."""

    def traced(self, end_node: Any) -> None:
        pass

    def begin_step(self, node: Any) -> None:
        pass

    def end_step(self, node: Any, outgrad: Any, sent: list) -> None:
        if not sent or not _all_finite(outgrad) or not _all_finite(node.value) \
                or not all(_all_finite(arg) for arg in node.args):
            return  # a NaN or Inf the VJP was given (in g, the value, or an input): spreading, not born here
        for argnum, _parent, ingrad in sent:
            if not _all_finite(ingrad):
                raise FloatingPointError(
                    f"detect_anomaly: the VJP of {getattr(node.fun, 'qualname', node.fun)} (argument {argnum}) "
                    f"sent a non-finite gradient ({_describe(ingrad)}) from a finite outgrad "
                    f"({_describe(outgrad)}); the node was made at {_where(getattr(node, 'site', None))}"
                )

    def describe(self, node: Any) -> str | None:
        site = getattr(node, "site", None)
        return None if site is None else f"{site[0]}:{site[1]} in {site[2]}"


class detect_anomaly:
    """``with gradviz.detect_anomaly(): grad(f)(x)`` raises FloatingPointError at the first primitive that makes a
    NaN or Inf from finite inputs, in the forward pass and in the VJPs of the backward pass, naming the primitive
    and your line. Also a decorator. For this thread only; plain grad pays nothing when it is off. Inside
    ``gradviz.trace`` (which makes its own nodes) call ``Trace.nonfinite()`` on the trace instead.
    """

    def __init__(self) -> None:
        self._saved: list[tuple] = []

    def __enter__(self) -> detect_anomaly:
        session = backward.session
        if session.node_type is not VJPNode and session.node_type is not AnomalyNode:
            raise RuntimeError(
                "detect_anomaly can't run inside gradviz.trace (it records its own nodes); call .nonfinite() on the "
                "trace instead."
            )
        self._saved.append((session.node_type, session.observer))
        session.node_type, session.observer = AnomalyNode, _AnomalyObserver()
        return self

    def __exit__(self, *exc: Any) -> None:
        session = backward.session
        session.node_type, session.observer = self._saved.pop()

    def __call__(self, fun: Any) -> Any:
        import functools

        @functools.wraps(fun)
        def wrapped(*args: Any, **kwargs: Any) -> Any:
            with detect_anomaly():
                return fun(*args, **kwargs)

        return wrapped
