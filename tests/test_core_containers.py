"""Python control flow and containers: closures, loops, branches, recursion, tuples, lists, dicts, builtins."""

import numpy as onp
import pytest

import gradviz
import gradviz.numpy as np
from gradviz import deriv, grad, make_jvp, make_vjp
from gradviz.test_util import check_grads

X = onp.array([0.3, -1.2, 0.7])


# --- control flow -------------------------------------------------------------------------------------------------

def test_closure():
    def make_model(scale):
        def model(x):
            return np.sum(np.tanh(x * scale))

        return model

    model = make_model(2.5)
    onp.testing.assert_allclose(grad(model)(X), 2.5 * (1 - onp.tanh(2.5 * X) ** 2))
    check_grads(model)(X)


def test_for_loop_horner():
    coefficients = [0.5, -1.0, 2.0, 3.0]  # 0.5 x^3 - x^2 + 2 x + 3

    def poly(x):
        total = 0.0
        for c in coefficients:
            total = total * x + c
        return total

    assert grad(poly)(1.7) == pytest.approx(1.5 * 1.7 ** 2 - 2 * 1.7 + 2)
    assert grad(grad(poly))(1.7) == pytest.approx(3 * 1.7 - 2)
    check_grads(poly)(1.7)


def test_branching_on_values():
    def f(x):
        if x > 0:
            return x ** 2
        return -(x ** 3)

    assert grad(f)(2.0) == pytest.approx(4.0)
    assert grad(f)(-2.0) == pytest.approx(-12.0)

    def g(x):
        return np.sum(x ** 2) if np.sum(x) > 0 else np.sum(np.sin(x))

    onp.testing.assert_allclose(grad(g)(onp.array([1.0, 2.0])), [2.0, 4.0])
    onp.testing.assert_allclose(grad(g)(onp.array([-1.0, -2.0])), onp.cos([-1.0, -2.0]))


def test_recursion():
    def power(x, n):
        return 1.0 if n == 0 else x * power(x, n - 1)

    assert grad(power)(1.3, 5) == pytest.approx(5 * 1.3 ** 4)
    assert grad(grad(power))(1.3, 5) == pytest.approx(20 * 1.3 ** 3)


def test_while_loop():
    def double_until_large(x):
        while x < 100.0:
            x = x * 2.0
        return x

    assert grad(double_until_large)(3.0) == pytest.approx(2.0 ** 6)  # 3 * 64 = 192 >= 100

    def newton_sqrt(a):
        """sqrt(a) by Newton's method: differentiating the iterations gives 1 / (2 sqrt(a))."""
        x = a
        while abs(x * x - a) > 1e-12:
            x = 0.5 * (x + a / x)
        return x

    assert grad(newton_sqrt)(2.0) == pytest.approx(0.5 / onp.sqrt(2.0), rel=1e-8)


def test_accumulating_in_a_python_list():
    def f(x):
        parts = []
        for k in range(1, 4):
            parts.append(np.sum(x ** k) / k)
        return sum(parts)

    onp.testing.assert_allclose(grad(f)(X), 1 + X + X ** 2)


# --- containers as inputs -----------------------------------------------------------------------------------------

def test_tuple_input_unpacking_and_iteration():
    def f(params):
        w, b = params
        return np.sum(np.tanh(w * X + b))

    w, b = onp.array([0.5, -1.0, 2.0]), 0.3
    gw, gb = grad(f)((w, b))
    d = 1 - onp.tanh(w * X + b) ** 2
    onp.testing.assert_allclose(gw, d * X)
    assert gb == pytest.approx(onp.sum(d))
    check_grads(f, modes=("rev",))((w, b))


def test_list_input_with_loop_and_len():
    def f(ws):
        total = 0.0
        for i in range(len(ws)):
            total = total + np.sum(ws[i] ** 2) * (i + 1)
        return total

    ws = [onp.array([1.0, 2.0]), onp.array([-1.0]), onp.array([0.5, 0.5, 0.5])]
    g = grad(f)(ws)
    assert type(g) is list and len(g) == 3
    for i, (gi, wi) in enumerate(zip(g, ws)):
        onp.testing.assert_allclose(gi, 2 * (i + 1) * wi)


def test_negative_index_and_slices():
    p = (1.0, 2.0, 3.0, 4.0)
    assert grad(lambda q: q[-1] * q[0])(p) == pytest.approx((4.0, 0.0, 0.0, 1.0))
    assert grad(lambda q: sum(q[1:3]) * 2.0)(p) == pytest.approx((0.0, 2.0, 2.0, 0.0))
    assert grad(lambda q: sum(q[::2]))(p) == pytest.approx((1.0, 0.0, 1.0, 0.0))
    sliced = grad(lambda q: q[1:][0] ** 2)([1.0, 2.0, 3.0])
    assert type(sliced) is list and sliced == pytest.approx([0.0, 4.0, 0.0])


def test_sequence_concatenation():
    assert grad(lambda q: sum(q + (5.0,)) * q[0])((1.0, 2.0)) == pytest.approx((9.0, 1.0))
    assert grad(lambda q: sum([5.0] + q) * q[1])([1.0, 2.0]) == pytest.approx([2.0, 10.0])


def test_dict_input_methods():
    def f(d):
        assert "a" in d and "z" not in d and len(d) == 2 and list(d) == ["a", "b"]
        assert list(d.keys()) == ["a", "b"]
        total = sum(v for v in d.values()) + sum(v * v for _, v in d.items())
        return total + d.get("a") * 2.0 + (d.get("z") or 0.0)

    g = grad(f)({"a": 1.5, "b": -0.5})
    assert g == pytest.approx({"a": 1 + 3.0 + 2.0, "b": 1 - 1.0})


def test_nested_containers_input():
    params = {"layers": [(onp.array([1.0, 2.0]), 0.5), (onp.array([-1.0, 0.0]), -0.25)], "scale": 2.0}

    def f(p):
        h = X[:2]
        for w, b in p["layers"]:
            h = np.tanh(h * w + b)
        return p["scale"] * np.sum(h ** 2)

    check_grads(f, modes=("rev",))(params)
    g = grad(f)(params)
    assert g["scale"] == pytest.approx(float(f(params)) / 2.0)


def test_second_order_through_a_tuple():
    """The gradient of a tuple, itself traced, summed from two items (add of two traced containers)."""

    def f(q):  # gradient (q1 + 2 q0, q0)
        return q[0] * q[1] + q[0] ** 2

    def g(p):
        dq = grad(f)(p)
        return dq[0] + dq[1]  # 3 p0 + p1

    assert grad(g)((0.7, -1.3)) == pytest.approx((3.0, 1.0))


def test_second_order_through_a_dict():
    def f(d):
        return d["x"] * d["y"] + d["x"] ** 2

    def g(p):
        dd = grad(f)(p)
        return dd["x"] + dd["y"]

    assert grad(g)({"x": 0.7, "y": -1.3}) == pytest.approx({"x": 3.0, "y": 1.0})


# --- containers as outputs ----------------------------------------------------------------------------------------

def test_make_vjp_of_tuple_output_with_tuple_cotangent():
    def f(x):
        return np.sin(x), np.sum(x ** 2)

    vjp, (s, q) = make_vjp(f)(X)
    onp.testing.assert_allclose(s, onp.sin(X))
    assert q == pytest.approx(onp.sum(X ** 2))
    u = onp.array([1.0, -2.0, 0.5])
    onp.testing.assert_allclose(vjp((u, 3.0)), u * onp.cos(X) + 3.0 * 2 * X)
    onp.testing.assert_allclose(vjp((onp.zeros(3), 1.0)), 2 * X)


def test_make_vjp_of_nested_list_and_dict_output():
    def f(x):
        return [x * 2.0, {"a": x ** 2, "b": (np.sin(x),)}]

    vjp, out = make_vjp(f)(0.5)
    assert type(out) is list and type(out[1]) is dict and type(out[1]["b"]) is tuple
    assert out[1]["a"] == pytest.approx(0.25)
    g = vjp([1.0, {"a": 1.0, "b": (1.0,)}])
    assert g == pytest.approx(2.0 + 1.0 + onp.cos(0.5))
    g_reordered = vjp([0.0, {"b": (2.0,), "a": 0.0}])  # a cotangent's keys may come in any order
    assert g_reordered == pytest.approx(2 * onp.cos(0.5))


def test_output_tuple_with_constant_item():
    vjp, out = make_vjp(lambda x: (x * 3.0, 1.0))(2.0)
    assert out == (6.0, 1.0)
    assert vjp((1.0, 7.0)) == pytest.approx(3.0)


def test_make_jvp_of_tuple_output_and_tuple_input():
    value, tangent = make_jvp(lambda x: (np.sin(x), x * 2.0))(0.5)(1.0)
    assert value == pytest.approx((onp.sin(0.5), 1.0))
    assert tangent == pytest.approx((onp.cos(0.5), 2.0))
    value, tangent = make_jvp(lambda p: p[0] * p[1])((2.0, 3.0))((1.0, -1.0))
    assert value == pytest.approx(6.0) and tangent == pytest.approx(3.0 - 2.0)
    assert deriv(lambda x: {"a": x ** 3})(2.0) == pytest.approx({"a": 12.0})


# --- gradviz.builtins ---------------------------------------------------------------------------------------------

def test_builtins_make_traced_containers():
    def f(x):
        t = gradviz.tuple([x, x * 2.0])
        items = gradviz.list(np.sin(x) for _ in range(2))
        d = gradviz.dict(a=x, b=x * 4.0)
        assert gradviz.isinstance(t, tuple) and gradviz.type(t) is tuple
        assert gradviz.isinstance(items, list) and gradviz.type(items) is list
        assert gradviz.isinstance(d, dict) and gradviz.type(d) is dict
        assert gradviz.isinstance(x, float) and gradviz.type(x) is float
        assert not isinstance(t, tuple)  # it is one traced value, not a plain tuple
        return t[1] + items[0] + items[1] + d["b"]

    assert grad(f)(0.3) == pytest.approx(2.0 + 2 * onp.cos(0.3) + 4.0)


def test_builtins_without_traced_items_are_plain():
    assert gradviz.tuple([1, 2]) == (1, 2) and type(gradviz.tuple([1, 2])) is tuple
    assert gradviz.list((1, 2)) == [1, 2] and gradviz.list() == []
    assert gradviz.dict([("a", 1)], b=2) == {"a": 1, "b": 2}
    assert gradviz.type(1.0) is float and gradviz.isinstance(onp.ones(2), onp.ndarray)


def test_builtins_tuple_as_function_output():
    vjp, out = make_vjp(lambda x: gradviz.tuple([x, x ** 2]))(3.0)
    assert out == (3.0, 9.0)
    assert vjp((1.0, 1.0)) == pytest.approx(7.0)


def test_builtins_isinstance_type_of_nested_box():
    def f(x):
        def inner(y):
            assert gradviz.isinstance(y, onp.ndarray) and gradviz.type(y) is onp.ndarray
            return np.sum(y * x)

        return np.sum(grad(inner)(x))  # the inner gradient is x itself

    onp.testing.assert_allclose(grad(f)(X), onp.ones(3))


def test_forward_mode_through_container_addition_is_additive():
    """add_any is additive, not multilinear: the tangent of add_any(c, t) in t is the tangent of t alone."""
    from gradviz.core.containers import add_any

    assert make_jvp(lambda t: add_any(4.0, t))(1.0)(1.0) == (5.0, 1.0)
    value, tangent = make_jvp(lambda t: add_any((4.0, t), (t, 2.0)))(1.0)(1.0)
    assert value == (5.0, 3.0) and tangent == (1.0, 1.0)


def test_forward_over_forward_through_a_primitive_returning_a_tuple():
    """A JVP rule's plain tuple of traced tangents is one traced tangent (make_jvp packs it)."""
    from gradviz.extend import defjvp, primitive

    @primitive
    def pair(x):
        return x * 2.0, x * 3.0

    defjvp(pair, lambda g, ans, x: (g * 2.0, g * 3.0))

    def tangent_of_pair_of_sin(x):
        return make_jvp(lambda y: pair(np.sin(y)))(x)(1.0)[1]

    value, second = make_jvp(tangent_of_pair_of_sin)(0.5)(1.0)
    assert onp.allclose(value, (2 * onp.cos(0.5), 3 * onp.cos(0.5)))
    assert onp.allclose(second, (-2 * onp.sin(0.5), -3 * onp.sin(0.5)))


def test_slicing_a_traced_sequence_inside_a_second_derivative():
    """At second order a traced list's value is itself traced: slicing it must still build the same kind of list."""
    def f(x):
        return np.sum(np.split(x, 2)[:1][0] ** 3)

    x = onp.arange(4.0)
    assert onp.allclose(grad(lambda x: np.sum(grad(f)(x)))(x), [0.0, 6.0, 0.0, 0.0])
