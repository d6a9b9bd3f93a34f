"""Fixed points differentiated by the implicit function theorem, not through the iterations.

If x* = f(a)(x*), then dx* = f_a da + f_x dx*, so dx* = (I - f_x)^-1 f_a da. The VJP needs w = (I - f_x)^-T g,
the fixed point of w = g + f_x^T w, found by iterating that map (it contracts wherever the forward iteration
does); the gradient in ``a`` is then f_a^T w. The JVP likewise iterates t = f_a da + f_x t. Both iterations are
``fixed_point`` calls themselves, so derivatives of derivatives work the same way.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from ..builtins import tuple as traced_tuple
from ..core.backward import defvjp, make_vjp
from ..core.containers import add_any
from ..core.forward import defjvp, make_jvp
from ..core.tracer import primitive
from ..core.vspace import vspace

__all__ = ["fixed_point"]


@primitive
def fixed_point(f: Callable[[Any], Callable[[Any], Any]], a: Any, x0: Any, distance: Callable[[Any, Any], Any],
                tol: float) -> Any:
    """Iterate ``x = f(a)(x)`` from ``x0`` until ``distance(x, x_prev) < tol``; return x.

    Differentiable in ``a`` by the implicit function theorem (the answer does not depend on ``x0``). ``f`` is
    curried, as in autograd: ``f(a)`` is the map whose fixed point is wanted.
    """
    step = f(a)
    x_prev, x = x0, step(x0)
    while not distance(x, x_prev) < tol:
        x_prev, x = x, step(x)
    return x


def _fixed_point_vjp(ans: Any, f: Callable, a: Any, x0: Any, distance: Callable, tol: float) -> Callable:
    vjp_a = make_vjp(lambda a_: f(a_)(ans), a)[0]

    def adjoint_step(params: Any) -> Callable:
        """w -> g + f_x(a, x*)^T w, with params = (a, x*, g)."""
        a_, x_star, g = params
        vjp_x = make_vjp(f(a_), x_star)[0]
        return lambda w: add_any(g, vjp_x(w))

    def vjp(g: Any) -> Any:
        w = fixed_point(adjoint_step, traced_tuple((a, ans, g)), vspace(x0).zeros(), distance, tol)
        return vjp_a(w)

    return vjp


def _fixed_point_jvp(da: Any, ans: Any, f: Callable, a: Any, x0: Any, distance: Callable, tol: float) -> Any:
    def tangent_step(params: Any) -> Callable:
        """t -> f_a(a, x*) da + f_x(a, x*) t, with params = (a, x*, da)."""
        a_, x_star, da_ = params
        along_a = make_jvp(lambda a__: f(a__)(x_star), a_)(da_)[1]
        return lambda t: add_any(along_a, make_jvp(f(a_), x_star)(t)[1])

    return fixed_point(tangent_step, traced_tuple((a, ans, da)), vspace(x0).zeros(), distance, tol)


defvjp(fixed_point, None, _fixed_point_vjp, None)
defjvp(fixed_point, None, _fixed_point_jvp, None)
