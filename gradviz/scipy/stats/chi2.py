"""The chi-squared distribution, as scipy.stats.chi2: the gamma distribution with shape df/2 and scale 2 (so the
cdf and sf are differentiable in df to first order only, as gamma's are in a)."""

from __future__ import annotations

from typing import Any

from . import gamma
from ._common import asarray


def logpdf(x: Any, df: Any, loc: Any = 0.0, scale: Any = 1.0) -> Any:
    return gamma.logpdf(x, 0.5 * asarray(df), loc, 2 * asarray(scale))


def pdf(x: Any, df: Any, loc: Any = 0.0, scale: Any = 1.0) -> Any:
    return gamma.pdf(x, 0.5 * asarray(df), loc, 2 * asarray(scale))


def cdf(x: Any, df: Any, loc: Any = 0.0, scale: Any = 1.0) -> Any:
    return gamma.cdf(x, 0.5 * asarray(df), loc, 2 * asarray(scale))


def logcdf(x: Any, df: Any, loc: Any = 0.0, scale: Any = 1.0) -> Any:
    return gamma.logcdf(x, 0.5 * asarray(df), loc, 2 * asarray(scale))


def sf(x: Any, df: Any, loc: Any = 0.0, scale: Any = 1.0) -> Any:
    return gamma.sf(x, 0.5 * asarray(df), loc, 2 * asarray(scale))


def logsf(x: Any, df: Any, loc: Any = 0.0, scale: Any = 1.0) -> Any:
    return gamma.logsf(x, 0.5 * asarray(df), loc, 2 * asarray(scale))
