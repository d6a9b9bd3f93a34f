"""The backward steps of gradviz.trace: order, the outgrad contributions that reach a node and their sum, what each
VJP sends to each parent, and full arrays with keep_values=True, checked against gradients worked out by hand."""

import numpy as onp
import pytest

import gradviz
import gradviz.numpy as np

W = onp.array([[0.4, -0.3, 0.2], [0.1, 0.5, -0.6]])


def model(x):
    return np.sum(np.tanh(np.dot(W, x)) ** 2)


def node_named(trace, primitive):
    nodes = [n for n in trace.nodes if n.primitive == primitive]
    assert len(nodes) == 1, nodes
    return nodes[0]


def test_steps_run_from_the_output_to_the_input():
    x = onp.array([0.3, -0.2, 0.9])
    trace = gradviz.trace(model, x)
    assert [step.index for step in trace.steps] == list(range(len(trace.steps)))
    node_ids = [step.node for step in trace.steps]
    assert node_ids == sorted(node_ids, reverse=True)  # reverse topological order
    first, last = trace.steps[0], trace.steps[-1]
    output = [n for n in trace.nodes if n.role == "output"]
    assert first.node == output[0].id
    assert [(a.child, a.argnum) for a in first.arrived] == [(None, None)]  # the seed
    assert first.arrived[0].value.head == [1.0] and first.outgrad.head == [1.0]
    assert last.node == trace.nodes[0].id and last.sent == []
    # every node on the path to the output gets exactly one step, constants none
    stepped = {step.node for step in trace.steps}
    assert stepped == {n.id for n in trace.nodes if n.role != "constant"}
    assert all(step.level == 0 for step in trace.steps)


def test_sent_and_arrived_match_the_graph():
    trace = gradviz.trace(model, onp.array([0.3, -0.2, 0.9]))
    index_of = {step.node: step.index for step in trace.steps}
    for step in trace.steps:
        node = trace.node(step.node)
        assert [(s.argnum, s.parent) for s in step.sent] == node.parents
        for sent in step.sent:
            arrivals = [a for a in trace.step_of(sent.parent).arrived if a.child == step.node]
            assert [a.argnum for a in arrivals] == [sent.argnum]
            assert arrivals[0].value.norm == sent.value.norm
        for arrival in step.arrived:
            if arrival.child is not None:
                assert index_of[arrival.child] < step.index


def test_keep_values_gives_the_true_intermediate_gradients():
    x = onp.array([0.3, -0.2, 0.9])
    trace = gradviz.trace(model, x, keep_values=True)
    a = W @ x
    t = onp.tanh(a)
    g_power = onp.ones(2)  # from the sum
    g_tanh = 2 * t * g_power
    g_dot = g_tanh * (1 - t ** 2)
    g_x = W.T @ g_dot
    dot, tanh, power = (node_named(trace, p) for p in ("numpy.dot", "numpy.tanh", "numpy.power"))
    assert onp.allclose(trace.step_of(power.id).outgrad.value, g_power)
    assert onp.allclose(trace.step_of(tanh.id).outgrad.value, g_tanh)
    assert onp.allclose(trace.step_of(dot.id).outgrad.value, g_dot)
    assert onp.allclose(trace.step_of(0).outgrad.value, g_x)
    assert onp.allclose(trace.grad, g_x)
    (sent,) = trace.step_of(tanh.id).sent
    assert sent.parent == dot.id and onp.allclose(sent.value.value, g_dot)
    (sent,) = trace.step_of(dot.id).sent
    assert (sent.argnum, sent.parent) == (1, 0) and onp.allclose(sent.value.value, g_x)
    # forward values too
    assert onp.allclose(dot.value.value, a) and onp.allclose(tanh.value.value, t)
    assert onp.allclose(power.value.value, t ** 2)
    # and the summaries are the statistics of those arrays
    s = trace.step_of(dot.id).outgrad
    assert (s.min, s.max) == (pytest.approx(g_dot.min()), pytest.approx(g_dot.max()))
    assert s.norm == pytest.approx(onp.linalg.norm(g_dot)) and s.mean == pytest.approx(g_dot.mean())


def test_without_keep_values_steps_hold_summaries_only():
    x = onp.array([0.3, -0.2, 0.9])
    trace = gradviz.trace(model, x)
    g_x = W.T @ ((2 * onp.tanh(W @ x)) * (1 - onp.tanh(W @ x) ** 2))
    s = trace.step_of(0).outgrad
    assert s.value is None
    assert s.shape == (3,) and s.dtype == "float64"
    assert s.head == pytest.approx(list(g_x))
    assert s.norm == pytest.approx(onp.linalg.norm(g_x))


def test_fan_in_two_children_contributions_sum_to_the_outgrad():
    def f(x):
        return np.sum(np.sin(x) * np.exp(x))

    x = onp.array([0.2, -0.5, 1.0])
    trace = gradviz.trace(f, x, keep_values=True)
    sin, exp, mul = (node_named(trace, p) for p in ("numpy.sin", "numpy.exp", "numpy.multiply"))
    assert mul.parents == [(0, sin.id), (1, exp.id)]
    step = trace.step_of(0)
    assert sorted(a.child for a in step.arrived) == sorted([sin.id, exp.id])
    assert all(a.argnum == 0 for a in step.arrived)
    from_child = {a.child: a.value for a in step.arrived}
    from_sin = onp.exp(x) * onp.cos(x)  # g = exp(x) reaches sin; its VJP sends g cos(x)
    from_exp = onp.sin(x) * onp.exp(x)  # g = sin(x) reaches exp; its VJP sends g exp(x)
    assert onp.allclose(from_child[sin.id].value, from_sin)
    assert onp.allclose(from_child[exp.id].value, from_exp)
    assert onp.allclose(step.outgrad.value, from_sin + from_exp)
    assert onp.allclose(trace.grad, from_sin + from_exp)
    # arrivals are listed in the order they came: the child stepped first comes first
    index_of = {s.node: s.index for s in trace.steps}
    assert [index_of[a.child] for a in step.arrived] == sorted(index_of[a.child] for a in step.arrived)


def test_fan_in_summaries_without_keep_values():
    def f(x):
        return np.sum(np.sin(x) * np.exp(x))

    x = onp.array([0.2, -0.5, 1.0])
    trace = gradviz.trace(f, x)
    step = trace.step_of(0)
    sin = node_named(trace, "numpy.sin")
    norms = {a.child: a.value.norm for a in step.arrived}
    assert norms[sin.id] == pytest.approx(onp.linalg.norm(onp.exp(x) * onp.cos(x)))
    total = onp.exp(x) * (onp.cos(x) + onp.sin(x))
    assert step.outgrad.norm == pytest.approx(onp.linalg.norm(total))
    assert step.outgrad.head == pytest.approx(list(total))


def test_one_child_using_a_value_twice_sends_two_contributions():
    def f(x):
        y = np.sin(x)
        return np.sum(y * y)

    x = onp.array([0.4, 1.2])
    trace = gradviz.trace(f, x, keep_values=True)
    sin, mul = node_named(trace, "numpy.sin"), node_named(trace, "numpy.multiply")
    assert mul.parents == [(0, sin.id), (1, sin.id)]
    step = trace.step_of(sin.id)
    assert [(a.child, a.argnum) for a in step.arrived] == [(mul.id, 0), (mul.id, 1)]
    for arrival in step.arrived:
        assert onp.allclose(arrival.value.value, onp.sin(x))
    assert onp.allclose(step.outgrad.value, 2 * onp.sin(x))
    (sent,) = step.sent
    assert onp.allclose(sent.value.value, 2 * onp.sin(x) * onp.cos(x))


def test_scalar_fan_in_numbers():
    def f(x):
        return x * x * x + 2.0 * x

    x = 1.5
    trace = gradviz.trace(f, x)
    step = trace.step_of(0)
    assert len(step.arrived) == 4  # x*x (twice), (x*x)*x, 2*x
    assert sum(a.value.head[0] for a in step.arrived) == pytest.approx(step.outgrad.head[0])
    assert step.outgrad.head[0] == pytest.approx(3 * x ** 2 + 2) == pytest.approx(trace.grad)
    assert sorted(a.value.head[0] for a in step.arrived) == pytest.approx(sorted([x * x, x * x, x * x, 2.0]))


def test_nan_and_inf_in_the_backward_pass_are_counted():
    def f(x):
        return np.sum(np.sqrt(x))

    x = onp.array([-1.0, 0.0, 4.0, 9.0])
    with onp.errstate(all="ignore"):
        trace = gradviz.trace(f, x, keep_values=True)
        g = 0.5 / onp.sqrt(x)
    sqrt = node_named(trace, "numpy.sqrt")
    assert (sqrt.value.nan, sqrt.value.inf) == (1, 0)
    sent = trace.step_of(sqrt.id).sent[0].value
    assert (sent.nan, sent.inf) == (int(onp.isnan(g).sum()), int(onp.isinf(g).sum())) == (1, 1)
    assert sent.max == onp.inf and sent.min == pytest.approx(1 / 6)
    out = trace.step_of(0).outgrad
    assert (out.nan, out.inf) == (1, 1) and not out.finite
    onp.testing.assert_array_equal(out.value, g)


def test_vector_output_with_cotangent_seeds_the_first_step():
    def f(x):
        return np.tanh(x) * 3.0

    x = onp.array([0.1, -0.4])
    c = onp.array([2.0, -1.0])
    trace = gradviz.trace(f, x, cotangent=c, keep_values=True)
    first = trace.steps[0]
    assert first.arrived[0].child is None
    onp.testing.assert_array_equal(first.arrived[0].value.value, c)
    assert onp.allclose(trace.grad, 3.0 * c * (1 - onp.tanh(x) ** 2))


def test_sparse_gradients_are_summarised_as_the_values_they_stand_for():
    """Taking params["W"] sends back a sparse gradient (W's slot only): the record shows the whole dict, and
    x[1] sends back an indexed gradient: the record shows the full-size array with one nonzero."""
    params = {"W": onp.ones((2, 2)), "b": onp.zeros(2)}
    t = gradviz.trace(lambda p: np.sum(p["W"] * 3.0) + np.sum(p["b"]), params)
    into_params = [s for step in t.steps for s in step.sent if s.parent == t.nodes[0].id]
    assert into_params and all(s.value.kind == "dict" and set(s.value.items) == {"W", "b"} for s in into_params)
    w_grad = next(s.value for s in into_params if s.value.items["W"].norm)
    assert w_grad.items["W"].max == 3.0 and w_grad.items["b"].norm == 0.0

    t = gradviz.trace(lambda x: x[1] * 2.0, onp.arange(4.0))
    sent = [s.value for step in t.steps for s in step.sent if s.parent == t.nodes[0].id]
    assert sent[0].shape == (4,) and sent[0].max == 2.0 and sent[0].min == 0.0 and sent[0].mean == 0.5


def test_an_item_gradient_is_summarised_exactly_as_its_dense_container():
    """The record summarises a container's gradient with only some items without making the zero items: the
    summary must equal that of the dense container, nested and of every dtype."""
    from gradviz.core.sparse import ItemGrads
    from gradviz.record.recorder import Recorder
    from gradviz.record.summary import summarize

    params = {"W": onp.ones((2, 2)), "b": onp.zeros(2, onp.float32), "c": (onp.ones(3), 2.0), "n": onp.arange(2)}
    for items in ({"W": onp.full((2, 2), -3.0)}, {"b": onp.ones(2, onp.float32), "c": (onp.ones(3), 1.0)}):
        sparse = ItemGrads(params, items)
        assert Recorder(False, None).brief(sparse, False) == summarize(sparse.dense())
