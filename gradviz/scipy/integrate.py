"""scipy.integrate for gradviz: ``odeint`` and ``solve_ivp`` differentiable in the initial state and the parameters.

Reverse mode solves the adjoint ODE backward in time (Pontryagin; Chen et al. 2018, "Neural ODEs"): along with y,
a(t) = dL/dy(t) obeys da/dt = -a^T df/dy and the parameter gradient accumulates as dp/dt = -a^T df/dp, from
a(t_N) = g_N back to t_0, adding the output's cotangent g_i at each t_i. Forward mode solves the tangent ODE
ds/dt = df/dy s + df/dp dp along with y. The products with df/dy and df/dp come from gradviz's own make_vjp and
make_jvp applied to the user's function, which must therefore be written with gradviz.numpy.

The derivative rules call SciPy's solvers on plain values: first derivatives only (a second derivative raises
NotImplementedError instead of being silently wrong). Every other scipy.integrate function is a primitive without
a rule: on a traced value it raises NotImplementedError naming itself.
"""

from __future__ import annotations

import warnings
from collections.abc import Callable, Sequence
from typing import Any

import numpy as _np
import scipy.integrate as _integrate

from .. import numpy as gnp
from ..core.backward import defvjp_argnums, make_vjp
from ..core.containers import pack_container
from ..core.forward import defjvp_argnums, make_jvp
from ..core.sparse import densify
from ..core.tracer import Primitive, box_types, getval
from ..core.vspace import vspace
from ..misc.flatten import flatten
from ..numpy.numpy_wrapper import wrap_namespace

__all__ = ["odeint", "solve_ivp"]


def _has_box(value: Any) -> bool:
    if type(value) in box_types:
        return True
    if isinstance(value, (tuple, list)):
        return any(_has_box(item) for item in value)
    if isinstance(value, dict):
        return any(_has_box(item) for item in value.values())
    return False


def _plain(value: Any) -> Any:
    """``value`` with every box inside it (at any depth of tuples, lists and dicts) unboxed."""
    value = getval(value)
    if isinstance(value, (tuple, list)):
        return type(value)(_plain(item) for item in value)
    if isinstance(value, dict):
        return {key: _plain(item) for key, item in value.items()}
    return value


def _refuse_nested(who: str, *values: Any) -> None:
    if any(_has_box(v) for v in values):
        raise NotImplementedError(
            f"{who}: second derivatives (a derivative of the ODE solution's derivative) are not supported; its "
            "adjoint and tangent ODEs are solved by SciPy on plain values.")


class _Field:
    """The vector field f(y, t, args) with y flat, and its products with df/dy and df/d(args) by gradviz.

    The products differentiate one flat vector, y followed by the flattened args, which costs less per call than
    differentiating a nested container.
    """

    def __init__(self, func: Callable, args: Any, shape: tuple, tfirst: bool, who: str) -> None:
        self.func, self.args, self.shape, self.tfirst, self.who = func, args, shape, tfirst, who
        self.size = int(_np.prod(shape))
        self.flat_args, self.unflatten_args = flatten(args) if args else (_np.zeros(0), None)

    def call(self, y: Any, t: float, args: Any) -> Any:
        y = _np.reshape(y, self.shape) if type(y) not in box_types else gnp.reshape(y, self.shape)
        return self.func(t, y, *args) if self.tfirst else self.func(y, t, *args)

    def __call__(self, y: _np.ndarray, t: float) -> _np.ndarray:
        out = self.call(y, t, self.args)
        if _has_box(out):
            raise TypeError(
                f"{self.who}: the function returned a traced value: it uses a differentiated value that is not "
                "passed to it. Pass such values through args= so that their gradient can be computed.")
        return _np.ravel(_np.asarray(out, dtype=float))

    def _on_flat(self, t: float, with_args: bool) -> tuple[Callable, Callable]:
        """f as a function of y (or of y and the flat args), and the point to evaluate it at."""
        n = self.size
        if with_args:
            return (lambda x: gnp.ravel(self.call(x[:n], t, self.unflatten_args(x[n:]))),
                    lambda y: _np.concatenate([y, self.flat_args]))
        return lambda x: gnp.ravel(self.call(x, t, self.args)), lambda y: y

    def vjp(self, y: _np.ndarray, t: float, a: _np.ndarray, with_args: bool) -> tuple[_np.ndarray, ...]:
        """(f, a^T df/dy, a^T df/dargs with the args flattened)."""
        fun, point = self._on_flat(t, with_args)
        with warnings.catch_warnings():  # f may not depend on y or on the args at all: then the product is zero
            warnings.filterwarnings("ignore", message="the output of .* does not depend on its input")
            vjp, f = make_vjp(fun, point(y))
            a_x = _np.asarray(vjp(a), float)
        return _np.asarray(f, float), a_x[:self.size], a_x[self.size:]

    def jvp(self, y: _np.ndarray, t: float, s: _np.ndarray, dargs: Any) -> tuple[_np.ndarray, _np.ndarray]:
        """(f, df/dy s + df/dargs dargs), dargs flattened (or None)."""
        fun, point = self._on_flat(t, dargs is not None)
        f, tangent = make_jvp(fun, point(y))(s if dargs is None else _np.concatenate([s, dargs]))
        return _np.asarray(f, float), _np.ravel(_np.asarray(tangent, float))

    def args_gradient(self, flat: _np.ndarray) -> Any:
        """The flat args gradient as a container shaped like the args."""
        return vspace(self.args).cast(self.unflatten_args(flat))


# --- odeint


def _odeint_value(func: Callable, y0: Any, t: Any, args: tuple, **options: Any) -> _np.ndarray:
    tfirst = options.pop("tfirst", False)
    y0 = _np.asarray(y0, float)
    field = _Field(func, tuple(args), y0.shape, tfirst, "odeint")
    return _integrate.odeint(field, _np.ravel(y0), _np.asarray(t, float), **options)


_odeint = Primitive(_odeint_value, "scipy.integrate.odeint")


def _odeint_options(options: dict) -> tuple[bool, dict]:
    options = dict(options)
    return options.pop("tfirst", False), options


def _odeint_vjp(argnums: tuple, ans: _np.ndarray, args: tuple, kwargs: dict) -> Callable:
    func, y0, t, fargs = args
    tfirst, options = _odeint_options(kwargs)
    _refuse_nested("odeint", y0, t, fargs)
    y0, t = _np.asarray(y0, float), _np.asarray(t, float)
    field = _Field(func, tuple(fargs), y0.shape, tfirst, "odeint")
    n = y0.size
    with_args = 3 in argnums and bool(fargs)
    n_args = field.flat_args.size if with_args else 0

    def augmented(z: _np.ndarray, time: float) -> _np.ndarray:
        y, a = z[:n], z[n:2 * n]
        f, a_fy, a_fp = field.vjp(y, time, a, with_args)
        return _np.concatenate([_np.asarray(f, float), -a_fy, -a_fp])

    def vjp(g: Any) -> tuple:
        _refuse_nested("odeint", g)
        g = _np.reshape(_np.asarray(g, float), ans.shape)
        a, a_args, grad_t = g[-1].copy(), _np.zeros(n_args), _np.zeros(len(t))
        for i in range(len(t) - 1, 0, -1):
            grad_t[i] = g[i] @ field(ans[i], t[i])
            z = _integrate.odeint(augmented, _np.concatenate([ans[i], a, a_args]), [t[i], t[i - 1]], **options)[-1]
            a, a_args = z[n:2 * n] + g[i - 1], z[2 * n:]
        grad_t[0] = -(a - g[0]) @ field(ans[0], t[0])  # moving t_0 moves the whole solution: -a(t_0)^T f
        grads = {1: a.reshape(y0.shape), 2: grad_t.reshape(_np.shape(args[2])),
                 3: field.args_gradient(a_args) if with_args else vspace(fargs).zeros()}
        return tuple(grads[argnum] for argnum in argnums)

    return vjp


def _odeint_jvp(argnums: tuple, tangents: list, ans: _np.ndarray, args: tuple, kwargs: dict) -> _np.ndarray:
    func, y0, t, fargs = args
    tfirst, options = _odeint_options(kwargs)
    _refuse_nested("odeint", y0, t, fargs, *tangents)
    given = dict(zip(argnums, tangents))
    y0, t = _np.asarray(y0, float), _np.asarray(t, float)
    field = _Field(func, tuple(fargs), y0.shape, tfirst, "odeint")
    n = y0.size
    dy0 = _np.ravel(_np.asarray(given.get(1, _np.zeros(n)), float))
    dt = _np.ravel(_np.asarray(given.get(2, _np.zeros(len(t))), float))
    dargs = flatten(densify(given[3]))[0] if 3 in given and fargs else None

    def augmented(z: _np.ndarray, time: float) -> _np.ndarray:
        f, tangent = field.jvp(z[:n], time, z[n:], dargs)
        return _np.concatenate([f, tangent])

    # y(t_i) = Phi(t_i; t_0, y_0, p): s starts at dy0 - f(y0, t0) dt0 and the output tangent adds f(y_i, t_i) dt_i
    s0 = dy0 - field(ans[0], t[0]) * dt[0]
    z = _integrate.odeint(augmented, _np.concatenate([ans[0], s0]), t, **options)
    out = z[:, n:] + _np.stack([field(ans[i], t[i]) * dt[i] for i in range(len(t))])
    return out.reshape(ans.shape)


defvjp_argnums(_odeint, _odeint_vjp)
defjvp_argnums(_odeint, _odeint_jvp)


def odeint(func: Callable, y0: Any, t: Any, args: Sequence[Any] = (), Dfun: Any = None, col_deriv: int = 0,
           full_output: int = 0, **options: Any) -> Any:
    """scipy.integrate.odeint, differentiable (in both modes) in ``y0``, ``t`` and the values in ``args``.

    ``func(y, t, *args)`` (or ``func(t, y, *args)`` with ``tfirst=True``) must be written with gradviz.numpy, and
    every differentiated value it uses must come through ``args``. ``args`` may hold arrays, scalars and
    (nested) tuples, lists and dicts of them. Tight ``rtol``/``atol`` make the gradients as accurate as the values.
    """
    if Dfun is not None or col_deriv or full_output:
        if _has_box((y0, t, args)):
            raise NotImplementedError("odeint: Dfun, col_deriv and full_output are not supported on traced values")
        return _integrate.odeint(func, y0, t, tuple(args), Dfun, col_deriv, full_output, **options)
    args = args if type(args) in box_types else pack_container(tuple(args))
    return _odeint(func, y0, t, args, **options)


# --- solve_ivp


def _ivp_value(y0: Any, args: tuple, *, fun: Callable, t0: float, times: _np.ndarray, method: Any, options: dict,
               states: _np.ndarray) -> _np.ndarray:
    """The states the forward solve (run already, by solve_ivp below) found at ``times``."""
    return states


_ivp_states = Primitive(_ivp_value, "scipy.integrate.solve_ivp")


def _ivp_solve(field: Callable, t_span: Sequence[float], z0: _np.ndarray, method: Any, options: dict,
               t_eval: Any = None) -> _np.ndarray:
    sol = _integrate.solve_ivp(lambda time, z: field(z, time), t_span, z0, method=method, t_eval=t_eval, **options)
    if not sol.success:
        raise RuntimeError(f"solve_ivp: the sensitivity ODE solve failed: {sol.message}")
    return sol.y


def _ivp_vjp(argnums: tuple, ans: _np.ndarray, args: tuple, kwargs: dict) -> Callable:
    y0, fargs = args
    fun, t0, times, method, options = (kwargs[k] for k in ("fun", "t0", "times", "method", "options"))
    _refuse_nested("solve_ivp", y0, fargs)
    y0 = _np.asarray(y0, float)
    field = _Field(fun, tuple(fargs), y0.shape, True, "solve_ivp")
    n = y0.size
    with_args = 1 in argnums and bool(fargs)
    n_args = field.flat_args.size if with_args else 0

    def augmented(z: _np.ndarray, time: float) -> _np.ndarray:
        f, a_fy, a_fp = field.vjp(z[:n], time, z[n:2 * n], with_args)
        return _np.concatenate([_np.asarray(f, float), -a_fy, -a_fp])

    def vjp(g: Any) -> tuple:
        _refuse_nested("solve_ivp", g)
        g = _np.reshape(_np.asarray(g, float), ans.shape)  # (n, len(times))
        a, a_args = g[:, -1].copy(), _np.zeros(n_args)
        for i in range(len(times) - 1, -1, -1):  # from the last time back to t0, adding g at each time
            start, end = times[i], (times[i - 1] if i > 0 else t0)
            if end != start:
                z = _ivp_solve(augmented, (start, end), _np.concatenate([ans[:, i], a, a_args]), method, options)
                a, a_args = z[n:2 * n, -1], z[2 * n:, -1]
            if i > 0:
                a = a + g[:, i - 1]
        grads = {0: a.reshape(y0.shape), 1: field.args_gradient(a_args) if with_args else vspace(fargs).zeros()}
        return tuple(grads[argnum] for argnum in argnums)

    return vjp


def _ivp_jvp(argnums: tuple, tangents: list, ans: _np.ndarray, args: tuple, kwargs: dict) -> _np.ndarray:
    y0, fargs = args
    fun, t0, times, method, options = (kwargs[k] for k in ("fun", "t0", "times", "method", "options"))
    _refuse_nested("solve_ivp", y0, fargs, *tangents)
    given = dict(zip(argnums, tangents))
    y0 = _np.asarray(y0, float)
    field = _Field(fun, tuple(fargs), y0.shape, True, "solve_ivp")
    n = y0.size
    dy0 = _np.ravel(_np.asarray(given.get(0, _np.zeros(n)), float))
    dargs = flatten(densify(given[1]))[0] if 1 in given and fargs else None

    def augmented(z: _np.ndarray, time: float) -> _np.ndarray:
        f, tangent = field.jvp(z[:n], time, z[n:], dargs)
        return _np.concatenate([f, tangent])

    end = times[-1] if len(times) else t0
    z = _ivp_solve(augmented, (t0, end), _np.concatenate([_np.ravel(y0), dy0]), method, options, t_eval=times)
    return z[n:].reshape(ans.shape)


defvjp_argnums(_ivp_states, _ivp_vjp)
defjvp_argnums(_ivp_states, _ivp_jvp)


def solve_ivp(fun: Callable, t_span: Sequence[float], y0: Any, method: Any = "RK45", t_eval: Any = None,
              dense_output: bool = False, events: Any = None, vectorized: bool = False, args: Any = None,
              **options: Any) -> Any:
    """scipy.integrate.solve_ivp; the solution ``.y`` is differentiable (both modes) in ``y0`` and ``args``.

    ``fun(t, y, *args)`` must be written with gradviz.numpy, and every differentiated value it uses must come
    through ``args``. The times (``t_span``, ``t_eval``, or the solver's own steps when t_eval is None) are
    constants. Tight ``rtol``/``atol`` make the gradients as accurate as the values.
    """
    fargs = () if args is None else args
    traced = _has_box((y0, fargs))
    if _has_box((t_span, t_eval)):
        raise NotImplementedError("solve_ivp: gradients with respect to t_span and t_eval are not supported; "
                                  "use odeint, whose gradients include the times")
    if not traced:
        return _integrate.solve_ivp(fun, t_span, y0, method=method, t_eval=t_eval, dense_output=dense_output,
                                    events=events, vectorized=vectorized, args=args, **options)
    if events is not None or dense_output or vectorized:
        raise NotImplementedError("solve_ivp: events, dense_output and vectorized are not supported on traced "
                                  "values")
    y0_value = _np.asarray(getval(y0), float)
    if y0_value.ndim != 1:
        raise ValueError("solve_ivp: y0 must be 1-D")
    field = _Field(fun, _plain(tuple(fargs)), y0_value.shape, True, "solve_ivp")
    sol = _integrate.solve_ivp(lambda time, y: field(y, time), t_span, y0_value, method=method, t_eval=t_eval,
                               **options)
    packed = fargs if type(fargs) in box_types else pack_container(tuple(fargs))
    sol.y = _ivp_states(y0, packed, fun=fun, t0=float(t_span[0]), times=_np.asarray(sol.t), method=method,
                        options=options, states=sol.y)
    return sol


wrap_namespace(vars(_integrate), globals(), "scipy.integrate", {})
