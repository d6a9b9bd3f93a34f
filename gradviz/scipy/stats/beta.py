"""The beta distribution, as scipy.stats.beta. The density is differentiable in x, a, b, loc and scale; the cdf
(betainc) and sf (betaincc) too, but in a and b only to first order, by numerical quadrature (slower; a second
derivative in a or b raises NotImplementedError)."""

from __future__ import annotations

from typing import Any

import numpy as _np

from ...numpy import wrapped as anp
from .. import special as sc
from ._common import asarray, log, safe, standardize


def logpdf(x: Any, a: Any, b: Any, loc: Any = 0.0, scale: Any = 1.0) -> Any:
    z, a, b = standardize(x, loc, scale), asarray(a), asarray(b)
    inside = (z >= 0) & (z <= 1)
    z = safe(inside, z, 0.5)
    value = sc.xlogy(a - 1, z) + sc.xlog1py(b - 1, -z) - sc.betaln(a, b) - anp.log(scale)
    return anp.where(inside, value, -_np.inf)


def pdf(x: Any, a: Any, b: Any, loc: Any = 0.0, scale: Any = 1.0) -> Any:
    return anp.exp(logpdf(x, a, b, loc, scale))


def cdf(x: Any, a: Any, b: Any, loc: Any = 0.0, scale: Any = 1.0) -> Any:
    return sc.betainc(asarray(a), asarray(b), anp.clip(standardize(x, loc, scale), 0.0, 1.0))


def logcdf(x: Any, a: Any, b: Any, loc: Any = 0.0, scale: Any = 1.0) -> Any:
    return log(cdf(x, a, b, loc, scale))


def sf(x: Any, a: Any, b: Any, loc: Any = 0.0, scale: Any = 1.0) -> Any:
    return sc.betaincc(asarray(a), asarray(b), anp.clip(standardize(x, loc, scale), 0.0, 1.0))


def logsf(x: Any, a: Any, b: Any, loc: Any = 0.0, scale: Any = 1.0) -> Any:
    return log(sf(x, a, b, loc, scale))
