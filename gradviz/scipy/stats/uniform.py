"""The uniform distribution on [loc, loc + scale], as scipy.stats.uniform."""

from __future__ import annotations

from typing import Any

import numpy as _np

from ...numpy import wrapped as anp
from ._common import asarray, log, standardize


def _inside(z: Any) -> Any:
    return (z >= 0) & (z <= 1)


def logpdf(x: Any, loc: Any = 0.0, scale: Any = 1.0) -> Any:
    z = standardize(x, loc, scale)
    return anp.where(_inside(z), -anp.log(scale), -_np.inf)


def pdf(x: Any, loc: Any = 0.0, scale: Any = 1.0) -> Any:
    z = standardize(x, loc, scale)
    return anp.where(_inside(z), 1 / asarray(scale), 0.0)


def cdf(x: Any, loc: Any = 0.0, scale: Any = 1.0) -> Any:
    return anp.clip(standardize(x, loc, scale), 0.0, 1.0)


def logcdf(x: Any, loc: Any = 0.0, scale: Any = 1.0) -> Any:
    return log(cdf(x, loc, scale))


def sf(x: Any, loc: Any = 0.0, scale: Any = 1.0) -> Any:
    return 1 - cdf(x, loc, scale)


def logsf(x: Any, loc: Any = 0.0, scale: Any = 1.0) -> Any:
    with _np.errstate(divide="ignore"):
        return anp.log1p(-cdf(x, loc, scale))
