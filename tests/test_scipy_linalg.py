"""gradviz.scipy.linalg: matrix functions, solvers and factorizations, in both modes, against finite differences
and closed forms.

Matrices are small and well conditioned: a strong diagonal for general and triangular matrices, R R^T + n I where
a symmetric positive definite one is needed, a spectrum near 2 for logm and sqrtm. cholesky, det, inv, solve and
eigh are built on gradviz.numpy.linalg and need its rules.
"""

import numpy as onp
import pytest
import scipy.linalg as sla

import gradviz.numpy as np
import gradviz.scipy.linalg as L
from gradviz import grad, make_jvp, make_vjp
from gradviz.core.tracer import Primitive
from gradviz.test_util import check_grads


def randn(shape, dtype=float):
    x = onp.random.randn(*shape)
    if onp.dtype(dtype).kind == "c":
        x = x + 1j * onp.random.randn(*shape)
    return onp.asarray(x, dtype)


def general(n, dtype=float, batch=()):
    """A well-conditioned matrix with its spectrum near 2 (so that logm and sqrtm stay away from the cut)."""
    return onp.asarray(0.3 * randn(batch + (n, n), dtype) + 2 * onp.eye(n), dtype)


def spd(n, dtype=float):
    r = randn((n, n), dtype)
    return onp.asarray(r @ r.conj().T + n * onp.eye(n), dtype)


def triangular(n, lower, dtype=float):
    a = 0.5 * randn((n, n), dtype) + 3 * onp.eye(n)
    return onp.tril(a) if lower else onp.triu(a)


def pair(u, v):
    return float(onp.real(onp.sum(u * v)))


# --- the namespace

def test_every_scipy_linalg_function_is_wrapped():
    public = [name for name in dir(sla) if not name.startswith("_") and callable(getattr(sla, name))
              and not isinstance(getattr(sla, name), type)]
    missing = [name for name in public if not callable(getattr(L, name, None))]
    assert not missing
    assert isinstance(L.qr, Primitive) and L.qr.qualname == "scipy.linalg.qr"
    a = general(3)
    assert onp.allclose(L.qr(a)[0], sla.qr(a)[0]) and onp.allclose(L.expm(a), sla.expm(a))


@pytest.mark.parametrize("mode", ["rev", "fwd"])
def test_function_without_rule_raises_naming_it(mode):
    fun = lambda a: np.sum(L.polar(a)[0])  # noqa: E731
    with pytest.raises(NotImplementedError, match="scipy.linalg.polar"):
        if mode == "rev":
            grad(fun)(general(3))
        else:
            make_jvp(fun)(general(3))(general(3))


def test_structure_tests_are_constants():
    a = spd(3)
    assert grad(lambda a: np.sum(a) * L.issymmetric(a))(a).shape == (3, 3)
    assert L.bandwidth(a) == sla.bandwidth(a)


# --- analytic matrix functions: the Frechet derivative from f of a block matrix

ANALYTIC = {
    "expm": L.expm, "logm": L.logm, "cosm": L.cosm, "sinm": L.sinm, "tanm": L.tanm, "coshm": L.coshm,
    "sinhm": L.sinhm, "tanhm": L.tanhm, "fractional_matrix_power": lambda a: L.fractional_matrix_power(a, 0.3),
}


@pytest.mark.parametrize("dtype", [float, complex])
@pytest.mark.parametrize("name", list(ANALYTIC))
def test_analytic_matrix_functions(name, dtype):
    check_grads(ANALYTIC[name])(general(3 if dtype is float else 2, dtype))


def test_expm_2x2_batched_and_float32():
    check_grads(L.expm)(general(2, batch=(2,)))
    check_grads(L.sqrtm)(general(2, batch=(2,)))
    a = general(3, onp.float32)
    check_grads(L.expm, order=1)(a)  # float32 finite differences are too coarse for a second derivative
    assert grad(lambda a: np.sum(L.expm(a)))(a).dtype == onp.float32


def test_expm_trace_closed_form():
    # d tr(expm(A)) / dA = expm(A)^T, and the tangent along V is tr(expm(A) V)
    a, v = general(3), randn((3, 3))
    assert onp.allclose(grad(lambda a: np.trace(L.expm(a)))(a), sla.expm(a).T)
    assert onp.isclose(make_jvp(lambda a: np.trace(L.expm(a)))(a)(v)[1], onp.trace(sla.expm(a) @ v))


@pytest.mark.parametrize("dtype", [float, complex])
def test_expm_rules_are_the_frechet_derivative_and_its_adjoint(dtype):
    # JVP: L(A, E); VJP: L(A^T, G) (Najfeld & Havel; no conjugate under the bilinear pairing)
    a, e, g = general(3, dtype), randn((3, 3), dtype), randn((3, 3), dtype)
    assert onp.allclose(make_jvp(L.expm)(a)(e)[1], sla.expm_frechet(a, e, compute_expm=False))
    assert onp.allclose(make_vjp(L.expm)(a)[0](g), sla.expm_frechet(a.T, g, compute_expm=False))
    assert onp.isclose(pair(g, make_jvp(L.expm)(a)(e)[1]), pair(make_vjp(L.expm)(a)[0](g), e))


def test_expm_frechet_traced_in_both_arguments():
    a, e = general(3), randn((3, 3))
    check_grads(lambda a: L.expm_frechet(a, e)[1])(a)
    check_grads(lambda e: L.expm_frechet(a, e, compute_expm=False))(e)
    traced_value = make_jvp(lambda a: L.expm_frechet(a, e)[1])(a)(e)[0]
    assert onp.allclose(traced_value, sla.expm_frechet(a, e)[1])


def test_logm_inverts_expm():
    # logm(expm(X)) = X near 0, so the gradient of <W, logm(expm(X))> is W, and its tangent along V is V
    x, w, v = 0.3 * randn((3, 3)), randn((3, 3)), randn((3, 3))
    assert onp.allclose(grad(lambda x: np.sum(w * L.logm(L.expm(x))))(x), w)
    assert onp.allclose(make_jvp(lambda x: L.logm(L.expm(x)))(x)(v)[1], v)
    # and d logm(A) is the inverse of d expm at logm(A)
    a = general(3)
    dx = make_jvp(L.logm)(a)(v)[1]
    assert onp.allclose(sla.expm_frechet(sla.logm(a), dx, compute_expm=False), v)


# --- sqrtm: a Sylvester equation

@pytest.mark.parametrize("dtype", [float, complex])
@pytest.mark.parametrize("n", [2, 3])
def test_sqrtm(n, dtype):
    check_grads(L.sqrtm)(general(n, dtype))
    check_grads(L.sqrtm)(spd(n, dtype))


def test_sqrtm_squares_back_and_solves_sylvester():
    a, w, v = spd(3), randn((3, 3)), randn((3, 3))
    x = L.sqrtm(a)
    assert onp.allclose(x @ x, a)
    # sqrtm(A) @ sqrtm(A) = A: the gradient of <W, that> is W, the tangent along V is V
    assert onp.allclose(grad(lambda a: np.sum(w * (L.sqrtm(a) @ L.sqrtm(a))))(a), w)
    assert onp.allclose(make_jvp(lambda a: L.sqrtm(a) @ L.sqrtm(a))(a)(v)[1], v)
    dx = make_jvp(L.sqrtm)(a)(v)[1]
    assert onp.allclose(x @ dx + dx @ x, v)
    check_grads(lambda a: L.sqrtm(a) @ L.sqrtm(a))(a)


# --- solve_sylvester: a X + X b = q

@pytest.mark.parametrize("dtype", [float, complex])
@pytest.mark.parametrize("argnum", [0, 1, 2])
def test_solve_sylvester(argnum, dtype):
    args = general(3, dtype), general(2, dtype), randn((3, 2), dtype)
    check_grads(L.solve_sylvester, argnum=argnum)(*args)


def test_solve_sylvester_closed_form_and_batch():
    a, b, q, w = general(3), general(2), randn((3, 2)), randn((3, 2))
    x = L.solve_sylvester(a, b, q)
    y = sla.solve_sylvester(a.T, b.T, w)  # the adjoint equation
    assert onp.allclose(grad(lambda q: np.sum(w * L.solve_sylvester(a, b, q)))(q), y)
    assert onp.allclose(grad(lambda a: np.sum(w * L.solve_sylvester(a, b, q)))(a), -y @ x.T)
    assert onp.allclose(grad(lambda b: np.sum(w * L.solve_sylvester(a, b, q)))(b), -x.T @ y)
    check_grads(L.solve_sylvester, argnum=2)(general(2, batch=(2,)), general(2), randn((2, 2, 2)))
    check_grads(L.solve_sylvester, argnum=0)(general(2, batch=(2,)), general(2), randn((2, 2)))


# --- solve_triangular

@pytest.mark.parametrize("rhs_shape", [(3,), (3, 2)], ids=["vector", "matrix"])
@pytest.mark.parametrize("unit_diagonal", [False, True])
@pytest.mark.parametrize("lower", [False, True])
@pytest.mark.parametrize("trans", [0, 1, 2, "C"])
def test_solve_triangular(trans, lower, unit_diagonal, rhs_shape):
    a, b = triangular(3, lower), randn(rhs_shape)
    fun = lambda a, b: L.solve_triangular(a, b, trans=trans, lower=lower, unit_diagonal=unit_diagonal)  # noqa: E731
    check_grads(fun, argnum=0)(a, b)
    check_grads(fun, argnum=1)(a, b)


@pytest.mark.parametrize("trans", [0, 1, 2])
def test_solve_triangular_complex(trans):
    a, b = triangular(3, True, complex), randn((3, 2), complex)
    fun = lambda a, b: L.solve_triangular(a, b, trans, True)  # noqa: E731  (trans and lower positionally)
    check_grads(fun, argnum=0)(a, b)
    check_grads(fun, argnum=1)(a, b)
    check_grads(fun, argnum=1)(a, randn((3, 2)))  # a real b gets a real gradient
    check_grads(fun, argnum=0)(a.real, b)
    assert grad(lambda b: np.real(np.sum(fun(a, b))))(b.real).dtype == float


def test_solve_triangular_batched_and_float32():
    a = onp.stack([triangular(3, False), triangular(3, False)])
    for b in (randn((3,)), randn((3, 2)), randn((2, 3, 2))):
        check_grads(L.solve_triangular, argnum=0)(a, b)
        check_grads(L.solve_triangular, argnum=1)(a, b)
    a32, b32 = triangular(3, True).astype(onp.float32), randn((3, 2)).astype(onp.float32)
    check_grads(lambda a, b: L.solve_triangular(a, b, lower=True), order=1)(a32, b32)
    assert grad(lambda a: np.sum(L.solve_triangular(a, b32, lower=True)))(a32).dtype == onp.float32


@pytest.mark.parametrize("unit_diagonal", [False, True])
@pytest.mark.parametrize("lower", [False, True])
def test_solve_triangular_closed_form_reads_one_triangle(lower, unit_diagonal):
    # M x = b with M the triangle SciPy reads: dL/db = M^{-T} w, dL/dM = -(M^{-T} w) x^T on that triangle only
    a, b, w = randn((3, 3)) + 3 * onp.eye(3), randn((3, 2)), randn((3, 2))
    mask = onp.tril(onp.ones((3, 3)), -unit_diagonal) if lower else onp.triu(onp.ones((3, 3)), unit_diagonal)
    m = a * mask + (onp.eye(3) if unit_diagonal else 0)
    x, y = onp.linalg.solve(m, b), onp.linalg.solve(m.T, w)
    loss = lambda a, b: np.sum(w * L.solve_triangular(a, b, lower=lower, unit_diagonal=unit_diagonal))  # noqa: E731
    assert onp.allclose(L.solve_triangular(a, b, lower=lower, unit_diagonal=unit_diagonal), x)
    assert onp.allclose(grad(loss, 1)(a, b), y)
    assert onp.allclose(grad(loss, 0)(a, b), -(y @ x.T) * mask)
    check_grads(loss)(a, b)  # a full (not triangular) a: its other triangle changes nothing


def test_solve_triangular_matches_solve():
    # the same gradient as a general solve with the triangle (needs gradviz.numpy.linalg.solve's rules)
    a, b = triangular(3, True), randn((3, 2))
    g_tri = grad(lambda a: np.sum(L.solve_triangular(a, b, lower=True) ** 2))(a)
    g_solve = grad(lambda a: np.sum(np.linalg.solve(np.tril(a), b) ** 2))(a)
    assert onp.allclose(g_tri, g_solve)


# --- solve_banded

def band(a, lower, upper):
    """a in LAPACK's band storage: ab[upper + i - j, j] = a[i, j]."""
    n = a.shape[-1]
    ab = onp.zeros((lower + upper + 1, n), a.dtype)
    for i in range(n):
        for j in range(max(0, i - lower), min(n, i + upper + 1)):
            ab[upper + i - j, j] = a[i, j]
    return ab


@pytest.mark.parametrize("rhs_shape", [(4,), (4, 2)], ids=["vector", "matrix"])
@pytest.mark.parametrize("l_and_u", [(1, 1), (1, 2), (0, 1), (2, 0)], ids=str)
def test_solve_banded(l_and_u, rhs_shape):
    ab, b = band(general(4), *l_and_u), randn(rhs_shape)
    check_grads(lambda ab, b: L.solve_banded(l_and_u, ab, b), argnum=0)(ab, b)
    check_grads(lambda ab, b: L.solve_banded(l_and_u, ab, b), argnum=1)(ab, b)


def test_solve_banded_complex():
    ab, b = band(general(3, complex), 1, 1), randn((3, 2), complex)
    check_grads(lambda ab: L.solve_banded((1, 1), ab, b))(ab)
    check_grads(lambda b: L.solve_banded((1, 1), ab, b))(b)


def test_solve_banded_closed_form():
    # the gradient in ab is -(A^{-T} w) x^T in band storage; the unused corners of ab get none
    a = general(4) * band_mask(4, 1, 2)
    ab, b, w = band(a, 1, 2), randn((4, 2)), randn((4, 2))
    x, y = onp.linalg.solve(a, b), onp.linalg.solve(a.T, w)
    loss = lambda ab, b: np.sum(w * L.solve_banded((1, 2), ab, b))  # noqa: E731
    assert onp.allclose(grad(loss, 1)(ab, b), y)
    g_ab = grad(loss, 0)(ab, b)
    assert onp.allclose(g_ab, band(-(y @ x.T), 1, 2))
    assert g_ab[0, :2].tolist() == [0, 0] and g_ab[1, 0] == 0 and g_ab[3, 3] == 0


def band_mask(n, lower, upper):
    offset = onp.subtract.outer(onp.arange(n), onp.arange(n))
    return (offset <= lower) & (-offset <= upper)


# --- LU: lu_factor traced through the packed factor, lu_solve through two triangular solves

def needs_pivoting(n, dtype=float):
    """A well-conditioned matrix whose rows come in an order partial pivoting changes."""
    return general(n, dtype)[onp.roll(onp.arange(n), 1)]


@pytest.mark.parametrize("dtype", [float, complex])
def test_lu_factor(dtype):
    a = needs_pivoting(3, dtype)
    assert list(sla.lu_factor(a)[1]) != list(range(3))
    check_grads(lambda a: L.lu_factor(a)[0])(a)
    # d(P^T A) = dL U + L dU, with dL strictly lower and dU upper
    v = randn((3, 3), dtype)
    lu, piv = sla.lu_factor(a)
    dlu = make_jvp(lambda a: L.lu_factor(a)[0])(a)(v)[1]
    lower, upper = onp.tril(lu, -1) + onp.eye(3), onp.triu(lu)
    perm = onp.argmax(sla.lu(a)[0], axis=0)  # the row of a behind each row of L U
    assert onp.allclose(onp.tril(dlu, -1) @ upper + lower @ onp.triu(dlu), v[perm])


@pytest.mark.parametrize("dtype", [float, complex])
@pytest.mark.parametrize("trans", [0, 1, 2])
def test_lu_solve_of_lu_factor_is_solve(trans, dtype):
    a, b, w = needs_pivoting(3, dtype), randn((3, 2), dtype), randn((3, 2), dtype)
    fun = lambda a, b: L.lu_solve(L.lu_factor(a), b, trans=trans)  # noqa: E731
    check_grads(fun, argnum=0)(a, b)
    check_grads(fun, argnum=1)(a, b)
    # closed form: op(A) x = b, so the gradient of <w, x> in b is op(A)^{-T} w, and in A follows by the chain rule
    op = [a, a.T, a.conj().T][trans]
    x, y = onp.linalg.solve(op, b), onp.linalg.solve(op.T, w)
    assert onp.allclose(fun(a, b), x)
    assert onp.allclose(grad(lambda b: np.real(np.sum(w * fun(a, b))))(b), y)
    grad_op = -y @ x.T
    expected = [grad_op, grad_op.T, grad_op.T.conj()][trans]
    if dtype is float:
        assert onp.allclose(grad(lambda a: np.sum(w * fun(a, b)))(a), expected)
    check_grads(lambda b: L.lu_solve(L.lu_factor(a), b, trans=trans))(randn((3,), dtype))


# --- Cholesky: cho_solve is differentiable in the factor and in b

@pytest.mark.parametrize("dtype", [float, complex])
@pytest.mark.parametrize("lower", [False, True])
def test_cho_solve_in_factor_and_b(lower, dtype):
    c = triangular(3, lower, dtype)
    for b in (randn((3,), dtype), randn((3, 2), dtype)):
        assert onp.allclose(L.cho_solve((c, lower), b), sla.cho_solve((c, lower), b))
        check_grads(lambda c, b: L.cho_solve((c, lower), b), argnum=0)(c, b)
        check_grads(lambda c, b: L.cho_solve((c, lower), b), argnum=1)(c, b)


def test_cho_solve_closed_form():
    c, b, w = triangular(3, True), randn((3, 2)), randn((3, 2))
    a = c @ c.T
    assert onp.allclose(grad(lambda b: np.sum(w * L.cho_solve((c, True), b)))(b), onp.linalg.solve(a, w))


# --- cholesky, det, inv, solve, eigh: over gradviz.numpy.linalg (its rules give the derivatives)

@pytest.mark.parametrize("dtype", [float, complex])
@pytest.mark.parametrize("lower", [None, False, True])
def test_cholesky(lower, dtype):
    a = spd(3, dtype)
    fun = L.cholesky if lower is None else lambda a: L.cholesky(a, lower=lower)  # noqa: E731
    traced = make_jvp(fun)(a)(a)[0]
    assert onp.allclose(traced, sla.cholesky(a, lower=bool(lower)))
    assert onp.allclose(traced, onp.triu(traced) if not lower else onp.tril(traced))  # upper by default
    check_grads(fun)(a)


def test_cho_factor_and_cho_solve_of_a():
    a, b, w = spd(3), randn((3, 2)), randn((3, 2))
    for lower in (False, True):
        fun = lambda a: L.cho_solve(L.cho_factor(a, lower=lower), b)  # noqa: E731
        check_grads(fun)(a)
        # SciPy reads one triangle of a: the gradient of <w, A^{-1} b>, -A^{-1} w x^T symmetrized, lands there
        x, y = onp.linalg.solve(a, b), onp.linalg.solve(a, w)
        full = -y @ x.T
        expected = onp.tril(full + full.T, -1) + onp.diag(onp.diag(full)) if lower else \
            onp.triu(full + full.T, 1) + onp.diag(onp.diag(full))
        assert onp.allclose(grad(lambda a: np.sum(w * fun(a)))(a), expected)


@pytest.mark.parametrize("n", [2, 3])
def test_det_and_inv(n):
    a = general(n)
    check_grads(L.det)(a)
    check_grads(L.inv)(a)
    assert onp.allclose(grad(lambda a: np.log(L.det(a)))(a), onp.linalg.inv(a).T)  # d log det A = A^{-T}
    check_grads(lambda a: L.inv(a, assume_a="pos", lower=True))(spd(n))
    check_grads(L.det)(general(n, complex))


@pytest.mark.parametrize("assume_a", [None, "gen", "sym", "pos", "her"])
@pytest.mark.parametrize("lower", [False, True])
def test_solve(assume_a, lower):
    a, b = spd(3), randn((3, 2))
    fun = lambda a, b: L.solve(a, b, lower=lower, assume_a=assume_a)  # noqa: E731
    assert onp.allclose(make_jvp(lambda a: fun(a, b))(a)(a)[0], sla.solve(a, b, assume_a=assume_a))
    check_grads(fun, argnum=0)(a, b)
    check_grads(fun, argnum=1)(a, b)
    check_grads(lambda a: L.solve(a, b[:, 0], transposed=True))(general(3))


def test_solve_reads_one_triangle_when_symmetric():
    # assume_a="pos" reads one triangle: a non-symmetric a solves as the symmetric matrix of that triangle
    a, b = spd(3) + onp.triu(randn((3, 3)), 1), randn((3,))
    sym_upper = onp.triu(a) + onp.triu(a, 1).T
    assert onp.allclose(make_jvp(lambda a: L.solve(a, b, assume_a="pos"))(a)(a)[0], onp.linalg.solve(sym_upper, b))
    g = grad(lambda a: np.sum(L.solve(a, b, assume_a="pos")))(a)
    assert onp.all(onp.tril(g, -1) == 0)


@pytest.mark.parametrize("lower", [True, False])
def test_eigh(lower):
    a = spd(3)
    check_grads(lambda a: L.eigh(a, lower=lower, eigvals_only=True))(a)
    check_grads(lambda a: L.eigvalsh(a, lower=lower))(a)
    # eigenvectors up to sign: check v * v, which is sign-free
    check_grads(lambda a: L.eigh(a, lower=lower)[1] ** 2)(a)
    w, v = sla.eigh(a)
    # d w_k / dA = v_k v_k^T, read from the lower triangle (off-diagonal entries count twice)
    g = grad(lambda a: L.eigh(a, lower=lower, eigvals_only=True)[2])(a)
    outer = onp.outer(v[:, 2], v[:, 2])
    expected = (onp.tril(2 * outer, -1) if lower else onp.triu(2 * outer, 1)) + onp.diag(onp.diag(outer))
    assert onp.allclose(g, expected)


def test_eigh_generalized_and_subsets():
    a, b = spd(3), spd(3)
    assert onp.allclose(make_jvp(lambda a: L.eigh(a, b, eigvals_only=True))(a)(a)[0], sla.eigh(a, b)[0])
    check_grads(lambda a: L.eigh(a, b, eigvals_only=True))(a)
    check_grads(lambda b: L.eigh(a, b)[1] ** 2)(b)
    check_grads(lambda a: L.eigh(a, subset_by_index=[1, 2])[0])(a)


# --- a Gaussian process, written as a user would

def gp_negative_log_likelihood(params, x, y):
    log_lengthscale, log_noise = params[0], params[1]
    sqdist = (x[:, None] - x[None, :]) ** 2
    k = np.exp(-0.5 * sqdist / np.exp(2 * log_lengthscale)) + np.exp(2 * log_noise) * np.eye(len(x))
    chol = L.cholesky(k, lower=True)
    alpha = L.solve_triangular(chol, y, lower=True)
    return 0.5 * np.sum(alpha ** 2) + np.sum(np.log(np.diag(chol))) + 0.5 * len(x) * np.log(2 * np.pi)


def test_gaussian_process_likelihood_gradient():
    x = onp.linspace(0, 3, 6)
    y = onp.sin(x) + 0.1 * randn((6,))
    params = onp.array([onp.log(0.8), onp.log(0.3)])
    check_grads(gp_negative_log_likelihood)(params, x, y)
    # closed form: d NLL / d theta = 1/2 tr((K^{-1} - alpha alpha^T) dK/d theta)
    ell, noise = onp.exp(params)
    sqdist = onp.subtract.outer(x, x) ** 2
    kernel = onp.exp(-0.5 * sqdist / ell ** 2)
    k = kernel + noise ** 2 * onp.eye(6)
    k_inv = onp.linalg.inv(k)
    alpha = k_inv @ y
    dk = [kernel * sqdist / ell ** 2, 2 * noise ** 2 * onp.eye(6)]
    expected = [0.5 * onp.trace((k_inv - onp.outer(alpha, alpha)) @ d) for d in dk]
    assert onp.allclose(grad(gp_negative_log_likelihood)(params, x, y), expected)
