"""Benchmarks of gradviz against autograd, PyTorch, JAX and hand-written NumPy gradients, in one process.

    python bench/run.py                    # everything (a few minutes)
    python bench/run.py --quick            # smoke run, under a minute
    python bench/run.py --only mlp,hessian --json out.json
    python bench/run.py --only scalar_chain --profile   # cProfile of the gradviz case instead of timing

See bench/README.md for what each benchmark measures and how memory is measured.
"""

from __future__ import annotations

import argparse
import cProfile
import gc
import io
import json
import pstats
import sys
import time
from pathlib import Path

import harness
import suite


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0],
                                     formatter_class=argparse.RawDescriptionHelpFormatter,
                                     epilog="benchmarks: " + ", ".join(suite.BENCHMARKS))
    parser.add_argument("--quick", action="store_true", help="fewer repeats and a smaller elementwise array")
    parser.add_argument("--only", metavar="NAME[,NAME]", help="run only these benchmarks")
    parser.add_argument("--libs", metavar="LIB[,LIB]", help=f"AD libraries to run, of {', '.join(harness.AD_LIBS)} "
                        "(the hand-written baselines always run)")
    parser.add_argument("--json", metavar="PATH", type=Path, help="also write the results as JSON")
    parser.add_argument("--repeats", type=int, help="timed repeats per case (default 7, or 3 with --quick)")
    parser.add_argument("--profile", action="store_true",
                        help="instead of timing, cProfile the gradviz case of each selected benchmark")
    parser.add_argument("--profile-top", type=int, default=25, metavar="N", help="rows of each profile (25)")
    args = parser.parse_args(argv)
    names = list(suite.BENCHMARKS)
    if args.only:
        names = [name.strip() for name in args.only.split(",") if name.strip()]
        unknown = [name for name in names if name not in suite.BENCHMARKS]
        if unknown:
            parser.error(f"unknown benchmark {', '.join(unknown)}; choose from {', '.join(suite.BENCHMARKS)}")
    args.names = names
    args.wanted = harness.AD_LIBS
    if args.libs:
        args.wanted = tuple(name.strip() for name in args.libs.split(",") if name.strip())
        unknown = [name for name in args.wanted if name not in harness.AD_LIBS]
        if unknown:
            parser.error(f"unknown library {', '.join(unknown)}; choose from {', '.join(harness.AD_LIBS)}")
    return args


def profile(names: list[str], settings: harness.Settings, top: int) -> None:
    """Print cProfile's top functions by own time (tottime) for the gradviz case of each benchmark."""
    for name in names:
        print(f"\n=== cProfile of gradviz, {name} ===")
        try:
            thunk, calls = suite.gradviz_case(name, settings, settings.quick)
            thunk()  # warm
        except Exception as error:
            print(f"  can't profile: {harness.describe_error(error)}")
            continue
        gc.collect()
        profiler = cProfile.Profile()
        start = time.perf_counter()
        profiler.enable()
        for _ in range(calls):
            thunk()
        profiler.disable()
        elapsed = time.perf_counter() - start
        print(f"{calls} call(s), {elapsed:.3f} s under the profiler ({elapsed / calls * 1e3:.3f} ms per call)")
        out = io.StringIO()
        pstats.Stats(profiler, stream=out).sort_stats("tottime").print_stats(top)
        print(out.getvalue().rstrip())
        split = suite.forward_backward_split(name, settings, settings.quick)
        if split:
            print("forward / backward split (make_vjp, outside the profiler):")
            print("\n".join(split))


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    libs, skipped = harness.load_libraries(args.wanted)
    settings = harness.Settings(
        quick=args.quick, repeats=args.repeats or (3 if args.quick else 7), warmup=1 if args.quick else 2,
        min_time=0.02 if args.quick else 0.1, libs=libs, skipped=skipped)
    env = harness.environment(settings)
    print(harness.format_environment(env))
    for key, reason in skipped.items():
        if key == "jax" and "not installed" in reason:
            print("note: JAX is not installed, so its rows are skipped")
    if args.profile:
        profile(args.names, settings, args.profile_top)
        return 0
    print(f"timing: median of {settings.repeats} repeats after {settings.warmup} warm-up call(s); short calls are "
          f"looped to >= {settings.min_time * 1e3:.0f} ms per repeat; gc.collect() between repeats; time.perf_counter")
    print("ratios: median / median of the hand-written gradient (x hand) and of autograd (x autograd)")
    results = []
    started = time.perf_counter()
    for name in args.names:
        t0 = time.perf_counter()
        result = suite.BENCHMARKS[name](settings)
        results.append(result)
        print()
        print(harness.format_result(result))
        print(f"  ({time.perf_counter() - t0:.1f} s)")
        sys.stdout.flush()
    print("\nsummary of targets (gradviz):")
    for result in results:
        for target in result.targets:
            verdict = "MET" if target.met else "not met" if target.met is False else "not measured"
            print(f"  {result.name:<13} {target.what:<36} {target.limit:<10} measured {target.measured:<10} "
                  f"{verdict}")
    wrong = [(r.name, row.label) for r in results for row in r.rows if row.check_ok is False]
    for name, label in wrong:
        print(f"  WARNING: {name}: {label} computed a different derivative from the reference")
    print(f"total {time.perf_counter() - started:.1f} s; load average now {harness.loadavg()}")
    if args.json:
        payload = {"environment": env, "quick": args.quick, "repeats": settings.repeats,
                   "benchmarks": {r.name: harness.result_to_json(r) for r in results}}
        args.json.parent.mkdir(parents=True, exist_ok=True)
        args.json.write_text(json.dumps(payload, indent=2, default=str) + "\n")
        print(f"wrote {args.json}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
