"""Derivatives of derivatives, in every combination of modes, without perturbation confusion."""

import numpy as onp
import pytest

import gradviz.numpy as np
from gradviz import deriv, elementwise_grad, grad, make_jvp, make_vjp, value_and_grad
from gradviz.test_util import check_grads

X = onp.array([0.3, -1.2, 0.7])
V = onp.array([0.5, 2.0, -1.0])


@pytest.mark.parametrize("y", [0.0, 1.5, -3.0])
@pytest.mark.parametrize("x", [1.0, 2.5])
def test_no_perturbation_confusion(x, y):
    """d/dx [x * d/dy (x + y)] = d/dx [x * 1] = 1; confusing the two perturbations gives 2."""
    assert grad(lambda a: a * grad(lambda b: a + b)(y))(x) == pytest.approx(1.0)
    # the same in forward mode and mixed modes
    assert deriv(lambda a: a * deriv(lambda b: a + b)(y))(x) == pytest.approx(1.0)
    assert grad(lambda a: a * deriv(lambda b: a + b)(y))(x) == pytest.approx(1.0)
    assert deriv(lambda a: a * grad(lambda b: a + b)(y))(x) == pytest.approx(1.0)


def test_no_perturbation_confusion_with_a_product():
    """d/dx [x * d/dy (x y)] = d/dx [x^2] = 2x."""
    assert grad(lambda a: a * grad(lambda b: a * b)(0.7))(1.5) == pytest.approx(3.0)
    assert deriv(lambda a: a * grad(lambda b: a * b)(0.7))(1.5) == pytest.approx(3.0)


@pytest.mark.parametrize("x", [-0.8, 0.4, 1.3])
def test_third_derivatives(x):
    assert grad(grad(grad(np.sin)))(x) == pytest.approx(-onp.cos(x))
    assert grad(grad(grad(np.exp)))(x) == pytest.approx(onp.exp(x))
    t = onp.tanh(x)
    assert grad(grad(grad(np.tanh)))(x) == pytest.approx(-2 * (1 - t ** 2) * (1 - 3 * t ** 2))
    assert deriv(deriv(deriv(np.sin)))(x) == pytest.approx(-onp.cos(x))
    assert deriv(grad(deriv(np.tanh)))(x) == pytest.approx(-2 * (1 - t ** 2) * (1 - 3 * t ** 2))


def test_fourth_derivative_of_a_polynomial():
    assert grad(grad(grad(grad(lambda a: a ** 5))))(1.2) == pytest.approx(120 * 1.2)


def test_elementwise_second_derivative():
    onp.testing.assert_allclose(elementwise_grad(elementwise_grad(np.sin))(X), -onp.sin(X))
    onp.testing.assert_allclose(elementwise_grad(elementwise_grad(np.tanh))(X),
                                -2 * onp.tanh(X) * (1 - onp.tanh(X) ** 2))


def f_sep(x):
    """sum(x^2 sin x): Hessian diag(2 sin x + 4 x cos x - x^2 sin x)."""
    return np.sum(x ** 2 * np.sin(x))


HESS_DIAG = 2 * onp.sin(X) + 4 * X * onp.cos(X) - X ** 2 * onp.sin(X)


def test_forward_over_reverse():
    _, hv = make_jvp(grad(f_sep))(X)(V)
    onp.testing.assert_allclose(hv, HESS_DIAG * V)
    assert deriv(grad(np.sin))(0.4) == pytest.approx(-onp.sin(0.4))


def test_reverse_over_forward():
    def directional(x):
        return make_jvp(f_sep)(x)(V)[1]  # grad f . V

    onp.testing.assert_allclose(grad(directional)(X), HESS_DIAG * V)
    assert grad(deriv(np.sin))(0.4) == pytest.approx(-onp.sin(0.4))


def test_reverse_over_reverse_via_vjp():
    vjp, g = make_vjp(grad(f_sep))(X)
    onp.testing.assert_allclose(vjp(V), HESS_DIAG * V)


def test_inner_grad_closes_over_outer_traced_value():
    def outer(x):
        inner = grad(lambda y: x * y ** 2 + np.sin(x * y))  # d/dy = 2xy + x cos(xy)
        return inner(0.5)

    x, y = 1.5, 0.5
    # d/dx [2xy + x cos(xy)] = 2y + cos(xy) - xy sin(xy)
    assert grad(outer)(x) == pytest.approx(2 * y + onp.cos(x * y) - x * y * onp.sin(x * y))
    assert deriv(outer)(x) == pytest.approx(2 * y + onp.cos(x * y) - x * y * onp.sin(x * y))


def test_inner_grad_of_array_closes_over_outer_array():
    def outer(w):
        return np.sum(grad(lambda x: np.sum(np.sin(w * x)))(V))  # sum(w cos(w v))

    onp.testing.assert_allclose(grad(outer)(X), onp.cos(X * V) - X * V * onp.sin(X * V))


def test_grad_of_value_and_grad():
    def f(x):
        value, g = value_and_grad(lambda y: y ** 3)(x)
        return value + g  # x^3 + 3x^2

    assert grad(f)(1.1) == pytest.approx(3 * 1.1 ** 2 + 6 * 1.1)


def test_check_grads_of_a_gradient():
    check_grads(grad(f_sep), modes=("rev",), order=1)(X)
    check_grads(grad(np.tanh), order=2)(0.3)
    check_grads(lambda x: grad(lambda y: np.sin(x * y) * y)(x), order=2)(0.8)


def test_three_levels_of_closure():
    def f(x):
        def g(y):
            return grad(lambda z: x * y * z ** 2)(y)  # 2 x y^2

        return grad(g)(x)  # 4 x y at y = x -> 4 x^2

    assert f(1.5) == pytest.approx(4 * 1.5 ** 2)
    assert grad(f)(1.5) == pytest.approx(8 * 1.5)
