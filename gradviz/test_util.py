"""Checking derivatives against finite differences: ``check_grads(f, modes, order)(*args)``.

A reverse-mode check compares <vjp(u), v> with <u, (f(x + eps v) - f(x - eps v)) / 2 eps> on random directions u
and v; a forward-mode check compares the JVP with the same central difference. ``order=2`` checks, the same way,
the derivative of the derivative (the function x -> vjp(u) or x -> jvp(v)), and so on.

Every check also records, in ``exercised``, which primitives its traces went through, in which mode and at which
order, so that the test suite can tell a rule that some test checks from one that no test ever runs.
"""

from __future__ import annotations

import functools
import itertools
import warnings
from collections.abc import Callable, Sequence
from typing import Any

import numpy as np

from .core.backward import make_vjp, toposort
from .core.containers import pack_container
from .core.forward import make_jvp
from .core.tracer import box_types
from .core.vspace import VSpace, describe, vspace
from .core.wrap_util import unary_to_nary

__all__ = ["check_grads", "combo_check", "numerical_jvp", "pair", "extrapolated_derivative", "exercised"]

# (primitive qualname, "rev" or "fwd", derivative order) for every primitive a check_grads trace went through: its
# VJP (rev) or JVP (fwd) was run and compared with finite differences. Read by the suite's rule-coverage guard.
exercised: set[tuple[str, str, int]] = set()


def _recording(fun: Callable, mode: str, order: int) -> Callable:
    """``fun``, which also adds the primitives of the trace it runs in to ``exercised`` (cheap: one graph walk)."""

    @functools.wraps(fun)
    def recorded(x: Any) -> Any:
        out = pack_container(fun(x))
        if type(x) in box_types and type(out) in box_types and out._level is x._level:
            exercised.update((node.fun.qualname, mode, order) for node in toposort(out._node)
                             if getattr(node.fun, "qualname", None) is not None)
        return out

    return recorded

EPS = {np.dtype("float64"): 1e-6, np.dtype("complex128"): 1e-6, np.dtype("float32"): 1e-2,
       np.dtype("complex64"): 1e-2}
TOL = {np.dtype("float64"): 1e-5, np.dtype("complex128"): 1e-5, np.dtype("float32"): 2e-2,
       np.dtype("complex64"): 2e-2}


def pair(space: VSpace, a: Any, b: Any) -> float:
    """The real pairing Re(sum(a * b)) under which a VJP is the transpose of its JVP (gradviz's convention)."""
    return float(np.real(np.sum(space.flatten(a) * space.flatten(b))))


def _step(space: VSpace, x: Any, v: Any, eps: float) -> Any:
    return space.unflatten(space.flatten(x) + eps * space.flatten(v))


def _precision(space: VSpace) -> np.dtype:
    flat = space.flatten(space.zeros())
    return flat.dtype if flat.dtype in EPS else np.dtype("float64")


def numerical_jvp(fun: Callable, x: Any, v: Any, eps: float | None = None) -> Any:
    """The central difference (fun(x + eps v) - fun(x - eps v)) / (2 eps)."""
    space = vspace(x)
    eps = EPS[_precision(space)] if eps is None else eps
    plus, minus = fun(_step(space, x, v, eps)), fun(_step(space, x, v, -eps))
    out_space = vspace(plus)
    difference = (out_space.flatten(plus) - out_space.flatten(minus)) / (2 * eps)
    return out_space.unflatten(difference.astype(np.result_type(difference, float)))


def _close(a: float, b: float, tol: float, scale: float) -> bool:
    return abs(a - b) <= tol * (1 + scale)


def _fail(mode: str, fun: Callable, order: int, x: Any, analytic: Any, numeric: Any) -> None:
    raise AssertionError(
        f"check_grads: the {mode} derivative of {getattr(fun, '__name__', 'the function')} (order {order}) at "
        f"{describe(x)} disagrees with finite differences: analytic {analytic!r}, numeric {numeric!r}."
    )


def _check_rev(fun: Callable, x: Any, order: int) -> Callable:
    vjp, y = make_vjp(_recording(fun, "rev", order), x)
    in_space, out_space = vspace(x), vspace(y)
    u, v = out_space.randn(), in_space.randn()
    tol = TOL[_precision(in_space)]
    analytic = pair(in_space, vjp(u), v)
    numeric = pair(out_space, u, numerical_jvp(fun, x, v))
    if not _close(analytic, numeric, tol, abs(numeric)):
        _fail("reverse-mode", fun, order, x, analytic, numeric)

    def vjp_at(x_: Any) -> Any:
        return make_vjp(fun, x_)[0](u)

    vjp_at.__name__ = f"vjp_of_{getattr(fun, '__name__', 'fun')}"
    return vjp_at


def _check_fwd(fun: Callable, x: Any, order: int) -> Callable:
    in_space = vspace(x)
    v = in_space.randn()
    y, tangent = make_jvp(_recording(fun, "fwd", order), x)(v)
    out_space = vspace(y)
    tol = TOL[_precision(in_space)]
    numeric = numerical_jvp(fun, x, v)
    analytic_flat, numeric_flat = out_space.flatten(tangent), out_space.flatten(numeric)
    scale = float(np.max(np.abs(numeric_flat), initial=0.0))
    if analytic_flat.shape != numeric_flat.shape or not np.all(
            np.abs(analytic_flat - numeric_flat) <= tol * (1 + scale)):
        _fail("forward-mode", fun, order, x, tangent, numeric)

    def jvp_at(x_: Any) -> Any:
        return make_jvp(fun, x_)(v)[1]

    jvp_at.__name__ = f"jvp_of_{getattr(fun, '__name__', 'fun')}"
    return jvp_at


def _check_grads(fun: Callable, x: Any, modes: Sequence[str] = ("fwd", "rev"), order: int = 2) -> None:
    unknown = set(modes) - {"fwd", "rev"}
    if unknown:
        raise ValueError(f"check_grads: modes must be 'fwd' and/or 'rev', not {sorted(unknown)}")
    for mode in modes:
        derivative = fun
        for level in range(1, order + 1):
            check = _check_fwd if mode == "fwd" else _check_rev
            with warnings.catch_warnings():
                if level > 1:  # the derivative of a linear function is constant: expected, not worth a warning
                    warnings.filterwarnings("ignore", message="the output of .* does not depend on its input")
                derivative = check(derivative, x, level)


check_grads = unary_to_nary(_check_grads)
check_grads.__name__ = "check_grads"
check_grads.__doc__ = (
    "check_grads(fun, argnum=0, modes=('fwd', 'rev'), order=2)(*args): check fun's derivatives in argument "
    "argnum against finite differences, in each mode, up to ``order``; raise AssertionError on a mismatch."
)


def combo_check(fun: Callable, *check_args: Any, **check_kwargs: Any) -> Callable:
    """``combo_check(fun, argnums, modes=..., order=...)(args_lists..., kwarg=[values])``: every combination."""

    def run(*arg_options: Sequence[Any], **kwarg_options: Sequence[Any]) -> None:
        keyed = [[(key, value) for value in values] for key, values in kwarg_options.items()]
        for args in itertools.product(*arg_options):
            for kwargs in itertools.product(*keyed):
                check_grads(fun, *check_args, **check_kwargs)(*args, **dict(kwargs))

    return run


def extrapolated_derivative(fun: Callable[[float], float], p: float, levels: int = 5) -> float:
    """d fun / dp at ``p`` by central differences at steps h, h/2, ..., h/2^(levels-1), Richardson-extrapolated to
    h = 0 (error O(h^(2 levels))): a reference accurate to ~1e-9 for smooth scalar functions of ``p > 0``."""
    h = min(1e-2, p / 4)
    table = [[(fun(p + h / 2 ** i) - fun(p - h / 2 ** i)) / (2 * h / 2 ** i)] for i in range(levels)]
    for j in range(1, levels):
        for i in range(j, levels):
            table[i].append(table[i][j - 1] + (table[i][j - 1] - table[i - 1][j - 1]) / (4 ** j - 1))
    return table[-1][-1]
