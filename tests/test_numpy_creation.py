"""Creation (linspace, logspace, geomspace, full, meshgrid, r_, c_): finite differences and closed forms."""

import numpy as onp
import pytest

import gradviz.numpy as np
from gradviz import grad, jacobian
from gradviz.test_util import check_grads


def _randn(*shape, dtype=float):
    return onp.asarray(onp.random.randn(*shape), dtype)


@pytest.mark.parametrize("kwargs", [{}, {"num": 1}, {"endpoint": False}, {"num": 4, "axis": -1},
                                    {"num": 3, "axis": 1}, {"num": 5, "retstep": True}])
@pytest.mark.parametrize("name", ["linspace", "logspace", "geomspace"])
def test_ranges(name, kwargs):
    fun = getattr(np, name)
    if name != "linspace" and "retstep" in kwargs:
        return
    start, stop = onp.abs(_randn(2, 3)) + 0.5, onp.abs(_randn(3)) + 0.5  # arrays that broadcast
    kwargs = {"num": 6, **kwargs}
    check_grads(lambda start, stop: fun(start, stop, **kwargs), argnum=0)(start, stop)
    check_grads(lambda start, stop: fun(start, stop, **kwargs), argnum=1)(start, stop)
    if kwargs.get("axis", 0) in (0, -1):  # scalar endpoints: the samples are the only axis
        check_grads(lambda start: fun(start, 2.0, **kwargs))(0.7)


def test_ranges_variants_and_closed_forms():
    check_grads(lambda s: np.linspace(s, 1.0 + 2j, 4))(0.5 - 1j)
    check_grads(lambda s: np.linspace(s, 1.0, 5))(onp.float32(0.25))
    check_grads(lambda s: np.logspace(s, 1.0, 4, base=2.0))(0.5)
    check_grads(lambda s: np.logspace(s, onp.ones(2), 3, base=onp.array([2.0, 3.0]), axis=1))(_randn(2))
    check_grads(lambda s: np.geomspace(s, -4.0, 5))(-0.5)  # negative endpoints
    check_grads(lambda s: np.geomspace(s, 4 - 2j, 5))(1 + 1j)  # complex: a logarithmic spiral
    check_grads(lambda s: np.geomspace(s, 4 - 2j, 5, axis=1))(onp.array([1 + 1j, -2j]))
    check_grads(lambda s: np.geomspace(1 + 1j, s, 4))(-3 + 0.5j)
    assert onp.allclose(np.geomspace(onp.array([1 + 1j, -2j]), 4 - 2j, 5, axis=1),
                        onp.geomspace(onp.array([1 + 1j, -2j]), 4 - 2j, 5, axis=1))
    # linspace(a, b)[i] = a + (b - a) i / (n - 1): d/da = 1 - t, d/db = t
    t = onp.arange(5) / 4
    assert onp.allclose(jacobian(lambda a: np.linspace(a, 3.0, 5))(1.0), 1 - t)
    assert onp.allclose(jacobian(lambda b: np.linspace(1.0, b, 5))(2.0), t)
    assert onp.isclose(grad(lambda b: np.linspace(1.0, b, 5, retstep=True)[1])(2.0), 0.25)
    # geomspace(a, b)[i] = a^(1-t) b^t
    a, b = 2.0, 5.0
    assert onp.allclose(jacobian(lambda a: np.geomspace(a, b, 5))(a), (1 - t) * a ** (-t) * b ** t)
    assert onp.allclose(jacobian(lambda a: np.logspace(a, b, 5))(a), onp.log(10) * 10 ** (a + (b - a) * t) * (1 - t))


def test_full():
    check_grads(lambda v: np.full((2, 3), v))(1.5)
    check_grads(lambda v: np.full((2, 3), v))(_randn(3))
    check_grads(lambda v: np.full(4, v, dtype=onp.complex128))(0.3)
    check_grads(lambda v: np.full((2, 2), v))(_randn(1, 2) + 1j * _randn(1, 2))
    x = _randn(2, 3)
    check_grads(lambda v: np.full_like(x, v))(_randn(2, 1))
    check_grads(lambda v: np.full_like(x, v, shape=(4,)))(0.2)
    check_grads(lambda x: np.full_like(x, 2.0) * x)(x)  # no gradient through the template
    assert onp.isclose(grad(lambda v: np.sum(np.full((2, 3), v)))(0.5), 6.0)
    assert onp.allclose(grad(lambda v: np.sum(np.full((4, 3), v)))(_randn(3)), [4, 4, 4])
    assert onp.all(grad(lambda x: np.sum(np.full_like(x, 1.0)) * 1.0)(x) == 0)
    g = grad(lambda v: np.sum(np.full(3, v)))(onp.float32(2.0))
    assert g.dtype == onp.float32


@pytest.mark.parametrize("indexing", ["xy", "ij"])
@pytest.mark.parametrize("sparse", [False, True])
def test_meshgrid(indexing, sparse):
    x, y, z = _randn(3), _randn(2), _randn(4)
    for argnum in range(3):
        check_grads(lambda *xi: np.meshgrid(*xi, indexing=indexing, sparse=sparse), argnum=argnum)(x, y, z)
    check_grads(lambda x, y: np.meshgrid(x, y, indexing=indexing, sparse=sparse)[0] ** 2, argnum=1)(x, y)
    check_grads(lambda x: np.meshgrid(x, indexing=indexing))(x)


def test_meshgrid_closed_form():
    x, y = _randn(3), _randn(2)
    # sum(X * Y) over the grid = sum(x) sum(y)
    gx = grad(lambda x: np.sum(np.prod(np.stack(np.meshgrid(x, y)), axis=0)))(x)
    assert onp.allclose(gx, onp.full(3, y.sum()))
    assert np.meshgrid(x, y)[0].shape == (2, 3) and np.meshgrid(x, y, indexing="ij")[0].shape == (3, 2)


def test_r_and_c():
    x, y = _randn(3), _randn(2)
    check_grads(lambda x: np.r_[x, 1.0, x])(x)
    check_grads(lambda x, y: np.r_[x, 0:2, y], argnum=1)(x, y)
    check_grads(lambda x: np.r_["0,2", x, x])(x)  # a directive: axis 0, at least 2-d
    block = _randn(2, 2)
    check_grads(lambda x: np.r_["-1", block, x])(_randn(2, 1))
    check_grads(lambda x: np.c_[x, x ** 2])(x)
    check_grads(lambda m: np.c_[m, onp.ones((2, 1))])(_randn(2, 3))
    # the same values as NumPy's own r_ and c_, and gradients that count the copies
    assert onp.array_equal(np.r_[np.sin(x), 2.0], onp.r_[onp.sin(x), 2.0])
    assert onp.array_equal(np.c_[np.sin(x), x], onp.c_[onp.sin(x), x])
    assert onp.array_equal(grad(lambda x: np.sum(np.r_[x, x, 3.0]))(x), [2, 2, 2])
    assert onp.array_equal(grad(lambda x: np.sum(np.c_[x, 2 * x]))(x), [3, 3, 3])
    assert onp.array_equal(np.r_[1:3, [5]], [1, 2, 5])  # plain use is NumPy's
    with pytest.raises(NotImplementedError, match="directive"):
        grad(lambda x: np.sum(np.r_["r", x]))(x)


def test_ix_is_constant():
    rows, cols = np.ix_([0, 2], [1])
    assert onp.array_equal(rows, [[0], [2]]) and onp.array_equal(cols, [[1]])
    m = _randn(3, 3)
    g = grad(lambda m: np.sum(m[np.ix_([0, 2], [1])]))(m)
    assert g.sum() == 2 and g[0, 1] == 1 and g[2, 1] == 1
