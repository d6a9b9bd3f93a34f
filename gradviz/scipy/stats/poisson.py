"""The Poisson distribution, as scipy.stats.poisson: differentiable in mu (k is discrete). The cdf is
gammaincc(floor(k) + 1, mu), differentiable in its x = mu."""

from __future__ import annotations

from typing import Any

import numpy as _np

from ...numpy import wrapped as anp
from .. import special as sc
from ._common import asarray, log


def logpmf(k: Any, mu: Any, loc: Any = 0) -> Any:
    k, mu = asarray(k) - asarray(loc), asarray(mu)
    inside = (k >= 0) & (k == anp.floor(k))
    k = anp.where(inside, k, 0.0)
    return anp.where(inside, sc.xlogy(k, mu) - sc.gammaln(k + 1) - mu, -_np.inf)


def pmf(k: Any, mu: Any, loc: Any = 0) -> Any:
    return anp.exp(logpmf(k, mu, loc))


def cdf(k: Any, mu: Any, loc: Any = 0) -> Any:
    k, mu = anp.floor(asarray(k) - asarray(loc)), asarray(mu)
    inside = k >= 0
    return anp.where(inside, sc.gammaincc(anp.where(inside, k, 0.0) + 1, mu), 0.0)


def logcdf(k: Any, mu: Any, loc: Any = 0) -> Any:
    return log(cdf(k, mu, loc))


def sf(k: Any, mu: Any, loc: Any = 0) -> Any:
    k, mu = anp.floor(asarray(k) - asarray(loc)), asarray(mu)
    inside = k >= 0
    return anp.where(inside, sc.gammainc(anp.where(inside, k, 0.0) + 1, mu), 1.0)


def logsf(k: Any, mu: Any, loc: Any = 0) -> Any:
    return log(sf(k, mu, loc))
