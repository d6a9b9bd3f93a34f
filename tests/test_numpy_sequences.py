"""Sequences (diff, gradient, interp, convolve, trapezoid, polyval, ...): finite differences and closed forms."""

import numpy as onp
import pytest

import gradviz.numpy as np
from gradviz import grad, jacobian
from gradviz.test_util import check_grads, combo_check


def _randn(*shape, dtype=float):
    return onp.asarray(onp.random.randn(*shape), dtype)


@pytest.mark.parametrize("kwargs", [{}, {"n": 2}, {"axis": 0}, {"n": 0}, {"prepend": 1.0}, {"append": onp.ones((3, 2))},
                                    {"n": 2, "axis": 0, "prepend": onp.ones((1, 4)), "append": 3.0}])
def test_diff(kwargs):
    check_grads(lambda x: np.diff(x, **kwargs))(_randn(3, 4))


def test_diff_dtypes_and_transpose():
    check_grads(np.diff)(_randn(5, dtype=onp.float32))
    check_grads(np.diff)(_randn(5) + 1j * _randn(5))
    check_grads(np.diff)(onp.zeros(0))
    # the Jacobian of diff is the bidiagonal -1, 1 matrix
    assert onp.allclose(jacobian(np.diff)(_randn(4)), onp.eye(3, 4, 1) - onp.eye(3, 4))
    assert onp.allclose(grad(lambda x: np.sum(np.diff(x, 1, 0, 0.0)))(_randn(4)), onp.eye(4)[-1])


def test_ediff1d():
    combo_check(np.ediff1d, [0])([_randn(2, 3)], to_begin=[None, 1.0, [1.0, 2.0]], to_end=[None, onp.ones(2)])


@pytest.mark.parametrize("edge_order", [1, 2])
@pytest.mark.parametrize("spacing", [(), (0.5,), ([0.0, 0.3, 1.0, 1.4, 2.5],), (2.0, onp.array([0.0, 1, 3, 3.5]))])
def test_gradient(edge_order, spacing):
    shape = (4,) if len(spacing) == 1 and onp.ndim(spacing[0]) == 1 else (5, 4)
    if len(spacing) == 1 and onp.ndim(spacing[0]) == 1:
        shape = (5,)
    check_grads(lambda f: np.gradient(f, *spacing, edge_order=edge_order))(_randn(*shape))


def test_gradient_axis_and_closed_form():
    f = _randn(3, 4, 5)
    check_grads(lambda f: np.gradient(f, axis=1))(f)
    check_grads(lambda f: np.gradient(f, 0.5, [0.0, 1.0, 1.5, 3.0, 3.2], axis=(0, 2), edge_order=2))(f)
    check_grads(lambda f: np.gradient(f, axis=-1))(_randn(6, dtype=onp.float32))
    check_grads(np.gradient)(_randn(4) + 1j * _randn(4))
    # the Jacobian is the finite-difference matrix: central inside, one-sided at the ends
    expected = onp.array([[-1, 1, 0, 0], [-0.5, 0, 0.5, 0], [0, -0.5, 0, 0.5], [0, 0, -1, 1]])
    assert onp.allclose(jacobian(np.gradient)(_randn(4)), expected)
    expected[0, :3], expected[-1, 1:] = [-1.5, 2, -0.5], [0.5, -2, 1.5]
    assert onp.allclose(jacobian(lambda f: np.gradient(f, edge_order=2))(_randn(4)), expected)


def test_interp():
    xp, fp = onp.array([-1.0, 0.0, 0.5, 2.0]), _randn(4)
    x = onp.array([-2.0, -0.7, 0.1, 0.33, 1.2, 2.5])
    check_grads(lambda x: np.interp(x, xp, fp))(x)
    check_grads(lambda fp: np.interp(x, xp, fp))(fp)
    check_grads(lambda fp: np.interp(x, xp, fp, left=-3.0, right=4.0))(fp)
    check_grads(lambda x, fp: np.interp(x, xp, fp), argnum=1)(0.25, fp)  # a scalar query point
    turns = onp.array([-2.2, -0.7, 0.1, 0.33, 1.2, 2.7, 6.1])  # none at a knot, modulo the period
    check_grads(lambda fp: np.interp(turns, xp, fp, period=2.5))(fp)
    check_grads(lambda x: np.interp(x, xp, fp, period=2.5))(turns)
    check_grads(lambda fp: np.interp(x, xp, fp))(fp + 1j * _randn(4))
    check_grads(lambda fp: np.interp(x, xp, fp))(fp.astype(onp.float32))
    inside = onp.array([-0.7, 0.1, 0.33, 1.2])  # the sample points move the line too (away from the knots)
    check_grads(lambda xp: np.interp(inside, xp, fp))(xp)
    check_grads(lambda xp: np.interp(turns, xp, fp, period=2.5))(xp)
    # closed form: slope of the segment in x, hat-function weights in fp, zero slope outside
    slopes = grad(lambda x: np.sum(np.interp(x, xp, fp)))(x)
    assert onp.allclose(slopes, [0, fp[1] - fp[0], (fp[2] - fp[1]) / 0.5, (fp[2] - fp[1]) / 0.5,
                                 (fp[3] - fp[2]) / 1.5, 0])
    assert onp.allclose(jacobian(lambda fp: np.interp(0.1, xp, fp))(fp), [0, 0.8, 0.2, 0])


@pytest.mark.parametrize("mode", ["full", "same", "valid"])
@pytest.mark.parametrize("name", ["convolve", "correlate"])
def test_convolve_correlate(name, mode):
    fun = getattr(np, name)
    for n, m in [(6, 3), (3, 5), (4, 4), (1, 3)]:
        a, v = _randn(n), _randn(m)
        check_grads(lambda a, v: fun(a, v, mode), argnum=0)(a, v)
        check_grads(lambda a, v: fun(a, v, mode), argnum=1)(a, v)
    a, v = _randn(5) + 1j * _randn(5), _randn(3) + 1j * _randn(3)
    check_grads(lambda a, v: fun(a, v, mode), argnum=1)(a, v)
    check_grads(lambda a, v: fun(a, v, mode), argnum=0)(a, v.real)


def test_convolve_closed_form_and_float32():
    a, v = _randn(5), _randn(3)
    check_grads(lambda a: np.convolve(a, a, "same"), order=3)(a)  # both arguments traced in one call
    # d/da sum(w * convolve(a, v)) = correlate(w, v, 'valid')
    w = _randn(7)
    assert onp.allclose(grad(lambda a: np.sum(w * np.convolve(a, v)))(a), onp.correlate(w, v, "valid"))
    check_grads(np.convolve)(_randn(4, dtype=onp.float32), _randn(2, dtype=onp.float32))


def test_trapezoid():
    y = _randn(3, 5)
    x = onp.array([0.0, 0.3, 1.0, 1.1, 2.0])
    check_grads(lambda y: np.trapezoid(y))(y)
    check_grads(lambda y: np.trapezoid(y, dx=0.5, axis=0))(y)
    check_grads(lambda y: np.trapezoid(y, x))(y)
    check_grads(lambda x: np.trapezoid(y, x))(x)
    check_grads(lambda x: np.trapezoid(y, x, axis=0))(x[:3])
    check_grads(lambda x: np.trapezoid(y, x))(_randn(3, 5))  # sample points with y's shape
    check_grads(np.trapezoid)(_randn(4) + 1j * _randn(4))
    check_grads(np.trapezoid)(_randn(4, dtype=onp.float32))
    # closed forms: dI/dy_i = (x_{i+1} - x_{i-1}) / 2; dI/dx_i = (y_{i-1} - y_{i+1}) / 2
    v = _randn(5)
    padded = onp.concatenate([[x[0]], x, [x[-1]]])
    assert onp.allclose(grad(lambda v: np.trapezoid(v, x))(v), (padded[2:] - padded[:-2]) / 2)
    ypad = onp.concatenate([[-v[0]], v, [-v[-1]]])
    assert onp.allclose(grad(lambda x: np.trapezoid(v, x))(x), (ypad[:-2] - ypad[2:]) / 2)


def test_polyval():
    p, x = _randn(4), _randn(3, 2)
    check_grads(lambda p, x: np.polyval(p, x), argnum=0)(p, x)
    check_grads(lambda p, x: np.polyval(p, x), argnum=1)(p, x)
    check_grads(lambda x: np.polyval([1.0, -2.0, 0.5], x))(0.7)
    check_grads(lambda p: np.polyval(p, 1.5 + 0.5j))(p + 1j * _randn(4))
    # closed forms: d/dp_k = x^(n-k), d/dx = polyval(polyder(p), x)
    t = 1.3
    assert onp.allclose(grad(lambda p: np.polyval(p, t))(p), t ** onp.arange(3, -1, -1))
    assert onp.allclose(grad(lambda t: np.polyval(p, t))(t), onp.polyval(onp.polyder(p), t))


def test_unwrap_vander_cumulative():
    phase = onp.cumsum(onp.abs(_randn(6))) * 2.0
    check_grads(np.unwrap)(phase)
    check_grads(lambda p: np.unwrap(p, axis=0, period=3.0))(_randn(4, 2) * 3)
    assert onp.allclose(jacobian(np.unwrap)(phase), onp.eye(6))
    check_grads(np.vander)(_randn(3))
    check_grads(lambda x: np.vander(x, 4, increasing=True))(_randn(3))
    combo_check(np.cumulative_sum, [0])([_randn(3, 4)], axis=[0, 1], include_initial=[False, True])
    combo_check(np.cumulative_prod, [0])([_randn(3, 4)], axis=[0, -1], include_initial=[False, True])
    check_grads(np.cumulative_sum)(_randn(4, dtype=onp.float32))
    check_grads(np.cumulative_prod)(_randn(4) + 1j * _randn(4))


def test_element_moving_functions():
    x = _randn(3, 4)
    check_grads(np.diagflat)(_randn(2, 2))
    check_grads(lambda v: np.diagflat(v, -1))(_randn(3) + 1j * _randn(3))
    check_grads(lambda x: np.resize(x, (5, 3)))(x)
    check_grads(lambda x: np.resize(x, 2))(x)
    check_grads(lambda x: np.delete(x, [0, 2], axis=1))(x)
    check_grads(lambda x: np.delete(x, 5))(x)
    check_grads(lambda x: np.delete(x, slice(0, 2), 0))(x)
    check_grads(lambda x: np.insert(x, 1, 7.0, axis=0))(x)
    check_grads(lambda v: np.insert(x, [1, 3], v, axis=1))(_randn(3, 2))
    check_grads(lambda v: np.insert(x, 2, v))(_randn(3))
    check_grads(lambda x: np.insert(x, 1, 2.0))(_randn(4, dtype=onp.float32))
    # closed forms: repeated elements of resize add up, deleted ones get nothing, inserted ones get theirs
    assert onp.allclose(grad(lambda v: np.sum(np.resize(v, 7)))(_randn(3)), [3, 2, 2])
    assert onp.allclose(grad(lambda x: np.sum(np.delete(x, 1)))(_randn(3)), [1, 0, 1])
    w = onp.arange(5.0)
    assert onp.allclose(grad(lambda v: np.sum(w * np.insert(onp.zeros(3), [0, 2], v)))(_randn(2)), [0, 3])


def test_real_if_close_and_astype():
    x = _randn(3)
    check_grads(lambda x: np.real_if_close(x + 0j))(x)  # imaginary part negligible: a real output
    check_grads(np.real_if_close)(x + 1j * _randn(3))
    check_grads(np.real_if_close)(x)
    assert onp.allclose(grad(lambda z: np.sum(np.real_if_close(z) ** 2))(x + 0j), 2 * x)
    check_grads(lambda x: np.astype(x, onp.complex128))(x)
    check_grads(lambda x: np.astype(x, onp.float64))(x.astype(onp.float32))
    check_grads(lambda z: np.astype(z, onp.complex128))((x + 1j * _randn(3)).astype(onp.complex64))
    g = grad(lambda x: np.sum(np.astype(x, onp.float64) ** 2))(x.astype(onp.float32))
    assert g.dtype == onp.float32 and onp.allclose(g, 2 * x.astype(onp.float32))
    assert onp.all(grad(lambda x: np.sum(np.astype(x, int) * 1.0))(x) == 0)
