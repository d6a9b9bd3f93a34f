"""Where a NaN or Inf is born (gradviz.debug.nonfinite): a catalogue of births, each located at its node and line,
from a trace's record and by the raising mode (gradviz.detect_anomaly), forward and in the backward pass."""

from __future__ import annotations

import numpy as onp
import pytest
from source_lines import code_lines

import gradviz
import gradviz.numpy as np
from gradviz import detect_anomaly, grad
from gradviz.core import backward
from gradviz.core.backward import VJPNode
from gradviz.extend import defvjp, primitive

line_of = code_lines(__file__)


pytestmark = pytest.mark.filterwarnings("ignore::RuntimeWarning")  # NaN and Inf are what these tests make


# --- the catalogue: (function, argument, direction, primitive, the line that made it)

def log_of_negative(x):
    h = np.tanh(x) * 2.0
    shifted = h - 1.5
    return np.sum(np.log(shifted))


def sqrt_at_zero(x):
    r = np.sqrt(x * x)
    return np.sum(np.sin(r))


def zero_over_zero(x):
    num = x - x
    ratio = num / num
    return np.sum(ratio)


def exp_overflow(x):
    big = x * 400.0
    e = np.exp(big)
    return np.sum(np.tanh(e))


@primitive
def safe_looking(x):
    return x * 1.0


defvjp(safe_looking, lambda ans, x: lambda g: g * 0.0 / (x - x))  # its VJP makes NaN from finite values


def vjp_makes_nan(x):
    y = np.cos(x)
    z = safe_looking(y)
    return np.sum(z ** 2)


X = onp.array([0.5, 1.0, 2.0])
CATALOGUE = [
    (log_of_negative, X, "forward", "log", "return np.sum(np.log(shifted))"),
    (sqrt_at_zero, onp.array([0.0, 1.0]), "backward", "sqrt", "r = np.sqrt(x * x)"),
    (zero_over_zero, X, "forward", "divide", "ratio = num / num"),
    (exp_overflow, X, "forward", "exp", "e = np.exp(big)"),
    (vjp_makes_nan, X, "backward", "safe_looking", "z = safe_looking(y)"),
]
IDS = [row[0].__name__ for row in CATALOGUE]


@pytest.mark.parametrize("fun, x, direction, name, code", CATALOGUE, ids=IDS)
def test_nonfinite_locates_the_birth(fun, x, direction, name, code):
    trace = gradviz.trace(fun, x)
    report = trace.nonfinite()
    origin = getattr(report, direction)
    assert origin is not None and origin.name == name
    assert origin.site.file == __file__ and origin.site.line == line_of(code) and origin.code == code
    assert trace.node(origin.node).primitive.endswith(name)
    assert origin.nan + origin.inf > 0
    if direction == "backward":
        assert origin.argnum == 0 and origin.parent == trace.node(origin.node).parents[0][1]
    notes = [n for n in trace.annotations[origin.node] if n["kind"] == f"nonfinite-{direction}"]
    assert len(notes) == 1 and notes[0]["status"] == "fail"
    assert f":{line_of(code)}" in notes[0]["message"] and name in notes[0]["message"]
    assert name in str(report) and "<table>" in report._repr_html_()


@pytest.mark.parametrize("fun, x, direction, name, code", CATALOGUE, ids=IDS)
def test_detect_anomaly_raises_at_the_birth(fun, x, direction, name, code):
    with pytest.raises(FloatingPointError) as caught, detect_anomaly():
        grad(fun)(x)
    message = str(caught.value)
    assert name in message and f"{__file__}:{line_of(code)}" in message and code in message
    assert ("VJP of" in message) == (direction == "backward")
    assert "float64[" in message  # the shapes
    assert backward.session.node_type is VJPNode and backward.session.observer is None  # restored


def test_the_first_birth_wins_and_downstream_nodes_are_not_origins():
    def twice(x):
        a = np.log(x - 10.0)
        b = np.sqrt(a)
        return np.sum(b) + np.sum(np.log(x - 20.0))

    trace = gradviz.trace(twice, X)
    origin = trace.nonfinite().forward
    assert origin.code == "a = np.log(x - 10.0)"
    assert [n for n, notes in trace.annotations.items() if notes[0]["kind"] == "nonfinite-forward"] == [origin.node]


def test_finite_traces_report_nothing_and_nonfinite_inputs_are_named():
    trace = gradviz.trace(lambda x: np.sum(np.sin(x)), X)
    report = trace.nonfinite()
    assert report.ok and report.forward is None and report.backward is None and not trace.annotations
    assert "finite" in str(report)
    trace = gradviz.trace(lambda x: np.sum(np.sin(x)), onp.array([1.0, onp.nan]))
    report = trace.nonfinite()
    assert report.forward.primitive is None and report.forward.nan == 1
    assert "input" in report.forward.message()


def test_works_on_a_trace_read_from_json():
    trace = gradviz.Trace.from_json(gradviz.trace(sqrt_at_zero, onp.array([0.0, 1.0])).to_json())
    assert trace.nonfinite().backward.code == "r = np.sqrt(x * x)"


def test_detect_anomaly_is_quiet_on_finite_gradients_and_as_a_decorator():
    with detect_anomaly():
        g = grad(lambda x: np.sum(np.sin(x) ** 2))(X)
    assert onp.allclose(g, 2 * onp.sin(X) * onp.cos(X))

    @detect_anomaly()
    def gradient(x):
        return grad(log_of_negative)(x)

    with pytest.raises(FloatingPointError, match="numpy.log"):
        gradient(X)
    # non-finite inputs are not births: the NaN came in with x
    with detect_anomaly():
        g = grad(lambda x: np.sum(x * 2.0))(onp.array([onp.nan, 1.0]))
    assert g[1] == 2.0


def test_detect_anomaly_second_order_and_refused_inside_trace():
    with pytest.raises(FloatingPointError, match="sqrt"), detect_anomaly():
        grad(grad(lambda x: np.sqrt(x) * 1.0))(0.0)

    def inside(x):
        with detect_anomaly():
            return np.sum(x)

    with pytest.raises(RuntimeError, match="inside gradviz.trace"):
        gradviz.trace(inside, X)


def test_a_birth_after_indexing_is_located_both_ways():
    # log of 0 (x[1]) is -inf in the forward pass, and the first birth: not the indexing that fed it
    def picked(x):
        return np.log(x[0] * 0.0 + x[1]) + np.sum(x)

    trace = gradviz.trace(picked, onp.array([1.0, 0.0, 2.0]))
    assert trace.nonfinite().forward.name == "log"
    with pytest.raises(FloatingPointError, match="numpy.log"), detect_anomaly():
        grad(picked)(onp.array([1.0, 0.0, 2.0]))
