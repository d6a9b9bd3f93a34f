"""The renderer's first view of a 100,000-node trace, timed phase by phase: Python's part and the browser's part.

    python bench/render.py                          # three 100k-node workloads, 3 fresh traces each
    python bench/render.py --nodes 20000 --repeats 1 --no-chromium --json out.json
    python bench/run.py --only render               # the same, inside the benchmark suite

What the widget and the HTML export do before the first view shows, in order:

Python (one process; a fresh trace per repeat, since a trace reads its records once):
  read      Trace.nodes / .steps: the records built from the recorder's notes on first read
  model     gradviz.render.model.view_model_wire (groups, loop folding, budget, the wire columns)
  json      json.dumps of the wire form (what the widget sends and the HTML export embeds)
The browser, under Node with the widget's own js/src code and Graphviz compiled to WebAssembly (bench/layout.mjs,
a fresh Node process per repeat, so the JIT is as cold as in a new page):
  parse     JSON.parse of that text
  decode    expandModel (js/src/decode.js): the wire form to the object form the widget reads
  dot       buildDot of the initial collapsed view (js/src/dot.js; it also indexes every step)
  layout    Graphviz (wasm) laying that DOT out
first view = Python + browser. Recording (gradviz.trace) is timed apart; so is the wasm module load (once per
page). With --chromium (the default when /usr/bin/chromium and playwright are there) the saved HTML file is also
opened in headless Chromium and timed from navigation start to div.gradviz[data-ready="1"] (the whole page: HTML
parse, bundle, wasm, JSON.parse, decode, mount, layout, SVG into the DOM). Also timed: save_html (model + JSON +
file) and TraceWidget (model + JSON + zlib, the trait). CPU time (process_time) of the Python part is shown
beside the wall time, as the machine is shared. Medians over the repeats; target: first view under 2 s.
"""

from __future__ import annotations

import argparse
import gc
import json
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

from harness import BENCH_DIR, REPO_DIR, BenchResult, Row, Settings, Target, use_repo_gradviz

WASM = REPO_DIR / "js" / "node_modules" / "@hpcc-js" / "wasm-graphviz"
CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update",
                 "--disable-sync", "--no-first-run"]
TARGET_S = 2.0
LABELS = {"record": "record (gradviz.trace, apart)", "read": "read records (Trace.nodes)",
          "model": "view_model_wire", "json": "json.dumps (wire form)", "python": "Python (read+model+json)",
          "python_cpu": "  Python CPU time (process_time)", "parse": "browser: JSON.parse",
          "decode": "browser: decode (expandModel)", "dot": "browser: buildDot (first view)",
          "layout": "browser: wasm layout", "browser": "browser (parse+decode+dot+layout)",
          "first_view": "FIRST VIEW (Python + browser)", "wasm_load": "wasm module load (once per page, apart)",
          "chromium": "Chromium: page load to data-ready", "python_chromium": "Python + Chromium page",
          "save_html": "save_html (whole call)", "widget": "TraceWidget(trace) (whole call)"}


def workloads(nodes: int) -> dict[str, Callable[[], object]]:
    """name -> a function that records a trace of about ``nodes`` nodes."""
    import numpy

    import gradviz
    import gradviz.numpy as np

    def chain(x):
        for _ in range(nodes // 2):  # sin and multiply per iteration
            x = np.sin(x) * 1.0001
        return x

    def cell(x, w):
        return np.tanh(x * w) + x * 0.5  # four nodes per call (two multiplies, tanh, add)

    def calls(x):
        for _ in range(nodes // 4):
            x = cell(x, 0.9)
        return x

    rng = numpy.random.default_rng(0)
    W, b = rng.normal(size=(8, 8)) * 0.3, rng.normal(size=8) * 0.1

    def layer(W, b, h):
        return np.tanh(np.dot(W, h) + b)  # three nodes per call, (8,) arrays

    def mlp(W, b, x):
        h = x
        for _ in range(nodes // 3):
            h = layer(W, b, h)
        return np.sum(h * h)

    x0 = rng.normal(size=8)
    return {"scalar chain": lambda: gradviz.trace(chain, 0.3),
            "loop calling a function": lambda: gradviz.trace(calls, 0.3),
            "MLP layers on arrays": lambda: gradviz.trace(mlp, W, b, x0)}


def browser_node(model_path: Path) -> dict | None:
    """The browser's phases under Node (fresh process), or None when node or the wasm package is missing."""
    node = shutil.which("node")
    if node is None or not WASM.is_dir():
        return None
    proc = subprocess.run([node, str(BENCH_DIR / "layout.mjs"), "--model", str(model_path)], capture_output=True,
                          text=True, timeout=600)
    if proc.returncode != 0:
        raise RuntimeError(f"layout.mjs failed: {proc.stderr.strip()[-500:]}")
    report = json.loads(proc.stdout.strip().splitlines()[-1])
    return {"parse": report["parse_s"][0], "decode": report["decode_s"][0], "dot": report["dot_s"][0],
            "layout": report["layout_s"][0], "wasm_load": report["load_s"]}


def chromium_available() -> bool:
    try:
        import playwright.sync_api  # noqa: F401
    except ImportError:
        return False
    return CHROMIUM.exists()


def chromium_page(html_path: Path) -> float:
    """Seconds from navigation start to the widget's data-ready="1" in headless Chromium (a fresh browser)."""
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS, headless=True)
        try:
            page = browser.new_page(viewport={"width": 1200, "height": 800})
            errors: list[str] = []
            page.on("pageerror", lambda e: errors.append(str(e)))
            page.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
            page.goto(html_path.as_uri(), wait_until="commit")
            page.wait_for_selector('div.gradviz[data-ready="1"]', timeout=120_000)
            seconds = page.evaluate("() => performance.now()") / 1000
            if errors:
                raise RuntimeError(f"JS errors in the page: {errors[:3]}")
            return seconds
        finally:
            browser.close()


def first_view(record: Callable[[], object], workdir: Path, chromium: bool) -> dict:
    """One timed first view of a freshly recorded trace: seconds per phase, and what was drawn."""
    from gradviz.render.html import html_document
    from gradviz.render.model import model_counts, view_model_wire

    gc.collect()
    t0 = time.perf_counter()
    trace = record()
    t1 = time.perf_counter()
    cpu = time.process_time()
    trace.nodes  # noqa: B018 (builds the node and step records)
    t2 = time.perf_counter()
    wire = view_model_wire(trace)
    t3 = time.perf_counter()
    text = json.dumps(wire, allow_nan=False, ensure_ascii=False, separators=(",", ":"))
    t4 = time.perf_counter()
    cpu = time.process_time() - cpu
    times = {"record": t1 - t0, "read": t2 - t1, "model": t3 - t2, "json": t4 - t3, "python": t4 - t1,
             "python_cpu": cpu}
    model_path = workdir / "model.json"
    model_path.write_text(text, encoding="utf-8")
    browser = browser_node(model_path)
    if browser is not None:
        times.update(browser)
        times["browser"] = browser["parse"] + browser["decode"] + browser["dot"] + browser["layout"]
        times["first_view"] = times["python"] + times["browser"]
    if chromium:
        html_path = workdir / "view.html"
        html_path.write_text(html_document(wire, "bench"), encoding="utf-8")
        times["chromium"] = chromium_page(html_path)
        times["python_chromium"] = times["python"] + times["chromium"]
    nodes, steps = model_counts(wire)
    info = {"nodes": nodes, "steps": steps, "groups": len(wire["groups"]["kind"]),
            "collapsed": sum(wire["groups"]["collapsed"]), "json_mb": len(text.encode()) / 1e6}
    return {"times": times, "info": info}


def whole_calls(record: Callable[[], object], workdir: Path) -> dict:
    """save_html and TraceWidget on fresh traces (records not yet read), whole calls."""
    from gradviz.render.widget import TraceWidget

    trace = record()
    gc.collect()
    start = time.perf_counter()
    trace.save_html(str(workdir / "saved.html"))
    saved = time.perf_counter() - start
    trace = record()
    gc.collect()
    start = time.perf_counter()
    TraceWidget(trace)
    widget = time.perf_counter() - start
    return {"save_html": saved, "widget": widget}


def measure(nodes: int, repeats: int, chromium: bool, only: str | None = None) -> dict[str, dict]:
    """{workload: {"times": {phase: [s, ...]}, "info": {...}}}."""
    use_repo_gradviz()
    results = {}
    with tempfile.TemporaryDirectory() as tmp:
        for name, record in workloads(nodes).items():
            if only and only not in name:
                continue
            runs = [first_view(record, Path(tmp), chromium) for _ in range(repeats)]
            phases = {key: [run["times"][key] for run in runs] for key in runs[0]["times"]}
            for key, value in whole_calls(record, Path(tmp)).items():
                phases[key] = [value]
            results[name] = {"times": phases, "info": runs[0]["info"]}
    return results


def report(results: dict[str, dict]) -> str:
    lines = []
    for name, result in results.items():
        info = result["info"]
        lines.append(f"{name}: {info['nodes']:,} nodes, {info['steps']:,} steps, {info['groups']:,} groups "
                     f"({info['collapsed']:,} collapsed at first), wire JSON {info['json_mb']:.1f} MB")
        for key, values in result["times"].items():
            lines.append(f"  {LABELS.get(key, key):<42} median {statistics.median(values):7.3f} s   "
                         f"min {min(values):7.3f} s")
    return "\n".join(lines)


def bench_result(settings: Settings) -> BenchResult:
    """The suite's entry (python bench/run.py --only render): one row per phase and workload."""
    nodes = 20_000 if settings.quick else 100_000
    results = measure(nodes, 1 if settings.quick else 3, chromium=not settings.quick and chromium_available())
    rows = []
    targets = []
    for name, result in results.items():
        for key, values in result["times"].items():
            row = Row(f"{name}:{key}", f"{name}: {LABELS.get(key, key)}", times=values)
            row.check = ""
            rows.append(row)
        total = result["times"].get("first_view")
        if total:
            measured = statistics.median(total)
            targets.append(Target(f"{name}: first view", f"<= {TARGET_S} s", f"{measured:.3g} s",
                                  measured <= TARGET_S))
    return BenchResult("render", f"first view of a {nodes:,}-node trace: Python (read records + wire model + JSON) "
                       "+ browser (parse + decode + DOT + wasm layout)", {"nodes": nodes, "budget": 300}, rows,
                       targets=targets,
                       notes=["recording is timed apart and not counted; a fresh trace per repeat",
                              "browser phases under Node, a fresh process each; wasm module load apart"])


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--nodes", type=int, default=100_000, help="nodes per trace (default 100,000)")
    parser.add_argument("--repeats", type=int, default=3, help="fresh traces per workload (default 3)")
    parser.add_argument("--only", help="only the workloads whose name contains this")
    parser.add_argument("--no-chromium", action="store_true", help="skip the page load in headless Chromium")
    parser.add_argument("--json", type=Path, help="also write the timings as JSON")
    args = parser.parse_args(argv)
    results = measure(args.nodes, args.repeats, not args.no_chromium and chromium_available(), args.only)
    print(report(results))
    for name, result in results.items():
        total = result["times"].get("first_view")
        if total:
            verdict = "MET" if statistics.median(total) <= TARGET_S else "not met"
            print(f"target ({name}): first view <= {TARGET_S} s: {statistics.median(total):.3f} s {verdict}")
    if args.json:
        args.json.write_text(json.dumps(results, indent=2) + "\n")
        print(f"wrote {args.json}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
