"""The Laplace distribution, as scipy.stats.laplace. Both tails are written with exp(-|z|), which never
overflows; the density has a kink at loc."""

from __future__ import annotations

from typing import Any

from ...numpy import wrapped as anp
from ._common import LOG_2, standardize


def logpdf(x: Any, loc: Any = 0.0, scale: Any = 1.0) -> Any:
    return -anp.abs(standardize(x, loc, scale)) - anp.log(scale) - LOG_2


def pdf(x: Any, loc: Any = 0.0, scale: Any = 1.0) -> Any:
    return anp.exp(logpdf(x, loc, scale))


def _cdf(z: Any) -> Any:
    tail = 0.5 * anp.exp(-anp.abs(z))
    return anp.where(z < 0, tail, 1 - tail)


def _logcdf(z: Any) -> Any:
    return anp.where(z < 0, -anp.abs(z) - LOG_2, anp.log1p(-0.5 * anp.exp(-anp.abs(z))))


def cdf(x: Any, loc: Any = 0.0, scale: Any = 1.0) -> Any:
    return _cdf(standardize(x, loc, scale))


def logcdf(x: Any, loc: Any = 0.0, scale: Any = 1.0) -> Any:
    return _logcdf(standardize(x, loc, scale))


def sf(x: Any, loc: Any = 0.0, scale: Any = 1.0) -> Any:
    return _cdf(-standardize(x, loc, scale))


def logsf(x: Any, loc: Any = 0.0, scale: Any = 1.0) -> Any:
    return _logcdf(-standardize(x, loc, scale))
