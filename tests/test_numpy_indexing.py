"""Indexing rules: x[index] in every form NumPy knows, take, take_along_axis, choose, compress, extract."""

import numpy as onp
import pytest

import gradviz.numpy as np
from gradviz import grad, hessian, make_hvp, make_jvp, make_vjp
from gradviz.core.backward import IndexedGrad, VJPNode, _node_vjps
from gradviz.core.tracer import trace
from gradviz.numpy.rules_indexing import untake
from gradviz.test_util import check_grads

MASK = onp.array([True, False, True, True])
INDICES = [
    2, -1, (1, -2), slice(None, None, -1), slice(3, 0, -2), (slice(None), slice(1, None, 2)),
    Ellipsis, (Ellipsis, 1), None, (None, Ellipsis, None, 0), ([0, 0, 3, 1],), onp.array([[1, 1], [0, 3]]),
    ([0, 2, 2], [1, 1, 4]), (slice(1, 3), [4, 0, 4]), ([3, 3], Ellipsis, None), (MASK,), (MASK, 2),
    (MASK, slice(None, None, -2)), onp.arange(20).reshape(4, 5) % 3 == 0, (-1, [2, 2, 2]), (),
]


def cube(index):
    return lambda x: x[index] ** 3


@pytest.mark.parametrize("index", INDICES, ids=repr)
def test_getitem_grads_real(index):
    check_grads(cube(index))(onp.random.randn(4, 5))


@pytest.mark.parametrize("index", [(1, -2), ([0, 0, 3],), (MASK, slice(None, None, -2)), (None, Ellipsis, 2)],
                         ids=repr)
def test_getitem_grads_complex_and_linear(index):
    z = onp.random.randn(4, 5) + 1j * onp.random.randn(4, 5)
    check_grads(cube(index))(z)
    check_grads(lambda x: x[index], order=1)(onp.random.randn(4, 5))


def test_getitem_of_3d_mixed_advanced_and_slices():
    index = ([0, 1, 1], slice(None, None, -1), [2, 0, 2])  # advanced axes split by a slice go first
    check_grads(cube(index))(onp.random.randn(2, 3, 4))


def test_repeated_indices_accumulate():
    x = onp.random.randn(6)
    index = [0, 4, 0, 0, 2, 4]
    expected = onp.bincount(index, minlength=6).astype(float)
    assert onp.array_equal(grad(lambda x: np.sum(x[index]))(x), expected)
    weights = onp.arange(1.0, 7.0)
    expected_weighted = onp.bincount(index, weights=weights, minlength=6)
    assert onp.allclose(grad(lambda x: np.sum(x[index] * weights))(x), expected_weighted)


def test_repeated_indices_accumulate_in_2d_and_in_forward_mode():
    x = onp.random.randn(3, 4)
    rows, cols = [0, 2, 0], [1, 3, 1]
    expected = onp.zeros((3, 4))
    expected[0, 1], expected[2, 3] = 2 * 2 * x[0, 1], 2 * x[2, 3]
    assert onp.allclose(grad(lambda x: np.sum(x[rows, cols] ** 2))(x), expected)
    v = onp.random.randn(3, 4)
    _, tangent = make_jvp(lambda x: x[rows, cols])(x)(v)
    assert onp.array_equal(tangent, v[rows, cols])


def test_sum_of_many_single_elements_is_ones():
    n = 2000
    x = onp.random.randn(n)
    g = grad(lambda x: sum(x[i] for i in range(n)))(x)
    assert g.shape == (n,) and onp.array_equal(g, onp.ones(n))


def test_plain_cotangent_goes_back_as_indexed_grad():
    vjp, _ = make_vjp(lambda x: x[[1, 1, 0]])(onp.zeros(3))
    assert onp.array_equal(vjp(onp.array([1.0, 2.0, 5.0])), [5.0, 3.0, 0.0])
    # the rule itself, before the backward pass makes it dense
    _, _, end = trace(VJPNode, lambda x: x[[1, 1, 0]], onp.zeros(3))
    ((_, _, ingrad),) = _node_vjps(end, onp.array([1.0, 2.0, 5.0]))
    assert isinstance(ingrad, IndexedGrad) and onp.array_equal(ingrad.dense(), [5.0, 3.0, 0.0])


def test_float32_stays_float32():
    x = onp.random.randn(5).astype(onp.float32)
    g = grad(lambda x: np.sum(x[[0, 0, 3]] * x[1:3].sum()))(x)
    assert g.dtype == onp.float32
    check_grads(cube(([0, 0, 3],)))(x)


def test_hessian_of_indexed_function():
    def f(x):
        return x[0] ** 2 * x[1] + x[-1] ** 3 + np.sum(x[[1, 1]] * x[2])

    x = onp.array([0.5, -1.0, 2.0, 1.5])
    a, b, c, d = x
    expected = onp.array([[2 * b, 2 * a, 0, 0],
                          [2 * a, 0, 2, 0],
                          [0, 2, 0, 0],
                          [0, 0, 0, 6 * d]])
    hvp, _ = make_hvp(f)(x)
    assert onp.allclose(onp.stack([hvp(e) for e in onp.eye(4)]), expected)
    assert onp.allclose(hessian(f)(x), expected)


def test_untake_rules():
    index = ([0, 2, 2],)
    check_grads(lambda g: untake(g, index, (4,), onp.dtype(float)) ** 2)(onp.random.randn(3))
    assert onp.array_equal(untake(onp.array([1.0, 2.0, 3.0]), index, (4,), onp.dtype(float)), [1.0, 0.0, 5.0, 0.0])


@pytest.mark.parametrize("index", [10, (0, 7), [0, 9], (slice(None), [5]), onp.array([True, False])], ids=repr)
def test_wrong_index_raises_numpys_index_error(index):
    x = onp.random.randn(4, 5)
    with pytest.raises(IndexError) as numpy_error:
        x[index]
    with pytest.raises(IndexError) as traced_error:
        grad(lambda x: np.sum(x[index]))(x)
    assert str(traced_error.value) == str(numpy_error.value)


# --- functions that index

@pytest.mark.parametrize("axis", [None, 0, 1, -1])
@pytest.mark.parametrize("mode", ["raise", "wrap", "clip"])
def test_take(axis, mode):
    indices = [[0, 2], [2, -1]] if mode == "raise" else [[0, 7], [2, -6]]
    check_grads(lambda x: np.take(x, indices, axis=axis, mode=mode) ** 3)(onp.random.randn(3, 4))


def test_take_method_and_repeats_accumulate():
    x = onp.random.randn(3, 4)
    g = grad(lambda x: np.sum(x.take([1, 1, 1], axis=1)))(x)
    expected = onp.zeros((3, 4))
    expected[:, 1] = 3
    assert onp.array_equal(g, expected)


@pytest.mark.parametrize("axis", [0, 1, -1, None])
def test_take_along_axis(axis):
    x = onp.random.randn(3, 4)
    indices = onp.array([[0, 2, 2, 1]]) if axis == 0 else onp.array([[2, 2], [0, 1], [3, 0]])
    if axis is None:
        indices = onp.array([11, 0, 0, -1])
    check_grads(lambda x: np.take_along_axis(x, indices, axis) ** 3)(x)


def test_take_along_axis_of_argsort_gives_sorted_gradient():
    x = onp.array([3.0, 1.0, 2.0])
    weights = onp.array([1.0, 10.0, 100.0])
    g = grad(lambda x: np.sum(np.take_along_axis(x, onp.argsort(x), axis=0) * weights))(x)
    assert onp.array_equal(g, [100.0, 1.0, 10.0])  # x[1] is smallest, x[2] middle, x[0] largest


@pytest.mark.parametrize("mode", ["raise", "wrap", "clip"])
def test_choose(mode):
    a = onp.array([[0, 2, 1], [1, 1, 0]]) if mode == "raise" else onp.array([[0, 5, -1], [1, 4, 0]])
    check_grads(lambda c: np.choose(a, c, mode=mode) ** 3)(onp.random.randn(3, 2, 3))
    check_grads(lambda c: np.choose(a, c, mode=mode) ** 3)(onp.random.randn(3, 3))  # broadcast against a


@pytest.mark.parametrize("axis", [None, 0, 1])
def test_compress(axis):
    condition = [True, False, True] if axis is not None else [False, True, True, False, True]
    check_grads(lambda x: np.compress(condition, x, axis=axis) ** 3)(onp.random.randn(3, 4))


def test_extract():
    x = onp.random.randn(3, 4)
    check_grads(lambda x: np.extract(x > 0, x) ** 3)(x)
    assert onp.array_equal(grad(lambda x: np.sum(np.extract(x > 0, x)))(x), (x > 0).astype(float))


def test_bincount_is_linear_in_its_weights():
    index = onp.array([0, 1, 1, 3])
    weights = onp.array([1.0, 2.0, 3.0, 4.0])
    check_grads(lambda w: np.bincount(index, w, 6))(weights)
    # d/dw sum(bincount(i, w)^2) = 2 * bins[i]
    assert onp.allclose(grad(lambda w: np.sum(np.bincount(index, w) ** 2))(weights), [2.0, 10.0, 10.0, 8.0])
    assert onp.array_equal(np.bincount(index), onp.bincount(index))


@pytest.mark.parametrize("histogram, args", [("histogram", ()), ("histogram2d", (onp.array([0.2, 0.4, 0.6]),)),
                                             ("histogramdd", ())])
def test_histogram_refuses_traced_weights_rather_than_dropping_them(histogram, args):
    samples = onp.array([0.1, 0.5, 0.9]) if histogram != "histogramdd" else onp.array([[0.1], [0.5], [0.9]])
    with pytest.raises(NotImplementedError, match=f"numpy.{histogram}: its weights argument is traced"):
        grad(lambda w: np.sum(getattr(np, histogram)(samples, *args, bins=2, weights=w)[0]))(onp.ones(3))
