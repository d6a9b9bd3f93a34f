"""The text listing of a trace: one line per node, then one line per backward step.

    %7 = numpy.tanh(%6)  f64[256, 512]  model.py:14 in layer
"""

from __future__ import annotations

import os
from typing import TYPE_CHECKING

from .summary import Summary

if TYPE_CHECKING:
    from .trace import NodeRecord, StepRecord, Trace

__all__ = ["listing", "node_line", "step_line", "format_summary"]

MAX_LINES = 200  # above this many nodes (or steps), the middle is elided


def listing(trace: Trace, max_lines: int = MAX_LINES) -> str:
    lines = [f"trace of {trace.function} (argnum {trace.argnum}): {len(trace.nodes)} nodes, "
             f"{len(trace.steps)} backward steps", f"value {_value(trace.value)}", "forward:"]
    lines += _elided(trace.nodes, lambda node: node_line(trace, node), max_lines)
    if trace.steps:
        lines.append("backward:")
        lines += _elided(trace.steps, lambda step: step_line(trace, step), max_lines)
    return "\n".join(line.translate(_ONE_LINE) for line in lines)


# User text (tap names, function names, reprs) may hold newlines or other control characters: one record, one line.
_ONE_LINE = {code: f"\\x{code:02x}" for code in range(32)} | {ord("\n"): "\\n", ord("\r"): "\\r", ord("\t"): "\\t"}


def node_line(trace: Trace, node: NodeRecord) -> str:
    if node.role == "input":
        call = f"input {trace.argnum}" if node.level == 0 else f"input of a nested trace (level {node.level})"
    elif node.role == "constant":
        call = "constant"
    else:
        args = ", ".join(_arg(arg) for arg in node.args)
        kwargs = "".join(f", {key}={value.get('repr', '?')}" for key, value in node.kwargs.items())
        call = f"{node.primitive}({args}{kwargs})"
    parts = [f"%{node.id} = {call}", node.value.type_str()]
    if node.name:
        parts.append(f"'{node.name}'")
    if node.role == "output":
        parts.append("(output)")
    if node.site is not None:
        parts.append(f"{os.path.basename(node.site.file)}:{node.site.line} in {node.site.function}")
    if node.made_by is not None:
        parts.append(f"[made by the VJP of %{node.made_by}]")
    if not node.value.finite:
        parts.append(f"!! {node.value.nan} NaN, {node.value.inf} Inf")
    indent = "  " * (node.level + 1)
    return indent + "  ".join(parts)


def step_line(trace: Trace, step: StepRecord) -> str:
    node = trace.node(step.node)
    name = node.primitive or node.role
    arrived = ", ".join("seed" if a.child is None else f"%{a.child}" for a in step.arrived)
    sent = "; ".join(f"%{s.parent} <- {format_summary(s.value)}" for s in step.sent)
    line = f"step {step.index}: %{step.node} {name}  outgrad {format_summary(step.outgrad)} (from {arrived})"
    if sent:
        line += f"  sends {sent}"
    bad = [s.value for s in step.sent if not s.value.finite] + ([step.outgrad] if not step.outgrad.finite else [])
    if bad:
        line += f"  !! {sum(b.nan for b in bad)} NaN, {sum(b.inf for b in bad)} Inf"
    return "  " * (step.level + 1) + line


def format_summary(summary: Summary) -> str:
    if summary.kind != "array" or summary.norm is None:
        return summary.type_str()
    if summary.size == 1:
        return f"{summary.type_str()} {summary.head[0]:.4g}" if not isinstance(summary.head[0], list) else \
            summary.type_str()
    return f"{summary.type_str()} |.|={summary.norm:.3g}"


def _arg(arg: dict) -> str:
    if "node" in arg:
        return f"%{arg['node']}"
    if "constant" in arg:
        return f"%{arg['constant']}"
    return arg.get("repr", "?")


def _value(value: object) -> str:
    text = repr(value)
    return text if len(text) <= 100 else text[:97] + "..."


def _elided(records: list, line_of, max_lines: int) -> list[str]:
    """One line per record; above ``max_lines``, the first and last halves, and a count of the rest."""
    if len(records) <= max_lines:
        return [line_of(record) for record in records]
    half = max_lines // 2
    return ([line_of(record) for record in records[:half]] + [f"    ... {len(records) - 2 * half} more ..."]
            + [line_of(record) for record in records[-half:]])
