"""Student's t distribution, as scipy.stats.t. The cdf is stdtr, differentiable in x (its density) and, to first
order only, in df (by numerical quadrature: slower; a second derivative in df raises NotImplementedError)."""

from __future__ import annotations

from typing import Any

from ...numpy import wrapped as anp
from .. import special as sc
from ._common import LOG_PI, asarray, log, standardize


def logpdf(x: Any, df: Any, loc: Any = 0.0, scale: Any = 1.0) -> Any:
    z, df = standardize(x, loc, scale), asarray(df)
    return (sc.gammaln(0.5 * (df + 1)) - sc.gammaln(0.5 * df) - 0.5 * (anp.log(df) + LOG_PI)
            - 0.5 * (df + 1) * anp.log1p(z * z / df) - anp.log(scale))


def pdf(x: Any, df: Any, loc: Any = 0.0, scale: Any = 1.0) -> Any:
    return anp.exp(logpdf(x, df, loc, scale))


def cdf(x: Any, df: Any, loc: Any = 0.0, scale: Any = 1.0) -> Any:
    return sc.stdtr(asarray(df), standardize(x, loc, scale))


def logcdf(x: Any, df: Any, loc: Any = 0.0, scale: Any = 1.0) -> Any:
    return log(cdf(x, df, loc, scale))


def sf(x: Any, df: Any, loc: Any = 0.0, scale: Any = 1.0) -> Any:
    return sc.stdtr(asarray(df), -standardize(x, loc, scale))


def logsf(x: Any, df: Any, loc: Any = 0.0, scale: Any = 1.0) -> Any:
    return log(sf(x, df, loc, scale))
