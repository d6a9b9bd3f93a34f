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
