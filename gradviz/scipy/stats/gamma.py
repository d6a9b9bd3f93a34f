"""The gamma distribution, as scipy.stats.gamma. The density is differentiable in x, a, loc and scale; the cdf
(gammainc) and sf (gammaincc) too, but in a only to first order, by numerical quadrature (slower; a second
derivative in a raises NotImplementedError)."""

from __future__ import annotations

from typing import Any

import numpy as _np

from ...numpy import wrapped as anp
from .. import special as sc
from ._common import asarray, log, safe, standardize


def logpdf(x: Any, a: Any, loc: Any = 0.0, scale: Any = 1.0) -> Any:
    z, a = standardize(x, loc, scale), asarray(a)
    inside = z >= 0
    z = safe(inside, z, 1.0)
    return anp.where(inside, sc.xlogy(a - 1, z) - z - sc.gammaln(a) - anp.log(scale), -_np.inf)


def pdf(x: Any, a: Any, loc: Any = 0.0, scale: Any = 1.0) -> Any:
    return anp.exp(logpdf(x, a, loc, scale))


def cdf(x: Any, a: Any, loc: Any = 0.0, scale: Any = 1.0) -> Any:
    return sc.gammainc(asarray(a), anp.maximum(standardize(x, loc, scale), 0.0))


def logcdf(x: Any, a: Any, loc: Any = 0.0, scale: Any = 1.0) -> Any:
    return log(cdf(x, a, loc, scale))


def sf(x: Any, a: Any, loc: Any = 0.0, scale: Any = 1.0) -> Any:
    return sc.gammaincc(asarray(a), anp.maximum(standardize(x, loc, scale), 0.0))


def logsf(x: Any, a: Any, loc: Any = 0.0, scale: Any = 1.0) -> Any:
    return log(sf(x, a, loc, scale))
