"""What the distributions share: array conversion and the standardised variable (x - loc) / scale."""

from __future__ import annotations

from typing import Any

import numpy as _np

from ...core.tracer import isbox
from ...numpy import wrapped as anp

LOG_2PI = float(_np.log(2 * _np.pi))  # python floats keep float32 data float32
LOG_PI = float(_np.log(_np.pi))
LOG_2 = float(_np.log(2.0))


def asarray(x: Any) -> Any:
    """``x`` as scipy.stats would take it: lists become arrays; traced values and scalars pass through."""
    return _np.asarray(x) if isinstance(x, (list, tuple)) and not isbox(x) else x


def standardize(x: Any, loc: Any, scale: Any) -> Any:
    """z = (x - loc) / scale, the argument of the standard distribution."""
    return (asarray(x) - asarray(loc)) / asarray(scale)


def safe(inside: Any, z: Any, fill: float) -> Any:
    """``z`` where ``inside``, else ``fill``: a point where the formula is finite, so that the branch that
    ``where`` discards has a finite gradient (0 * nan would be nan)."""
    return anp.where(inside, z, fill)


def log(p: Any) -> Any:
    """log(p) without NumPy's divide-by-zero warning: log(0) = -inf is the right answer outside the support."""
    with _np.errstate(divide="ignore"):
        return anp.log(p)
