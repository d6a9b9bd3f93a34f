"""Long chains: 100,000 nodes, at the default recursion limit, against closed forms."""

import sys

import numpy as onp
import pytest

import gradviz
import gradviz.numpy as np
from gradviz import grad

N = 100_000


@pytest.fixture
def default_recursion_limit():
    previous = sys.getrecursionlimit()
    sys.setrecursionlimit(1000)
    yield
    sys.setrecursionlimit(previous)


@pytest.mark.usefixtures("default_recursion_limit")
def test_affine_chain_of_100k_steps():
    a, b = 1.0001, 1e-6

    def chain(x):
        for _ in range(N):
            x = x * a + b
        return x

    # x_N = a^N x + b (a^N - 1) / (a - 1), so dx_N/dx = a^N
    assert grad(chain)(1.0) == pytest.approx(a ** N, rel=1e-9)


@pytest.mark.usefixtures("default_recursion_limit")
def test_sin_chain_of_100k_steps_on_an_array():
    x0 = onp.array([0.5, 1.0, -2.0])

    def chain(x):
        for _ in range(N):
            x = np.sin(x)
        return np.sum(x)

    # d/dx0 of sin^N(x0) is the product of cos(x_k) along the orbit; its log is summed to avoid underflow
    x, log_derivative = x0.copy(), onp.zeros(3)
    for _ in range(N):
        log_derivative += onp.log(onp.abs(onp.cos(x)))
        x = onp.sin(x)
    sign = onp.sign(onp.cos(x0))  # only the first step can have cos < 0 (later |x| < 1)
    expected = sign * onp.exp(log_derivative)
    onp.testing.assert_allclose(grad(chain)(x0), expected, rtol=1e-8)


def test_grad_lets_go_of_forward_values_during_its_backward_pass():
    """grad walks its graph once, so each node drops its value after its VJP; make_vjp keeps the graph for reuse."""
    import weakref

    from gradviz import make_vjp
    from gradviz.extend import defvjp, primitive

    tanh_values, alive_at_probe = [], []

    @primitive
    def probe(x):
        return x

    defvjp(probe, lambda ans, x: lambda g: (alive_at_probe.append(tanh_values[-1]() is not None), g)[1])

    def f(x):
        t = np.tanh(probe(x))
        tanh_values.append(weakref.ref(gradviz.getval(t)))
        return np.sum(t * 2.0)

    x = onp.linspace(-1.0, 1.0, 1000)
    expected = 2.0 / onp.cosh(x) ** 2
    assert onp.allclose(gradviz.grad(f)(x), expected)
    assert alive_at_probe == [False]  # the tanh node (done before probe's step) had let go of its value

    vjp, _ = make_vjp(f)(x)
    assert onp.allclose(vjp(1.0), expected) and onp.allclose(vjp(1.0), expected)  # walked twice
    assert alive_at_probe[1:] == [True, True]
