"""The view model: groups by call scope, loop folding, vjp groups, the budget, and strict JSON."""

import json

import numpy as onp
import pytest

import gradviz
import gradviz.numpy as np
from gradviz.render.model import view_model


def children(model, gid, kind=None):
    return [g for g in model["groups"] if g["parent"] == gid and (kind is None or g["kind"] == kind)]


def ancestors(model, gid):
    chain = []
    while gid is not None:
        chain.append(gid)
        gid = model["groups"][gid]["parent"]
    return chain


def visible_count(model):
    """Visible nodes + collapsed boxes, as the DOT and the widget draw the initial view."""
    groups = model["groups"]

    def open_(gid):
        return all(not groups[g]["collapsed"] for g in ancestors(model, gid))

    nodes = sum(1 for node in model["nodes"] if open_(node["group"]))
    boxes = sum(1 for g in groups if g["collapsed"] and open_(g["parent"]))
    return nodes + boxes


def strict_json(model):
    return json.loads(json.dumps(model, allow_nan=False))


def layer(x, w):
    return np.tanh(x * w)


def test_small_trace_nodes_match_the_record():
    def f(x):
        y = np.sin(x) * 2.0
        unused = np.cos(x)  # noqa: F841 (off the path to the output)
        return np.sum(y * x)

    trace = gradviz.trace(f, onp.array([0.1, 0.2, 0.3]))
    model = strict_json(view_model(trace))
    assert model["schema"] == "gradviz.view" and model["version"] == 1 and model["function"] == "f"
    assert [n["id"] for n in model["nodes"]] == [n.id for n in trace.nodes]
    assert all(g["id"] == i for i, g in enumerate(model["groups"]))
    assert model["groups"][0]["kind"] == "root" and model["groups"][0]["parent"] is None
    by_id = {n["id"]: n for n in model["nodes"]}
    for record in trace.nodes:
        node = by_id[record.id]
        assert node["role"] == record.role
        assert node["type"] == record.value.type_str()
        traced = [list(p) for p in record.parents]
        assert all(p in node["parents"] for p in traced)  # constants are drawn as parents as well
        if record.primitive:
            assert node["primitive"] == record.primitive and node["op"] == record.primitive.rsplit(".", 1)[-1]
        assert model["sites"][node["site"]]["line"] == record.site.line if record.site else "site" not in node
    cos = next(n for n in model["nodes"] if n["op"] == "cos")
    assert cos.get("faded") is True
    assert not any(n.get("faded") for n in model["nodes"] if n["op"] in ("sin", "multiply", "sum"))
    two = next(n for n in model["nodes"] if n["role"] == "constant")  # the 2.0 feeds a node on the path
    assert "faded" not in two
    mul = next(n for n in model["nodes"] if n["op"] == "multiply" and two["id"] in [p for _, p in n["parents"]])
    assert mul["parents"] == [[0, next(n["id"] for n in model["nodes"] if n["op"] == "sin")], [1, two["id"]]]
    assert mul["args"] == [f"%{mul['parents'][0][1]}", f"%{two['id']}"]
    assert model["levels"] == 1
    # the steps are the record's, in order
    assert [s["node"] for s in model["steps"]] == [s.node for s in trace.steps]
    for step, record in zip(model["steps"], trace.steps):
        assert [[a[0], a[1]] for a in step["arrived"]] == [[a.child, a.argnum] for a in record.arrived]
        assert [[s[0], s[1]] for s in step["sent"]] == [[s.argnum, s.parent] for s in record.sent]
        assert step["outgrad"]["norm"] == record.outgrad.norm
    x_node = next(n for n in model["nodes"] if n["role"] == "input")
    assert model["steps"][x_node["step"]]["node"] == x_node["id"]


@pytest.mark.filterwarnings("ignore:divide by zero:RuntimeWarning")
def test_summaries_are_strict_json_with_nonfinite_values_as_strings():
    def f(x):
        return np.sum(np.log(x))  # log(0) = -inf; its gradient 1/0 = inf

    trace = gradviz.trace(f, onp.array([0.0, 1.0, 2.0]))
    model = strict_json(view_model(trace))
    log = next(n for n in model["nodes"] if n["op"] == "log")
    assert log["value"]["min"] == "-inf" and log["value"]["inf"] == 1 and log["value"]["head"][0] == "-inf"
    assert log["value"]["max"] == onp.log(2.0)
    x = next(n for n in model["nodes"] if n["role"] == "input")
    sent = model["steps"][x["step"]]["outgrad"]
    assert sent["max"] == "inf" and sent["inf"] == 1 and "nan" not in sent


def test_a_loop_calling_a_function_50_times_is_one_loop_group_of_50_calls():
    def f(x):
        for _ in range(50):
            x = layer(x, 0.5)
        return x

    model = view_model(gradviz.trace(f, 0.3))
    loops = [g for g in model["groups"] if g["kind"] == "loop"]
    assert len(loops) == 1 and loops[0]["count"] == 50 and loops[0]["parent"] == 0
    calls = children(model, loops[0]["id"])
    assert len(calls) == 50 and all(c["kind"] == "call" and c["label"].startswith("layer ") for c in calls)
    assert "x50" in loops[0]["label"]
    # every call holds the multiply and the tanh it made (and the first one the shared constant 0.5)
    ops = [sorted(n["op"] for n in model["nodes"] if n["group"] == c["id"]) for c in calls]
    assert ops[0] == ["constant", "multiply", "tanh"] and all(o == ["multiply", "tanh"] for o in ops[1:])
    assert loops[0]["size"] == 101


def test_a_loop_of_lines_folds_into_iterations_with_a_count():
    def f(x):
        y = x * 1.5
        for _ in range(7):
            y = np.sin(y)
            y = y - 0.25
        return y * y

    model = view_model(gradviz.trace(f, 0.3))
    (loop,) = [g for g in model["groups"] if g["kind"] == "loop"]
    assert loop["count"] == 7 and loop["parent"] == 0
    iterations = children(model, loop["id"])
    assert [g["kind"] for g in iterations] == ["iteration"] * 7
    assert [g["label"] for g in iterations] == [f"iteration {k}" for k in range(1, 8)]
    for k, it in enumerate(iterations):
        ops = [n["op"] for n in model["nodes"] if n["group"] == it["id"]]
        assert sorted(ops) == (["constant", "sin", "subtract"] if k == 0 else ["sin", "subtract"])
    outside = sorted(n["op"] for n in model["nodes"] if n["group"] == 0)
    assert outside == ["constant", "input", "multiply", "multiply"]  # x * 1.5 and y * y stay outside the loop


def test_a_one_line_loop_and_a_nested_loop():
    def f(x):
        for _ in range(10):
            x = np.sin(x) * 1.01
        for _ in range(3):
            for _ in range(4):
                x = np.cos(x)
            x = x + 1.0
        return x

    model = view_model(gradviz.trace(f, 0.3))
    top = children(model, 0, "loop")
    assert [g["count"] for g in top] == [10, 3]
    outer = top[1]
    iterations = children(model, outer["id"])
    assert len(iterations) == 3
    for it in iterations:
        (inner,) = children(model, it["id"], "loop")
        assert inner["count"] == 4
        assert [n["op"] for n in model["nodes"] if n["group"] == inner["id"]] == ["cos"] * 4


def test_two_calls_on_one_line_that_differ_are_not_a_loop():
    def f(x):
        y = np.sin(x) + np.sin(x * 2.0)  # sin twice on one line, but no repeated body
        return y

    model = view_model(gradviz.trace(f, 0.3))
    assert [g["kind"] for g in model["groups"]] == ["root"]


def test_nested_scopes_and_recursion():
    def inner(x):
        return np.exp(x)

    def middle(x):
        return inner(x) * 2.0

    def down(x, n):
        return x if n == 0 else down(np.sin(x), n - 1)

    def f(x):
        return middle(x) + down(x, 5)

    trace = gradviz.trace(f, 0.3)
    model = view_model(trace)
    groups = model["groups"]
    exp = next(n for n in model["nodes"] if n["op"] == "exp")
    chain = [groups[g]["label"].split()[0] for g in ancestors(model, exp["group"])]
    assert chain == ["inner", "middle", "f"]
    sins = [n for n in model["nodes"] if n["op"] == "sin"]
    depths = [len(ancestors(model, n["group"])) for n in sins]
    assert depths == [2, 3, 4, 5, 6]  # each recursive call one group deeper (f, then down, down, ...)
    assert all(groups[n["group"]]["kind"] == "call" for n in sins)
    # one call group per scope that made nodes, nested like the scopes
    scope_functions = sorted(s.function for s in trace.scopes if s.parent is not None)
    call_labels = sorted(g["label"].split()[0] for g in groups if g["kind"] == "call")
    assert call_labels == scope_functions == sorted(["inner", "middle"] + ["down"] * 5)


def test_grad_of_grad_nodes_go_in_vjp_groups_under_their_forward_node():
    def inner(x):
        return np.sum(np.tanh(x) * x)

    def f(x):
        g = gradviz.grad(inner)(x)
        return np.sum(g * g)

    trace = gradviz.trace(f, onp.array([0.1, 0.5]))
    model = strict_json(view_model(trace))
    assert model["levels"] == 2
    vjps = [g for g in model["groups"] if g["kind"] == "vjp"]
    assert vjps
    made = [n for n in model["nodes"] if n.get("made_by") is not None]
    assert made and all(model["groups"][n["group"]]["kind"] == "vjp" for n in made)
    by_id = {n["id"]: n for n in model["nodes"]}
    for group in vjps:
        maker = by_id[group["made_by"]]
        assert group["parent"] == maker["group"]
        assert group["label"] == f"VJP of %{maker['id']} {maker['op']}"
        members = [n for n in model["nodes"] if n["group"] == group["id"] and n["role"] != "constant"]
        assert members and all(n["made_by"] == group["made_by"] for n in members)
    assert any(n.get("level") == 1 for n in model["nodes"])
    assert {r.made_by for r in trace.nodes if r.made_by is not None} == {g["made_by"] for g in vjps}


def test_the_budget_collapses_breadth_first():
    def f(x):
        for _ in range(40):
            x = layer(x, 0.5)
        for _ in range(3):
            x = np.sin(x)
        return x

    trace = gradviz.trace(f, 0.3)
    roomy = view_model(trace, budget=10_000)
    assert not any(g["collapsed"] for g in roomy["groups"])
    for budget in (5, 12, 30, 60, 100):
        model = view_model(trace, budget=budget)
        assert model["budget"] == budget and not model["groups"][0]["collapsed"]
        assert visible_count(model) <= max(budget, 4)  # root's own nodes and boxes are always shown
        for group in model["groups"]:  # a group is open only if its parent is
            if not group["collapsed"] and group["parent"] is not None:
                assert not model["groups"][group["parent"]]["collapsed"]
    tight = view_model(trace, budget=12)
    (loop,) = [g for g in tight["groups"] if g["kind"] == "loop" and g["count"] == 40]
    assert loop["collapsed"]  # 40 call boxes do not fit in 12
    (small,) = [g for g in tight["groups"] if g["kind"] == "loop" and g["count"] == 3]
    assert not small["collapsed"]  # the 3-iteration loop does
    wide = view_model(trace, budget=60)
    assert not next(g for g in wide["groups"] if g.get("count") == 40)["collapsed"]
    calls = [g for g in wide["groups"] if g["kind"] == "call"]
    opened = [g for g in calls if not g["collapsed"]]
    assert 0 < len(opened) < 40 and opened == calls[:len(opened)]  # breadth-first, in order, while they fit
    assert visible_count(wide) + 1 > 60  # opening the next call (two nodes for its box) would not fit


def test_annotations_are_carried_per_node():
    trace = gradviz.trace(lambda x: np.sum(np.sin(x)), onp.ones(2))
    sin = next(n for n in trace.nodes if n.primitive == "numpy.sin")
    note = {"kind": "vjp-check", "status": "fail", "message": "bad", "error": float("nan")}
    trace.annotations[sin.id] = [note]
    model = strict_json(view_model(trace))
    node = next(n for n in model["nodes"] if n["id"] == sin.id)
    assert node["annotations"] == [{"kind": "vjp-check", "status": "fail", "message": "bad", "error": "nan"}]
    assert sum("annotations" in n for n in model["nodes"]) == 1


def test_a_json_trace_gives_the_same_model():
    def f(x):
        for _ in range(5):
            x = layer(x, 0.3)
        return np.sum(x)

    trace = gradviz.trace(f, onp.array([0.2, 0.4]))
    again = gradviz.Trace.from_json(trace.to_json())
    assert strict_json(view_model(again)) == strict_json(view_model(trace))


# --- the wire form (docs/view-schema.md) and its decoder in the browser (js/src/decode.js)

def _wire_cases():
    """Traces that use every part of the wire form: calls and loops, constants, kwargs and repr arguments, a tap
    name with markup, non-finite values, containers, a fan-in, grad of grad, annotations."""
    def loop(x):
        for _ in range(4):
            x = layer(x, 0.5)
        return np.sum(gradviz.tap(x * 2.0, 'h</script> "q"') ** 2)

    def awkward(x):
        parts = np.split(x, 2)  # a container value
        y = np.sum(np.log(x), axis=0, keepdims=True)  # log(0) = -inf, and a kwarg
        return np.sum(parts[0] * parts[1]) + np.sum(y) + np.sum(x * x)

    def inner(x):
        return np.sum(np.tanh(x) * x)

    def outer(x):
        g = gradviz.grad(inner)(x)
        return np.sum(g * g)

    def scalar(x):
        for _ in range(30):
            x = np.sin(x) * 1.0001 + 0.0
        return x * 0.0 + x  # zero-valued scalars (-0.0 and 0.0 print differently)

    annotated = gradviz.trace(loop, onp.array([0.2, -0.4]))
    annotated.annotations[3] = [{"kind": "vjp-check", "status": "fail", "message": "bad", "error": float("inf")}]
    with onp.errstate(divide="ignore"):
        awkward_trace = gradviz.trace(awkward, onp.array([0.0, 1.0, 2.0, 3.0]))
    return {"loop": annotated, "awkward": awkward_trace, "grad_of_grad": gradviz.trace(outer, onp.array([0.1, 0.5])),
            "scalar": gradviz.trace(scalar, 0.3), "from_json": gradviz.Trace.from_json(annotated.to_json())}


@pytest.mark.filterwarnings("ignore:divide by zero:RuntimeWarning")
def test_the_browser_decoder_expands_the_wire_form_into_the_python_object_form(tmp_path):
    """js/src/decode.js turns view_model_json(trace) into exactly view_model(trace), for every case and budget."""
    import shutil
    import subprocess
    from pathlib import Path

    from gradviz.render.model import expand, view_model_json

    assert shutil.which("node"), "Node.js runs the widget's decoder"
    decode = (Path(__file__).resolve().parents[1] / "js" / "src" / "decode.js").as_uri()
    names = []
    for name, trace in _wire_cases().items():
        for budget in (300, 6):
            wire = view_model_json(trace, budget=budget)
            rich = view_model(trace, budget=budget)
            assert json.loads(wire)["version"] == 2 and rich["version"] == 1
            assert expand(json.loads(wire)) == strict_json(rich)  # Python's expand agrees (through JSON too)
            (tmp_path / f"{name}-{budget}.wire.json").write_text(wire, encoding="utf-8")
            (tmp_path / f"{name}-{budget}.rich.json").write_text(json.dumps(rich, allow_nan=False), encoding="utf-8")
            names.append(f"{name}-{budget}")
    probe = f"""
import assert from "node:assert/strict";
import {{ readFileSync }} from "node:fs";
import {{ expandModel }} from {json.dumps(decode)};
const dir = process.argv[1];
for (const name of JSON.parse(process.argv[2])) {{
  const read = (kind) => JSON.parse(readFileSync(`${{dir}}/${{name}}.${{kind}}.json`, "utf8"));
  const rich = read("rich");
  assert.deepStrictEqual(expandModel(read("wire")), rich, name);
  assert.strictEqual(expandModel(rich), rich, "an object-form model is returned as it is");
  console.log("ok", name);
}}
"""
    run = subprocess.run(["node", "--input-type=module", "-e", probe, str(tmp_path), json.dumps(names)],
                         capture_output=True, text=True, timeout=60)
    assert run.returncode == 0, run.stderr[-3000:]
    assert run.stdout.split("\n")[:-1] == [f"ok {name}" for name in names]



def _documented():
    """{object: (required keys, optional keys)} from the tables of docs/view-schema.md."""
    from pathlib import Path

    text = (Path(__file__).resolve().parents[1] / "docs" / "view-schema.md").read_text(encoding="utf-8")
    sections = {"Top level": "top", "Groups": "groups", "Nodes": "nodes", "Steps": "steps"}
    out: dict[str, tuple[set, set]] = {}
    current = None
    for line in text.splitlines():
        if line.startswith("## "):
            current = next((key for title, key in sections.items() if line[3:].startswith(title)), None)
            if current:
                out[current] = (set(), set())
        elif current and line.startswith("| `"):
            cells = [cell.strip() for cell in line.strip("|").split("|")]
            key = cells[0].strip("`")
            out[current][0 if cells[1] == "yes" else 1].add(key)
    return out


@pytest.mark.filterwarnings("ignore:divide by zero:RuntimeWarning")
def test_every_wire_object_has_the_documented_keys():
    from gradviz.render.model import view_model_wire

    documented = _documented()
    assert set(documented) == {"top", "groups", "nodes", "steps"}
    seen_optional = set()
    for trace in _wire_cases().values():
        wire = strict_json(view_model_wire(trace))
        for name, obj in (("top", wire), ("groups", wire["groups"]), ("nodes", wire["nodes"]),
                          ("steps", wire["steps"])):
            required, optional = documented[name]
            assert required <= set(obj) <= required | optional, (name, set(obj) ^ required)
            seen_optional |= {(name, key) for key in set(obj) - required}
        # every column of one object has one entry per node / step / group
        n_nodes = len(wire["nodes"]["primitive"])
        assert len(wire["summaries"]) >= n_nodes
        for key in ("role", "group", "site", "parents_n"):
            assert len(wire["nodes"][key]) == n_nodes
        for key in ("label", "parent", "size", "collapsed"):
            assert len(wire["groups"][key]) == len(wire["groups"]["kind"])
        n_steps = len(wire["steps"]["node"])
        assert len(wire["steps"]["arrived_n"]) == len(wire["steps"]["sent_n"]) == n_steps
        assert len(wire["nodes"]["parents"]) == 2 * sum(wire["nodes"]["parents_n"])
        assert len(wire["steps"]["arrived"]) == 3 * sum(wire["steps"]["arrived_n"])
        assert len(wire["steps"]["sent"]) == 2 * sum(wire["steps"]["sent_n"])
    # the cases use most optional keys (so the documented ones are checked, not just allowed)
    assert {("nodes", "args"), ("nodes", "name"), ("nodes", "faded"), ("nodes", "level"), ("nodes", "made_by"),
            ("nodes", "annotations"), ("steps", "outgrad"), ("steps", "level"), ("groups", "site"), ("groups", "count"),
            ("groups", "made_by")} <= seen_optional


def test_the_wire_form_of_a_scalar_loop_is_numbers():
    """A finite float64 scalar's summary is the bare number; node i's value is summaries[i]; the j-th send is
    summaries[N + j]; an arrival refers to what the step before sent."""
    from gradviz.render.model import view_model_wire

    def chain(x):
        for _ in range(200):
            x = np.sin(x) * 1.0001
        return x

    trace = gradviz.trace(chain, 0.3)
    wire = strict_json(view_model_wire(trace))
    values = wire["summaries"]
    n = len(trace.nodes)
    assert values[:n] == [node.value.head[0] for node in trace.nodes]
    sends = [x for step in trace.steps for x in step.sent]
    assert values[n:n + len(sends)] == [x.value.head[0] for x in sends]
    assert wire["steps"]["sent"] == [v for x in sends for v in (x.argnum, x.parent)]
    arrived = wire["steps"]["arrived"]
    for k in range(1, len(trace.steps)):  # each arrival is the previous step's send (the seed comes first)
        assert arrived[3 * k + 2] == n + k - 1 and arrived[3 * k] == trace.steps[k - 1].node
    assert "outgrad" not in wire["steps"]  # every outgrad is its only arrival
    assert set(wire["nodes"]["primitive"]) == {-1, 0, 1} and wire["primitives"] == ["numpy.sin", "numpy.multiply"]
    assert len(json.dumps(wire)) * 5 < len(json.dumps(view_model(trace)))


def test_the_browser_gets_the_wire_form_for_a_big_trace(monkeypatch):
    from gradviz.render import model as model_module

    trace = gradviz.trace(lambda x: np.sum(np.sin(x) * x), onp.ones(3))
    assert model_module.browser_model(trace)["version"] == 1  # small: the object form
    monkeypatch.setattr(model_module, "COMPACT_FROM", 3)
    wire = model_module.browser_model(trace)
    assert wire["version"] == 2 and model_module.expand(wire) == view_model(trace)
    assert model_module.model_counts(wire) == model_module.model_counts(view_model(trace)) == (
        len(trace.nodes), len(trace.steps))


@pytest.mark.xdist_group("browser")  # one Chromium at a time on two cores (as the other browser tests)
def test_the_exported_page_shows_the_same_view_from_the_wire_form_as_from_the_object_form(tmp_path, monkeypatch):
    """The HTML export of a trace in both forms, in headless Chromium: the same drawn elements, the same steps
    highlighted, the same details panel, no JS errors."""
    from html.parser import HTMLParser

    from playwright.sync_api import sync_playwright

    from gradviz.render import model as model_module

    def f(W, x):
        h = x
        for _ in range(6):
            h = layer(W, h)
        return np.sum(gradviz.tap(h * 0.5, "h</script>") ** 2)

    trace = gradviz.trace(f, onp.eye(2) * 0.5, onp.array([1.0, -2.0]))

    class Scripts(HTMLParser):
        def __init__(self):
            super().__init__()
            self.json, self._in = None, False

        def handle_starttag(self, tag, attrs):
            self._in = tag == "script" and ("type", "application/json") in attrs

        def handle_data(self, data):
            if self._in and self.json is None:
                self.json = json.loads(data)

    pages = {}
    for form, threshold in (("wire", 1), ("object", 10**9)):
        monkeypatch.setattr(model_module, "COMPACT_FROM", threshold)
        path = tmp_path / f"{form}.html"
        trace.save_html(str(path), budget=12)
        parser = Scripts()
        parser.feed(path.read_text(encoding="utf-8"))
        assert parser.json["version"] == (2 if form == "wire" else 1)
        pages[form] = path

    seen = {}
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path="/usr/bin/chromium", args=[
            "--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update",
            "--disable-sync", "--no-first-run"])
        try:
            for form, path in pages.items():
                page = browser.new_page(viewport={"width": 1200, "height": 800})
                errors = []
                page.on("console", lambda m, errors=errors: errors.append(m.text) if m.type == "error" else None)
                page.on("pageerror", lambda e, errors=errors: errors.append(str(e)))
                page.goto(path.as_uri())
                page.wait_for_selector('div.gradviz[data-ready="1"]', timeout=30000)
                drawn = page.eval_on_selector_all("g.node", "els => els.map(e => e.id).sort()")
                for _ in range(3):
                    page.click('button[data-action="next"]')
                label = page.text_content("span.gradviz-step-label")
                current = page.eval_on_selector_all(".gv-current", "els => els.map(e => e.id)")
                page.click(f"g.node#{next(i for i in drawn if i.startswith('n'))}")
                details = page.text_content("div.gradviz-details")
                seen[form] = (drawn, label, current, details)
                assert errors == [], (form, errors)
                page.close()
        finally:
            browser.close()
    assert seen["wire"] == seen["object"]
    assert seen["wire"][1] == f"step 3 / {len(trace.steps)}" and len(seen["wire"][0]) > 3


def test_two_alike_nodes_on_one_line_or_two_calls_on_one_line_are_not_a_loop():
    def layer(x):
        return np.tanh(x)

    def energy(x):
        return np.sum(layer(layer(x))) + 0.5 * np.sum(x[1:] * x[:-1])

    def grad_along(x):
        return np.dot(gradviz.grad(energy)(x), onp.array([1.0, 0.0, -2.0, 0.5]))

    for fun in (energy, grad_along):
        model = view_model(gradviz.trace(fun, onp.array([0.3, -0.8, 1.1, 0.05])))
        assert [g for g in model["groups"] if g["kind"] == "loop"] == []


def test_a_loop_is_folded_with_its_iteration_count():
    def layer(x):
        return np.tanh(x)

    def twice(x):
        for _ in range(2):
            x = layer(x)
        return np.sum(x)

    def chain(x):
        for _ in range(10):
            x = np.sin(x) * 1.0001
        return x

    loops = [g for g in view_model(gradviz.trace(twice, onp.ones(2)))["groups"] if g["kind"] == "loop"]
    assert [g["count"] for g in loops] == [2]
    loops = [g for g in view_model(gradviz.trace(chain, 0.3))["groups"] if g["kind"] == "loop"]
    assert [g["count"] for g in loops] == [10]
