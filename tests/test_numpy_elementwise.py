"""Elementwise NumPy rules (gradviz/numpy/rules_elementwise.py) against finite differences and closed forms.

Every rule is checked in forward and reverse mode to second order, on scalars and small arrays, in float32 and
float64, with broadcasting for the binary ones and complex inputs where NumPy defines the function on them.
Inputs are drawn inside each function's domain and away from its kinks and jumps.
"""

from __future__ import annotations

import operator

import numpy as onp
import pytest

import gradviz.numpy as np
from gradviz import deriv, elementwise_grad, grad, make_jvp, make_vjp
from gradviz.extend import defjvp, defvjp, primitive
from gradviz.test_util import check_grads

F64, F32, C128, C64 = onp.dtype("float64"), onp.dtype("float32"), onp.dtype("complex128"), onp.dtype("complex64")

# Domains: (low, high, either sign). A signed domain draws |x| from [low, high] with a random sign.
ANY = (-2.0, 2.0, False)
POS = (0.5, 3.0, False)
NONZERO = (0.5, 2.0, True)
UNIT = (-0.8, 0.8, False)


def draw(shape, domain, dtype=F64):
    """Random values of ``shape`` in ``domain``; shape "float" is a python float, () a NumPy scalar."""
    lo, hi, signed = domain
    size = () if shape == "float" else shape
    x = onp.random.uniform(lo, hi, size=size)
    if signed:
        x = x * onp.random.choice([-1.0, 1.0], size=size)
    if dtype.kind == "c":
        x = x + 1j * onp.random.uniform(-0.4, 0.4, size=size)
    if shape == "float":
        return float(x)
    x = onp.asarray(x, dtype)
    return x[()] if shape == () else x


# name, domain, checked on complex inputs too
UNARY = [
    ("exp", ANY, True), ("exp2", ANY, True), ("expm1", ANY, True),
    ("log", POS, True), ("log2", POS, True), ("log10", POS, True), ("log1p", (-0.5, 2.0, False), True),
    ("sin", ANY, True), ("cos", ANY, True), ("tan", (-1.2, 1.2, False), True),
    ("arcsin", UNIT, True), ("arccos", UNIT, True), ("arctan", ANY, True),
    ("sinh", ANY, True), ("cosh", ANY, True), ("tanh", ANY, True),
    ("arcsinh", ANY, True), ("arccosh", (1.2, 3.0, False), True), ("arctanh", UNIT, True),
    ("deg2rad", ANY, False), ("rad2deg", ANY, False), ("degrees", ANY, False), ("radians", ANY, False),
    ("sinc", ANY, True), ("sqrt", POS, True), ("cbrt", NONZERO, False), ("square", ANY, True),
    ("reciprocal", NONZERO, True),
    ("negative", ANY, True), ("positive", ANY, True), ("conjugate", ANY, True), ("real", ANY, True),
    ("imag", ANY, True), ("absolute", NONZERO, True), ("fabs", NONZERO, False), ("angle", NONZERO, True),
    ("nan_to_num", ANY, True),
]
UNARY_IDS = [row[0] for row in UNARY]
COMPLEX_UNARY = [row for row in UNARY if row[2]]
SHAPES = [(), (3,), (2, 3)]


@pytest.mark.parametrize("dtype", [F64, F32], ids=str)
@pytest.mark.parametrize("shape", SHAPES, ids=str)
@pytest.mark.parametrize("name, domain, _", UNARY, ids=UNARY_IDS)
def test_unary_real(name, domain, _, shape, dtype):
    check_grads(getattr(np, name))(draw(shape, domain, dtype))


@pytest.mark.parametrize("shape, dtype", [((), C128), ((2, 3), C128), ((3,), C64)], ids=str)
@pytest.mark.parametrize("name, domain, _", COMPLEX_UNARY, ids=[row[0] for row in COMPLEX_UNARY])
def test_unary_complex(name, domain, _, shape, dtype):
    check_grads(getattr(np, name))(draw(shape, domain, dtype))


def test_unary_python_float():
    for name, domain, _ in UNARY:
        check_grads(getattr(np, name))(draw("float", domain))


# --- what the rules hand on: the raw gradient and tangent, before make_vjp / make_jvp cast them to the input's type

_seen = {}


@primitive
def probe(x):
    """The identity, recording the gradient (reverse mode) or tangent (forward mode) that passes through it."""
    return x


def _record(key, value):
    _seen[key] = value
    return value


defvjp(probe, lambda ans, x: lambda g: _record("grad", g))
defjvp(probe, lambda g, ans, x: _record("tangent", g))


def raw_grad(fun, x):
    """The gradient that ``fun``'s rule sends back to ``x``, as the rule made it."""
    _seen.clear()
    vjp, ans = make_vjp(lambda x: fun(probe(x)))(x)
    vjp(onp.ones_like(ans) if isinstance(ans, onp.ndarray) else type(ans)(1))
    return _seen["grad"]


def raw_tangent(fun, x):
    """The output tangent ``fun``'s rule makes from the tangent ones_like(x)."""
    _seen.clear()
    make_jvp(lambda x: probe(fun(x)))(x)(onp.ones_like(x) if isinstance(x, onp.ndarray) else type(x)(1))
    return _seen["tangent"]


def assert_like(value, dtype, shape):
    assert onp.result_type(value) == dtype and onp.shape(value) == shape, (onp.result_type(value), onp.shape(value))


@pytest.mark.parametrize("dtype", [F64, F32], ids=str)
@pytest.mark.parametrize("shape", SHAPES, ids=str)
@pytest.mark.parametrize("name, domain, _", UNARY, ids=UNARY_IDS)
def test_unary_grad_keeps_dtype_and_shape(name, domain, _, shape, dtype):
    fun = getattr(np, name)
    x = draw(shape, domain, dtype)
    assert_like(raw_grad(fun, x), dtype, shape)
    assert_like(raw_tangent(fun, x), onp.result_type(fun(x)), shape)


@pytest.mark.parametrize("dtype", [C128, C64], ids=str)
@pytest.mark.parametrize("name, domain, _", COMPLEX_UNARY, ids=[row[0] for row in COMPLEX_UNARY])
def test_unary_complex_grad_keeps_dtype(name, domain, _, dtype):
    fun = getattr(np, name)
    x = draw((3,), domain, dtype)
    assert_like(raw_grad(fun, x), dtype, (3,))
    assert_like(raw_tangent(fun, x), onp.result_type(fun(x)), (3,))


# --- binary functions, with broadcasting

def apart(x, y):
    return onp.all(onp.abs(x - y) > 0.1)


def away_from_jumps(rounding):
    """x / y stays at least 0.1 away from where ``rounding`` (floor, trunc) of it jumps."""
    def ok(x, y):
        q = onp.asarray(x / y, float)
        frac = q - rounding(q)
        return onp.all(onp.abs(frac) > 0.1) and onp.all(onp.abs(frac) < 0.9)
    return ok


# name, domain of x, domain of y, condition on the broadcast pair, checked on complex inputs too
BINARY = [
    ("add", ANY, ANY, None, True),
    ("subtract", ANY, ANY, None, True),
    ("multiply", ANY, ANY, None, True),
    ("true_divide", ANY, NONZERO, None, True),
    ("power", POS, ANY, None, True),
    ("float_power", POS, ANY, None, True),
    ("maximum", ANY, ANY, apart, False),
    ("minimum", ANY, ANY, apart, False),
    ("fmax", ANY, ANY, apart, False),
    ("fmin", ANY, ANY, apart, False),
    ("logaddexp", ANY, ANY, None, False),
    ("logaddexp2", ANY, ANY, None, False),
    ("arctan2", POS, ANY, None, False),  # arctan2(y, x) with y > 0: away from the cut along x < 0
    ("hypot", NONZERO, NONZERO, None, False),
    ("remainder", (-5.0, 5.0, False), NONZERO, away_from_jumps(onp.floor), False),
    ("fmod", (-5.0, 5.0, False), NONZERO, away_from_jumps(onp.trunc), False),
    ("copysign", NONZERO, NONZERO, None, False),
]
BINARY_IDS = [row[0] for row in BINARY]
COMPLEX_BINARY = [row for row in BINARY if row[4]]
PAIRS = [((), ()), ((3,), (3,)), ((2, 3), (2, 3)), ((3,), (2, 3)), ((2, 3), (3,)), ((2, 1), (1, 3)), ((), (2, 3)),
         ((2, 3), ()), ("float", (2, 3)), ((2, 3), "float")]


def draw_pair(shapes, x_domain, y_domain, condition, dtype=F64):
    for _ in range(100):
        x, y = draw(shapes[0], x_domain, dtype), draw(shapes[1], y_domain, dtype)
        if condition is None or condition(onp.asarray(x, complex if dtype.kind == "c" else float), y):
            return x, y
    raise AssertionError("could not draw a pair inside the domain")


# A python float next to float32 data is computed in float32, so float64 tolerances can't apply to it: no such case.
BINARY_REAL_CASES = [
    pytest.param(*row, shapes, dtype, argnum, id=f"{row[0]}-{shapes}-{dtype}-arg{argnum}")
    for row in BINARY for shapes in PAIRS for dtype in (F64, F32) for argnum in (0, 1)
    if not (dtype == F32 and shapes[argnum] == "float")
]


@pytest.mark.parametrize("name, x_domain, y_domain, condition, _, shapes, dtype, argnum", BINARY_REAL_CASES)
def test_binary_real(name, x_domain, y_domain, condition, _, shapes, dtype, argnum):
    check_grads(getattr(np, name), argnum)(*draw_pair(shapes, x_domain, y_domain, condition, dtype))


@pytest.mark.parametrize("argnum", [0, 1])
@pytest.mark.parametrize("shapes, dtype", [(((3,), (2, 3)), C128), (((), ()), C128), (((2, 1), (1, 3)), C64)],
                         ids=str)
@pytest.mark.parametrize("name, x_domain, y_domain, condition, _", COMPLEX_BINARY,
                         ids=[row[0] for row in COMPLEX_BINARY])
def test_binary_complex(name, x_domain, y_domain, condition, _, shapes, dtype, argnum):
    check_grads(getattr(np, name), argnum)(*draw_pair(shapes, x_domain, y_domain, condition, dtype))


def test_binary_complex_with_real():
    """A real argument next to a complex one gets a real gradient; the complex one a complex gradient."""
    z, x = draw((2, 3), POS, C128), draw((3,), POS)
    for name in ("add", "subtract", "multiply", "true_divide", "power"):
        fun = getattr(np, name)
        check_grads(fun, 0)(z, x)
        check_grads(fun, 1)(z, x)
        check_grads(fun, 0)(x, z)
        assert_like(raw_grad(lambda x_: fun(z, x_), x), F64, (3,))
        assert_like(raw_grad(lambda z_: fun(z_, x), z), C128, (2, 3))


# float_power computes in float64 / complex128 whatever its inputs, so its gradients are float64 / complex128 too.
DTYPE_CASES = [
    pytest.param(*row, shapes, dtype, id=f"{row[0]}-{shapes}-{dtype}")
    for row in BINARY for shapes in [((3,), (2, 3)), ((2, 3), (3,)), ((2, 1), (1, 3)), ((), (2, 3))]
    for dtype in (F64, F32, C128, C64)
    if (row[4] or dtype.kind == "f") and not (row[0] == "float_power" and dtype in (F32, C64))
]


@pytest.mark.parametrize("name, x_domain, y_domain, condition, complex_ok, shapes, dtype", DTYPE_CASES)
def test_binary_grad_keeps_dtype_and_shape(name, x_domain, y_domain, condition, complex_ok, shapes, dtype):
    fun = getattr(np, name)
    x, y = draw_pair(shapes, x_domain, y_domain, condition, dtype)
    out = fun(x, y)
    assert_like(raw_grad(lambda x_: fun(x_, y), x), dtype, shapes[0])
    assert_like(raw_tangent(lambda x_: fun(x_, y), x), out.dtype, out.shape)
    if name != "copysign":  # copysign's output does not depend on the value of y: no gradient is sent to it
        assert_like(raw_grad(lambda y_: fun(x, y_), y), dtype, shapes[1])
        assert_like(raw_tangent(lambda y_: fun(x, y_), y), out.dtype, out.shape)


def test_float_power_gradient_is_float64():
    """float_power's output is float64 for float32 inputs; the gradient is cast back to float32 at the input."""
    x = onp.array([0.5, 1.5], F32)
    assert_like(raw_grad(lambda x_: np.float_power(x_, 2.0), x), F64, (2,))
    assert_like(grad(lambda x_: np.sum(np.float_power(x_, 2.0)))(x), F32, (2,))
    onp.testing.assert_allclose(grad(lambda x_: np.sum(np.float_power(x_, 3.0)))(x), 3 * x ** 2, rtol=1e-6)


@pytest.mark.parametrize("dtype", [F64, F32], ids=str)
@pytest.mark.parametrize("shape", SHAPES, ids=str)
def test_ldexp(shape, dtype):
    x = draw(shape, ANY, dtype)
    n = onp.random.randint(-2, 3, size=shape)
    check_grads(np.ldexp)(x, n)
    onp.testing.assert_allclose(elementwise_grad(np.ldexp)(x, n), 2.0 ** n, rtol=1e-6)
    assert_like(raw_grad(lambda x_: np.ldexp(x_, n), x), dtype, shape)
    assert_like(raw_tangent(lambda x_: np.ldexp(x_, n), x), dtype, shape)


# --- where and clip

WHERE_SHAPES = [((2, 3), (2, 3), (2, 3)), ((2, 3), (3,), (2, 3)), ((2, 3), (2, 1), ()), ((3,), (2, 3), (2, 1)),
                ((2, 3), "float", (3,))]


@pytest.mark.parametrize("dtype", [F64, F32], ids=str)
@pytest.mark.parametrize("shapes", WHERE_SHAPES, ids=str)
def test_where(shapes, dtype):
    c = onp.random.rand(*shapes[0]) > 0.5
    x, y = draw(shapes[1], ANY, dtype), draw(shapes[2], ANY, dtype)
    for argnum, value in ((1, x), (2, y)):
        if dtype == F32 and isinstance(value, float):
            continue
        check_grads(np.where, argnum)(c, x, y)
        if not isinstance(value, float):
            assert_like(raw_grad(lambda v: np.where(*[v if i == argnum else a for i, a in enumerate((c, x, y))]),
                                 value), dtype, onp.shape(value))


def test_where_routes_by_condition():
    c = onp.array([True, False, True, False])
    x, y = onp.arange(1.0, 5.0), -onp.arange(1.0, 5.0)
    onp.testing.assert_array_equal(elementwise_grad(np.where, 1)(c, x, y), [1, 0, 1, 0])
    onp.testing.assert_array_equal(elementwise_grad(np.where, 2)(c, x, y), [0, 1, 0, 1])
    # a scalar branch collects the gradient of every element it fills
    assert grad(lambda s: np.sum(np.where(c, x, s)))(2.0) == 2.0
    assert deriv(lambda s: np.sum(np.where(c, s, y)))(2.0) == 2.0


CLIP_BOUNDS = [(-0.5, 0.5), (None, 0.5), (-0.5, None)]


@pytest.mark.parametrize("dtype", [F64, F32], ids=str)
@pytest.mark.parametrize("shape", SHAPES, ids=str)
@pytest.mark.parametrize("bounds", CLIP_BOUNDS, ids=str)
def test_clip_in_x(bounds, shape, dtype):
    x = draw(shape, ANY, dtype)
    x = onp.where(onp.abs(onp.abs(x) - 0.5) < 0.1, x * 1.5, x).astype(dtype)[()]  # away from the bounds
    check_grads(np.clip)(x, *bounds)
    assert_like(raw_grad(lambda x_: np.clip(x_, *bounds), x), dtype, shape)


def test_clip_in_bounds():
    x = onp.array([[-2.0, -0.2, 0.1], [0.3, 1.5, 2.5]])
    lo, hi = onp.array([-1.0, -0.5, 0.5]), 1.0
    check_grads(np.clip, 0)(x, lo, hi)
    check_grads(np.clip, 1)(x, lo, hi)
    check_grads(np.clip, 2)(x, lo, hi)
    # lo gets the gradient of the elements below it, hi of those above it, each summed back to its shape
    onp.testing.assert_array_equal(grad(lambda lo_: np.sum(np.clip(x, lo_, hi)))(lo), [1, 0, 1])
    assert grad(lambda hi_: np.sum(np.clip(x, lo, hi_)))(hi) == 2.0


def test_clip_gradient_is_one_inside_zero_outside():
    x = onp.array([-3.0, -0.9, 0.0, 0.4, 0.99, 1.2, 7.0])
    inside = onp.array([0, 1, 1, 1, 1, 0, 0], float)
    onp.testing.assert_array_equal(elementwise_grad(np.clip)(x, -1.0, 1.0), inside)
    onp.testing.assert_array_equal(make_jvp(lambda x_: np.clip(x_, -1.0, 1.0))(x)(onp.ones_like(x))[1], inside)
    onp.testing.assert_array_equal(elementwise_grad(lambda x_: x_.clip(-1.0, 1.0))(x), inside)


def test_clip_bounds_by_keyword():
    """Bounds given by name (a_min/a_max, or NumPy 2's min/max) clip the gradient as positional ones do."""
    x = onp.array([-3.0, 0.4, 7.0])
    expected = [0.0, 1.0, 0.0]
    onp.testing.assert_array_equal(elementwise_grad(lambda x_: np.clip(x_, a_min=-1.0, a_max=1.0))(x), expected)
    onp.testing.assert_array_equal(elementwise_grad(lambda x_: np.clip(x_, min=-1.0, max=1.0))(x), expected)
    onp.testing.assert_array_equal(elementwise_grad(lambda x_: np.clip(x_, -1.0, a_max=1.0))(x), expected)
    onp.testing.assert_array_equal(deriv(lambda x_: np.clip(x_, max=1.0))(x), [1.0, 1.0, 0.0])


# --- closed forms

def test_tanh_derivative_is_sech_squared():
    x = onp.linspace(-3, 3, 7)
    onp.testing.assert_allclose(elementwise_grad(np.tanh)(x), 1 / onp.cosh(x) ** 2, rtol=1e-12)
    onp.testing.assert_allclose(deriv(np.tanh)(x), 1 / onp.cosh(x) ** 2, rtol=1e-12)


def test_abs_derivative_is_sign_and_zero_at_zero():
    x = onp.array([-2.0, -0.5, 0.0, 0.5, 2.0])
    onp.testing.assert_array_equal(elementwise_grad(np.abs)(x), onp.sign(x))
    onp.testing.assert_array_equal(deriv(np.abs)(x), onp.sign(x))
    onp.testing.assert_array_equal(elementwise_grad(abs)(x), onp.sign(x))
    onp.testing.assert_array_equal(elementwise_grad(np.fabs)(x), onp.sign(x))
    assert grad(np.abs)(0.0) == 0.0
    # complex: |z| has gradient conj(z) / |z| under the df/dx - i df/dy convention, 0 at 0
    z = onp.array([3 + 4j, -1j, 0j])
    onp.testing.assert_allclose(grad(lambda z_: np.sum(np.abs(z_)))(z), [(3 - 4j) / 5, 1j, 0])


@pytest.mark.parametrize("name", ["maximum", "minimum", "fmax", "fmin"])
def test_extrema_split_ties_evenly(name):
    fun = getattr(np, name)
    x, y = onp.array([1.0, 2.0, 3.0]), onp.array([1.0, 5.0, -1.0])  # a tie, then y wins the max, then x does
    larger, smaller = (0.0, 1.0) if name in ("minimum", "fmin") else (1.0, 0.0)  # the gradient of each side
    onp.testing.assert_array_equal(elementwise_grad(fun, 0)(x, y), [0.5, smaller, larger])
    onp.testing.assert_array_equal(elementwise_grad(fun, 1)(x, y), [0.5, larger, smaller])
    onp.testing.assert_array_equal(make_jvp(lambda x_: fun(x_, y))(x)(onp.ones(3))[1], elementwise_grad(fun)(x, y))
    # the same value on both sides: the halves add up to the whole
    assert grad(lambda x_: fun(x_, x_))(2.0) == 1.0


def test_power_at_zero_is_finite():
    zero = onp.zeros(3)
    for y in (0.0, 2.0, onp.zeros(3), onp.full(3, 2.0)):
        with onp.errstate(all="raise"):  # no 0 * inf or log(0) is ever formed
            dx = elementwise_grad(np.power, 0)(zero, y)
            dy = elementwise_grad(np.power, 1)(zero, onp.broadcast_to(y, (3,)) * 1.0)
            tx = make_jvp(lambda x_: np.power(x_, y))(zero)(onp.ones(3))[1]
        onp.testing.assert_array_equal(dx, onp.zeros(3))
        onp.testing.assert_array_equal(dy, onp.zeros(3))  # 0 ** y is 0 for y > 0; taken as 0 at y = 0
        onp.testing.assert_array_equal(tx, onp.zeros(3))
    assert grad(lambda x_: x_ ** 2)(0.0) == 0.0
    assert grad(lambda x_: x_ ** 0)(0.0) == 0.0
    # d/dx x**1 = 1 even at 0
    assert grad(lambda x_: x_ ** 1.0)(0.0) == 1.0


def test_power_gradient_in_exponent():
    x, y = onp.array([0.5, 1.5, 3.0]), onp.array([-1.0, 0.5, 2.0])
    onp.testing.assert_allclose(elementwise_grad(np.power, 1)(x, y), onp.log(x) * x ** y, rtol=1e-12)
    onp.testing.assert_allclose(elementwise_grad(lambda y_: 2.0 ** y_)(y), onp.log(2.0) * 2.0 ** y, rtol=1e-12)
    onp.testing.assert_allclose(elementwise_grad(np.power, 0)(x, y), y * x ** (y - 1), rtol=1e-12)


def test_sinc_at_zero():
    assert grad(np.sinc)(0.0) == 0.0
    assert deriv(np.sinc)(0.0) == 0.0
    # sinc(x) = 1 - (pi x)^2 / 6 + ...: the second derivative at 0 is -pi^2 / 3
    onp.testing.assert_allclose(grad(grad(np.sinc))(0.0), -onp.pi ** 2 / 3, rtol=1e-12)
    onp.testing.assert_allclose(deriv(deriv(np.sinc))(0.0), -onp.pi ** 2 / 3, rtol=1e-12)
    check_grads(np.sinc)(onp.array([0.0, 0.5, -1.5]))
    # near 0, (cos(pi x) - sinc(x)) / x cancels; the slope must still follow the series -pi^2 x / 3 + pi^4 x^3 / 30
    tiny = onp.array([1e-7, -3e-5, 4e-3])
    onp.testing.assert_allclose(elementwise_grad(np.sinc)(tiny),
                                -onp.pi ** 2 * tiny / 3 + onp.pi ** 4 * tiny ** 3 / 30, rtol=1e-9)
    x = onp.array([0.5, -1.5])
    onp.testing.assert_allclose(elementwise_grad(np.sinc)(x),
                                (onp.cos(onp.pi * x) - onp.sinc(x)) / x, rtol=1e-12)


def test_nan_to_num_passes_only_finite_gradients():
    x = onp.array([1.0, onp.nan, onp.inf, -onp.inf, -2.0])
    onp.testing.assert_array_equal(elementwise_grad(np.nan_to_num)(x), [1, 0, 0, 0, 1])
    onp.testing.assert_array_equal(elementwise_grad(lambda x_: np.nan_to_num(x_, nan=3.0, posinf=9.0))(x),
                                   [1, 0, 0, 0, 1])


def test_angle_and_parts_closed_forms():
    z = onp.array([1 + 1j, -2 + 0.5j])
    # angle = atan2(y, x): gradient dA/dx - i dA/dy = (-y - i x) / |z|^2
    onp.testing.assert_allclose(grad(lambda z_: np.sum(np.angle(z_)))(z), (-z.imag - 1j * z.real) / abs(z) ** 2)
    onp.testing.assert_allclose(grad(lambda z_: np.sum(np.real(z_)))(z), [1, 1])
    onp.testing.assert_allclose(grad(lambda z_: np.sum(np.imag(z_)))(z), [-1j, -1j])
    onp.testing.assert_allclose(grad(lambda z_: np.sum(np.real(np.conj(z_) * z_)))(z), 2 * onp.conj(z))
    # on real inputs angle is piecewise constant and imag is zero
    x = onp.array([-1.0, 2.0])
    onp.testing.assert_array_equal(elementwise_grad(np.angle)(x), [0, 0])
    onp.testing.assert_array_equal(elementwise_grad(np.imag)(x), [0, 0])


def test_holomorphic_derivatives():
    """On complex inputs a holomorphic f's rule is g * f'(z): compare with the complex derivative."""
    z = onp.array([0.3 + 0.2j, -0.5 + 0.1j])
    cases = [(np.exp, onp.exp), (np.sin, onp.cos), (np.log, lambda z_: 1 / z_),
             (np.sqrt, lambda z_: 0.5 / onp.sqrt(z_)), (np.tanh, lambda z_: 1 / onp.cosh(z_) ** 2)]
    for fun, derivative in cases:
        onp.testing.assert_allclose(make_jvp(fun)(z)(onp.ones_like(z))[1], derivative(z), rtol=1e-12)
        vjp, _ = make_vjp(fun)(z)
        onp.testing.assert_allclose(vjp(onp.ones_like(z)), derivative(z), rtol=1e-12)


# --- ArrayBox operators, with the box on either side of ndarrays and python floats

OPERATORS = [
    ("add", operator.add, ANY), ("sub", operator.sub, ANY), ("mul", operator.mul, ANY),
    ("truediv", operator.truediv, NONZERO), ("pow", operator.pow, POS), ("mod", operator.mod, NONZERO),
]


@pytest.mark.parametrize("other_kind", ["ndarray", "float", "scalar"])
@pytest.mark.parametrize("name, op, domain", OPERATORS, ids=[row[0] for row in OPERATORS])
def test_operators(name, op, domain, other_kind):
    x = draw((2, 3), domain)
    other = {"ndarray": draw((3,), domain), "float": draw("float", domain), "scalar": draw((), domain)}[other_kind]
    if name == "mod":  # x / other and other / x stay at least 0.15 away from integers, where % jumps
        x = onp.array([[0.6, 1.1, 2.3], [-0.6, -2.9, 4.1]])
        other = {"ndarray": onp.array([1.7, -1.7, 1.7]), "float": -1.7, "scalar": onp.float64(1.7)}[other_kind]
    for fun in (lambda x_: op(x_, other), lambda x_: op(other, x_)):
        check_grads(fun)(x)
        _, ans = make_vjp(fun)(x)
        onp.testing.assert_allclose(ans, fun(x), rtol=1e-15)  # the traced value is NumPy's


def test_operator_values_and_gradients():
    x, a = onp.array([0.5, 1.5, 2.5]), onp.array([2.0, -1.0, 3.0])
    cases = [
        (lambda x_: x_ + a, onp.ones(3)), (lambda x_: a + x_, onp.ones(3)),
        (lambda x_: x_ - 2.0, onp.ones(3)), (lambda x_: 2.0 - x_, -onp.ones(3)),
        (lambda x_: x_ * a, a), (lambda x_: a * x_, a),
        (lambda x_: x_ / 2.0, onp.full(3, 0.5)), (lambda x_: 2.0 / x_, -2.0 / x ** 2),
        (lambda x_: x_ ** 3.0, 3 * x ** 2), (lambda x_: 3.0 ** x_, onp.log(3.0) * 3.0 ** x),
        (lambda x_: -x_, -onp.ones(3)), (lambda x_: abs(x_ - 1.0), onp.sign(x - 1.0)),
        (lambda x_: x_ % 2.0, onp.ones(3)), (lambda x_: 7.0 % x_, -onp.floor(7.0 / x)),
        (lambda x_: a % x_, -onp.floor(a / x)),
    ]
    for fun, expected in cases:
        onp.testing.assert_allclose(elementwise_grad(fun)(x), expected, rtol=1e-12)
        onp.testing.assert_allclose(deriv(fun)(x), expected, rtol=1e-12)


def test_operators_keep_float32():
    x = onp.array([0.5, 1.5, 2.5], F32)
    for fun in (lambda x_: 2.0 * x_ + 1.0, lambda x_: x_ ** 2.0 / 3.0, lambda x_: 1.0 - x_ % 2.0, lambda x_: -abs(x_),
                lambda x_: 2.0 ** x_):
        assert_like(raw_grad(fun, x), F32, (3,))
        assert_like(raw_tangent(fun, x), F32, (3,))
