"""Gradient flow: how large the gradient is at every node, and in which of the user's functions it dies or blows up.

The norm of each node's outgrad (the gradient of the output with respect to that node's value) is compared with
the norm of the gradient the backward pass started from (1 for a scalar loss): far below it is *vanishing*, far
above it (or non-finite) is *exploding*. Read from the trace's step summaries, so it works on any trace.
"""

from __future__ import annotations

import html
import math
import os
import statistics
from dataclasses import dataclass
from typing import Any

from .located import AtNode

__all__ = ["NodeFlow", "ScopeFlow", "FlowReport", "gradient_flow"]


@dataclass
class NodeFlow(AtNode):
    """One node's outgrad norm (``norm``) relative to the output's gradient (``relative``), and its flag."""

    node: int
    primitive: str | None
    norm: float
    relative: float
    flag: str | None  # "vanishing", "exploding" or None
    scope: int | None
    site: Any
    code: str | None


@dataclass
class ScopeFlow:
    """The nodes made by one function called from one line (every call of it there, e.g. in a loop)."""

    label: str  # "layer (model.py:12)": the function and the line that called it
    function: str
    file: str | None
    call_line: int | None
    calls: int
    nodes: int
    min: float
    median: float
    max: float
    flagged: int
    vanishing: int
    exploding: int


@dataclass
class FlowReport:
    """Outgrad norms per node (``nodes``, in backward order) and per scope (``scopes``); ``flagged`` nodes."""

    nodes: list[NodeFlow]
    scopes: list[ScopeFlow]
    reference: float  # the norm of the gradient the backward pass started from
    vanish: float
    explode: float
    function: str = ""

    @property
    def flagged(self) -> list[NodeFlow]:
        return [node for node in self.nodes if node.flag is not None]

    @property
    def vanishing(self) -> list[NodeFlow]:
        return [node for node in self.nodes if node.flag == "vanishing"]

    @property
    def exploding(self) -> list[NodeFlow]:
        return [node for node in self.nodes if node.flag == "exploding"]

    def __getitem__(self, node_id: int) -> NodeFlow:
        for node in self.nodes:
            if node.node == node_id:
                return node
        raise KeyError(f"no outgrad reached node %{node_id}")

    def _table(self) -> tuple[tuple, list[tuple]]:
        head = ("scope", "calls", "nodes", "min", "median", "max", "flagged")
        rows = [(scope.label, str(scope.calls), str(scope.nodes), f"{scope.min:.3g}", f"{scope.median:.3g}",
                 f"{scope.max:.3g}", f"{scope.flagged}" + (f" ({scope.vanishing} vanishing, {scope.exploding} "
                                                            f"exploding)" if scope.flagged else ""))
                for scope in self.scopes]
        return head, rows

    def summary(self) -> str:
        if not self.nodes:
            return (f"gradient flow of {self.function}: no backward pass was recorded (a trace made with "
                    "backward=False, or one whose backward pass failed)")
        return (f"gradient flow of {self.function}: {len(self.nodes)} nodes, output gradient norm "
                f"{self.reference:.3g}; {len(self.vanishing)} vanishing (< {self.vanish:g} x), "
                f"{len(self.exploding)} exploding (> {self.explode:g} x)")

    def __str__(self) -> str:
        head, rows = self._table()
        widths = [max(len(row[i]) for row in [head, *rows]) for i in range(len(head))]
        lines = [self.summary()] + ["  ".join(cell.ljust(width) for cell, width in zip(row, widths)).rstrip()
                                    for row in [head, *rows]]
        return "\n".join(lines)

    def __repr__(self) -> str:
        return f"<FlowReport of {self.function}: {len(self.vanishing)} vanishing, {len(self.exploding)} exploding>"

    def _repr_html_(self) -> str:
        head, rows = self._table()
        body = "".join("<tr>" + "".join(f"<td>{html.escape(cell)}</td>" for cell in row) + "</tr>" for row in rows)
        return (f"<div><p>{html.escape(self.summary())}</p><table><thead><tr>"
                + "".join(f"<th>{name}</th>" for name in head) + f"</tr></thead><tbody>{body}</tbody></table></div>")


def _norm(summary: Any) -> float:
    """The norm of a summarised value (containers: of all their items together); NaN/Inf when not finite."""
    if summary.items is not None:
        return math.sqrt(sum(_norm(item) ** 2 for item in summary.items.values()))
    if summary.nan:
        return float("nan")
    if summary.inf:
        return float("inf")
    return 0.0 if summary.norm is None else float(summary.norm)


def gradient_flow(trace: Any, vanish: float = 1e-6, explode: float = 1e6) -> FlowReport:
    """Per-node outgrad norms of the trace's (outermost) backward pass, flagged relative to the output's gradient:
    below ``vanish`` times it (zero included) is vanishing, above ``explode`` times it (or NaN/Inf) exploding.

    Fills ``trace.annotations`` ("vanishing" / "exploding", status "warn").
    """
    steps = trace.steps
    nodes: list[NodeFlow] = []
    reference = 1.0
    if steps:
        level = steps[-1].level  # the traced function's own pass runs last, after any grad inside it
        ours = [step for step in steps if step.level == level]
        reference = _norm(ours[0].outgrad) or 1.0
        for step in ours:
            record = trace.node(step.node)
            norm = _norm(step.outgrad)
            relative = norm / reference
            flag = None
            if not math.isfinite(norm) or relative > explode:
                flag = "exploding"
            elif relative < vanish:
                flag = "vanishing"
            nodes.append(NodeFlow(record.id, record.primitive, norm, relative, flag, record.scope, record.site,
                                  record.code))
    report = FlowReport(nodes, _scopes(trace, nodes), reference, vanish, explode, trace.function)
    _annotate(trace, report)
    return report


def _scopes(trace: Any, nodes: list[NodeFlow]) -> list[ScopeFlow]:
    groups: dict[tuple, list[NodeFlow]] = {}
    calls: dict[tuple, set] = {}
    for node in nodes:
        scope = trace.scopes[node.scope] if node.scope is not None and node.scope < len(trace.scopes) else None
        if scope is not None:
            key = (scope.function, scope.file, scope.call_line)
        else:
            key = ("(inputs)" if node.primitive is None else None, None, None)
        groups.setdefault(key, []).append(node)
        calls.setdefault(key, set()).add(node.scope)
    out = []
    for key, members in groups.items():
        function, file, call_line = key
        if function is None or file is None:
            label = function or "(outside your code)"
        elif call_line is None:
            label = f"{function} (traced function)"
        else:
            label = f"{function} ({os.path.basename(file)}:{call_line})"
        norms = [node.norm for node in members]
        finite = [n for n in norms if math.isfinite(n)] or [float("nan")]
        vanishing = sum(node.flag == "vanishing" for node in members)
        exploding = sum(node.flag == "exploding" for node in members)
        largest = max(norms) if any(map(math.isinf, norms)) else max(finite)
        out.append(ScopeFlow(label, function if file is not None else "", file, call_line, len(calls[key]),
                             len(members), min(finite), statistics.median(finite), largest, vanishing + exploding,
                             vanishing, exploding))
    first_seen = {key: min(node.node for node in members) for key, members in groups.items()}
    order = sorted(range(len(out)), key=lambda i: list(first_seen.values())[i])
    return [out[i] for i in order]


def _annotate(trace: Any, report: FlowReport) -> None:
    annotations = trace.annotations
    for node_id in list(annotations):
        annotations[node_id] = [e for e in annotations[node_id] if e.get("kind") not in ("vanishing", "exploding")]
        if not annotations[node_id]:
            del annotations[node_id]
    for node in report.flagged:
        what = "vanishing" if node.flag == "vanishing" else "exploding"
        message = (f"{what} gradient at {node.name} (node %{node.node}): outgrad norm {node.norm:.3g}, "
                   f"{node.relative:.3g} x the output's gradient" + (f", at {node.where}" if node.where else ""))
        annotations.setdefault(node.node, []).append({"kind": what, "status": "warn", "message": message,
                                                      "error": node.relative if math.isfinite(node.relative)
                                                      else None})
