"""Everything needed to add primitives to gradviz: ``from gradviz.extend import primitive, defvjp, ...``.

A primitive is a function gradviz treats as one step. Give it a VJP (reverse mode) and a JVP (forward mode)::

    @primitive
    def logsumexp(x):
        m = np.max(x)
        return m + np.log(np.sum(np.exp(x - m)))

    defvjp(logsumexp, lambda ans, x: lambda g: g * np.exp(x - ans))
    defjvp(logsumexp, lambda g, ans, x: np.sum(g * np.exp(x - ans)))
"""

from .core.backward import IndexedGrad as SparseObject
from .core.backward import (
    VJPNode,
    defvjp,
    defvjp_argnum,
    defvjp_argnums,
    defvjp_is_zero,
    register_hook,
)
from .core.forward import JVPNode, def_linear, defjvp, defjvp_argnum, defjvp_argnums, defjvp_is_zero
from .core.node import Node
from .core.numerical import NumericalDerivativeWarning, def_numerical_vjp
from .core.tracer import (
    Box,
    Primitive,
    getval,
    isbox,
    notrace_primitive,
    primitive,
    register_notrace,
    stop_gradient,
)
from .core.vspace import VSpace, vspace

__all__ = [
    "primitive", "notrace_primitive", "Primitive", "defvjp", "defvjp_argnum", "defvjp_argnums", "defvjp_is_zero",
    "defjvp", "defjvp_argnum", "defjvp_argnums", "defjvp_is_zero", "def_linear", "Box", "VSpace", "vspace",
    "SparseObject", "VJPNode", "JVPNode", "Node", "getval", "isbox", "stop_gradient",
    "register_notrace", "register_hook", "def_numerical_vjp", "NumericalDerivativeWarning",
]
