"""Gradient flow (gradviz.debug.flow): outgrad norms per node against closed forms, vanishing and exploding flags,
the per-scope table, and the annotations."""

from __future__ import annotations

import math
import warnings

import numpy as onp

import gradviz
import gradviz.numpy as np


def scale_layer(h, w):
    return h * w


def chain(x, w, depth):
    h = x
    for _ in range(depth):
        h = scale_layer(h, w)
    return np.sum(h)


def test_norms_match_the_closed_form_and_flags_follow_the_thresholds():
    # h_k = x w^k, loss = sum(h_depth): the outgrad of h_k is w^(depth - k) (a vector of them)
    x, depth = onp.ones(4), 8
    trace = gradviz.trace(chain, x, 0.1, depth)
    report = trace.flow(vanish=1e-5, explode=1e5)
    assert report.reference == 1.0
    products = [node for node in trace.nodes if node.primitive == "numpy.multiply"]
    for k, node in enumerate(products, start=1):
        expected = 0.1 ** (depth - k) * 2.0  # norm of a 4-vector of that value
        assert math.isclose(report[node.id].norm, expected, rel_tol=1e-12)
    # the gradient at x is 0.1^8 * 2 = 2e-8, at the first products 2e-7 and 2e-6: below 1e-5; then 2e-5
    flagged = {node.node for node in report.vanishing}
    assert flagged == {0} | {node.id for node in products[:2]}
    assert not report.exploding
    for node_id in flagged:
        (note,) = trace.annotations[node_id]
        assert note["kind"] == "vanishing" and note["status"] == "warn" and 0 < note["error"] < 1e-5
    trace = gradviz.trace(chain, x, 10.0, depth)
    exploding = trace.flow(vanish=1e-5, explode=1e5)
    products = [node for node in trace.nodes if node.primitive == "numpy.multiply"]
    # outgrads 2e7, 2e6, 2e5 at the first three products, 2e8 at x: above 1e5
    assert {node.node for node in exploding.exploding} == {0} | {node.id for node in products[:3]}
    assert not exploding.vanishing


def test_scope_table_groups_calls_by_function_and_call_line():
    trace = gradviz.trace(chain, onp.ones(4), 0.1, 8)
    report = trace.flow(vanish=1e-5)
    layer = next(scope for scope in report.scopes if scope.function == "scale_layer")
    assert layer.calls == 8 and layer.nodes == 8 and layer.vanishing == 2 and layer.flagged == 2
    assert math.isclose(layer.min, 0.1 ** 7 * 2) and math.isclose(layer.max, 2.0)
    assert layer.label == f"scale_layer (test_debug_flow.py:{chain.__code__.co_firstlineno + 3})"
    text = str(report)
    assert "scale_layer" in text and "2 (2 vanishing, 0 exploding)" in text
    assert "<table>" in report._repr_html_() and "scale_layer" in report._repr_html_()


def test_nonfinite_outgrads_are_exploding_and_annotations_are_replaced():
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)  # sqrt's VJP divides by zero: the point of the test
        trace = gradviz.trace(lambda x: np.sum(np.sqrt(x)), onp.array([0.0, 1.0]))
    report = trace.flow()
    assert report.exploding and report.exploding[-1].node == 0 and math.isinf(report.exploding[-1].norm)
    assert trace.annotations[0][0]["error"] is None
    trace = gradviz.trace(chain, onp.ones(4), 0.1, 8)
    assert trace.flow(vanish=1e-5).vanishing and trace.annotations
    trace.flow(vanish=0.0)  # a new flow replaces the flags of the last one
    assert not trace.annotations


def test_a_healthy_network_has_no_flags():
    W = onp.random.randn(3, 3) * 0.5
    trace = gradviz.trace(lambda W, x: np.sum(np.tanh(np.dot(np.tanh(np.dot(x, W)), W))), W, onp.random.randn(2, 3))
    assert not trace.flow().flagged
