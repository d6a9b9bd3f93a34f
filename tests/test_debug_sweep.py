"""No false alarms: the per-node VJP check passes every node of models that touch a broad set of gradviz's NumPy and
SciPy rules, at the domains and shapes the rule tests use (imported from them), in float64, float32 and complex.

Each test asserts that nothing fails, and that the nodes were really checked (passed, not skipped), by primitive.
"""

from __future__ import annotations

import warnings

import numpy as onp
import pytest
import test_numpy_elementwise as elementwise
import test_numpy_reductions as reductions
import test_scipy_special as special

import gradviz
import gradviz.numpy as np
import gradviz.scipy.signal as signal
import gradviz.scipy.special as sp
import gradviz.scipy.stats as stats
from gradviz.debug import check_vjps

F64, F32, C128 = onp.dtype("float64"), onp.dtype("float32"), onp.dtype("complex128")


def checked_names(report):
    return {check.name for check in report.passed}


def assert_clean(report, expected_names, allowed_skips=0):
    assert report.ok, str(report)
    missing = set(expected_names) - checked_names(report)
    assert not missing, f"not checked: {sorted(missing)}\n{report.table(everything=True)}"
    assert len(report.skipped) <= allowed_skips, report.table()


@pytest.fixture(autouse=True)
def quiet():
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        yield


@pytest.mark.parametrize("dtype", [F64, F32, C128], ids=str)
def test_every_elementwise_unary_rule(dtype):
    rows = [row for row in elementwise.UNARY if dtype.kind != "c" or row[2]]
    inputs = {name: elementwise.draw((2, 3), domain, dtype) for name, domain, _ in rows}

    def model(inputs):
        total = 0.0
        for name, _, _ in rows:
            y = getattr(np, name)(inputs[name])
            total = total + np.sum(np.real(y) * 0.7 + np.imag(y) * 0.3 if np.iscomplexobj(y) else y)
        return total

    report = check_vjps(model, inputs)
    # positive is the identity and conjugate of a real its no-op: a constant or no node at all
    names = {getattr(np, name).name for name, _, _ in rows} - {"positive", "conjugate"}
    assert_clean(report, names, allowed_skips=0)


@pytest.mark.parametrize("dtype", [F64, F32], ids=str)
def test_every_elementwise_binary_rule_with_broadcasting(dtype):
    cases = []
    for row in elementwise.BINARY:
        for shapes in [((2, 3), (3,)), ((2, 1), (1, 3)), ((), (2, 3))]:
            cases.append((row[0], *elementwise.draw_pair(shapes, row[1], row[2], row[3], dtype)))

    def model(pairs):
        total = 0.0
        for (name, _, _), (x, y) in zip(cases, pairs):
            total = total + np.sum(getattr(np, name)(x, y))
        return total

    pairs = [(x, y) for _, x, y in cases]
    report = check_vjps(model, pairs)
    assert_clean(report, {getattr(np, row[0]).name for row in elementwise.BINARY})
    binary_nodes = [c for c in report.passed if len(c.args) == 2]
    assert len(binary_nodes) >= len(cases) // 2


def test_every_reduction_over_axes_and_keepdims():
    cases = [(name, shape, axis, keepdims) for name in reductions.REDUCTIONS for shape, axis in reductions.CASES
             for keepdims in (False, True)]
    sizes = [int(onp.prod(shape)) for _, shape, _, _ in cases]
    ends = onp.cumsum(sizes)

    def model(flat):  # one input array, cut into the cases' arrays (a container of 180 would cost more to check)
        total = 0.0
        for (name, shape, axis, keepdims), end, size in zip(cases, ends, sizes):
            x = np.reshape(flat[end - size:end], shape)
            total = total + np.sum(np.sin(getattr(np, name)(x, axis=axis, keepdims=keepdims)))
        return total

    report = check_vjps(model, onp.random.randn(int(ends[-1])), directions=1)
    assert_clean(report, {getattr(np, name).name for name in reductions.REDUCTIONS}, allowed_skips=0)
    assert len(report.passed) > 3 * len(cases)


@pytest.mark.parametrize("dtype", [F64, F32], ids=str)
def test_scipy_special_rules(dtype):
    unary = {name: special.draw((3,), *domain[:2], dtype=dtype, signed=domain[2]) for name, domain in special.UNARY}
    binary = {name: (special.draw((2, 3), *dx, dtype=dtype), special.draw((3,), *dy, dtype=dtype))
              for name, dx, dy in special.BINARY}

    def model(unary, binary):
        total = 0.0
        for name, x in unary.items():
            total = total + np.sum(getattr(sp, name)(x))
        for name, (x, y) in binary.items():
            total = total + np.sum(getattr(sp, name)(x, y))
        return total

    report = check_vjps(model, unary, binary, argnum=(0, 1))
    assert_clean(report, {getattr(sp, name).name for name, _ in special.UNARY}
                 | {getattr(sp, name).name for name, _, _ in special.BINARY})


def test_linear_algebra_products_shapes_indexing_and_more():
    A = onp.random.randn(3, 3) + 3 * onp.eye(3)
    S = A @ A.T
    B = onp.random.randn(3, 4)

    def model(A, S, B):
        parts = [
            np.sum(np.linalg.solve(A, B)), np.linalg.det(A), np.linalg.slogdet(S)[1], np.sum(np.linalg.inv(A)),
            np.sum(np.linalg.cholesky(S)), np.sum(np.linalg.eigh(S)[0]), np.linalg.norm(B), np.trace(A),
            np.sum(np.linalg.svd(B, compute_uv=False)), np.sum(np.linalg.pinv(B)),
            np.sum(np.dot(A, B)), np.sum(np.matmul(B.T, A)), np.sum(np.einsum("ij,jk->ik", A, B)),
            np.sum(np.tensordot(A, B, axes=1)), np.sum(np.outer(A[0], B[1])), np.sum(np.kron(A[:2, :2], B[:2, :2])),
            np.inner(A[1], A[2]), np.vdot(B, B),
            np.sum(np.reshape(B, (4, 3)) * np.transpose(B)), np.sum(np.concatenate([A, B], axis=1) ** 2),
            np.sum(np.stack([A, S]) ** 3), np.sum(np.split(B, 2, axis=1)[1] ** 2),
            np.sum(np.squeeze(np.expand_dims(A, 0)) * np.flip(A, 0)), np.sum(np.roll(B, 1, axis=1) * B),
            np.sum(np.tile(A[0], 2) ** 2), np.sum(np.repeat(A[1], 2) ** 2), np.sum(np.pad(A, 1) ** 2),
            np.sum(np.moveaxis(np.stack([B, B]), 0, 2) ** 2), np.sum(np.swapaxes(B, 0, 1)[1:] ** 2),
            np.sum(A[[0, 2], 1:] ** 2), np.sum(B[B > 0] ** 2), np.sum(np.take(B, [1, 3], axis=1) ** 2),
            np.sum(np.where(A > 0, A, 2 * A)), np.sum(np.clip(B, -0.5, 0.5)), np.sum(np.sort(B, axis=1) * B),
            np.sum(np.cumsum(B, axis=1) ** 2), np.sum(np.cumprod(A[0] * 0.5)), np.sum(np.diff(B, axis=1) ** 2),
            np.var(B, axis=0).sum(), np.std(B), np.mean(A, axis=1).sum(), np.nanmean(B), np.nansum(A ** 2),
            np.sum(np.abs(np.fft.fft(B[0])) ** 2), np.sum(np.fft.rfft(B, axis=1).real),
            np.sum(np.fft.irfft(np.fft.rfft(B[0])) ** 2), np.sum(np.fft.fft2(A).imag ** 2),
            np.sum(np.triu(A) + np.tril(S)), np.sum(np.diag(A) ** 2), np.sum(np.linspace(A[0, 0], A[0, 1], 4) ** 2),
            np.sum(np.atleast_2d(A[0]) ** 2), np.sum(np.hstack([A, B])), np.sum(np.vstack([A, B.T[:1]])),
            np.sum(sp.logsumexp(B, axis=1)), np.sum(stats.norm.logpdf(B, A[0, 0], 2.0)),
            np.sum(signal.convolve(B[0], A[0]) ** 2), np.sum(sp.expit(B) * sp.gammaln(B ** 2 + 3)),
        ]
        total = 0.0
        for part in parts:
            total = total + part
        return total

    report = check_vjps(model, A, S, B, argnum=(0, 1, 2), directions=1)
    assert_clean(report, {"solve", "det", "slogdet", "inv", "cholesky", "eigh", "norm", "svd", "pinv", "dot",
                          "matmul", "einsum", "tensordot", "outer", "kron", "reshape", "transpose", "concatenate",
                          "sort", "cumsum", "cumprod", "fft", "rfft", "irfft", "where", "clip", "logsumexp"},
                 allowed_skips=10)
    assert len(report.passed) > 150


def test_every_shape_case():
    import test_numpy_shape as shape_tests

    xs = [onp.asarray(onp.random.randn(*shape)) for _, _, shape in shape_tests.CASES]

    def model(flat):
        total, start = 0.0, 0
        for _, fun, shape in shape_tests.CASES:
            size = int(onp.prod(shape))
            y = fun(np.reshape(flat[start:start + size], shape))
            start += size
            for item in (y if gradviz.isinstance(y, (list, tuple)) else [y]):  # split and the like give several
                total = total + np.sum(np.sin(item))
        return total

    report = check_vjps(model, onp.concatenate([x.ravel() for x in xs]), directions=1)
    assert_clean(report, {"reshape", "transpose", "flip", "roll", "tile", "repeat", "pad", "moveaxis"})
    assert len(report.passed) > 2 * len(shape_tests.CASES)


def test_every_scipy_stats_distribution():
    import test_scipy_stats as stats_tests

    cases = [(name, fun, stats_tests.arguments(params)) for name, params, _ in stats_tests.DISTRIBUTIONS
             for fun in stats_tests.CONTINUOUS]

    def model(all_args):
        total = 0.0
        for (name, fun, _), args in zip(cases, all_args):
            total = total + np.sum(getattr(getattr(stats, name), fun)(*args))
        return total

    report = check_vjps(model, [args for _, _, args in cases], directions=1)
    assert report.ok, str(report)
    assert len(report.passed) > len(cases)
