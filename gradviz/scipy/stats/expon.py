"""The exponential distribution, as scipy.stats.expon. Below loc the density is 0 and the cdf 0: z is clamped
at 0 there, which gives those constants and their zero derivatives."""

from __future__ import annotations

from typing import Any

import numpy as _np

from ...numpy import wrapped as anp
from ._common import log, standardize


def logpdf(x: Any, loc: Any = 0.0, scale: Any = 1.0) -> Any:
    z = standardize(x, loc, scale)
    return anp.where(z >= 0, -anp.maximum(z, 0.0) - anp.log(scale), -_np.inf)


def pdf(x: Any, loc: Any = 0.0, scale: Any = 1.0) -> Any:
    return anp.exp(logpdf(x, loc, scale))


def cdf(x: Any, loc: Any = 0.0, scale: Any = 1.0) -> Any:
    return -anp.expm1(-anp.maximum(standardize(x, loc, scale), 0.0))


def logcdf(x: Any, loc: Any = 0.0, scale: Any = 1.0) -> Any:
    return log(cdf(x, loc, scale))


def sf(x: Any, loc: Any = 0.0, scale: Any = 1.0) -> Any:
    return anp.exp(logsf(x, loc, scale))


def logsf(x: Any, loc: Any = 0.0, scale: Any = 1.0) -> Any:
    return -anp.maximum(standardize(x, loc, scale), 0.0)
