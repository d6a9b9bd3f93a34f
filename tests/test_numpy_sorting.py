"""Sorting (sort, partition, sort_complex): permutations, checked by finite differences and by their inverse."""

import numpy as onp
import pytest

import gradviz.numpy as np
from gradviz import grad, make_jvp
from gradviz.test_util import check_grads


def _randn(*shape, dtype=float):
    return onp.asarray(onp.random.randn(*shape), dtype)


@pytest.mark.parametrize("shape,axis", [((5,), -1), ((3, 4), 0), ((3, 4), 1), ((3, 4), None), ((2, 3, 4), 1),
                                        ((2, 3, 4), None), ((0, 3), 0), ((4,), None)])
def test_sort(shape, axis):
    check_grads(lambda x: np.sort(x, axis=axis))(_randn(*shape))


def test_sort_positional_kind_dtypes_and_method():
    x = _randn(3, 4)
    check_grads(lambda x: np.sort(x, 0, "stable"))(x)
    check_grads(lambda x: np.sort(x, axis=1))(_randn(3, 4, dtype=onp.float32))
    z = _randn(6) + 1j * _randn(6)
    check_grads(np.sort)(z)
    assert grad(lambda x: np.sum(np.sort(x) ** 2))(_randn(4, dtype=onp.float32)).dtype == onp.float32


def test_sort_vjp_unpermutes_with_argsort():
    # the seed talk's example: d/dx sum(w * sort(x)) = w placed back where each sorted element came from
    x, w = _randn(6), _randn(6)
    expected = onp.empty(6)
    expected[onp.argsort(x)] = w
    assert onp.allclose(grad(lambda x: np.sum(w * np.sort(x)))(x), expected)
    m = _randn(3, 4)
    order = onp.argsort(m, axis=None)
    weights = onp.arange(12.0)
    expected = onp.empty(12)
    expected[order] = weights
    assert onp.allclose(grad(lambda m: np.sum(weights * np.sort(m, axis=None)))(m), expected.reshape(3, 4))
    _, tangent = make_jvp(lambda x: np.sort(x))(x)(w)
    assert onp.allclose(tangent, w[onp.argsort(x)])


@pytest.mark.parametrize("kth,axis", [(2, -1), ([0, 3], -1), (1, 0), (3, None)])
def test_partition(kth, axis):
    check_grads(lambda x: np.partition(x, kth, axis=axis))(_randn(3, 5))


def test_partition_closed_form_and_ties():
    x = _randn(7)
    # the kth element of partition is the kth order statistic: its gradient is one-hot there
    g = grad(lambda x: np.partition(x, 3)[3])(x)
    assert onp.array_equal(g, (x == onp.sort(x)[3]).astype(float))
    ties = onp.array([2.0, 1.0, 2.0, 0.0, 2.0])
    g = grad(lambda x: np.sum(onp.arange(5.0) * np.partition(x, 2)))(ties)
    assert onp.isclose(g.sum(), 10.0) and g[3] == 0.0 and g[1] == 1.0  # a permutation of the weights 0..4


def test_sort_complex():
    x = _randn(5)
    check_grads(np.sort_complex)(x)  # a real input, complex output: a real gradient
    check_grads(np.sort_complex)(x + 1j * _randn(5))
    assert not onp.iscomplexobj(grad(lambda x: np.sum(np.real(np.sort_complex(x)) ** 2))(x))
