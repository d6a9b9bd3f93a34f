"""scipy.stats for gradviz: ``gradviz.scipy.stats.norm.logpdf(x, loc, scale)`` and the like, differentiable in x
and in every continuous parameter, in both modes. Each distribution is a module of functions with scipy's
signatures, written with gradviz.numpy and gradviz.scipy.special."""

from . import (  # noqa: F401
    beta,
    cauchy,
    chi2,
    dirichlet,
    expon,
    gamma,
    laplace,
    logistic,
    lognorm,
    multivariate_normal,
    norm,
    poisson,
    t,
    uniform,
)
