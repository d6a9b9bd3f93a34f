"""Reductions: finite-difference checks in both modes to second order, and the derivatives in closed form."""

import numpy as onp
import pytest

import gradviz.numpy as np
from gradviz import grad, hessian, make_jvp
from gradviz.test_util import check_grads, combo_check

# (shape, axis): 0-d, vectors, matrices, a 3-d array, negative and tuple axes
CASES = [((), None), ((4,), None), ((4,), -1), ((3, 4), 0), ((3, 4), -1), ((3, 4), None), ((2, 3, 4), (0, 2)),
         ((2, 3, 4), (-1, 1)), ((2, 3, 4), 1)]
REDUCTIONS = ["sum", "mean", "prod", "max", "min", "amax", "amin", "ptp", "var", "std"]


def _randn(shape, dtype=float):
    return onp.asarray(onp.random.randn(*shape), dtype)


@pytest.mark.parametrize("name", REDUCTIONS)
@pytest.mark.parametrize("shape,axis", CASES)
def test_reduction_grads(name, shape, axis):
    fun = getattr(np, name)
    combo_check(lambda x, keepdims: fun(x, axis=axis, keepdims=keepdims), [0])(
        [_randn(shape)], keepdims=[False, True])


@pytest.mark.parametrize("name", ["sum", "mean", "prod", "var", "std"])
def test_complex_grads(name):
    x = _randn((3, 4)) + 1j * _randn((3, 4))
    for axis in (None, 1, (0, 1)):
        check_grads(lambda x: getattr(np, name)(x, axis=axis))(x)


@pytest.mark.parametrize("name", ["sum", "mean", "prod", "max", "var", "std", "cumsum", "cumprod", "ptp"])
def test_float32_grads_keep_dtype(name):
    x = _randn((3, 4), onp.float32)
    fun = getattr(np, name)
    check_grads(lambda x: fun(x, axis=1))(x)
    g = grad(lambda x: np.sum(np.sin(fun(x, axis=0))))(x)
    assert g.dtype == onp.float32 and g.shape == x.shape


@pytest.mark.parametrize("ddof", [0, 1, 2])
@pytest.mark.parametrize("name", ["var", "std"])
def test_moments_ddof(name, ddof):
    fun = getattr(np, name)
    check_grads(lambda x: fun(x, axis=1, ddof=ddof))(_randn((2, 5)))
    check_grads(lambda x: fun(x, 1, None, None, ddof, True))(_randn((2, 5)))  # positional ddof, keepdims
    check_grads(lambda x: fun(x, correction=ddof))(_randn((6,)))


def test_var_closed_form():
    x = _randn((5,))
    assert onp.allclose(grad(np.var)(x), 2 * (x - x.mean()) / 5)
    assert onp.allclose(grad(lambda x: np.var(x, ddof=1))(x), 2 * (x - x.mean()) / 4)
    assert onp.allclose(grad(np.std)(x), (x - x.mean()) / (5 * onp.std(x)))
    z = x + 1j * _randn((5,))
    assert onp.isclose(np.var(z), onp.mean(onp.abs(z - z.mean()) ** 2))
    assert onp.allclose(grad(np.var)(z), 2 * onp.conj(z - z.mean()) / 5)  # df/dx - i df/dy
    m = onp.array([[1.0, 2.0, 4.0], [0.0, 3.0, 3.0]])
    assert onp.allclose(grad(lambda m: np.sum(np.var(m, axis=1)))(m), 2 * (m - m.mean(1, keepdims=True)) / 3)
    assert onp.allclose(hessian(np.var)(x), 2 * (onp.eye(5) - 1 / 5) / 5)


def test_std_of_constant_has_zero_gradient():
    assert onp.array_equal(grad(np.std)(onp.full(4, 2.0)), onp.zeros(4))


def test_moments_with_given_mean_and_where():
    x = _randn((3, 4))
    mask = onp.array([[True, False, True, True]] * 3)
    check_grads(lambda x: np.var(x, axis=1, where=mask))(x)
    check_grads(lambda x: np.std(x, axis=1, where=mask, ddof=1))(x)
    center = onp.zeros((3, 1))
    check_grads(lambda x: np.var(x, axis=1, mean=center))(x)
    assert onp.allclose(grad(lambda x: np.sum(np.var(x, axis=1, mean=center)))(x), 2 * x / 4)
    g = grad(lambda x: np.sum(np.var(x, axis=1, where=mask)))(x)
    kept = x[:, [0, 2, 3]]
    assert onp.allclose(g[:, [0, 2, 3]], 2 * (kept - kept.mean(1, keepdims=True)) / 3) and onp.all(g[:, 1] == 0)


def test_sum_mean_where_initial_dtype():
    x = _randn((3, 4))
    mask = onp.array([True, False, True, True])
    check_grads(lambda x: np.sum(x, axis=1, where=mask, initial=2.0))(x)
    check_grads(lambda x: np.mean(x, axis=1, where=mask))(x)
    assert onp.array_equal(grad(lambda x: np.sum(x, where=mask))(x), onp.broadcast_to(mask, x.shape) * 1.0)
    assert onp.allclose(grad(lambda x: np.mean(x, where=mask))(x), onp.broadcast_to(mask, x.shape) / 9)
    g = grad(lambda x: np.sum(x, dtype=onp.float32))(x)
    assert g.dtype == onp.float64 and onp.array_equal(g, onp.ones_like(x))
    check_grads(lambda x: np.sum(x, 0) * np.mean(x, -1, None, None, True))(x)  # positional axis, dtype, out


def test_sum_of_complex_dtype_gives_real_gradient():
    x = _randn((3,))
    g = grad(lambda x: np.real(np.sum(x * 1j, dtype=complex) * 1j))(x)
    assert g.dtype == onp.float64 and onp.allclose(g, -1)


def test_mean_closed_form():
    x = _randn((2, 3, 4))
    assert onp.allclose(grad(lambda x: np.sum(np.mean(x, axis=(0, 2))))(x), onp.full(x.shape, 1 / 8))


@pytest.mark.parametrize("name", ["max", "amax", "min", "amin"])
def test_extremum_gradient_is_the_argmax_indicator(name):
    x = _randn((3, 5))
    pick = onp.argmax if "max" in name else onp.argmin
    expected = onp.zeros_like(x)
    expected[onp.arange(3), pick(x, axis=1)] = 1
    assert onp.array_equal(grad(lambda x: np.sum(getattr(np, name)(x, axis=1)))(x), expected)
    flat = onp.zeros(x.size)
    flat[pick(x)] = 1
    assert onp.array_equal(grad(getattr(np, name))(x), flat.reshape(x.shape))


def test_extremum_ties_split_evenly():
    x = onp.array([[1.0, 3.0, 3.0, 2.0], [5.0, 5.0, 5.0, 0.0]])
    expected = onp.array([[0, 0.5, 0.5, 0], [1 / 3, 1 / 3, 1 / 3, 0]])
    assert onp.allclose(grad(lambda x: np.sum(np.max(x, axis=1)))(x), expected)
    assert onp.allclose(grad(np.max)(x), onp.array([[0, 0, 0, 0], [1 / 3, 1 / 3, 1 / 3, 0]]))
    _, tangent = make_jvp(lambda x: np.max(x, axis=-1, keepdims=True))(x)(onp.arange(8.0).reshape(2, 4))
    assert onp.allclose(tangent, [[1.5], [5.0]])  # the mean of the tied elements' tangents
    assert onp.allclose(grad(lambda x: np.min(x, axis=0)[3])(x), [[0, 0, 0, 0], [0, 0, 0, 1]])


def test_extremum_initial_and_where():
    x = onp.array([[1.0, 4.0, 2.0], [-1.0, -2.0, -3.0]])
    g = grad(lambda x: np.sum(np.max(x, axis=1, initial=0.0)))(x)
    assert onp.array_equal(g, [[0, 1, 0], [0, 0, 0]])  # the initial value wins the second row
    mask = onp.array([True, False, True])
    assert onp.array_equal(grad(lambda x: np.sum(np.max(x, axis=1, where=mask, initial=-9.0)))(x),
                           [[0, 0, 1], [1, 0, 0]])
    check_grads(lambda x: np.max(x, 1, None, True))(x)  # positional axis, out, keepdims


def test_ptp_closed_form():
    x = onp.array([[1.0, 4.0, 2.0], [3.0, -2.0, 0.5]])
    assert onp.array_equal(grad(lambda x: np.sum(np.ptp(x, axis=1)))(x), [[-1, 1, 0], [1, -1, 0]])
    assert onp.array_equal(grad(np.ptp)(onp.full(3, 2.0)), onp.zeros(3))  # max == min: constant


ZEROS = [onp.array([2.0, 0.0, 3.0, -1.5]), onp.array([0.0, 1.5, 0.0, 2.0]), onp.array([0.0, 0.0, 0.0, 0.7]),
         onp.array([[0.0, 1.0, 2.0], [3.0, 0.0, 0.0]])]


@pytest.mark.parametrize("x", ZEROS)
def test_prod_with_zeros(x):
    check_grads(np.prod)(x)
    check_grads(lambda x: np.prod(x, axis=-1))(x)
    check_grads(lambda x: np.cumprod(x, axis=-1))(x)
    check_grads(np.cumprod)(x)
    flat = x.ravel()
    others = onp.array([onp.prod(onp.delete(flat, i)) for i in range(flat.size)]).reshape(x.shape)
    assert onp.allclose(grad(np.prod)(x), others)
    # second derivatives: d2/dxi dxj = the product of all but i and j
    expected = onp.array([[0.0 if i == j else onp.prod(onp.delete(flat, [i, j])) for j in range(flat.size)]
                          for i in range(flat.size)])
    assert onp.allclose(hessian(np.prod)(flat), expected)


def test_prod_third_order_with_zeros():
    check_grads(np.prod, order=3)(onp.array([0.0, 2.0, 0.0, -1.0, 0.5]))


def test_prod_closed_form():
    x = _randn((3, 4))
    assert onp.allclose(grad(np.prod)(x), onp.prod(x) / x)
    assert onp.allclose(grad(lambda x: np.sum(np.prod(x, axis=0)))(x), onp.prod(x, axis=0) / x)
    check_grads(lambda x: np.prod(x, axis=1, initial=2.0, where=onp.array([True, True, False, True])))(x)


@pytest.mark.parametrize("name", ["cumsum", "cumprod"])
@pytest.mark.parametrize("shape,axis", [((), None), ((5,), None), ((5,), 0), ((3, 4), None), ((3, 4), 1),
                                        ((2, 3, 4), -2)])
def test_cumulative_grads(name, shape, axis):
    check_grads(lambda x: getattr(np, name)(x, axis=axis))(_randn(shape))


@pytest.mark.parametrize("name", ["cumsum", "cumprod"])
def test_cumulative_complex(name):
    check_grads(lambda x: getattr(np, name)(x, 1))(_randn((2, 5)) + 1j * _randn((2, 5)))


def test_cumulative_closed_forms():
    x, w = _randn((5,)), _randn((5,))
    assert onp.allclose(grad(lambda x: np.sum(w * np.cumsum(x)))(x), onp.cumsum(w[::-1])[::-1])
    m = _randn((2, 3))
    assert onp.allclose(grad(lambda m: np.sum(np.cumsum(m)))(m), onp.arange(6, 0, -1).reshape(2, 3))
    expected = [sum(w[i] * onp.prod(x[:i + 1]) / x[j] for i in range(j, 5)) for j in range(5)]
    assert onp.allclose(grad(lambda x: np.sum(w * np.cumprod(x)))(x), expected)


@pytest.mark.parametrize("shape,kwargs", [((3, 3), {}), ((3, 4), {"offset": 1}), ((4, 3), {"offset": -2}),
                                          ((2, 3, 4), {"axis1": 2, "axis2": 0}), ((3, 2, 3), {"axis1": -1})])
def test_trace(shape, kwargs):
    check_grads(lambda x: np.trace(x, **kwargs))(_randn(shape))


def test_trace_closed_form_and_complex():
    assert onp.array_equal(grad(lambda x: np.trace(x, 1))(_randn((3, 4))), onp.eye(3, 4, 1))
    assert onp.array_equal(grad(lambda x: np.sum(np.trace(x, 0, 1, 0)))(_randn((2, 2, 3))),
                           onp.broadcast_to(onp.eye(2)[:, :, None], (2, 2, 3)))
    check_grads(np.trace)(_randn((3, 3)) + 1j * _randn((3, 3)))


@pytest.mark.parametrize("name", ["sum", "mean", "prod", "max", "min", "ptp", "var", "std", "cumsum", "cumprod"])
def test_out_is_refused_when_traced(name):
    x = _randn((2, 3))
    expected = getattr(onp, name)(x, axis=0)
    out = onp.zeros_like(expected)
    with pytest.raises(TypeError, match="out="):
        grad(lambda x: np.sum(getattr(np, name)(x, axis=0, out=out)))(x)
    assert onp.array_equal(out, onp.zeros_like(expected))  # nothing was written
    assert onp.allclose(getattr(np, name)(x, axis=0, out=out), expected) and onp.allclose(out, expected)


def test_positional_out_and_trace_out_are_refused():
    with pytest.raises(TypeError, match="out="):
        grad(lambda x: np.sum(x, 0, None, onp.zeros(3)))(_randn((2, 3)))
    with pytest.raises(TypeError, match="out="):
        grad(lambda x: np.trace(x, out=onp.zeros(())))(_randn((3, 3)))


def test_box_methods():
    x = _randn((3, 4))
    check_grads(lambda x: x.sum(0) + x.mean(1, keepdims=True) + x.max(axis=0) * x.std() + x.prod(axis=1,
                keepdims=True) + x.var(0) - np.ptp(x, 1, keepdims=True) + x.cumsum(1) * x.cumprod(0) + x.trace())(x)


def test_reduction_of_python_float():
    assert grad(lambda x: np.sum(x) * np.prod(x) + np.max(x))(3.0) == 7.0


def test_diagonal_helpers_are_transposes_in_both_modes():
    """trace's private helpers: _diagonal_sum sums the elements at flat indices, _onto_diagonal puts them back."""
    from gradviz.numpy.rules_reductions import _diagonal_sum, _onto_diagonal

    sources = onp.array([[0, 4, 8], [1, 5, 6]])
    x = _randn((3, 3))
    check_grads(lambda x: _diagonal_sum(x, sources))(x)
    check_grads(lambda g: _onto_diagonal(g, sources, (3, 3)))(_randn((2,)))
    g = _randn((2,))
    assert onp.allclose(onp.sum(_diagonal_sum(x, sources) * g), onp.sum(x * _onto_diagonal(g, sources, (3, 3))))
