"""Names and hooks: gradviz.tap labels a node for Trace.find / Trace.grad_of; register_hook sees or replaces the
outgrad of an intermediate value, in a trace and in plain grad."""

import numpy as onp
import pytest

import gradviz
import gradviz.numpy as np
from gradviz import grad
from gradviz.extend import register_hook


def tapped_model(x):
    h = gradviz.tap(np.tanh(x * 2.0), "hidden")
    return np.sum(gradviz.tap(h * h, "squares"))


def test_tap_labels_the_node_and_find_reads_it_back():
    x = onp.array([0.1, -0.3, 0.5])
    trace = gradviz.trace(tapped_model, x)
    hidden = trace.find("hidden")
    assert hidden.name == "hidden" and hidden.primitive == "numpy.tanh"
    assert hidden.value.head == pytest.approx(list(onp.tanh(2 * x)))
    squares = trace.find("squares")
    assert squares.primitive == "numpy.multiply"
    assert squares.parents == [(0, hidden.id), (1, hidden.id)]
    assert [n.name for n in trace.nodes if n.name] == ["hidden", "squares"]
    with pytest.raises(KeyError, match="hidden"):  # the message lists the names that exist
        trace.find("nope")


def test_grad_of_gives_the_full_gradient_of_a_tapped_node():
    x = onp.array([0.1, -0.3, 0.5])
    trace = gradviz.trace(tapped_model, x)  # no keep_values: a tapped node's gradient is kept anyway
    h = onp.tanh(2 * x)
    assert isinstance(trace.grad_of("hidden"), onp.ndarray)
    assert onp.allclose(trace.grad_of("hidden"), 2 * h)
    assert onp.allclose(trace.grad_of("squares"), onp.ones(3))
    assert onp.allclose(trace.grad, 2 * h * (1 - h ** 2) * 2)


def test_grad_of_a_tapped_node_off_the_path_is_none():
    def f(x):
        gradviz.tap(np.exp(x), "unused")
        return np.sum(np.sin(x))

    trace = gradviz.trace(f, onp.array([0.3]))
    assert trace.find("unused").on_path is False
    assert trace.grad_of("unused") is None


def test_tap_returns_its_argument_and_is_a_no_op_outside_trace():
    x = onp.array([1.0, 2.0])
    assert gradviz.tap(x, "x") is x
    assert gradviz.tap(3.0, "three") == 3.0

    seen = []

    def f(x):
        y = np.sin(x)
        seen.append(gradviz.tap(y, "y") is y)
        return np.sum(y)

    assert onp.allclose(grad(f)(x), onp.cos(x))  # inside plain grad: returns the box itself
    assert seen == [True]


def test_tap_name_must_be_a_string():
    with pytest.raises(TypeError, match="str"):
        gradviz.tap(onp.ones(2), 3)

    def f(x):
        return np.sum(gradviz.tap(x * 2.0, None))

    with pytest.raises(TypeError, match="NoneType"):
        gradviz.trace(f, onp.ones(2))


def test_hook_sees_the_outgrad():
    seen = []

    def f(x):
        y = np.sin(x)
        register_hook(y, lambda g: seen.append(onp.array(g)))
        return np.sum(y * x)

    x = onp.array([0.2, 0.7])
    trace = gradviz.trace(f, x)
    assert len(seen) == 1 and onp.allclose(seen[0], x)  # d sum(y x) / dy = x
    assert onp.allclose(trace.grad, onp.cos(x) * x + onp.sin(x))  # a hook returning None changes nothing


def double(g):
    return g * 2.0


def scaled_model(x):
    y = gradviz.tap(np.sin(x), "y")
    register_hook(y, double)
    return np.sum(y * x)


def test_hook_that_replaces_the_outgrad_in_a_trace():
    x = onp.array([0.2, 0.7, -1.1])
    trace = gradviz.trace(scaled_model, x, keep_values=True)
    expected = 2.0 * x * onp.cos(x) + onp.sin(x)
    assert onp.allclose(trace.grad, expected)
    step = trace.step_of(trace.find("y").id)
    (arrival,) = step.arrived
    assert onp.allclose(arrival.value.value, x)  # what arrived, before the hook
    assert onp.allclose(step.outgrad.value, 2.0 * x)  # what the VJP received, after it
    assert onp.allclose(trace.grad_of("y"), 2.0 * x)
    assert onp.allclose(step.sent[0].value.value, 2.0 * x * onp.cos(x))


def test_hook_works_in_plain_grad():
    x = onp.array([0.2, 0.7, -1.1])
    assert onp.allclose(grad(scaled_model)(x), 2.0 * x * onp.cos(x) + onp.sin(x))


def test_hooks_run_in_registration_order():
    def f(x):
        y = np.exp(x)
        register_hook(y, lambda g: g + 1.0)
        register_hook(y, lambda g: g * 10.0)
        return np.sum(y)

    x = onp.array([0.0, 0.5])
    assert onp.allclose(grad(f)(x), (1.0 + 1.0) * 10.0 * onp.exp(x))
    assert onp.allclose(gradviz.trace(f, x).grad, 20.0 * onp.exp(x))


def test_hook_returns_its_argument():
    def f(x):
        y = x * 3.0
        assert register_hook(y, double) is y
        return np.sum(y)

    assert onp.allclose(grad(f)(onp.ones(2)), 6.0)


def test_register_hook_on_an_untraced_value():
    with pytest.raises(TypeError, match="not a traced value"):
        register_hook(onp.ones(3), double)


def test_hook_returning_the_wrong_shape():
    def wrong_shape(g):
        return onp.ones(5)

    def f(x):
        y = np.sin(x)
        register_hook(y, wrong_shape)
        return np.sum(y)

    for run in (lambda: grad(f)(onp.ones(3)), lambda: gradviz.trace(f, onp.ones(3))):
        with pytest.raises(ValueError) as info:
            run()
        message = str(info.value)
        assert "wrong_shape" in message
        assert "float64[5]" in message and "float64[3]" in message
