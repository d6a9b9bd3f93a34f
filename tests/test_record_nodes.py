"""The forward graph of gradviz.trace, field by field: ids, primitives, parents, arguments, summaries, sites,
scopes, roles, on_path, levels and made_by, on small programs written as a user would write them."""

from pathlib import Path

import numpy as onp
import pytest
from source_lines import marker_lines

import gradviz
import gradviz.numpy as np
from gradviz import grad, value_and_grad
from gradviz.extend import defvjp, primitive

HERE = Path(__file__).resolve()
SOURCE = HERE.read_text().splitlines()
line_of = marker_lines(HERE)


def code_of(marker: str) -> str:
    return SOURCE[line_of(marker) - 1].strip()


def by_primitive(trace, name):
    return [node for node in trace.nodes if node.primitive == name]


def only(nodes):
    assert len(nodes) == 1, nodes
    return nodes[0]


# --- the programs

W3 = onp.array([[0.5, -0.2, 0.1], [0.3, 0.8, -0.4], [-0.6, 0.2, 0.7]])


def layer(W, h):
    return np.tanh(np.dot(W, h))  # <layer>


def mlp_loop(x):
    for _ in range(3):
        x = layer(W3, x)  # <loop-call>
    return np.sum(x ** 2)  # <loop-out>


def mlp_unrolled(x):
    h = layer(W3, x)  # <call-1>
    h = layer(W3, h)  # <call-2>
    h = layer(W3, h)  # <call-3>
    return np.sum(h)  # <unrolled-out>


def power(x, n):
    if n == 0:
        return x
    return x * power(x, n - 1)  # <recurse>


def fourth_power(x):
    return power(x, 3)  # <recurse-top>


def closure_program(x):
    def scaled(v):
        return v * x  # <closure>
    return np.sum(scaled(np.sin(x)))  # <closure-outer>


def dead_branch(x):
    np.exp(x)  # computed, never used
    return np.sum(np.cos(x))


def dict_program(params):
    z = params["w"] * params["b"]  # <dict-take>
    return np.sum(np.tanh(z))  # <dict-out>


def reduce_with_kwargs(x):
    m = np.reshape(x, (2, 3))  # <reshape>
    s = np.sum(m, axis=0, keepdims=True)  # <kw-sum>
    return np.sum(s * 0.5)  # <kw-out>


@primitive
def cube(x):
    return x * x * x


defvjp(cube, lambda ans, x: lambda g: 3.0 * g * x * x)


def uses_cube(x):
    return np.sum(cube(np.sin(x)))  # <cube>


def inner_f(y):
    return np.sin(y) * y  # <inner-f>


def second_derivative(x):
    return grad(inner_f)(x)  # <grad-call>


# --- ids, primitives, parents, arguments, roles

def test_mlp_graph_structure_roles_and_parents():
    x = onp.array([0.3, -0.7, 1.1])
    trace = gradviz.trace(mlp_loop, x)
    ids = [node.id for node in trace.nodes]
    assert ids == sorted(ids) and len(set(ids)) == len(ids)
    assert [(node.primitive, node.role) for node in trace.nodes] == [
        (None, "input"), (None, "constant"),
        ("numpy.dot", "operation"), ("numpy.tanh", "operation"),
        ("numpy.dot", "operation"), ("numpy.tanh", "operation"),
        ("numpy.dot", "operation"), ("numpy.tanh", "operation"),
        ("numpy.power", "operation"), ("numpy.sum", "output"),
    ]
    x_node, w_node, d1, t1, d2, t2, d3, t3, sq, total = trace.nodes
    # one constant node for the one W array, used by all three dots as argument 0
    for dot, h in ((d1, x_node), (d2, t1), (d3, t2)):
        assert dot.parents == [(1, h.id)]
        assert dot.args == [{"constant": w_node.id}, {"node": h.id}]
        assert dot.kwargs == {}
    for tanh, dot in ((t1, d1), (t2, d2), (t3, d3)):
        assert tanh.parents == [(0, dot.id)]
        assert tanh.args == [{"node": dot.id}]
    assert sq.parents == [(0, t3.id)]
    assert sq.args == [{"node": t3.id}, {"repr": "2"}]
    assert total.parents == [(0, sq.id)]
    assert x_node.parents == [] and w_node.parents == []
    assert trace.node(t2.id) is t2


def test_summaries_equal_numpy_on_the_true_values():
    x = onp.array([0.3, -0.7, 1.1])
    trace = gradviz.trace(mlp_loop, x)
    h1 = onp.tanh(W3 @ x)
    h2 = onp.tanh(W3 @ h1)
    h3 = onp.tanh(W3 @ h2)
    expected = [x, W3, W3 @ x, h1, W3 @ h1, h2, W3 @ h2, h3, h3 ** 2, onp.sum(h3 ** 2)]
    for node, value in zip(trace.nodes, expected, strict=True):
        s = node.value
        assert s.kind == "array"
        assert s.shape == onp.shape(value)
        assert s.dtype == "float64"
        assert s.min == pytest.approx(onp.min(value), rel=1e-12)
        assert s.max == pytest.approx(onp.max(value), rel=1e-12)
        assert s.mean == pytest.approx(onp.mean(value), rel=1e-12, abs=1e-15)
        assert s.norm == pytest.approx(onp.linalg.norm(onp.ravel(value)), rel=1e-12)
        assert s.nan == 0 and s.inf == 0
        assert s.head == pytest.approx(list(onp.ravel(value)[:4]), rel=1e-12)
        if node.value.shape:
            assert s.value is None  # summaries, not copies, unless keep_values


def test_scalar_summaries_hold_no_value_without_keep_values():
    """docs/trace-schema.md: a summary's value is there when the trace kept values (or for a tapped outgrad)."""
    trace = gradviz.trace(lambda x: np.sin(x) * 2.0, 0.5)
    for node in trace.nodes:
        assert node.value.value is None, f"node %{node.id} ({node.role}) keeps its value {node.value.value!r}"
    for step in trace.steps:
        assert step.outgrad.value is None
        assert all(sent.value.value is None for sent in step.sent)


def test_nan_and_inf_are_counted():
    def logs(x):
        return np.sum(np.log(x) * 2.0)  # <log>

    x = onp.array([-1.0, 0.0, 1.0, onp.e, -2.0])
    with onp.errstate(all="ignore"):
        trace = gradviz.trace(logs, x)
        truth = onp.log(x)
    log_node = only(by_primitive(trace, "numpy.log"))
    s = log_node.value
    assert (s.nan, s.inf) == (int(onp.isnan(truth).sum()), int(onp.isinf(truth).sum())) == (2, 1)
    assert s.min == onp.nanmin(truth) == -onp.inf
    assert s.max == pytest.approx(onp.nanmax(truth))
    assert not s.finite
    assert onp.isnan(s.mean) and onp.isnan(s.norm)
    assert only(by_primitive(trace, "numpy.sum")).value.nan == 1
    assert trace.nodes[0].value.nan == 0 and trace.nodes[0].value.finite


def test_user_primitive_named_after_its_module_and_function():
    x = onp.array([0.2, 0.4])
    trace = gradviz.trace(uses_cube, x)
    node = only([n for n in trace.nodes if n.primitive and n.primitive.endswith("cube")])
    assert node.primitive == f"{__name__}.cube"
    sin = only(by_primitive(trace, "numpy.sin"))
    assert node.parents == [(0, sin.id)]
    assert node.site.line == line_of("<cube>")
    assert onp.allclose(trace.grad, 3 * onp.sin(x) ** 2 * onp.cos(x))


def test_kwargs_and_non_array_arguments_are_summarised():
    x = onp.arange(6.0)
    trace = gradviz.trace(reduce_with_kwargs, x)
    reshape = only(by_primitive(trace, "numpy.reshape"))
    assert reshape.args == [{"node": trace.nodes[0].id}, {"repr": "(2, 3)"}]
    assert reshape.value.shape == (2, 3)
    kw_sum = by_primitive(trace, "numpy.sum")[0]
    assert kw_sum.kwargs == {"axis": {"repr": "0"}, "keepdims": {"repr": "True"}}
    assert kw_sum.value.shape == (1, 3)
    assert kw_sum.value.head == [3.0, 5.0, 7.0]
    # the float constant 0.5 is a constant node of its own
    mul = only(by_primitive(trace, "numpy.multiply"))
    const = trace.node(mul.args[1]["constant"])
    assert const.role == "constant" and const.primitive is None
    assert const.value.shape == () and const.value.head == [0.5]
    assert mul.parents == [(0, kw_sum.id)]
    assert onp.allclose(trace.grad, 0.5)


def test_long_argument_reprs_are_truncated():
    def f(x):
        return np.sum(np.reshape(x, (1,) * 40))

    reshape = only(by_primitive(gradviz.trace(f, onp.ones(1)), "numpy.reshape"))
    text = reshape.args[1]["repr"]
    assert len(text) <= 80 and text.startswith("(1, 1, 1") and text.endswith("...")


# --- sites and code

def test_sites_point_at_the_users_lines():
    trace = gradviz.trace(mlp_loop, onp.array([0.3, -0.7, 1.1]))
    for node in trace.nodes:
        if node.primitive in ("numpy.dot", "numpy.tanh"):
            assert (node.site.file, node.site.line, node.site.function) == (str(HERE), line_of("<layer>"), "layer")
            assert node.code == code_of("<layer>")
        elif node.primitive in ("numpy.power", "numpy.sum"):
            assert (node.site.file, node.site.line, node.site.function) == (str(HERE), line_of("<loop-out>"),
                                                                           "mlp_loop")
            assert node.code == code_of("<loop-out>")
    assert trace.nodes[0].role == "input"


def test_site_of_a_line_found_with_the_frame():
    import sys

    lines = {}

    def f(x):
        y = np.exp(x); lines["exp"] = sys._getframe().f_lineno  # noqa: E702
        return np.sum(y)

    trace = gradviz.trace(f, onp.ones(2))
    node = only(by_primitive(trace, "numpy.exp"))
    assert node.site.line == lines["exp"]
    assert node.site.function == "f"
    assert node.code.startswith("y = np.exp(x)")


# --- scopes

def test_a_layer_called_three_times_makes_three_scopes():
    trace = gradviz.trace(mlp_unrolled, onp.array([0.3, -0.7, 1.1]))
    tanhs = by_primitive(trace, "numpy.tanh")
    dots = by_primitive(trace, "numpy.dot")
    assert len(tanhs) == len(dots) == 3
    scopes = [tanh.scope for tanh in tanhs]
    assert len(set(scopes)) == 3
    assert [dot.scope for dot in dots] == scopes  # dot and tanh of one call share its scope
    top = only(by_primitive(trace, "numpy.sum"))
    top_scope = trace.scopes[top.scope]
    assert (top_scope.function, top_scope.parent, top_scope.call_line) == ("mlp_unrolled", None, None)
    assert top_scope.line == mlp_unrolled.__code__.co_firstlineno
    for scope_id, marker in zip(scopes, ["<call-1>", "<call-2>", "<call-3>"]):
        scope = trace.scopes[scope_id]
        assert scope.id == scope_id
        assert scope.function == "layer"
        assert scope.file == str(HERE)
        assert scope.line == layer.__code__.co_firstlineno
        assert scope.parent == top.scope
        assert scope.call_line == line_of(marker)
        assert [s.id for s in trace.scope_chain(scope_id)] == [top.scope, scope_id]


def test_calls_in_a_loop_are_distinct_scopes_with_the_same_call_line():
    trace = gradviz.trace(mlp_loop, onp.array([0.3, -0.7, 1.1]))
    scopes = [trace.scopes[n.scope] for n in by_primitive(trace, "numpy.tanh")]
    assert len({s.id for s in scopes}) == 3
    assert {s.call_line for s in scopes} == {line_of("<loop-call>")}
    assert len({s.call_offset for s in scopes}) == 1  # one call instruction, run three times
    out_scope = only(by_primitive(trace, "numpy.sum")).scope
    assert all(s.parent == out_scope for s in scopes)
    # the constant W is first used inside the first call
    constant = only([n for n in trace.nodes if n.role == "constant"])
    assert constant.scope == scopes[0].id and constant.site.line == line_of("<layer>")


def test_recursion_makes_a_chain_of_scopes():
    x = 0.7
    trace = gradviz.trace(fourth_power, x)
    assert trace.grad == pytest.approx(4 * x ** 3)
    muls = by_primitive(trace, "numpy.multiply")
    assert len(muls) == 3
    # innermost call (n=1) multiplies first: x * x
    assert muls[0].parents == [(0, 0), (1, 0)]
    assert muls[1].parents == [(0, 0), (1, muls[0].id)]
    assert muls[2].parents == [(0, 0), (1, muls[1].id)]
    chains = [trace.scope_chain(m.scope) for m in muls]
    assert [len(chain) for chain in chains] == [4, 3, 2]
    assert [s.function for s in chains[0]] == ["fourth_power", "power", "power", "power"]
    deepest = chains[0]
    assert deepest[1].call_line == line_of("<recurse-top>")
    assert deepest[2].call_line == deepest[3].call_line == line_of("<recurse>")
    for parent, child in zip(deepest, deepest[1:]):
        assert child.parent == parent.id
    # the shallower chains are prefixes of the deepest: the same call instances
    assert [s.id for s in chains[1]] == [s.id for s in deepest[:3]]
    assert all(m.site.line == line_of("<recurse>") for m in muls)


def test_closure_over_the_traced_input():
    x = onp.array([0.5, 1.5])
    trace = gradviz.trace(closure_program, x)
    sin = only(by_primitive(trace, "numpy.sin"))
    mul = only(by_primitive(trace, "numpy.multiply"))
    assert mul.parents == [(0, sin.id), (1, trace.nodes[0].id)]
    assert mul.site.function == "scaled" and mul.site.line == line_of("<closure>")
    assert sin.site.function == "closure_program" and sin.site.line == line_of("<closure-outer>")
    inner = trace.scopes[mul.scope]
    assert inner.function == "scaled"
    assert inner.parent == sin.scope
    assert inner.call_line == line_of("<closure-outer>")
    assert onp.allclose(trace.grad, onp.cos(x) * x + onp.sin(x))


def test_dict_input_items_and_container_nodes():
    params = {"w": onp.array([0.1, -0.3]), "b": onp.array([2.0, 0.5])}
    trace = gradviz.trace(dict_program, params)
    ans, g = value_and_grad(dict_program)(params)
    assert trace.value == pytest.approx(ans)
    assert set(trace.grad) == {"w", "b"}
    for key in ("w", "b"):
        assert onp.allclose(trace.grad[key], g[key])
    root = trace.nodes[0]
    assert root.role == "input" and root.value.kind == "dict"
    assert root.value.items["w"].head == pytest.approx([0.1, -0.3])
    assert root.value.items["b"].norm == pytest.approx(onp.linalg.norm(params["b"]))
    takes = [n for n in trace.nodes if n.primitive and n.primitive.endswith("container_take")]
    assert len(takes) == 2
    assert sorted(t.args[1]["repr"] for t in takes) == ["'b'", "'w'"]
    for take in takes:
        assert take.parents == [(0, root.id)]
        assert take.site.line == line_of("<dict-take>")
    mul = only(by_primitive(trace, "numpy.multiply"))
    by_key = {t.args[1]["repr"]: t.id for t in takes}
    assert mul.parents == [(0, by_key["'w'"]), (1, by_key["'b'"])]


def test_tuple_output_with_cotangent():
    def pair(x):
        return np.sin(x), np.cos(x) * 2.0  # <pair>

    x = onp.array([0.3, 0.9])
    c = (onp.array([1.0, -1.0]), onp.array([0.5, 2.0]))
    trace = gradviz.trace(pair, x, cotangent=c)
    assert onp.allclose(trace.grad, c[0] * onp.cos(x) - c[1] * 2 * onp.sin(x))
    assert isinstance(trace.value, tuple) and onp.allclose(trace.value[1], 2 * onp.cos(x))
    outputs = [n for n in trace.nodes if n.role == "output"]
    assert len(outputs) == 1 and outputs[0].value.kind == "tuple"
    assert outputs[0].id == max(n.id for n in trace.nodes)


# --- on_path

def test_on_path_marks_only_what_reaches_the_output():
    trace = gradviz.trace(dead_branch, onp.array([0.1, 0.2]))
    exp = only(by_primitive(trace, "numpy.exp"))
    cos = only(by_primitive(trace, "numpy.cos"))
    assert exp.on_path is False
    assert cos.on_path is True and trace.nodes[0].on_path is True
    assert all(n.on_path for n in trace.nodes if n.role in ("input", "output"))
    assert trace.step_of(exp.id) is None  # the backward pass never reached the dead branch


# --- levels and made_by (grad of grad)

def test_grad_of_grad_nodes_are_tagged_with_the_step_that_made_them():
    x = 1.3
    trace = gradviz.trace(second_derivative, x)
    assert trace.value == pytest.approx(onp.cos(x) * x + onp.sin(x))
    assert trace.grad == pytest.approx(2 * onp.cos(x) - x * onp.sin(x))
    outer_input = trace.nodes[0]
    assert (outer_input.role, outer_input.level) == ("input", 0)
    inner_input = only([n for n in trace.nodes if n.role == "input" and n.level == 1])
    assert inner_input.made_by is None
    sins = by_primitive(trace, "numpy.sin")
    inner_sin = only([n for n in sins if n.level == 1])
    outer_sin = only([n for n in sins if n.level == 0])
    assert inner_sin.parents == [(0, inner_input.id)]
    assert outer_sin.parents == [(0, outer_input.id)]
    assert inner_sin.made_by is None and outer_sin.made_by is None
    inner_mul = only([n for n in by_primitive(trace, "numpy.multiply") if n.level == 1])
    assert inner_mul.parents == [(0, inner_sin.id), (1, inner_input.id)]
    assert inner_mul.role == "output"  # the inner trace's output
    # the VJP of the inner sin computes g * cos(y): its cos node is level 0, made by the inner sin's step
    cos = only(by_primitive(trace, "numpy.cos"))
    assert cos.level == 0
    assert cos.made_by == inner_sin.id
    assert cos.parents == [(0, outer_input.id)]
    assert cos.site.line == line_of("<grad-call>") and cos.site.function == "second_derivative"
    # every node made during the inner backward pass is tagged with an inner node; forward nodes are not
    for node in trace.nodes:
        if node.made_by is not None:
            assert node.level == 0
            assert trace.node(node.made_by).level == 1
            assert node.id > inner_mul.id
        elif node.role != "constant":
            assert node.id <= inner_mul.id or node.role == "output"
    made_by_mul = [n for n in trace.nodes if n.made_by == inner_mul.id and n.primitive]
    assert made_by_mul and all(n.primitive == "numpy.multiply" for n in made_by_mul)
    # the scopes: inner_f was called from second_derivative, through grad
    f_scope = trace.scopes[inner_sin.scope]
    assert f_scope.function == "inner_f" and f_scope.call_line == line_of("<grad-call>")
    assert trace.scopes[f_scope.parent].function == "second_derivative"
    assert outer_sin.scope == inner_sin.scope
    # steps of both passes are recorded, the inner one first
    levels = [step.level for step in trace.steps]
    assert levels == sorted(levels, reverse=True) and set(levels) == {0, 1}


def test_two_calls_on_one_line_have_distinct_call_offsets():
    def layer(x):
        return np.tanh(x)

    def twice(x):
        return np.sum(layer(layer(x)))

    trace = gradviz.trace(twice, onp.array([0.3, -0.7]))
    calls = [scope for scope in trace.scopes if scope.function == "layer"]
    assert len(calls) == 2 and calls[0].call_line == calls[1].call_line
    assert calls[0].call_offset != calls[1].call_offset

