"""Timing, checking, library loading, the environment header and the result table."""

from __future__ import annotations

import ctypes
import gc
import importlib
import importlib.metadata
import math
import os
import platform
import statistics
import subprocess
import sys
import time
import traceback
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import numpy as np

BENCH_DIR = Path(__file__).resolve().parent
REPO_DIR = BENCH_DIR.parent
AD_LIBS = ("gradviz", "autograd", "torch", "jax")


def use_repo_gradviz() -> None:
    """Import gradviz from this work tree even when it is not installed (or another copy is)."""
    if str(REPO_DIR) not in sys.path:
        sys.path.insert(0, str(REPO_DIR))


# --- libraries -------------------------------------------------------------------------------------------------

def _version(dist: str, module: Any = None) -> str:
    version = getattr(module, "__version__", None)
    if version:
        return str(version)
    try:
        return importlib.metadata.version(dist)
    except importlib.metadata.PackageNotFoundError:
        return "?"


def load_libraries(wanted: tuple[str, ...] = AD_LIBS) -> tuple[dict[str, SimpleNamespace], dict[str, str]]:
    """({key: namespace with np, grad, hessian, version}, {key: why it was skipped})."""
    libs: dict[str, SimpleNamespace] = {}
    skipped: dict[str, str] = {}
    for key in AD_LIBS:
        if key not in wanted:
            skipped[key] = "not selected (--libs)"
            continue
        try:
            libs[key] = _LOADERS[key]()
        except ImportError as error:
            skipped[key] = f"not installed ({error.__class__.__name__}: {error})"
        except Exception as error:  # a broken install is reported, not fatal
            skipped[key] = f"import failed: {error.__class__.__name__}: {error}"
    return libs, skipped


def _load_gradviz() -> SimpleNamespace:
    use_repo_gradviz()
    gradviz = importlib.import_module("gradviz")
    gnp = importlib.import_module("gradviz.numpy")
    return SimpleNamespace(np=gnp, grad=gradviz.grad, hessian=gradviz.hessian, module=gradviz,
                           version=_version("gradviz", gradviz),
                           path=str(Path(gradviz.__file__).parent))


def _load_autograd() -> SimpleNamespace:
    autograd = importlib.import_module("autograd")
    anp = importlib.import_module("autograd.numpy")
    return SimpleNamespace(np=anp, grad=autograd.grad, hessian=autograd.hessian,
                           version=_version("autograd", autograd))


def _load_torch() -> SimpleNamespace:
    torch = importlib.import_module("torch")
    return SimpleNamespace(torch=torch, version=torch.__version__, threads=torch.get_num_threads())


def _load_jax() -> SimpleNamespace:
    jax = importlib.import_module("jax")
    jax.config.update("jax_enable_x64", True)  # float64 like every other library here
    jnp = importlib.import_module("jax.numpy")
    return SimpleNamespace(jax=jax, np=jnp, grad=jax.grad, hessian=jax.hessian, version=jax.__version__,
                           backend=jax.default_backend())


_LOADERS = {"gradviz": _load_gradviz, "autograd": _load_autograd, "torch": _load_torch, "jax": _load_jax}


# --- rows, timing and checking ---------------------------------------------------------------------------------

@dataclass
class Case:
    """One library's way to compute the benchmark's derivative. ``thunk()`` does the whole job once."""

    key: str
    label: str
    thunk: Callable[[], Any] | None = None
    to_numpy: Callable[[Any], Any] | None = None  # result -> ndarray or tuple of ndarrays, for the check
    skip: str = ""
    note: str = ""


@dataclass
class Row:
    key: str
    label: str
    status: str = "ok"  # ok | skipped | error
    message: str = ""
    times: list[float] = field(default_factory=list)  # seconds per call, one per repeat
    number: int = 1  # calls per repeat
    check: str = ""
    check_ok: bool | None = None
    rel_err: float | None = None
    note: str = ""
    extra: dict[str, Any] = field(default_factory=dict)

    @property
    def median(self) -> float | None:
        return statistics.median(self.times) if self.times else None

    @property
    def best(self) -> float | None:
        return min(self.times) if self.times else None


@dataclass
class Target:
    what: str
    limit: str
    measured: str
    met: bool | None  # None: could not be measured


@dataclass
class BenchResult:
    name: str
    title: str
    params: dict[str, Any]
    rows: list[Row]
    unit: tuple[str, float] | None = None  # (column header, seconds -> unit factor) for a derived column
    extra_cols: list[tuple[str, str, str]] = field(default_factory=list)  # (extra key, header, format)
    targets: list[Target] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)

    def row(self, key: str) -> Row | None:
        for row in self.rows:
            if row.key == key and row.status == "ok" and row.times:
                return row
        return None


@dataclass
class Settings:
    quick: bool
    repeats: int
    warmup: int
    min_time: float  # a repeat loops the call until it lasts this long
    libs: dict[str, SimpleNamespace]
    skipped: dict[str, str]


NOISY = 1.3  # a median this much above the minimum marks a row as noisy (the machine was probably busy)


def calibrate(thunk: Callable[[], Any], warmup: int, min_time: float) -> int:
    """Run ``warmup`` calls and one timed call; return how many calls a repeat needs to last ``min_time``.

    Looping short calls makes the timer's resolution and the loop's overhead negligible.
    """
    for _ in range(warmup):
        thunk()
    gc.collect()
    start = time.perf_counter()
    thunk()
    once = time.perf_counter() - start
    return 1 if once >= min_time else min(100_000, math.ceil(min_time / max(once, 1e-7)))


def time_calls(thunk: Callable[[], Any], number: int) -> float:
    """Seconds per call over ``number`` calls, after gc.collect(); the collector stays enabled, as in real use."""
    gc.collect()
    start = time.perf_counter()
    for _ in range(number):
        thunk()
    return (time.perf_counter() - start) / number


def time_thunk(thunk: Callable[[], Any], repeats: int, warmup: int, min_time: float) -> tuple[list[float], int]:
    """Seconds per call for each of ``repeats`` repeats of one thunk, and the calls per repeat."""
    number = calibrate(thunk, warmup, min_time)
    return [time_calls(thunk, number) for _ in range(repeats)], number


def _fail(row: Row, error: BaseException) -> None:
    row.status, row.message = "error", describe_error(error)
    row.extra["traceback"] = traceback.format_exc()


def describe_error(error: BaseException) -> str:
    text = str(error).strip().splitlines()
    return f"{type(error).__name__}: {text[0] if text else ''}"


def as_arrays(value: Any) -> list[np.ndarray]:
    """Flatten a gradient (array, float, tensor, tuple or list of them) into a list of float64 arrays."""
    if isinstance(value, (tuple, list)):
        return [a for item in value for a in as_arrays(item)]
    if hasattr(value, "detach"):  # a torch tensor
        value = value.detach().cpu().numpy()
    return [np.asarray(value, dtype=np.float64)]


def rel_error(result: Any, reference: Any) -> float:
    """max over the arrays of max|result - reference| / max|reference| (absolute where the reference is 0)."""
    got, want = as_arrays(result), as_arrays(reference)
    if len(got) != len(want):
        return math.inf
    worst = 0.0
    for a, b in zip(got, want):
        if a.shape != b.shape:
            return math.inf
        if a.size == 0:
            continue
        scale = float(np.max(np.abs(b)))
        diff = float(np.max(np.abs(a - b)))
        worst = max(worst, diff / scale if scale > 0 else diff)
    return worst if not math.isnan(worst) else math.inf


def run_cases(cases: list[Case], settings: Settings, tol: float, *, repeats: int | None = None,
              min_time: float | None = None, check_only: tuple[str, ...] = ()) -> list[Row]:
    """Run each case once for its result, check the results, then time every case that worked, round-robin.

    The reference is the hand-written case (key "hand") if there is one, else autograd; the reference itself is
    checked against autograd when both exist, so a wrong hand-written gradient can't pass silently. Cases whose
    key is in ``check_only`` are checked but not timed.
    """
    rows: list[Row] = []
    results: dict[str, Any] = {}
    for case in cases:
        row = Row(case.key, case.label, note=case.note)
        rows.append(row)
        if case.skip:
            row.status, row.message = "skipped", case.skip
            continue
        try:
            result = case.thunk()
            results[case.key] = case.to_numpy(result) if case.to_numpy else result
        except Exception as error:
            _fail(row, error)
    ref_key = "hand" if "hand" in results else "autograd"
    for row in rows:
        if row.key not in results:
            continue
        other = "autograd" if row.key == ref_key else ref_key
        if other not in results or other == row.key:
            row.check = "ref" if row.key == ref_key else "no ref"
            continue
        err = rel_error(results[row.key], results[other])
        row.rel_err = err
        row.check_ok = err <= tol
        if row.key == ref_key:
            row.check = f"ref, ={other} {err:.0e}" if row.check_ok else f"REF WRONG vs {other} {err:.1e}"
        else:
            row.check = f"ok {err:.0e}" if row.check_ok else f"WRONG {err:.1e}"
    results.clear()
    gc.collect()
    # Warm up and calibrate every case, then time them round-robin (repeat r of every case before repeat r + 1 of
    # any), so that a change in the machine's load during the run hits all libraries alike, not one.
    timed = []
    for case, row in zip(cases, rows):
        if row.status != "ok" or case.key in check_only:
            continue
        try:
            row.number = calibrate(case.thunk, settings.warmup, settings.min_time if min_time is None else min_time)
            timed.append((case, row))
        except Exception as error:
            _fail(row, error)
    for _ in range(repeats or settings.repeats):
        for case, row in timed:
            if row.status != "ok":
                continue
            try:
                row.times.append(time_calls(case.thunk, row.number))
            except Exception as error:
                _fail(row, error)
    for _, row in timed:
        if row.status != "ok":
            row.times = []
        elif len(row.times) > 1 and row.median > NOISY * row.best:
            row.check += " (noisy)"
            row.extra["noisy"] = True
    return rows


def skip_reason(settings: Settings, key: str) -> str:
    return "" if key in settings.libs else f"{key} {settings.skipped.get(key, 'not available')}"


# --- the environment -------------------------------------------------------------------------------------------

def _cpu_model() -> str:
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or "?"


def _openblas_info() -> dict[str, Any]:
    """Threads and core type of the OpenBLAS that NumPy loaded, read through ctypes (threadpoolctl's method)."""
    info: dict[str, Any] = {}
    try:
        maps = Path("/proc/self/maps").read_text().splitlines()
    except OSError:
        return info
    paths = sorted({line.split()[-1] for line in maps if "openblas" in line.lower() and line.split()[-1][:1] == "/"})
    for path in paths:
        try:
            lib = ctypes.CDLL(path)
        except OSError:
            continue
        for prefix, suffix in (("scipy_openblas", "64_"), ("scipy_openblas", ""), ("openblas", "64_"),
                               ("openblas", "")):
            threads = getattr(lib, f"{prefix}_get_num_threads{suffix}", None)
            if threads is None:
                continue
            threads.restype = ctypes.c_int
            info = {"library": path, "threads": threads()}
            for what in ("corename", "config"):
                fun = getattr(lib, f"{prefix}_get_{what}{suffix}", None)
                if fun is not None:
                    fun.restype = ctypes.c_char_p
                    info[what] = (fun() or b"").decode(errors="replace").strip()
            return info
    return info


def loadavg() -> str:
    """Other work on the machine skews timings; the 1, 5 and 15-minute load averages show whether there was any."""
    try:
        return " ".join(f"{load:.2f}" for load in os.getloadavg())
    except OSError:
        return "?"


def _git_state() -> str:
    try:
        head = subprocess.run(["git", "-C", str(REPO_DIR), "rev-parse", "--short", "HEAD"], capture_output=True,
                              text=True, timeout=10).stdout.strip()
        dirty = subprocess.run(["git", "-C", str(REPO_DIR), "status", "--porcelain", "--untracked-files=no"],
                               capture_output=True, text=True, timeout=10).stdout.strip()
    except (OSError, subprocess.SubprocessError):
        return "?"
    return f"{head}{' + uncommitted changes' if dirty else ''}" if head else "?"


def environment(settings: Settings) -> dict[str, Any]:
    """What the numbers depend on: machine, thread pools, environment variables and library versions."""
    env: dict[str, Any] = {
        "python": sys.version.split()[0],
        "executable": sys.executable,
        "platform": platform.platform(),
        "cpu": _cpu_model(),
        "cpus": os.cpu_count(),
        "date": time.strftime("%Y-%m-%d %H:%M:%S"),
        "loadavg": loadavg(),
        "gradviz_git": _git_state(),
        "numpy": np.__version__,
        "env": {name: os.environ[name] for name in ("OPENBLAS_CORETYPE", "OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS",
                                                    "MKL_NUM_THREADS", "PYTHONHASHSEED") if name in os.environ},
        "libraries": {},
    }
    try:
        deps = np.show_config(mode="dicts")["Build Dependencies"]
        env["numpy_blas"] = {k: deps[k].get("name", "?") + " " + deps[k].get("version", "") for k in deps}
    except Exception:  # older NumPy: no dict mode
        env["numpy_blas"] = {}
    try:
        from threadpoolctl import threadpool_info

        env["threadpools"] = [{k: pool.get(k) for k in ("internal_api", "version", "num_threads", "architecture")}
                              for pool in threadpool_info()]
    except ImportError:
        env["threadpools"] = None
        env["openblas"] = _openblas_info()
    for key in AD_LIBS:
        lib = settings.libs.get(key)
        if lib is None:
            env["libraries"][key] = settings.skipped.get(key, "not available")
        else:
            extra = {"threads": lib.threads} if key == "torch" else {"backend": lib.backend} if key == "jax" else {}
            env["libraries"][key] = {"version": lib.version, **extra}
            if key == "gradviz":
                env["libraries"][key]["path"] = lib.path
    return env


def format_environment(env: dict[str, Any]) -> str:
    lines = [
        f"python {env['python']} on {env['platform']}",
        f"cpu: {env['cpu']} ({env['cpus']} logical cpus)  load average {env['loadavg']}  {env['date']}",
        f"numpy {env['numpy']}  blas: {', '.join(sorted(set(env['numpy_blas'].values()))) or '?'}",
    ]
    if env.get("threadpools") is not None:
        for pool in env["threadpools"]:
            lines.append(f"  threadpool: {pool['internal_api']} {pool['version']} threads={pool['num_threads']} "
                         f"arch={pool['architecture']}")
    else:
        blas = env.get("openblas") or {}
        core = blas.get("corename", "?")
        lines.append(f"  openblas (threadpoolctl not installed; read via ctypes): threads={blas.get('threads', '?')} "
                     f"core={core}")
    variables = "  ".join(f"{k}={v}" for k, v in env["env"].items()) or "(none set)"
    lines.append(f"env: {variables}")
    for key, lib in env["libraries"].items():
        if isinstance(lib, dict):
            details = "  ".join(f"{k}={v}" for k, v in lib.items() if k != "version")
            lines.append(f"{key:<9} {lib['version']}  {details}".rstrip())
        else:
            lines.append(f"{key:<9} skipped: {lib}")
    lines.append(f"gradviz git: {env['gradviz_git']}")
    return "\n".join(lines)


# --- the table -------------------------------------------------------------------------------------------------

def fmt_time(seconds: float | None) -> str:
    if seconds is None:
        return "-"
    for unit, scale in (("s", 1.0), ("ms", 1e-3), ("us", 1e-6)):
        if seconds >= scale:
            return f"{seconds / scale:.3g} {unit}"
    return f"{seconds / 1e-9:.3g} ns"


def fmt_ratio(row: Row, ref: Row | None) -> str:
    if ref is None or row.median is None:
        return "-"
    return f"{row.median / ref.median:.3g}x"


def format_result(result: BenchResult) -> str:
    hand, autograd = result.row("hand"), result.row("autograd")
    headers = ["library", "median", "min"]
    if result.unit:
        headers.append(result.unit[0])
    headers += ["x hand", "x autograd"] + [header for _, header, _ in result.extra_cols] + ["check"]
    table = []
    notes = []
    for row in result.rows:
        if row.status != "ok" or not row.times:
            message = row.message if row.status != "ok" else "checked only, not timed"
            if len(message) > 110:
                message = message[:107] + "..."
            table.append([row.label, f"{row.status}: {message}"])
            continue
        cells = [row.label, fmt_time(row.median), fmt_time(row.best)]
        if result.unit:
            cells.append(f"{row.median * result.unit[1]:.3g}")
        cells += [fmt_ratio(row, hand), fmt_ratio(row, autograd)]
        for key, _, fmt in result.extra_cols:
            value = row.extra.get(key)
            cells.append("-" if value is None else format(value, fmt) if not isinstance(value, str) else value)
        cells.append(row.check)
        table.append(cells)
        if row.note:
            notes.append(f"{row.label}: {row.note}")
    widths = [max(len(headers[i]), *(len(r[i]) for r in table if len(r) == len(headers))) for i in
              range(len(headers))]
    lines = [f"[{result.name}] {result.title}"]
    if result.params:
        lines.append("  " + ", ".join(f"{k}={v}" for k, v in result.params.items()))
    lines.append("  " + "  ".join(h.ljust(w) for h, w in zip(headers, widths)).rstrip())
    for cells in table:
        if len(cells) == len(headers):
            lines.append("  " + "  ".join(c.ljust(w) for c, w in zip(cells, widths)).rstrip())
        else:
            lines.append(f"  {cells[0].ljust(widths[0])}  {cells[1]}")
    for target in result.targets:
        verdict = "MET" if target.met else "not met" if target.met is False else "not measured"
        lines.append(f"  target: {target.what} {target.limit}  measured {target.measured}  -> {verdict}")
    for note in result.notes + notes:
        lines.append(f"  note: {note}")
    return "\n".join(lines)


def result_to_json(result: BenchResult) -> dict[str, Any]:
    hand, autograd = result.row("hand"), result.row("autograd")
    rows = {}
    for row in result.rows:
        entry: dict[str, Any] = {"label": row.label, "status": row.status}
        if row.message:
            entry["message"] = row.message
        if row.times:
            entry.update(median_s=row.median, min_s=row.best, times_s=row.times, calls_per_repeat=row.number)
            if result.unit:
                entry["per_unit"] = {"unit": result.unit[0], "value": row.median * result.unit[1]}
            entry["ratio_to_hand"] = row.median / hand.median if hand else None
            entry["ratio_to_autograd"] = row.median / autograd.median if autograd else None
        if row.rel_err is not None:
            entry["check"] = {"rel_err": row.rel_err, "ok": row.check_ok}
        if row.note:
            entry["note"] = row.note
        entry.update(row.extra)
        rows[row.key] = entry
    return {
        "title": result.title, "params": result.params, "rows": rows, "notes": result.notes,
        "targets": [vars(t) for t in result.targets],
    }
