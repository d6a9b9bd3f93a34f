"""What the widget of a trace must show at first, computed in Python from the same trace (view model and DOT).

Imported by the export test, and by the lab test's notebook in its kernel (the test copies this file into the
JupyterLab root), which writes the result to JSON for the test to read.
"""

from __future__ import annotations

import json
import re
from typing import Any

HOSTILE = '<b>bold</b> & "quotes" \\ \n'
FAIL_MESSAGE = 'VJP <i>off</i> by 25% & "more"'
DEFAULT_BUDGET = 300  # what a Trace's own display uses
_NODE_STATEMENT = re.compile(r'^\s*"?((?:n|g)\d+)"?\s*\[', re.MULTILINE)


def annotate_fail(trace: Any) -> None:
    """A failed check on the second step's node, as the debugger writes it (the widget marks it gv-fail)."""
    trace.annotations[trace.steps[1].node] = [
        {"kind": "vjp-check", "status": "fail", "message": FAIL_MESSAGE, "error": 0.25}]


def drawn_ids(trace: Any, model: dict, expanded: Any = None) -> list[str]:
    """The DOT ids of the node statements of the Python DOT (``to_dot``) of ``model`` in an expansion state."""
    from gradviz.render.dot import to_dot

    drawn = _NODE_STATEMENT.findall(to_dot(trace, view="forward", model=model, expanded=expanded).source)
    if len(drawn) != len(set(drawn)):
        raise AssertionError(f"to_dot declares a node twice: {sorted(drawn)}")
    return drawn


def drawn_at_start(trace: Any, budget: int) -> tuple[dict, list[str]]:
    """The view model, and the DOT ids drawn in its initial state: "n<id>" per visible node, "g<gid>" per box."""
    from gradviz.render.model import view_model

    model = view_model(trace, budget=budget)
    groups = model["groups"]

    def open_chain(gid: int | None) -> bool:
        while gid is not None:
            if groups[gid]["collapsed"]:
                return False
            gid = groups[gid]["parent"]
        return True

    # What the view model's initial state shows: the nodes of open groups, a box per outermost collapsed group.
    shown = [f"n{node['id']}" for node in model["nodes"] if open_chain(node["group"])]
    shown += [f"g{g['id']}" for g in groups if g["collapsed"] and g["parent"] is not None and open_chain(g["parent"])]
    # The Python DOT of the same state must draw the same: node statements "n<id>" and "g<gid>" ("a -> b" are edges).
    drawn = drawn_ids(trace, model)
    if set(drawn) != set(shown):
        raise AssertionError(f"to_dot draws {sorted(set(drawn) - set(shown))} beyond the view model's initial state "
                             f"and leaves out {sorted(set(shown) - set(drawn))}")
    return model, drawn


def expected(trace: Any, budget: int) -> dict:
    model, drawn = drawn_at_start(trace, budget)
    boxes = [int(name[1:]) for name in drawn if name.startswith("g")]
    if not boxes:
        raise AssertionError(f"the scenario needs a collapsed group at budget {budget}; the view model has none")

    by_id = {node["id"]: node for node in model["nodes"]}
    drawn_nodes = {int(name[1:]) for name in drawn if name.startswith("n")}
    steps = [step.node for step in trace.steps]
    for node_id in steps[:3]:
        if node_id not in drawn_nodes:
            raise AssertionError(f"the scenario's first steps must be on visible nodes; n{node_id} is hidden")
    tapped = trace.find(HOSTILE).id
    if tapped not in drawn_nodes:
        raise AssertionError(f"the tapped node n{tapped} is not visible at budget {budget}")
    click = by_id[steps[1]]
    site = model["sites"][click["site"]]
    faded = sorted(i for i in drawn_nodes if by_id[i].get("faded"))
    if not faded:
        raise AssertionError("the scenario needs a visible node off the path to the output (faded)")
    groups = model["groups"]
    fail = [{"id": node["id"], "message": a["message"]} for node in model["nodes"]
            for a in node.get("annotations", ()) if a["status"] == "fail"]
    return {
        "visible_nodes": len(drawn),
        "collapsed_boxes": boxes,
        "root_nodes": sorted(i for i in drawn_nodes if by_id[i]["group"] == 0),
        "steps": steps[:3],
        "n_steps": len(trace.steps),
        "sent_by_step1": [sent.parent for sent in trace.steps[1].sent],
        "click": {"id": click["id"], "op": click["op"], "line": site["line"], "code": site["code"] or ""},
        "tapped": tapped,
        "default_visible": len(drawn_at_start(trace, DEFAULT_BUDGET)[1]),
        "faded": faded,
        "fail": fail,
        # after clicking the first box; after expand-all; after collapse-all (root's nodes and a box per child group)
        "after_expand": len(drawn_ids(trace, model, expanded=[boxes[0]])),
        "all_expanded": len(drawn_ids(trace, model, expanded="all")),
        "all_collapsed": sum(node["group"] == 0 for node in model["nodes"]) + sum(g["parent"] == 0 for g in groups),
    }


def dump(trace: Any, path: str, budget: int) -> None:
    with open(path, "w") as out:
        json.dump(expected(trace, budget), out)
