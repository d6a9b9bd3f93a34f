"""scipy.linalg as gradviz primitives, with VJP and JVP rules for the matrix functions and the solvers.

Every public function of scipy.linalg is a primitive here; one without a rule raises NotImplementedError naming
it when it meets a traced value. Rules:

- Analytic matrix functions (expm, logm, cosm, sinm, tanm, coshm, sinhm, tanhm, fractional_matrix_power): the
  Frechet derivative L_f(A, E) is the top-right block of f([[A, E], [0, A]]), so the JVP is f of a block matrix and
  the VJP is the same at A^T (<G, L_f(A, E)> = <L_f(A^T, G), E> for a power series; no conjugate, as in the
  package's complex convention). The rules call f itself, so they differentiate again to any order.
- sqrtm: X = sqrtm(A) gives dA = X dX + dX X, a Sylvester equation, solved with solve_sylvester (which has rules).
- solve_triangular, solve_banded, solve_sylvester: the usual implicit-function rules, reading only the entries
  SciPy reads (one triangle, the band).
- lu_factor is traced through its packed factor (the pivots are constants); lu_solve and cho_solve are two
  triangular solves, so their gradients flow into the factors and b.
- cholesky, det, inv, solve and eigh are Python functions over gradviz.numpy.linalg, whose rules give their
  derivatives; the triangle SciPy reads (lower=, assume_a=) is made explicit first, so gradients land there.

When nothing is traced, every function is SciPy's own, except that cho_factor leaves zeros (not SciPy's leftover
data) in the triangle cho_solve doesn't read. Traced eigenvectors from eigh may differ from SciPy's in sign.
"""

from __future__ import annotations

import functools
from typing import Any

import numpy as _np
import scipy.linalg as _sla

from .. import numpy as _gnp  # noqa: F401  (registers the NumPy rules the rules below compute with)
from ..core.backward import defvjp, defvjp_argnums
from ..core.forward import defjvp, defjvp_argnums
from ..core.tracer import NoTracePrimitive, Primitive, getval, isbox
from ..numpy import linalg as _gnp_linalg
from ..numpy import wrapped as anp
from ..numpy.numpy_wrapper import wrap_namespace
from ..numpy.rules_util import cast_like, iscomplex, ndim_of, shape_of, unbroadcast

_cache: dict[int, Primitive] = {}
wrap_namespace(vars(_sla), globals(), "scipy.linalg", _cache)

# Their output is a constant: a structure test, a LAPACK handle, or a matrix made from integers.
for _name in ("bandwidth", "issymmetric", "ishermitian", "get_blas_funcs", "get_lapack_funcs", "find_best_blas_type",
              "hadamard", "hilbert", "invhilbert", "pascal", "invpascal", "helmert", "dft"):
    globals()[_name] = NoTracePrimitive(getattr(_sla, _name), f"scipy.linalg.{_name}")


# --- small helpers: transposes, triangles, products that treat a 1-D right-hand side as a vector

def _T(x: Any) -> Any:
    return anp.swapaxes(x, -1, -2)


def _conj(x: Any) -> Any:
    return anp.conj(x) if iscomplex(x) else x


def _H(x: Any) -> Any:
    return _conj(_T(x))


def _traced(*values: Any) -> bool:
    return any(isbox(v) for v in values)


def _triangle(n: int, lower: bool, strict: bool = False) -> _np.ndarray:
    """The mask of the lower (or upper) triangle of an n x n matrix, without its diagonal if ``strict``."""
    ones = _np.ones((n, n), bool)
    return _np.tril(ones, -1 if strict else 0) if lower else _np.triu(ones, 1 if strict else 0)


def _matvec(m: Any, x: Any, vector: bool) -> Any:
    return anp.einsum("...ij,...j->...i", m, x) if vector else anp.matmul(m, x)


def _outer(y: Any, x: Any, vector: bool) -> Any:
    """y x^T: the gradient of a matrix M in M x, given y, the gradient of M x."""
    return anp.einsum("...i,...j->...ij", y, x) if vector else anp.matmul(y, _T(x))


def _block_upper(a: Any, e: Any) -> Any:
    """[[a, e], [0, a]]."""
    top = anp.concatenate([a, e], axis=-1)
    bottom = anp.concatenate([anp.zeros_like(e), a], axis=-1)
    return anp.concatenate([top, bottom], axis=-2)


def _self_adjoint(a: Any, lower: bool, hermitian: bool) -> Any:
    """The symmetric (Hermitian) matrix LAPACK sees when it reads one triangle of ``a``.

    Hermitian solvers take the diagonal as real.
    """
    n = shape_of(a)[-1]
    strict = a * _triangle(n, lower, strict=True)
    diagonal = a * _np.eye(n, dtype=bool)
    if hermitian and iscomplex(a):
        return strict + _H(strict) + anp.real(diagonal)
    return strict + _T(strict) + diagonal


# --- analytic matrix functions: the Frechet derivative is a block of f at a block matrix

def _frechet(f: Primitive, a: Any, e: Any, args: tuple, kwargs: dict) -> Any:
    """L_f(a, e), the derivative of f at a in the direction e: the top-right block of f([[a, e], [0, a]])."""
    n = shape_of(a)[-1]
    return f(_block_upper(a, e), *args, **kwargs)[..., :n, n:]


def _def_analytic(f: Primitive) -> None:
    defvjp(f, lambda ans, a, *args, **kwargs: lambda g: cast_like(a, _frechet(f, _T(a), g, args, kwargs)))
    defjvp(f, lambda g, ans, a, *args, **kwargs: cast_like(ans, _frechet(f, a, g, args, kwargs)))


for _f in (expm, logm, cosm, sinm, tanm, coshm, sinhm, tanhm, fractional_matrix_power):  # noqa: F821
    _def_analytic(_f)


def expm_frechet(A: Any, E: Any, method: str | None = None, compute_expm: bool = True,
                 check_finite: bool = True) -> Any:
    """scipy.linalg.expm_frechet, traced in A and E through expm of the block matrix [[A, E], [0, A]]."""
    if not _traced(A, E):
        return _sla.expm_frechet(A, E, method=method, compute_expm=compute_expm, check_finite=check_finite)
    n = shape_of(A)[-1]
    both = expm(_block_upper(A, E))  # noqa: F821
    frechet = both[..., :n, n:]
    return (both[..., :n, :n], frechet) if compute_expm else frechet


# --- solve_sylvester: a X + X b = q, so da X + a dX + dX b + X db = dq

def _sylvester_jvp(argnums: tuple, gs: list, ans: Any, args: tuple, kwargs: dict) -> Any:
    a, b, q = args
    tangents = dict(zip(argnums, gs))
    rhs = tangents.get(2, 0.0)
    if 0 in tangents:
        rhs = rhs - anp.matmul(tangents[0], ans)
    if 1 in tangents:
        rhs = rhs - anp.matmul(ans, tangents[1])
    return solve_sylvester(a, b, rhs)  # noqa: F821


def _sylvester_vjp(argnums: tuple, ans: Any, args: tuple, kwargs: dict) -> Any:
    a, b, q = args

    def vjp(g: Any) -> tuple:
        y = solve_sylvester(_T(a), _T(b), g)  # noqa: F821  (the adjoint equation a^T y + y b^T = g)
        grads = {0: lambda: -anp.matmul(y, _T(ans)), 1: lambda: -anp.matmul(_T(ans), y), 2: lambda: y}
        return tuple(unbroadcast(args[i], grads[i]()) for i in argnums)

    return vjp


defvjp_argnums(solve_sylvester, _sylvester_vjp)  # noqa: F821
defjvp_argnums(solve_sylvester, _sylvester_jvp)  # noqa: F821


# --- sqrtm: X = sqrtm(A), so dA = X dX + dX X

defjvp(sqrtm, lambda g, ans, a, *args, **kwargs: cast_like(ans, solve_sylvester(ans, ans, g)))  # noqa: F821
defvjp(sqrtm, lambda ans, a, *args, **kwargs:  # noqa: F821
       lambda g: cast_like(a, solve_sylvester(_T(ans), _T(ans), g)))  # noqa: F821


# --- solve_triangular: op(M) X = b, where M is the triangle of a that SciPy reads and op is 1, ^T or ^H

_TRANS = {0: 0, 1: 1, 2: 2, "N": 0, "T": 1, "C": 2}


@functools.wraps(_sla.solve_triangular)
def _solve_triangular(a: Any, b: Any, trans: int | str = 0, lower: bool = False, unit_diagonal: bool = False,
                      overwrite_b: bool = False, check_finite: bool = True) -> Any:
    # overwrite_b is dropped: b (or a tangent) may still be needed by a rule
    return _sla.solve_triangular(a, b, trans=trans, lower=lower, unit_diagonal=unit_diagonal,
                                 check_finite=check_finite)


solve_triangular = Primitive(_solve_triangular, "scipy.linalg.solve_triangular")


def _op(m: Any, trans: int) -> Any:
    return m if trans == 0 else _T(m) if trans == 1 else _H(m)


def _triangle_of(a: Any, lower: bool, unit_diagonal: bool) -> _np.ndarray:
    return _triangle(shape_of(a)[-1], lower, strict=unit_diagonal)


def _solve_tri(a: Any, r: Any, vector: bool, **kwargs: Any) -> Any:
    """solve_triangular with r a (batch of) vector(s) if ``vector``: SciPy takes a 2-D r as a matrix."""
    if vector and ndim_of(r) > 1:
        return solve_triangular(a, anp.expand_dims(r, -1), **kwargs)[..., 0]
    return solve_triangular(a, r, **kwargs)


def _solve_op_transpose(a: Any, g: Any, trans: int, lower: bool, unit_diagonal: bool, vector: bool) -> Any:
    """op(M)^{-T} g: the adjoint solve (no conjugate: the pairing is bilinear)."""
    if trans == 2 and (iscomplex(a) or iscomplex(g)):  # (M^H)^{-T} g = conj(M^{-1} conj(g))
        return _conj(_solve_tri(a, _conj(g), vector, trans=0, lower=lower, unit_diagonal=unit_diagonal))
    return _solve_tri(a, g, vector, trans=0 if trans else 1, lower=lower, unit_diagonal=unit_diagonal)


def _solve_triangular_vjp_a(ans: Any, a: Any, b: Any, trans: int | str = 0, lower: bool = False,
                            unit_diagonal: bool = False, **kwargs: Any) -> Any:
    trans = _TRANS[trans]

    def vjp(g: Any) -> Any:
        vector = ndim_of(b) == 1
        y = _solve_op_transpose(a, g, trans, lower, unit_diagonal, vector)
        grad = _op(-_outer(y, ans, vector), trans)  # <y, op(dM) X> = <op^T(y X^T), dM>
        return unbroadcast(a, grad * _triangle_of(a, lower, unit_diagonal))

    return vjp


def _solve_triangular_vjp_b(ans: Any, a: Any, b: Any, trans: int | str = 0, lower: bool = False,
                            unit_diagonal: bool = False, **kwargs: Any) -> Any:
    return lambda g: unbroadcast(b, _solve_op_transpose(a, g, _TRANS[trans], lower, unit_diagonal, ndim_of(b) == 1))


def _solve_triangular_jvp_a(g: Any, ans: Any, a: Any, b: Any, trans: int | str = 0, lower: bool = False,
                            unit_diagonal: bool = False, **kwargs: Any) -> Any:
    trans = _TRANS[trans]
    vector = ndim_of(b) == 1
    dm = _op(g * _triangle_of(a, lower, unit_diagonal), trans)
    return -_solve_tri(a, _matvec(dm, ans, vector), vector, trans=trans, lower=lower, unit_diagonal=unit_diagonal)


def _solve_triangular_jvp_b(g: Any, ans: Any, a: Any, b: Any, trans: int | str = 0, lower: bool = False,
                            unit_diagonal: bool = False, **kwargs: Any) -> Any:
    return _solve_tri(a, g, ndim_of(b) == 1, trans=_TRANS[trans], lower=lower, unit_diagonal=unit_diagonal)


defvjp(solve_triangular, _solve_triangular_vjp_a, _solve_triangular_vjp_b)
defjvp(solve_triangular, _solve_triangular_jvp_a, _solve_triangular_jvp_b)


# --- solve_banded: A X = b, with A in banded storage ab[u + i - j, j] = A[i, j] (ab 2-D; b 1-D or 2-D)

@functools.wraps(_sla.solve_banded)
def _solve_banded(l_and_u: tuple, ab: Any, b: Any, overwrite_ab: bool = False, overwrite_b: bool = False,
                  check_finite: bool = True) -> Any:
    return _sla.solve_banded(l_and_u, ab, b, check_finite=check_finite)


solve_banded = Primitive(_solve_banded, "scipy.linalg.solve_banded")


def _band_grid(l_and_u: tuple, n: int) -> tuple[int, int, _np.ndarray, _np.ndarray]:
    lower, upper = (int(k) for k in l_and_u)
    return lower, upper, _np.arange(lower + upper + 1)[:, None], _np.arange(n)[None, :]


def _band_matmul(dab: Any, x: Any, l_and_u: tuple) -> Any:
    """D x for the matrix D stored in band form as ``dab`` (x a matrix): (D x)[i] = sum_r dab[r, j] x[j], j = i+u-r."""
    n = shape_of(x)[0]
    lower, upper, r, i = _band_grid(l_and_u, n)
    j = i + upper - r
    inside = (j >= 0) & (j < n)
    j = _np.clip(j, 0, n - 1)
    coefficients = dab[r, j] * inside
    return anp.sum(anp.expand_dims(coefficients, -1) * x[j], axis=0)


def _band_of_outer(y: Any, x: Any, l_and_u: tuple) -> Any:
    """y x^T in band form: the gradient of ab in A x, given y, the gradient of A x (x, y matrices)."""
    n = shape_of(x)[0]
    lower, upper, r, j = _band_grid(l_and_u, n)
    i = r - upper + j
    inside = (i >= 0) & (i < n)
    return anp.sum(y[_np.clip(i, 0, n - 1)] * x, axis=-1) * inside


def _band_transpose(ab: Any, l_and_u: tuple) -> Any:
    """The band form of A^T (l and u swap): ab_T[r, j] = ab[l + u - r, j + r - l]."""
    n = shape_of(ab)[-1]
    lower, upper, r, j = _band_grid(l_and_u, n)
    column = j + r - lower
    inside = (column >= 0) & (column < n)
    rows = _np.broadcast_to(lower + upper - r, column.shape)
    return ab[rows, _np.clip(column, 0, n - 1)] * inside


def _as_matrix(x: Any, vector: bool) -> Any:
    return anp.expand_dims(x, -1) if vector else x


def _as_given(x: Any, vector: bool) -> Any:
    return x[..., 0] if vector else x


def _banded_adjoint_solve(l_and_u: tuple, ab: Any, g: Any) -> Any:
    lower, upper = l_and_u
    return solve_banded((upper, lower), _band_transpose(ab, l_and_u), g)


def _solve_banded_vjp_ab(ans: Any, l_and_u: tuple, ab: Any, b: Any, *args: Any, **kwargs: Any) -> Any:
    vector = ndim_of(b) == 1

    def vjp(g: Any) -> Any:
        y = _banded_adjoint_solve(l_and_u, ab, g)
        return cast_like(ab, -_band_of_outer(_as_matrix(y, vector), _as_matrix(ans, vector), l_and_u))

    return vjp


def _solve_banded_vjp_b(ans: Any, l_and_u: tuple, ab: Any, b: Any, *args: Any, **kwargs: Any) -> Any:
    return lambda g: cast_like(b, _banded_adjoint_solve(l_and_u, ab, g))


def _solve_banded_jvp_ab(g: Any, ans: Any, l_and_u: tuple, ab: Any, b: Any, *args: Any, **kwargs: Any) -> Any:
    vector = ndim_of(b) == 1
    rhs = _as_given(_band_matmul(g, _as_matrix(ans, vector), l_and_u), vector)
    return -solve_banded(l_and_u, ab, rhs)


def _solve_banded_jvp_b(g: Any, ans: Any, l_and_u: tuple, ab: Any, b: Any, *args: Any, **kwargs: Any) -> Any:
    return solve_banded(l_and_u, ab, g)


defvjp(solve_banded, None, _solve_banded_vjp_ab, _solve_banded_vjp_b)
defjvp(solve_banded, None, _solve_banded_jvp_ab, _solve_banded_jvp_b)


# --- LU: a[perm] = L U with L unit lower and U upper, packed into one matrix lu; the pivots are constants

def _permutation(piv: Any) -> _np.ndarray:
    """perm with a[perm] = L U, from LAPACK's pivots (row i was swapped with row piv[i], in order)."""
    perm = _np.arange(len(piv))
    for i, k in enumerate(_np.asarray(piv)):
        perm[i], perm[k] = perm[k], perm[i]
    return perm


_lu_of = Primitive(lambda a, lu, piv: lu, "scipy.linalg.lu_factor")  # lu, computed once, as a function of a


def _lu_parts(lu: Any) -> tuple[Any, Any, _np.ndarray, _np.ndarray]:
    n = shape_of(lu)[-1]
    below, upper = _triangle(n, True, strict=True), _triangle(n, False)
    return lu * below + _np.eye(n, dtype=bool), lu * upper, below, upper


def _lu_jvp(g: Any, ans: Any, a: Any, lu: Any, piv: Any) -> Any:
    """d(a[perm]) = dL U + L dU; with F = L^{-1} d(a[perm]) U^{-1}, dL = L (F below) and dU = (F upper) U."""
    unit_lower, upper, below_mask, upper_mask = _lu_parts(ans)
    f = solve_triangular(ans, anp.take(g, _permutation(piv), axis=0), lower=True, unit_diagonal=True)
    f = _T(solve_triangular(ans, _T(f), trans=1))
    return cast_like(ans, anp.matmul(unit_lower, f * below_mask) + anp.matmul(f * upper_mask, upper))


def _lu_vjp(ans: Any, a: Any, lu: Any, piv: Any) -> Any:
    unit_lower, upper, below_mask, upper_mask = _lu_parts(ans)
    unpermute = _np.argsort(_permutation(piv))

    def vjp(g: Any) -> Any:
        h = anp.matmul(_T(unit_lower), g) * below_mask + anp.matmul(g, _T(upper)) * upper_mask
        h = solve_triangular(ans, h, trans=1, lower=True, unit_diagonal=True)  # L^{-T} h
        h = _T(solve_triangular(ans, _T(h)))  # h U^{-T}
        return cast_like(a, anp.take(h, unpermute, axis=0))

    return vjp


defvjp(_lu_of, _lu_vjp, None, None)
defjvp(_lu_of, _lu_jvp, None, None)


def lu_factor(a: Any, overwrite_a: bool = False, check_finite: bool = True) -> tuple[Any, _np.ndarray]:
    """scipy.linalg.lu_factor, traced in a (square, 2-D) through the packed factor; the pivots are constants."""
    lu, piv = _sla.lu_factor(getval(a), check_finite=check_finite)
    if not isbox(a):
        return lu, piv
    if lu.ndim != 2 or lu.shape[0] != lu.shape[1]:
        raise NotImplementedError(
            f"scipy.linalg.lu_factor: gradviz differentiates the LU factors of one square matrix, not of a "
            f"{lu.shape} array.")
    return _lu_of(a, lu, piv), piv


def lu_solve(lu_and_piv: tuple, b: Any, trans: int = 0, overwrite_b: bool = False, check_finite: bool = True) -> Any:
    """scipy.linalg.lu_solve as two triangular solves and a permutation, traced in lu and b."""
    lu, piv = lu_and_piv
    if not _traced(lu, b):
        return _sla.lu_solve((lu, piv), b, trans=trans, check_finite=check_finite)
    perm = _permutation(getval(piv))
    trans = _TRANS[trans]
    if trans == 0:  # x = U^{-1} L^{-1} b[perm]
        y = solve_triangular(lu, anp.take(b, perm, axis=0), lower=True, unit_diagonal=True)
        return solve_triangular(lu, y)
    # a^T = U^T L^T P^T: x = P L^{-T} U^{-T} b (and the same with ^H)
    y = solve_triangular(lu, b, trans=trans)
    y = solve_triangular(lu, y, trans=trans, lower=True, unit_diagonal=True)
    return anp.take(y, _np.argsort(perm), axis=0)


# --- Cholesky: a = L L^H = U^H U

def cholesky(a: Any, lower: bool = False, overwrite_a: bool = False, check_finite: bool = True) -> Any:
    """scipy.linalg.cholesky (upper by default), over gradviz.numpy.linalg.cholesky of the triangle SciPy reads."""
    if not isbox(a):
        return _sla.cholesky(a, lower=lower, check_finite=check_finite)
    factor = _gnp_linalg.cholesky(_self_adjoint(a, lower, hermitian=True))
    return factor if lower else _H(factor)


def cho_factor(a: Any, lower: bool = False, overwrite_a: bool = False, check_finite: bool = True) -> tuple[Any, bool]:
    """scipy.linalg.cho_factor; the triangle cho_solve doesn't read holds zeros (SciPy leaves other data there)."""
    return cholesky(a, lower=lower, check_finite=check_finite), lower


def cho_solve(c_and_lower: tuple, b: Any, overwrite_b: bool = False, check_finite: bool = True) -> Any:
    """scipy.linalg.cho_solve as two triangular solves, traced in the factor c and in b."""
    c, lower = c_and_lower
    lower = bool(getval(lower))
    if not _traced(c, b):
        return _sla.cho_solve((c, lower), b, check_finite=check_finite)
    vector = ndim_of(b) == 1
    if lower:  # a = L L^H
        return _solve_tri(c, solve_triangular(c, b, lower=True), vector, trans=2, lower=True)
    return _solve_tri(c, solve_triangular(c, b, trans=2), vector)  # a = U^H U


# --- det, inv, solve, eigh: over gradviz.numpy.linalg

_SYMMETRIC = {"sym", "symmetric"}
_HERMITIAN = {"her", "hermitian", "pos", "positive definite"}


def _structured(a: Any, assume_a: str | None, lower: bool) -> Any:
    """The matrix SciPy's solvers see in ``a`` under ``assume_a``: the entries they read, made explicit."""
    if assume_a in (None, "gen", "general"):
        return a
    if assume_a in _SYMMETRIC or assume_a in _HERMITIAN:
        return _self_adjoint(a, lower, hermitian=assume_a in _HERMITIAN)
    n = shape_of(a)[-1]
    if assume_a == "diagonal":
        return a * _np.eye(n, dtype=bool)
    if assume_a in ("upper triangular", "lower triangular"):
        return a * _triangle(n, assume_a == "lower triangular")
    if assume_a == "tridiagonal":
        return a * (_np.abs(_np.subtract.outer(_np.arange(n), _np.arange(n))) <= 1)
    if assume_a == "banded":
        below, above = _sla.bandwidth(getval(a))
        offset = _np.subtract.outer(_np.arange(n), _np.arange(n))
        return a * ((offset <= below) & (-offset <= above))
    raise ValueError(f"scipy.linalg: unknown assume_a={assume_a!r}")


def det(a: Any, overwrite_a: bool = False, check_finite: bool = True) -> Any:
    """scipy.linalg.det, over gradviz.numpy.linalg.det."""
    if not isbox(a):
        return _sla.det(a, check_finite=check_finite)
    return _gnp_linalg.det(a)


def inv(a: Any, overwrite_a: bool = False, check_finite: bool = True, *, assume_a: str | None = None,
        lower: bool = False) -> Any:
    """scipy.linalg.inv, over gradviz.numpy.linalg.inv of the entries SciPy reads under assume_a."""
    if not isbox(a):
        return _sla.inv(a, check_finite=check_finite, assume_a=assume_a, lower=lower)
    return _gnp_linalg.inv(_structured(a, assume_a, lower))


def solve(a: Any, b: Any, lower: bool = False, overwrite_a: bool = False, overwrite_b: bool = False,
          check_finite: bool = True, assume_a: str | None = None, transposed: bool = False) -> Any:
    """scipy.linalg.solve, over gradviz.numpy.linalg.solve of the entries SciPy reads under assume_a."""
    if not _traced(a, b):
        return _sla.solve(a, b, lower=lower, check_finite=check_finite, assume_a=assume_a, transposed=transposed)
    m = _structured(a, assume_a, lower)
    return _gnp_linalg.solve(_T(m) if transposed else m, b)


def eigh(a: Any, b: Any = None, *, lower: bool = True, eigvals_only: bool = False, overwrite_a: bool = False,
         overwrite_b: bool = False, type: int = 1, check_finite: bool = True, subset_by_index: Any = None,
         subset_by_value: Any = None, driver: str | None = None) -> Any:
    """scipy.linalg.eigh, over gradviz.numpy.linalg.eigh of the triangle SciPy reads.

    With b, the generalized problem becomes a standard one through b's Cholesky factor. Traced eigenvectors may
    differ in sign (phase) from SciPy's own; the derivative of a sign-invariant quantity does not depend on it.
    """
    if not _traced(a, b):
        return _sla.eigh(a, b, lower=lower, eigvals_only=eigvals_only, type=type, check_finite=check_finite,
                         subset_by_index=subset_by_index, subset_by_value=subset_by_value, driver=driver)
    m = _self_adjoint(a, lower, hermitian=True)
    factor = None
    if b is not None:  # b = L L^H; type 1: L^{-1} a L^{-H}; types 2, 3: L^H a L
        factor = _gnp_linalg.cholesky(_self_adjoint(b, lower, hermitian=True))
        if type == 1:
            m = solve_triangular(factor, _H(solve_triangular(factor, m, lower=True)), lower=True)
        else:
            m = anp.matmul(_H(factor), anp.matmul(m, factor))
        m = (m + _H(m)) / 2 if iscomplex(m) else (m + _T(m)) / 2  # exactly self-adjoint, as LAPACK would see it
    if eigvals_only and subset_by_value is None and factor is None:
        w, v = _gnp_linalg.eigvalsh(m), None
    else:
        w, v = _gnp_linalg.eigh(m)
    keep = None
    if subset_by_index is not None:
        first, last = (int(k) for k in subset_by_index)
        keep = _np.arange(first, last + 1)
    elif subset_by_value is not None:
        low, high = subset_by_value
        values = getval(w)
        keep = _np.flatnonzero((values > low) & (values <= high))
    if keep is not None:
        w = anp.take(w, keep, axis=-1)
    if eigvals_only:
        return w
    if keep is not None:
        v = anp.take(v, keep, axis=-1)
    if factor is not None:  # back to the eigenvectors of the generalized problem
        v = solve_triangular(factor, v, trans=2, lower=True) if type in (1, 2) else anp.matmul(factor, v)
    return w, v


def eigvalsh(a: Any, b: Any = None, *, lower: bool = True, overwrite_a: bool = False, overwrite_b: bool = False,
             type: int = 1, check_finite: bool = True, subset_by_index: Any = None, subset_by_value: Any = None,
             driver: str | None = None) -> Any:
    """scipy.linalg.eigvalsh: eigh with eigvals_only=True."""
    return eigh(a, b, lower=lower, eigvals_only=True, type=type, check_finite=check_finite,
                subset_by_index=subset_by_index, subset_by_value=subset_by_value, driver=driver)
