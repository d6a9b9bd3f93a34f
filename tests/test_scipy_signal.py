"""gradviz.scipy.signal: convolve (with autograd's axes and dot_axes) and fftconvolve, values and derivatives.

Values are checked against scipy.signal and against explicit loops; derivatives with check_grads in both
arguments, both modes, to second order (the functions are bilinear, so they are squared to make the second
derivative exercise the rules on traced cotangents).
"""

import itertools

import numpy as onp
import pytest
import scipy.signal as ss

import gradviz.scipy.signal as gs
from gradviz import grad
from gradviz.test_util import check_grads


def randn(shape, dtype=float):
    x = onp.random.randn(*shape)
    if onp.dtype(dtype).kind == "c":
        x = x + 1j * onp.random.randn(*shape)
    return onp.asarray(x, dtype)


def check_both_args(fun, a, b, **kwargs):
    for argnum in (0, 1):
        check_grads(lambda a, b: fun(a, b, **kwargs) ** 2, argnum=argnum, modes=("fwd", "rev"), order=2)(a, b)


SHAPES = [((5,), (3,)), ((3,), (5,)), ((4,), (4,)), ((1,), (3,)), ((3, 4), (2, 3)), ((2, 2), (3, 4)),
          ((3, 2), (2, 4)), ((), ())]


def _valid_ok(s1, s2):
    return all(a >= b for a, b in zip(s1, s2)) or all(a <= b for a, b in zip(s1, s2))


@pytest.mark.parametrize("fun", [gs.convolve, gs.fftconvolve], ids=["convolve", "fftconvolve"])
@pytest.mark.parametrize("mode", ["full", "same", "valid"])
@pytest.mark.parametrize("shapes", SHAPES, ids=str)
def test_matches_scipy_and_gradients(fun, shapes, mode):
    s1, s2 = shapes
    a, b = randn(s1), randn(s2)
    if mode == "valid" and not _valid_ok(s1, s2):
        with pytest.raises(ValueError):
            fun(a, b, mode)
        return
    expected = ss.convolve(a, b, mode=mode, method="direct")
    assert onp.allclose(fun(a, b, mode), expected)
    check_both_args(fun, a, b, mode=mode)


@pytest.mark.parametrize("fun", [gs.convolve, gs.fftconvolve], ids=["convolve", "fftconvolve"])
@pytest.mark.parametrize("dtypes", [(complex, complex), (float, complex), (onp.float32, onp.float32),
                                    (onp.complex64, onp.complex64)], ids=str)
def test_complex_and_single_precision(fun, dtypes):
    a, b = randn((4, 3), dtypes[0]), randn((2, 2), dtypes[1])
    result = fun(a, b, "same")
    assert onp.allclose(result, ss.convolve(a, b, mode="same", method="direct"), atol=1e-5)
    if dtypes[0] == onp.float32:
        assert result.dtype == onp.float32
    check_both_args(fun, a, b, mode="same")


def test_fftconvolve_axes_broadcast_like_scipy():
    a, b = randn((3, 6)), randn((1, 4))
    for mode in ("full", "same", "valid"):
        assert onp.allclose(gs.fftconvolve(a, b, mode, axes=1), ss.fftconvolve(a, b, mode, axes=1))
        assert onp.allclose(gs.fftconvolve(a, b, mode=mode, axes=[-1]), ss.fftconvolve(a, b, mode=mode, axes=[-1]))
        check_both_args(gs.fftconvolve, a, b, mode=mode, axes=1)
    with pytest.raises(ValueError, match="incompatible"):
        gs.fftconvolve(randn((3, 6)), randn((2, 4)), axes=1)


# --- autograd's axes and dot_axes, against explicit loops


def loop_convolve(A, B, conv, dots, mode):
    """out[A's other axes, B's other axes, k...] = sum over dot and window indices, written as plain loops."""
    (ca, cb), (da, db) = conv, dots
    ignore_a = [i for i in range(A.ndim) if i not in ca and i not in da]
    ignore_b = [i for i in range(B.ndim) if i not in cb and i not in db]
    sizes_a, sizes_b = [A.shape[i] for i in ca], [B.shape[i] for i in cb]
    full_sizes = [a + b - 1 for a, b in zip(sizes_a, sizes_b)]
    out = onp.zeros([A.shape[i] for i in ignore_a] + [B.shape[i] for i in ignore_b] + full_sizes,
                    onp.result_type(A, B))
    for ia in itertools.product(*[range(A.shape[i]) for i in ignore_a]):
        for ib in itertools.product(*[range(B.shape[i]) for i in ignore_b]):
            for d in itertools.product(*[range(A.shape[i]) for i in da]):
                for p in itertools.product(*[range(n) for n in sizes_a]):
                    for q in itertools.product(*[range(n) for n in sizes_b]):
                        index_a, index_b = [0] * A.ndim, [0] * B.ndim
                        for axis, value in zip(ignore_a + list(da) + list(ca), ia + d + p):
                            index_a[axis] = value
                        for axis, value in zip(ignore_b + list(db) + list(cb), ib + d + q):
                            index_b[axis] = value
                        k = tuple(pi + qi for pi, qi in zip(p, q))
                        out[ia + ib + k] += A[tuple(index_a)] * B[tuple(index_b)]
    starts, lengths = [], []
    for a, b in zip(sizes_a, sizes_b):
        start, length = {"full": (0, a + b - 1), "same": ((b - 1) // 2, a),
                         "valid": (min(a, b) - 1, abs(a - b) + 1)}[mode]
        starts.append(start)
        lengths.append(length)
    first = len(ignore_a) + len(ignore_b)
    index = [slice(None)] * first + [slice(s, s + n) for s, n in zip(starts, lengths)]
    return out[tuple(index)]


AXES_CASES = [
    # (A shape, B shape, axes, dot_axes)
    ((2, 4, 3), (3, 2, 5), ([1], [2]), ([2], [0])),
    ((4, 3), (2, 3), ([0], [0]), ([1], [1])),
    ((3, 4, 2), (2, 3), ([0, 1], [1, 0]), ((), ())),
    ((2, 3, 3), (2, 2, 2, 4), ([1, 2], [2, 3]), ([0], [0])),
    ((5,), (2, 3), ([0], [1]), ((), ())),
]


@pytest.mark.parametrize("mode", ["full", "same", "valid"])
@pytest.mark.parametrize("case", AXES_CASES, ids=str)
def test_convolve_axes_and_dot_axes(case, mode):
    shape_a, shape_b, axes, dot_axes = case
    A, B = randn(shape_a), randn(shape_b)
    sizes = [(shape_a[i], shape_b[j]) for i, j in zip(*axes)]
    if mode == "valid" and not _valid_ok(*zip(*sizes)):
        return  # covered by test_valid_needs_one_larger_input
    result = gs.convolve(A, B, mode=mode, axes=axes, dot_axes=dot_axes)
    assert onp.allclose(result, loop_convolve(A, B, axes, dot_axes, mode))
    check_both_args(gs.convolve, A, B, mode=mode, axes=axes, dot_axes=dot_axes)


def test_autograd_positional_order():
    """autograd's signature is convolve(A, B, axes, dot_axes, mode); that positional order still works."""
    A, B = randn((2, 4, 3)), randn((3, 2, 5))
    axes, dot_axes = ([1], [2]), ([2], [0])
    expected = loop_convolve(A, B, axes, dot_axes, "valid")
    assert onp.allclose(gs.convolve(A, B, axes, dot_axes, "valid"), expected)
    assert onp.allclose(gs.convolve(A, B, axes, dot_axes), loop_convolve(A, B, axes, dot_axes, "full"))


def test_valid_needs_one_larger_input():
    with pytest.raises(ValueError, match="at least as large"):
        gs.convolve(randn((4, 3)), randn((2, 5)), "valid")
    with pytest.raises(ValueError, match="mode"):
        gs.convolve(randn((3,)), randn((3,)), "circular")


def test_gradient_closed_form():
    """d/da sum(u * (a * b)) is the correlation of u with b: a 'valid' convolution with b reversed."""
    a, b = randn((6,)), randn((3,))
    u = randn((8,))
    g = grad(lambda a: onp.sum(u * gs.convolve(a, b)))(a)
    assert onp.allclose(g, onp.convolve(u, b[::-1], "valid"))
    g = grad(lambda b: onp.sum(u * gs.fftconvolve(a, b)))(b)
    assert onp.allclose(g, onp.convolve(u, a[::-1], "valid"))


def test_other_functions_raise_naming_themselves():
    x = randn((5,))
    assert onp.allclose(gs.lfilter([1.0], [1.0, -0.5], x), ss.lfilter([1.0], [1.0, -0.5], x))  # plain values pass
    with pytest.raises(NotImplementedError, match="scipy.signal.lfilter"):
        grad(lambda x: onp.sum(gs.lfilter([1.0], [1.0, -0.5], x)))(x)
