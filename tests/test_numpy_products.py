"""Product rules: dot, matmul, tensordot, einsum, inner, outer, vdot, kron, cross.

Each product is checked in both arguments, in both modes, to second order. The functions square the product so
that the second derivative is not zero and the rules run on traced cotangents and tangents.
"""

import warnings

import numpy as onp
import pytest

import gradviz.numpy as np
from gradviz import grad, make_jvp
from gradviz.test_util import check_grads


def randn(shape, dtype=float):
    x = onp.random.randn(*shape)
    if onp.dtype(dtype).kind == "c":
        x = x + 1j * onp.random.randn(*shape)
    return onp.asarray(x, dtype)


def check_both(fun, *shapes, dtype=float):
    """check_grads of fun(*args) ** 2 in each argument, in both modes, to order 2."""
    args = [randn(shape, dtype) for shape in shapes]
    for argnum in range(len(args)):
        check_grads(lambda *a: fun(*a) ** 2, argnum=argnum)(*args)


DOT_SHAPES = [((), ()), ((), (2, 3)), ((3,), ()), ((3,), (3,)), ((2, 3), (3,)), ((3,), (3, 4)), ((2, 3), (3, 4)),
              ((2, 2, 3), (4, 3, 2)), ((3,), (2, 3, 4)), ((2, 1, 3), (3,))]


@pytest.mark.parametrize("shapes", DOT_SHAPES, ids=str)
def test_dot(shapes):
    check_both(np.dot, *shapes)


@pytest.mark.parametrize("shapes", [((3,), (3,)), ((2, 3), (3,)), ((3,), (3, 4)), ((2, 3), (3, 4)),
                                    ((5, 1, 2, 3), (4, 3, 2)), ((3,), (4, 3, 2)), ((4, 2, 3), (3,)),
                                    ((1, 2, 3), (3, 3, 2)), ((2, 2, 3), (3, 4)), ((3, 3), (2, 1, 3, 2))], ids=str)
def test_matmul(shapes):
    check_both(np.matmul, *shapes)


def test_matmul_operator_and_broadcast_batch_gradient():
    a, b = randn((4, 1, 2, 3)), randn((5, 3, 2))
    check_both(lambda a, b: a @ b, a.shape, b.shape)
    # the batch axes broadcast: A's gradient sums over B's batch of 5, B's over A's batch of 4
    g_a = grad(lambda a: np.sum(a @ b))(a)
    assert onp.allclose(g_a, onp.broadcast_to(onp.ones((2, 2)) @ b.sum(axis=0).T, a.shape))
    g_b = grad(lambda b: np.sum(a @ b))(b)
    assert onp.allclose(g_b, onp.broadcast_to(a.sum(axis=(0, 1)).T @ onp.ones((2, 2)), b.shape))


@pytest.mark.parametrize("dtype", [onp.complex128, onp.float32, onp.complex64])
@pytest.mark.parametrize("fun", [np.dot, np.matmul, np.inner, lambda a, b: np.tensordot(a, b, ([1], [0]))],
                         ids=["dot", "matmul", "inner", "tensordot"])
def test_products_complex_and_float32(fun, dtype):
    check_both(fun, (2, 3), (3, 3), dtype=dtype)
    a, b = randn((2, 3), dtype), randn((3, 3), dtype)
    assert grad(lambda a: np.real(np.sum(fun(a, b))))(a).dtype == dtype


def test_matmul_of_complex_has_no_conjugate():
    # sum(A @ B) is holomorphic in A; its gradient is ones @ B^T, not ones @ conj(B)^T
    a, b = randn((2, 3), complex), randn((3, 4), complex)
    g = grad(lambda a: np.real(np.sum(a @ b)))(a)
    assert onp.allclose(g, onp.ones((2, 4)) @ b.T)
    g_real_a = grad(lambda a: np.real(np.sum(a @ b)))(a.real)  # a real argument gets a real gradient
    assert g_real_a.dtype == float and onp.allclose(g_real_a, (onp.ones((2, 4)) @ b.T).real)


def test_closed_forms():
    a, b = randn((3, 4)), randn((4, 3))
    assert onp.allclose(grad(lambda a: np.sum(a @ b))(a), onp.ones((3, 3)) @ b.T)
    assert onp.allclose(grad(lambda b: np.sum(a @ b))(b), a.T @ onp.ones((3, 3)))
    assert onp.allclose(grad(lambda a: np.einsum("ii", a @ b))(a), b.T)  # the trace of A @ B
    assert onp.allclose(grad(lambda a: np.trace(np.dot(a, b)))(a), b.T)


def test_quadratic_form_closed_form():
    m, x = randn((3, 3)), randn((3,))
    assert onp.allclose(grad(lambda x: x @ m @ x)(x), (m + m.T) @ x)
    assert onp.allclose(grad(lambda x: np.dot(x, np.dot(m, x)))(x), (m + m.T) @ x)


def test_einsum_matches_matmul_gradients():
    a, b, c = randn((2, 3)), randn((3, 4)), randn((2, 4))

    def loss(product):
        return lambda a, b: np.sum(np.sin(product(a, b)) * c)

    for argnum in (0, 1):
        via_einsum = grad(loss(lambda a, b: np.einsum("ij,jk->ik", a, b)), argnum)(a, b)
        via_matmul = grad(loss(np.matmul), argnum)(a, b)
        assert onp.allclose(via_einsum, via_matmul)
    v = randn((2, 3))
    assert onp.allclose(make_jvp(lambda a: np.einsum("ij,jk->ik", a, b))(a)(v)[1], v @ b)


@pytest.mark.parametrize("axes, shapes", [
    (0, ((2, 3), (2,))), (1, ((2, 3), (3, 4))), (2, ((2, 3, 4), (3, 4, 2))), (([0, 2], [1, 0]), ((2, 3, 4), (4, 2, 5))),
    ((1, 0), ((2, 3), (3, 2))), (([-1], [-2]), ((2, 3), (4, 3, 2))), ((), ((2,), (3,))),
], ids=str)
def test_tensordot(axes, shapes):
    if axes == ():
        axes = ([], [])
    check_both(lambda a, b: np.tensordot(a, b, axes), *shapes)
    check_both(lambda a, b: np.tensordot(a, b, axes=axes), *shapes)


EINSUM_CASES = [
    ("ij,jk->ik", [(2, 3), (3, 4)]), ("ij,jk", [(2, 3), (3, 4)]), ("ii->i", [(3, 3)]), ("ii", [(3, 3)]),
    ("ij->", [(2, 3)]), ("ij->ji", [(2, 3)]), ("ij", [(2, 3)]), ("ji", [(2, 3)]), ("iij->ji", [(3, 3, 2)]),
    ("...ij,...jk->...ik", [(2, 2, 3), (3, 4)]), ("...ij,...jk", [(5, 1, 2, 3), (4, 3, 2)]),
    ("i...,i->...", [(3, 2, 2), (3,)]), ("...ii->...i", [(2, 3, 3)]), ("ij,j,jk->k", [(2, 3), (3,), (3, 2)]),
    ("i,i->i", [(1,), (3,)]), ("i,i", [(3,), (3,)]), ("i,j->ij", [(2,), (3,)]),
    ("bij,bjk->bik", [(2, 2, 3), (2, 3, 2)]),
    ("Ab,bA", [(2, 3), (3, 2)]), ("ij,ij,ij->i", [(2, 3), (2, 3), (2, 3)]), (",ij->ij", [(), (2, 3)]),
    ("ii,i->i", [(3, 3), (3,)]), ("ijk->", [(2, 3, 2)]), ("ij,kl->ilkj", [(2, 3), (2, 2)]),
]


@pytest.mark.parametrize("subscripts, shapes", EINSUM_CASES, ids=str)
def test_einsum(subscripts, shapes):
    check_both(lambda *ops: np.einsum(subscripts, *ops), *shapes)


def test_einsum_complex_float32_and_optimize():
    check_both(lambda a, b, c: np.einsum("ij,jk,kl->il", a, b, c, optimize=True), (2, 3), (3, 4), (4, 2),
               dtype=complex)
    check_both(lambda a, b: np.einsum("...ij,jk->...ik", a, b), (2, 2, 3), (3, 2), dtype=onp.float32)
    a = randn((2, 3), onp.float32)
    assert grad(lambda a: np.sum(np.einsum("ij,ij->", a, a)))(a).dtype == onp.float32


def test_einsum_sublist_form():
    check_both(lambda a, b: np.einsum(a, [0, 1], b, [1, 2], [0, 2]), (2, 3), (3, 4))
    check_both(lambda a, b: np.einsum(a, [Ellipsis, 27], b, [27, 0]), (2, 3), (3, 4))  # implicit output


def test_einsum_diagonal_gradient_closed_form():
    a = randn((3, 3))
    assert onp.array_equal(grad(lambda a: np.einsum("ii", a))(a), onp.eye(3))
    weights = onp.array([1.0, 2.0, 3.0])
    assert onp.array_equal(grad(lambda a: np.sum(np.einsum("ii->i", a) * weights))(a), onp.diag(weights))


@pytest.mark.parametrize("shapes", [((), (3,)), ((3,), (3,)), ((2, 3), (4, 3)), ((2, 2, 3), (3,)), ((4,), ())],
                         ids=str)
def test_inner(shapes):
    check_both(np.inner, *shapes)


@pytest.mark.parametrize("shapes", [((3,), (4,)), ((2, 3), (4,)), ((), (2, 2)), ((2, 1), (3, 2))], ids=str)
def test_outer(shapes):
    check_both(np.outer, *shapes)


@pytest.mark.parametrize("dtype", [float, complex])
@pytest.mark.parametrize("shapes", [((3,), (3,)), ((2, 3), (2, 3)), ((2, 3), (6,))], ids=str)
def test_vdot(shapes, dtype):
    check_both(np.vdot, *shapes, dtype=dtype)


def test_vdot_conjugates_its_first_argument():
    a, b = randn((3,), complex), randn((3,), complex)
    # Re(vdot(a, b)) = Re(sum(conj(a) b)): its gradient in a is conj(b) (df/dx - i df/dy), in b it is conj(a)
    assert onp.allclose(grad(lambda a: np.real(np.vdot(a, b)))(a), onp.conj(b))
    assert onp.allclose(grad(lambda b: np.real(np.vdot(a, b)))(b), onp.conj(a))
    # vdot(a, a) = |a|^2, real: its gradient is 2 conj(a)
    assert onp.allclose(grad(lambda a: np.real(np.vdot(a, a)))(a), 2 * onp.conj(a))
    check_grads(lambda a: np.vdot(a, b), modes=["rev"], order=1)(a)


@pytest.mark.parametrize("shapes", [((2, 3), (2, 2)), ((3,), (2,)), ((2, 3), (4,)), ((2,), (2, 3)), ((), (3,)),
                                    ((2, 1, 2), (3, 2))], ids=str)
def test_kron(shapes):
    check_both(np.kron, *shapes)


@pytest.mark.parametrize("shapes, kwargs", [
    (((3,), (3,)), {}), (((4, 3), (3,)), {}), (((2, 1, 3), (4, 3)), {}), (((3, 4), (3, 4)), {"axis": 0}),
    (((3, 4), (4, 3)), {"axisa": 0, "axisb": 1, "axisc": 0}), (((2, 3, 4), (3,)), {"axisa": 1, "axisc": -1}),
    (((3, 2), (2, 3)), {"axisa": 0, "axisb": -1, "axisc": 1}),
], ids=str)
def test_cross(shapes, kwargs):
    check_both(lambda a, b: np.cross(a, b, **kwargs), *shapes)


def test_cross_positional_axes_and_complex():
    check_both(lambda a, b: np.cross(a, b, 0, 0, 0), (3, 2), (3, 2))
    check_both(np.cross, (2, 3), (2, 3), dtype=complex)


def test_cross_closed_form():
    a, b, c = randn((3,)), randn((3,)), randn((3,))
    # d/da of c . (a x b) = b x c, and d/db = c x a (the scalar triple product)
    assert onp.allclose(grad(lambda a: np.dot(c, np.cross(a, b)))(a), onp.cross(b, c))
    assert onp.allclose(grad(lambda b: np.dot(c, np.cross(a, b)))(b), onp.cross(c, a))


def test_cross_of_2_vectors():
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DeprecationWarning)  # NumPy 2 deprecates 2-vectors in cross
        for shapes in [((4, 2), (2,)), ((2,), (3,)), ((3,), (2,))]:
            check_both(np.cross, *shapes)
        a, b = randn((2,)), randn((2,))
        assert onp.allclose(grad(lambda a: np.cross(a, b))(a), [b[1], -b[0]])  # a0 b1 - a1 b0


@pytest.mark.parametrize("dtype", [float, complex])
@pytest.mark.parametrize("name, shapes", [
    ("vecdot", ((2, 3), (3,))), ("vecdot", ((3,), (4, 1, 3))), ("matvec", ((2, 3, 4), (4,))),
    ("matvec", ((3, 4), (2, 1, 4))), ("vecmat", ((3,), (2, 3, 4))), ("vecmat", ((2, 1, 3), (4, 3, 2))),
], ids=str)
def test_vector_ufuncs(name, shapes, dtype):
    check_both(getattr(np, name), *shapes, dtype=dtype)


def test_vecdot_conjugates_its_first_argument():
    a, b = randn((3,), complex), randn((3,), complex)
    assert onp.allclose(np.vecdot(a, b), onp.vdot(a, b))
    assert onp.allclose(grad(lambda a: np.real(np.vecdot(a, b)))(a), onp.conj(b))
    m = randn((3, 2), complex)
    assert onp.allclose(grad(lambda m: np.real(np.sum(np.vecmat(a, m))))(m), onp.outer(onp.conj(a), onp.ones(2)))
    assert onp.allclose(grad(lambda a: np.real(np.sum(np.vecmat(a, m))))(a), onp.conj(m.sum(axis=1)))
