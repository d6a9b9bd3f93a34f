"""Elementwise functions: one line per rule, the derivative as a textbook states it.

For a function f of one argument, ``unary(f, d)`` takes ``d(ans, x) = f'(x)`` and defines the VJP ``g * f'(x)``
and the JVP ``g * f'(x)``. Complex inputs follow autograd's convention: the gradient of a real function of
z = x + iy is df/dx - i df/dy, so the VJP of a holomorphic function is ``g * f'(z)``, with no conjugate.
"""

from __future__ import annotations

import numpy as _np

from ..core.backward import defvjp
from ..core.forward import def_linear, defjvp
from ..core.tracer import getval
from . import wrapped as anp
from .rules_util import balanced_eq, broadcast_like, iscomplex, match_complex, replace_zero, unbroadcast_f

_LOG2 = float(_np.log(2.0))  # python floats: they keep float32 data float32, as NumPy scalars would not
_LOG10 = float(_np.log(10.0))


def unary(fun, derivative) -> None:
    """Rules for an elementwise, single-argument ``fun`` with ``fun'(x) = derivative(ans, x)``."""
    defvjp(fun, lambda ans, x: lambda g: match_complex(x, g * derivative(ans, x)))
    defjvp(fun, lambda g, ans, x: g * derivative(ans, x))


# Exponentials and logarithms
unary(anp.exp, lambda ans, x: ans)
unary(anp.exp2, lambda ans, x: ans * _LOG2)
unary(anp.expm1, lambda ans, x: ans + 1)
unary(anp.log, lambda ans, x: 1 / x)
unary(anp.log2, lambda ans, x: 1 / (x * _LOG2))
unary(anp.log10, lambda ans, x: 1 / (x * _LOG10))
unary(anp.log1p, lambda ans, x: 1 / (x + 1))

# Trigonometric and hyperbolic
unary(anp.sin, lambda ans, x: anp.cos(x))
unary(anp.cos, lambda ans, x: -anp.sin(x))
unary(anp.tan, lambda ans, x: 1 / anp.cos(x) ** 2)
unary(anp.arcsin, lambda ans, x: 1 / anp.sqrt(1 - x ** 2))
unary(anp.arccos, lambda ans, x: -1 / anp.sqrt(1 - x ** 2))
unary(anp.arctan, lambda ans, x: 1 / (1 + x ** 2))
unary(anp.sinh, lambda ans, x: anp.cosh(x))
unary(anp.cosh, lambda ans, x: anp.sinh(x))
unary(anp.tanh, lambda ans, x: 1 - ans * ans)  # = 1 / cosh(x)^2, from the output: no second transcendental
unary(anp.arcsinh, lambda ans, x: 1 / anp.sqrt(x ** 2 + 1))
unary(anp.arccosh, lambda ans, x: 1 / anp.sqrt(x ** 2 - 1))
unary(anp.arctanh, lambda ans, x: 1 / (1 - x ** 2))
unary(anp.deg2rad, lambda ans, x: _np.pi / 180)
unary(anp.rad2deg, lambda ans, x: 180 / _np.pi)
unary(anp.radians, lambda ans, x: _np.pi / 180)
unary(anp.degrees, lambda ans, x: 180 / _np.pi)


def _sinc_slope(ans, x):
    """sinc'(x) = (cos(pi x) - sinc(x)) / x; near 0, where that difference cancels, its Taylor series instead."""
    small = _np.abs(getval(x)) < 1e-2  # a constant mask
    px2 = (_np.pi * x) ** 2
    series = -_np.pi ** 2 / 3 * x * (1 - px2 / 10 + px2 * px2 / 280)
    return anp.where(small, series, (anp.cos(_np.pi * x) - ans) / anp.where(small, 1.0, x))


unary(anp.sinc, _sinc_slope)

# Powers and roots
unary(anp.sqrt, lambda ans, x: 0.5 / ans)
unary(anp.cbrt, lambda ans, x: 1 / (3 * ans ** 2))
unary(anp.square, lambda ans, x: 2 * x)
unary(anp.reciprocal, lambda ans, x: -(ans ** 2))

# Linear maps of one argument
defvjp(anp.negative, lambda ans, x: lambda g: -g)
defvjp(anp.positive, lambda ans, x: lambda g: g)
defvjp(anp.conjugate, lambda ans, x: lambda g: anp.conjugate(g))
defvjp(anp.real, lambda ans, x: lambda g: anp.real(g) * (1 + 0j) if iscomplex(x) else anp.real(g))
defvjp(anp.imag, lambda ans, x: lambda g: -1j * anp.real(g) if iscomplex(x) else anp.zeros_like(g))
for _linear in (anp.negative, anp.positive, anp.conjugate, anp.real, anp.imag):
    def_linear(_linear)

# Absolute value and angle (not holomorphic: their rules use the conjugate)
defvjp(anp.absolute, lambda ans, x: lambda g: g * anp.conjugate(x) / replace_zero(ans, 1.0) * (ans != 0))
defjvp(anp.absolute, lambda g, ans, x: anp.real(anp.conjugate(x) * g) / replace_zero(ans, 1.0) * (ans != 0))
defvjp(anp.fabs, lambda ans, x: lambda g: g * anp.sign(x))
defjvp(anp.fabs, lambda g, ans, x: g * anp.sign(x))
defvjp(anp.angle, lambda ans, x: lambda g: (
    g * -1j * anp.conjugate(x) / replace_zero(anp.absolute(x) ** 2, 1.0) if iscomplex(x) else anp.zeros_like(x)))
defjvp(anp.angle, lambda g, ans, x: (
    anp.imag(anp.conjugate(x) * g) / replace_zero(anp.absolute(x) ** 2, 1.0) if iscomplex(x) else
    anp.zeros_like(ans)))

# Arithmetic, with broadcasting: each argument's gradient is summed back to its shape
defvjp(anp.add, lambda ans, x, y: unbroadcast_f(x, lambda g: g),
       lambda ans, x, y: unbroadcast_f(y, lambda g: g))
defjvp(anp.add, lambda g, ans, x, y: broadcast_like(g, ans), lambda g, ans, x, y: broadcast_like(g, ans))
defvjp(anp.subtract, lambda ans, x, y: unbroadcast_f(x, lambda g: g),
       lambda ans, x, y: unbroadcast_f(y, lambda g: -g))
defjvp(anp.subtract, lambda g, ans, x, y: broadcast_like(g, ans), lambda g, ans, x, y: broadcast_like(-g, ans))
defvjp(anp.multiply, lambda ans, x, y: unbroadcast_f(x, lambda g: g * y),
       lambda ans, x, y: unbroadcast_f(y, lambda g: x * g))
defjvp(anp.multiply, lambda g, ans, x, y: broadcast_like(g * y, ans),
       lambda g, ans, x, y: broadcast_like(x * g, ans))
defvjp(anp.true_divide, lambda ans, x, y: unbroadcast_f(x, lambda g: g / y),
       lambda ans, x, y: unbroadcast_f(y, lambda g: -g * x / y ** 2))
defjvp(anp.true_divide, lambda g, ans, x, y: broadcast_like(g / y, ans),
       lambda g, ans, x, y: broadcast_like(-g * x / y ** 2, ans))


def _log_base(x):
    """log(x), with 0 where x is 0 (there the power's derivative in the exponent is taken as 0)."""
    if type(x) in (int, float, complex):  # a python base, as in 2 ** y: a python log keeps float32 y float32
        return _np.log(x).item() if x != 0 else 0.0
    return anp.log(replace_zero(x, 1.0))


def _power_slope(x, y):
    """d(x ** y)/dx = y * x ** (y - 1), taken as 0 where y == 0 (even at x == 0)."""
    if type(y) in (int, float):  # a constant exponent, as in x ** 2: one pass, no masks
        return 2 * x if y == 2 else (y * x ** (y - 1) if y != 0 else anp.zeros_like(x))
    return y * x ** anp.where(y == 0, 1.0, y - 1) * (y != 0)


defvjp(anp.power, lambda ans, x, y: unbroadcast_f(x, lambda g: g * _power_slope(x, y)),
       lambda ans, x, y: unbroadcast_f(y, lambda g: g * _log_base(x) * ans))
defjvp(anp.power, lambda g, ans, x, y: broadcast_like(g * _power_slope(x, y), ans),
       lambda g, ans, x, y: broadcast_like(g * _log_base(x) * ans, ans))
defvjp(anp.float_power,
       lambda ans, x, y: unbroadcast_f(x, lambda g: g * y * anp.float_power(x, anp.where(y == 0, 1.0, y - 1))
                                       * (y != 0)),
       lambda ans, x, y: unbroadcast_f(y, lambda g: g * _log_base(x) * ans))
defjvp(anp.float_power,
       lambda g, ans, x, y: broadcast_like(g * y * anp.float_power(x, anp.where(y == 0, 1.0, y - 1)) * (y != 0),
                                           ans),
       lambda g, ans, x, y: broadcast_like(g * _log_base(x) * ans, ans))

# Maxima and minima: the gradient goes to the winner, split evenly on a tie
for _pick in (anp.maximum, anp.minimum, anp.fmax, anp.fmin):
    defvjp(_pick, lambda ans, x, y: unbroadcast_f(x, lambda g: g * balanced_eq(x, ans, y)),
           lambda ans, x, y: unbroadcast_f(y, lambda g: g * balanced_eq(y, ans, x)))
    defjvp(_pick, lambda g, ans, x, y: broadcast_like(g * balanced_eq(x, ans, y), ans),
           lambda g, ans, x, y: broadcast_like(g * balanced_eq(y, ans, x), ans))

# Two-argument transcendental functions
defvjp(anp.logaddexp, lambda ans, x, y: unbroadcast_f(x, lambda g: g * anp.exp(x - ans)),
       lambda ans, x, y: unbroadcast_f(y, lambda g: g * anp.exp(y - ans)))
defjvp(anp.logaddexp, lambda g, ans, x, y: broadcast_like(g * anp.exp(x - ans), ans),
       lambda g, ans, x, y: broadcast_like(g * anp.exp(y - ans), ans))
defvjp(anp.logaddexp2, lambda ans, x, y: unbroadcast_f(x, lambda g: g * 2 ** (x - ans)),
       lambda ans, x, y: unbroadcast_f(y, lambda g: g * 2 ** (y - ans)))
defjvp(anp.logaddexp2, lambda g, ans, x, y: broadcast_like(g * 2 ** (x - ans), ans),
       lambda g, ans, x, y: broadcast_like(g * 2 ** (y - ans), ans))
defvjp(anp.arctan2, lambda ans, y, x: unbroadcast_f(y, lambda g: g * x / (x ** 2 + y ** 2)),
       lambda ans, y, x: unbroadcast_f(x, lambda g: -g * y / (x ** 2 + y ** 2)))
defjvp(anp.arctan2, lambda g, ans, y, x: broadcast_like(g * x / (x ** 2 + y ** 2), ans),
       lambda g, ans, y, x: broadcast_like(-g * y / (x ** 2 + y ** 2), ans))
defvjp(anp.hypot, lambda ans, x, y: unbroadcast_f(x, lambda g: g * x / ans),
       lambda ans, x, y: unbroadcast_f(y, lambda g: g * y / ans))
defjvp(anp.hypot, lambda g, ans, x, y: broadcast_like(g * x / ans, ans),
       lambda g, ans, x, y: broadcast_like(g * y / ans, ans))

# Remainders: piecewise x - k*y with k constant between the jumps
defvjp(anp.remainder, lambda ans, x, y: unbroadcast_f(x, lambda g: g),
       lambda ans, x, y: unbroadcast_f(y, lambda g: -g * anp.floor(x / y)))
defjvp(anp.remainder, lambda g, ans, x, y: broadcast_like(g, ans),
       lambda g, ans, x, y: broadcast_like(-g * anp.floor(x / y), ans))
defvjp(anp.fmod, lambda ans, x, y: unbroadcast_f(x, lambda g: g),
       lambda ans, x, y: unbroadcast_f(y, lambda g: -g * anp.trunc(x / y)))
defjvp(anp.fmod, lambda g, ans, x, y: broadcast_like(g, ans),
       lambda g, ans, x, y: broadcast_like(-g * anp.trunc(x / y), ans))
defvjp(anp.copysign, lambda ans, x, y: unbroadcast_f(x, lambda g: g * anp.sign(x) * anp.sign(ans)), None)
defjvp(anp.copysign, lambda g, ans, x, y: broadcast_like(g * anp.sign(x) * anp.sign(ans), ans), None)
defvjp(anp.ldexp, lambda ans, x, n: unbroadcast_f(x, lambda g: anp.ldexp(g, n)), None)  # g * 2**n, in g's dtype
defjvp(anp.ldexp, lambda g, ans, x, n: broadcast_like(anp.ldexp(g, n), ans), None)
defvjp(anp.nan_to_num, lambda ans, x, *args, **kwargs: lambda g: anp.where(anp.isfinite(x), g, 0.0))
defjvp(anp.nan_to_num, lambda g, ans, x, *args, **kwargs: anp.where(anp.isfinite(x), g, 0.0))

# Selections
defvjp(anp.where, None,
       lambda ans, c, x=None, y=None: unbroadcast_f(x, lambda g: anp.where(c, g, anp.zeros_like(g))),
       lambda ans, c, x=None, y=None: unbroadcast_f(y, lambda g: anp.where(c, anp.zeros_like(g), g)))
defjvp(anp.where, None,
       lambda g, ans, c, x=None, y=None: anp.where(c, broadcast_like(g, ans), anp.zeros_like(ans)),
       lambda g, ans, c, x=None, y=None: anp.where(c, anp.zeros_like(ans), broadcast_like(g, ans)))



def _inside(x, lo, hi, kw):
    """Where ``lo <= x <= hi`` (a missing bound admits everything): there clip passes x through.

    Bounds given by name (``a_min=``/``a_max=``, or NumPy 2's ``min=``/``max=``) arrive in ``kw``.
    """
    lo = kw.get("a_min", kw.get("min")) if lo is None else lo
    hi = kw.get("a_max", kw.get("max")) if hi is None else hi
    inside = anp.ones_like(x, dtype=bool)
    if lo is not None:
        inside = anp.logical_and(inside, anp.greater_equal(x, lo))
    if hi is not None:
        inside = anp.logical_and(inside, anp.less_equal(x, hi))
    return inside


defvjp(anp.clip, lambda ans, x, lo=None, hi=None, **kw: unbroadcast_f(x, lambda g: g * _inside(x, lo, hi, kw)),
       lambda ans, x, lo, hi=None, **kw: unbroadcast_f(lo, lambda g: g * anp.less(x, lo)),
       lambda ans, x, lo, hi, **kw: unbroadcast_f(hi, lambda g: g * anp.greater(x, hi)))
defjvp(anp.clip, lambda g, ans, x, lo=None, hi=None, **kw: broadcast_like(g * _inside(x, lo, hi, kw), ans),
       lambda g, ans, x, lo, hi=None, **kw: broadcast_like(g * anp.less(x, lo), ans),
       lambda g, ans, x, lo, hi, **kw: broadcast_like(g * anp.greater(x, hi), ans))
