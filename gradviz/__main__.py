"""The command line: ``python -m gradviz demo`` (or ``gradviz demo``).

The demo traces the gradient of a tiny tanh layer (gradviz.trace), prints the value, the gradient and the record
(the forward graph with the line of code behind each node, then the backward steps), checks the gradient against
finite differences, and writes the trace as a standalone interactive HTML report (Trace.save_html: the graph,
stepping through the backward pass, node details; no kernel, no network), so a new install shows at once that the
engine, the record and the renderer work.
"""

from __future__ import annotations

import argparse
import os
import sys
from collections.abc import Sequence
from typing import Any

import numpy as np

from .examples import tiny_layer
from .misc.flatten import flatten
from .record import trace

DEMO_REPORT = "gradviz-demo.html"
TOLERANCE = 1e-6  # finite differences with a 1e-6 step agree with an exact gradient to about 1e-9 here


def max_finite_difference_error(fun: Any, x: Any, gradient: Any, eps: float = 1e-6) -> float:
    """The largest difference between ``gradient`` and central differences of ``fun`` at ``x``, over all entries."""
    x_flat, unflatten = flatten(x)
    gradient_flat = flatten(gradient)[0]
    error = 0.0
    for i in range(x_flat.size):
        step = np.zeros_like(x_flat)
        step[i] = eps
        numeric = (fun(unflatten(x_flat + step)) - fun(unflatten(x_flat - step))) / (2 * eps)
        error = max(error, abs(float(numeric) - float(gradient_flat[i])))
    return error


def run_demo(args: argparse.Namespace) -> int:
    params, inputs, targets = tiny_layer.make_data()

    def loss(params: dict) -> Any:
        return tiny_layer.loss(params, inputs, targets)

    recorded = trace(loss, params)  # the value, the gradient, and the record of how they were made
    value, gradient = recorded.value, recorded.grad
    print("gradviz demo: loss(params) = mean((tanh(inputs @ W + b) - targets) ** 2), inputs 4x3, W 3x2, b 2")
    print(f"loss = {value:.6f}")
    print("gradient:")
    with np.printoptions(precision=6, suppress=True):
        for name, g in gradient.items():
            print(f"  d loss / d {name} =", np.array2string(g, prefix=f"  d loss / d {name} = "))
    print()
    print(recorded)  # the forward graph, one line per node, then the backward steps
    print()
    error = max_finite_difference_error(loss, params, gradient)
    verdict = "ok" if error < TOLERANCE else f"FAILED: more than {TOLERANCE:g}"
    print(f"finite-difference check: max |error| = {error:.2e} ({verdict})")
    path = os.path.abspath(recorded.save_html(args.out))
    print(f"interactive report: {path}")
    print("  open it in a browser: the graph, the backward pass step by step, the details of each node (offline)")
    return 0 if error < TOLERANCE else 1


def run_coverage(args: argparse.Namespace) -> int:
    from .coverage import main as coverage_main  # imports gradviz.scipy: only when asked

    return coverage_main(args.write)


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="gradviz",
        description="gradviz: automatic differentiation of Python and NumPy code (an autograd drop-in).",
    )
    commands = parser.add_subparsers(dest="command", metavar="command", required=True)
    demo = commands.add_parser(
        "demo", help="differentiate a tiny tanh layer, check the gradient, write an interactive HTML report",
        description="Differentiate a tiny tanh layer with a squared-error loss, print the value, the gradient and "
                    "the primitives the forward pass ran, check the gradient against finite differences (exit "
                    "status 1 if they disagree), and write the trace as a standalone interactive HTML report.",
    )
    demo.add_argument("--out", metavar="PATH", default=DEMO_REPORT,
                      help=f"where to write the HTML report (default: ./{DEMO_REPORT})")
    demo.set_defaults(run=run_demo)
    coverage = commands.add_parser(
        "coverage", help="list every wrapped NumPy/SciPy function and whether it has VJP and JVP rules",
        description="Print the coverage table of gradviz.numpy and gradviz.scipy, or write it as Markdown.",
    )
    coverage.add_argument("--write", metavar="PATH", help="write the Markdown table to PATH (docs/coverage.md)")
    coverage.set_defaults(run=run_coverage)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Run the command line; return the exit status (argparse exits with 2 on a bad command)."""
    args = build_parser().parse_args(argv)
    return args.run(args)


if __name__ == "__main__":
    sys.exit(main())
