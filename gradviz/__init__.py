"""gradviz: automatic differentiation of Python and NumPy code, and a visual debugger for its gradients.

A drop-in for autograd: ``import gradviz.numpy as np`` and ``from gradviz import grad``.
"""

from . import numpy  # noqa: F401  (registers the array box and the NumPy rules)
from .builtins import dict, isinstance, list, tuple, type
from .core.differential_operators import (
    checkpoint,
    deriv,
    elementwise_grad,
    grad,
    grad_and_aux,
    grad_named,
    hessian,
    hessian_tensor_product,
    hessian_vector_product,
    holomorphic_grad,
    jacobian,
    make_ggnvp,
    make_hvp,
    make_jvp,
    make_vjp,
    multigrad_dict,
    tensor_jacobian_product,
    value_and_grad,
    vector_jacobian_product,
)
from .core.tracer import getval, primitive, stop_gradient
from .debug import check_vjps, detect_anomaly
from .record import Trace, tap, trace

__version__ = "0.1.0"


def load_ipython_extension(ipython: object) -> None:
    """``%load_ext gradviz``: registers the ``%gradviz`` and ``%%gradviz`` magics (gradviz.render.magic)."""
    from .render.magic import register

    register(ipython)


__all__ = [
    "checkpoint", "deriv", "elementwise_grad", "grad", "grad_and_aux", "grad_named", "hessian",
    "hessian_tensor_product", "hessian_vector_product", "holomorphic_grad", "jacobian", "make_ggnvp", "make_hvp",
    "make_jvp", "make_vjp", "multigrad_dict", "tensor_jacobian_product", "value_and_grad",
    "vector_jacobian_product", "getval", "primitive", "stop_gradient", "dict", "isinstance", "list", "tuple",
    "type", "trace", "tap", "Trace", "load_ipython_extension", "check_vjps", "detect_anomaly",
]
