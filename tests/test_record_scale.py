"""Scale: a 100,000-primitive trace records, prints and serialises; a trace's memory grows with its number of
nodes, not with the size of its arrays (it keeps summaries, not copies)."""

import gc
import math
import tracemalloc

import numpy as onp
import pytest

import gradviz
import gradviz.numpy as np
from gradviz.record.listing import MAX_LINES

N = 100_000


def sine_chain(x):
    for _ in range(N):
        x = np.sin(x)
    return x


def test_a_100k_primitive_trace_records_prints_and_serialises():
    x0 = 0.5
    trace = gradviz.trace(sine_chain, x0)
    # closed form: d sin^N(x)/dx is the product of cos of each intermediate value
    x, g = x0, 1.0
    for _ in range(N):
        g *= math.cos(x)
        x = math.sin(x)
    assert trace.value == pytest.approx(x, rel=1e-12)
    assert trace.grad == pytest.approx(g, rel=1e-9)

    assert len(trace.nodes) == N + 1 and len(trace.steps) == N + 1
    assert trace.nodes[-1].role == "output" and trace.nodes[N // 2].primitive == "numpy.sin"
    assert trace.nodes[N // 2].parents == [(0, trace.nodes[N // 2 - 1].id)]

    text = str(trace)
    lines = text.splitlines()
    assert len(lines) < 2 * MAX_LINES + 10  # the middle is elided, both in the forward and the backward part
    assert sum("more" in line for line in lines) == 2
    assert f"{N + 1} nodes" in lines[0]
    assert lines[3].strip().startswith("%0 = input")
    assert any(line.strip().startswith(f"%{trace.nodes[-1].id} = numpy.sin") for line in lines)

    data = trace.to_json()
    assert data.startswith('{"schema": "gradviz.trace", "version": 1')
    assert data.count('"primitive": "numpy.sin"') == N
    assert data.count('"index": ') == N + 1
    assert gradviz.Trace.from_json(data).nodes[-1].value.head == trace.nodes[-1].value.head


def chain_on(n: int, read_records: bool) -> int:
    """Memory still held after tracing a 20-step chain on n-element arrays, beyond the gradient and the arguments
    (``Trace.call`` keeps the arguments, so that a check can run the function again)."""

    def f(x, w):
        for _ in range(20):
            x = np.tanh(x) * w  # w: a constant array the size of x
        return np.sum(x)

    gc.collect()
    tracemalloc.start()
    try:
        base = tracemalloc.get_traced_memory()[0]
        x = onp.linspace(0.1, 1.0, n)
        w = onp.linspace(1.0, 2.0, n)
        trace = gradviz.trace(f, x, w)
        arguments = x.nbytes + w.nbytes
        assert trace.call[1][0] is x and trace.call[1][1] is w  # held by reference, not copied
        del x, w
        if read_records:
            assert len(trace.nodes) == 1 + 1 + 2 * 20 + 1 and len(trace.steps) == 1 + 2 * 20 + 1
        gc.collect()
        held = tracemalloc.get_traced_memory()[0] - base - trace.grad.nbytes - arguments
    finally:
        tracemalloc.stop()
    assert trace.grad.shape == (n,)
    return held


@pytest.mark.parametrize("read_records", [False, True], ids=["as-returned", "records-read"])
def test_memory_does_not_grow_with_the_size_of_the_arrays(read_records):
    small = chain_on(10, read_records)
    large = chain_on(100_000, read_records)  # each array is 800 kB; 40 intermediates would be 32 MB
    assert large - small < 100_000, (
        f"a trace of 100,000-element arrays holds {large - small} bytes more than one of 10-element arrays"
    )


def test_memory_grows_with_the_number_of_nodes():
    def chain(x, steps):
        for _ in range(steps):
            x = np.sin(x)
        return np.sum(x)

    def held(steps):
        gc.collect()
        tracemalloc.start()
        try:
            base = tracemalloc.get_traced_memory()[0]
            trace = gradviz.trace(chain, onp.ones(3), steps=steps)
            assert len(trace.nodes) == steps + 2
            gc.collect()
            return tracemalloc.get_traced_memory()[0] - base
        finally:
            tracemalloc.stop()

    small, large = held(200), held(2000)
    per_node = (large - small) / 1800
    assert 0 < per_node < 5000, per_node  # a few summaries per node, no arrays
