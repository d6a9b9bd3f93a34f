"""Derivative rules by finite differences, for a primitive nobody has written rules for yet (opt-in).

``def_numerical_vjp(fun)`` gives ``fun`` a VJP and a JVP computed by central differences of its raw function. It
is a stopgap: the VJP costs two evaluations of ``fun`` per element of the argument, and both rules are accurate
to about cbrt(machine epsilon) (1e-5 relative in float64, 1e-2 in float32). Nothing in gradviz calls it.
"""

from __future__ import annotations

import threading
import warnings
import weakref
from collections.abc import Callable, Sequence
from typing import Any

import numpy as np

from .backward import defvjp
from .forward import defjvp
from .tracer import Primitive

__all__ = ["def_numerical_vjp", "NumericalDerivativeWarning"]


class NumericalDerivativeWarning(UserWarning):
    """A derivative comes from finite differences: slow and approximate."""


_warned: weakref.WeakSet = weakref.WeakSet()  # primitives whose numerical rules have warned
_warned_lock = threading.Lock()


def _warn_once(fun: Primitive) -> None:
    with _warned_lock:
        if fun in _warned:
            return
        _warned.add(fun)
    warnings.warn(
        f"{fun.qualname}: its derivatives come from finite differences (def_numerical_vjp), which is slow (the VJP "
        "evaluates it twice per input element) and approximate (about 1e-5 relative error in float64). Write a "
        "VJP and a JVP for it when you can.", NumericalDerivativeWarning, stacklevel=4,
    )


def _float_array(x: Any) -> np.ndarray:
    x = np.asarray(x)
    return x if x.dtype.kind in "fc" else x.astype(np.float64)


def _base_step(x: np.ndarray) -> float:
    """cbrt(machine epsilon): the step that balances truncation and rounding error for a central difference."""
    return float(np.finfo(x.dtype).eps) ** (1 / 3)


def _with(args: tuple, argnum: int, value: Any) -> list:
    args = list(args)
    args[argnum] = value
    return args


def _numerical_vjp(fun: Primitive, argnum: int, eps: float | None, g: Any, *args: Any, **kwargs: Any) -> Any:
    """J^T g for argument ``argnum``, J built one column (one pair of evaluations) per element of that argument.

    For a complex argument the imaginary direction is differenced too, and the gradient is df/dx - i df/dy.
    """
    _warn_once(fun)
    x = _float_array(args[argnum])
    g = np.asarray(g)
    directions = (1, 1j) if x.dtype.kind == "c" else (1,)
    grad = np.zeros(x.shape, x.dtype)
    for i in range(x.size):
        step = eps if eps is not None else _base_step(x) * max(1.0, float(abs(x.flat[i])))
        for direction in directions:
            plus, minus = x.copy(), x.copy()
            plus.flat[i] += step * direction
            minus.flat[i] -= step * direction
            column = (np.asarray(fun.fun(*_with(args, argnum, plus), **kwargs))
                      - np.asarray(fun.fun(*_with(args, argnum, minus), **kwargs))) / (2 * step)
            pairing = np.real(np.sum(g * column))
            grad.flat[i] += pairing if direction == 1 else -1j * pairing
    return grad


def _numerical_jvp(fun: Primitive, argnum: int, eps: float | None, v: Any, *args: Any, **kwargs: Any) -> Any:
    """J v for argument ``argnum``: one central difference along ``v``."""
    _warn_once(fun)
    x = _float_array(args[argnum])
    v = np.asarray(v)
    size = float(np.max(np.abs(v), initial=0.0))
    if size == 0.0:
        return np.zeros_like(np.asarray(fun.fun(*args, **kwargs)))
    step = (eps if eps is not None else _base_step(x) * max(1.0, float(np.max(np.abs(x), initial=0.0)))) / size
    ans_plus = np.asarray(fun.fun(*_with(args, argnum, x + step * v), **kwargs))
    ans_minus = np.asarray(fun.fun(*_with(args, argnum, x - step * v), **kwargs))
    return (ans_plus - ans_minus) / (2 * step)


def def_numerical_vjp(fun: Primitive, argnums: Sequence[int] = (0,), eps: float | None = None) -> None:
    """Give ``fun`` a VJP and a JVP in the arguments ``argnums`` computed by central finite differences.

    Use it to differentiate through a primitive that has no rules yet, accepting a slow (the VJP evaluates ``fun``
    twice per element of the argument; the JVP twice in all) and approximate result; a warning says so once per
    primitive. ``eps`` is the step (default: cbrt(machine epsilon) relative to the argument's size). The rules
    are first-order: differentiating them again raises NotImplementedError. They replace any rules ``fun`` had.
    """
    if not isinstance(fun, Primitive):
        raise TypeError(f"def_numerical_vjp: {getattr(fun, '__name__', fun)!r} is not a primitive; decorate it with "
                        "gradviz.extend.primitive first.")
    vjps: list[Callable] = []
    jvps: list[Callable] = []
    for argnum in argnums:
        # J^T g and J v as primitives, linear in g and v (each the other's transpose), so that fwd-over-rev works.
        vjp = Primitive(lambda g, *args, _a=argnum, **kw: _numerical_vjp(fun, _a, eps, g, *args, **kw),
                        f"{fun.qualname}.numerical_vjp")
        jvp = Primitive(lambda v, *args, _a=argnum, **kw: _numerical_jvp(fun, _a, eps, v, *args, **kw),
                        f"{fun.qualname}.numerical_jvp")
        defvjp(vjp, lambda ans, g, *args, _jvp=jvp, **kw: lambda h: _jvp(h, *args, **kw))
        defjvp(vjp, "same")
        defvjp(jvp, lambda ans, v, *args, _vjp=vjp, **kw: lambda h: _vjp(h, *args, **kw))
        defjvp(jvp, "same")
        vjps.append(lambda ans, *args, _vjp=vjp, **kw: lambda g: _vjp(g, *args, **kw))
        jvps.append(lambda g, ans, *args, _jvp=jvp, **kw: _jvp(g, *args, **kw))
    defvjp(fun, *vjps, argnums=tuple(argnums))
    defjvp(fun, *jvps, argnums=tuple(argnums))
