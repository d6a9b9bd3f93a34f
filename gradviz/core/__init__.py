"""The engine: a generic tracer, with reverse mode, forward mode and containers as its clients.

``gradviz.core`` also keeps the names that autograd code imports from ``autograd.core``.
"""

from .backward import VJPNode, backward_pass, defvjp, defvjp_argnum, defvjp_argnums, make_vjp, toposort
from .containers import DictBox, DictVSpace, SequenceBox, SequenceVSpace
from .forward import JVPNode, def_linear, defjvp, defjvp_argnum, defjvp_argnums, make_jvp
from .node import Node
from .tracer import Box, getval, isbox, notrace_primitive, primitive, stop_gradient
from .vspace import VSpace, vspace

__all__ = [
    "VJPNode", "backward_pass", "defvjp", "defvjp_argnum", "defvjp_argnums", "make_vjp", "toposort", "DictBox",
    "DictVSpace", "SequenceBox", "SequenceVSpace", "JVPNode", "def_linear", "defjvp", "defjvp_argnum",
    "defjvp_argnums", "make_jvp", "Node", "Box", "getval", "isbox", "notrace_primitive", "primitive",
    "stop_gradient", "VSpace", "vspace",
]
