"""The renderer's first view of a 100,000-node trace, timed phase by phase in one process.

    python bench/render.py                      # 100k nodes: a one-line scalar loop, and a loop calling a function
    python bench/render.py --nodes 200000 --repeats 3 --json out.json
    python bench/run.py --only render           # the same, inside the benchmark suite

Recording (gradviz.trace) is timed apart. The first view is: reading the records (Trace.nodes and .steps, built
from the recorder's notes on first read), the view model (gradviz.render.model.view_model, default budget), the
DOT of the initial collapsed view (gradviz.render.dot.to_dot(...).source), and the layout: the system ``dot -Tsvg``
on that DOT (process start included) and, when js/node_modules/@hpcc-js/wasm-graphviz is installed, Graphviz
compiled to WebAssembly under Node (bench/layout.mjs; its one-off module load is reported apart). Target: Python
+ layout under 2 s. Each repeat records a fresh trace (the records are built once per trace); medians are shown.
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
TARGET_S = 2.0
PHASES = ("read", "model", "dot", "layout_dot", "layout_wasm")
LABELS = {"record": "record (gradviz.trace, apart)", "read": "read records (Trace.nodes)",
          "model": "view_model", "dot": "to_dot (first view)", "layout_dot": "layout: dot -Tsvg",
          "layout_wasm": "layout: wasm (node)", "python": "Python (read+model+dot)",
          "python_cpu": "Python, CPU time (process_time)",
          "python_gc": "  of which the cyclic GC",
          "first_view": "first view (Python + dot layout)"}


def workloads(nodes: int) -> dict[str, Callable[[], object]]:
    """name -> a function that records a trace of about ``nodes`` nodes."""
    import gradviz
    import gradviz.numpy as np

    def chain(x):
        for _ in range(nodes // 2):  # sin and multiply per step
            x = np.sin(x) * 1.0001
        return x

    def cell(x, w):
        return np.tanh(x * w) + x * 0.5  # four nodes per call (two multiplies, tanh, add)

    def calls(x):
        for _ in range(nodes // 4):
            x = cell(x, 0.9)
        return x

    return {"one-line loop": lambda: gradviz.trace(chain, 0.3), "loop calling a function": lambda: gradviz.trace(
        calls, 0.3)}


def layout_wasm(dot_path: Path) -> tuple[float, float] | None:
    """(module load s, layout s) with Graphviz-wasm under Node, or None when node or the package is missing."""
    node = shutil.which("node")
    if node is None or not WASM.is_dir():
        return None
    proc = subprocess.run([node, str(BENCH_DIR / "layout.mjs"), str(dot_path)], capture_output=True, text=True,
                          timeout=600)
    if proc.returncode != 0:
        raise RuntimeError(f"layout.mjs failed: {proc.stderr.strip()[-500:]}")
    report = json.loads(proc.stdout.strip().splitlines()[-1])
    return report["load_s"], report["layout_s"][0]


class _CollectorTime:
    """A gc callback summing the time Python's cyclic collector runs (it visits every record made, later)."""

    def __init__(self) -> None:
        self.seconds, self._start = 0.0, 0.0

    def __call__(self, phase: str, info: dict) -> None:
        if phase == "start":
            self._start = time.perf_counter()
        else:
            self.seconds += time.perf_counter() - self._start


def first_view(record: Callable[[], object], workdir: Path) -> dict:
    """One timed first view of a freshly recorded trace: seconds per phase, and what was drawn."""
    from gradviz.render.dot import to_dot
    from gradviz.render.model import view_model

    gc.collect()
    t0 = time.perf_counter()
    trace = record()
    t1 = time.perf_counter()
    collector = _CollectorTime()
    gc.callbacks.append(collector)
    cpu = time.process_time()
    trace.nodes  # noqa: B018 (builds the node and step records)
    t2 = time.perf_counter()
    model = view_model(trace)
    t3 = time.perf_counter()
    source = to_dot(trace, model=model).source
    t4 = time.perf_counter()
    cpu = time.process_time() - cpu
    gc.callbacks.remove(collector)
    dot_path = workdir / "first_view.dot"
    dot_path.write_text(source)
    dot = shutil.which("dot")
    times = {"record": t1 - t0, "read": t2 - t1, "model": t3 - t2, "dot": t4 - t3}
    if dot is not None:
        t5 = time.perf_counter()
        subprocess.run([dot, "-Tsvg", str(dot_path), "-o", str(workdir / "first_view.svg")], check=True)
        times["layout_dot"] = time.perf_counter() - t5
    wasm = layout_wasm(dot_path)
    if wasm is not None:
        times["wasm_load"], times["layout_wasm"] = wasm
    times["python"] = times["read"] + times["model"] + times["dot"]
    times["python_cpu"] = cpu
    times["python_gc"] = collector.seconds
    if "layout_dot" in times:
        times["first_view"] = times["python"] + times["layout_dot"]
    collapsed = sum(g["collapsed"] for g in model["groups"])
    info = {"nodes": len(model["nodes"]), "steps": len(model["steps"]), "groups": len(model["groups"]),
            "collapsed": collapsed, "dot_statements": source.count("\n"), "dot_bytes": len(source)}
    return {"times": times, "info": info}


def measure(nodes: int, repeats: int) -> dict[str, dict]:
    """{workload: {"times": {phase: [s, ...]}, "info": {...}}}."""
    use_repo_gradviz()
    results = {}
    with tempfile.TemporaryDirectory() as tmp:
        for name, record in workloads(nodes).items():
            runs = [first_view(record, Path(tmp)) for _ in range(repeats)]
            phases = {key: [run["times"][key] for run in runs] for key in runs[0]["times"]}
            results[name] = {"times": phases, "info": runs[0]["info"]}
    return results


def report(results: dict[str, dict]) -> str:
    lines = []
    for name, result in results.items():
        info = result["info"]
        lines.append(f"{name}: {info['nodes']:,} nodes, {info['steps']:,} steps, {info['groups']:,} groups "
                     f"({info['collapsed']:,} collapsed at first), first-view DOT {info['dot_statements']} lines")
        for key, values in result["times"].items():
            label = LABELS.get(key, "wasm module load (once per page, apart)" if key == "wasm_load" else key)
            lines.append(f"  {label:<36} median {statistics.median(values):7.3f} s   min {min(values):7.3f} s")
    return "\n".join(lines)


def bench_result(settings: Settings) -> BenchResult:
    """The suite's entry (python bench/run.py --only render): one row per phase, for the loop-calling workload."""
    nodes = 20_000 if settings.quick else 100_000
    results = measure(nodes, 1 if settings.quick else 3)
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
    return BenchResult("render", f"first view of a {nodes:,}-node trace: read records + view model + DOT + layout",
                       {"nodes": nodes, "budget": 300}, rows, targets=targets,
                       notes=["recording is timed apart and not counted; a fresh trace per repeat",
                              "layout: dot -Tsvg includes starting the process; wasm excludes its module load"])


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--nodes", type=int, default=100_000, help="nodes per trace (default 100,000)")
    parser.add_argument("--repeats", type=int, default=3, help="fresh traces per workload (default 3)")
    parser.add_argument("--json", type=Path, help="also write the timings as JSON")
    args = parser.parse_args(argv)
    results = measure(args.nodes, args.repeats)
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
