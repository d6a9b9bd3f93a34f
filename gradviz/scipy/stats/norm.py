"""The normal distribution, as scipy.stats.norm: a composition of ndtr, log_ndtr and ndtri, whose rules are
in gradviz.scipy.special (d ndtr / dx is the density)."""

from __future__ import annotations

from typing import Any

from ...numpy import wrapped as anp
from .. import special as sc
from ._common import LOG_2PI, asarray, standardize


def logpdf(x: Any, loc: Any = 0.0, scale: Any = 1.0) -> Any:
    z = standardize(x, loc, scale)
    return -0.5 * z * z - anp.log(scale) - 0.5 * LOG_2PI


def pdf(x: Any, loc: Any = 0.0, scale: Any = 1.0) -> Any:
    return anp.exp(logpdf(x, loc, scale))


def cdf(x: Any, loc: Any = 0.0, scale: Any = 1.0) -> Any:
    return sc.ndtr(standardize(x, loc, scale))


def logcdf(x: Any, loc: Any = 0.0, scale: Any = 1.0) -> Any:
    return sc.log_ndtr(standardize(x, loc, scale))


def sf(x: Any, loc: Any = 0.0, scale: Any = 1.0) -> Any:
    return sc.ndtr(-standardize(x, loc, scale))


def logsf(x: Any, loc: Any = 0.0, scale: Any = 1.0) -> Any:
    return sc.log_ndtr(-standardize(x, loc, scale))


def ppf(q: Any, loc: Any = 0.0, scale: Any = 1.0) -> Any:
    return asarray(loc) + asarray(scale) * sc.ndtri(asarray(q))
