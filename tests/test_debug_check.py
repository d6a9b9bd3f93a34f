"""The per-node VJP check (gradviz.debug.check): a catalogue of wrong VJPs, each a user primitive with one bug
placed in a larger model, must be named exactly (every node of that primitive, no other node), with its line."""

from __future__ import annotations

import numpy as onp
import pytest
from source_lines import code_lines, nodes_of

import gradviz
import gradviz.numpy as np
from gradviz.debug import GradientCheckError, check_grads, check_trace, check_vjps
from gradviz.debug.check import RTOL, check_recipe
from gradviz.extend import defjvp, defvjp, defvjp_argnums, primitive

line_of = code_lines(__file__)


def assert_names_exactly(report, name, code):
    """The report fails exactly the nodes of primitive ``name``, and the first failure is at the line ``code``."""
    broken = nodes_of(report.trace, name)
    assert broken, name
    assert {check.node for check in report.failures} == broken
    assert report.first.name == name
    assert report.first.site.file == __file__
    assert report.first.site.line == line_of(code)
    assert report.first.code == code
    assert all(check.status in ("pass", "skip") for check in report.nodes if check.node not in broken)
    assert len(report.passed) >= 3  # the correct nodes were checked, not skipped


# --- the catalogue: one bug each

@primitive
def softplus_sign(x):
    return np.log1p(np.exp(x))


defvjp(softplus_sign, lambda ans, x: lambda g: -g / (1 + np.exp(-x)))  # BUG: sign flipped


def mlp_sign(params, x):
    for W, b in params:
        z = np.dot(x, W) + b
        x = softplus_sign(z)
    return np.mean(x ** 2)


def test_sign_flipped_in_an_mlp():
    params = [(onp.random.randn(3, 4), onp.random.randn(4)), (onp.random.randn(4, 2), onp.random.randn(2))]
    report = check_vjps(mlp_sign, params, onp.random.randn(5, 3))
    assert_names_exactly(report, "softplus_sign", "x = softplus_sign(z)")
    assert len(report.failures) == 2  # both layers
    assert report.first.error == pytest.approx(2.0, rel=1e-3)  # -a against a


@primitive
def scaled(a, b):
    return a * b ** 2


defvjp(scaled, lambda ans, a, b: lambda g: 2 * g * a * b,  # BUG: the two rules swapped (argnum 1's rule here)
       lambda ans, a, b: lambda g: g * b ** 2)


def loop_swapped(x, w):
    h = x
    for _ in range(3):
        h = np.tanh(scaled(h, w))
    return np.sum(h)


def test_arguments_swapped_in_a_loop():
    x, w = onp.random.uniform(0.5, 1.5, 4), onp.random.uniform(0.5, 1.5, 4)
    report = check_vjps(loop_swapped, x, w)
    assert_names_exactly(report, "scaled", "h = np.tanh(scaled(h, w))")
    assert len(report.failures) == 3
    # argnum 0 is traced in the first call only (w is a constant then): it is the one named
    assert {arg.argnum for check in report.failures for arg in check.args if arg.status == "fail"} == {0}
    report = check_vjps(loop_swapped, x, w, argnum=(0, 1))
    assert {arg.argnum for check in report.failures for arg in check.args if arg.status == "fail"} == {0, 1}


@primitive
def matvec(A, x):
    return np.dot(A, x)


defvjp(matvec, lambda ans, A, x: lambda g: np.outer(g, x),
       lambda ans, A, x: lambda g: np.dot(A, g))  # BUG: A g instead of A^T g


def rnn(A, h0, inputs):
    h = h0
    for u in inputs:
        h = np.tanh(matvec(A, h) + u)
    return np.sum(h ** 2)


def test_transposed_result_in_an_rnn():
    A = onp.random.randn(4, 4)
    report = check_vjps(rnn, A, onp.random.randn(4), onp.random.randn(3, 4))
    # in A (argnum 0 of rnn), matvec's argnum 1 (h) is traced from the second step on: those nodes fail
    fails = {check.node for check in report.failures}
    matvecs = sorted(nodes_of(report.trace, "matvec"))
    assert fails == set(matvecs[1:])
    assert {arg.argnum for check in report.failures for arg in check.args if arg.status == "fail"} == {1}
    assert report.first.code == "h = np.tanh(matvec(A, h) + u)"
    report = check_vjps(rnn, A, onp.random.randn(4), onp.random.randn(3, 4), argnum=1)
    assert_names_exactly(report, "matvec", "h = np.tanh(matvec(A, h) + u)")


@primitive
def add_bias(h, b):
    return h + b


defvjp(add_bias, lambda ans, h, b: lambda g: g, lambda ans, h, b: lambda g: g)  # BUG: g not summed over rows


def mlp_bias(b, W, x):
    h = np.tanh(add_bias(np.dot(x, W), b))
    return np.sum(np.sin(h))


def test_missing_unbroadcast():
    report = check_vjps(mlp_bias, onp.random.randn(4), onp.random.randn(3, 4), onp.random.randn(5, 3))
    assert_names_exactly(report, "add_bias", "h = np.tanh(add_bias(np.dot(x, W), b))")
    arg = report.first.args[0]
    assert arg.argnum == 1 and arg.error is None
    assert "another shape" in arg.reason and "un-broadcast" in arg.reason


@primitive
def cube(x):
    return x ** 3


defvjp(cube, lambda ans, x: lambda g: 6 * g * x ** 2)  # BUG: twice the derivative


def recurse(x, depth):
    if depth == 0:
        return np.sum(np.sin(x))
    return recurse(0.5 * cube(x) + x, depth - 1)


def test_factor_of_two_in_a_recursion():
    report = check_vjps(recurse, onp.random.uniform(-1, 1, 5), 3)
    assert_names_exactly(report, "cube", "return recurse(0.5 * cube(x) + x, depth - 1)")
    assert len(report.failures) == 3
    assert 0.3 < report.first.error < 1.1


@primitive
def abs2(z):
    return np.real(z * np.conj(z))


defvjp(abs2, lambda ans, z: lambda g: 2 * g * z)  # BUG: gradient of |z|^2 is 2 conj(z) in gradviz's convention


def complex_model(z, w):
    field = np.exp(1j * w) * z
    return np.sum(np.log1p(abs2(field)))


def test_missing_complex_conjugate():
    z = onp.random.randn(4) + 1j * onp.random.randn(4)
    report = check_vjps(complex_model, z, onp.random.randn(4))
    assert_names_exactly(report, "abs2", "return np.sum(np.log1p(abs2(field)))")
    # a conj at the right place passes: the same model with the correct rule
    defvjp(abs2, lambda ans, z: lambda g: 2 * g * np.conj(z))
    try:
        assert check_vjps(complex_model, z, onp.random.randn(4)).ok
    finally:
        defvjp(abs2, lambda ans, z: lambda g: 2 * g * z)


@primitive
def my_tanh(x):
    return np.tanh(x)


defvjp(my_tanh, lambda ans, x: lambda g: g * (1 - np.tanh(0 * x) ** 2))  # BUG: right only at x = 0


def deep(x, weights):
    for w in weights:
        x = my_tanh(w * x) + 0.1 * x
    return np.sum(x)


def test_correct_only_at_zero():
    weights = [onp.random.uniform(0.5, 2, 3) for _ in range(4)]
    report = check_vjps(deep, onp.random.uniform(0.3, 1.0, 3), weights)
    assert_names_exactly(report, "my_tanh", "x = my_tanh(w * x) + 0.1 * x")
    assert len(report.failures) == 4
    # at x = 0 the rule is right: nothing to report there
    assert check_vjps(lambda x: np.sum(my_tanh(x) * 2.0), onp.zeros(3)).ok


# --- the report itself

@primitive
def twice_wrong(x):
    return 2 * x


defvjp(twice_wrong, lambda ans, x: lambda g: g)  # BUG: 1 instead of 2


def small(x):
    y = np.sin(x)
    z = twice_wrong(y)
    return np.sum(z * y)


def test_report_order_text_html_and_annotations():
    trace = gradviz.trace(small, onp.array([0.3, 0.7]))
    report = trace.check()
    first = report.first
    assert first.primitive.endswith("twice_wrong") and first.argnum == 0
    assert first.shapes == {"args": {0: "float64[2]"}, "output": "float64[2]"}
    assert report[first.node] is first
    # in backward order: the step indices of the nodes checked increase
    position = {step.node: step.index for step in trace.steps}
    assert [position[c.node] for c in report.nodes] == sorted(position[c.node] for c in report.nodes)
    text = str(report)
    assert "twice_wrong" in text and f"{__file__.rsplit('/', 1)[-1]}:{line_of('z = twice_wrong(y)')}" in text
    assert "1 failed" in text
    page = report._repr_html_()
    assert "<table>" in page and "twice_wrong" in page
    assert page.count("<tr") == 1 + sum(len(check.args) for check in report.nodes)
    notes = trace.annotations[first.node]
    assert [(n["kind"], n["status"]) for n in notes] == [("vjp-check", "fail")]
    assert "relative error" in notes[0]["message"] and notes[0]["error"] > 0.1
    sin_node = next(iter(nodes_of(trace, "sin")))
    assert trace.annotations[sin_node][0]["status"] == "pass"
    trace.check()  # checking again replaces the entries instead of adding to them
    assert len(trace.annotations[first.node]) == 1
    with pytest.raises(AssertionError, match="twice_wrong"):
        report.raise_if_failed()


def test_keep_recipes_avoids_running_again_and_rerun_must_match():
    calls = []

    def counted(x):
        calls.append(1)
        return np.sum(np.exp(x) * x)

    trace = gradviz.trace(counted, onp.array([0.1, 0.2]), keep_recipes=True)
    assert set(trace.recipes) == {node.id for node in trace.nodes if node.primitive}
    assert trace.check().ok and len(calls) == 1
    plain = gradviz.trace(counted, onp.array([0.1, 0.2]))
    assert plain.check().ok and len(calls) == 3  # run once more, with recipes kept

    def changing(x):
        calls.append(1)
        return np.sum(np.sin(x)) if len(calls) % 2 else np.sum(np.cos(x))

    with pytest.raises(RuntimeError, match="not deterministic: running it again made other nodes"):
        gradviz.trace(changing, onp.array([0.1, 0.2])).check()

    state = onp.array([1.0])

    def drifting(x):
        state[0] += 1.0  # changes between the trace and the check's run
        return np.sum(x * state[0])

    with pytest.raises(RuntimeError, match="not deterministic: running it again gave another value"):
        gradviz.trace(drifting, onp.array([0.1, 0.2])).check()


def test_a_trace_without_recipes_or_call_is_refused():
    trace = gradviz.trace(lambda x: np.sum(x ** 2), onp.ones(2))
    loaded = gradviz.Trace.from_json(trace.to_json())
    with pytest.raises(ValueError, match="keep_recipes"):
        loaded.check()


def test_wrong_jvp_with_right_vjp_is_named_as_the_jvp():
    @primitive
    def sq(x):
        return x * x

    defvjp(sq, lambda ans, x: lambda g: 2 * g * x)
    defjvp(sq, lambda g, ans, x: 3 * g * x)  # BUG in the JVP
    report = check_vjps(lambda x: np.sum(sq(np.sin(x))), onp.array([0.3, 0.5, 0.9]))
    assert {c.name for c in report.failures} == {"sq"}
    assert "the JVP is wrong" in report.first.args[0].reason


def test_skips_say_why():
    @primitive
    def zero_in_second(x, y):
        return x * 1.0

    defvjp(zero_in_second, lambda ans, x, y: lambda g: g, None)
    report = check_vjps(lambda x: np.sum(zero_in_second(x, x ** 2)), onp.array([0.3, 0.5]))
    node = report[next(iter(nodes_of(report.trace, "zero_in_second")))]
    assert [(a.argnum, a.status) for a in node.args] == [(0, "pass"), (1, "skip")]
    assert node.args[1].reason == "its VJP is declared zero"
    assert report.ok


def test_kinks_and_domain_edges_are_no_false_alarms():
    x = onp.array([0.0, 1.0, -2.0, 3.0])

    def kinky(x):
        return np.sum(np.abs(x)) + np.sum(np.maximum(x, 0.0)) + np.max(np.array([1.0, 1.0]) * x[1])

    report = check_vjps(kinky, x)
    assert report.ok and report.passed
    # sqrt right at its domain's edge: finite differences leave the domain, the JVP judges
    report = check_vjps(lambda x: np.sum(np.sqrt(x + 1e-12)), onp.array([1e-12, 1.0]))
    assert report.ok


def test_float32_models_pass_and_bugs_show():
    params = [(onp.random.randn(3, 4).astype(onp.float32), onp.random.randn(4).astype(onp.float32))]
    x = onp.random.randn(6, 3).astype(onp.float32)

    def net(params, x):
        for W, b in params:
            x = np.tanh(np.dot(x, W) + b)
        return np.mean(np.logaddexp(x, 0.5 * x) ** 2)

    assert check_vjps(net, params, x).ok
    report = check_vjps(mlp_sign, params, x)
    assert {c.name for c in report.failures} == {"softplus_sign"}
    assert report.first.args[0].tolerance >= RTOL["float32"]


def test_container_arguments_and_joint_rules():
    @primitive
    def weighted(params):
        return params["a"] * params["b"]

    # BUG: the gradient of b is the one of a
    defvjp_argnums(weighted, lambda argnums, ans, args, kwargs: lambda g: (
        {"a": g * args[0]["b"], "b": g * args[0]["b"]},))

    def model(params):
        return np.sum(np.tanh(weighted(params)))

    report = check_vjps(model, {"a": onp.array([0.4, 0.8]), "b": onp.array([1.5, -0.5])})
    assert {c.name for c in report.failures} == {"weighted"}
    assert report.first.code == "return np.sum(np.tanh(weighted(params)))"
    assert report.first.args[0].shape == "{'a': float64[2], 'b': float64[2]}"
    defvjp_argnums(weighted, lambda argnums, ans, args, kwargs: lambda g: (
        {"a": g * args[0]["b"], "b": g * args[0]["a"]},))
    assert check_vjps(model, {"a": onp.array([0.4, 0.8]), "b": onp.array([1.5, -0.5])}).ok


def test_large_arrays_are_probed_not_densified():
    x = onp.random.randn(300, 400)
    report = check_vjps(lambda x: np.sum(np.tanh(cube(x) * 1e-2)), x, directions=1)
    assert {c.name for c in report.failures} == {"cube"}
    assert report["tanh" and next(iter(nodes_of(report.trace, "tanh")))].status == "pass"


def test_progress_bar(capsys):
    report = check_vjps(lambda x: np.sum(np.sin(x) * x), onp.ones(3), progress=True)
    assert report.ok
    assert "checking the VJPs" in capsys.readouterr().err


def test_check_recipe_directly_on_a_numpy_rule():
    trace = gradviz.trace(lambda x: np.sum(np.cumsum(x) ** 2), onp.array([0.5, 1.0, 2.0]), keep_recipes=True)
    (cumsum,) = nodes_of(trace, "cumsum")
    result = check_recipe(trace.recipes[cumsum], 0)
    assert result.status == "pass" and result.error < 1e-6 and result.against == "finite differences"


# --- the whole-function check with its diagnosis

@primitive
def my_softplus(z):
    return np.log1p(np.exp(z))


defvjp(my_softplus, lambda ans, z: lambda g: g * 2 / (1 + np.exp(-z)))  # BUG: a stray factor 2


def loss(W, x):
    z = np.dot(x, W)
    h = my_softplus(z)
    return np.mean((h - 1.0) ** 2)


def test_check_grads_names_the_node_to_blame():
    W, x = onp.random.randn(3, 2), onp.random.randn(4, 3)
    with pytest.raises(GradientCheckError) as caught:
        check_grads(loss, W, x)
    message = str(caught.value)
    assert message.startswith("the gradient of loss is wrong")
    assert (f"the VJP of my_softplus (argnum 0) at test_debug_check.py:{line_of('h = my_softplus(z)')} "
            "`h = my_softplus(z)` fails the check") in message
    assert caught.value.blame.name == "my_softplus"
    assert caught.value.report.failed_primitives == {caught.value.blame.primitive}


def test_check_grads_passes_correct_functions_in_both_modes():
    W, x = onp.random.randn(3, 2), onp.random.randn(4, 3)
    result = check_grads(lambda W, x: np.mean(np.tanh(np.dot(x, W)) ** 2), W, x)
    assert set(result.errors) == {"rev", "fwd"} and max(result.errors.values()) < 1e-6
    # my_softplus has no JVP: forward mode is skipped, reverse still fails with its diagnosis
    with pytest.raises(GradientCheckError, match="my_softplus"):
        check_grads(loss, W, x, modes=("fwd", "rev"))
    result = check_grads(loss, W, x, modes=("fwd",))
    assert not result.errors and "has no JVP" in result.skipped["fwd"]


def test_check_grads_diagnoses_a_vjp_of_the_wrong_shape():
    with pytest.raises(GradientCheckError, match="add_bias") as caught:
        check_grads(mlp_bias, onp.random.randn(4), onp.random.randn(3, 4), onp.random.randn(5, 3))
    assert "reverse mode raised ValueError" in str(caught.value)


def test_check_grads_without_a_culprit_says_so():
    @primitive
    def wrongly_constant(x):
        return x * 3.0

    defvjp(wrongly_constant, None)  # BUG, but one the per-node check skips: a VJP declared zero

    with pytest.raises(GradientCheckError, match="no VJP fails the per-node check") as caught:
        check_grads(lambda x: np.sum(wrongly_constant(x) + x), onp.ones(3))
    assert "skipped: %1 wrongly_constant" in str(caught.value)


def test_check_trace_on_nodes_subset():
    trace = gradviz.trace(small, onp.array([0.3, 0.7]))
    some = sorted(nodes_of(trace, "sin"))
    report = check_trace(trace, nodes=some)
    assert [c.node for c in report.nodes] == some and report.ok


def test_symmetric_arguments_are_checked_along_symmetric_directions():
    A = onp.random.randn(3, 3)
    S = A @ A.T + 3 * onp.eye(3)
    report = check_vjps(lambda S: np.sum(np.linalg.eigh(S)[0] ** 2) + np.sum(np.linalg.cholesky(S)), S)
    assert report.ok
    for name in ("eigh", "cholesky"):
        (node,) = nodes_of(report.trace, name)
        assert report[node].status == "pass" and "symmetric directions" in report[node].args[0].reason

    @primitive
    def sym_trace(S):
        return np.trace(S @ S)

    defvjp(sym_trace, lambda ans, S: lambda g: g * S)  # BUG: half the gradient, symmetric or not
    report = check_vjps(lambda S: sym_trace(S) * 2.0, S)
    assert {c.name for c in report.failures} == {"sym_trace"}


def test_top_level_exports():
    assert gradviz.check_vjps is check_vjps
    from gradviz.debug import detect_anomaly

    assert gradviz.detect_anomaly is detect_anomaly


def test_max_per_line_samples_long_loops():
    report = check_vjps(recurse, onp.random.uniform(-1, 1, 5), 6, max_per_line=2)
    cubes = [report[node] for node in sorted(nodes_of(report.trace, "cube"))]
    assert len(cubes) == 6
    assert sum(c.status == "fail" for c in cubes) == 2
    assert sum(c.status == "skip" and "sampled" in c.args[0].reason for c in cubes) == 4


def test_check_grads_and_check_vjps_quiet_on_relu_networks():
    for seed in range(5):
        rs = onp.random.RandomState(seed)
        W1, W2, x = rs.randn(4, 16), rs.randn(16, 1), rs.randn(32, 4)

        def relu_loss(W1, W2, x):
            h = np.maximum(np.dot(x, W1), 0.0)
            return np.mean(np.dot(h, W2) ** 2) + np.sum(np.abs(W1)) * 1e-2

        assert check_grads(relu_loss, W1, W2, x, seed=seed).errors["rev"] < 1e-3
        assert check_vjps(relu_loss, W1, W2, x, seed=seed).ok


def test_a_vjp_that_changes_its_outgrad_in_place_is_named():
    @primitive
    def doubled(x):
        return 2.0 * x

    def vjp_in_place(ans, x):
        def vjp(g):
            g *= 2.0  # BUG: the right value, but it overwrites the outgrad other steps may share
            return g
        return vjp

    defvjp(doubled, vjp_in_place)
    report = check_vjps(lambda x: np.sum(np.sin(doubled(np.cos(x)))), onp.array([0.2, 0.4]))
    assert {c.name for c in report.failures} == {"doubled"}
    assert "in place" in report.first.args[0].reason
