"""numpy.linalg rules: every function in both modes to second order, batched, float32 and complex where NumPy takes
them, plus closed forms.

Inputs are well conditioned: SPD matrices R R^T + n I, invertible ones R + n I, distinct eigenvalues and singular
values (random matrices). Functions of a symmetric (Hermitian) argument are checked as f(sym(A)), which is how the
symmetric gradient convention of the rules is meant to be read. Eigenvectors and singular vectors are checked
through gauge-invariant functions (|v|^2, projectors), since their phase (sign) is arbitrary.
"""

import numpy as onp
import pytest

import gradviz.numpy as np
from gradviz import grad, make_jvp
from gradviz.test_util import check_grads

BOTH = ("fwd", "rev")


def randn(shape, dtype=float):
    x = onp.random.randn(*shape)
    if onp.dtype(dtype).kind == "c":
        x = x + 1j * onp.random.randn(*shape)
    return onp.asarray(x, dtype)


def away_from_kinks(shape, dtype=float):
    """Entries of distinct sizes from 0.5 to 2.5, random signs (phases): no zeros, ties or near-ties in |x|, so
    that finite differences (float32 steps are 1e-2) don't cross a kink of a max, a min or an absolute value."""
    size = int(onp.prod(shape))
    magnitude = onp.random.permutation(onp.linspace(0.5, 2.5, size)).reshape(shape)
    if onp.dtype(dtype).kind == "c":
        return onp.asarray(magnitude * onp.exp(2j * onp.pi * onp.random.rand(*shape)), dtype)
    return onp.asarray(magnitude * onp.random.choice([-1, 1], shape), dtype)


def spread_singular_values(shape, dtype=float, axes=(-2, -1)):
    """A stack of matrices (in ``axes``) with singular values spread from 3 to 1: the extreme singular vectors are
    well separated, so that the second derivative of the 2-norm is well conditioned even with float32 steps."""
    moved = onp.moveaxis(randn(shape, dtype), axes, (-2, -1))
    u, s, vh = onp.linalg.svd(moved, full_matrices=False)
    spread = onp.linspace(3, 1, s.shape[-1])
    return onp.moveaxis((u * spread) @ vh, (-2, -1), axes).astype(dtype)


def invertible(n, batch=(), dtype=float):
    return onp.asarray(randn(batch + (n, n), dtype) + n * onp.eye(n), dtype)


def spd(n, batch=(), dtype=float):
    r = randn(batch + (n, n), dtype)
    return onp.asarray(r @ onp.conj(onp.swapaxes(r, -1, -2)) + n * onp.eye(n), dtype)


def sym(a):
    """The Hermitian part of a (traced): the argument as the rules for symmetric input read it."""
    return (a + np.conj(np.swapaxes(a, -1, -2))) / 2


def check(fun, *args, argnum=0, order=2):
    check_grads(fun, argnum=argnum, modes=BOTH, order=order)(*args)


def t(x):
    return onp.swapaxes(x, -1, -2)


DTYPES = [float, onp.float32, complex]


# --- inv, det, slogdet, solve, matrix_power, pinv


@pytest.mark.parametrize("dtype", DTYPES + [onp.complex64], ids=str)
@pytest.mark.parametrize("batch", [(), (2,)], ids=str)
def test_inv_det_slogdet(batch, dtype):
    a = invertible(3 if batch == () else 2, batch, dtype)
    check(np.linalg.inv, a)
    check(np.linalg.det, a)
    check(np.linalg.slogdet, a)  # the whole (sign, logabsdet) tuple: sign has zero gradient (real) or a phase
    check(lambda a: np.linalg.slogdet(a)[1], a)


def test_det_slogdet_closed_forms():
    a = invertible(3)
    assert onp.allclose(grad(lambda a: np.linalg.slogdet(a)[1])(a), onp.linalg.inv(a).T)
    assert onp.allclose(grad(np.linalg.det)(a), onp.linalg.det(a) * onp.linalg.inv(a).T)
    assert onp.allclose(grad(lambda a: np.log(np.abs(np.linalg.det(a))))(a), onp.linalg.inv(a).T)
    v = randn((3, 3))
    _, tangent = make_jvp(np.linalg.det)(a)(v)
    assert onp.allclose(tangent, onp.linalg.det(a) * onp.trace(onp.linalg.solve(a, v)))
    # slogdet's sign of a real matrix does not move
    assert onp.allclose(grad(lambda a: np.linalg.slogdet(a)[0])(a), 0)
    # log|det| of a complex matrix: the gradient is A^-T too (d = Re tr(A^-1 dA))
    z = invertible(3, dtype=complex)
    assert onp.allclose(grad(lambda z: np.linalg.slogdet(z)[1])(z), onp.linalg.inv(z).T)
    # the named fields work on traced results
    assert onp.allclose(grad(lambda a: np.linalg.slogdet(a).logabsdet)(a), onp.linalg.inv(a).T)


def test_inv_closed_form():
    # d tr(inv(A) B) / dA = -(A^-1 B A^-1)^T
    a, b = invertible(3), randn((3, 3))
    expected = -(onp.linalg.inv(a) @ b @ onp.linalg.inv(a)).T
    assert onp.allclose(grad(lambda a: np.trace(np.linalg.inv(a) @ b))(a), expected)
    v = randn((2, 3, 3))
    batch = invertible(3, (2,))
    _, tangent = make_jvp(np.linalg.inv)(batch)(v)
    inverse = onp.linalg.inv(batch)
    assert onp.allclose(tangent, -inverse @ v @ inverse)


@pytest.mark.parametrize("dtype", DTYPES, ids=str)
@pytest.mark.parametrize("shapes", [((3, 3), (3,)), ((3, 3), (3, 2)), ((2, 3, 3), (3,)), ((2, 3, 3), (2, 3, 2)),
                                    ((3, 3), (2, 3, 1)), ((2, 1, 3, 3), (4, 3, 2))], ids=str)
def test_solve(shapes, dtype):
    a = invertible(3, shapes[0][:-2], dtype)
    b = randn(shapes[1], dtype)
    check(np.linalg.solve, a, b, argnum=0)
    check(np.linalg.solve, a, b, argnum=1)


def test_solve_closed_form():
    a, b = invertible(3), randn((3,))
    assert onp.allclose(grad(lambda b: np.sum(np.linalg.solve(a, b)))(b), onp.linalg.solve(a.T, onp.ones(3)))
    x = onp.linalg.solve(a, b)
    assert onp.allclose(grad(lambda a: np.sum(np.linalg.solve(a, b)))(a),
                        -onp.outer(onp.linalg.solve(a.T, onp.ones(3)), x))


@pytest.mark.parametrize("n", [0, 1, 2, 3, -1, -2])
def test_matrix_power(n):
    a = invertible(3)
    check(lambda a: np.linalg.matrix_power(a, n), a)
    check(lambda a: np.linalg.matrix_power(a, n), invertible(2, (2,), complex))


def test_matrix_power_closed_form():
    a, v = invertible(3), randn((3, 3))
    _, tangent = make_jvp(lambda a: np.linalg.matrix_power(a, 2))(a)(v)
    assert onp.allclose(tangent, a @ v + v @ a)
    assert onp.allclose(grad(lambda a: np.sum(np.linalg.matrix_power(a, 0)))(a), 0)


@pytest.mark.parametrize("dtype", DTYPES, ids=str)
@pytest.mark.parametrize("shape", [(3, 3), (4, 2), (2, 3), (2, 3, 2)], ids=str)
def test_pinv(shape, dtype):
    check(np.linalg.pinv, randn(shape, dtype))


def test_pinv_hermitian_and_closed_form():
    check(lambda a: np.linalg.pinv(sym(a), hermitian=True), spd(3))
    a = invertible(3)  # full rank, square: pinv is inv
    assert onp.allclose(grad(lambda a: np.sum(np.linalg.pinv(a) ** 2))(a),
                        grad(lambda a: np.sum(np.linalg.inv(a) ** 2))(a))


# --- decompositions: cholesky, eigh, eig, svd, qr


@pytest.mark.parametrize("dtype", DTYPES, ids=str)
@pytest.mark.parametrize("upper", [False, True])
def test_cholesky(upper, dtype):
    check(lambda a: np.linalg.cholesky(sym(a), upper=upper), spd(3, (), dtype))
    check(lambda a: np.linalg.cholesky(sym(a), upper=upper), spd(2, (2,), dtype))


def test_cholesky_symmetric_convention():
    # log det A = 2 sum log diag(L): its gradient is inv(A), a symmetric matrix, even for a non-symmetric cotangent
    a = spd(3)
    g = grad(lambda a: 2 * np.sum(np.log(np.diagonal(np.linalg.cholesky(a)))))(a)
    assert onp.allclose(g, onp.linalg.inv(a))
    g = grad(lambda a: np.sum(np.linalg.cholesky(a) * randn((3, 3))))(a)
    assert onp.allclose(g, g.T)


@pytest.mark.parametrize("uplo", ["L", "U"])
@pytest.mark.parametrize("dtype", DTYPES, ids=str)
def test_eigh(dtype, uplo):
    a = randn((3, 3), dtype)
    # gauge-invariant: the eigenvalues and |v|^2 of each eigenvector's components
    check(lambda a: np.linalg.eigh(sym(a), UPLO=uplo)[0], a)
    check(lambda a: np.abs(np.linalg.eigh(sym(a), UPLO=uplo)[1]) ** 2, a)
    check(lambda a: np.linalg.eigvalsh(sym(a), UPLO=uplo), randn((2, 3, 3), dtype))


def test_eigh_real_vectors_and_closed_form():
    a = randn((3, 3))
    check(lambda a: np.linalg.eigh(sym(a)).eigenvectors, a)  # real: smooth up to a locally constant sign
    check(lambda a: np.linalg.eigh(sym(a)), randn((2, 2, 2)))
    s = spd(3)
    w, v = onp.linalg.eigh(s)
    for k in range(3):
        assert onp.allclose(grad(lambda a: np.linalg.eigh(a)[0][k])(s), onp.outer(v[:, k], v[:, k]))
        assert onp.allclose(grad(lambda a: np.linalg.eigvalsh(a)[k])(s), onp.outer(v[:, k], v[:, k]))


@pytest.mark.parametrize("dtype", DTYPES, ids=str)
def test_eig(dtype):
    # eigenvalues and |v|^2 (unit-norm eigenvectors; the phase is arbitrary). Random matrices have distinct
    # eigenvalues, so the second order is defined (at repeated eigenvalues the vectors have no derivative).
    a = randn((3, 3), dtype)
    check(lambda a: np.linalg.eig(a)[0], a)
    check(lambda a: np.abs(np.linalg.eig(a).eigenvectors) ** 2, a)
    check(np.linalg.eigvals, randn((2, 3, 3), dtype))


def test_eig_closed_forms():
    a = randn((3, 3))
    assert onp.allclose(grad(lambda a: np.real(np.sum(np.linalg.eigvals(a))))(a), onp.eye(3))  # the trace
    assert onp.allclose(grad(lambda a: np.real(np.sum(np.linalg.eigvals(a) ** 2)))(a), 2 * a.T)  # tr(A^2)
    w, v = onp.linalg.eig(a)
    left = onp.linalg.inv(v)  # rows: left eigenvectors, normalised so that left @ v = I
    for k in range(3):  # d w_k = left_k dA v_k, so the gradient of w_k is (left row k) outer (right column k)
        g = grad(lambda a: np.real(np.linalg.eig(a)[0][k]))(a)
        assert onp.allclose(g, onp.real(onp.outer(left[k], v[:, k])))


@pytest.mark.parametrize("dtype", DTYPES + [onp.complex64], ids=str)
@pytest.mark.parametrize("shape", [(3, 3), (3, 2), (2, 3), (2, 3, 2)], ids=str)
def test_svd(shape, dtype):
    a = randn(shape, dtype)
    check(lambda a: np.linalg.svd(a, compute_uv=False), a)
    u_s_vh = lambda a: np.linalg.svd(a, full_matrices=False)  # noqa: E731
    check(lambda a: u_s_vh(a)[1], a)
    # gauge invariant: |U|^2, |Vh|^2 and the rank-1 projectors u_k vh_k
    check(lambda a: [np.abs(u_s_vh(a)[0]) ** 2, np.abs(u_s_vh(a)[2]) ** 2], a)
    check(lambda a: np.einsum("...ik,...kj->...kij", u_s_vh(a).U, u_s_vh(a).Vh), a)
    if onp.dtype(dtype) == onp.float64:
        check(u_s_vh, a)  # real: the vectors are smooth up to a locally constant sign


def test_svd_options_and_closed_forms():
    a = randn((3, 3))
    check(np.linalg.svd, a)  # square: full_matrices=True is the reduced SVD
    check(lambda a: np.linalg.svd(sym(a), compute_uv=False, hermitian=True), spd(3))
    check(lambda a: np.linalg.svd(sym(a), hermitian=True).S, spd(3))
    u, s, vh = onp.linalg.svd(a)
    assert onp.allclose(grad(lambda a: np.linalg.svd(a, compute_uv=False)[0])(a), onp.outer(u[:, 0], vh[0]))
    with pytest.raises(NotImplementedError, match="full_matrices=False"):
        grad(lambda a: np.sum(np.linalg.svd(a)[0]))(randn((3, 2)))


@pytest.mark.parametrize("dtype", DTYPES, ids=str)
@pytest.mark.parametrize("shape", [(3, 3), (4, 2), (2, 4), (2, 3, 2)], ids=str)
def test_qr(shape, dtype):
    check(np.linalg.qr, randn(shape, dtype))
    check(lambda a: np.linalg.qr(a, mode="r"), randn(shape, dtype))


def test_qr_closed_form_and_modes():
    a, c = randn((4, 3)), randn((4, 3))
    assert onp.allclose(grad(lambda a: np.sum((np.linalg.qr(a).Q @ np.linalg.qr(a).R) * c))(a), c)
    check(lambda a: np.linalg.qr(a, mode="complete"), randn((2, 3)))
    with pytest.raises(NotImplementedError, match="mode='complete'"):
        grad(lambda a: np.sum(np.linalg.qr(a, mode="complete")[0]))(randn((3, 2)))


# --- lstsq, tensorsolve, tensorinv, multi_dot, cond


@pytest.mark.parametrize("dtype", DTYPES, ids=str)
@pytest.mark.parametrize("shapes", [((4, 2), (4,)), ((4, 2), (4, 3)), ((3, 3), (3,)), ((2, 3), (2, 2))], ids=str)
def test_lstsq(shapes, dtype):
    a, b = randn(shapes[0], dtype), randn(shapes[1], dtype)
    parts = lambda a, b: [r for i, r in enumerate(np.linalg.lstsq(a, b, rcond=None)) if i != 2]  # noqa: E731
    check(parts, a, b, argnum=0)
    check(parts, a, b, argnum=1)
    check(lambda a, b: np.linalg.lstsq(a, b)[0], a, b, argnum=0)


def test_lstsq_rank_deficient_with_rcond():
    # rank 1: rcond cuts the (near-)zero singular value, of a and of every matrix near it, so the solution is the
    # truncated pseudo-inverse times b at every step of the finite differences, and its derivative is defined
    a, b = onp.outer(randn((3,)), randn((2,))), randn((3,))
    check(lambda a, b: np.linalg.lstsq(a, b, rcond=1e-3)[0], a, b, argnum=0)
    check(lambda a, b: np.linalg.lstsq(a, b, 1e-3)[0], a, b, argnum=1)


def test_lstsq_closed_forms():
    a, b = randn((4, 2)), randn((4,))
    assert onp.allclose(grad(lambda b: np.sum(np.linalg.lstsq(a, b, rcond=None)[0]))(b),
                        onp.linalg.pinv(a).T @ onp.ones(2))
    x = onp.linalg.lstsq(a, b, rcond=None)[0]
    assert onp.allclose(grad(lambda b: np.linalg.lstsq(a, b, rcond=None)[1][0])(b), 2 * (b - a @ x))


def test_tensorsolve_tensorinv():
    a = randn((2, 3, 2, 3)) + 3 * onp.eye(6).reshape(2, 3, 2, 3)
    b = randn((2, 3))
    check(np.linalg.tensorsolve, a, b, argnum=0)
    check(np.linalg.tensorsolve, a, b, argnum=1)
    moved = onp.moveaxis(a, 0, 3)  # with axes=(0,): a's axis 0 goes last
    check(lambda a, b: np.linalg.tensorsolve(a, b, axes=(0,)), moved, b, argnum=0)
    check(lambda a, b: np.linalg.tensorsolve(a, b, axes=(0,)), moved, b, argnum=1)
    check(lambda a: np.linalg.tensorinv(a, ind=1), randn((6, 2, 3)) + 3 * onp.eye(6).reshape(6, 2, 3))
    check(np.linalg.tensorinv, a)


def test_multi_dot():
    a, b, c, v = randn((2, 3)), randn((3, 4)), randn((4, 2)), randn((3,))
    for arrays in ([a, b, c], [v, b, c], [a, b, c, randn((2,))], [a, b], [v, b, c, a, v]):
        for k in range(len(arrays)):
            def fun(x, k=k, arrays=arrays):
                return np.linalg.multi_dot(arrays[:k] + [x] + arrays[k + 1:])
            check(fun, arrays[k])
    # the same as the chained dots; and plain numpy.linalg.multi_dot on traced values finds it
    assert onp.allclose(grad(lambda b: np.sum(np.linalg.multi_dot([a, b, c])))(b),
                        grad(lambda b: np.sum(np.dot(np.dot(a, b), c)))(b))
    assert onp.allclose(grad(lambda b: np.sum(onp.linalg.multi_dot([a, b, c])))(b),
                        grad(lambda b: np.sum(np.dot(np.dot(a, b), c)))(b))


@pytest.mark.parametrize("p", [None, 2, -2, "fro", "nuc", 1, -1, onp.inf, -onp.inf], ids=str)
def test_cond(p):
    check(lambda a: np.linalg.cond(a, p), invertible(3))
    check(lambda a: np.linalg.cond(a, p), invertible(2, (2,)))


def test_cond_closed_form():
    a = randn((3, 2))
    u, s, vh = onp.linalg.svd(a, full_matrices=False)
    expected = onp.outer(u[:, 0], vh[0]) / s[1] - s[0] / s[1] ** 2 * onp.outer(u[:, 1], vh[1])
    assert onp.allclose(grad(np.linalg.cond)(a), expected)


# --- norms


VECTOR_ORDS = [None, 2, onp.inf, -onp.inf, 0, 1, -1, 3, 0.5, -2]
MATRIX_ORDS = [None, "fro", "nuc", onp.inf, -onp.inf, 1, -1, 2, -2]


@pytest.mark.parametrize("dtype", DTYPES, ids=str)
@pytest.mark.parametrize("ord", VECTOR_ORDS, ids=str)
def test_vector_norms(ord, dtype):
    x = away_from_kinks((2, 3), dtype)
    check(lambda x: np.linalg.norm(x, ord, axis=1), x)
    check(lambda x: np.linalg.norm(x, ord, axis=0, keepdims=True), x)
    check(lambda x: np.linalg.norm(x, ord), x[0])
    check(lambda x: np.linalg.vector_norm(x, ord=2 if ord is None else ord, axis=(0, 2)),
          away_from_kinks((2, 2, 3), dtype))
    check(lambda x: np.linalg.vector_norm(x, ord=2 if ord is None else ord, keepdims=True), x)


@pytest.mark.parametrize("dtype", DTYPES, ids=str)
@pytest.mark.parametrize("ord", MATRIX_ORDS, ids=str)
def test_matrix_norms(ord, dtype):
    def matrices(shape, axes=(-2, -1)):
        return spread_singular_values(shape, dtype, axes) if ord in (2, -2) else away_from_kinks(shape, dtype)

    check(lambda x: np.linalg.norm(x, ord), matrices((2, 3)))
    check(lambda x: np.linalg.norm(x, ord, axis=(2, 0), keepdims=True), matrices((3, 2, 2), (2, 0)))
    if ord is not None:
        check(lambda x: np.linalg.matrix_norm(x, ord=ord), matrices((2, 3, 2)))
    check(lambda x: np.linalg.norm(x), randn((2, 2, 2), dtype))  # ord None, axis None: the flattened 2-norm


def test_norm_closed_forms():
    x = randn((4,))
    assert onp.allclose(grad(np.linalg.norm)(x), x / onp.linalg.norm(x))
    assert onp.allclose(grad(lambda x: np.linalg.norm(x, 1))(x), onp.sign(x))
    assert onp.allclose(grad(lambda x: np.linalg.norm(x, onp.inf))(x),
                        onp.sign(x) * (onp.abs(x) == onp.abs(x).max()))
    assert onp.allclose(grad(lambda x: np.linalg.norm(x, 0))(x), 0)  # a count
    z = randn((4,), complex)
    assert onp.allclose(grad(np.linalg.norm)(z), onp.conj(z) / onp.linalg.norm(z))
    a = randn((3, 2))
    u, s, vh = onp.linalg.svd(a, full_matrices=False)
    assert onp.allclose(grad(lambda a: np.linalg.norm(a, "nuc"))(a), u @ vh)  # U V^T
    assert onp.allclose(grad(lambda a: np.linalg.norm(a, 2))(a), onp.outer(u[:, 0], vh[0]))
    assert onp.allclose(grad(lambda a: np.linalg.matrix_norm(a))(a), a / onp.linalg.norm(a))
    # float32 in, float32 gradient
    assert grad(lambda a: np.linalg.norm(a, "nuc"))(a.astype(onp.float32)).dtype == onp.float32


# --- NumPy 2's own linalg functions (distinct from the top-level ones)


def test_array_api_functions():
    a, b = randn((2, 3, 3)), randn((3, 3))
    v, w = randn((3,)), randn((2, 3))
    for argnum in (0, 1):
        check(lambda a, b: np.linalg.matmul(a, b) ** 2, a, b, argnum=argnum)
        check(lambda x, y: np.linalg.vecdot(x, y) ** 2, w, v, argnum=argnum)
        check(lambda x, y: np.linalg.vecdot(x, y, axis=0) ** 2, randn((3, 2, 3)), b, argnum=argnum)
        check(lambda x, y: np.linalg.outer(x, y) ** 2, v, w[0], argnum=argnum)
        check(lambda x, y: np.linalg.cross(x, y) ** 2, w, v, argnum=argnum)
        check(lambda x, y: np.linalg.cross(x, y, axis=0) ** 2, b, b[::-1], argnum=argnum)
        check(lambda a, b: np.linalg.tensordot(a, b) ** 2, a, b, argnum=argnum)
        check(lambda a, b: np.linalg.tensordot(a, b, axes=1) ** 2, a, b, argnum=argnum)
    z = randn((2, 3), complex)
    check(lambda x, y: np.linalg.vecdot(x, y) ** 2, z, z[::-1], argnum=0)
    for fun in (np.linalg.trace, lambda x: np.linalg.trace(x, offset=1), np.linalg.diagonal,
                lambda x: np.linalg.diagonal(x, offset=-1), np.linalg.matrix_transpose, np.linalg.svdvals):
        check(lambda x: fun(x) ** 2, randn((2, 3, 3)))
        check(lambda x: fun(x) ** 2, randn((3, 2), complex))
    assert onp.allclose(grad(lambda x: np.sum(np.linalg.trace(x)))(a), onp.broadcast_to(onp.eye(3), (2, 3, 3)))
    assert onp.allclose(grad(lambda x: np.sum(np.linalg.svdvals(x)))(b), grad(lambda x: np.linalg.norm(x, "nuc"))(b))


@pytest.mark.parametrize("name, fun, shape", [
    ("inv", np.linalg.inv, (2, 0, 0)), ("det", np.linalg.det, (2, 0, 0)),
    ("slogdet", lambda a: np.linalg.slogdet(a)[1], (2, 0, 0)), ("pinv", np.linalg.pinv, (0, 3)),
    ("solve", lambda a: np.linalg.solve(a, onp.ones((2, 0, 3))), (2, 0, 0)),
    ("eigh", lambda a: np.linalg.eigh(a), (2, 0, 0)), ("eig", lambda a: np.linalg.eig(a), (2, 0, 0)),
    ("cholesky", np.linalg.cholesky, (2, 0, 0)), ("qr", np.linalg.qr, (2, 3, 0)),
    ("svd", lambda a: np.linalg.svd(a, full_matrices=False), (3, 0)),
    ("svdvals", lambda a: np.linalg.svd(a, compute_uv=False), (2, 0, 3)),
    ("matrix_power", lambda a: np.linalg.matrix_power(a, 2), (2, 0, 0)),
    ("norm", np.linalg.norm, (0,)), ("norm axis", lambda x: np.linalg.norm(x, axis=1), (3, 0)),
    ("norm nuc", lambda a: np.linalg.norm(a, "nuc", axis=(1, 2)), (2, 0, 0)),
    ("norm 0-d", np.linalg.norm, ()), ("vector_norm 0-d", lambda x: np.linalg.vector_norm(x, ord=3), ()),
], ids=lambda v: v if isinstance(v, str) else "")
def test_empty_and_scalar(name, fun, shape):
    x = randn(shape)
    check(fun, x)
    if shape == ():
        assert onp.allclose(grad(fun)(x), onp.sign(x))


def test_eigh_with_repeated_eigenvalues_differentiates_a_loss_of_the_eigenvalues():
    # sum(w ** 2) of a symmetric S is ||S||_F^2, so the gradient in A (S = A + A.T) is 2 (S + S.T) = 4 S.
    a = onp.diag([1.0, 1.0, 0.5, 1.5])  # S = A + A.T has the eigenvalue 2 twice

    def loss(a):
        return np.sum(np.linalg.eigh(a + a.T)[0] ** 2)

    g = grad(loss)(a)
    assert onp.all(onp.isfinite(g))
    assert onp.allclose(g, 4 * (a + a.T))
    assert onp.allclose(g, grad(lambda a: np.sum(np.linalg.eigvalsh(a + a.T) ** 2))(a))
