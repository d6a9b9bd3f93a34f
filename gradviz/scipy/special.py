"""scipy.special for gradviz: every public function as a primitive, and derivative rules in both modes.

Each rule states the derivative as a handbook does (DLMF numbers where it helps), written with gradviz.numpy and
with these very primitives, so that the derivative of a rule is itself traced: psi -> polygamma(1) ->
polygamma(2), iv -> iv of the neighbouring orders, erf -> exp. Integer orders (``n`` of jn, yn, polygamma) and
orders without a closed-form derivative (``v`` of iv, ive, jv, yv, kv) have no rule: differentiating in them raises
NotImplementedError. The incomplete gamma and beta functions and stdtr are differentiable in their shape
parameters (``a``, ``b``, ``df``) to first order only: those partials have no closed form and are integrated
numerically, elementwise, on plain values (see ``_first_order``), so they are much slower than the closed-form rules
and a second derivative through them raises NotImplementedError.
Functions whose output is an integer, a sign, a table of zeros or quadrature nodes are constants.
"""

from __future__ import annotations

import math
import types
import warnings
from collections.abc import Callable
from typing import Any

import numpy as _np
import scipy.integrate as _integrate
import scipy.special as _special

from ..core.backward import defvjp, defvjp_argnum
from ..core.forward import defjvp, defjvp_argnum
from ..core.tracer import NoTracePrimitive, Primitive, isbox
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


# Incomplete gamma and beta functions and Student's t cdf, in x (DLMF 8.8.13, 8.17.7)

def _t_density(df: Any, t: Any) -> Any:
    """Student's t density: d/dt of stdtr(df, t)."""
    return anp.exp(sp.gammaln(0.5 * (df + 1)) - sp.gammaln(0.5 * df) - 0.5 * anp.log(df * _np.pi)
                   - 0.5 * (df + 1) * anp.log1p(t * t / df))


# ... and in their shape parameters, which have no closed form. Differentiating under the integral (DLMF 8.2.1,
# 8.17.1): d/da P(a, x) = int_0^x f(t) (ln t - psi(a)) dt with f the gamma density, and d/da I_x(a, b) =
# int_0^x f(t) (ln t - psi(a) + psi(a + b)) dt, d/db I_x(a, b) = int_0^x f(t) (ln(1 - t) - psi(b) + psi(a + b)) dt
# with f the beta density. Over the whole support these integrals are 0 (the score has mean 0), so each can also be
# taken, with a minus sign, over the other side of x: we take the side on which the integrand keeps one sign, which
# has no cancellation and, near 1 - P or 1 - I, keeps the precision of the small tail. An endpoint singularity
# t^(a-1) (a < 1) is removed by the substitution u = t^a, since t^(a-1) dt = du / a; (1 - t)^(b-1) likewise.
# This is scipy.integrate.quad per element in a Python loop: far slower than the closed-form rules.

_QUAD = {"epsabs": 0.0, "epsrel": 1e-12, "limit": 200}


def _quad(integrand: Callable[[float], float], lo: float, hi: float) -> float:
    with warnings.catch_warnings():  # quad can't always prove 1e-12; checked against extrapolated differences
        warnings.simplefilter("ignore", _integrate.IntegrationWarning)
        return _integrate.quad(integrand, lo, hi, **_QUAD)[0]


def _integral(integrand: Callable[[float], float], power: float, lo: float, hi: float) -> float:
    """int_lo^hi t^(power-1) integrand(ln t) dt, 0 < power <= 1, taken in u = t^power (t^(power-1) dt = du / power):
    an integrable singularity t^(power-1) at t = 0 becomes a regular integrand."""
    if not hi > lo:
        return 0.0
    return _quad(lambda u: integrand(math.log(u) / power) / power, lo ** power, hi ** power)


def _gammainc_da(a: float, x: float) -> float:
    """d/da P(a, x) for scalars."""
    if not (a > 0 and x >= 0):
        return math.nan
    if x == 0 or math.isinf(x):
        return 0.0
    psi, log_gamma, power = float(_special.psi(a)), float(_special.gammaln(a)), min(a, 1.0)

    def integrand(log_t: float) -> float:  # f(t) (ln t - psi(a)) without t^(power-1)
        return math.exp((a - power) * log_t - math.exp(log_t) - log_gamma) * (log_t - psi)

    if math.log(x) <= psi:  # negative on [0, x]
        return _integral(integrand, power, 0.0, x)
    # positive on [x, inf): -int_x^inf, split where only the exponential decay is left
    split = max(x, a) + 10 * math.sqrt(a) + 40
    return -(_integral(integrand, power, x, split) + _quad(lambda t: integrand(math.log(t)) * t ** (power - 1),
                                                            split, math.inf))


def _betainc_dab(a: float, b: float, x: float, which: int, y: float | None = None) -> float:
    """d/da I_x(a, b) (``which`` 0) or d/db (``which`` 1) for scalars; ``y`` is 1 - x when known more precisely.

    Each integral is split at t = 1/2: in t below, in s = 1 - t above (where ln(1 - t) = ln s keeps its precision),
    so that t^(a-1) at 0 and (1 - t)^(b-1) at 1 are each removed by ``_integral``."""
    if not (a > 0 and b > 0 and 0 <= x <= 1):
        return math.nan
    y = 1.0 - x if y is None else y
    if x == 0 or y == 0:
        return 0.0
    psi_ab, log_beta = float(_special.psi(a + b)), float(_special.betaln(a, b))
    mean = float(_special.psi(a if which == 0 else b)) - psi_ab  # E[ln t] or E[ln(1 - t)]
    power_a, power_b = min(a, 1.0), min(b, 1.0)

    def density_score(log_t: float, log_s: float, power_t: float, power_s: float) -> float:
        """t^power_t (1 - t)^power_s / B(a, b) times the score, from ln t and ln(1 - t)."""
        return math.exp(power_t * log_t + power_s * log_s - log_beta) * ((log_t if which == 0 else log_s) - mean)

    def in_t(log_t: float) -> float:
        return density_score(log_t, math.log1p(-math.exp(log_t)), a - power_a, b - 1)

    def in_s(log_s: float) -> float:
        return density_score(math.log1p(-math.exp(log_s)), log_s, a - 1, b - power_b)

    score = (math.log(x) if which == 0 else math.log(y)) - mean
    if (score <= 0) if which == 0 else (score >= 0):  # one sign on [0, x]
        return _integral(in_t, power_a, 0.0, min(x, 0.5)) + _integral(in_s, power_b, y, 0.5)
    # one sign on [x, 1]
    return -(_integral(in_t, power_a, x, 0.5) + _integral(in_s, power_b, 0.0, min(y, 0.5)))


def _stdtr_ddf(df: float, t: float) -> float:
    """d/d(df) stdtr(df, t) for scalars, through stdtr = 1/2 + sign(t) (1 - I_z(df/2, 1/2)) / 2, z = df/(df + t^2):
    the chain rule through a = df/2 and z. The two terms cancel to O(1/df^2): about log10(df) digits are lost."""
    if not df > 0 or math.isnan(t):
        return math.nan
    t2 = t * t
    if t2 == 0 or math.isinf(t2):
        return 0.0
    z, y = df / (df + t2), t2 / (df + t2)  # z and 1 - z
    da = _betainc_dab(0.5 * df, 0.5, z, 0, y)
    # dI/dz dz/d(df), with dI/dz the beta density and dz/d(df) = y z / df
    dz = math.exp((0.5 * df - 1) * math.log(z) + 0.5 * math.log(y) - float(_special.betaln(0.5 * df, 0.5))) * z / df
    return -math.copysign(0.25, t) * (da + 2 * dz)


def _elementwise_numeric(scalar: Callable[..., float], *args: Any) -> Any:
    """``scalar`` on each element of the broadcast ``args``, in a Python loop (float32 in, float32 out)."""
    arrays = _np.broadcast_arrays(*[_np.asarray(arg) for arg in args])
    dtype = _np.result_type(*arrays)
    out = _np.empty(arrays[0].shape, dtype if _np.issubdtype(dtype, _np.floating) else _np.float64)
    for index in _np.ndindex(out.shape):
        out[index] = scalar(*[float(array[index]) for array in arrays])
    return out


def _first_order(fun: Primitive, argnum: int, what: str, scalar: Callable[..., float], sign: float = 1.0) -> Callable:
    """The partial of ``fun`` in argument ``argnum``, computed by ``scalar`` on plain values: it has no derivative
    of its own, so on traced arguments (a second derivative) it raises instead of returning a wrong number."""
    def partial(ans: Any, *args: Any) -> Any:
        if any(isbox(arg) for arg in args):
            raise NotImplementedError(
                f"gradviz.scipy.special.{fun.name}: the derivative in {what} (argument {argnum}) is computed by "
                "numerical quadrature and is first-order only; differentiating it again (a second derivative, a "
                f"Hessian, the derivative of a gradient) is not implemented. Pass {what} as a constant there."
            )
        return sign * _elementwise_numeric(scalar, *args)
    return partial


elementwise(sp.betainc, _first_order(sp.betainc, 0, "a", lambda a, b, x: _betainc_dab(a, b, x, 0)),
            _first_order(sp.betainc, 1, "b", lambda a, b, x: _betainc_dab(a, b, x, 1)),
            lambda ans, a, b, x: _beta_density(a, b, x))
elementwise(sp.betaincc, _first_order(sp.betaincc, 0, "a", lambda a, b, x: _betainc_dab(a, b, x, 0), -1.0),
            _first_order(sp.betaincc, 1, "b", lambda a, b, x: _betainc_dab(a, b, x, 1), -1.0),
            lambda ans, a, b, x: -_beta_density(a, b, x))
elementwise(sp.gammainc, _first_order(sp.gammainc, 0, "a", _gammainc_da), lambda ans, a, x: _gamma_density(a, x))
elementwise(sp.gammaincc, _first_order(sp.gammaincc, 0, "a", _gammainc_da, -1.0),
            lambda ans, a, x: -_gamma_density(a, x))
elementwise(sp.stdtr, _first_order(sp.stdtr, 0, "df", _stdtr_ddf), lambda ans, df, t: _t_density(df, t))

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
if hasattr(sp, "softplus"):  # SciPy >= 1.15
    elementwise(sp.softplus, lambda ans, x: sp.expit(x))
