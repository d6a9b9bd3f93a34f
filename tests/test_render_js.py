"""The JS side's own unit tests (the DOT builder: escaping, collapsed-group edges, ids), run with node's test
runner, and the built bundle's shape as a module."""

from __future__ import annotations

import json
import shutil
import subprocess
from pathlib import Path

from gradviz.render.html import BUNDLE

JS = Path(__file__).resolve().parents[1] / "js"


def test_node_unit_tests_pass():
    assert shutil.which("node"), "Node.js is needed to build and test the widget"
    assert (JS / "node_modules" / "@hpcc-js" / "wasm-graphviz").is_dir(), "run `npm ci` in js/ (pip install does)"
    run = subprocess.run(["node", "--test", "test/"], cwd=JS, capture_output=True, text=True, timeout=120)
    assert run.returncode == 0, run.stdout[-4000:] + run.stderr[-2000:]
    assert "# fail 0" in run.stdout
    passed = int(next(line for line in run.stdout.splitlines() if line.startswith("# pass")).split()[2])
    assert passed >= 10


def test_bundle_is_valid_js_exporting_render_and_mount(tmp_path):
    copy = tmp_path / "widget.mjs"
    copy.write_text(BUNDLE.read_text(encoding="utf-8"), encoding="utf-8")
    check = subprocess.run(["node", "--check", str(copy)], capture_output=True, text=True, timeout=60)
    assert check.returncode == 0, check.stderr
    probe = ("const m = await import(process.argv[1]);"
             "console.log(typeof m.default.render, typeof m.mount, typeof m.buildDot);")
    run = subprocess.run(["node", "--input-type=module", "-e", probe, copy.as_uri()], capture_output=True, text=True,
                         timeout=60)
    assert run.returncode == 0, run.stderr
    assert run.stdout.split() == ["function", "function", "function"]


def test_bundle_lays_out_with_its_embedded_graphviz(tmp_path):
    """The Graphviz inside the bundle (WebAssembly in the file, nothing fetched) lays out the DOT it builds."""
    copy = tmp_path / "widget.mjs"
    copy.write_text(BUNDLE.read_text(encoding="utf-8"), encoding="utf-8")
    probe = """
const m = await import(process.argv[1]);
const model = {groups: [{id: 0, kind: "root", label: "f", parent: null, size: 2, collapsed: false}], sites: [],
  nodes: [{id: 0, op: "input", role: "input", type: "f64[2]", group: 0, parents: [], args: [], value: {}},
          {id: 1, op: "sin", role: "output", type: "f64[2]", group: 0, parents: [[0, 0]], args: ["%0"], value: {}}],
  steps: []};
const {dot} = m.buildDot(model, {view: "forward", collapsed: new Set()});
const gv = await m.loadGraphviz();
const svg = gv.dot(dot);
console.log([...svg.matchAll(/<g id="([^"]+)" class="(node|edge)"/g)].map((x) => x[1]).join(" "));
"""
    run = subprocess.run(["node", "--input-type=module", "-e", probe, copy.as_uri()], capture_output=True, text=True,
                         timeout=60)
    assert run.returncode == 0, run.stderr
    assert run.stdout.split() == ["n0", "n1", "e0_1"]


def _loop_trace():
    import numpy

    import gradviz
    import gradviz.numpy as np

    def layer(W, h):
        return np.tanh(np.dot(W, h))

    def model(W, x):
        h = x
        for _ in range(6):
            h = layer(W, h)
        return np.sum(gradviz.tap(h * 0.5, 'odd "name" \\ <b>') ** 2)

    rng = numpy.random.default_rng(0)
    return gradviz.trace(model, rng.normal(size=(3, 3)), rng.normal(size=3))


def test_js_and_python_dot_draw_the_same_elements_with_the_same_ids(tmp_path):
    """The widget's DOT builder and gradviz.render.dot.to_dot agree on the drawn nodes, boxes and clusters."""
    import re

    from gradviz.render.dot import to_dot
    from gradviz.render.model import view_model

    trace = _loop_trace()
    for budget in (300, 8):
        model = view_model(trace, budget=budget)
        (tmp_path / "model.json").write_text(json.dumps(model))
        probe = f"""
import {{ readFileSync }} from "node:fs";
import {{ buildDot, initialCollapsed }} from {json.dumps((JS / "src" / "dot.js").as_uri())};
const m = JSON.parse(readFileSync({json.dumps(str(tmp_path / "model.json"))}, "utf8"));
const r = buildDot(m, {{ view: "forward", collapsed: initialCollapsed(m) }});
console.log(JSON.stringify({{ nodes: r.visibleNodes.map((i) => "n" + i).concat(r.boxes.map((g) => "g" + g)),
  clusters: r.clusters.map((g) => "g" + g), edges: r.edges.map((e) => e.id) }}));
"""
        run = subprocess.run(["node", "--input-type=module", "-e", probe], capture_output=True, text=True, timeout=60)
        assert run.returncode == 0, run.stderr
        js = json.loads(run.stdout)
        source = to_dot(trace, view="forward", budget=budget).source
        py_nodes = re.findall(r'^\s*((?:n|g)\d+)\s*\[', source, re.MULTILINE)
        py_clusters = re.findall(r"subgraph cluster_(g\d+)", source)
        py_edges = re.findall(r'\bid="?(e[ng]?\d+_[ng]?\d+)"?', source)
        assert sorted(js["nodes"]) == sorted(py_nodes)
        assert sorted(js["clusters"]) == sorted(py_clusters)
        # Edge ids follow one rule. Between two nodes both draw every edge here (no hub is that big); Python
        # leaves out a constant's edges into boxes, so its box edges are some of the widget's.
        plain = re.compile(r"e\d+_\d+$")
        assert {e for e in py_edges if plain.match(e)} == {e for e in js["edges"] if plain.match(e)}
        assert {e for e in py_edges if not plain.match(e)} <= set(js["edges"])
        if budget == 8:
            assert any(name.startswith("g") for name in js["nodes"]), "the small budget collapses a group"
            assert any(not plain.match(e) for e in py_edges), "edges to and from boxes are compared"


def test_bundle_decodes_the_widgets_model_plain_and_zlib(tmp_path):
    """What the widget's JS reads from the traits: the bytes TraceWidget sends, compressed or not, give the model."""
    import zlib

    from render_fixtures import hostile_model

    model = hostile_model()
    data = json.dumps(model, ensure_ascii=False).encode("utf-8")
    (tmp_path / "plain.bin").write_bytes(data)
    (tmp_path / "zlib.bin").write_bytes(zlib.compress(data, 1))
    copy = tmp_path / "widget.mjs"
    copy.write_text(BUNDLE.read_text(encoding="utf-8"), encoding="utf-8")
    probe = """
import { readFileSync } from "node:fs";
const m = await import(process.argv[1]);
const view = (name) => {
  const b = readFileSync(process.argv[2] + "/" + name);
  return new DataView(b.buffer, b.byteOffset, b.byteLength);
};
const plain = await m.decodeModel(view("plain.bin"), "");
const packed = await m.decodeModel(view("zlib.bin"), "zlib");
console.log(JSON.stringify([plain, packed]));
"""
    run = subprocess.run(["node", "--input-type=module", "-e", probe, copy.as_uri(), str(tmp_path)],
                         capture_output=True, text=True, timeout=60)
    assert run.returncode == 0, run.stderr
    assert json.loads(run.stdout) == [model, model]
