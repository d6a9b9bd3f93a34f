"""The Cauchy distribution, as scipy.stats.cauchy. cdf(z) = arctan2(1, -z) / pi, which equals 1/2 + arctan(z)/pi
but keeps its precision in the lower tail."""

from __future__ import annotations

from typing import Any

import numpy as _np

from ...numpy import wrapped as anp
from ._common import LOG_PI, log, standardize


def logpdf(x: Any, loc: Any = 0.0, scale: Any = 1.0) -> Any:
    z = standardize(x, loc, scale)
    return -anp.log1p(z * z) - anp.log(scale) - LOG_PI


def pdf(x: Any, loc: Any = 0.0, scale: Any = 1.0) -> Any:
    return anp.exp(logpdf(x, loc, scale))


def cdf(x: Any, loc: Any = 0.0, scale: Any = 1.0) -> Any:
    return anp.arctan2(1.0, -standardize(x, loc, scale)) / _np.pi


def logcdf(x: Any, loc: Any = 0.0, scale: Any = 1.0) -> Any:
    return log(cdf(x, loc, scale))


def sf(x: Any, loc: Any = 0.0, scale: Any = 1.0) -> Any:
    return anp.arctan2(1.0, standardize(x, loc, scale)) / _np.pi


def logsf(x: Any, loc: Any = 0.0, scale: Any = 1.0) -> Any:
    return log(sf(x, loc, scale))
