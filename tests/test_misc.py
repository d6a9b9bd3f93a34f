"""gradviz.misc: flattening containers, the optimizers, and fixed points differentiated implicitly."""

import numpy as onp
import pytest

import gradviz.numpy as np
from gradviz import grad
from gradviz.core.backward import VJPNode, toposort
from gradviz.core.tracer import trace
from gradviz.misc import flatten, flatten_func
from gradviz.misc.fixed_points import fixed_point
from gradviz.misc.optimizers import adam, rmsprop, sgd
from gradviz.test_util import check_grads


def nested_example():
    return {"b": (onp.arange(3.0), [onp.ones((2, 2)), 2.5]), "a": onp.array(-1.0)}


def assert_same_structure(x, y):
    """Equal containers of the same types, with leaves of equal shape and value."""
    if isinstance(x, dict):
        assert type(x) is type(y) and list(x) == list(y)
        for key in x:
            assert_same_structure(x[key], y[key])
    elif isinstance(x, (tuple, list)):
        assert type(x) is type(y) and len(x) == len(y)
        for a, b in zip(x, y):
            assert_same_structure(a, b)
    else:
        assert onp.shape(x) == onp.shape(y)
        onp.testing.assert_array_equal(x, y)


# --- flatten

def test_flatten_lays_out_leaves_in_sorted_key_order():
    flat, _ = flatten(nested_example())
    onp.testing.assert_array_equal(flat, [-1.0, 0.0, 1.0, 2.0, 1.0, 1.0, 1.0, 1.0, 2.5])


def test_unflatten_restores_structure_types_and_shapes():
    value = nested_example()
    flat, unflatten = flatten(value)
    restored = unflatten(flat)
    assert_same_structure(restored, value)
    assert isinstance(restored["a"], onp.ndarray) and isinstance(restored["b"][1][1], float)
    doubled = unflatten(2 * flat)
    onp.testing.assert_array_equal(doubled["b"][1][0], 2 * onp.ones((2, 2)))
    assert doubled["b"][1][1] == 5.0
    assert list(doubled) == ["b", "a"]  # the caller's key order, though the flat layout is sorted


def test_flatten_of_an_empty_container_and_a_bare_array():
    flat, unflatten = flatten(())
    assert flat.shape == (0,) and unflatten(flat) == ()
    matrix = onp.arange(6.0).reshape(2, 3)
    flat, unflatten = flatten(matrix)
    onp.testing.assert_array_equal(flat, onp.arange(6.0))
    assert_same_structure(unflatten(flat), matrix)


def test_unflatten_rejects_a_vector_of_the_wrong_size():
    _, unflatten = flatten((onp.ones(2), onp.ones(3)))
    with pytest.raises(ValueError, match="5 values"):
        unflatten(onp.ones(4))


def test_flatten_of_a_traced_value_is_differentiable():
    x = (onp.array([0.3, -1.2]), {"u": onp.array([[0.5, 2.0]]), "v": 1.5})
    check_grads(lambda x: np.sin(flatten(x)[0]))(x)


def test_unflatten_of_a_traced_vector_is_differentiable():
    _, unflatten = flatten((onp.ones(2), {"u": onp.ones((1, 2)), "v": 1.0}))

    def fun(v):
        a, d = unflatten(v)
        return np.sum(np.sin(a)) * d["v"] + np.sum(d["u"] ** 2)

    check_grads(fun)(onp.array([0.3, -1.2, 0.5, 2.0, 1.5]))


def test_flatten_func_gives_the_flat_gradient():
    params = {"w": onp.array([1.0, -2.0]), "c": 3.0}

    def loss(p, scale):
        return scale * (np.sum(p["w"] ** 2) + p["c"] ** 3)

    flat_loss, unflatten, flat_params = flatten_func(loss, params)
    onp.testing.assert_array_equal(flat_params, [3.0, 1.0, -2.0])  # "c" sorts before "w"
    onp.testing.assert_allclose(flat_loss(flat_params, 2.0), [2.0 * (5.0 + 27.0)])
    flat_gradient = grad(lambda v: np.sum(flat_loss(v, 2.0)))(flat_params)
    onp.testing.assert_allclose(flat_gradient, [2.0 * 27.0, 4.0, -8.0])  # 2 * (3 c^2, 2 w)
    assert_same_structure(unflatten(flat_params), {"w": params["w"], "c": onp.float64(3.0)})


# --- optimizers

A = {"w": onp.array([1.0, 3.0]), "b": (onp.array(2.0),)}  # a diagonal quadratic 0.5 sum A (x - C)^2
C = {"w": onp.array([0.5, -1.0]), "b": (onp.array(2.0),)}
X0 = {"w": onp.zeros(2), "b": (onp.array(0.0),)}


def quadratic_grad(x, i):
    return {"w": A["w"] * (x["w"] - C["w"]), "b": (A["b"][0] * (x["b"][0] - C["b"][0]),)}


@pytest.mark.parametrize("optimizer, settings", [
    (sgd, dict(num_iters=600, step_size=0.1, mass=0.9)),
    (rmsprop, dict(num_iters=600, step_size=0.01, gamma=0.9)),
    (adam, dict(num_iters=600, step_size=0.05)),
])
def test_optimizer_reaches_the_minimum_of_a_quadratic(optimizer, settings):
    seen = []
    x = optimizer(quadratic_grad, X0, callback=lambda x, i, g: seen.append((x, i, g)), **settings)
    assert set(x) == {"w", "b"} and isinstance(x["b"], tuple) and x["w"].shape == (2,)
    tol = 1e-6 if optimizer is sgd else 2 * settings["step_size"]  # adaptive steps hover within ~step_size
    onp.testing.assert_allclose(x["w"], C["w"], atol=tol)
    onp.testing.assert_allclose(x["b"][0], C["b"][0], atol=tol)
    assert [i for _, i, _ in seen] == list(range(settings["num_iters"]))
    x0, _, g0 = seen[0]
    assert_same_structure(x0, X0)
    assert_same_structure(g0, quadratic_grad(X0, 0))


def test_first_steps_follow_the_update_rules():
    g = quadratic_grad(X0, 0)
    g_flat = onp.concatenate([g["b"][0].ravel(), g["w"]])  # sorted keys: "b" then "w"
    x0_flat = onp.zeros(3)
    expected = {
        sgd: x0_flat - 0.1 * (1 - 0.9) * g_flat,
        rmsprop: x0_flat - 0.1 * g_flat / (onp.sqrt(0.9 + 0.1 * g_flat ** 2) + 1e-8),
        adam: x0_flat - 0.001 * g_flat / (onp.abs(g_flat) + 1e-8),
    }
    for optimizer, x1_flat in expected.items():
        x1 = optimizer(quadratic_grad, X0, num_iters=1)
        onp.testing.assert_allclose(flatten(x1)[0], x1_flat, rtol=1e-12)


def test_an_optimizer_takes_a_bare_array():
    x = sgd(lambda x, i: 2 * (x - 3.0), onp.zeros(2), num_iters=500)
    assert isinstance(x, onp.ndarray) and x.shape == (2,)
    onp.testing.assert_allclose(x, [3.0, 3.0], atol=1e-6)


# --- fixed points

def absolute_change(x, x_prev):
    return np.max(np.abs(x - x_prev))


def newton_sqrt(a):
    """sqrt(a) as the fixed point of Newton's iteration x = (x + a / x) / 2."""
    return fixed_point(lambda a: lambda x: (x + a / x) / 2, a, np.ones_like(a), absolute_change, 1e-12)


def test_fixed_point_finds_the_square_root():
    onp.testing.assert_allclose(newton_sqrt(2.0), onp.sqrt(2.0), rtol=1e-14)
    onp.testing.assert_allclose(newton_sqrt(onp.array([0.5, 9.0])), [onp.sqrt(0.5), 3.0], rtol=1e-14)


def test_fixed_point_gradient_is_that_of_the_square_root():
    for a in (0.5, 2.0, 9.0):
        onp.testing.assert_allclose(grad(newton_sqrt)(a), 1 / (2 * onp.sqrt(a)), rtol=1e-10)
        onp.testing.assert_allclose(grad(grad(newton_sqrt))(a), -0.25 * a ** -1.5, rtol=1e-8)


def test_fixed_point_derivatives_match_finite_differences():
    check_grads(newton_sqrt, modes=["rev"])(2.0)
    check_grads(newton_sqrt)(onp.array([0.5, 9.0]))


def test_fixed_point_is_one_node_not_one_per_iteration():
    start, _, end = trace(VJPNode, newton_sqrt, 2.0)
    nodes = toposort(end)
    assert [node.fun for node in nodes] == [fixed_point, None]  # the answer, then the input
    assert end.parents == [start]


def test_fixed_point_does_not_depend_on_the_starting_point():
    x0_grad = grad(lambda x0: fixed_point(lambda a: lambda x: (x + a / x) / 2, 2.0, x0, absolute_change, 1e-12))(1.0)
    assert x0_grad == 0.0


def test_fixed_point_in_a_dict_parameter():
    # x = s cos(x) + t: dx/dt = 1 / (1 + s sin x), dx/ds = cos x / (1 + s sin x)
    def solve(params):
        return fixed_point(lambda p: lambda x: p["s"] * np.cos(x) + p["t"], params, 0.0, absolute_change, 1e-13)

    params = {"s": 0.5, "t": 0.3}
    x = solve(params)
    onp.testing.assert_allclose(x, 0.5 * onp.cos(x) + 0.3, atol=1e-12)
    g = grad(solve)(params)
    denominator = 1 + 0.5 * onp.sin(x)
    onp.testing.assert_allclose(g["t"], 1 / denominator, rtol=1e-9)
    onp.testing.assert_allclose(g["s"], onp.cos(x) / denominator, rtol=1e-9)
    check_grads(solve)(params)
