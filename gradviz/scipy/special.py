"""scipy.special for gradviz: every public function as a primitive, and derivative rules in both modes.

Each rule states the derivative as a handbook does (DLMF numbers where it helps), written with gradviz.numpy and
with these very primitives, so that the derivative of a rule is itself traced: psi -> polygamma(1) ->
polygamma(2), iv -> iv of the neighbouring orders, erf -> exp. Integer orders (``n`` of jn, yn, polygamma) and
orders without a closed-form derivative (``v`` of iv, ive, jv, yv, kv) have no rule: differentiating in them raises
NotImplementedError, as does differentiating betainc in ``a``/``b`` and gammainc in ``a`` (see ``_no_closed_form``).
Functions whose output is an integer, a sign, a table of zeros or quadrature nodes are constants.
"""

from __future__ import annotations

import types
from collections.abc import Callable
from typing import Any

import numpy as _np
import scipy.special as _special

from ..core.backward import defvjp, defvjp_argnum
from ..core.forward import defjvp, defjvp_argnum
from ..core.tracer import NoTracePrimitive, Primitive
from ..numpy import wrapped as anp
from ..numpy.numpy_wrapper import publish, wrap_namespace
from ..numpy.rules_util import broadcast_like, iscomplex, normalize_axis, shape_of, unbroadcast, unbroadcast_f

# The output does not depend differentiably on the input: a sign, an integer count, rounding, a table of zeros or
# quadrature nodes of an integer order, a polynomial object, or error-handling state.
CONSTANT = frozenset("""
    gammasgn round factorial factorial2 factorialk comb perm stirling2 bernoulli euler
    ai_zeros bi_zeros bei_zeros beip_zeros ber_zeros berp_zeros kei_zeros keip_zeros ker_zeros kerp_zeros
    kelvin_zeros erf_zeros fresnel_zeros fresnelc_zeros fresnels_zeros jn_zeros jnp_zeros jnjnp_zeros jnyn_zeros
    y0_zeros y1_zeros y1p_zeros yn_zeros ynp_zeros
    roots_chebyc roots_chebys roots_chebyt roots_chebyu roots_gegenbauer roots_genlaguerre roots_hermite
    roots_hermitenorm roots_jacobi roots_laguerre roots_legendre roots_sh_chebyt roots_sh_chebyu roots_sh_jacobi
    roots_sh_legendre c_roots cg_roots h_roots he_roots j_roots js_roots l_roots la_roots p_roots ps_roots s_roots
    t_roots ts_roots u_roots us_roots
    chebyc chebys chebyt chebyu gegenbauer genlaguerre hermite hermitenorm jacobi laguerre legendre
    sh_chebyt sh_chebyu sh_jacobi sh_legendre
    geterr seterr test
""".split())

_cache: dict[int, Primitive] = {}
for _name in CONSTANT:
    _fun = getattr(_special, _name, None)
    if _fun is not None:
        _cache[id(_fun)] = NoTracePrimitive(_fun, f"scipy.special.{_name}")
_primitives: dict[str, Any] = {}
wrap_namespace(vars(_special), _primitives, "scipy.special", _cache)
globals().update(_primitives)
publish(_special, _primitives)
sp = types.SimpleNamespace(**_primitives)  # the primitives, as the rules below call them

# Python floats keep float32 data float32.
_SQRT_PI = float(_np.sqrt(_np.pi))
_SQRT_2PI = float(_np.sqrt(2 * _np.pi))
_LOG_SQRT_2PI = float(0.5 * _np.log(2 * _np.pi))
_LOG_PI = float(_np.log(_np.pi))


def elementwise(fun: Primitive, *partials: Callable | None, argnums: tuple[int, ...] | None = None) -> None:
    """Rules for a broadcasting ``fun`` whose partial derivative in argument ``argnums[i]`` is ``partials[i](ans,
    *args)`` (None: it does not depend on that argument). Arguments not in ``argnums`` have no rule."""
    argnums = tuple(range(len(partials))) if argnums is None else argnums

    def vjp_maker(argnum: int, partial: Callable | None) -> Callable | None:
        if partial is None:
            return None
        return lambda ans, *args: unbroadcast_f(args[argnum], lambda g: g * partial(ans, *args))

    def jvp(partial: Callable | None) -> Callable | None:
        if partial is None:
            return None
        return lambda g, ans, *args: broadcast_like(g * partial(ans, *args), ans)

    defvjp(fun, *[vjp_maker(i, d) for i, d in zip(argnums, partials)], argnums=argnums)
    defjvp(fun, *[jvp(d) for d in partials], argnums=argnums)


def _no_closed_form(fun: Primitive, argnum: int, what: str) -> Callable:
    """A partial derivative that raises: gradviz has no accurate rule for ``fun`` in this argument."""
    def partial(ans: Any, *args: Any) -> Any:
        raise NotImplementedError(
            f"gradviz.scipy.special.{fun.name}: the derivative in {what} (argument {argnum}) has no closed form and "
            f"is not implemented; only the derivative in the last argument (x) is. Pass {what} as a constant."
        )
    return partial


def _with_errors(fun: Primitive, x_partial: Callable, names: tuple[str, ...]) -> None:
    """Rules for ``fun(*params, x)``: the partial in x, and NotImplementedError in each named parameter."""
    partials = [_no_closed_form(fun, i, name) for i, name in enumerate(names)] + [x_partial]
    elementwise(fun, *partials)


# Gamma and beta functions (DLMF 5.2.2, 5.12.1)
elementwise(sp.gamma, lambda ans, x: ans * sp.psi(x))
elementwise(sp.gammaln, lambda ans, x: sp.psi(x))
elementwise(sp.loggamma, lambda ans, x: sp.psi(x))
elementwise(sp.rgamma, lambda ans, x: -ans * sp.psi(x))
elementwise(sp.psi, lambda ans, x: sp.polygamma(1, x))
elementwise(sp.polygamma, lambda ans, n, x: sp.polygamma(n + 1, x), argnums=(1,))
elementwise(sp.beta, lambda ans, a, b: ans * (sp.psi(a) - sp.psi(a + b)),
            lambda ans, a, b: ans * (sp.psi(b) - sp.psi(a + b)))
elementwise(sp.betaln, lambda ans, a, b: sp.psi(a) - sp.psi(a + b), lambda ans, a, b: sp.psi(b) - sp.psi(a + b))
elementwise(sp.zeta, None, lambda ans, s, q: -s * sp.zeta(s + 1, q))  # Hurwitz zeta in q (DLMF 25.11.17)
defvjp(sp.multigammaln, lambda ans, a, d: lambda g: g * sum(sp.psi(a - 0.5 * j) for j in range(d)))
defjvp(sp.multigammaln, lambda g, ans, a, d: g * sum(sp.psi(a - 0.5 * j) for j in range(d)))


def _beta_density(a: Any, b: Any, x: Any) -> Any:
    """d/dx I_x(a, b) = x^(a-1) (1-x)^(b-1) / B(a, b), in logs for range."""
    return anp.exp(sp.xlogy(a - 1, x) + sp.xlog1py(b - 1, -x) - sp.betaln(a, b))


def _gamma_density(a: Any, x: Any) -> Any:
    """d/dx P(a, x) = x^(a-1) e^(-x) / Gamma(a)."""
    return anp.exp(sp.xlogy(a - 1, x) - x - sp.gammaln(a))


# Incomplete gamma and beta functions, in x (DLMF 8.8.13, 8.17.7)
_with_errors(sp.betainc, lambda ans, a, b, x: _beta_density(a, b, x), ("a", "b"))
_with_errors(sp.betaincc, lambda ans, a, b, x: -_beta_density(a, b, x), ("a", "b"))
_with_errors(sp.gammainc, lambda ans, a, x: _gamma_density(a, x), ("a",))
_with_errors(sp.gammaincc, lambda ans, a, x: -_gamma_density(a, x), ("a",))


def _t_density(df: Any, t: Any) -> Any:
    """Student's t density: d/dt of stdtr(df, t)."""
    return anp.exp(sp.gammaln(0.5 * (df + 1)) - sp.gammaln(0.5 * df) - 0.5 * anp.log(df * _np.pi)
                   - 0.5 * (df + 1) * anp.log1p(t * t / df))


_with_errors(sp.stdtr, lambda ans, df, t: _t_density(df, t), ("df",))

# Error function and the normal distribution (DLMF 7.2, 7.10)
elementwise(sp.erf, lambda ans, x: (2 / _SQRT_PI) * anp.exp(-x * x))
elementwise(sp.erfc, lambda ans, x: (-2 / _SQRT_PI) * anp.exp(-x * x))
elementwise(sp.erfcx, lambda ans, x: 2 * x * ans - 2 / _SQRT_PI)
elementwise(sp.erfinv, lambda ans, x: (_SQRT_PI / 2) * anp.exp(ans * ans))
elementwise(sp.erfcinv, lambda ans, x: (-_SQRT_PI / 2) * anp.exp(ans * ans))
elementwise(sp.ndtr, lambda ans, x: anp.exp(-0.5 * x * x) / _SQRT_2PI)
elementwise(sp.log_ndtr, lambda ans, x: anp.exp(-0.5 * x * x - ans - _LOG_SQRT_2PI))
elementwise(sp.ndtri, lambda ans, x: _SQRT_2PI * anp.exp(0.5 * ans * ans))

# Logistic functions
elementwise(sp.expit, lambda ans, x: ans * (1 - ans))
elementwise(sp.logit, lambda ans, x: 1 / (x * (1 - x)))
elementwise(sp.log_expit, lambda ans, x: sp.expit(-x))

# Entropies: x log y and relatives, 0 where x is 0
elementwise(sp.xlogy, lambda ans, x, y: anp.log(y), lambda ans, x, y: x / y)
elementwise(sp.xlog1py, lambda ans, x, y: anp.log1p(y), lambda ans, x, y: x / (1 + y))
elementwise(sp.entr, lambda ans, x: -anp.log(x) - 1)
elementwise(sp.rel_entr, lambda ans, x, y: anp.log(x / y) + 1, lambda ans, x, y: -x / y)
elementwise(sp.kl_div, lambda ans, x, y: anp.log(x / y), lambda ans, x, y: 1 - x / y)

# Bessel functions, in x, through the neighbouring orders (DLMF 10.6.1, 10.6.2, 10.29.1, 10.29.2)
elementwise(sp.j0, lambda ans, x: -sp.j1(x))
elementwise(sp.j1, lambda ans, x: 0.5 * (sp.j0(x) - sp.jv(2, x)))
elementwise(sp.jv, lambda ans, v, x: 0.5 * (sp.jv(v - 1, x) - sp.jv(v + 1, x)), argnums=(1,))  # also jn
elementwise(sp.y0, lambda ans, x: -sp.y1(x))
elementwise(sp.y1, lambda ans, x: 0.5 * (sp.y0(x) - sp.yn(2, x)))
elementwise(sp.yn, lambda ans, n, x: 0.5 * (sp.yn(n - 1, x) - sp.yn(n + 1, x)), argnums=(1,))
elementwise(sp.yv, lambda ans, v, x: 0.5 * (sp.yv(v - 1, x) - sp.yv(v + 1, x)), argnums=(1,))
elementwise(sp.i0, lambda ans, x: sp.i1(x))
elementwise(sp.i1, lambda ans, x: 0.5 * (sp.i0(x) + sp.iv(2, x)))
elementwise(sp.iv, lambda ans, v, x: 0.5 * (sp.iv(v - 1, x) + sp.iv(v + 1, x)), argnums=(1,))
# The exponentially scaled ones: ive(v, x) = iv(v, x) exp(-|x|), kve(v, x) = kv(v, x) exp(x)
elementwise(sp.i0e, lambda ans, x: sp.i1e(x) - anp.sign(x) * ans)
elementwise(sp.i1e, lambda ans, x: 0.5 * (sp.i0e(x) + sp.ive(2, x)) - anp.sign(x) * ans)


def _ive_slope(ans: Any, v: Any, x: Any) -> Any:
    if iscomplex(x):
        raise NotImplementedError("gradviz.scipy.special.ive: iv(v, z) exp(-|Re z|) is not holomorphic; its "
                                  "derivative in complex z is not implemented (differentiate iv(v, z) instead)")
    return 0.5 * (sp.ive(v - 1, x) + sp.ive(v + 1, x)) - anp.sign(x) * ans


elementwise(sp.ive, _ive_slope, argnums=(1,))
elementwise(sp.k0, lambda ans, x: -sp.k1(x))
elementwise(sp.k1, lambda ans, x: -0.5 * (sp.k0(x) + sp.kv(2, x)))
elementwise(sp.kv, lambda ans, v, x: -0.5 * (sp.kv(v - 1, x) + sp.kv(v + 1, x)), argnums=(1,))
elementwise(sp.kve, lambda ans, v, x: ans - 0.5 * (sp.kve(v - 1, x) + sp.kve(v + 1, x)), argnums=(1,))


# Reductions over an axis: logsumexp, softmax, log_softmax

def _kept(value: Any, shape: tuple, axis: Any, keepdims: bool) -> Any:
    """``value``, reduced from ``shape`` over ``axis``, given back its reduced axes (size 1) to broadcast."""
    if keepdims or not shape:
        return value
    axes = normalize_axis(axis, len(shape))
    return anp.reshape(value, tuple(1 if i in axes else size for i, size in enumerate(shape)))


def _logsumexp_parts(ans: Any, a: Any, axis: Any, b: Any, keepdims: bool, return_sign: bool) -> tuple:
    """(e, s): exp(a - logsumexp) with the reduced axes kept, and the sign, so that d/da = s b e, d/db = s e."""
    shape = _np.broadcast_shapes(shape_of(a), shape_of(b)) if b is not None else shape_of(a)
    lse, sign = ans if return_sign else (ans, 1.0)
    e = anp.exp(a - _kept(lse, shape, axis, keepdims))
    return e, (_kept(sign, shape, axis, keepdims) if return_sign else 1.0)


def _logsumexp_args(a: Any, axis: Any = None, b: Any = None, keepdims: bool = False,
                    return_sign: bool = False) -> tuple:
    return a, axis, b, keepdims, return_sign


def _logsumexp_slope(argnum: int, ans: Any, args: tuple, kwargs: dict) -> tuple:
    """d logsumexp / d(argument ``argnum``) with the reduced axes kept, and the shape reduced."""
    if argnum not in (0, 2):
        raise NotImplementedError(f"gradviz.scipy.special.logsumexp: argument {argnum} is not differentiable")
    a, axis, b, keepdims, return_sign = _logsumexp_args(*args, **kwargs)
    e, s = _logsumexp_parts(ans, a, axis, b, keepdims, return_sign)
    return (s * e if argnum == 2 or b is None else s * e * b), axis, keepdims, return_sign


def _logsumexp_vjp(argnum: int, ans: Any, args: tuple, kwargs: dict) -> Callable:
    slope, axis, keepdims, return_sign = _logsumexp_slope(argnum, ans, args, kwargs)
    shape = shape_of(slope)

    def vjp(g: Any) -> Any:
        if return_sign:  # the sign is piecewise constant: only the log-magnitude's gradient counts
            g = g[0]
        return unbroadcast(args[argnum], _kept(g, shape, axis, keepdims) * slope)

    return vjp


def _logsumexp_jvp(argnum: int, g: Any, ans: Any, args: tuple, kwargs: dict) -> Any:
    slope, axis, keepdims, return_sign = _logsumexp_slope(argnum, ans, args, kwargs)
    tangent = anp.sum(g * slope, axis=axis, keepdims=keepdims)
    if return_sign:
        return broadcast_like(tangent, ans[0]), anp.zeros_like(ans[1])
    return broadcast_like(tangent, ans)


defvjp_argnum(sp.logsumexp, _logsumexp_vjp)
defjvp_argnum(sp.logsumexp, _logsumexp_jvp)


def _softmax_vjp(ans: Any, x: Any, axis: Any = None) -> Callable:
    return lambda g: ans * (g - anp.sum(g * ans, axis=axis, keepdims=True))


def _log_softmax_vjp(ans: Any, x: Any, axis: Any = None) -> Callable:
    return lambda g: g - anp.exp(ans) * anp.sum(g, axis=axis, keepdims=True)


# Along the axis, softmax's Jacobian is diag(s) - s s^T (symmetric: one formula for VJP and JVP); log_softmax's is
# I - 1 s^T, whose transpose is I - s 1^T
defvjp(sp.softmax, _softmax_vjp)
defjvp(sp.softmax, lambda g, ans, x, axis=None: ans * (g - anp.sum(g * ans, axis=axis, keepdims=True)))
defvjp(sp.log_softmax, _log_softmax_vjp)
defjvp(sp.log_softmax, lambda g, ans, x, axis=None: g - anp.sum(anp.exp(ans) * g, axis=axis, keepdims=True))
elementwise(sp.softplus, lambda ans, x: sp.expit(x))
