"""A trace as Graphviz DOT (a ``graphviz.Digraph``) and as SVG/PNG/PDF files written by the system ``dot``.

Drawn from the view model (gradviz.render.model), so the groups, loops and initial collapse are the widget's.
Every label is user text (function names, tap names, code) passed through ``_text``: backslashes doubled so
Graphviz reads none as an escape (``\\N``, ``\\l``), ``&`` written ``&amp;`` (dot reads entities such as ``&amp;``
in labels), line breaks made DOT's own, control characters shown as ``\\xNN``, marked ``nohtml`` so a label
like ``<b>`` is never an HTML label; the graphviz package then quotes it (``"`` and the rest). Graphviz's SVG
output escapes ``<`` and ``&`` itself, so the text shows as text.

Ids follow the render spec: a node ``n<id>``, an expanded group ``cluster_g<gid>`` with id ``g<gid>``, a collapsed
group one box ``g<gid>``, an edge ``e<parent>_<child>`` (``eg4_n12`` when a box is at either end).

Edges are deduplicated between boxes. Two rules keep Graphviz's cluster layout fast on big traces (one node with
edges into hundreds of boxes in nested clusters made ``dot`` take minutes): a constant's edges are drawn only
between two drawn nodes (never into or out of a box), and at most HUB edges from one element to elements in
other groups (clusters) are drawn, the rest counted in a small note node ``more_<element>``.
"""

from __future__ import annotations

import math
import os
import shutil
from collections.abc import Iterable
from typing import Any

import graphviz

from ..core.gcpause import gc_paused
from .model import expand, view_model

__all__ = ["to_dot", "render", "INSTALL_HINT"]

INSTALL_HINT = (
    "Writing {fmt} files needs the Graphviz program `dot`, which is not on PATH. Install Graphviz: "
    "`apt-get install graphviz` (Debian/Ubuntu), `brew install graphviz` (macOS), `conda install graphviz` (conda), "
    "or see https://graphviz.org/download/. The notebook widget (Trace.widget()) and Trace.save_html() need no "
    "system Graphviz: they lay out in the browser with Graphviz compiled to WebAssembly."
)

HUB = 8  # most edges drawn from one element into other groups (the rest are counted in a note)
MAX_LINE = 60  # characters of one label line kept (longer user text is cut with "...")

# colours: forward roles, higher order, failures, faded; the backward view's edge scale (small to large norm)
STYLE = {
    "input": {"shape": "box", "style": "rounded,filled,bold", "fillcolor": "#c8e6c9", "color": "#2e7d32"},
    "output": {"shape": "box", "style": "rounded,filled,bold", "fillcolor": "#bbdefb", "color": "#1565c0",
               "peripheries": "2"},
    "constant": {"shape": "box", "style": "filled,dashed", "fillcolor": "#eeeeee", "color": "#9e9e9e",
                 "fontcolor": "#616161"},
    "operation": {"shape": "box", "style": "rounded,filled", "fillcolor": "#ffffff", "color": "#424242"},
}
HIGHER_ORDER = {"fillcolor": "#ffe0b2", "color": "#e65100"}
FAIL = {"color": "#d50000", "fontcolor": "#d50000", "penwidth": "2.5"}
FADED = {"color": "#cfcfcf", "fontcolor": "#b0b0b0", "fillcolor": "#fafafa"}
BOX = {"shape": "box3d", "style": "filled", "fillcolor": "#e8eaf6", "color": "#3949ab"}
CLUSTER = {
    "root": {"style": "rounded", "color": "#bdbdbd"},
    "call": {"style": "rounded", "color": "#757575"},
    "loop": {"style": "rounded,dashed", "color": "#1565c0"},
    "iteration": {"style": "rounded,dotted", "color": "#64b5f6"},
    "vjp": {"style": "rounded,filled", "color": "#e65100", "fillcolor": "#fff8e1"},
}
EDGE_SCALE = ("#9ecae1", "#4292c6", "#2171b5", "#08519c", "#7a0177", "#c51b8a")


def _text(*lines: Any) -> str:
    """One DOT label from plain-text lines (see the module docstring)."""
    parts = []
    for line in lines:
        for piece in str(line).splitlines() or [""]:
            if len(piece) > MAX_LINE:
                piece = piece[:MAX_LINE - 3] + "..."
            piece = "".join(ch if ch >= " " and ch != "\x7f" else f"\\x{ord(ch):02x}" for ch in piece)
            parts.append(piece.replace("\\", "\\\\").replace("&", "&amp;"))
    return graphviz.nohtml("\\n".join(parts))


def _number(x: Any) -> str:
    if isinstance(x, str):  # "nan", "inf", "-inf" in the model
        return x
    if isinstance(x, list):
        return "complex"
    return f"{x:.3g}"


def _norm(summary: dict | None) -> float | None:
    """The norm of a model summary (containers: the root of the sum of their items' squares)."""
    if summary is None:
        return None
    if "items" in summary:
        parts = [_norm(item) for _, item in summary["items"]]
        parts = [p for p in parts if p is not None]
        return math.sqrt(sum(p * p for p in parts)) if parts else None
    norm = summary.get("norm")
    return float(norm) if norm is not None else None


def to_dot(trace: Any, view: str = "forward", budget: int = 300, expanded: None | str | Iterable[int] = None,
           model: dict | None = None, rankdir: str = "TB") -> graphviz.Digraph:
    """The trace as a ``graphviz.Digraph``: ``view`` "forward" (the graph) or "backward" (the outgrad flow).

    ``expanded``: None keeps the model's initial collapse (from ``budget``), "all" expands every group, or an
    iterable of group ids to expand as well (with their ancestors). ``model`` reuses a view model already built
    (either form).
    """
    if view not in ("forward", "backward"):
        raise ValueError(f"to_dot: view must be 'forward' or 'backward', not {view!r}")
    if model is None:
        model = view_model(trace, budget=budget)
    else:
        model = expand(model)  # the wire form too (an object-form model is used as it is)
    with gc_paused():  # one pass over every node and step: no cycles made, nothing for the collector
        return _digraph(model, view, expanded, rankdir)


def _digraph(model: dict, view: str, expanded: None | str | Iterable[int], rankdir: str) -> graphviz.Digraph:
    groups, nodes = model["groups"], model["nodes"]
    collapsed = [group["collapsed"] for group in groups]
    if expanded == "all":
        collapsed = [False] * len(groups)
    elif expanded is not None:
        for gid in expanded:
            while gid is not None:
                collapsed[gid] = False
                gid = groups[gid]["parent"]
    collapsed[0] = False

    # box[g]: the collapsed group that stands for g (its own box, or an ancestor's), or None when g is drawn open
    box: list[int | None] = [None] * len(groups)
    for group in groups[1:]:
        gid = group["id"]
        outer = box[group["parent"]]
        box[gid] = outer if outer is not None else (gid if collapsed[gid] else None)

    group_of = {node["id"]: node["group"] for node in nodes}
    backward = view == "backward"
    steps = model["steps"]

    graph = graphviz.Digraph(name=f"gradviz_{view}", graph_attr={
        "rankdir": rankdir, "id": "graph0", "fontname": "Helvetica", "fontsize": "10", "nodesep": "0.25",
        "ranksep": "0.35", "tooltip": " "}, node_attr={"fontname": "Helvetica", "fontsize": "10", "height": "0.3"},
        edge_attr={"fontname": "Helvetica", "fontsize": "8", "arrowsize": "0.6"})
    bodies: dict[int, graphviz.Digraph] = {0: graph}
    for group in groups[1:]:
        gid = group["id"]
        if box[gid] is None:
            cluster = graphviz.Digraph(name=f"cluster_g{gid}")
            cluster.attr(id=f"g{gid}", label=_text(group["label"]), fontname="Helvetica", fontsize="9",
                         labeljust="l", **CLUSTER.get(group["kind"], {}))
            bodies[gid] = cluster

    # what each node's step brings: outgrad norm and fan-in (backward view)
    outgrad_of: dict[int, dict] = {}
    if backward:
        for step in steps:
            outgrad_of.setdefault(step["node"], step)

    # nodes (or the boxes standing for them)
    boxes_drawn: set[int] = set()
    for node in nodes:
        node_id = node["id"]
        gid = node["group"]
        holder = box[gid]
        if holder is not None:
            if holder not in boxes_drawn:
                boxes_drawn.add(holder)
                group = groups[holder]
                body = bodies[_drawn_in(groups, holder)]
                body.node(f"g{holder}", _text(group["label"], f"{group['size']} nodes"), id=f"g{holder}",
                          **{**BOX, **({"fillcolor": "#fff8e1", "color": "#e65100"} if group["kind"] == "vjp"
                                       else {})})
            continue
        bodies[gid].node(f"n{node_id}", **_node_attrs(node, outgrad_of.get(node_id) if backward else None,
                                                      backward))

    # edges, parent -> child, deduplicated between boxes
    finite: list[float] = []  # the norms drawn: the colour scale spans them
    edges: dict[tuple[str, str], list] = {}  # (src, dst) -> [argnums, norm or None, child has several parents]
    constant = {node["id"] for node in nodes if node["role"] == "constant"}
    for node in nodes:
        parents = node["parents"]
        if not parents:
            continue
        child = node["id"]
        holder = box[node["group"]]
        dst = None
        several = len(parents) > 1
        for argnum, parent in parents:
            parent_holder = box[group_of[parent]]
            if holder is not None and parent_holder == holder:
                continue  # inside one box
            if dst is None:
                dst = f"n{child}" if holder is None else f"g{holder}"
            src = f"n{parent}" if parent_holder is None else f"g{parent_holder}"
            if parent in constant and (src[0] == "g" or dst[0] == "g"):
                continue  # a constant's edge only between two drawn nodes (a shared constant is a hub)
            entry = edges.get((src, dst))
            if entry is None:
                inside = node["group"] if holder is None else groups[holder]["parent"]
                outside = group_of[parent] if parent_holder is None else groups[parent_holder]["parent"]
                entry = edges[(src, dst)] = [[], None, several, dst[0] == "n" and src[0] == "n", inside != outside]
            entry[0].append(argnum)
            norm = _sent_norm(outgrad_of.get(child), parent) if backward else None
            if norm is not None:
                if norm > 0 and math.isfinite(norm):
                    finite.append(norm)
                entry[1] = norm if entry[1] is None or math.isnan(norm) else max(entry[1], norm)
    leaving: dict[str, int] = {}
    hidden: dict[str, int] = {}
    scale = (math.log10(min(finite)), math.log10(max(finite))) if finite else (0.0, 0.0)
    for (src, dst), (argnums, norm, several, plain, crossing) in edges.items():
        if crossing:  # a hub feeding many other clusters: Graphviz's cluster layout slows down badly, keep a few
            leaving[src] = seen = leaving.get(src, 0) + 1
            if seen > HUB:
                hidden[src] = hidden.get(src, 0) + 1
                continue
        attrs: dict[str, str] = {}
        if plain:
            attrs["id"] = f"e{src[1:]}_{dst[1:]}"
            if several:
                attrs["label"] = ",".join(str(a) for a in argnums)
        else:
            attrs["id"] = f"e{src}_{dst}"
        if backward:
            attrs.update(_flow_style(norm, scale, attrs.get("label")))
        graph.edge(src, dst, **attrs)

    for src, count in hidden.items():  # say where edges were left out
        graph.node(f"more_{src}", _text(f"+{count} more groups use this"), id=f"more_{src}", shape="plaintext",
                   fontsize="8", fontcolor="#757575")
        graph.edge(src, f"more_{src}", id=f"e{src}_more", style="dotted", color="#9e9e9e", arrowhead="none")

    # clusters into their parents, innermost first (a group's children have larger ids)
    for gid in sorted(bodies, reverse=True):
        if gid == 0:
            continue
        bodies[_drawn_in(groups, gid)].subgraph(bodies[gid])
    return graph


def _sent_norm(step: dict | None, parent: int) -> float | None:
    """The norm of what ``step``'s VJP sent to ``parent`` (the largest, if it sent twice), or None."""
    if step is None:
        return None
    found = None
    for _, to, summary in step["sent"]:
        if to == parent:
            norm = _norm(summary)
            if norm is not None:
                found = norm if found is None or math.isnan(norm) else (found if math.isnan(found) else
                                                                         max(found, norm))
    return found


def _drawn_in(groups: list[dict], gid: int) -> int:
    """The open group a box or cluster of group ``gid`` is drawn in: its parent (open by construction)."""
    parent = groups[gid]["parent"]
    return 0 if parent is None else parent


def _node_attrs(node: dict, step: dict | None, backward: bool) -> dict:
    role = node["role"]
    value = node["value"]
    if role == "constant":
        head = value.get("head")
        shown = _number(head[0]) if head and value["type"].endswith("[]") else "constant"
        lines = [shown, node["type"]]
    else:
        lines = [node["op"], node["type"]]
    if node.get("name") is not None:
        lines.append(f"'{node['name']}'")
    attrs = {"id": f"n{node['id']}", **STYLE.get(role, STYLE["operation"])}
    classes = []
    if node.get("level") or node.get("made_by") is not None:
        attrs.update(HIGHER_ORDER)
    if backward:
        if step is not None:
            lines.append(f"|g| {_number(step['outgrad'].get('norm', 0.0))}" if "items" not in step["outgrad"]
                         else "g " + step["outgrad"]["type"])
            fan_in = len(step["arrived"])
            if fan_in > 1:
                lines.insert(0, f"+ sum of {fan_in}")
                attrs["peripheries"] = "2"
        elif role != "constant":
            classes.append("gv-nograd")
            attrs.update(FADED)
    if node.get("faded"):
        classes.append("gv-faded")
        attrs.update(FADED)
    if any(note.get("status") == "fail" for note in node.get("annotations", ())):
        classes.append("gv-fail")
        attrs.update(FAIL)
    if classes:
        attrs["class"] = " ".join(classes)
    attrs["label"] = _text(*lines)
    return attrs


def _flow_style(norm: float | None, scale: tuple[float, float], label: str | None) -> dict:
    """Edge width and colour from log10 of the norm sent along it (relative to the graph's range)."""
    if norm is None:
        return {"color": "#d0d0d0", "style": "dotted", "dir": "back"}
    if not math.isfinite(norm):
        return {"color": "#d50000", "penwidth": "3", "dir": "back", "style": "bold",
                "label": f"{label + ': ' if label else ''}{_number(norm)}"}
    if norm == 0:
        return {"color": "#bdbdbd", "style": "dashed", "dir": "back",
                "label": f"{label + ': ' if label else ''}0"}
    lo, hi = scale
    t = 0.5 if hi <= lo else (math.log10(norm) - lo) / (hi - lo)
    t = min(max(t, 0.0), 1.0)
    colour = EDGE_SCALE[min(int(t * len(EDGE_SCALE)), len(EDGE_SCALE) - 1)]
    return {"color": colour, "penwidth": f"{0.6 + 4.4 * t:.2f}", "dir": "back",
            "label": f"{label + ': ' if label else ''}{_number(norm)}"}


def render(trace: Any, path: str | os.PathLike, view: str = "forward", format: str | None = None,
           **options: Any) -> str:
    """Write the graph to ``path`` with the system Graphviz ``dot``; the format from the suffix unless given.

    Raises RuntimeError saying how to install Graphviz when ``dot`` is missing.
    """
    path = os.fspath(path)
    fmt = (format or os.path.splitext(path)[1].lstrip(".")).lower()
    if not fmt:
        raise ValueError(f"render: can't tell the format of {path!r}; give it a suffix (.svg, .png, .pdf) or "
                         "format=")
    if shutil.which("dot") is None:
        raise RuntimeError(INSTALL_HINT.format(fmt=fmt.upper()))
    graph = to_dot(trace, view=view, **options)
    try:
        data = graph.pipe(format=fmt)
    except graphviz.ExecutableNotFound as error:
        raise RuntimeError(INSTALL_HINT.format(fmt=fmt.upper())) from error
    except graphviz.CalledProcessError as error:
        detail = (error.stderr or b"").decode(errors="replace").strip()
        raise RuntimeError(f"Graphviz dot failed to write {fmt}: {detail}") from error
    with open(path, "wb") as out:
        out.write(data)
    return path
