"""The command line: ``python -m gradviz demo`` (or ``gradviz demo``).

The demo differentiates a tiny tanh layer, lists the primitives its forward pass recorded, and checks the
gradient against finite differences, so a new install shows at once that the engine works.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence
from typing import Any

import numpy as np

from . import numpy as gnp
from . import value_and_grad
from .core.backward import VJPNode, toposort
from .core.containers import pack_container
from .core.node import Node
from .core.tracer import trace
from .core.vspace import describe
from .misc.flatten import flatten

TOLERANCE = 1e-6  # finite differences with a 1e-6 step agree with an exact gradient to about 1e-9 here


def _describe_arg(value: Any) -> str:
    """A constant argument, short: scalars and strings as themselves, arrays by dtype and shape."""
    if isinstance(value, (str, int, float, np.number)) or value is None:
        return repr(value)
    if isinstance(value, (type, np.dtype)) or callable(value):
        return getattr(value, "__name__", str(value))
    return describe(value)


def format_node(node: Node) -> str:
    """One line of the listing: ``%3 = numpy.tanh(%2) -> float64[5, 2]``."""
    if node.fun is None:
        return f"%{node.id} = input -> {describe(node.value)}"
    parents = dict(zip(node.argnums, node.parents))
    args = [f"%{parents[i].id}" if i in parents else _describe_arg(arg) for i, arg in enumerate(node.args)]
    args += [f"{key}={_describe_arg(value)}" for key, value in node.kwargs.items()]
    return f"%{node.id} = {node.fun.qualname}({', '.join(args)}) -> {describe(node.value)}"


def forward_listing(fun: Any, x: Any) -> list[str]:
    """The primitives ``fun(x)`` ran that its output depends on, in the order they ran."""
    _, _, end_node = trace(VJPNode, fun, x, pack_output=pack_container)
    if end_node is None:
        return []
    return [format_node(node) for node in sorted(toposort(end_node), key=lambda node: node.id)]


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
    rs = np.random.RandomState(0)
    inputs, targets = rs.randn(4, 3), rs.randn(4, 2)
    params = {"W": 0.5 * rs.randn(3, 2), "b": np.zeros(2)}

    def loss(params: dict) -> Any:
        outputs = gnp.tanh(gnp.dot(inputs, params["W"]) + params["b"])
        return gnp.mean((outputs - targets) ** 2)

    value, gradient = value_and_grad(loss)(params)
    print("gradviz demo: loss(params) = mean((tanh(inputs @ W + b) - targets) ** 2), inputs 4x3, W 3x2, b 2")
    print(f"loss = {value:.6f}")
    print("gradient:")
    with np.printoptions(precision=6, suppress=True):
        for name, g in gradient.items():
            print(f"  d loss / d {name} =", np.array2string(g, prefix=f"  d loss / d {name} = "))
    listing = forward_listing(loss, params)
    print(f"forward pass ({len(listing)} nodes, in the order they ran):")
    for line in listing:
        print(f"  {line}")
    error = max_finite_difference_error(loss, params, gradient)
    verdict = "ok" if error < TOLERANCE else f"FAILED: more than {TOLERANCE:g}"
    print(f"finite-difference check: max |error| = {error:.2e} ({verdict})")
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
        "demo", help="differentiate a tiny tanh layer, list its primitives, check the gradient",
        description="Differentiate a tiny tanh layer with a squared-error loss, print the value, the gradient and "
                    "the primitives the forward pass ran, and check the gradient against finite differences "
                    "(exit status 1 if they disagree).",
    )
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
