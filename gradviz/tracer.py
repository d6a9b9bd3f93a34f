"""The names autograd code imports from ``autograd.tracer``, re-exported from gradviz.core.tracer.

``trace`` keeps gradviz's signature, ``trace(node_type, fun, x)``, which differs from autograd's internal one.
"""

from .core.node import Node
from .core.tracer import Box, getval, isbox, new_box, notrace_primitive, primitive, register_notrace, trace

__all__ = ["Box", "Node", "getval", "isbox", "new_box", "notrace_primitive", "primitive", "register_notrace", "trace"]
