"""Gradient-based optimizers with autograd's calling convention: ``adam(grad, x0, callback, num_iters, ...)``.

``grad(x, i)`` returns the gradient at ``x`` on iteration ``i``; ``callback(x, i, g)``, if given, is called before
each step. ``x0`` may be any nested tuple/list/dict of arrays: the optimizer works on its flattened vector and
returns the final point in ``x0``'s structure. The updates are written with gradviz.numpy, so a whole optimization
run can itself be differentiated (in its step size, say).
"""

from __future__ import annotations

from collections.abc import Callable
from functools import wraps
from typing import Any

from .. import numpy as gnp
from .flatten import flatten

__all__ = ["sgd", "rmsprop", "adam"]

Grad = Callable[[Any, int], Any]
Callback = Callable[[Any, int, Any], Any]


def _on_flat_vectors(step_loop: Callable) -> Callable:
    """Run ``step_loop``, written for 1-D arrays, on a nested ``x0``: flatten it, and the gradients, on the way."""

    @wraps(step_loop)
    def optimizer(grad: Grad, x0: Any, callback: Callback | None = None, *args: Any, **kwargs: Any) -> Any:
        x0_flat, unflatten = flatten(x0)

        def flat_grad(x: Any, i: int) -> Any:
            return flatten(grad(unflatten(x), i))[0]

        flat_callback = None if callback is None else (lambda x, i, g: callback(unflatten(x), i, unflatten(g)))
        return unflatten(step_loop(flat_grad, x0_flat, flat_callback, *args, **kwargs))

    return optimizer


@_on_flat_vectors
def sgd(grad: Grad, x0: Any, callback: Callback | None = None, num_iters: int = 200, step_size: float = 0.1,
        mass: float = 0.9) -> Any:
    """Stochastic gradient descent with momentum: v = mass v - (1 - mass) g; x = x + step_size v."""
    x = x0
    velocity = gnp.zeros(len(x))
    for i in range(num_iters):
        g = grad(x, i)
        if callback:
            callback(x, i, g)
        velocity = mass * velocity - (1.0 - mass) * g
        x = x + step_size * velocity
    return x


@_on_flat_vectors
def rmsprop(grad: Grad, x0: Any, callback: Callback | None = None, num_iters: int = 100, step_size: float = 0.1,
            gamma: float = 0.9, eps: float = 1e-8) -> Any:
    """RMSProp: each coordinate's step is scaled by a running root-mean-square of its gradients (started at 1)."""
    x = x0
    mean_square = gnp.ones(len(x))
    for i in range(num_iters):
        g = grad(x, i)
        if callback:
            callback(x, i, g)
        mean_square = gamma * mean_square + (1 - gamma) * g ** 2
        x = x - step_size * g / (gnp.sqrt(mean_square) + eps)
    return x


@_on_flat_vectors
def adam(grad: Grad, x0: Any, callback: Callback | None = None, num_iters: int = 100, step_size: float = 0.001,
         b1: float = 0.9, b2: float = 0.999, eps: float = 1e-8) -> Any:
    """Adam (Kingma and Ba, 2015): steps by bias-corrected running means of the gradient and of its square."""
    x = x0
    m = gnp.zeros(len(x))
    v = gnp.zeros(len(x))
    for i in range(num_iters):
        g = grad(x, i)
        if callback:
            callback(x, i, g)
        m = (1 - b1) * g + b1 * m
        v = (1 - b2) * g ** 2 + b2 * v
        m_hat = m / (1 - b1 ** (i + 1))
        v_hat = v / (1 - b2 ** (i + 1))
        x = x - step_size * m_hat / (gnp.sqrt(v_hat) + eps)
    return x
