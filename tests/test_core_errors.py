"""Errors as a new user meets them: each names the function, the argument and the shapes involved."""

import numpy as onp
import pytest

import gradviz.numpy as np
from gradviz import getval, grad, jacobian, make_jvp, make_vjp
from gradviz.extend import defjvp, defvjp, primitive


def loss_of_vector(x):
    return np.sin(x) * 2.0


def test_non_scalar_output_names_function_and_shape():
    with pytest.raises(TypeError) as info:
        grad(loss_of_vector)(onp.ones((2, 3)))
    message = str(info.value)
    assert "loss_of_vector" in message and "float64[2, 3]" in message
    assert "jacobian" in message and "elementwise_grad" in message


def test_integer_input_names_function_argnum_and_fix():
    def scaled(a, n):
        return a * n

    with pytest.raises(TypeError) as info:
        grad(scaled, 1)(2.0, 3)
    message = str(info.value)
    assert "scaled" in message and "argnum 1" in message and "3.0" in message and "int64[]" in message


def test_argnum_out_of_range():
    with pytest.raises(TypeError, match="argnum 2 is out of range"):
        grad(lambda a, b: a * b, 2)(1.0, 2.0)
    with pytest.raises(TypeError, match="argnum must be an int"):
        grad(np.sin, "x")


def test_non_differentiable_input_type():
    with pytest.raises(TypeError, match="str"):
        grad(lambda s: 1.0)("text")


# --- user primitives ----------------------------------------------------------------------------------------------

@primitive
def triple_without_rules(x):
    return 3 * x


def test_primitive_without_vjp_raises_not_implemented_naming_it():
    with pytest.raises(NotImplementedError) as info:
        grad(lambda x: np.sum(triple_without_rules(x)))(onp.ones(2))
    message = str(info.value)
    assert "triple_without_rules" in message and "VJP" in message and "argument 0" in message
    assert "defvjp" in message


def test_primitive_without_jvp_raises_not_implemented_naming_it():
    with pytest.raises(NotImplementedError) as info:
        make_jvp(triple_without_rules)(onp.ones(2))(onp.ones(2))
    message = str(info.value)
    assert "triple_without_rules" in message and "JVP" in message and "defjvp" in message


@primitive
def scale_by(x, y):
    return x * y


defvjp(scale_by, lambda ans, x, y: lambda g: g * y, lambda ans, x, y: lambda g: onp.ones(5))


def test_vjp_of_wrong_shape_names_primitive_argnum_and_shapes():
    with pytest.raises(ValueError) as info:
        grad(lambda y: np.sum(scale_by(onp.ones(3), y)))(onp.array([1.0, 2.0, 3.0]))
    message = str(info.value)
    assert "scale_by" in message and "argument 1" in message
    assert "float64[5]" in message and "float64[3]" in message
    # the correct argument is fine
    onp.testing.assert_allclose(grad(lambda x: np.sum(scale_by(x, onp.arange(3.0))))(onp.ones(3)),
                                onp.arange(3.0))


@primitive
def twice(x):
    return 2 * x


defvjp(twice, lambda ans, x: lambda g: g * (2 + 1j))
defjvp(twice, lambda g, ans, x: g * onp.ones((2, 3)))  # broadcasts to the wrong shape


def test_complex_gradient_for_real_input_is_refused():
    with pytest.raises(ValueError) as info:
        grad(lambda x: np.sum(twice(x)))(onp.ones(3))
    message = str(info.value)
    assert "twice" in message and "complex" in message and "real" in message
    with pytest.raises(ValueError, match="complex"):
        grad(twice)(1.0)


def test_jvp_of_wrong_shape_names_primitive():
    with pytest.raises(ValueError) as info:
        make_jvp(twice)(onp.ones(3))(onp.ones(3))
    message = str(info.value)
    assert "twice" in message and "float64[2, 3]" in message and "float64[3]" in message


# --- things a traced array can't do -------------------------------------------------------------------------------

@pytest.mark.parametrize("what, fun", [
    ("float()", lambda x: float(x)),
    ("int()", lambda x: int(x)),
    (".item()", lambda x: x.item()),
    ("complex()", lambda x: complex(x)),
])
def test_detaching_a_traced_value_raises_with_advice(what, fun):
    with pytest.raises(TypeError) as info:
        grad(fun)(onp.array(1.5))
    message = str(info.value)
    assert what in message and "getval" in message and "float64[]" in message


def test_item_assignment_raises_with_advice():
    def f(x):
        x[0] = 1.0
        return np.sum(x)

    with pytest.raises(TypeError) as info:
        grad(f)(onp.ones(3))
    message = str(info.value)
    assert "assignment" in message and "float64[3]" in message and "np.where" in message


def test_getval_is_the_way_out():
    def f(x):
        scale = float(getval(x))  # a constant: its gradient is not followed
        return x * scale

    assert grad(f)(3.0) == pytest.approx(3.0)


# --- plain NumPy on traced values ---------------------------------------------------------------------------------

X = onp.array([0.3, -1.2, 0.7])


def test_plain_numpy_ufunc_is_routed_and_traced():
    def f(x):
        return onp.sum(onp.sin(x) * onp.exp(x))

    onp.testing.assert_allclose(grad(f)(X), (onp.cos(X) + onp.sin(X)) * onp.exp(X))
    onp.testing.assert_allclose(grad(lambda x: onp.add(x, 1.0) * onp.multiply(2.0, x))(1.5), 2 * (2 * 1.5 + 1))


def test_plain_numpy_function_is_routed_through_array_function():
    onp.testing.assert_allclose(grad(lambda x: onp.sum(x ** 2))(X), 2 * X)
    onp.testing.assert_allclose(grad(lambda x: onp.mean(np.exp(x)))(X), onp.exp(X) / 3)


def test_plain_numpy_asarray_raises_with_advice():
    for convert in (onp.asarray, onp.array):
        with pytest.raises(TypeError) as info:
            grad(lambda x, convert=convert: np.sum(convert(x)))(X)
        message = str(info.value)
        assert "gradviz.numpy" in message and "float64[3]" in message


def test_plain_numpy_ufunc_with_out_is_refused():
    with pytest.raises(TypeError, match="out="):
        grad(lambda x: np.sum(onp.sin(x, out=onp.empty(3))))(X)


def test_traced_keyword_argument_raises():
    with pytest.raises(TypeError) as info:
        grad(lambda lo: np.sum(np.clip(X, a_min=lo, a_max=2.0)))(0.0)
    message = str(info.value)
    assert "clip" in message and "a_min" in message and "positionally" in message


# --- misuse of the operators --------------------------------------------------------------------------------------

def test_wrong_cotangent_and_tangent():
    vjp, _ = make_vjp(lambda x: (x * 2.0, x))(X)
    with pytest.raises(ValueError, match="cotangent"):
        vjp(onp.ones(3))
    with pytest.raises(ValueError, match=r"float64\[2\]"):
        make_jvp(np.sin)(X)(onp.ones(2))


def test_jacobian_of_container_output_is_refused():
    with pytest.raises(TypeError, match="jacobian"):
        jacobian(lambda x: (x, x))(X)


def test_traced_value_kept_after_its_gradient_finished():
    kept = []

    def leak(x):
        kept.append(x)
        return x * 2.0

    grad(leak)(1.0)
    with pytest.raises(ValueError) as info:
        grad(lambda y: y * kept[0])(3.0)
    assert "another trace" in str(info.value) and "getval" in str(info.value)


def test_plain_numpy_with_traced_values_hidden_in_a_list_says_where_they_are():
    """np.block sees the list, not the boxes in it: the error says so instead of recursing forever."""
    with pytest.raises(TypeError, match=r"numpy\.block got a traced value inside a list"):
        grad(lambda x: np.sum(onp.block([[x, x]])))(onp.ones(3))


def test_plain_numpy_select_of_traced_lists_is_traced():
    x = onp.array([-1.0, 2.0, 3.0])
    gradient = grad(lambda x: np.sum(onp.select([x > 0], [x ** 2])))(x)
    assert onp.array_equal(gradient, onp.where(x > 0, 2 * x, 0.0))


def test_plain_numpy_concatenate_of_traced_list_is_traced():
    gradient = grad(lambda x: onp.sum(onp.concatenate([x, 2 * x])))(onp.ones(3))
    assert onp.array_equal(gradient, onp.full(3, 3.0))
