"""Statistics (average, nan-reductions, cov, corrcoef, quantiles): finite differences in both modes, closed forms."""

import numpy as onp
import pytest

import gradviz.numpy as np
from gradviz import grad, make_jvp
from gradviz.test_util import check_grads, combo_check


def _randn(*shape, dtype=float):
    return onp.asarray(onp.random.randn(*shape), dtype)


AXES = [None, 0, -1, (0, 2)]


@pytest.mark.parametrize("axis", AXES)
def test_average_grads(axis):
    x = _randn(2, 3, 4)
    combo_check(lambda x, keepdims: np.average(x, axis, keepdims=keepdims), [0])([x], keepdims=[False, True])
    weights = onp.random.rand(2, 3, 4) + 0.5
    check_grads(lambda x: np.average(x, axis, weights))(x)
    check_grads(lambda w: np.average(x, axis, w))(weights)  # traced weights (positional)
    check_grads(lambda x, w: np.average(x, axis, w, True)[1] * np.average(x, axis, w, True)[0], argnum=1)(x, weights)


def test_average_vector_weights_and_returned():
    x, w = _randn(3, 4), onp.random.rand(4) + 0.5
    check_grads(lambda x: np.average(x, 1, w, returned=True))(x)
    check_grads(lambda w: np.average(x, -1, w, True, keepdims=True))(w)
    check_grads(lambda x: np.average(x, returned=True))(x)
    check_grads(lambda v: np.average(v, 0, v ** 2))(_randn(4))  # data and weights traced in one call
    # closed form: d/dw_j of sum(w a)/sum(w) = (a_j - avg) / sum(w)
    v = _randn(4)
    assert onp.allclose(grad(lambda w: np.average(v, 0, w))(w), (v - onp.average(v, weights=w)) / w.sum())
    assert onp.allclose(grad(lambda v: np.average(v, 0, w))(v), w / w.sum())


def test_average_float32_complex_and_0d():
    x = _randn(3, 4, dtype=onp.float32)
    check_grads(lambda x: np.average(x, 0, onp.arange(1.0, 4.0, dtype=onp.float32)))(x)
    assert grad(lambda x: np.sum(np.average(x, 1)))(x).dtype == onp.float32
    z = _randn(3, 4) + 1j * _randn(3, 4)
    weights = onp.random.rand(3, 4)
    check_grads(lambda z: np.average(z, 1, weights))(z)
    check_grads(np.average)(onp.array(1.5))


NAN_FUNCS = ["nansum", "nanmean", "nanprod", "nanmax", "nanmin", "nanvar", "nanstd"]


def _with_nans(x):
    """x with NaNs at fixed positions, put in by where (so the NaNs themselves have no gradient)."""
    mask = onp.arange(x.size).reshape(x.shape) % 5 == 1
    return np.where(mask, onp.nan, x), mask


@pytest.mark.parametrize("name", NAN_FUNCS)
@pytest.mark.parametrize("axis", [None, 1, -1, (0, 2)])
def test_nan_reductions(name, axis):
    fun = getattr(np, name)
    x = _randn(2, 3, 4)
    combo_check(lambda x, keepdims: fun(_with_nans(x)[0], axis=axis, keepdims=keepdims), [0])(
        [x], keepdims=[False, True])


@pytest.mark.parametrize("name", NAN_FUNCS + ["nancumsum", "nancumprod"])
def test_nan_gradient_is_zero_at_nans(name):
    x = _randn(3, 4)
    g = grad(lambda x: np.sum(getattr(np, name)(_with_nans(x)[0], axis=1)))(x)
    mask = _with_nans(x)[1]
    assert onp.all(g[mask] == 0) and onp.all(onp.isfinite(g))
    tangent = onp.where(mask, 1.0, 0.0)  # moving only the NaN entries changes nothing
    _, t = make_jvp(lambda x: getattr(np, name)(_with_nans(x)[0], axis=1))(x)(tangent)
    assert onp.allclose(t, 0)


@pytest.mark.parametrize("name", ["nancumsum", "nancumprod"])
@pytest.mark.parametrize("axis", [None, 0, 1])
def test_nan_cumulative(name, axis):
    check_grads(lambda x: getattr(np, name)(_with_nans(x)[0], axis=axis))(_randn(3, 4))


def test_nan_reductions_closed_form_and_variants():
    x = _randn(3, 4)
    y, mask = _with_nans(x)
    counts = (~mask).sum(1, keepdims=True)
    assert onp.allclose(grad(lambda x: np.sum(np.nanmean(_with_nans(x)[0], axis=1)))(x), ~mask / counts)
    assert onp.allclose(grad(lambda x: np.nansum(_with_nans(x)[0]))(x), ~mask)
    kept = onp.where(mask, onp.nan, x)
    mean = onp.nanmean(kept, 1, keepdims=True)
    expected = onp.where(mask, 0, 2 * (x - mean) / (counts - 1))
    assert onp.allclose(grad(lambda x: np.sum(np.nanvar(_with_nans(x)[0], axis=1, ddof=1)))(x), expected)
    check_grads(lambda x: np.nanstd(_with_nans(x)[0], 1, None, None, 1))(x)  # positional ddof
    check_grads(lambda x: np.nanmean(_with_nans(x)[0], axis=1, where=onp.array([True, False, True, True])))(x)
    check_grads(lambda x: np.nansum(_with_nans(x)[0], axis=0, initial=1.0))(x)
    check_grads(np.nansum)(onp.zeros((0, 3)))  # empty
    check_grads(np.nanmean)(onp.array(0.7))  # 0-d
    z = _randn(3, 4) + 1j * _randn(3, 4)
    check_grads(lambda z: np.nanmean(np.where(mask, onp.nan, z), axis=1))(z)
    check_grads(lambda z: np.nanvar(np.where(mask, onp.nan, z), axis=1))(z)
    f = _randn(3, 4, dtype=onp.float32)
    check_grads(lambda f: np.nanstd(_with_nans(f)[0], axis=0))(f)
    assert grad(lambda f: np.nanmax(_with_nans(f)[0]))(f).dtype == onp.float32


@pytest.mark.parametrize("kwargs", [{}, {"rowvar": False}, {"bias": True}, {"ddof": 2},
                                    {"fweights": onp.array([1, 2, 1, 3, 1])},
                                    {"aweights": onp.array([0.5, 1.0, 2.0, 1.0, 0.3])},
                                    {"fweights": onp.array([1, 2, 1, 3, 1]), "aweights": onp.array([1, .5, 2, 1, 1])}])
def test_cov(kwargs):
    m = _randn(3, 5) if kwargs.get("rowvar", True) else _randn(5, 3)
    check_grads(lambda m: np.cov(m, **kwargs))(m)


def test_cov_two_arguments_vectors_and_complex():
    x, y = _randn(5), _randn(5)
    check_grads(lambda x, y: np.cov(x, y), argnum=0)(x, y)
    check_grads(lambda x, y: np.cov(x, y), argnum=1)(x, y)
    check_grads(np.cov)(x)  # a 0-d result
    z = _randn(2, 4) + 1j * _randn(2, 4)
    check_grads(np.cov)(z)
    check_grads(np.cov)(_randn(2, 4, dtype=onp.float32))
    # closed form: d trace(cov(X)) / dX = 2 (X - mean) / (N - 1)
    m = _randn(3, 5)
    expected = 2 * (m - m.mean(1, keepdims=True)) / 4
    assert onp.allclose(grad(lambda m: np.trace(np.cov(m)))(m), expected)


def test_corrcoef():
    check_grads(np.corrcoef)(_randn(3, 5))
    check_grads(lambda x: np.corrcoef(x, rowvar=False))(_randn(5, 2))
    x, y = _randn(6), _randn(6)
    check_grads(lambda x, y: np.corrcoef(x, y)[0, 1], argnum=1)(x, y)
    # closed form: r = <dx, dy> / (|dx| |dy|) with dx = x - mean; dr/dy = (dx / |dx| - r dy / |dy|) / |dy|
    dx, dy = x - x.mean(), y - y.mean()
    r = dx @ dy / onp.linalg.norm(dx) / onp.linalg.norm(dy)
    expected = (dx / onp.linalg.norm(dx) - r * dy / onp.linalg.norm(dy)) / onp.linalg.norm(dy)
    assert onp.allclose(grad(lambda y: np.corrcoef(x, y)[0, 1])(y), expected)
    assert onp.allclose(grad(lambda x: np.sum(np.corrcoef(x)))(x), 0)  # a 0-d cov: corrcoef is 1


@pytest.mark.parametrize("axis", [None, 0, -1, (0, 2)])
def test_quantiles(axis):
    x = _randn(2, 3, 4)
    combo_check(lambda x, keepdims: np.median(x, axis=axis, keepdims=keepdims), [0])([x], keepdims=[False, True])
    combo_check(lambda x, q: np.quantile(x, q, axis=axis), [0])([x], q=[0.0, 0.3, 1.0, onp.array([0.2, 0.55])])
    check_grads(lambda x: np.percentile(x, [15.0, 80.0], axis=axis, keepdims=True))(x)


def test_quantile_in_q_and_closed_forms():
    x = _randn(7)
    check_grads(lambda q: np.quantile(x, q))(onp.array([0.13, 0.61]))
    check_grads(lambda q: np.percentile(x, q))(42.0)
    m = _randn(3, 5)
    check_grads(lambda q: np.quantile(m, q, axis=1, method="linear"))(onp.array([[0.3], [0.8]]))
    # the median of an odd count is the middle element: a one-hot gradient; of an even count, half of each middle
    assert onp.array_equal(grad(np.median)(x), (x == onp.median(x)).astype(float))
    y = _randn(6)
    middle = onp.argsort(y)[2:4]
    expected = onp.zeros(6)
    expected[middle] = 0.5
    assert onp.allclose(grad(np.median)(y), expected)
    # in q, the slope between the two order statistics: d/dq = (x_(k+1) - x_(k)) (n - 1)
    s = onp.sort(x)
    assert onp.isclose(grad(lambda q: np.quantile(x, q))(0.4), (s[3] - s[2]) * 6)
    check_grads(np.median)(_randn(4, dtype=onp.float32))
    check_grads(np.median)(onp.array(0.3))
    with pytest.raises(NotImplementedError, match="method"):
        grad(lambda x: np.quantile(x, 0.3, method="nearest"))(x)
