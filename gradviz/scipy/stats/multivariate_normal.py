"""The multivariate normal distribution, as scipy.stats.multivariate_normal: logpdf and pdf in x, mean and cov.

log p = -(k log 2 pi + log det C + d^T C^-1 d) / 2 with d = x - mean, built from gradviz.numpy.linalg's inv and
slogdet, so the density is differentiable to any order in both modes.
"""

from __future__ import annotations

from typing import Any

import numpy as _np

from ...core.tracer import getval
from ...numpy import linalg as alinalg
from ...numpy import wrapped as anp
from ...numpy.rules_util import shape_of
from ._common import LOG_2PI, asarray


def _inverse_and_logdet(c: Any) -> tuple[Any, Any]:
    """inv(c) and log det(c), after checking that c is positive definite (as scipy does)."""
    try:
        _np.linalg.cholesky(getval(c))
    except _np.linalg.LinAlgError:
        raise ValueError("multivariate_normal: the covariance matrix is not positive definite") from None
    return alinalg.inv(c), alinalg.slogdet(c)[1]


def _covariance(cov: Any, k: int) -> Any:
    """``cov`` as a k x k matrix: scipy also takes a scalar (a multiple of I) or a vector (a diagonal)."""
    cov = asarray(cov)
    ndim = len(shape_of(cov))
    if ndim == 0:
        return cov * _np.eye(k)
    if ndim == 1:
        return anp.diag(cov)
    return cov


def logpdf(x: Any, mean: Any = None, cov: Any = 1, allow_singular: bool = False) -> Any:
    if allow_singular:
        raise NotImplementedError("gradviz.scipy.stats.multivariate_normal: allow_singular=True is not supported")
    x = asarray(x)
    mean_shape = shape_of(mean) if mean is not None else ()
    cov_shape = shape_of(cov)
    k = mean_shape[0] if mean_shape else (cov_shape[0] if cov_shape else 1)  # as scipy: x does not set it
    # Points along the last axis, as scipy reads x: a scalar or, when k is 1, a vector of 1-d points
    x_shape = shape_of(x)
    if len(x_shape) == 0 or (len(x_shape) == 1 and k == 1 and x_shape[0] != 1):
        x = anp.reshape(x, x_shape + (1,))
    d = x - (asarray(mean) if mean is not None else 0.0)
    inverse, logdet = _inverse_and_logdet(_covariance(cov, k))
    maha = anp.sum(anp.matmul(d, inverse) * d, axis=-1)
    out = -0.5 * (k * LOG_2PI + logdet + maha)
    return _squeeze(out)


def pdf(x: Any, mean: Any = None, cov: Any = 1, allow_singular: bool = False) -> Any:
    return anp.exp(logpdf(x, mean, cov, allow_singular))


def entropy(mean: Any = None, cov: Any = 1, allow_singular: bool = False) -> Any:
    """The differential entropy, (k log(2 pi e) + log det C) / 2; it depends on cov only."""
    if allow_singular:
        raise NotImplementedError("gradviz.scipy.stats.multivariate_normal: allow_singular=True is not supported")
    cov_shape = shape_of(cov)
    k = shape_of(mean)[0] if mean is not None and shape_of(mean) else (cov_shape[0] if cov_shape else 1)
    _, logdet = _inverse_and_logdet(_covariance(cov, k))
    return 0.5 * (k * (LOG_2PI + 1.0) + logdet)


def _squeeze(out: Any) -> Any:
    """scipy's output: size-1 axes dropped, a scalar for one point."""
    if 1 in shape_of(out):
        out = anp.squeeze(out)
    if shape_of(out) == () and isinstance(getval(out), _np.ndarray):
        out = out[()]
    return out
