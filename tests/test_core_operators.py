"""Every differential operator against closed forms, finite differences and each other."""

import warnings

import numpy as onp
import pytest

import gradviz.numpy as np
from gradviz import (
    checkpoint,
    deriv,
    elementwise_grad,
    grad,
    grad_and_aux,
    grad_named,
    hessian,
    hessian_tensor_product,
    hessian_vector_product,
    holomorphic_grad,
    jacobian,
    make_ggnvp,
    make_hvp,
    make_jvp,
    make_vjp,
    multigrad_dict,
    tensor_jacobian_product,
    value_and_grad,
    vector_jacobian_product,
)
from gradviz.core.backward import VJPNode, toposort
from gradviz.core.tracer import Box, trace
from gradviz.test_util import check_grads

X = onp.array([0.3, -1.2, 0.7])
V = onp.array([0.5, 2.0, -1.0])


def numeric_grad(f, x, eps=1e-6):
    """Central differences, one coordinate at a time (an independent check on the engine)."""
    x = onp.asarray(x, float)
    out = onp.zeros_like(x)
    for i in onp.ndindex(*x.shape):
        step = onp.zeros_like(x)
        step[i] = eps
        out[i] = (f(x + step) - f(x - step)) / (2 * eps)
    return out


def poly_sin(x):
    return np.sum(np.sin(x) * x ** 2)


def poly_sin_grad(x):
    return onp.cos(x) * x ** 2 + 2 * x * onp.sin(x)


def poly_sin_hess_diag(x):
    return 2 * onp.sin(x) + 4 * x * onp.cos(x) - x ** 2 * onp.sin(x)


def coupled(x):
    """sum(x^2 sin x) + (sum x)^3: a Hessian with a diagonal and a dense part."""
    return poly_sin(x) + np.sum(x) ** 3


def coupled_hessian(x):
    return onp.diag(poly_sin_hess_diag(x)) + 6 * onp.sum(x) * onp.ones((x.size, x.size))


# --- grad, value_and_grad, grad_and_aux -------------------------------------------------------------------------

def test_grad_closed_form_and_finite_differences():
    g = grad(poly_sin)(X)
    onp.testing.assert_allclose(g, poly_sin_grad(X), rtol=1e-12)
    onp.testing.assert_allclose(g, numeric_grad(lambda x: float(poly_sin(x)), X), rtol=1e-6)
    check_grads(poly_sin)(X)


def test_grad_argnum_int_and_tuple():
    def f(x, y):
        return x * y ** 2 + np.sin(x)

    x, y = 0.7, -1.3
    assert grad(f)(x, y) == pytest.approx(y ** 2 + onp.cos(x))
    assert grad(f, 0)(x, y) == pytest.approx(y ** 2 + onp.cos(x))
    assert grad(f, 1)(x, y) == pytest.approx(2 * x * y)
    assert grad(f, -1)(x, y) == pytest.approx(2 * x * y)
    both = grad(f, (0, 1))(x, y)
    assert type(both) is tuple and len(both) == 2
    assert both[0] == pytest.approx(y ** 2 + onp.cos(x))
    assert both[1] == pytest.approx(2 * x * y)
    swapped = grad(f, (1, 0))(x, y)
    assert swapped[0] == pytest.approx(2 * x * y)
    check_grads(f, 1)(x, y)
    check_grads(f, (0, 1))(x, y)


def test_grad_keyword_arguments_pass_through():
    def f(x, scale=1.0):
        return np.sum(np.exp(x * scale))

    onp.testing.assert_allclose(grad(f)(X, scale=2.0), 2.0 * onp.exp(2.0 * X))


def test_value_and_grad():
    value, g = value_and_grad(poly_sin)(X)
    assert value == pytest.approx(onp.sum(onp.sin(X) * X ** 2))
    assert not isinstance(value, Box)
    onp.testing.assert_allclose(g, poly_sin_grad(X))
    value, g = value_and_grad(lambda a, b: a * np.exp(b), 1)(2.0, 0.5)
    assert value == pytest.approx(2.0 * onp.exp(0.5))
    assert g == pytest.approx(2.0 * onp.exp(0.5))


def test_grad_and_aux():
    def f(x):
        y = np.sin(x)
        return np.sum(y ** 2), {"y": y, "n": 3}

    g, aux = grad_and_aux(f)(X)
    onp.testing.assert_allclose(g, 2 * onp.sin(X) * onp.cos(X))
    assert set(aux) == {"y", "n"} and aux["n"] == 3
    assert not isinstance(aux["y"], Box)
    onp.testing.assert_allclose(aux["y"], onp.sin(X))


def test_grad_and_aux_argnum():
    g, aux = grad_and_aux(lambda a, b: (a * b ** 3, b ** 2), 1)(2.0, 1.5)
    assert g == pytest.approx(3 * 2.0 * 1.5 ** 2)
    assert aux == pytest.approx(1.5 ** 2)
    assert not isinstance(aux, Box)


# --- elementwise_grad, jacobian, hessian --------------------------------------------------------------------------

def test_elementwise_grad():
    onp.testing.assert_allclose(elementwise_grad(np.tanh)(X), 1 - onp.tanh(X) ** 2)
    onp.testing.assert_allclose(elementwise_grad(lambda x: x ** 3)(X), 3 * X ** 2)
    # elementwise_grad is the column sums of the Jacobian, also for a non-elementwise function
    onp.testing.assert_allclose(elementwise_grad(lambda x: np.sin(x) * np.sum(x))(X),
                                onp.cos(X) * onp.sum(X) + onp.sum(onp.sin(X)))


def test_jacobian_vector_to_vector():
    def f(x):
        return np.sin(x) * np.sum(x)

    expected = onp.diag(onp.cos(X) * onp.sum(X)) + onp.sin(X)[:, None]
    J = jacobian(f)(X)
    assert J.shape == (3, 3)
    onp.testing.assert_allclose(J, expected)
    numeric = onp.stack([numeric_grad(lambda x, i=i: (onp.sin(x) * onp.sum(x))[i], X) for i in range(3)])
    onp.testing.assert_allclose(J, numeric, rtol=1e-6, atol=1e-8)


def test_jacobian_shapes():
    C = onp.arange(6.0).reshape(2, 3) - 2.0
    w = onp.array([1.0, -2.0])

    def f(x):
        return C * np.sum(x * w)

    J = jacobian(f)(onp.array([0.4, 0.9]))
    assert J.shape == (2, 3, 2)
    onp.testing.assert_allclose(J, C[..., None] * w)
    Js = jacobian(lambda t: np.exp(t * w))(0.5)  # scalar in, vector out
    assert Js.shape == (2,)
    onp.testing.assert_allclose(Js, w * onp.exp(0.5 * w))
    Jv = jacobian(lambda x: np.sum(x ** 2))(X)  # vector in, scalar out
    assert Jv.shape == (3,)
    onp.testing.assert_allclose(Jv, 2 * X)


def test_jacobian_argnum():
    J = jacobian(lambda a, b: a * b, 1)(X, V)
    onp.testing.assert_allclose(J, onp.diag(X))


def test_hessian():
    H = hessian(coupled)(X)
    assert H.shape == (3, 3)
    onp.testing.assert_allclose(H, coupled_hessian(X), rtol=1e-10)


# --- holomorphic_grad, deriv --------------------------------------------------------------------------------------

def test_holomorphic_grad():
    z = 0.4 - 1.1j
    assert holomorphic_grad(np.sin)(z) == pytest.approx(onp.cos(z))
    assert holomorphic_grad(lambda w: w ** 3 + np.exp(w))(z) == pytest.approx(3 * z ** 2 + onp.exp(z))
    Z = onp.array([1 + 1j, -0.5 + 2j])
    onp.testing.assert_allclose(holomorphic_grad(lambda w: np.sum(w ** 2))(Z), 2 * Z)


def test_holomorphic_grad_matches_complex_finite_difference():
    z, h = 0.3 + 0.8j, 1e-6
    f = lambda w: np.tanh(w) * w  # noqa: E731
    numeric = (f(z + h) - f(z - h)) / (2 * h)
    assert holomorphic_grad(f)(z) == pytest.approx(numeric, rel=1e-6)


def test_deriv():
    assert deriv(np.sin)(0.7) == pytest.approx(onp.cos(0.7))
    assert deriv(lambda t: t ** 4)(1.5) == pytest.approx(4 * 1.5 ** 3)
    # on an array, deriv is J times ones (here the elementwise derivative)
    onp.testing.assert_allclose(deriv(np.exp)(X), onp.exp(X))
    assert deriv(lambda a, b: a * np.sin(b), 1)(2.0, 0.3) == pytest.approx(2.0 * onp.cos(0.3))


# --- make_vjp, make_jvp -------------------------------------------------------------------------------------------

C2 = onp.array([1.5, -0.5])


def quad_out(x):
    """R^3 -> R^2: c * |x|^2, Jacobian 2 c x^T."""
    return C2 * np.sum(x ** 2)


def test_make_vjp():
    vjp, ans = make_vjp(quad_out)(X)
    onp.testing.assert_allclose(ans, C2 * onp.sum(X ** 2))
    u = onp.array([0.3, 2.0])
    onp.testing.assert_allclose(vjp(u), onp.dot(u, C2) * 2 * X)
    onp.testing.assert_allclose(vjp(u), onp.dot(u, jacobian(quad_out)(X)))
    vjp1, _ = make_vjp(lambda a, b: a * b, 1)(X, V)
    onp.testing.assert_allclose(vjp1(onp.ones(3)), X)


def test_make_jvp():
    value, tangent = make_jvp(quad_out)(X)(V)
    onp.testing.assert_allclose(value, C2 * onp.sum(X ** 2))
    onp.testing.assert_allclose(tangent, C2 * 2 * onp.dot(X, V))
    onp.testing.assert_allclose(tangent, onp.dot(jacobian(quad_out)(X), V))
    _, t1 = make_jvp(lambda a, b: a * np.sin(b), 1)(X, V)(onp.ones(3))
    onp.testing.assert_allclose(t1, X * onp.cos(V))


def test_vjp_and_jvp_are_transposes():
    u = onp.array([0.7, -1.1])
    vjp, _ = make_vjp(quad_out)(X)
    _, jv = make_jvp(quad_out)(X)(V)
    assert onp.dot(vjp(u), V) == pytest.approx(onp.dot(u, jv))


# --- Hessian products ---------------------------------------------------------------------------------------------

def test_make_hvp():
    hvp, g = make_hvp(coupled)(X)
    onp.testing.assert_allclose(g, poly_sin_grad(X) + 3 * onp.sum(X) ** 2)
    onp.testing.assert_allclose(hvp(V), coupled_hessian(X) @ V)
    onp.testing.assert_allclose(hvp(2 * V), 2 * (coupled_hessian(X) @ V))


def test_hessian_tensor_product_and_alias():
    assert hessian_vector_product is hessian_tensor_product
    onp.testing.assert_allclose(hessian_tensor_product(coupled)(X, V), coupled_hessian(X) @ V)
    onp.testing.assert_allclose(hessian_vector_product(coupled)(X, V), coupled_hessian(X) @ V)

    def f(scale, x):
        return scale * coupled(x)

    onp.testing.assert_allclose(hessian_tensor_product(f, 1)(2.0, X, V), 2.0 * (coupled_hessian(X) @ V))


def test_hessian_tensor_product_of_a_matrix_argument():
    A = onp.array([[0.5, -1.0], [2.0, 0.25]])
    Vm = onp.array([[1.0, 0.0], [-1.0, 3.0]])
    # f(A) = sum(A^4) has a diagonal Hessian 12 A^2
    onp.testing.assert_allclose(hessian_tensor_product(lambda a: np.sum(a ** 4))(A, Vm), 12 * A ** 2 * Vm)


def test_tensor_jacobian_product_and_alias():
    assert vector_jacobian_product is tensor_jacobian_product
    u = onp.array([0.3, 2.0])
    onp.testing.assert_allclose(tensor_jacobian_product(quad_out)(X, u), onp.dot(u, C2) * 2 * X)
    onp.testing.assert_allclose(vector_jacobian_product(quad_out)(X, u), onp.dot(u, C2) * 2 * X)
    onp.testing.assert_allclose(tensor_jacobian_product(lambda a, b: a * np.exp(b), 1)(X, V, V),
                                V * X * onp.exp(V))


def test_make_ggnvp():
    # f = sin elementwise, g = |y|^2 / 2: J = diag(cos x), H_g = I, so GGN v = cos(x)^2 v
    onp.testing.assert_allclose(make_ggnvp(np.sin)(X)(V), onp.cos(X) ** 2 * V)
    # g = sum(y^4) / 4: H_g = diag(3 y^2), so GGN v = cos(x) 3 sin(x)^2 cos(x) v
    ggnvp = make_ggnvp(np.sin, lambda y: np.sum(y ** 4) / 4)(X)
    onp.testing.assert_allclose(ggnvp(V), 3 * onp.cos(X) ** 2 * onp.sin(X) ** 2 * V)


def test_make_ggnvp_argnum():
    ggnvp = make_ggnvp(lambda scale, x: scale * np.sin(x), f_argnum=1)(2.0, X)
    onp.testing.assert_allclose(ggnvp(V), 4.0 * onp.cos(X) ** 2 * V)


# --- grad_named, multigrad_dict -----------------------------------------------------------------------------------

def loss(weights, bias, data):
    return np.sum((weights * data + bias) ** 2)


def test_grad_named():
    w, b, d = X, 0.5, V
    onp.testing.assert_allclose(grad_named(loss, "weights")(w, b, d), 2 * (w * d + b) * d)
    assert grad_named(loss, "bias")(w, b, d) == pytest.approx(onp.sum(2 * (w * d + b)))
    assert grad_named(loss, "bias").__name__ == "grad_of_loss_wrt_argnum_1"
    with pytest.raises(TypeError, match="bias2"):
        grad_named(loss, "bias2")


def test_multigrad_dict():
    w, b, d = X, 0.5, V
    grads = multigrad_dict(loss)(w, b, d)
    assert list(grads) == ["weights", "bias", "data"]
    onp.testing.assert_allclose(grads["weights"], 2 * (w * d + b) * d)
    assert grads["bias"] == pytest.approx(onp.sum(2 * (w * d + b)))
    onp.testing.assert_allclose(grads["data"], 2 * (w * d + b) * w)


def test_multigrad_dict_defaults_keywords_and_varargs():
    def f(x, y=3.0):
        return x * y ** 2

    assert dict(multigrad_dict(f)(2.0)) == pytest.approx({"x": 9.0, "y": 12.0})
    assert dict(multigrad_dict(f)(2.0, y=1.0)) == pytest.approx({"x": 1.0, "y": 4.0})

    def g(x, /, *rest):
        return x * rest[0] * rest[1]

    grads = multigrad_dict(g)(2.0, 3.0, 5.0)
    assert grads["x"] == pytest.approx(15.0)
    assert tuple(grads["rest"]) == pytest.approx((10.0, 6.0))


# --- checkpoint ---------------------------------------------------------------------------------------------------

def sin_chain(z, n=10):
    for _ in range(n):
        z = np.sin(z) * 1.1
    return z


def test_checkpoint_same_gradient():
    ck = checkpoint(sin_chain)
    f_plain = lambda x: np.sum(sin_chain(x) ** 2)  # noqa: E731
    f_ckpt = lambda x: np.sum(ck(x) ** 2)  # noqa: E731
    onp.testing.assert_allclose(grad(f_ckpt)(X), grad(f_plain)(X), rtol=1e-12)
    onp.testing.assert_allclose(grad(f_ckpt)(X), numeric_grad(lambda x: float(f_plain(x)), X), rtol=1e-6)
    check_grads(f_ckpt, modes=("rev",))(X)


def test_checkpoint_keeps_no_inner_graph():
    for depth in (10, 50):
        ck = checkpoint(lambda z, depth=depth: sin_chain(z, depth))
        _, _, end = trace(VJPNode, lambda x, ck=ck: np.sum(ck(x)), X)
        nodes = toposort(end)
        assert len(nodes) == 3  # the input, the checkpointed call, the sum
        assert {node.fun for node in nodes} == {None, ck, np.sum}
        _, _, end_plain = trace(VJPNode, lambda x, depth=depth: np.sum(sin_chain(x, depth)), X)
        assert len(toposort(end_plain)) >= 2 * depth


def test_checkpoint_argnums_tuple_output_and_kwargs():
    ck = checkpoint(lambda a, b, power=2: (a * np.sin(b), b ** power))
    f = lambda a, b: ck(a, b, power=3)[0] + ck(a, b, power=3)[1]  # noqa: E731
    assert grad(f, 0)(2.0, 0.5) == pytest.approx(onp.sin(0.5))
    assert grad(f, 1)(2.0, 0.5) == pytest.approx(2.0 * onp.cos(0.5) + 3 * 0.5 ** 2)


def test_checkpoint_second_order_and_forward_mode():
    ck = checkpoint(lambda v: np.sin(v) * v)
    x = 0.9
    assert grad(grad(ck))(x) == pytest.approx(2 * onp.cos(x) - x * onp.sin(x))
    assert deriv(ck)(x) == pytest.approx(onp.cos(x) * x + onp.sin(x))
    check_grads(ck)(x)


def test_independent_output_warns_in_every_reverse_operator():
    with pytest.warns(UserWarning, match="does not depend"):
        g = elementwise_grad(lambda x: onp.ones(3))(X)
    onp.testing.assert_array_equal(g, onp.zeros(3))
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        grad(poly_sin)(X)  # a dependent output does not warn


def test_extrapolated_derivative_is_accurate_for_smooth_functions():
    from gradviz.test_util import extrapolated_derivative

    assert abs(extrapolated_derivative(onp.sin, 0.7) - onp.cos(0.7)) < 1e-11
    assert abs(extrapolated_derivative(lambda p: p ** 5, 2.0) - 80.0) < 1e-8
