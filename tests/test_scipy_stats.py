"""gradviz.scipy.stats against scipy.stats for values, finite differences for derivatives in x and in every
continuous parameter (both modes, second order; first order for the cdfs in their shape parameters), closed forms,
broadcasting between x and the parameters, float32, and a Gaussian mixture log-likelihood written as a user would
write it.
"""

from __future__ import annotations

import warnings

import numpy as onp
import pytest
import scipy.special as osp
import scipy.stats as ostats

import gradviz.numpy as np
import gradviz.scipy.stats as stats
from gradviz import elementwise_grad, grad, make_jvp
from gradviz.scipy.special import logsumexp
from gradviz.test_util import check_grads, extrapolated_derivative

CONTINUOUS = ("pdf", "logpdf", "cdf", "logcdf", "sf", "logsf")

# Parameter domains, chosen so that (x - loc) / scale stays inside the support and away from kinks
X_ANY, X_POS, X_UNIT = (-2.0, 2.0), (0.5, 3.0), (0.3, 1.2)
LOC, SCALE = (-0.2, 0.2), (0.8, 1.5)
SIGNED_X = "signed"  # |x| in [0.5, 2] with a random sign: away from laplace's kink at loc

# name, [(argument, domain)], functions differentiable in some shape parameters to first order only (argnums: the
# partials of the incomplete gamma and beta functions and stdtr, integrated numerically)
DISTRIBUTIONS = [
    ("norm", [("x", X_ANY), ("loc", LOC), ("scale", SCALE)], {}),
    ("t", [("x", X_ANY), ("df", (1.5, 6.0)), ("loc", LOC), ("scale", SCALE)],
     {"cdf": (1,), "logcdf": (1,), "sf": (1,), "logsf": (1,)}),
    ("beta", [("x", X_UNIT), ("a", (1.5, 3.0)), ("b", (1.5, 3.0)), ("loc", (-0.1, 0.1)), ("scale", (1.5, 2.0))],
     {"cdf": (1, 2), "logcdf": (1, 2), "sf": (1, 2), "logsf": (1, 2)}),
    ("gamma", [("x", X_POS), ("a", (1.5, 3.0)), ("loc", LOC), ("scale", SCALE)],
     {"cdf": (1,), "logcdf": (1,), "sf": (1,), "logsf": (1,)}),
    ("chi2", [("x", X_POS), ("df", (3.0, 6.0)), ("loc", LOC), ("scale", SCALE)],
     {"cdf": (1,), "logcdf": (1,), "sf": (1,), "logsf": (1,)}),
    ("expon", [("x", X_POS), ("loc", LOC), ("scale", SCALE)], {}),
    ("laplace", [("x", SIGNED_X), ("loc", (-0.1, 0.1)), ("scale", SCALE)], {}),
    ("cauchy", [("x", X_ANY), ("loc", LOC), ("scale", SCALE)], {}),
    ("logistic", [("x", X_ANY), ("loc", LOC), ("scale", SCALE)], {}),
    ("uniform", [("x", (0.3, 0.7)), ("loc", (-0.1, 0.1)), ("scale", (1.0, 1.2))], {}),
    ("lognorm", [("x", X_POS), ("s", (0.5, 1.5)), ("loc", LOC), ("scale", SCALE)], {}),
]
SHAPES = [(2, 3), (3,), (2, 1), (), ()]  # x, then each parameter: every pair of arguments broadcasts


def draw(shape, domain, dtype=onp.float64):
    if domain == SIGNED_X:
        x = onp.random.uniform(0.5, 2.0, size=shape) * onp.random.choice([-1.0, 1.0], size=shape)
    else:
        x = onp.random.uniform(*domain, size=shape)
    x = onp.asarray(x, dtype)
    return x[()] if shape == () else x


def arguments(params, dtype=onp.float64, shapes=SHAPES):
    return [draw(shape, domain, dtype) for (_, domain), shape in zip(params, shapes)]


CASES = [(name, params, fun, first.get(fun, ())) for name, params, first in DISTRIBUTIONS for fun in CONTINUOUS]


@pytest.mark.parametrize("name, params, fun, first_order", CASES, ids=[f"{c[0]}.{c[2]}" for c in CASES])
def test_continuous(name, params, fun, first_order):
    ours, theirs = getattr(getattr(stats, name), fun), getattr(getattr(ostats, name), fun)
    args = arguments(params)
    value = ours(*args)
    assert onp.shape(value) == (2, 3)
    assert onp.allclose(value, theirs(*args), rtol=1e-9, atol=1e-12)
    for argnum in range(len(params)):
        if argnum in first_order:
            check_grads(ours, argnum=argnum, modes=("fwd", "rev"), order=1)(*args)
            with pytest.raises(NotImplementedError, match="first-order only"):
                check_grads(ours, argnum=argnum, modes=("rev",), order=2)(*args)
        elif name == "uniform" and fun in ("pdf", "logpdf") and argnum < 2:  # flat in x and loc inside the support
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")  # gradviz warns that the output does not depend on it
                assert not onp.any(elementwise_grad(ours, argnum)(*args))
                assert not onp.any(make_jvp(ours, argnum)(*args)(onp.ones_like(args[argnum]))[1])
        else:
            check_grads(ours, argnum=argnum)(*args)


@pytest.mark.parametrize("name, params, _", DISTRIBUTIONS, ids=[row[0] for row in DISTRIBUTIONS])
def test_scalars_and_keywords(name, params, _):
    """Scalar arguments, and loc= and scale= by keyword with their defaults, as scipy takes them."""
    dist, ref = getattr(stats, name), getattr(ostats, name)
    args = arguments(params, shapes=[()] * len(params))
    shape_args, loc, scale = args[:-2], args[-2], args[-1]
    for fun in ("logpdf", "cdf"):
        assert onp.allclose(getattr(dist, fun)(*shape_args), getattr(ref, fun)(*shape_args))
        assert onp.allclose(getattr(dist, fun)(*shape_args, scale=scale, loc=loc),
                            getattr(ref, fun)(*shape_args, scale=scale, loc=loc))
    check_grads(lambda s: dist.logpdf(*shape_args, loc=loc, scale=s))(scale)


@pytest.mark.parametrize("name, wide", [("beta", (-0.5, 1.5)), ("gamma", (-1.0, 3.0)), ("chi2", (-1.0, 3.0)),
                                        ("expon", (-1.0, 3.0)), ("uniform", (-0.5, 1.5)), ("lognorm", (-1.0, 3.0))])
def test_outside_the_support(name, wide):
    params = next(p for n, p, _ in DISTRIBUTIONS if n == name)
    args = arguments(params, shapes=[(8,)] + [()] * (len(params) - 1))
    args[0] = onp.linspace(*wide, 8)
    for fun in CONTINUOUS:
        with onp.errstate(divide="ignore"):
            assert onp.allclose(getattr(getattr(stats, name), fun)(*args), getattr(getattr(ostats, name), fun)(*args),
                                equal_nan=True), fun
    slope = elementwise_grad(getattr(stats, name).cdf)(*args)
    assert onp.all(onp.isfinite(slope))


# The cdfs in their shape parameters over regimes (shape parameter < 1, = 1, large; x in both tails), first order
TAILS = ("cdf", "logcdf", "sf", "logsf")
SHAPE_REGIMES = [
    ("gamma", 1, [onp.array([0.01, 0.8, 5.0, 40.0]), onp.array([[0.3], [1.0], [20.0]])]),
    ("chi2", 1, [onp.array([0.01, 0.8, 5.0, 60.0]), onp.array([[0.5], [2.0], [40.0]])]),
    ("beta", 1, [onp.array([0.001, 0.3, 0.9, 0.999]), onp.array([[0.2], [1.0], [30.0]]), 2.0]),
    ("beta", 2, [onp.array([0.001, 0.3, 0.9, 0.999]), 1.5, onp.array([[0.2], [1.0], [30.0]])]),
    ("t", 1, [onp.array([-30.0, -1.0, 0.4, 6.0]), onp.array([[0.5], [3.0], [40.0]])]),
]


@pytest.mark.parametrize("fun", TAILS)
@pytest.mark.parametrize("name, argnum, args", SHAPE_REGIMES, ids=[f"{r[0]}-{r[1]}" for r in SHAPE_REGIMES])
def test_cdf_in_shape_parameters(name, argnum, args, fun):
    ours = getattr(getattr(stats, name), fun)
    assert onp.allclose(ours(*args), getattr(getattr(ostats, name), fun)(*args), rtol=1e-9, atol=1e-12)
    check_grads(ours, argnum=argnum, modes=("fwd", "rev"), order=1)(*args)  # first order only: quadrature


def test_cdf_in_shape_parameters_against_scipy():
    """Against extrapolated differences of scipy.stats' own cdfs (of -sf in the upper tail), to 1e-7."""
    for x, df in [(0.3, 0.7), (2.0, 3.0), (9.0, 4.0), (30.0, 12.0)]:
        upper = x > df
        expected = extrapolated_derivative(lambda d: -ostats.chi2.sf(x, d) if upper else ostats.chi2.cdf(x, d), df)
        assert onp.isclose(grad(stats.chi2.cdf, 1)(x, df), expected, rtol=1e-7, atol=0)
    for x, df in [(-4.0, 0.8), (-0.5, 2.5), (1.2, 7.0)]:
        expected = extrapolated_derivative(lambda d: -ostats.t.sf(x, d) if x > 0 else ostats.t.cdf(x, d), df)
        assert onp.isclose(grad(stats.t.cdf, 1)(x, df), expected, rtol=1e-7, atol=0)
        assert onp.isclose(grad(stats.t.sf, 1)(x, df), -expected, rtol=1e-7, atol=0)
    x, a, b = 0.35, 0.6, 2.5
    assert onp.allclose(grad(stats.beta.cdf, (1, 2))(x, a, b),
                        (extrapolated_derivative(lambda s: ostats.beta.cdf(x, s, b), a),
                         extrapolated_derivative(lambda s: ostats.beta.cdf(x, a, s), b)), rtol=1e-7, atol=0)
    # loc and scale move x only: d/da gamma.cdf(x, a, loc, scale) = d/da P(a, (x - loc) / scale)
    assert onp.isclose(grad(stats.gamma.cdf, 1)(2.0, 1.7, 0.5, 2.0), grad(stats.gamma.cdf, 1)(0.75, 1.7), rtol=1e-12)


def test_norm_closed_forms():
    x, mu, sigma = draw((5,), X_ANY), 0.3, 1.7
    assert onp.allclose(elementwise_grad(stats.norm.logpdf)(x, mu, sigma), -(x - mu) / sigma ** 2)
    assert onp.allclose(grad(lambda mu: np.sum(stats.norm.logpdf(x, mu, sigma)))(mu), onp.sum(x - mu) / sigma ** 2)
    assert onp.allclose(grad(lambda s: np.sum(stats.norm.logpdf(x, mu, s)))(sigma),
                        onp.sum((x - mu) ** 2 / sigma ** 3 - 1 / sigma))
    assert onp.allclose(elementwise_grad(stats.norm.cdf)(x, mu, sigma), ostats.norm.pdf(x, mu, sigma))
    assert onp.allclose(elementwise_grad(stats.norm.logsf)(x, mu, sigma),
                        -ostats.norm.pdf(x, mu, sigma) / ostats.norm.sf(x, mu, sigma))


def test_norm_ppf():
    q = onp.array([0.1, 0.5, 0.8])
    assert onp.allclose(stats.norm.ppf(q, 0.5, 2.0), ostats.norm.ppf(q, 0.5, 2.0))
    check_grads(stats.norm.ppf)(q, 0.5, 2.0)
    check_grads(stats.norm.ppf, argnum=2)(q, 0.5, 2.0)
    assert onp.allclose(elementwise_grad(stats.norm.ppf)(q), 1 / ostats.norm.pdf(ostats.norm.ppf(q)))


def test_float32():
    x = onp.array([-1.0, 0.5, 2.0], onp.float32)
    loc, scale = onp.float32(0.2), onp.float32(1.3)
    for fun in CONTINUOUS:
        value = getattr(stats.norm, fun)(x, loc, scale)
        assert value.dtype == onp.float32
        assert onp.allclose(value, getattr(ostats.norm, fun)(x, loc, scale), rtol=1e-5)
        check_grads(getattr(stats.norm, fun), argnum=(0, 1, 2))(x, loc, scale)
    check_grads(stats.gamma.logpdf, argnum=(0, 1))(x + 2, onp.float32(2.0))
    check_grads(stats.t.logpdf, argnum=(0, 1))(x, onp.float32(3.0))


# Poisson: pmf in mu (k is discrete)

@pytest.mark.parametrize("fun", ["pmf", "logpmf", "cdf", "logcdf", "sf", "logsf"])
def test_poisson(fun):
    k = onp.array([[0, 1, 3], [2, 5, 0]])
    mu = onp.array([0.7, 2.5, 4.0])
    ours, theirs = getattr(stats.poisson, fun), getattr(ostats.poisson, fun)
    assert onp.allclose(ours(k, mu), theirs(k, mu), rtol=1e-9)
    assert onp.allclose(ours(k, mu, 1), theirs(k, mu, 1), rtol=1e-9)  # loc shifts k
    check_grads(lambda mu: ours(k, mu))(mu)
    check_grads(lambda mu: ours(k, mu))(1.3)
    check_grads(lambda mu: ours(onp.array([1, 4]), mu))(onp.array([[0.5], [2.0]]))  # mu broadcast against k


def test_poisson_closed_forms_and_support():
    k, mu = onp.array([0.0, 1.0, 3.0, 6.0]), 2.2
    assert onp.allclose(elementwise_grad(lambda mu: stats.poisson.logpmf(k, mu))(onp.full(4, mu)), k / mu - 1)
    assert onp.allclose(grad(lambda mu: stats.poisson.cdf(3, mu))(mu), -ostats.poisson.pmf(3, mu))
    bad = onp.array([-1.0, 1.5, 2.0])
    assert onp.allclose(stats.poisson.logpmf(bad, mu), ostats.poisson.logpmf(bad, mu))
    assert onp.allclose(stats.poisson.cdf(bad, mu), ostats.poisson.cdf(bad, mu))
    assert onp.allclose(stats.poisson.sf(bad, mu), ostats.poisson.sf(bad, mu))


# Multivariate normal

def _spd(k):
    a = onp.random.randn(k, k)
    return a @ a.T + k * onp.eye(k)


@pytest.mark.parametrize("fun", ["logpdf", "pdf"])
@pytest.mark.parametrize("x_shape", [(3,), (4, 3), (2, 2, 3)], ids=str)
def test_multivariate_normal(fun, x_shape):
    x, mean, cov = onp.random.randn(*x_shape), onp.random.randn(3), _spd(3)
    ours, theirs = getattr(stats.multivariate_normal, fun), getattr(ostats.multivariate_normal, fun)
    assert onp.allclose(ours(x, mean, cov), theirs(x, mean, cov))
    assert onp.shape(ours(x, mean, cov)) == onp.shape(theirs(x, mean, cov))
    for argnum in range(3):
        check_grads(ours, argnum=argnum)(x, mean, cov)
    check_grads(lambda c: ours(x, mean=mean, cov=c, allow_singular=False))(cov)


def test_multivariate_normal_cov_forms_and_defaults():
    x, mean = onp.random.randn(4, 3), onp.random.randn(3)
    diagonal, scalar = onp.array([0.5, 1.2, 2.0]), 1.7
    mvn, ref = stats.multivariate_normal, ostats.multivariate_normal
    for cov in (diagonal, scalar):
        assert onp.allclose(mvn.logpdf(x, mean, cov), ref.logpdf(x, mean, cov))
        check_grads(mvn.logpdf, argnum=2)(x, mean, cov)
    assert onp.allclose(mvn.logpdf(x[0]), ref.logpdf(x[0]))  # mean None, cov 1
    assert onp.allclose(mvn.logpdf(onp.array([0.3, -1.0, 2.0]), 0.5, 2.0),
                        ref.logpdf(onp.array([0.3, -1.0, 2.0]), 0.5, 2.0))  # k = 1: a vector is three points
    assert onp.allclose(mvn.logpdf(0.3, 0.5, 2.0), ref.logpdf(0.3, 0.5, 2.0))


def test_multivariate_normal_closed_forms():
    x, mean, cov = onp.random.randn(3), onp.random.randn(3), _spd(3)
    inv = onp.linalg.inv(cov)
    d = x - mean
    assert onp.allclose(grad(stats.multivariate_normal.logpdf, 1)(x, mean, cov), inv @ d)
    assert onp.allclose(grad(stats.multivariate_normal.logpdf, 0)(x, mean, cov), -inv @ d)
    assert onp.allclose(grad(stats.multivariate_normal.logpdf, 2)(x, mean, cov),
                        -0.5 * (inv - onp.outer(inv @ d, inv @ d)))


def test_multivariate_normal_refusals():
    with pytest.raises(NotImplementedError, match="allow_singular"):
        stats.multivariate_normal.logpdf(onp.zeros(2), onp.zeros(2), onp.eye(2), allow_singular=True)
    with pytest.raises(ValueError, match="positive definite"):
        stats.multivariate_normal.logpdf(onp.zeros(2), onp.zeros(2), -onp.eye(2))


# Dirichlet

@pytest.mark.parametrize("fun", ["logpdf", "pdf"])
def test_dirichlet(fun):
    alpha = onp.array([1.5, 2.0, 3.5])
    ours, theirs = getattr(stats.dirichlet, fun), getattr(ostats.dirichlet, fun)
    x = onp.array([0.2, 0.3, 0.5])
    xs = onp.array([[0.2, 0.3], [0.3, 0.3], [0.5, 0.4]])  # components along the first axis, two points
    for points in (x, xs, xs[:2]):  # xs[:2]: the last component implied
        assert onp.allclose(ours(points, alpha), theirs(points, alpha))
        check_grads(ours, argnum=1)(points, alpha)
        check_grads(ours, argnum=0)(points, alpha)


def test_dirichlet_closed_form():
    alpha, x = onp.array([1.5, 2.0, 3.5]), onp.array([0.2, 0.3, 0.5])
    assert onp.allclose(grad(stats.dirichlet.logpdf, 1)(x, alpha),
                        onp.log(x) + osp.psi(alpha.sum()) - osp.psi(alpha))
    assert onp.allclose(grad(stats.dirichlet.logpdf, 0)(x, alpha), (alpha - 1) / x)


# A Gaussian mixture model, as a user writes it

def gmm_loglik(params, data):
    means, log_scales, logits = params
    log_weights = logits - logsumexp(logits)
    per_component = stats.norm.logpdf(data[:, None], means, np.exp(log_scales)) + log_weights
    return np.sum(logsumexp(per_component, axis=1))


def test_gaussian_mixture_log_likelihood():
    data = onp.concatenate([onp.random.randn(6) - 2, 0.5 * onp.random.randn(4) + 1])
    params = (onp.array([-1.5, 0.8, 2.0]), onp.array([0.1, -0.4, 0.3]), onp.array([0.2, -0.1, 0.5]))
    gradient = grad(gmm_loglik)(params, data)
    eps = 1e-6
    for i in range(3):
        for j in range(3):
            up = [p.copy() for p in params]
            down = [p.copy() for p in params]
            up[i][j] += eps
            down[i][j] -= eps
            numeric = (gmm_loglik(tuple(up), data) - gmm_loglik(tuple(down), data)) / (2 * eps)
            assert abs(gradient[i][j] - numeric) < 1e-6 * (1 + abs(numeric))
    value = onp.sum(osp.logsumexp(ostats.norm.logpdf(data[:, None], params[0], onp.exp(params[1]))
                                  + params[2] - osp.logsumexp(params[2]), axis=1))
    assert onp.isclose(gmm_loglik(params, data), value)
    check_grads(gmm_loglik)(params, data)
    tangent = (onp.ones(3), onp.zeros(3), onp.zeros(3))
    assert onp.isclose(make_jvp(gmm_loglik)(params, data)(tangent)[1], onp.sum(gradient[0]))


def test_multivariate_normal_entropy():
    """The entropy is (k log(2 pi e) + log det C) / 2: its gradient in C is inv(C)^T / 2."""
    root = onp.array([[1.2, 0.3, 0.0], [0.1, 0.9, 0.2], [0.0, -0.3, 1.1]])
    cov = root @ root.T + 0.5 * onp.eye(3)
    assert onp.allclose(stats.multivariate_normal.entropy(cov=cov), ostats.multivariate_normal.entropy(cov=cov))
    assert onp.allclose(grad(lambda c: stats.multivariate_normal.entropy(cov=c))(cov), 0.5 * onp.linalg.inv(cov).T)
    check_grads(lambda r: stats.multivariate_normal.entropy(onp.zeros(3), r @ r.T + 0.5 * onp.eye(3)))(root)
