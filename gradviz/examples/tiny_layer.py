"""A tanh layer with a squared-error loss: the model ``python -m gradviz demo`` traces."""

from __future__ import annotations

from typing import Any

import numpy as onp

import gradviz.numpy as np


def make_data(seed: int = 0) -> tuple[dict, onp.ndarray, onp.ndarray]:
    """(params, inputs, targets): W 3x2 and b 2, four inputs of 3, four targets of 2."""
    rs = onp.random.RandomState(seed)
    inputs, targets = rs.randn(4, 3), rs.randn(4, 2)
    return {"W": 0.5 * rs.randn(3, 2), "b": onp.zeros(2)}, inputs, targets


def layer(x: Any, W: Any, b: Any) -> Any:
    return np.tanh(np.dot(x, W) + b)


def loss(params: dict, inputs: Any, targets: Any) -> Any:
    """mean((tanh(inputs @ W + b) - targets) ** 2)"""
    outputs = layer(inputs, params["W"], params["b"])
    return np.mean((outputs - targets) ** 2)
