"""Reductions: sums, means, products, extrema and moments over axes, with ``keepdims``.

The VJP of a reduction over ``axis`` spreads ``g`` back over the reduced axes (``repeat_to_match``); its JVP is
the same reduction of the tangent, or its first-order change.
"""

from __future__ import annotations

from ..core.backward import defvjp
from ..core.forward import defjvp
from . import wrapped as anp
from .rules_util import match_complex, repeat_to_match, shape_of


def _count(x, axis):
    shape = shape_of(x)
    if axis is None:
        return max(1, int(anp.prod(shape)))
    axes = (axis,) if isinstance(axis, int) else axis
    return int(anp.prod([shape[a] for a in axes]))


defvjp(anp.sum, lambda ans, x, axis=None, dtype=None, keepdims=False, **kw: lambda g: match_complex(
    x, repeat_to_match(g, x, axis, keepdims)))
defjvp(anp.sum, "same")
defvjp(anp.mean, lambda ans, x, axis=None, dtype=None, keepdims=False, **kw: lambda g: match_complex(
    x, repeat_to_match(g, x, axis, keepdims) / _count(x, axis)))
defjvp(anp.mean, "same")
