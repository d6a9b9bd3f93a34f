"""Gradients in many threads at once: each thread's traces are its own."""

import gc
import threading

import numpy as onp

import gradviz.numpy as np
from gradviz import grad, make_jvp

N_THREADS = 8
N_ITERATIONS = 60


def _run_in_threads(work):
    barrier = threading.Barrier(N_THREADS)
    results, errors = {}, []

    def target(k):
        try:
            barrier.wait(timeout=30)
            results[k] = work(k)
        except BaseException as error:  # reported below, with the thread that raised it
            errors.append((k, error))

    threads = [threading.Thread(target=target, args=(k,)) for k in range(N_THREADS)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    assert not errors, errors
    assert sorted(results) == list(range(N_THREADS))
    return results


def test_nested_gradients_in_eight_threads():
    def work(k):
        out = []
        for i in range(N_ITERATIONS):
            c = 0.5 + 0.1 * k  # each thread closes over its own constant
            x = -1.0 + 0.03 * i + 0.01 * k
            second = grad(grad(lambda t, c=c: np.sin(t) * c + t ** 3 / c))(x)
            out.append((second, -onp.sin(x) * c + 6 * x / c))
            th = onp.tanh(x)
            out.append((grad(grad(grad(np.tanh)))(x), -2 * (1 - th ** 2) * (1 - 3 * th ** 2)))
            inner = grad(lambda a, x=x: a * grad(lambda b: a * b + x)(x))(c)  # 2c, no perturbation confusion
            out.append((inner, 2 * c))
        return out

    for k, pairs in _run_in_threads(work).items():
        got, expected = onp.array(pairs).T
        onp.testing.assert_allclose(got, expected, rtol=1e-10, atol=1e-12, err_msg=f"thread {k}")


def test_array_hvp_in_eight_threads():
    v = onp.array([1.0, -2.0, 0.5])

    def work(k):
        x = onp.array([0.1, 0.2, 0.3]) * (k + 1)
        f = lambda z: np.sum(z ** 2 * np.sin(z))  # noqa: E731
        hv = [make_jvp(grad(f))(x)(v)[1] for _ in range(N_ITERATIONS // 2)]
        return x, hv

    for x, hv in _run_in_threads(work).values():
        expected = (2 * onp.sin(x) + 4 * x * onp.cos(x) - x ** 2 * onp.sin(x)) * v
        for h in hv:
            onp.testing.assert_allclose(h, expected, rtol=1e-12)


def test_garbage_collector_is_restored_after_threads():
    was_enabled = gc.isenabled()
    _run_in_threads(lambda k: grad(grad(np.sin))(0.1 * k))
    assert gc.isenabled() == was_enabled
