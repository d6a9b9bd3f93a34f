"""The five benchmarks: for each, one Case per library, then timing, checks and the targets."""

from __future__ import annotations

import json
import math
import subprocess
import sys
from collections.abc import Callable
from types import SimpleNamespace

import numpy as np
import problems as P
from harness import BENCH_DIR, NOISY, BenchResult, Case, Row, Settings, Target, describe_error, run_cases, skip_reason

MATH_NS = SimpleNamespace(sin=math.sin, tanh=math.tanh, exp=math.exp, log=math.log, arctanh=math.atanh,
                          arcsin=math.asin)  # the chain's primitives on plain floats
JAX_EAGER_NOTE = "eager jax.grad (no jit), so per-primitive dispatch is measured as for the others"


def _rng() -> np.random.Generator:
    return np.random.default_rng(0)


def _jax_array_cases(settings: Settings, make: Callable) -> Case:
    """A jitted JAX case, or a skipped one. ``make(lib)`` returns the thunk; compile time falls in the warm-up."""
    skip = skip_reason(settings, "jax")
    if skip:
        return Case("jax", "jax (jit)", skip=skip)
    try:
        thunk = make(settings.libs["jax"])
    except Exception as error:  # untested on this machine (no JAX here): report, don't crash the benchmark
        return Case("jax", "jax (jit)", skip=f"setup failed: {describe_error(error)}")
    return Case("jax", "jax (jit)", thunk=thunk, to_numpy=np.asarray,
                note="jitted; compilation happens in the first (untimed) call")


# --- 1. scalar chain -------------------------------------------------------------------------------------------

def scalar_chain_cases(settings: Settings, n: int) -> list[Case]:
    P.check_chain_length(n)
    x0 = P.CHAIN_X0
    cases = [Case("hand", "hand (python floats)", thunk=lambda: P.chain_grad_hand(x0, n))]
    for key in ("gradviz", "autograd"):
        skip = skip_reason(settings, key)
        if skip:
            cases.append(Case(key, key, skip=skip))
            continue
        lib = settings.libs[key]
        g = lib.grad(lambda x, m=lib.np: P.chain(m, x, n))
        cases.append(Case(key, key, thunk=lambda g=g: g(x0)))
    skip = skip_reason(settings, "torch")
    if skip:
        cases.append(Case("torch", "torch (eager)", skip=skip))
    else:
        torch = settings.libs["torch"].torch

        def torch_grad() -> float:
            x = torch.tensor(x0, dtype=torch.float64, requires_grad=True)
            (gx,) = torch.autograd.grad(P.chain(torch, x, n), x)
            return gx.item()

        cases.append(Case("torch", "torch (eager)", thunk=torch_grad, note="0-d float64 tensors"))
    skip = skip_reason(settings, "jax")
    if skip:
        cases.append(Case("jax", "jax (eager)", skip=skip))
    else:
        jax_lib = settings.libs["jax"]
        g = jax_lib.jax.grad(lambda x: P.chain(jax_lib.np, x, n))
        cases.append(Case("jax", "jax (eager)", thunk=lambda: float(g(x0)), note=JAX_EAGER_NOTE))
    return cases


def bench_scalar_chain(settings: Settings) -> BenchResult:
    n = 1000
    rows = run_cases(scalar_chain_cases(settings, n), settings, tol=1e-9)
    result = BenchResult(
        "scalar_chain", f"scalar chain: a Python float through {n:,} primitives, forward + backward",
        {"n": n, "block": "sin, *1.5, +0.25, tanh, exp, log, arctanh, +(-0.25), *(1/1.5), arcsin"},
        rows, unit=("us/prim", 1e6 / n))
    gv = result.row("gradviz")
    per_prim = gv.median * 1e6 / n if gv else None
    result.targets.append(Target("gradviz time per primitive", "<= 5 us",
                                 f"{per_prim:.3g} us" if gv else "-", per_prim <= 5 if gv else None))
    return result


# --- 2. MLP ----------------------------------------------------------------------------------------------------

def mlp_cases(settings: Settings) -> list[Case]:
    params, X, Y = P.mlp_data(_rng())
    cases = [Case("hand", "hand (numpy backprop)", thunk=lambda: P.mlp_grad_hand(params, X, Y))]
    for key in ("gradviz", "autograd"):
        skip = skip_reason(settings, key)
        if skip:
            cases.append(Case(key, key, skip=skip))
            continue
        lib = settings.libs[key]
        g = lib.grad(lambda p, m=lib.np: P.mlp_loss(m, p, X, Y))
        cases.append(Case(key, key, thunk=lambda g=g: g(params)))
    skip = skip_reason(settings, "torch")
    if skip:
        cases.append(Case("torch", "torch (eager)", skip=skip))
    else:
        torch = settings.libs["torch"].torch
        tparams = [torch.from_numpy(p).requires_grad_() for p in params]
        tX, tY = torch.from_numpy(X), torch.from_numpy(Y)

        def torch_grad():
            return torch.autograd.grad(P.mlp_loss_torch(torch, tparams, tX, tY), tparams)

        cases.append(Case("torch", "torch (eager)", thunk=torch_grad))

    def make_jax(lib):
        jparams = tuple(lib.np.asarray(p) for p in params)
        jX, jY = lib.np.asarray(X), lib.np.asarray(Y)
        g = lib.jax.jit(lib.jax.grad(lambda p: P.mlp_loss(lib.np, p, jX, jY)))
        return lambda: lib.jax.block_until_ready(g(jparams))

    cases.append(_jax_array_cases(settings, make_jax))
    cases[-1].to_numpy = lambda r: [np.asarray(a) for a in r]
    return cases


def bench_mlp(settings: Settings) -> BenchResult:
    sizes = "-".join(map(str, P.MLP_SIZES))
    rows = run_cases(mlp_cases(settings), settings, tol=1e-8)
    result = BenchResult(
        "mlp", f"3-layer tanh MLP {sizes}, batch {P.MLP_BATCH}, softmax cross-entropy: gradient of all weights "
        "and biases", {"dtype": "float64", "loss": "mean CE, log-sum-exp stabilised with the row max"}, rows)
    _require_checked(result, "gradviz", 1e-8)
    _ratio_target(result, "gradviz / hand-written backprop", 1.05)
    return result


def _require_checked(result: BenchResult, key: str, tol: float) -> None:
    """Say loudly when the hand-written gradient could not be verified against ``key`` (the brief requires it)."""
    row = next(r for r in result.rows if r.key == key)
    if row.check_ok is None:
        result.notes.append(f"the hand-written gradient could not be compared with {key} ({row.status}: "
                            f"{row.message}); it was compared with autograd instead")
    elif not row.check_ok:
        result.notes.append(f"{key} DISAGREES with the hand-written gradient by {row.rel_err:.2e} > {tol:g}")


def _ratio_target(result: BenchResult, what: str, limit: float) -> None:
    gv, hand = result.row("gradviz"), result.row("hand")
    if gv and hand:
        ratio = gv.median / hand.median
        result.targets.append(Target(what, f"<= {limit}x", f"{ratio:.3g}x", ratio <= limit))
    else:
        result.targets.append(Target(what, f"<= {limit}x", "-", None))


# --- 3. elementwise --------------------------------------------------------------------------------------------

def elementwise_cases(settings: Settings, n: int) -> list[Case]:
    x = _rng().standard_normal(n)
    cases = [
        Case("hand", "hand (numpy grad)", thunk=lambda: P.elementwise_grad_hand(x)),
        Case("hand_vg", "hand (value+grad)", thunk=lambda: P.elementwise_value_and_grad_hand(x),
             to_numpy=lambda r: r[1], note="also computes the value, as value_and_grad would"),
    ]
    for key in ("gradviz", "autograd"):
        skip = skip_reason(settings, key)
        if skip:
            cases.append(Case(key, key, skip=skip))
            continue
        lib = settings.libs[key]
        g = lib.grad(lambda x, m=lib.np: P.elementwise_loss(m, x))
        cases.append(Case(key, key, thunk=lambda g=g: g(x)))
    skip = skip_reason(settings, "torch")
    if skip:
        cases.append(Case("torch", "torch (eager)", skip=skip))
    else:
        torch = settings.libs["torch"].torch
        tx = torch.from_numpy(x).requires_grad_()
        cases.append(Case("torch", "torch (eager)", note=f"{torch.get_num_threads()} intra-op threads",
                          thunk=lambda: torch.autograd.grad(P.elementwise_loss(torch, tx), tx)[0]))

    def make_jax(lib):
        jx = lib.np.asarray(x)
        g = lib.jax.jit(lib.jax.grad(lambda x: P.elementwise_loss(lib.np, x)))
        return lambda: g(jx).block_until_ready()

    cases.append(_jax_array_cases(settings, make_jax))
    return cases


def bench_elementwise(settings: Settings) -> BenchResult:
    n = 1_000_000 if settings.quick else P.ELEMENTWISE_N
    rows = run_cases(elementwise_cases(settings, n), settings, tol=1e-10, repeats=3 if settings.quick else 5)
    result = BenchResult("elementwise", f"gradient of sum(tanh(x)**2 * exp(-x)), x float64[{n:,}]", {"n": n}, rows)
    if n != P.ELEMENTWISE_N:
        result.notes.append(f"--quick: {n:,} values instead of {P.ELEMENTWISE_N:,}")
    _ratio_target(result, "gradviz / hand-written gradient", 1.4)
    return result


# --- 4. Hessian ------------------------------------------------------------------------------------------------

def hessian_cases(settings: Settings) -> list[Case]:
    W, x = P.hessian_data(_rng())
    cases = [Case("hand", "hand (closed form)", thunk=lambda: P.hessian_hand(W, x))]
    for key in ("gradviz", "autograd"):
        skip = skip_reason(settings, key)
        if skip:
            cases.append(Case(key, key, skip=skip))
            continue
        lib = settings.libs[key]
        h = lib.hessian(P.hessian_fun(lib.np, W))
        cases.append(Case(key, f"{key}.hessian", thunk=lambda h=h: h(x)))
    skip = skip_reason(settings, "torch")
    if skip:
        cases.append(Case("torch", "torch hessian", skip=skip))
    else:
        torch = settings.libs["torch"].torch
        hessian = torch.autograd.functional.hessian
        f = P.hessian_fun_torch(torch, torch.from_numpy(W))
        tx = torch.from_numpy(x)
        cases.append(Case("torch", "torch hessian", thunk=lambda: hessian(f, tx)))
        cases.append(Case("torch_vec", "torch hessian(vectorize)", thunk=lambda: hessian(f, tx, vectorize=True),
                          note="torch.autograd.functional.hessian(..., vectorize=True) batches the VJPs with vmap"))

    def make_jax(lib):
        jW, jx = lib.np.asarray(W), lib.np.asarray(x)
        h = lib.jax.jit(lib.jax.hessian(P.hessian_fun(lib.np, jW)))
        return lambda: h(jx).block_until_ready()

    cases.append(_jax_array_cases(settings, make_jax))
    return cases


def bench_hessian(settings: Settings) -> BenchResult:
    rows = run_cases(hessian_cases(settings), settings, tol=1e-8)
    return BenchResult(
        "hessian", f"Hessian of f(x) = sum(tanh(W x)) + sum(x**4)/4, x in R^{P.HESSIAN_N}",
        {"W": f"{P.HESSIAN_N}x{P.HESSIAN_N} fixed"}, rows,
        notes=["no target set; the hand-written row is the closed form W^T diag(tanh''(Wx)) W + diag(3x^2)"])


# --- 5. 100,000-op chain: time and memory, one fresh process per library ---------------------------------------

MEMORY_METHOD = (
    "peak memory = VmHWM - VmRSS in a fresh process per library: after imports and a 1,000-op warm-up, the RSS "
    "high-water mark is reset (echo 5 > /proc/self/clear_refs) and read back after one 100k-op gradient; "
    "ru_maxrss deltas are recorded in the JSON as a cross-check")


def run_chain_child(lib: str, n: int, repeats: int, tracemalloc: bool) -> dict:
    """Run chain_child.py for one library and return its JSON report (or an error report)."""
    cmd = [sys.executable, str(BENCH_DIR / "chain_child.py"), "--lib", lib, "--n", str(n), "--repeats",
           str(repeats)]
    if tracemalloc:
        cmd.append("--tracemalloc")
    try:
        proc = subprocess.run(cmd, capture_output=True, text=True, timeout=900)
    except subprocess.TimeoutExpired:
        return {"status": "error", "message": "timed out after 900 s"}
    for line in reversed(proc.stdout.splitlines()):
        if line.startswith("RESULT "):
            return json.loads(line[len("RESULT "):])
    tail = (proc.stderr.strip().splitlines() or ["no output"])[-1]
    return {"status": "error", "message": f"child exited {proc.returncode}: {tail}", "stderr": proc.stderr[-4000:]}


def bench_chain100k(settings: Settings) -> BenchResult:
    n = 100_000
    repeats = 1 if settings.quick else 3
    tracemalloc = not settings.quick
    labels = {"hand": "hand (python floats)", "gradviz": "gradviz", "autograd": "autograd",
              "torch": "torch (eager)", "jax": "jax (eager)"}
    rows = []
    for key, label in labels.items():
        row = Row(key, label)
        rows.append(row)
        skip = "" if key == "hand" else skip_reason(settings, key)
        if skip:
            row.status, row.message = "skipped", skip
            continue
        report = run_chain_child(key, n, repeats, tracemalloc and key != "torch")
        row.status = report.get("status", "error")
        row.message = report.get("message", "")
        row.times = report.get("times_s", [])
        for name in ("peak_mb", "tracemalloc_peak_mb", "ru_maxrss_delta_mb", "rss_before_mb", "memory_method",
                     "grad", "stderr"):
            if name in report:
                row.extra[name] = report[name]
        if key == "torch" and row.status == "ok":
            row.extra["tracemalloc_peak_mb"] = "n/a"
    hand_row = next(r for r in rows if r.key == "hand")
    for row in rows:
        if row.status == "ok" and row is not hand_row and hand_row.status == "ok":
            err = abs(row.extra["grad"] - hand_row.extra["grad"]) / max(abs(hand_row.extra["grad"]), 1e-300)
            row.rel_err, row.check_ok = err, err <= 1e-8
            row.check = f"ok {err:.0e}" if row.check_ok else f"WRONG {err:.1e}"
        elif row is hand_row and row.status == "ok":
            row.check = "ref"
        if len(row.times) > 1 and row.median > NOISY * row.best:
            row.check += " (noisy)"
            row.extra["noisy"] = True
    result = BenchResult(
        "chain100k", f"scalar chain of {n:,} primitives, forward + backward, one fresh process per library",
        {"n": n, "repeats": repeats}, rows, unit=("us/prim", 1e6 / n),
        extra_cols=[("peak_mb", "peak MB", ".1f"), ("tracemalloc_peak_mb", "tracemalloc MB", ".1f")],
        notes=[MEMORY_METHOD, "tracemalloc peak counts Python allocations only (so not torch's); "
               "it is measured in a separate run" + (" (skipped with --quick)" if not tracemalloc else "")])
    gv = result.row("gradviz")
    result.targets.append(Target("gradviz wall time", "<= 0.6 s", f"{gv.median:.3g} s" if gv else "-",
                                 gv.median <= 0.6 if gv else None))
    peak = gv.extra.get("peak_mb") if gv else None
    result.targets.append(Target("gradviz peak memory", "<= 100 MB", f"{peak:.1f} MB" if peak is not None else "-",
                                 peak <= 100 if peak is not None else None))
    return result


# --- 6. recording overhead --------------------------------------------------------------------------------------

def _record_pair(settings: Settings, name: str, fun: Callable, x: object, to_numpy: Callable) -> list[Case]:
    """Plain gradviz.grad (as the reference, key "hand") and gradviz.trace of the same gradient."""
    skip = skip_reason(settings, "gradviz")
    if skip:
        return [Case("hand", f"{name}: grad (plain)", skip=skip), Case("gradviz", f"{name}: trace", skip=skip)]
    lib = settings.libs["gradviz"]
    return [Case("hand", f"{name}: grad (plain)", thunk=lambda: lib.grad(fun)(x)),
            Case("gradviz", f"{name}: trace", thunk=lambda: lib.module.trace(fun, x), to_numpy=to_numpy)]


def record_cases(settings: Settings) -> list[Case]:
    n = 1000
    gnp = settings.libs["gradviz"].np if "gradviz" in settings.libs else None
    return _record_pair(settings, f"chain {n}", lambda x: P.chain(gnp, x, n), P.CHAIN_X0,
                        lambda t: np.asarray(t.grad))


def record_mlp_cases(settings: Settings) -> list[Case]:
    params, X, Y = P.mlp_data(_rng())
    gnp = settings.libs["gradviz"].np if "gradviz" in settings.libs else None
    return _record_pair(settings, "mlp", lambda p: P.mlp_loss(gnp, p, X, Y), params,
                        lambda t: [np.asarray(a) for a in t.grad])


def bench_record(settings: Settings) -> BenchResult:
    """The cost of recording: gradviz.trace (forward graph, sites, scopes, summaries, backward steps) over grad."""
    chain_rows = run_cases(record_cases(settings), settings, tol=1e-12)
    mlp_rows = run_cases(record_mlp_cases(settings), settings, tol=1e-12)
    result = BenchResult(
        "record", "recording overhead: gradviz.trace against plain gradviz.grad of the same function "
        "(here 'x hand' means: relative to plain grad)", {"chain": 1000, "mlp": "as the mlp benchmark"},
        chain_rows + mlp_rows)
    for rows, what, limit in ((chain_rows, "trace / grad, scalar chain", 2.0), (mlp_rows, "trace / grad, MLP", 1.05)):
        plain, traced = rows[0], rows[1]
        if plain.times and traced.times and traced.status == "ok":
            ratio = traced.median / plain.median
            result.targets.append(Target(what, f"<= {limit}x", f"{ratio:.3g}x", ratio <= limit))
        else:
            result.targets.append(Target(what, f"<= {limit}x", "-", None))
    return result


def bench_render(settings: Settings) -> BenchResult:
    """The renderer's first view of a 100,000-node trace (bench/render.py)."""
    import render

    return render.bench_result(settings)


BENCHMARKS: dict[str, Callable[[Settings], BenchResult]] = {
    "scalar_chain": bench_scalar_chain,
    "mlp": bench_mlp,
    "elementwise": bench_elementwise,
    "hessian": bench_hessian,
    "chain100k": bench_chain100k,
    "record": bench_record,
    "render": bench_render,
}


def gradviz_case(name: str, settings: Settings, quick: bool) -> tuple[Callable[[], object], int]:
    """(the gradviz thunk of a benchmark, how many calls to profile) for --profile."""
    if name == "chain100k":
        return scalar_chain_cases(settings, 100_000)[1].thunk, 1
    makers = {
        "scalar_chain": (lambda: scalar_chain_cases(settings, 1000), 200),
        "mlp": (lambda: mlp_cases(settings), 10),
        "elementwise": (lambda: elementwise_cases(settings, 1_000_000 if quick else P.ELEMENTWISE_N), 3),
        "hessian": (lambda: hessian_cases(settings), 10),
    }
    make, calls = makers[name]
    case = next(c for c in make() if c.key == "gradviz")
    if case.skip:
        raise RuntimeError(case.skip)
    return case.thunk, calls


def forward_backward_split(name: str, settings: Settings, quick: bool) -> list[str]:
    """Lines of 'library: forward (trace) time, backward time' for the chain and elementwise benchmarks.

    Uses make_vjp, which both gradviz and autograd export, so the two halves of grad are timed apart; the plain
    NumPy / float forward pass is shown for scale.
    """
    import importlib

    from harness import fmt_time, time_thunk

    if name == "scalar_chain":
        x = P.CHAIN_X0
        fun = lambda m: lambda x: P.chain(m, x, 1000)  # noqa: E731
        plain = lambda: P.chain(MATH_NS, x, 1000)  # noqa: E731
    elif name == "elementwise":
        x = _rng().standard_normal(1_000_000 if quick else P.ELEMENTWISE_N)
        fun = lambda m: lambda x: P.elementwise_loss(m, x)  # noqa: E731
        plain = lambda: P.elementwise_loss(np, x)  # noqa: E731
    else:
        return []
    lines = []
    times, _ = time_thunk(plain, 5, 1, 0.05)
    lines.append(f"  plain forward, no AD: {fmt_time(min(times))}")
    for key in ("gradviz", "autograd"):
        if key not in settings.libs:
            continue
        make_vjp = importlib.import_module(key).make_vjp
        f = fun(settings.libs[key].np)
        fwd, _ = time_thunk(lambda f=f, make_vjp=make_vjp: make_vjp(f)(x), 5, 1, 0.05)
        vjp, ans = make_vjp(f)(x)
        bwd, _ = time_thunk(lambda vjp=vjp, ans=ans: vjp(np.ones_like(ans)), 5, 1, 0.05)
        lines.append(f"  {key}: forward (trace) {fmt_time(min(fwd))}, backward {fmt_time(min(bwd))} (best of 5)")
    return lines
