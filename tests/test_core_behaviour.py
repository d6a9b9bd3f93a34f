"""What autograd users rely on: the type, dtype and structure of gradients, names, and friendly refusals."""

import warnings

import numpy as onp
import pytest

import gradviz.numpy as np
from gradviz import elementwise_grad, grad, grad_and_aux, jacobian, make_jvp, make_vjp, value_and_grad
from gradviz.core.tracer import Box


def foo(x, y=2.0):
    """A documented function."""
    return np.sin(x) * y


def sumsq(x):
    return np.sum(x * x)


# --- refusals ------------------------------------------------------------------------------------------------------

def test_integer_input_raises_type_error_naming_function_and_suggesting_float():
    with pytest.raises(TypeError) as info:
        grad(foo)(3)
    message = str(info.value)
    assert "foo" in message and "3.0" in message
    with pytest.raises(TypeError, match="float"):
        grad(sumsq)(onp.arange(3))
    with pytest.raises(TypeError, match="foo"):
        grad(foo, 1)(0.5, 2)
    with pytest.raises(TypeError):
        grad(lambda b: b * 1.0)(True)


def test_non_scalar_output_suggests_jacobian_and_elementwise_grad():
    with pytest.raises(TypeError) as info:
        grad(foo)(onp.ones(3))
    message = str(info.value)
    assert "foo" in message and "jacobian" in message and "elementwise_grad" in message
    assert "float64[3]" in message
    with pytest.raises(TypeError, match="jacobian"):
        value_and_grad(np.sin)(onp.ones(2))


def test_complex_output_of_grad_suggests_holomorphic_grad():
    with pytest.raises(TypeError, match="holomorphic_grad"):
        grad(lambda z: z * z)(1.0 + 1.0j)


# --- output independent of the input -------------------------------------------------------------------------------

@pytest.mark.parametrize("x", [1.5, onp.float32(1.5), onp.float64(1.5), onp.array(1.5), onp.ones((2, 3)),
                               onp.ones(2, onp.float32)])
def test_independent_output_warns_and_returns_zeros_like_input(x):
    with pytest.warns(UserWarning, match="does not depend on its input"):
        g = grad(lambda a: 4.0)(x)
    assert type(g) is type(x)
    assert onp.result_type(g) == onp.result_type(x)
    assert onp.shape(g) == onp.shape(x)
    assert onp.all(onp.asarray(g) == 0)


def test_independent_output_of_a_container_input():
    x = (1.0, onp.ones(2), {"k": [onp.float32(2.0)]})
    with pytest.warns(UserWarning, match="does not depend"):
        g = grad(lambda p: onp.float64(1.0))(x)
    assert type(g) is tuple and type(g[0]) is float and g[0] == 0.0
    onp.testing.assert_array_equal(g[1], onp.zeros(2))
    assert list(g[2]) == ["k"] and type(g[2]["k"]) is list
    assert type(g[2]["k"][0]) is onp.float32 and g[2]["k"][0] == 0


def test_independent_output_via_stop_gradient():
    from gradviz import stop_gradient

    with pytest.warns(UserWarning, match="does not depend"):
        g = grad(lambda a: stop_gradient(a) ** 2)(3.0)
    assert g == 0.0 and type(g) is float


def test_independent_output_in_forward_mode_has_zero_tangent_of_output_type():
    value, tangent = make_jvp(lambda a: 5.0)(2.0)(1.0)
    assert value == 5.0 and tangent == 0.0 and type(tangent) is float


# --- the gradient looks like the input ----------------------------------------------------------------------------

def test_python_float_gives_python_float():
    g = grad(lambda a: a ** 3)(2.0)
    assert type(g) is float and g == pytest.approx(12.0)


def test_numpy_scalars_keep_type_and_dtype():
    g32 = grad(lambda a: a * 2.0 + np.sin(a))(onp.float32(0.5))
    assert type(g32) is onp.float32
    assert g32 == pytest.approx(2 + onp.cos(0.5), rel=1e-6)
    g64 = grad(lambda a: a * a)(onp.float64(0.5))
    assert type(g64) is onp.float64 and g64 == pytest.approx(1.0)


def test_float32_array_stays_float32():
    x = onp.array([0.5, -1.0, 2.0], onp.float32)
    g = grad(lambda a: np.sum(np.tanh(a) * 3.0))(x)
    assert type(g) is onp.ndarray and g.dtype == onp.float32
    onp.testing.assert_allclose(g, 3 * (1 - onp.tanh(x) ** 2), rtol=1e-5)
    assert elementwise_grad(np.exp)(x).dtype == onp.float32


def test_zero_dimensional_array_stays_zero_dimensional_array():
    x = onp.array(0.7)
    g = grad(lambda a: np.sin(a) * a)(x)
    assert type(g) is onp.ndarray and g.shape == ()
    assert float(g) == pytest.approx(onp.cos(0.7) * 0.7 + onp.sin(0.7))


def test_complex_input_real_output_follows_autograd_convention():
    # d/dx - i d/dy of |z|^2 = x^2 + y^2 is 2x - 2iy = 2 conj(z)
    z = 1.0 + 2.0j
    g = grad(lambda w: np.abs(w) ** 2)(z)
    assert type(g) is complex and g == pytest.approx(2 * onp.conj(z))


def test_tuple_list_dict_inputs_give_same_container_types_and_keys():
    a, b = onp.array([1.0, 2.0]), onp.array([3.0, -1.0])
    gt = grad(lambda p: np.sum(p[0] * p[1]))((a, b))
    assert type(gt) is tuple and len(gt) == 2
    onp.testing.assert_allclose(gt[0], b)
    onp.testing.assert_allclose(gt[1], a)
    gl = grad(lambda p: np.sum(p[0] * p[1]))([a, b])
    assert type(gl) is list
    onp.testing.assert_allclose(gl[1], a)
    gd = grad(lambda p: np.sum(p["w"] ** 2) * p["s"])({"w": a, "s": 3.0})
    assert type(gd) is dict and list(gd) == ["w", "s"]
    onp.testing.assert_allclose(gd["w"], 6 * a)
    assert type(gd["s"]) is float and gd["s"] == pytest.approx(5.0)


def test_nested_container_structure_and_leaf_types():
    x = {"layer": [(onp.ones(2), 0.5), (onp.array([1.0, -1.0], onp.float32), onp.float32(2.0))], "t": 1.0}

    def f(p):
        total = p["t"] ** 2
        for w, s in p["layer"]:
            total = total + np.sum(w * w) * s
        return total

    g = f_grad = grad(f)(x)
    assert f_grad is g and type(g) is dict and list(g) == ["layer", "t"]
    assert type(g["layer"]) is list and all(type(item) is tuple for item in g["layer"])
    onp.testing.assert_allclose(g["layer"][0][0], 2 * 0.5 * onp.ones(2))
    assert type(g["layer"][0][1]) is float and g["layer"][0][1] == pytest.approx(2.0)
    assert g["layer"][1][0].dtype == onp.float32
    onp.testing.assert_allclose(g["layer"][1][0], [4.0, -4.0])
    assert type(g["layer"][1][1]) is onp.float32 and g["layer"][1][1] == pytest.approx(2.0)
    assert g["t"] == pytest.approx(2.0)


def test_argnum_tuple_gives_a_tuple():
    g = grad(lambda a, b, c: a * b * c, (0, 2))(2.0, 3.0, 5.0)
    assert type(g) is tuple and g == pytest.approx((15.0, 6.0))


# --- names and values ---------------------------------------------------------------------------------------------

def test_operator_names():
    assert grad(foo, 1).__name__ == "grad_of_foo_wrt_argnum_1"
    assert grad(foo).__name__ == "grad_of_foo_wrt_argnum_0"
    assert value_and_grad(foo).__name__ == "value_and_grad_of_foo_wrt_argnum_0"
    assert jacobian(foo, 1).__name__ == "jacobian_of_foo_wrt_argnum_1"
    assert grad(grad(foo)).__name__ == "grad_of_grad_of_foo_wrt_argnum_0_wrt_argnum_0"
    assert "A documented function." in grad(foo).__doc__


def test_value_and_grad_returns_an_unboxed_value():
    value, g = value_and_grad(lambda a: np.sum(np.exp(a)))(onp.array([0.0, 1.0]))
    assert not isinstance(value, Box)
    assert value == pytest.approx(1 + onp.e)
    onp.testing.assert_allclose(g, [1.0, onp.e])
    value, _ = value_and_grad(lambda a: a * 2.0)(1.5)
    assert not isinstance(value, Box) and value == 3.0


def test_make_vjp_and_grad_and_aux_values_are_unboxed():
    _, ans = make_vjp(np.sin)(onp.ones(2))
    assert type(ans) is onp.ndarray
    _, aux = grad_and_aux(lambda a: (a * a, [a, {"b": a * 2.0}]))(1.5)
    assert not isinstance(aux[0], Box) and not isinstance(aux[1]["b"], Box)
    assert aux[1]["b"] == pytest.approx(3.0)


def test_no_warning_when_output_depends_on_input():
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        assert grad(lambda a: a * 0.0)(1.0) == 0.0  # zero, but it depends on the input


def test_one_recipe_through_the_vjp_and_jvp_dispatch():
    """apply_vjp / apply_jvp (what the debugger's per-node check calls) give a primitive's rules at one recipe."""
    from gradviz.core.backward import apply_vjp, vjp_is_zero
    from gradviz.core.forward import apply_jvp
    from gradviz.extend import defvjp, primitive

    x, g = onp.array([0.3, -1.2]), onp.array([2.0, 0.5])
    assert onp.allclose(apply_vjp(np.sin, 0, onp.sin(x), [x], {}, g), g * onp.cos(x))
    assert onp.allclose(apply_jvp(np.sin, 0, onp.sin(x), [x], {}, g), g * onp.cos(x))
    y = onp.array([4.0, 5.0])
    assert onp.allclose(apply_vjp(np.multiply, 1, x * y, [x, y], {}, g), g * x)

    @primitive
    def scale(a, b):
        return a * b

    defvjp(scale, lambda ans, a, b: lambda g: g * b, None)
    assert vjp_is_zero(scale, 1) and not vjp_is_zero(scale, 0) and not vjp_is_zero(np.sin, 0)
    assert apply_vjp(scale, 1, x * y, [x, y], {}, g) is None


def test_ancestors_are_every_node_an_output_depends_on():
    from gradviz.core.backward import ancestors, trace_reverse

    def f(x):
        unused = np.cos(x)  # noqa: F841 (not an ancestor of the output)
        return np.sum(np.sin(x) * x)

    start, _, end = trace_reverse(f, onp.ones(2))
    found = ancestors([end])
    assert start in found and end in found
    assert sorted(node.fun.__name__ for node in found if node.fun is not None) == ["multiply", "sin", "sum"]
