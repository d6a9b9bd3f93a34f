"""gradviz.trace as a whole: value and grad as value_and_grad gives them, argnum, kwargs, cotangent, backward=False,
the argument errors, plain grad left alone (also after a failure), and threads tracing at once."""

import threading

import numpy as onp
import pytest

import gradviz
import gradviz.numpy as np
from gradviz import grad, make_vjp, value_and_grad
from gradviz.core import backward
from gradviz.core.backward import VJPNode
from gradviz.record.recorder import RecordNode, active_recorder


def loss(w, b, x, scale=1.0):
    return np.sum(np.tanh(np.dot(x, w) + b) ** 2) * scale


W0 = onp.array([0.3, -0.5, 0.8])
B0 = 0.1
X0 = onp.array([[1.0, 0.5, -0.2], [0.3, -1.0, 0.7]])


def assert_same(a, b):
    if isinstance(a, tuple):
        assert isinstance(b, tuple) and len(a) == len(b)
        for u, v in zip(a, b):
            assert_same(u, v)
    else:
        assert onp.shape(a) == onp.shape(b)
        assert onp.allclose(a, b, rtol=1e-13, atol=0)


@pytest.mark.parametrize("argnum", [0, 1, 2, (0, 1), (1, 0, 2)])
def test_value_and_grad_equal_value_and_grad(argnum):
    trace = gradviz.trace(loss, W0, B0, X0, argnum=argnum, scale=3.0)
    value, g = value_and_grad(loss, argnum=argnum)(W0, B0, X0, scale=3.0)
    assert trace.value == value
    assert_same(trace.grad, g)
    assert trace.argnum == argnum
    assert trace.function == "loss"


def test_grad_agrees_with_the_closed_form():
    z = X0 @ W0 + B0
    t = onp.tanh(z)
    expected = X0.T @ (2 * t * (1 - t ** 2))
    assert onp.allclose(gradviz.trace(loss, W0, B0, X0).grad, expected)


def test_cotangent_for_a_vector_output_equals_the_vjp():
    def f(x):
        return np.sin(x) * x

    x = onp.array([0.5, -1.0, 2.0])
    c = onp.array([1.0, 0.5, -2.0])
    trace = gradviz.trace(f, x, cotangent=c)
    vjp, ans = make_vjp(f)(x)
    assert onp.allclose(trace.value, ans)
    assert onp.allclose(trace.grad, vjp(c))
    assert onp.allclose(trace.grad, c * (onp.cos(x) * x + onp.sin(x)))


def test_backward_false_records_the_forward_graph_alone():
    def f(x):
        return np.exp(x) * 2.0

    x = onp.array([0.1, 0.2])
    trace = gradviz.trace(f, x, backward=False)
    assert trace.grad is None
    assert trace.steps == []
    assert [n.primitive for n in trace.nodes if n.role != "constant"] == [None, "numpy.exp", "numpy.multiply"]
    assert trace.nodes[-1].role == "output"
    assert onp.allclose(trace.value, 2 * onp.exp(x))


def test_output_independent_of_the_input():
    trace = gradviz.trace(lambda x: 3.0, onp.ones(2))
    assert trace.value == 3.0
    onp.testing.assert_array_equal(trace.grad, onp.zeros(2))
    assert trace.steps == []
    assert [n.role for n in trace.nodes] == ["input"]


def test_repr_names_the_function_and_sizes():
    trace = gradviz.trace(loss, W0, B0, X0)
    text = repr(trace)
    assert "loss" in text
    assert f"{len(trace.nodes)} nodes" in text and f"{len(trace.steps)} backward steps" in text


# --- argument errors

def test_non_scalar_output_without_cotangent():
    def vector_valued(x):
        return x * 2.0

    with pytest.raises(TypeError) as info:
        gradviz.trace(vector_valued, onp.ones(3))
    assert "vector_valued" in str(info.value)
    assert "cotangent=" in str(info.value)
    assert "float64[3]" in str(info.value)


def test_complex_scalar_output_needs_a_cotangent():
    with pytest.raises(TypeError, match="cotangent="):
        gradviz.trace(lambda z: np.sum(z * 1j), onp.ones(2))


def test_cotangent_of_the_wrong_shape():
    def vector_valued(x):
        return x * 2.0

    with pytest.raises(ValueError) as info:
        gradviz.trace(vector_valued, onp.ones(3), cotangent=onp.ones(4))
    message = str(info.value)
    assert "vector_valued" in message and "float64[4]" in message and "float64[3]" in message


def test_integer_input():
    def f(x):
        return x * 2.0

    with pytest.raises(TypeError) as info:
        gradviz.trace(f, 3)
    assert "f" in str(info.value) and "3.0" in str(info.value)
    with pytest.raises(TypeError, match="no gradient"):
        gradviz.trace(f, onp.arange(3))


def test_trace_inside_trace():
    def outer(x):
        return gradviz.trace(np.sin, x).value

    with pytest.raises(RuntimeError, match="inside another gradviz.trace"):
        gradviz.trace(outer, 0.5)
    assert active_recorder() is None
    assert gradviz.trace(np.sin, 0.5).grad == pytest.approx(onp.cos(0.5))


# --- plain grad is left alone

def node_types_seen_by_grad():
    """The node type of a plain grad's trace, seen from inside the function."""
    seen = []

    def f(x):
        seen.append(type(x._node))
        return np.sum(np.sin(x))

    assert onp.allclose(grad(f)(onp.array([0.1, 0.2])), onp.cos([0.1, 0.2]))
    return seen


def test_plain_grad_records_nothing():
    assert backward.session.node_type is VJPNode and backward.session.observer is None
    assert node_types_seen_by_grad() == [VJPNode]
    created = []
    original = RecordNode.__init__

    def counting_init(self, *args, **kwargs):
        created.append(self)
        original(self, *args, **kwargs)

    RecordNode.__init__ = counting_init
    try:
        grad(loss)(W0, B0, X0)
        value_and_grad(loss, argnum=(0, 1))(W0, B0, X0)
        assert created == []
        gradviz.trace(loss, W0, B0, X0)
        assert len(created) > 0  # the counter does see a trace's nodes
    finally:
        RecordNode.__init__ = original


def test_session_restored_after_a_trace():
    gradviz.trace(loss, W0, B0, X0)
    assert backward.session.node_type is VJPNode and backward.session.observer is None
    assert active_recorder() is None
    assert node_types_seen_by_grad() == [VJPNode]


def test_session_restored_after_an_exception_in_the_traced_function():
    def broken(x):
        np.sin(x)
        raise KeyError("user bug")

    with pytest.raises(KeyError, match="user bug"):
        gradviz.trace(broken, onp.ones(2))
    assert backward.session.node_type is VJPNode and backward.session.observer is None
    assert active_recorder() is None
    assert node_types_seen_by_grad() == [VJPNode]
    assert gradviz.trace(np.sin, 0.3).grad == pytest.approx(onp.cos(0.3))


def test_grad_inside_a_trace_is_recorded():
    seen = []

    def f(y):
        seen.append(type(y._node))
        return np.sin(y) * y

    trace = gradviz.trace(lambda x: grad(f)(x), 0.4)
    assert seen == [RecordNode]
    assert {n.level for n in trace.nodes} == {0, 1}


# --- threads

def test_two_threads_trace_at_once():
    barrier = threading.Barrier(2, timeout=10)
    results, errors = {}, []

    def sines(x):
        for _ in range(30):
            x = np.sin(x)
            barrier.wait()  # the two traces interleave, primitive by primitive
        return np.sum(x)

    def cosines(x):
        for _ in range(30):
            x = np.cos(x) * 0.5
            barrier.wait()
        return np.sum(x)

    def run(name, fun, x):
        try:
            results[name] = (gradviz.trace(fun, x), value_and_grad(fun)(x))
        except Exception as error:  # pragma: no cover - reported below
            errors.append(error)
            barrier.abort()

    x = onp.array([0.2, 0.4])
    threads = [threading.Thread(target=run, args=("sin", sines, x)),
               threading.Thread(target=run, args=("cos", cosines, x))]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == []
    for name, primitives in (("sin", {"numpy.sin"}), ("cos", {"numpy.cos", "numpy.multiply"})):
        trace, (value, g) = results[name]
        ops = {n.primitive for n in trace.nodes if n.role in ("operation", "output")}
        assert ops == primitives | {"numpy.sum"}
        ids = [n.id for n in trace.nodes]
        assert ids == list(range(len(ids)))
        assert trace.value == value and onp.allclose(trace.grad, g)
        assert all(trace.scopes[n.scope].function == trace.function for n in trace.nodes if n.scope is not None)
