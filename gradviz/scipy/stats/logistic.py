"""The logistic distribution, as scipy.stats.logistic: expit and log_expit, whose rules are in
gradviz.scipy.special (the density is expit(z) expit(-z))."""

from __future__ import annotations

from typing import Any

from ...numpy import wrapped as anp
from .. import special as sc
from ._common import standardize


def logpdf(x: Any, loc: Any = 0.0, scale: Any = 1.0) -> Any:
    z = standardize(x, loc, scale)
    return sc.log_expit(z) + sc.log_expit(-z) - anp.log(scale)


def pdf(x: Any, loc: Any = 0.0, scale: Any = 1.0) -> Any:
    return anp.exp(logpdf(x, loc, scale))


def cdf(x: Any, loc: Any = 0.0, scale: Any = 1.0) -> Any:
    return sc.expit(standardize(x, loc, scale))


def logcdf(x: Any, loc: Any = 0.0, scale: Any = 1.0) -> Any:
    return sc.log_expit(standardize(x, loc, scale))


def sf(x: Any, loc: Any = 0.0, scale: Any = 1.0) -> Any:
    return sc.expit(-standardize(x, loc, scale))


def logsf(x: Any, loc: Any = 0.0, scale: Any = 1.0) -> Any:
    return sc.log_expit(-standardize(x, loc, scale))
