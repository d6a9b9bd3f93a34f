"""One library's 100k-op scalar chain in a process of its own, so that its peak memory is its own.

Prints one line ``RESULT {json}``. Run by run.py; by hand: ``python bench/chain_child.py --lib gradviz``.

Memory: after the imports and a 1,000-op warm-up, the kernel's RSS high-water mark is reset (writing 5 to
/proc/self/clear_refs, Linux >= 4.0), one gradient is taken, and the peak is VmHWM minus the VmRSS just before.
Where the reset is impossible the peak is ru_maxrss after minus VmRSS before, an upper bound only: Linux
carries the parent's high-water mark into ru_maxrss across fork + exec, so a child of a big parent (run.py after
the 10M-element benchmark) starts with the parent's peak. That is why ru_maxrss is only a cross-check here.
"""

from __future__ import annotations

import argparse
import gc
import json
import resource
import time
import tracemalloc
from collections.abc import Callable
from pathlib import Path

import harness
import problems as P

MB = 1024 * 1024


def _status_kb(field: str) -> int | None:
    try:
        for line in Path("/proc/self/status").read_text().splitlines():
            if line.startswith(field + ":"):
                return int(line.split()[1])
    except OSError:
        pass
    return None


def _reset_peak() -> bool:
    try:
        Path("/proc/self/clear_refs").write_text("5")
    except OSError:
        return False
    return True


def _maxrss_kb() -> int:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss  # kilobytes on Linux


def make_thunk(lib_key: str, n: int) -> Callable[[], float]:
    """One forward + backward of the n-op chain, returning d out / d x as a float."""
    x0 = P.CHAIN_X0
    if lib_key == "hand":
        return lambda: P.chain_grad_hand(x0, n)
    libs, skipped = harness.load_libraries((lib_key,))
    if lib_key not in libs:
        raise LookupError(f"{lib_key} {skipped[lib_key]}")
    lib = libs[lib_key]
    if lib_key == "torch":
        torch = lib.torch

        def torch_grad() -> float:
            x = torch.tensor(x0, dtype=torch.float64, requires_grad=True)
            (gx,) = torch.autograd.grad(P.chain(torch, x, n), x)
            return gx.item()

        return torch_grad
    g = lib.grad(lambda x: P.chain(lib.np, x, n))
    return lambda: float(g(x0))


def measure(lib_key: str, n: int, repeats: int, with_tracemalloc: bool) -> dict:
    P.check_chain_length(n)
    warm = make_thunk(lib_key, 1000)
    warm()
    warm()
    big = make_thunk(lib_key, n)
    gc.collect()
    rss_before = _status_kb("VmRSS")
    maxrss_before = _maxrss_kb()
    reset = _reset_peak() and _status_kb("VmHWM") is not None
    start = time.perf_counter()
    grad = big()
    times = [time.perf_counter() - start]
    hwm = _status_kb("VmHWM")
    maxrss_after = _maxrss_kb()
    if reset and rss_before is not None:
        peak_mb, method = (hwm - rss_before) / 1024, "VmHWM after clear_refs - VmRSS before"
    else:
        peak_mb, method = (maxrss_after - (rss_before or maxrss_before)) / 1024, "ru_maxrss - VmRSS before"
    for _ in range(repeats - 1):
        gc.collect()
        start = time.perf_counter()
        big()
        times.append(time.perf_counter() - start)
    report = {
        "status": "ok", "times_s": times, "grad": grad, "peak_mb": peak_mb, "memory_method": method,
        "rss_before_mb": (rss_before or 0) / 1024, "ru_maxrss_delta_mb": (maxrss_after - maxrss_before) / 1024,
    }
    if with_tracemalloc:
        gc.collect()
        tracemalloc.start()
        big()
        report["tracemalloc_peak_mb"] = tracemalloc.get_traced_memory()[1] / MB
        tracemalloc.stop()
    return report


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--lib", required=True, choices=("hand",) + harness.AD_LIBS)
    parser.add_argument("--n", type=int, default=100_000)
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--tracemalloc", action="store_true")
    args = parser.parse_args()
    try:
        report = measure(args.lib, args.n, max(1, args.repeats), args.tracemalloc)
    except LookupError as error:
        report = {"status": "skipped", "message": str(error)}
    except Exception as error:
        report = {"status": "error", "message": harness.describe_error(error)}
    print("RESULT " + json.dumps(report), flush=True)


if __name__ == "__main__":
    main()
