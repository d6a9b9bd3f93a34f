"""The Dirichlet distribution, as scipy.stats.dirichlet: logpdf and pdf in x and alpha.

As in scipy, x holds the K components along its first axis (or K - 1 of them, the last being 1 - their sum).
Unlike scipy, x is not checked to lie on the simplex: a derivative in x leaves the simplex.
"""

from __future__ import annotations

from typing import Any

from ...numpy import wrapped as anp
from ...numpy.rules_util import shape_of
from .. import special as sc
from ._common import asarray


def logpdf(x: Any, alpha: Any) -> Any:
    x, alpha = asarray(x), asarray(alpha)
    k = shape_of(alpha)[0]
    x_shape = shape_of(x)
    if x_shape[0] == k - 1:
        x = anp.concatenate([x, 1 - anp.sum(x, axis=0, keepdims=True)], axis=0)
    elif x_shape[0] != k:
        raise ValueError(f"dirichlet: x has {x_shape[0]} components along its first axis; alpha has {k}")
    alpha_col = anp.reshape(alpha, (k,) + (1,) * (len(x_shape) - 1))
    log_b = anp.sum(sc.gammaln(alpha)) - sc.gammaln(anp.sum(alpha))
    return anp.sum(sc.xlogy(alpha_col - 1, x), axis=0) - log_b


def pdf(x: Any, alpha: Any) -> Any:
    return anp.exp(logpdf(x, alpha))
