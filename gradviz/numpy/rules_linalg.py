"""Rules for numpy.linalg: matrix functions and decompositions, batched over leading axes, in both modes.

Conventions (shared with the rest of the package):

* Complex: a VJP is the transpose of its JVP under the real pairing <G, dA> = Re(sum(G * dA)). Holomorphic
  functions (inv, det, solve, eig, matrix_power, ...) therefore have the real formulas with plain transposes, no
  conjugates; real-valued functions of complex matrices (norms, singular values, log|det|) have the gradient W with
  d f = Re(sum(W * dA)). A real argument gets the real part.
* Symmetric input (cholesky, eigh, eigvalsh, svd/pinv with hermitian=True): LAPACK reads one triangle only, but the
  rules treat the argument as the Hermitian matrix it stands for. The JVP uses the Hermitian part of the tangent,
  (dA + dA^H) / 2, and the VJP returns a Hermitian gradient (the Hermitian part of the unconstrained one). The two
  are transposes of each other, and for a function of a Hermitian argument, f(A) = cholesky((A + A^H) / 2), both
  agree with finite differences. UPLO does not change the rules.
* Gauges: eigenvectors (eig, eigh) and singular vectors (svd) are defined up to a phase (a sign, for real input).
  The rules pick one tangent in the gauge (eig: the published formula of Boeddeker et al. 2017 for unit-norm
  eigenvectors; eigh/svd: no change of phase along the vector itself, svd: the phase on U). Only gauge-invariant
  functions of them (eigenvalues, |v|^2, projectors, reconstructions) are well defined; for real input the
  vectors themselves are smooth too.
* Degenerate spectra (repeated eigenvalues or singular values, rank deficiency) have no derivative of the vectors;
  the rules divide by the gaps as the formulas do.

Results that NumPy returns as named tuples (SVDResult, EigResult, EighResult, QRResult, SlogdetResult) are traced
as tuples that also answer to their field names (``res.S``); their gradients and tangents are plain tuples.

``multi_dot`` takes a list of arrays, in which a primitive can't see traced values: here it is a Python function
that chains gradviz.numpy.dot in NumPy's optimal order, installed as gradviz.numpy.linalg.multi_dot.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any

import numpy as _np

from ..core.backward import defvjp, defvjp_argnum
from ..core.containers import SequenceBox, SequenceVSpace, container_take, make_sequence
from ..core.forward import def_linear, defjvp
from ..core.tracer import box_types, getval
from ..core.vspace import VSpace, vspace
from . import linalg as alinalg
from . import wrapped as anp
from .numpy_wrapper import publish
from .rules_products import (
    _conj,
    _cross_vjp,
    _matmul_vjp,
    _outer_vjp,
    _swap_last,
    _tensordot_vjp,
    _vector_ufunc_vjp,
)
from .rules_reductions import _trace_vjp
from .rules_shape import _def_gather
from .rules_util import cast_like, dtype_of, iscomplex, ndim_of, replace_zero, restore_reduced, shape_of, unbroadcast

__all__ = ["multi_dot"]


# --- named-tuple results as traced tuples


class _ResultBox(SequenceBox):
    """A traced SVDResult, EigResult, ...: a traced tuple whose items are also found by their field names."""

    __slots__ = ()

    def __getattr__(self, name: str) -> Any:
        result_type = type(getval(self)) if not name.startswith("_") else None
        fields = getattr(result_type, "_fields", ())
        if name in fields:
            return container_take(self, fields.index(name))
        raise AttributeError(f"{getattr(result_type, '__name__', 'the result')} has no attribute {name!r}")

    def __getitem__(self, index: Any) -> Any:
        if isinstance(index, slice):
            items = [container_take(self, i) for i in range(*index.indices(len(self._value)))]
            return make_sequence(tuple, *items)
        return container_take(self, index)


for _result in (_np.linalg.svd, _np.linalg.eig, _np.linalg.eigh, _np.linalg.qr, _np.linalg.slogdet):
    _result_type = type(_result(_np.eye(2)))
    _ResultBox.register(_result_type)
    VSpace.register(_result_type, lambda value: SequenceVSpace(tuple(value)))


# --- helpers: transposes, diagonals, gaps, Hermitian parts (all traced, so the rules can be differentiated)


def _T(x: Any) -> Any:
    return _swap_last(x)


def _H(x: Any) -> Any:
    """The conjugate transpose of the last two axes (the transpose for real x)."""
    return _conj(_swap_last(x))


def _herm(x: Any) -> Any:
    """The Hermitian (symmetric) part (x + x^H) / 2."""
    return (x + _H(x)) * 0.5


def _re(x: Any) -> Any:
    return anp.real(x) if iscomplex(x) else x


def _real_dtype(x: Any) -> _np.dtype:
    dtype = dtype_of(x)
    return _np.finfo(dtype).dtype if dtype.kind in "fc" else _np.dtype(float)


def _eye(n: int, like: Any) -> _np.ndarray:
    return _np.eye(n, dtype=_real_dtype(like))


def _row(v: Any) -> Any:
    """v (..., k) as (..., 1, k): multiplying a matrix by it scales its columns."""
    return anp.expand_dims(v, -2)


def _col(v: Any) -> Any:
    """v (..., k) as (..., k, 1): multiplying a matrix by it scales its rows."""
    return anp.expand_dims(v, -1)


def _diag(x: Any) -> Any:
    return anp.einsum("...ii->...i", x)


def _diag_embed(v: Any) -> Any:
    return _col(v) * _eye(shape_of(v)[-1], v)


def _inverse_gaps(w: Any) -> Any:
    """F with F[i, j] = 1 / (w[j] - w[i]) where w[j] != w[i], and 0 where they are equal (the diagonal, and
    repeated eigenvalues: there the eigenvectors are not unique, and a loss of the eigenvalues alone must not get
    0 * inf = NaN)."""
    gaps = _row(w) - _col(w)
    equal = (_np.asarray(getval(gaps)) == 0).astype(_real_dtype(w))
    return 1.0 / (gaps + equal) - equal


def _strict_lower(n: int, like: Any) -> _np.ndarray:
    return _np.tril(_np.ones((n, n), _real_dtype(like)), -1)


def _solve_vectors(a: Any, v: Any) -> Any:
    """a^-1 v for a stack of vectors v (..., m) (solve would read a 2-D v as a matrix)."""
    return alinalg.solve(a, _col(v))[..., 0]


def _expand2(v: Any) -> Any:
    """One value per matrix (...) as (..., 1, 1)."""
    return anp.expand_dims(v, (-2, -1))


def _tangent_tuple(*items: Any) -> Any:
    return make_sequence(tuple, *items)


def _zeros_like_value(x: Any) -> Any:
    return vspace(getval(x)).zeros()


# --- inv, det, slogdet


def _inv_jvp(g, ans, a):
    return -(ans @ g @ ans)


def _inv_vjp(ans, a):
    return lambda g: cast_like(a, -(_T(ans) @ g @ _T(ans)))


defvjp(alinalg.inv, _inv_vjp)
defjvp(alinalg.inv, _inv_jvp)


def _trace_of_inv_times(a: Any, da: Any) -> Any:
    """tr(a^-1 da) for each matrix of the stack."""
    return anp.sum(_T(alinalg.inv(a)) * da, axis=(-2, -1))


defvjp(alinalg.det, lambda ans, a: lambda g: cast_like(a, _expand2(g * ans) * _T(alinalg.inv(a))))
defjvp(alinalg.det, lambda g, ans, a: ans * _trace_of_inv_times(a, g))


def _slogdet_vjp(ans, a):
    """log|det A| has the gradient A^-T (real or complex A); the sign of a real A is constant; the sign s of a
    complex A moves with the phase of det A: ds = i s Im(tr(A^-1 dA))."""

    def vjp(g):
        g_sign, g_logabsdet = g[0], g[1]
        grad = _expand2(g_logabsdet)
        if iscomplex(a):
            grad = grad + 1j * _expand2(anp.imag(g_sign * ans[0]))
        return cast_like(a, grad * _T(alinalg.inv(a)))

    return vjp


def _slogdet_jvp(g, ans, a):
    change = _trace_of_inv_times(a, g)
    if iscomplex(a) or iscomplex(change):
        d_sign = ans[0] * 1j * anp.imag(change) if iscomplex(a) else _zeros_like_value(ans[0])
        return _tangent_tuple(d_sign, anp.real(change))
    return _tangent_tuple(_zeros_like_value(ans[0]), change)


defvjp(alinalg.slogdet, _slogdet_vjp)
defjvp(alinalg.slogdet, _slogdet_jvp)


# --- solve, tensorsolve, tensorinv


def _solve_is_vector(b: Any) -> bool:
    return ndim_of(b) == 1  # NumPy 2: b is a vector only when it is 1-D; else a (stack of) matrices


def _solve_vjp_b(ans, a, b):
    if _solve_is_vector(b):
        return lambda g: unbroadcast(b, _solve_vectors(_T(a), g))
    return lambda g: unbroadcast(b, alinalg.solve(_T(a), g))


def _solve_vjp_a(ans, a, b):
    if _solve_is_vector(b):
        return lambda g: unbroadcast(a, -_col(_solve_vectors(_T(a), g)) * _row(ans))
    return lambda g: unbroadcast(a, -alinalg.solve(_T(a), g) @ _T(ans))


def _solve_jvp_a(g, ans, a, b):
    if _solve_is_vector(b):
        return -_solve_vectors(a, anp.einsum("...ij,...j->...i", g, ans))
    return -alinalg.solve(a, g @ ans)


defvjp(alinalg.solve, _solve_vjp_a, _solve_vjp_b)
defjvp(alinalg.solve, _solve_jvp_a, "same")


def _tensorsolve_layout(a: Any, b: Any, axes: Any) -> tuple[list[int], tuple, int]:
    """As numpy.linalg.tensorsolve lays out a: (the permutation of a's axes, the permuted shape, the size n of
    the n x n matrix it is reshaped to)."""
    ndim = ndim_of(a)
    perm = list(range(ndim))
    if axes is not None:
        for k in axes:
            perm.remove(k % ndim)
            perm.append(k % ndim)
    moved = tuple(shape_of(a)[p] for p in perm)
    return perm, moved, math.prod(shape_of(b))


def _tensorsolve_matrix(a: Any, b: Any, axes: Any) -> Any:
    perm, _, n = _tensorsolve_layout(a, b, axes)
    return anp.reshape(anp.transpose(a, perm), (n, n))


def _tensorsolve_vjp_a(ans, a, b, axes=None):
    perm, moved, n = _tensorsolve_layout(a, b, axes)

    def vjp(g):
        grad_b = alinalg.solve(_T(_tensorsolve_matrix(a, b, axes)), anp.reshape(g, (n,)))
        grad = -anp.outer(grad_b, anp.reshape(ans, (n,)))
        return cast_like(a, anp.transpose(anp.reshape(grad, moved), tuple(_np.argsort(perm))))

    return vjp


def _tensorsolve_vjp_b(ans, a, b, axes=None):
    n = math.prod(shape_of(b))
    return lambda g: cast_like(b, anp.reshape(
        alinalg.solve(_T(_tensorsolve_matrix(a, b, axes)), anp.reshape(g, (n,))), shape_of(b)))


def _tensorsolve_jvp_a(g, ans, a, b, axes=None):
    n = math.prod(shape_of(b))
    change = _tensorsolve_matrix(g, b, axes) @ anp.reshape(ans, (n,))
    return -anp.reshape(alinalg.solve(_tensorsolve_matrix(a, b, axes), change), shape_of(ans))


defvjp(alinalg.tensorsolve, _tensorsolve_vjp_a, _tensorsolve_vjp_b)
defjvp(alinalg.tensorsolve, _tensorsolve_jvp_a, "same")


def _tensorinv_square(x: Any, k: int) -> Any:
    """x as a matrix: its first k axes are the rows (how tensorinv sees a, with k = ind, and its inverse)."""
    return anp.reshape(x, (math.prod(shape_of(x)[:k]), -1))


def _tensorinv_vjp(ans, a, ind=2):
    def vjp(g):
        inverse = _tensorinv_square(ans, ndim_of(a) - ind)
        grad = -_T(inverse) @ _tensorinv_square(g, ndim_of(a) - ind) @ _T(inverse)
        return cast_like(a, anp.reshape(grad, shape_of(a)))

    return vjp


def _tensorinv_jvp(g, ans, a, ind=2):
    inverse = _tensorinv_square(ans, ndim_of(a) - ind)
    return anp.reshape(-inverse @ _tensorinv_square(g, ind) @ inverse, shape_of(ans))


defvjp(alinalg.tensorinv, _tensorinv_vjp)
defjvp(alinalg.tensorinv, _tensorinv_jvp)


# --- matrix_power: d(A^n) = sum_k A^k dA A^(n-1-k); a negative n is the power of inv(A)


def _powers(a: Any, n: int) -> tuple[list[Any], Any]:
    """([B^0, ..., B^m], sign) with B = A, m = n for n >= 0, and B = inv(A), m = -n with an extra B for n < 0,
    so that d(A^n) = sign * sum_k P[k + shift] dA P[m - 1 - k]."""
    base = a if n >= 0 else alinalg.inv(a)
    powers = [_np.broadcast_to(_eye(shape_of(a)[-1], a), shape_of(a))]
    for _ in range(abs(n) + (1 if n < 0 else 0)):
        powers.append(powers[-1] @ base)
    return powers, (1.0 if n >= 0 else -1.0)


def _matrix_power_terms(a: Any, n: int) -> list[tuple[Any, Any]]:
    """[(left, right)] with d(A^n) = sum left @ dA @ right."""
    powers, sign = _powers(a, n)
    m = abs(n)
    if n >= 0:
        return [(powers[k], powers[m - 1 - k] * sign) for k in range(m)]
    return [(powers[k + 1], powers[m - k] * sign) for k in range(m)]


def _matrix_power_vjp(ans, a, n):
    def vjp(g):
        terms = _matrix_power_terms(a, int(n))
        if not terms:
            return None
        return cast_like(a, sum(_T(left) @ g @ _T(right) for left, right in terms))

    return vjp


def _matrix_power_jvp(g, ans, a, n):
    terms = _matrix_power_terms(a, int(n))
    return sum(left @ g @ right for left, right in terms) if terms else None


defvjp(alinalg.matrix_power, _matrix_power_vjp)
defjvp(alinalg.matrix_power, _matrix_power_jvp)


# --- pinv: Golub and Pereyra's derivative of the pseudo-inverse (constant rank)
# dP = -P dA P + P P^H dA^H (I - A P) + (I - P A) dA^H P^H P


def _pinv_tangent(da: Any, p: Any, a: Any) -> Any:
    da_h = _H(da)
    return (-(p @ da @ p) + (p @ _H(p)) @ (da_h - da_h @ (a @ p))
            + (da_h - p @ (a @ da_h)) @ (_H(p) @ p))


def _pinv_grad(g: Any, p: Any, a: Any) -> Any:
    """The transpose of _pinv_tangent: the gradient of A for the cotangent g of P."""
    g_h = _H(g)
    return (-(_T(p) @ g @ _T(p)) + (g_h - _conj(a @ p) @ g_h) @ _conj(p @ _H(p))
            + _conj(_H(p) @ p) @ (g_h - g_h @ _conj(p @ a)))


def _pinv_vjp(ans, a, *args, hermitian=False, **kwargs):
    hermitian = args[1] if len(args) > 1 else hermitian
    project = _herm if hermitian else (lambda x: x)
    return lambda g: cast_like(a, project(_pinv_grad(g, ans, a)))


def _pinv_jvp(g, ans, a, *args, hermitian=False, **kwargs):
    hermitian = args[1] if len(args) > 1 else hermitian
    return _pinv_tangent(_herm(g) if hermitian else g, ans, a)


defvjp(alinalg.pinv, _pinv_vjp)
defjvp(alinalg.pinv, _pinv_jvp)


# --- singular values: ds_k = Re(u_k^H dA v_k), so the gradient of s_k is conj(u_k vh_k)


def _reduced_svd(a: Any, hermitian: bool = False) -> Any:
    return alinalg.svd(a, full_matrices=False, hermitian=hermitian)


def _singular_values_tangent(da: Any, u: Any, vh: Any) -> Any:
    return _re(anp.einsum("...ik,...ij,...kj->...k", _conj(u), da, _conj(vh)))


def _singular_values_grad(gs: Any, u: Any, vh: Any) -> Any:
    return _conj(u @ (_col(gs) * vh))


def _svd_options(args: tuple, kwargs: dict) -> tuple[bool, bool, bool]:
    options = {"full_matrices": True, "compute_uv": True, "hermitian": False}
    options.update(zip(options, args), **kwargs)
    return options["full_matrices"], options["compute_uv"], options["hermitian"]


def _svd_parts(ans: Any) -> tuple[Any, Any, Any, Any]:
    """(U, s, Vh, V) of a reduced SVD result."""
    u, s, vh = ans[0], ans[1], ans[2]
    return u, s, vh, _H(vh)


def _svd_tangent(da: Any, ans: Any, a: Any) -> Any:
    """(dU, ds, dVh) of a reduced SVD; the phase of each singular pair moves with U (complex input)."""
    u, s, vh, v = _svd_parts(ans)
    dp = _H(u) @ da @ v
    dp_h = _H(dp)
    ds = _re(_diag(dp))
    gaps = _inverse_gaps(s * s)
    du = u @ (gaps * (dp * _row(s) + _col(s) * dp_h)) + (da @ v - u @ dp) / _row(s)
    if iscomplex(dp):
        du = du + u * _row(1j * anp.imag(_diag(dp)) / s)
    dv = v @ (gaps * (_col(s) * dp + dp_h * _row(s))) + (_H(da) @ u - v @ dp_h) / _row(s)
    return du, ds, _H(dv)


def _svd_grad(g: Any, ans: Any, a: Any) -> Any:
    """The transpose of _svd_tangent."""
    gu, gs, gvh = g[0], g[1], g[2]
    u, s, vh, v = _svd_parts(ans)
    gaps = _inverse_gaps(s * s)
    ut_gu = _T(u) @ gu
    x_u = gaps * ut_gu
    x_v = gaps * (_T(v) @ _H(gvh))
    inner = _diag_embed(gs) + (x_u + _H(x_u)) * _row(s) + _col(s) * (x_v + _H(x_v))
    if iscomplex(ut_gu) or iscomplex(u):
        inner = inner + _diag_embed(1j * anp.imag(_diag(ut_gu)) / s)
    vt = _conj(vh)  # V^T
    z = gvh / _col(s)
    return (_conj(u) @ inner @ vt + ((gu - _conj(u) @ ut_gu) / _row(s)) @ vt
            + _conj(u) @ (z - z @ _conj(v) @ vt))


def _svd_vjp(ans, a, *args, **kwargs):
    full_matrices, compute_uv, hermitian = _svd_options(args, kwargs)
    project = _herm if hermitian else (lambda x: x)
    if not compute_uv:
        def vjp(g):
            u, _, vh = _reduced_svd(a, hermitian)
            return cast_like(a, project(_singular_values_grad(g, u, vh)))
        return vjp
    _require_reduced_svd(a, full_matrices)
    return lambda g: cast_like(a, project(_svd_grad(g, ans, a)))


def _svd_jvp(g, ans, a, *args, **kwargs):
    full_matrices, compute_uv, hermitian = _svd_options(args, kwargs)
    g = _herm(g) if hermitian else g
    if not compute_uv:
        u, _, vh = _reduced_svd(a, hermitian)
        return _singular_values_tangent(g, u, vh)
    _require_reduced_svd(a, full_matrices)
    return _tangent_tuple(*_svd_tangent(g, ans, a))


def _require_reduced_svd(a: Any, full_matrices: bool) -> None:
    m, n = shape_of(a)[-2:]
    if full_matrices and m != n:
        raise NotImplementedError(
            "numpy.linalg.svd: the extra singular vectors of full_matrices=True (a non-square matrix) are not "
            "unique, so they have no derivative; use full_matrices=False (or compute_uv=False).")


defvjp(alinalg.svd, _svd_vjp)
defjvp(alinalg.svd, _svd_jvp)

if hasattr(alinalg, "svdvals"):
    defvjp(alinalg.svdvals, lambda ans, x: lambda g: cast_like(x, _singular_values_grad(g, *_uv(x))))
    defjvp(alinalg.svdvals, lambda g, ans, x: _singular_values_tangent(g, *_uv(x)))


def _uv(x: Any) -> tuple[Any, Any]:
    u, _, vh = _reduced_svd(x)
    return u, vh


# --- eigh and eigvalsh (Hermitian): dw = Re diag(V^H dA V), dV = V (F o (V^H dA V))


def _eigh_tangent(da: Any, w: Any, v: Any) -> tuple[Any, Any]:
    inner = _H(v) @ _herm(da) @ v
    return _re(_diag(inner)), v @ (_inverse_gaps(w) * inner)


def _eigh_grad(gw: Any, gv: Any, w: Any, v: Any) -> Any:
    inner = _diag_embed(gw)
    if gv is not None:
        inner = inner + _inverse_gaps(w) * (_T(v) @ gv)
    return _herm(_conj(v) @ inner @ _T(v))


def _eigh_vjp(ans, a, UPLO="L"):  # noqa: N803 (NumPy's name)
    return lambda g: cast_like(a, _eigh_grad(g[0], g[1], ans[0], ans[1]))


def _eigh_jvp(g, ans, a, UPLO="L"):  # noqa: N803
    return _tangent_tuple(*_eigh_tangent(g, ans[0], ans[1]))


defvjp(alinalg.eigh, _eigh_vjp)
defjvp(alinalg.eigh, _eigh_jvp)


def _eigvalsh_vjp(ans, a, UPLO="L"):  # noqa: N803
    def vjp(g):
        w, v = alinalg.eigh(a, UPLO)
        return cast_like(a, _eigh_grad(g, None, w, v))
    return vjp


def _eigvalsh_jvp(g, ans, a, UPLO="L"):  # noqa: N803
    w, v = alinalg.eigh(a, UPLO)
    return _eigh_tangent(g, w, v)[0]


defvjp(alinalg.eigvalsh, _eigvalsh_vjp)
defjvp(alinalg.eigvalsh, _eigvalsh_jvp)


# --- eig and eigvals (general): with S = V^-1 dA V, dw = diag(S) and dV = V (F o S), less the part of each column
# along itself that would change its (unit) norm (Boeddeker, Hanebrink, Drude, Haeb-Umbach 2017, appendix A).


def _eig_tangent(da: Any, w: Any, v: Any) -> tuple[Any, Any]:
    inner = alinalg.solve(v, da @ v)
    dv = v @ (_inverse_gaps(w) * inner)
    dv = dv - v * _row(_re(anp.sum(_conj(v) * dv, axis=-2)))
    return _diag(inner), dv


def _eig_grad(gw: Any, gv: Any, w: Any, v: Any) -> Any:
    inner = _diag_embed(gw)
    if gv is not None:
        along = _re(anp.sum(v * gv, axis=-2))
        inner = inner + _inverse_gaps(w) * (_T(v) @ (gv - _conj(v) * _row(along)))
    return alinalg.solve(_T(v), inner @ _T(v))


defvjp(alinalg.eig, lambda ans, a: lambda g: cast_like(a, _eig_grad(g[0], g[1], ans[0], ans[1])))
defjvp(alinalg.eig, lambda g, ans, a: _tangent_tuple(*_eig_tangent(g, ans[0], ans[1])))


def _eigvals_vjp(ans, a):
    def vjp(g):
        w, v = alinalg.eig(a)
        return cast_like(a, _eig_grad(g, None, w, v))
    return vjp


def _eigvals_jvp(g, ans, a):
    w, v = alinalg.eig(a)
    return _diag(alinalg.solve(v, g @ v))


defvjp(alinalg.eigvals, _eigvals_vjp)
defjvp(alinalg.eigvals, _eigvals_jvp)


# --- cholesky: A = L L^H gives L^-1 dA L^-H = L^-1 dL + (L^-1 dL)^H with L^-1 dL lower triangular (real diagonal),
# so dL = L Phi(L^-1 dA L^-H), Phi = the strictly lower part plus half the diagonal


def _phi(n: int, like: Any) -> _np.ndarray:
    return _strict_lower(n, like) + 0.5 * _eye(n, like)


def _cholesky_jvp(g, ans, a, upper=False):
    lower = _H(ans) if upper else ans
    lower_inv = alinalg.inv(lower)
    dl = lower @ ((lower_inv @ _herm(g) @ _H(lower_inv)) * _phi(shape_of(a)[-1], a))
    return _H(dl) if upper else dl


def _cholesky_vjp(ans, a, upper=False):
    def vjp(g):
        lower, g_lower = (_H(ans), _H(g)) if upper else (ans, g)
        lower_inv = alinalg.inv(lower)
        inner = (_T(lower) @ g_lower) * _phi(shape_of(a)[-1], a)
        return cast_like(a, _herm(_T(lower_inv) @ inner @ _conj(lower_inv)))
    return vjp


defvjp(alinalg.cholesky, _cholesky_vjp)
defjvp(alinalg.cholesky, _cholesky_jvp)


# --- qr (reduced): with C = Q^H dA R^-1, Q^H dQ = Omega = L(C) - L(C)^H (+ i Im diag C), dR = Q^H dA - Omega R,
# dQ = Q Omega + (I - Q Q^H) dA R^-1. A wide A = [X Y] is the QR of its square part X, and R2 = Q^H Y.


def _omega(c: Any) -> Any:
    low = c * _strict_lower(shape_of(c)[-1], c)
    omega = low - _H(low)
    if iscomplex(c):
        omega = omega + _diag_embed(1j * anp.imag(_diag(c)))
    return omega


def _qr_tall_tangent(da: Any, q: Any, r: Any) -> tuple[Any, Any]:
    r_inv = alinalg.inv(r)
    da_r_inv = da @ r_inv
    c = _H(q) @ da_r_inv
    omega = _omega(c)
    return q @ omega + da_r_inv - q @ c, _H(q) @ da - omega @ r


def _qr_tall_grad(gq: Any, gr: Any, q: Any, r: Any) -> Any:
    qt_gq = _T(q) @ gq
    x = qt_gq - gr @ _T(r)
    y = x * _strict_lower(shape_of(x)[-1], x) - _H(x) * _strict_lower(shape_of(x)[-1], x)
    if iscomplex(x):
        y = y + _diag_embed(1j * anp.imag(_diag(x)))
    return _conj(q) @ gr + (gq + _conj(q) @ (y - qt_gq)) @ _T(alinalg.inv(r))


def _qr_tangent(da: Any, q: Any, r: Any, a: Any) -> tuple[Any, Any]:
    m, n = shape_of(a)[-2:]
    if m >= n:
        return _qr_tall_tangent(da, q, r)
    dq, dr_square = _qr_tall_tangent(da[..., :, :m], q, r[..., :, :m])
    dr_rest = _H(dq) @ a[..., :, m:] + _H(q) @ da[..., :, m:]
    return dq, anp.concatenate([dr_square, dr_rest], axis=-1)


def _qr_grad(gq: Any, gr: Any, q: Any, r: Any, a: Any) -> Any:
    m, n = shape_of(a)[-2:]
    if m >= n:
        return _qr_tall_grad(gq, gr, q, r)
    rest, gr_rest = a[..., :, m:], gr[..., :, m:]
    grad_square = _qr_tall_grad(gq + _conj(rest) @ _H(gr_rest), gr[..., :, :m], q, r[..., :, :m])
    return anp.concatenate([grad_square, _conj(q) @ gr_rest], axis=-1)


def _qr_mode(args: tuple, kwargs: dict, a: Any) -> str:
    mode = args[0] if args else kwargs.get("mode", "reduced")
    m, n = shape_of(a)[-2:]
    if mode == "complete" and m <= n:
        return "reduced"  # the same factors
    if mode not in ("reduced", "r"):
        raise NotImplementedError(
            f"numpy.linalg.qr: mode={mode!r} has no derivative rule in gradviz (the extra columns of a complete Q "
            "are not unique, and 'raw' is LAPACK's internal form); use mode='reduced' or mode='r'.")
    return mode


def _qr_vjp(ans, a, *args, **kwargs):
    if _qr_mode(args, kwargs, a) == "r":
        def vjp_r(g):
            q, r = alinalg.qr(a)
            return cast_like(a, _qr_grad(_np.zeros(shape_of(q), dtype_of(q)), g, q, r, a))
        return vjp_r
    return lambda g: cast_like(a, _qr_grad(g[0], g[1], ans[0], ans[1], a))


def _qr_jvp(g, ans, a, *args, **kwargs):
    if _qr_mode(args, kwargs, a) == "r":
        q, r = alinalg.qr(a)
        return _qr_tangent(g, q, r, a)[1]
    return _tangent_tuple(*_qr_tangent(g, ans[0], ans[1], a))


defvjp(alinalg.qr, _qr_vjp)
defjvp(alinalg.qr, _qr_jvp)


# --- lstsq: the solution is pinv(a) b; the residuals |b - a x|^2 move only with b - a x (x is optimal);
# the singular values as in svd; the rank is constant.


def _lstsq_cutoff(a: Any, rcond: Any) -> float:
    m, n = shape_of(a)[-2:]
    return _np.finfo(_real_dtype(a)).eps * max(m, n) if rcond is None else rcond


def _lstsq_pinv(a: Any, rcond: Any) -> Any:
    return alinalg.pinv(a, rtol=_lstsq_cutoff(a, rcond))


def _has_residuals(ans: Any) -> bool:
    return shape_of(ans[1])[0] > 0


def _lstsq_error(ans: Any, a: Any, b: Any) -> Any:
    return b - (anp.einsum("ij,j->i", a, ans[0]) if ndim_of(b) == 1 else a @ ans[0])


def _lstsq_residuals_tangent(da: Any, db: Any, ans: Any, a: Any, b: Any) -> Any:
    """d|e|^2 = 2 Re(conj(e) de) per column, de = db - da x (the change of x drops out at the optimum)."""
    error = _lstsq_error(ans, a, b)
    change = (0 if db is None else db) - (0 if da is None else (
        anp.einsum("ij,j->i", da, ans[0]) if ndim_of(b) == 1 else da @ ans[0]))
    return anp.reshape(2.0 * anp.sum(_re(_conj(error) * change), axis=0), shape_of(ans[1]))


def _lstsq_tangent(da: Any, db: Any, ans: Any, a: Any, b: Any, rcond: Any) -> Any:
    p = _lstsq_pinv(a, rcond)
    if da is None:
        dx = anp.einsum("ij,j->i", p, db) if ndim_of(b) == 1 else p @ db
        ds = _zeros_like_value(ans[3])
    else:
        dp = _pinv_tangent(da, p, a)
        dx = anp.einsum("ij,j->i", dp, b) if ndim_of(b) == 1 else dp @ b
        ds = _singular_values_tangent(da, *_uv(a))
    residuals = _lstsq_residuals_tangent(da, db, ans, a, b) if _has_residuals(ans) else \
        _zeros_like_value(ans[1])
    return _tangent_tuple(dx, residuals, _zeros_like_value(ans[2]), ds)


def _lstsq_residual_weights(g: Any, ans: Any, a: Any, b: Any) -> Any:
    """2 conj(e) g_residuals, the gradient of b from the residuals (of a: minus it times x^T)."""
    g_residuals = g[1][0] if ndim_of(b) == 1 else _row(g[1])
    return 2.0 * _conj(_lstsq_error(ans, a, b)) * g_residuals


def _lstsq_vjp_a(ans, a, b, rcond=None):
    def vjp(g):
        gx = g[0]
        g_p = anp.outer(gx, b) if ndim_of(b) == 1 else gx @ _T(b)
        grad = _pinv_grad(g_p, _lstsq_pinv(a, rcond), a) + _singular_values_grad(g[3], *_uv(a))
        if _has_residuals(ans):
            weights = _lstsq_residual_weights(g, ans, a, b)
            grad = grad - (anp.outer(weights, ans[0]) if ndim_of(b) == 1 else weights @ _T(ans[0]))
        return cast_like(a, grad)
    return vjp


def _lstsq_vjp_b(ans, a, b, rcond=None):
    def vjp(g):
        p_t = _T(_lstsq_pinv(a, rcond))
        grad = anp.einsum("ij,j->i", p_t, g[0]) if ndim_of(b) == 1 else p_t @ g[0]
        if _has_residuals(ans):
            grad = grad + _lstsq_residual_weights(g, ans, a, b)
        return cast_like(b, grad)
    return vjp


defvjp(alinalg.lstsq, _lstsq_vjp_a, _lstsq_vjp_b)
defjvp(alinalg.lstsq, lambda g, ans, a, b, rcond=None: _lstsq_tangent(g, None, ans, a, b, rcond),
       lambda g, ans, a, b, rcond=None: _lstsq_tangent(None, g, ans, a, b, rcond))


# --- norms: each is real, with d norm = Re(sum(W * dx)) over the reduced axes for a weight W of x's shape.
# The VJP is g W (g spread back over the reduced axes), the JVP the reduced sum of Re(W dx).


def _sign(x: Any) -> Any:
    """d|x| = Re(sign(x) dx): sign(x) for real x (a constant), conj(x) / |x| for complex (0 at 0)."""
    if not iscomplex(x):
        return anp.sign(x)
    return _conj(x) / replace_zero(anp.abs(x), 1.0)


def _count_ties(x_abs: _np.ndarray, target: _np.ndarray, axis: Any, like: Any) -> _np.ndarray:
    """1/count where x_abs equals the (broadcast) target, 0 elsewhere: the gradient of a max or min, split evenly."""
    mask = x_abs == target
    return (mask / _np.maximum(_np.sum(mask, axis=axis, keepdims=True), 1)).astype(_real_dtype(like))


def _vector_weights(x: Any, ans: Any, ord: Any, axes: tuple, keepdims: bool) -> Any:  # noqa: A002
    norm = restore_reduced(ans, x, axes, keepdims)
    if ord is None or ord == 2:
        return _conj(x) / replace_zero(norm, 1.0)
    if ord in (_np.inf, -_np.inf):
        return _sign(x) * _count_ties(_np.abs(getval(x)), _np.asarray(getval(norm)), axes, x)
    if ord == 0:
        return None  # a count of the nonzero elements
    if ord == 1:
        return _sign(x)
    return _sign(x) * anp.abs(x) ** (ord - 1) * norm ** (1 - ord)


def _matrix_weights(x: Any, ans: Any, ord: Any, axes: tuple, keepdims: bool) -> Any:  # noqa: A002
    row, col = axes
    if ord in (None, "fro"):
        return _vector_weights(x, ans, 2, axes, keepdims)
    if ord in ("nuc", 2, -2):
        moved = anp.moveaxis(x, (row, col), (-2, -1))
        u, _, vh = _reduced_svd(moved)
        if ord == "nuc":
            weights = _conj(u @ vh)
        else:
            k = 0 if ord == 2 else min(shape_of(moved)[-2:]) - 1
            weights = _conj(u[..., :, k:k + 1] @ vh[..., k:k + 1, :])
        return anp.moveaxis(weights, (-2, -1), (row, col))
    if ord in (1, -1, _np.inf, -_np.inf):
        summed, other = (row, col) if ord in (1, -1) else (col, row)  # 1: column sums; inf: row sums
        x_abs = _np.abs(getval(x))
        sums = _np.sum(x_abs, axis=summed, keepdims=True)
        norm = _np.asarray(getval(restore_reduced(ans, x, axes, keepdims)))
        return _sign(x) * _count_ties(sums, norm, other, x)
    raise ValueError(f"numpy.linalg.norm: invalid norm order {ord!r} for matrices")


def _norm_layout(x: Any, ord: Any, axis: Any) -> tuple[str, tuple, Any]:  # noqa: A002
    """('vector' or 'matrix', the reduced axes, the order) as numpy.linalg.norm reads its arguments."""
    ndim = ndim_of(x)
    if axis is None:
        if ord is None:
            return "vector", tuple(range(ndim)), 2  # the 2-norm of the flattened array
        axis = tuple(range(ndim))
    if isinstance(axis, (int, _np.integer)):
        axis = (axis,)
    axis = tuple(int(a) % ndim for a in axis)
    return ("vector" if len(axis) == 1 else "matrix"), axis, ord


def _weights(kind: str, x: Any, ans: Any, ord: Any, axes: tuple, keepdims: bool) -> Any:  # noqa: A002
    if kind == "vector":
        return _vector_weights(x, ans, ord, axes, keepdims)
    return _matrix_weights(x, ans, ord, axes, keepdims)


def _def_norm(fun: Any, layout: Any) -> None:
    """Rules for a norm; ``layout(x, args, kwargs)`` -> (kind, axes, ord, keepdims)."""

    def vjp_maker(ans, x, *args, **kwargs):
        kind, axes, ord, keepdims = layout(x, args, kwargs)  # noqa: A001

        def vjp(g):
            weights = _weights(kind, x, ans, ord, axes, keepdims)
            return None if weights is None else cast_like(x, restore_reduced(g, x, axes, keepdims) * weights)
        return vjp

    def jvp(g, ans, x, *args, **kwargs):
        kind, axes, ord, keepdims = layout(x, args, kwargs)  # noqa: A001
        weights = _weights(kind, x, ans, ord, axes, keepdims)
        if weights is None:
            return None
        return anp.sum(_re(weights * g), axis=axes, keepdims=keepdims)

    defvjp(fun, vjp_maker)
    defjvp(fun, jvp)


def _norm_args(x, args, kwargs):
    options = {"ord": None, "axis": None, "keepdims": False}
    options.update(zip(options, args), **kwargs)
    kind, axes, ord = _norm_layout(x, options["ord"], options["axis"])  # noqa: A001
    return kind, axes, ord, options["keepdims"]


def _vector_norm_args(x, args, kwargs):
    axis = kwargs.get("axis")
    ndim = ndim_of(x)
    axes = tuple(range(ndim)) if axis is None else tuple(
        int(a) % ndim for a in ((axis,) if isinstance(axis, (int, _np.integer)) else axis))
    return "vector", axes, kwargs.get("ord", 2), kwargs.get("keepdims", False)


def _matrix_norm_args(x, args, kwargs):
    ndim = ndim_of(x)
    return "matrix", (ndim - 2, ndim - 1), kwargs.get("ord", "fro"), kwargs.get("keepdims", False)


_def_norm(alinalg.norm, _norm_args)
if hasattr(alinalg, "vector_norm"):
    _def_norm(alinalg.vector_norm, _vector_norm_args)
    _def_norm(alinalg.matrix_norm, _matrix_norm_args)


# --- cond: s_max / s_min for p = None, 2 (s_min / s_max for -2); else norm(x, p) * norm(inv(x), p)


def _cond_weights(x: Any, p: Any) -> Any:
    if p in (None, 2, -2):
        u, s, vh = _reduced_svd(x)
        first, last = (0, -1) if p != -2 else (-1, 0)
        kf = first % shape_of(s)[-1]
        kl = last % shape_of(s)[-1]
        top, bottom = s[..., kf], s[..., kl]
        w_top = _conj(u[..., :, kf:kf + 1] @ vh[..., kf:kf + 1, :])
        w_bottom = _conj(u[..., :, kl:kl + 1] @ vh[..., kl:kl + 1, :])
        return (w_top - _expand2(top / bottom) * w_bottom) / _expand2(bottom)
    if p not in ("fro", "nuc", 1, -1, _np.inf, -_np.inf):
        raise NotImplementedError(f"numpy.linalg.cond: p={p!r} has no derivative rule in gradviz.")
    axes = (ndim_of(x) - 2, ndim_of(x) - 1)
    inverse = alinalg.inv(x)
    norm_x = alinalg.norm(x, p, axis=(-2, -1))
    norm_inverse = alinalg.norm(inverse, p, axis=(-2, -1))
    w_x = _matrix_weights(x, norm_x, p, axes, False)
    w_inverse = _matrix_weights(inverse, norm_inverse, p, axes, False)
    # d norm(inv x) = Re sum(W_inv * (-X^-1 dx X^-1)) = Re sum(-(X^-T W_inv X^-T) * dx)
    return _expand2(norm_inverse) * w_x - _expand2(norm_x) * (_T(inverse) @ w_inverse @ _T(inverse))


def _cond_vjp(ans, x, p=None):
    return lambda g: cast_like(x, _expand2(g) * _cond_weights(x, p))


def _cond_jvp(g, ans, x, p=None):
    return anp.sum(_re(_cond_weights(x, p) * g), axis=(-2, -1))


defvjp(alinalg.cond, _cond_vjp)
defjvp(alinalg.cond, _cond_jvp)


# --- NumPy 2's own linalg functions: the products, trace, diagonal and transpose of the top-level tables, on the
# last axes


def _linalg_vecdot_vjp(argnum, ans, args, kwargs):
    """As top-level vecdot, with the vectors along ``axis`` moved last (and the gradient moved back)."""
    axis = kwargs.get("axis", -1)
    maker = _vector_ufunc_vjp("vecdot")
    if axis == -1:
        return maker(argnum, ans, args, {})
    moved = tuple(anp.moveaxis(x, axis, -1) for x in args[:2])
    grad = maker(argnum, ans, moved, {})
    return lambda g: anp.moveaxis(grad(g), -1, axis)


if hasattr(alinalg, "vecdot"):
    for _fun, _vjp in ((alinalg.matmul, _matmul_vjp), (alinalg.vecdot, _linalg_vecdot_vjp),
                       (alinalg.outer, _outer_vjp), (alinalg.cross, _cross_vjp),
                       (alinalg.tensordot, _tensordot_vjp)):
        defvjp_argnum(_fun, _vjp)
        def_linear(_fun)

    defvjp(alinalg.trace, lambda ans, x, offset=0, dtype=None: _trace_vjp(ans, x, offset, -2, -1, dtype))
    defjvp(alinalg.trace, "same")
    _def_gather(alinalg.diagonal)
    defvjp(alinalg.matrix_transpose, lambda ans, x: lambda g: cast_like(x, alinalg.matrix_transpose(g)))
    defjvp(alinalg.matrix_transpose, "same")


# --- multi_dot: a Python function over a list of arrays, chaining dot in the cheapest order


def _chain_order(dims: list[int]) -> list[list[int]]:
    """split[i][j]: where the cheapest product of matrices i..j splits (matrix i is dims[i] x dims[i + 1])."""
    n = len(dims) - 1
    cost = [[0] * n for _ in range(n)]
    split = [[0] * n for _ in range(n)]
    for length in range(1, n):
        for i in range(n - length):
            j = i + length
            cost[i][j] = math.inf
            for k in range(i, j):
                c = cost[i][k] + cost[k + 1][j] + dims[i] * dims[k + 1] * dims[j + 1]
                if c < cost[i][j]:
                    cost[i][j], split[i][j] = c, k
    return split


def _chain(arrays: list[Any], split: list[list[int]], i: int, j: int) -> Any:
    if i == j:
        return arrays[i]
    k = split[i][j]
    return anp.dot(_chain(arrays, split, i, k), _chain(arrays, split, k + 1, j))


_numpy_multi_dot = _np.linalg.multi_dot


def multi_dot(arrays: Sequence[Any], *, out: Any = None) -> Any:
    """numpy.linalg.multi_dot, traced in every array: gradviz.numpy.dot chained in the cheapest order."""
    arrays = list(arrays)
    if not any(type(a) in box_types for a in arrays):
        return _numpy_multi_dot([getval(a) for a in arrays], out=out)
    if out is not None:
        raise TypeError("numpy.linalg.multi_dot: out= writes the result into an existing array in place, which "
                        "gradviz can't trace. Drop out= and use the returned value.")
    if len(arrays) < 2:
        raise ValueError("Expecting at least two arrays.")
    ndims = [ndim_of(a) for a in arrays]
    if any(d != 2 for d in ndims[1:-1]) or ndims[0] not in (1, 2) or ndims[-1] not in (1, 2):
        raise ValueError("numpy.linalg.multi_dot: the first and last arrays must be 1-D or 2-D, the others 2-D.")
    dims = [shape_of(arrays[0])[0] if ndims[0] == 2 else 1]
    dims += [shape_of(a)[-1] for a in arrays[:-1]]
    dims += [shape_of(arrays[-1])[-1] if ndims[-1] == 2 else 1]
    return _chain(arrays, _chain_order(dims), 0, len(arrays) - 1)


alinalg.multi_dot = multi_dot
publish(_np.linalg, {"multi_dot": multi_dot})
