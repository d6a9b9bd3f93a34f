"""The log-normal distribution, as scipy.stats.lognorm: log(y) / s is standard normal, y = (x - loc) / scale."""

from __future__ import annotations

from typing import Any

import numpy as _np

from ...numpy import wrapped as anp
from .. import special as sc
from ._common import LOG_2PI, asarray, safe, standardize


def _log_y(x: Any, loc: Any, scale: Any) -> tuple:
    """(y > 0, log y), with log y finite (0) where y <= 0, so that the discarded branch has finite gradients."""
    y = standardize(x, loc, scale)
    inside = y > 0
    return inside, anp.log(safe(inside, y, 1.0))


def logpdf(x: Any, s: Any, loc: Any = 0.0, scale: Any = 1.0) -> Any:
    inside, log_y = _log_y(x, loc, scale)
    s = asarray(s)
    u = log_y / s
    value = -0.5 * u * u - anp.log(s) - log_y - 0.5 * LOG_2PI - anp.log(scale)
    return anp.where(inside, value, -_np.inf)


def pdf(x: Any, s: Any, loc: Any = 0.0, scale: Any = 1.0) -> Any:
    return anp.exp(logpdf(x, s, loc, scale))


def cdf(x: Any, s: Any, loc: Any = 0.0, scale: Any = 1.0) -> Any:
    inside, log_y = _log_y(x, loc, scale)
    return anp.where(inside, sc.ndtr(log_y / asarray(s)), 0.0)


def logcdf(x: Any, s: Any, loc: Any = 0.0, scale: Any = 1.0) -> Any:
    inside, log_y = _log_y(x, loc, scale)
    return anp.where(inside, sc.log_ndtr(log_y / asarray(s)), -_np.inf)


def sf(x: Any, s: Any, loc: Any = 0.0, scale: Any = 1.0) -> Any:
    inside, log_y = _log_y(x, loc, scale)
    return anp.where(inside, sc.ndtr(-log_y / asarray(s)), 1.0)


def logsf(x: Any, s: Any, loc: Any = 0.0, scale: Any = 1.0) -> Any:
    inside, log_y = _log_y(x, loc, scale)
    return anp.where(inside, sc.log_ndtr(-log_y / asarray(s)), 0.0)
