"""Errors that point at the user's code: an exception inside a VJP during the backward pass carries a note naming
the primitive, the node, and (in a trace) the user's line that made the node."""

from pathlib import Path

import numpy as onp
import pytest
from source_lines import marker_lines

import gradviz
import gradviz.numpy as np
from gradviz import grad
from gradviz.extend import defvjp, primitive

HERE = Path(__file__).resolve()
line_of = marker_lines(HERE)


class RuleBroke(Exception):
    pass


@primitive
def fragile(x):
    return x * 2.0


def fragile_vjp(ans, x):
    def vjp(g):
        raise RuleBroke("the rule broke")
    return vjp


defvjp(fragile, fragile_vjp)


@primitive
def misshapen(x):
    return x + 1.0


defvjp(misshapen, lambda ans, x: lambda g: onp.ones(7))


def program(x):
    h = np.sin(x)
    y = fragile(h)  # <fragile>
    return np.sum(y * y)


def test_vjp_error_in_a_trace_names_primitive_node_and_line():
    with pytest.raises(RuleBroke, match="the rule broke") as info:
        gradviz.trace(program, onp.array([0.1, 0.2]))
    notes = info.value.__notes__
    assert len(notes) == 1
    note = notes[0]
    assert f"{__name__}.fragile" in note
    # node ids: input %0, sin %1, fragile %2
    assert "(node %2)" in note
    assert f"{HERE}:{line_of('<fragile>')}" in note
    assert "program" in note


def test_the_node_in_the_note_is_the_recorded_node():
    """The node id in the note is the one the record gives to the fragile call."""
    seen = {}

    def program_with_tap(x):
        y = gradviz.tap(fragile(np.cos(x)), "y")
        seen["y"] = y
        return np.sum(y)

    with pytest.raises(RuleBroke) as info:
        gradviz.trace(program_with_tap, onp.array([0.3]))
    node_id = seen["y"]._node.id
    assert f"(node %{node_id})" in info.value.__notes__[0]


def test_vjp_error_in_plain_grad_names_primitive_and_node():
    with pytest.raises(RuleBroke) as info:
        grad(program)(onp.array([0.1, 0.2]))
    (note,) = info.value.__notes__
    assert f"{__name__}.fragile" in note and "node %" in note
    assert "gradviz.trace" in note  # says how to get the line


def test_vjp_error_inside_grad_of_grad_is_noted_once():
    def outer(x):
        return grad(program)(x)

    with pytest.raises(RuleBroke) as info:
        gradviz.trace(outer, onp.array([0.4]))
    (note,) = info.value.__notes__
    assert f"{__name__}.fragile" in note
    assert f"{HERE}:{line_of('<fragile>')}" in note


def test_vjp_returning_the_wrong_shape_names_the_primitive_and_line():
    def f(x):
        return np.sum(misshapen(x))  # <misshapen>

    with pytest.raises(ValueError) as info:
        gradviz.trace(f, onp.ones(3))
    assert f"{__name__}.misshapen" in str(info.value)
    assert "float64[7]" in str(info.value) and "float64[3]" in str(info.value)
    (note,) = info.value.__notes__
    assert f"{HERE}:{line_of('<misshapen>')}" in note


def test_the_record_is_usable_after_a_failure():
    with pytest.raises(RuleBroke):
        gradviz.trace(program, onp.array([0.1]))
    trace = gradviz.trace(lambda x: np.sum(np.sin(x)), onp.array([0.1]))
    assert onp.allclose(trace.grad, onp.cos(0.1))
