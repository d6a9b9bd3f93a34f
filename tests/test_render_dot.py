"""DOT from a trace (forward and backward views, collapse, higher order, hostile labels) and files from real dot."""

import json
import re
import shutil
import subprocess
import xml.etree.ElementTree as ET

import graphviz
import numpy as onp
import pytest

import gradviz
import gradviz.numpy as np
from gradviz.render.dot import HUB, render, to_dot
from gradviz.render.model import FANOUT, view_model, view_model_wire

SVG = "{http://www.w3.org/2000/svg}"
DOT = shutil.which("dot") or "dot"  # the system Graphviz (CI installs it); these tests need it


def svg_of(graph):
    """The SVG root, laid out by the real dot."""
    out = subprocess.run([DOT, "-Tsvg"], input=graph.source.encode(), capture_output=True, check=True)
    return ET.fromstring(out.stdout)


def svg_items(root, kind):
    """{id: [text lines]} of the SVG's g elements of class ``kind`` ("node", "edge", "cluster")."""
    return {g.get("id"): [t.text or "" for t in g.iter(f"{SVG}text")]
            for g in root.iter(f"{SVG}g") if kind in (g.get("class") or "").split()}


def statements(graph):
    """{dot id: attribute text} of the node statements in the DOT source."""
    found = {}
    for line in graph.source.splitlines():
        match = re.match(r"\s*(n\d+|g\d+) \[(.*)\]$", line)
        if match:
            found[match.group(1)] = match.group(2)
    return found


def edge_attrs(graph):
    found = {}
    for line in graph.source.splitlines():
        match = re.match(r"\s*(\S+) -> (\S+) \[(.*)\]$", line)
        if match:
            attrs = dict(re.findall(r'(\w+)=("[^"]*"|\S+)', match.group(3)))
            found[attrs["id"]] = {key: value.strip('"') for key, value in attrs.items()}
    return found


def small_trace():
    def f(x):
        a = np.sin(x)
        b = np.cos(x)  # noqa: F841 (off the path: faded)
        c = a * 3.0
        return np.sum(c * x)

    return gradviz.trace(f, onp.array([0.2, 0.4, 0.6]))


def test_forward_view_nodes_ids_roles_and_argnum_labels():
    trace = small_trace()
    graph = to_dot(trace)
    assert isinstance(graph, graphviz.Digraph)
    nodes = statements(graph)
    assert sorted(nodes) == sorted(f"n{n.id}" for n in trace.nodes)  # all fit in the budget: no boxes
    by_op = {n.primitive.rsplit(".", 1)[-1] if n.primitive else n.role: n for n in trace.nodes}
    assert 'fillcolor="#c8e6c9"' in nodes[f"n{by_op['input'].id}"]  # input
    assert "peripheries=2" in nodes[f"n{by_op['sum'].id}"]  # output
    assert "dashed" in nodes[f"n{by_op['constant'].id}"]  # constant
    assert 'label="3\\nf64[]"' in nodes[f"n{by_op['constant'].id}"]  # a scalar constant shows its value
    assert "gv-faded" in nodes[f"n{by_op['cos'].id}"]
    assert all("gv-faded" not in nodes[f"n{by_op[op].id}"] for op in ("sin", "sum", "input", "constant"))
    edges = edge_attrs(graph)
    mul = [n for n in trace.nodes if n.primitive == "numpy.multiply"]
    a_times_3 = next(n for n in mul if n.parents == [(0, by_op["sin"].id)])
    assert edges[f"e{by_op['sin'].id}_{a_times_3.id}"]["label"] == "0"
    assert edges[f"e{by_op['constant'].id}_{a_times_3.id}"]["label"] == "1"
    assert "label" not in edges[f"e{by_op['input'].id}_{by_op['sin'].id}"]  # one parent: no argnum
    root = svg_of(graph)
    svg_nodes = svg_items(root, "node")
    assert sorted(svg_nodes) == sorted(nodes)
    assert svg_nodes[f"n{by_op['sin'].id}"] == ["sin", "f64[3]"]
    assert set(svg_items(root, "edge")) == set(edges)


def test_backward_view_width_and_colour_follow_the_norm_and_fan_in_is_marked():
    def f(x):
        a = np.sin(x)
        b = np.cos(x)
        return np.sum(a * 1000.0) + np.sum(b * 0.001)

    trace = gradviz.trace(f, onp.array([0.3, 0.7]))
    graph = to_dot(trace, view="backward")
    edges = edge_attrs(graph)
    sin = next(n for n in trace.nodes if n.primitive == "numpy.sin")
    cos = next(n for n in trace.nodes if n.primitive == "numpy.cos")
    x = next(n for n in trace.nodes if n.role == "input")
    big = edges[f"e{x.id}_{sin.id}"]  # sin's VJP sends 1000 cos(x) to x
    small = edges[f"e{x.id}_{cos.id}"]  # cos's sends -0.001 sin(x)
    assert float(big["penwidth"]) > float(small["penwidth"])
    assert big["color"] != small["color"]
    sent = {(s.parent, step.node): s.value.norm for step in trace.steps for s in step.sent}
    assert big["label"] == f"{sent[(x.id, sin.id)]:.3g}" and small["label"] == f"{sent[(x.id, cos.id)]:.3g}"
    nodes = statements(graph)
    assert "+ sum of 2" in nodes[f"n{x.id}"] and "peripheries=2" in nodes[f"n{x.id}"]  # x gets two arrivals
    assert "+ sum of" not in nodes[f"n{sin.id}"]
    svg_of(graph)  # lays out


def test_collapse_under_a_budget_and_expand():
    def layer(x, w):
        return np.tanh(x * w)

    def f(x):
        for _ in range(30):
            x = layer(x, 0.5)
        return x

    trace = gradviz.trace(f, 0.3)
    model = view_model(trace, budget=10)
    (loop,) = [g for g in model["groups"] if g["kind"] == "loop"]
    assert loop["collapsed"]
    graph = to_dot(trace, budget=10)
    nodes = statements(graph)
    assert f"g{loop['id']}" in nodes and 'label="loop ' in nodes[f"g{loop['id']}"]
    assert f"{loop['size']} nodes" in nodes[f"g{loop['id']}"]
    assert len(nodes) == 2  # the input and the box
    edges = edge_attrs(graph)
    x = next(n for n in trace.nodes if n.role == "input")
    assert set(edges) == {f"en{x.id}_g{loop['id']}"}  # 30 uses of x... one of them, deduplicated
    root = svg_of(graph)
    assert set(svg_items(root, "node")) == {f"n{x.id}", f"g{loop['id']}"}
    # expanding the loop shows its 30 calls as boxes in a cluster with the spec's ids
    opened = to_dot(trace, budget=10, expanded=[loop["id"]])
    assert f"subgraph cluster_g{loop['id']} {{" in opened.source
    assert len([k for k in statements(opened) if k.startswith("g")]) == 30
    clusters = svg_items(svg_of(opened), "cluster")
    assert f"g{loop['id']}" in clusters
    everything = to_dot(trace, expanded="all")
    assert sorted(statements(everything)) == sorted(f"n{n.id}" for n in trace.nodes)
    assert everything.source.count("subgraph cluster_g") == 31


def test_grad_of_grad_draws_the_inner_backward_nodes_in_vjp_clusters():
    def inner(x):
        return np.sum(np.tanh(x) * x)

    def f(x):
        return np.sum(gradviz.grad(inner)(x) ** 2)

    trace = gradviz.trace(f, onp.array([0.1, 0.5]))
    model = view_model(trace)
    vjps = [g for g in model["groups"] if g["kind"] == "vjp"]
    graph = to_dot(trace)
    nodes = statements(graph)
    for group in vjps:
        assert f"subgraph cluster_g{group['id']} {{" in graph.source
    for node in trace.nodes:
        if node.made_by is not None or node.level > 0:
            assert 'fillcolor="#ffe0b2"' in nodes[f"n{node.id}"]
        elif node.role == "operation" and node.on_path:
            assert 'fillcolor="#ffffff"' in nodes[f"n{node.id}"]
    clusters = svg_items(svg_of(graph), "cluster")
    assert {f"g{g['id']}" for g in vjps} <= set(clusters)
    assert any(any(line.startswith("VJP of %") for line in lines) for lines in clusters.values())


def test_failed_annotations_are_red():
    trace = small_trace()
    sin = next(n for n in trace.nodes if n.primitive == "numpy.sin")
    trace.annotations[sin.id] = [{"kind": "vjp-check", "status": "fail", "message": "x", "error": 1.0}]
    cos = next(n for n in trace.nodes if n.primitive == "numpy.cos")
    trace.annotations[cos.id] = [{"kind": "vjp-check", "status": "pass", "message": "ok", "error": 0.0}]
    nodes = statements(to_dot(trace))
    assert 'color="#d50000"' in nodes[f"n{sin.id}"] and "gv-fail" in nodes[f"n{sin.id}"]
    assert "#d50000" not in nodes[f"n{cos.id}"]


HOSTILE = 'a<b>&amp; "q" \\N \\l }{ ;\nline2 <!-- ]]>'


@pytest.mark.parametrize("view", ["forward", "backward"])
def test_hostile_tap_and_function_names_render_as_text(view, tmp_path):
    def helper(x):
        return np.exp(x)

    helper.__code__ = helper.__code__.replace(co_name=HOSTILE)  # the scope's (cluster's) name comes from here

    def f(x):
        y = gradviz.tap(np.sin(x), HOSTILE)
        return helper(y) * 2.0

    trace = gradviz.trace(f, 0.3)
    sin = next(n for n in trace.nodes if n.primitive == "numpy.sin")
    path = render(trace, tmp_path / "hostile.svg", view=view)
    root = ET.parse(path).getroot()
    nodes = svg_items(root, "node")
    assert nodes[f"n{sin.id}"][:2] == ["sin", "f64[]"]
    assert nodes[f"n{sin.id}"][2:4] == ["'" + HOSTILE.split("\n")[0], "line2 <!-- ]]>'"]
    clusters = svg_items(root, "cluster")
    (label,) = [lines for lines in clusters.values() if lines]
    assert label[0] == HOSTILE.split("\n")[0]
    assert label[1].replace("\xa0", " ").startswith("line2 <!-- ]]>  ")  # dot writes a double space with a nbsp


@pytest.mark.parametrize("suffix, magic", [(".svg", b"<?xml"), (".png", b"\x89PNG"), (".pdf", b"%PDF")])
def test_render_writes_files_with_dot(suffix, magic, tmp_path):
    trace = small_trace()
    path = tmp_path / f"graph{suffix}"
    assert trace.render(str(path)) == str(path)
    data = path.read_bytes()
    assert data.startswith(magic) and len(data) > 500
    other = tmp_path / "explicit.out"
    assert render(trace, other, view="backward", format=suffix[1:]) == str(other)
    assert other.read_bytes().startswith(magic)


def test_render_without_dot_says_how_to_install_it(tmp_path, monkeypatch):
    monkeypatch.setenv("PATH", str(tmp_path))  # no dot here
    trace = small_trace()
    with pytest.raises(RuntimeError) as error:
        render(trace, tmp_path / "graph.svg")
    message = str(error.value)
    assert "apt-get install graphviz" in message and "brew install graphviz" in message
    assert "conda install graphviz" in message and "save_html" in message
    assert not (tmp_path / "graph.svg").exists()
    assert isinstance(trace.to_dot(), graphviz.Digraph)  # building DOT needs no dot


def test_bad_arguments():
    trace = small_trace()
    with pytest.raises(ValueError, match="view"):
        to_dot(trace, view="sideways")
    with pytest.raises(ValueError, match="suffix"):
        render(trace, "no_suffix")


def test_a_100k_node_trace_model_and_first_view():
    def f(x):
        for _ in range(50_000):
            x = np.sin(x) * 1.0001
        return x

    trace = gradviz.trace(f, 0.3)
    model = view_model(trace)
    assert len(model["nodes"]) == 100_002 and len(model["steps"]) == len(trace.steps)
    (top,) = [g for g in model["groups"] if g["parent"] == 0]
    assert top["kind"] == "loop" and top["count"] == 50_000 and top["size"] == 100_001  # all but the input
    counts: dict[int, int] = {}
    for group in model["groups"]:
        if group["parent"] is not None:
            counts[group["parent"]] = counts.get(group["parent"], 0) + 1
    assert max(counts.values()) <= FANOUT  # a big loop is split into nested loop groups
    assert sum(g["kind"] == "iteration" for g in model["groups"]) == 50_000
    json.dumps(model, allow_nan=False)
    graph = to_dot(trace, model=model)
    nodes = statements(graph)
    assert 2 <= len(nodes) <= 300
    drawn = svg_items(svg_of(graph), "node")
    assert set(nodes) <= set(drawn)
    backward = to_dot(trace, view="backward", model=model)
    assert set(statements(backward)) == set(nodes)
    # the wire form (what the browser gets) draws the same graph, from a fraction of the JSON
    wire = view_model_wire(trace)
    assert to_dot(trace, model=wire).source == graph.source
    assert len(json.dumps(wire, allow_nan=False)) * 5 < len(json.dumps(model, allow_nan=False))


def test_a_hub_feeding_many_groups_keeps_a_few_edges_and_counts_the_rest():
    def f(x):
        for _ in range(30):
            x = np.sin(x) * 1.0001  # one constant (one float object) used by 30 iterations
        return x

    trace = gradviz.trace(f, 0.3)
    constant = next(n.id for n in trace.nodes if n.role == "constant")
    graph = to_dot(trace, expanded="all")
    edges = edge_attrs(graph)
    drawn = [key for key in edges if key.startswith(f"e{constant}_")]
    assert len(drawn) == HUB + 1  # the first iteration's multiply (same group) and HUB in other groups
    assert f'more_n{constant} [label="+{30 - 1 - HUB} more groups use this"' in graph.source
    assert len(statements(graph)) == len(trace.nodes)
    svg_of(graph)
