"""What the browser tests share: the model they trace, the notebook they run, and the checks made on a widget.

The model is user code (one notebook cell, or a module file for the HTML export) with a loop of layer calls (a loop
group, collapsed at the start by a small budget), a function whose name is hostile markup and a node tapped with
the same name. Python computes what the page must show (gv_expected.py, from the same trace) and ``check_widget``
compares the page with it through the widget's DOM contract (docs in /work/notes/render-spec.md).
"""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import nbformat
from gv_expected import HOSTILE

HERE = Path(__file__).resolve().parent
EXPECTED_HELPER = HERE / "gv_expected.py"
BUDGET = 24  # small enough that the loop of layer calls starts collapsed
READY_TIMEOUT = 60_000  # ms for the first layout (kernel start, import, trace, Graphviz in WebAssembly)
STEP_TIMEOUT = 10_000

MODEL_CODE = '''\
import numpy
import gradviz
import gradviz.numpy as np

HOSTILE = '<b>bold</b> & "quotes" \\\\ \\n'


def layer(W, h):
    return np.tanh(np.dot(W, h))


def shrink(h):
    return np.sin(h) * 0.5


# A function whose name is markup, quotes, a backslash and a newline: it must show as text.
shrink.__code__ = shrink.__code__.replace(co_name=HOSTILE)
shrink.__name__ = shrink.__qualname__ = HOSTILE


def model(W, x):
    np.cos(W)  # off the path to the output: drawn faded
    h = x
    for _ in range(12):
        h = layer(W, h)
    h = gradviz.tap(shrink(h), HOSTILE)
    return np.sum(h ** 2)


rng = numpy.random.default_rng(0)
W = rng.normal(size=(3, 3)) * 0.5
x = rng.normal(size=3)
'''


def normalize(text: str) -> str:
    """Whitespace runs to one space: SVG text splits a label at its newlines."""
    return " ".join(text.split())


HOSTILE_TEXT = normalize(HOSTILE)  # '<b>bold</b> & "quotes" \\'


def write_notebook(path: Path, widget_expr: str = "w = trace.widget(budget=BUDGET)\nw") -> Path:
    """The lab test's notebook: the model, the trace (and what the page must show), the widget, the Trace shown."""
    cells = [
        nbformat.v4.new_code_cell(MODEL_CODE),
        nbformat.v4.new_code_cell(
            f"BUDGET = {BUDGET}\n"
            "trace = gradviz.trace(model, W, x)\n"
            "import gv_expected\n"
            "gv_expected.annotate_fail(trace)\n"
            "gv_expected.dump(trace, 'expected.json', budget=BUDGET)\n"
        ),
        nbformat.v4.new_code_cell(widget_expr),
        nbformat.v4.new_code_cell("trace  # a Trace displays itself as the widget (default budget)"),
    ]
    notebook = nbformat.v4.new_notebook(cells=cells, metadata={
        "kernelspec": {"name": "python3", "display_name": "Python 3", "language": "python"},
        "language_info": {"name": "python"},
    })
    nbformat.write(notebook, str(path))
    return path


def load_expected(path: Path) -> dict:
    return json.loads(Path(path).read_text())


# --- the page

def _root_state(root: Any) -> dict:
    return root.evaluate("""root => {
        const ids = sel => Array.from(root.querySelectorAll(sel)).map(e => e.id);
        return {
            ready: root.getAttribute('data-ready'),
            dataNodes: root.getAttribute('data-nodes'),
            domNodes: root.querySelectorAll('div.gradviz-graph svg g.node').length,
            current: ids('svg g.node.gv-current'),
            done: ids('svg .gv-done'),
            arrived: ids('svg .gv-arrived'),
            sent: ids('svg .gv-sent'),
            selected: ids('svg g.node.gv-selected'),
            label: (root.querySelector('span.gradviz-step-label') || {}).textContent || null,
        };
    }""")


def wait_layout(root: Any, timeout: int = STEP_TIMEOUT) -> None:
    """Until the widget says a layout is finished and the SVG holds as many nodes as it says."""
    root.page.wait_for_function("""root => root.getAttribute('data-ready') === '1'
        && root.querySelector('div.gradviz-graph svg') !== null
        && String(root.querySelectorAll('div.gradviz-graph svg g.node').length) === root.getAttribute('data-nodes')
    """, arg=root.element_handle(), timeout=timeout)


def relayout(root: Any, action: Any, timeout: int = STEP_TIMEOUT) -> None:
    """Run ``action`` (which makes the widget lay out again) and wait for that new layout to finish."""
    root.evaluate("root => root.setAttribute('data-ready', '0')")
    action()
    wait_layout(root, timeout)


def wait_current(root: Any, node_id: int) -> None:
    root.page.wait_for_function(
        """([root, id]) => {
            const current = root.querySelectorAll('svg g.node.gv-current');
            return current.length === 1 && current[0].id === id;
        }""", arg=[root.element_handle(), f"n{node_id}"], timeout=STEP_TIMEOUT)


def _marked(ids: list[str], node: int, parent: int, child: int) -> bool:
    """The class is on node ``node`` or on the edge parent -> child (ids "e3_12" or "en3_n12" both accepted)."""
    return bool({f"n{node}", f"e{parent}_{child}", f"en{parent}_n{child}"} & set(ids))


def check_widget(bp: Any, root: Any, expected: dict) -> None:
    """Every check of the DOM contract on one widget: count, stepping, details, view switch, hostile text, expand."""
    page = root.page
    wait_layout(root, READY_TIMEOUT)
    bp.screenshot("initial")

    # The graph shows the nodes (and collapsed boxes) the Python DOT of the same trace and budget has.
    state = _root_state(root)
    assert int(state["dataNodes"]) == expected["visible_nodes"], (state, expected["visible_nodes"])
    assert state["domNodes"] == expected["visible_nodes"]
    for gid in expected["collapsed_boxes"]:
        assert root.locator(f"svg g.node#g{gid}").count() == 1, f"collapsed group g{gid} has no box"
    for node_id in expected["root_nodes"]:
        assert root.locator(f"svg g.node#n{node_id}").count() == 1, f"node n{node_id} is not drawn"
    assert not state["current"], "a node is current before any step"
    for node_id in expected["faded"]:
        assert "gv-faded" in (root.locator(f"svg g.node#n{node_id}").get_attribute("class") or "").split(), \
            f"n{node_id} is off the path to the output but not gv-faded"
    for fail in expected["fail"]:
        assert "gv-fail" in (root.locator(f"svg g.node#n{fail['id']}").get_attribute("class") or "").split(), \
            f"n{fail['id']} has a failed check but is not gv-fail"

    # Stepping: the next button, ArrowRight/ArrowLeft with focus, the previous button and the slider.
    steps, n_steps = expected["steps"], expected["n_steps"]
    assert root.locator("input.gradviz-slider").get_attribute("max") == str(n_steps - 1)
    root.locator('button[data-action="next"]').click()
    wait_current(root, steps[0])
    label = root.locator("span.gradviz-step-label").text_content() or ""
    assert re.search(rf"/\s*{n_steps}\b", label), f"step label {label!r} does not say of {n_steps} steps"
    assert normalize(root.locator("div.gradviz-stepinfo").text_content() or ""), "the step info is empty"
    bp.screenshot("step1")

    root.focus()
    page.keyboard.press("ArrowRight")
    wait_current(root, steps[1])
    state = _root_state(root)
    assert f"n{steps[0]}" in state["done"], f"the first step's node is not shaded done: {state}"
    # steps[1] is the output's parent: the output's contribution arrives at it, and it sends to its own parent.
    assert _marked(state["arrived"], steps[0], steps[1], steps[0]), \
        f"no gv-arrived from n{steps[0]}: {state}"
    for parent in expected["sent_by_step1"]:
        assert _marked(state["sent"], parent, parent, steps[1]), \
            f"no gv-sent to n{parent}: {state}"
    assert state["label"] != label and re.search(rf"/\s*{n_steps}\b", state["label"] or ""), \
        f"step label {state['label']!r} after a second step (after the first: {label!r})"
    bp.screenshot("step2")

    page.keyboard.press("ArrowLeft")
    wait_current(root, steps[0])
    page.keyboard.press("ArrowRight")
    wait_current(root, steps[1])
    root.locator('button[data-action="prev"]').click()
    wait_current(root, steps[0])
    root.locator("input.gradviz-slider").evaluate(
        "s => { s.value = '2'; s.dispatchEvent(new Event('input', {bubbles: true})); }")  # fill() refuses ranges
    wait_current(root, steps[2])

    # Search by primitive marks the node.
    search = root.locator("input.gradviz-search")
    search.fill(expected["click"]["op"])
    root.page.wait_for_function("([root, id]) => root.querySelector('svg g.node#' + id + '.gv-match') !== null",
                                arg=[root.element_handle(), f"n{expected['click']['id']}"], timeout=STEP_TIMEOUT)
    search.fill("")

    # Clicking a node opens the details: its primitive, its source line and code.
    click = expected["click"]
    root.locator('button[data-action="fit"]').click()
    root.locator(f"svg g.node#n{click['id']}").click()
    details = root.locator("div.gradviz-details")
    details.wait_for(state="visible", timeout=STEP_TIMEOUT)
    text = normalize(details.text_content() or "")
    assert click["op"] in text, f"{click['op']!r} not in the details: {text!r}"
    assert f":{click['line']}" in text, f"line {click['line']} not in the details: {text!r}"
    assert normalize(click["code"]) in text, f"code {click['code']!r} not in the details: {text!r}"
    assert f"n{click['id']}" in _root_state(root)["selected"]
    for fail in expected["fail"]:
        if fail["id"] == click["id"]:
            assert normalize(fail["message"]) in text, f"the failed check is not in the details: {text!r}"
    bp.screenshot("details")

    # Hostile text: drawn and detailed as text, never as markup.
    tapped = root.locator(f"svg g.node#n{expected['tapped']}")
    assert HOSTILE_TEXT in normalize(tapped.text_content() or ""), \
        f"the tap name is not in node n{expected['tapped']}'s label: {tapped.text_content()!r}"
    svg_text = normalize(root.locator("div.gradviz-graph svg").text_content() or "")
    assert svg_text.count(HOSTILE_TEXT) >= 2, "the hostile function name (a call group's label) is not in the graph"
    tapped.click()
    page.wait_for_function("([d, s]) => d.textContent.split(/\\s+/).join(' ').includes(s)",
                           arg=[details.element_handle(), HOSTILE_TEXT], timeout=STEP_TIMEOUT)
    bold = page.evaluate("""() => Array.from(document.querySelectorAll('b'))
        .filter(b => b.textContent === 'bold').length""")
    assert bold == 0, "user text was parsed as markup: a <b>bold</b> element exists in the page"
    bp.screenshot("hostile")

    # The forward/backward switch.
    forward, backward = root.locator('button[data-action="forward"]'), root.locator('button[data-action="backward"]')
    assert "active" in (forward.get_attribute("class") or "").split()
    assert "active" not in (backward.get_attribute("class") or "").split()
    before = root.locator("div.gradviz-graph svg").inner_html()
    relayout(root, backward.click)
    assert "active" in (backward.get_attribute("class") or "").split()
    assert "active" not in (forward.get_attribute("class") or "").split()
    assert root.locator("div.gradviz-graph svg").inner_html() != before, "the backward view draws the same SVG"
    bp.screenshot("backward")
    relayout(root, forward.click)
    assert "active" in (forward.get_attribute("class") or "").split()

    # A collapsed group expands on click.
    gid = expected["collapsed_boxes"][0]
    count = int(_root_state(root)["dataNodes"])
    root.locator('button[data-action="fit"]').click()
    relayout(root, root.locator(f"svg g.node#g{gid}").click)
    grown = int(_root_state(root)["dataNodes"])
    assert grown > count, f"expanding g{gid} did not add nodes ({count} -> {grown})"
    assert grown == expected["after_expand"], f"{grown} nodes after expanding g{gid}; Python draws " \
        f"{expected['after_expand']}"
    assert root.locator(f"svg g.node#g{gid}").count() == 0, f"g{gid} is still a collapsed box"
    assert root.locator(f"svg g.cluster#g{gid}").count() == 1, f"expanded g{gid} is not a cluster"
    bp.screenshot("expanded")
    # Clicking the cluster's label collapses it again.
    relayout(root, root.locator(f"svg g.cluster#g{gid} text").first.click)
    assert int(_root_state(root)["dataNodes"]) == count
    assert root.locator(f"svg g.node#g{gid}").count() == 1, f"g{gid} is not a box again"
    relayout(root, root.locator('button[data-action="expand-all"]').click)
    assert int(_root_state(root)["dataNodes"]) == expected["all_expanded"]
    assert root.locator("svg g.node[id^='g']").count() == 0, "a box is left after expand-all"
    relayout(root, root.locator('button[data-action="collapse-all"]').click)
    assert int(_root_state(root)["dataNodes"]) == expected["all_collapsed"]
    bp.assert_no_errors()
