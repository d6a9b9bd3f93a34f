"""The traced array: every operator on either side, attributes, iteration and methods, with their gradients."""

import operator
import warnings

import numpy as onp
import pytest

import gradviz.numpy as np
from gradviz import grad, make_vjp
from gradviz.numpy.numpy_boxes import ArrayBox
from gradviz.test_util import check_grads

A = onp.array([[1.0, 2.0, 3.0], [0.5, 1.5, 2.5]])
C = onp.array([[1.3, 0.7, 2.1], [1.1, 0.9, 1.7]])
B = A + 0.13  # x / y is not near an integer for any pair below, so % has no jump near B


def traced_value(fun, x):
    """``fun(x)`` computed on a traced ``x`` (the ArrayBox code path), and whether the result was traced."""
    seen = []

    def probe(box):
        out = fun(box)
        seen.append(type(out))
        return out

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        _, value = make_vjp(probe)(x)
    return value, seen[0]


DIFFERENTIABLE = {
    "add": operator.add, "sub": operator.sub, "mul": operator.mul, "truediv": operator.truediv,
    "mod": operator.mod, "pow": operator.pow,
}
OTHERS = [C, 1.7, onp.float64(1.7), onp.float32(1.7), onp.array(1.7), 2]


@pytest.mark.parametrize("name", sorted(DIFFERENTIABLE))
@pytest.mark.parametrize("other", OTHERS, ids=lambda o: type(o).__name__)
def test_binary_operator_box_on_left_and_right(name, other):
    op = DIFFERENTIABLE[name]
    for fun in (lambda a: op(a, other), lambda a: op(other, a)):
        value, out_type = traced_value(fun, B)
        assert out_type is ArrayBox
        onp.testing.assert_allclose(value, fun(B), rtol=1e-12)
        check_grads(fun, modes=("fwd", "rev"), order=2)(B)


def test_binary_operators_closed_forms():
    x = 1.7
    assert grad(lambda a: a / 3.0 + 3.0 / a)(x) == pytest.approx(1 / 3 - 3 / x ** 2)
    assert grad(lambda a: a ** 3 + 2.0 ** a)(x) == pytest.approx(3 * x ** 2 + onp.log(2) * 2 ** x)
    assert grad(lambda a: a % 0.5)(x) == pytest.approx(1.0)
    assert grad(lambda a: 5.0 % a)(x) == pytest.approx(-onp.floor(5.0 / x))
    assert grad(lambda a: 4.0 - a * 2.0)(x) == pytest.approx(-2.0)


@pytest.mark.parametrize("fun", [lambda a: a // 0.7, lambda a: 5.0 // a, lambda a: C // a])
def test_floor_divide_is_piecewise_constant(fun):
    value, _ = traced_value(fun, A)
    onp.testing.assert_array_equal(value, fun(A))
    with pytest.warns(UserWarning, match="does not depend"):
        g = grad(lambda a: np.sum(fun(a)))(A)
    onp.testing.assert_array_equal(g, onp.zeros_like(A))


def test_matmul_both_sides():
    M = onp.array([[0.5, -1.0], [2.0, 0.25], [1.0, 1.0]])
    value, out_type = traced_value(lambda a: a @ M, A)
    assert out_type is ArrayBox
    onp.testing.assert_allclose(value, A @ M)
    onp.testing.assert_allclose(traced_value(lambda a: M @ a, A)[0], M @ A)
    onp.testing.assert_allclose(grad(lambda a: np.sum(a @ M))(A), onp.ones((2, 2)) @ M.T)
    onp.testing.assert_allclose(grad(lambda a: np.sum(M @ a))(A), M.T @ onp.ones((3, 3)))
    check_grads(lambda a: a @ M)(A)
    check_grads(lambda a: M @ a)(A)


@pytest.mark.parametrize("fun", [lambda a: -a, lambda a: +a, lambda a: abs(a)])
def test_unary_operators(fun):
    x = A - 1.2  # no zeros, so abs is differentiable
    value, out_type = traced_value(fun, x)
    assert out_type is ArrayBox
    onp.testing.assert_allclose(value, fun(x))
    check_grads(fun)(x)
    onp.testing.assert_allclose(grad(lambda a: np.sum(abs(a)))(x), onp.sign(x))


COMPARISONS = [operator.lt, operator.le, operator.gt, operator.ge, operator.eq, operator.ne]


@pytest.mark.parametrize("op", COMPARISONS, ids=lambda op: op.__name__)
def test_comparisons_are_constants(op):
    x = onp.array([[1.3, 0.0, 3.0], [1.1, 2.0, 1.0]])
    for fun in (lambda a: op(a, C), lambda a: op(C, a), lambda a: op(a, 1.1), lambda a: op(1.1, a)):
        value, out_type = traced_value(fun, x)
        assert out_type is onp.ndarray and value.dtype == bool
        onp.testing.assert_array_equal(value, fun(x))
    # a comparison used as a mask: the gradient flows through the product only
    onp.testing.assert_allclose(grad(lambda a: np.sum(a * op(a, C)))(x), op(x, C).astype(float))


def test_attributes():
    def f(a):
        assert a.shape == (2, 3) and a.ndim == 2 and a.size == 6 and a.dtype == onp.float64 and len(a) == 2
        return a

    traced_value(f, A)
    assert traced_value(lambda a: a.dtype, onp.ones(2, onp.float32))[0] == onp.float32


def test_transpose_attribute():
    value, _ = traced_value(lambda a: a.T, A)
    onp.testing.assert_array_equal(value, A.T)
    onp.testing.assert_allclose(grad(lambda a: np.sum(a.T * C.T))(A), C)
    check_grads(lambda a: a.T)(A)


def test_real_and_imag():
    z = A + 1j * C
    onp.testing.assert_array_equal(traced_value(lambda a: a.real, z)[0], A)
    onp.testing.assert_array_equal(traced_value(lambda a: a.imag, z)[0], C)
    check_grads(lambda a: a.real * 2.0 + a.imag ** 2)(z)
    # the gradient of a real function of z is d/dx - i d/dy
    onp.testing.assert_allclose(grad(lambda a: np.sum(a.real * 2.0 + a.imag ** 2))(z), 2.0 - 2j * C)
    check_grads(lambda a: a.real * 2.0)(A)
    onp.testing.assert_allclose(grad(lambda a: np.sum(a.real * a))(A), 2 * A)


def test_iteration_and_len():
    rows, _ = traced_value(lambda a: [row for row in a], A)
    assert len(rows) == 2
    onp.testing.assert_array_equal(rows[1], A[1])
    onp.testing.assert_allclose(grad(lambda a: sum(np.sum(row * k) for k, row in enumerate(a)))(A),
                                [[0.0] * 3, [1.0] * 3])
    check_grads(lambda a: sum(row * row for row in a))(A)


def test_getitem():
    onp.testing.assert_allclose(grad(lambda a: np.sum(a[1] * a[0]))(A), [A[1], A[0]])
    check_grads(lambda a: a[:, 1:] * a[0, 0])(A)


METHODS = {
    "sum": (lambda a: a.sum(), lambda a: a.sum()),
    "sum_axis": (lambda a: a.sum(axis=0), lambda a: a.sum(axis=0)),
    "sum_positional_keepdims": (lambda a: a.sum(1, keepdims=True), lambda a: a.sum(1, keepdims=True)),
    "mean": (lambda a: a.mean(axis=1), lambda a: a.mean(axis=1)),
}
SHAPE_METHODS = {
    "reshape_args": lambda a: a.reshape(3, 2),
    "reshape_tuple": lambda a: a.reshape((3, 2)),
    "reshape_minus_one": lambda a: a.reshape(-1),
    "transpose_axes": lambda a: a.transpose(1, 0),
    "transpose_tuple": lambda a: a.transpose((1, 0)),
    "transpose_none": lambda a: a.transpose(),
    "ravel": lambda a: a.ravel(),
    "flatten": lambda a: a.flatten(),
    "swapaxes": lambda a: a.swapaxes(0, 1),
    "squeeze": lambda a: a.reshape(1, 2, 3).squeeze(),
    "dot": lambda a: a.dot(C.T),
    "prod": lambda a: a.prod(axis=1),
    "max": lambda a: a.max(axis=0),
    "min": lambda a: a.min(),
    "var": lambda a: a.var(axis=1),
    "std": lambda a: a.std(),
    "cumsum": lambda a: a.cumsum(axis=1),
    "copy": lambda a: a.copy(),
    "astype": lambda a: a.astype(onp.float64),
    "conj": lambda a: a.conj(),
    "clip": lambda a: a.clip(0.8, 2.2),
    "diagonal": lambda a: a.diagonal(),
    "trace": lambda a: a.trace(),
}


@pytest.mark.parametrize("name", sorted(METHODS))
def test_reduction_methods(name):
    fun, numpy_fun = METHODS[name]
    value, out_type = traced_value(fun, A)
    assert out_type is ArrayBox
    onp.testing.assert_allclose(value, numpy_fun(A))
    check_grads(fun)(A)


@pytest.mark.parametrize("name", sorted(SHAPE_METHODS))
def test_methods_needing_shape_product_and_reduction_rules(name):
    fun = SHAPE_METHODS[name]
    value, out_type = traced_value(fun, A)
    assert out_type is ArrayBox
    onp.testing.assert_allclose(value, fun(A))
    check_grads(fun)(A)


def test_method_closed_forms():
    onp.testing.assert_allclose(grad(lambda a: a.sum())(A), onp.ones_like(A))
    onp.testing.assert_allclose(grad(lambda a: a.mean())(A), onp.ones_like(A) / 6)
    onp.testing.assert_allclose(grad(lambda a: np.sum(a.reshape(3, 2) * C.reshape(3, 2)))(A), C)
    onp.testing.assert_allclose(grad(lambda a: np.sum(a.transpose(1, 0) * C.T))(A), C)
    onp.testing.assert_allclose(grad(lambda a: np.sum(a.dot(C.T)))(A), onp.ones((2, 2)) @ C)


def test_traced_box_has_repr_format_and_truth():
    def f(a):
        assert "ArrayBox" in repr(a)
        assert f"{a:.2f}" == "1.50"
        assert a and not (a - 1.5)
        return a * 2.0

    assert grad(f)(1.5) == pytest.approx(2.0)


def test_boxes_are_hashable():
    def f(a):
        cache = {a: 1}
        assert cache[a] == 1
        return a * 3.0

    assert grad(f)(1.0) == pytest.approx(3.0)
