"""The benchmark problems: each function written once per library, and the hand-written gradients.

Generic versions take a NumPy-like namespace ``m`` (gradviz.numpy, autograd.numpy, jax.numpy and, where the
names agree, torch), so every library runs the very same sequence of primitives.
"""

from __future__ import annotations

import math

import numpy as np

# --- 1 and 5: the scalar chain -------------------------------------------------------------------------------
# One block is ten primitives that compose to the identity on (-pi/2, pi/2): x -> sin -> *MUL -> +ADD -> tanh
# -> exp -> log -> arctanh -> +(-ADD) -> *(1/MUL) -> arcsin. A chain of contracting or expanding maps would
# drive the gradient to 0 or inf within 100,000 steps (and through subnormal numbers, which are slow on x86);
# this one keeps both the value and the gradient near 1 at any length, so the check stays meaningful.
CHAIN_BLOCK = 10
CHAIN_MUL = 1.5
CHAIN_INV = 1.0 / CHAIN_MUL
CHAIN_ADD = 0.25
CHAIN_X0 = 0.3


def chain(m, x, n: int):
    """Push ``x`` through ``n`` primitives of namespace ``m`` (n a multiple of CHAIN_BLOCK)."""
    sin, tanh, exp, log, arctanh, arcsin = m.sin, m.tanh, m.exp, m.log, m.arctanh, m.arcsin
    mul, inv, add = CHAIN_MUL, CHAIN_INV, CHAIN_ADD
    for _ in range(n // CHAIN_BLOCK):
        x = sin(x)
        x = x * mul
        x = x + add
        x = tanh(x)
        x = exp(x)
        x = log(x)
        x = arctanh(x)
        x = x + (-add)
        x = x * inv
        x = arcsin(x)
    return x


def chain_grad_hand(x: float, n: int) -> float:
    """d chain / dx by hand in plain Python floats: the product of the local derivatives."""
    sin, cos, tanh, exp, log, atanh, asin, sqrt = (
        math.sin, math.cos, math.tanh, math.exp, math.log, math.atanh, math.asin, math.sqrt)
    mul, inv, add = CHAIN_MUL, CHAIN_INV, CHAIN_ADD
    g = 1.0
    for _ in range(n // CHAIN_BLOCK):
        g *= cos(x)
        x = sin(x) * mul + add
        x = tanh(x)
        g *= mul * (1.0 - x * x)
        x = exp(x)  # exp then log: derivative e * (1 / e) = 1
        x = log(x)
        g /= 1.0 - x * x
        x = (atanh(x) + (-add)) * inv
        g *= inv / sqrt(1.0 - x * x)
        x = asin(x)
    return g


def check_chain_length(n: int) -> None:
    if n % CHAIN_BLOCK:
        raise ValueError(f"chain length {n} is not a multiple of {CHAIN_BLOCK}")


# --- 2: the MLP ------------------------------------------------------------------------------------------------
MLP_SIZES = (784, 512, 512, 10)
MLP_BATCH = 256


def mlp_data(rng: np.random.Generator):
    """(params, X, Y): weights ~ N(0, 1/fan_in), small biases, Gaussian inputs, one-hot labels."""
    params = []
    for fan_in, fan_out in zip(MLP_SIZES[:-1], MLP_SIZES[1:]):
        params.append(rng.standard_normal((fan_in, fan_out)) / np.sqrt(fan_in))
        params.append(0.1 * rng.standard_normal(fan_out))
    X = rng.standard_normal((MLP_BATCH, MLP_SIZES[0]))
    Y = np.eye(MLP_SIZES[-1])[rng.integers(0, MLP_SIZES[-1], MLP_BATCH)]
    return tuple(params), X, Y


def mlp_loss(m, params, X, Y):
    """Mean softmax cross-entropy of a 3-layer tanh MLP, log-sum-exp stabilised by the row maximum."""
    W1, b1, W2, b2, W3, b3 = params
    h1 = m.tanh(m.dot(X, W1) + b1)
    h2 = m.tanh(m.dot(h1, W2) + b2)
    z = m.dot(h2, W3) + b3
    zmax = m.max(z, axis=1, keepdims=True)
    lse = zmax + m.log(m.sum(m.exp(z - zmax), axis=1, keepdims=True))
    return -m.sum(Y * (z - lse)) / X.shape[0]


def mlp_loss_torch(torch, params, X, Y):
    """mlp_loss with torch's spellings (matmul, amax, dim=, keepdim=)."""
    W1, b1, W2, b2, W3, b3 = params
    h1 = torch.tanh(X @ W1 + b1)
    h2 = torch.tanh(h1 @ W2 + b2)
    z = h2 @ W3 + b3
    zmax = torch.amax(z, dim=1, keepdim=True)
    lse = zmax + torch.log(torch.sum(torch.exp(z - zmax), dim=1, keepdim=True))
    return -torch.sum(Y * (z - lse)) / X.shape[0]


def mlp_grad_hand(params, X, Y):
    """Backprop of mlp_loss by hand. Rows of Y sum to 1, so dL/dz = (softmax(z) - Y) / batch."""
    W1, b1, W2, b2, W3, b3 = params
    h1 = np.tanh(X @ W1 + b1)
    h2 = np.tanh(h1 @ W2 + b2)
    z = h2 @ W3 + b3
    e = np.exp(z - z.max(axis=1, keepdims=True))
    dz = (e / e.sum(axis=1, keepdims=True) - Y) / X.shape[0]
    da2 = (dz @ W3.T) * (1.0 - h2 * h2)
    da1 = (da2 @ W2.T) * (1.0 - h1 * h1)
    return (X.T @ da1, da1.sum(axis=0), h1.T @ da2, da2.sum(axis=0), h2.T @ dz, dz.sum(axis=0))


# --- 3: the elementwise function -------------------------------------------------------------------------------
ELEMENTWISE_N = 10_000_000


def elementwise_loss(m, x):
    """sum(tanh(x)**2 * exp(-x)); ``m`` may be torch too (the names agree)."""
    return m.sum(m.tanh(x) ** 2 * m.exp(-x))


def elementwise_grad_hand(x: np.ndarray) -> np.ndarray:
    """d/dx tanh^2 e^-x = e^-x (2 t (1 - t^2) - t^2) = e^-x t (2 - t (2 t + 1)), with t = tanh x."""
    t = np.tanh(x)
    return np.exp(-x) * t * (2.0 - t * (2.0 * t + 1.0))


def elementwise_value_and_grad_hand(x: np.ndarray):
    """The value as well, as a training loop would want: shares tanh and exp with the gradient."""
    t = np.tanh(x)
    e = np.exp(-x)
    t2 = t * t
    return np.sum(t2 * e), e * t * (2.0 - 2.0 * t2 - t)


# --- 4: the Hessian --------------------------------------------------------------------------------------------
HESSIAN_N = 100


def hessian_data(rng: np.random.Generator):
    """(W, x): a fixed 100 x 100 matrix scaled so that tanh is neither saturated nor linear, and a point."""
    W = rng.standard_normal((HESSIAN_N, HESSIAN_N)) / np.sqrt(HESSIAN_N)
    x = rng.standard_normal(HESSIAN_N)
    return W, x


def hessian_fun(m, W):
    """f(x) = sum(tanh(W x)) + sum(x^4) / 4."""
    return lambda x: m.sum(m.tanh(m.dot(W, x))) + 0.25 * m.sum(x ** 4)


def hessian_fun_torch(torch, W):
    return lambda x: torch.sum(torch.tanh(W @ x)) + 0.25 * torch.sum(x ** 4)


def hessian_hand(W: np.ndarray, x: np.ndarray) -> np.ndarray:
    """H = W^T diag(tanh''(W x)) W + diag(3 x^2), with tanh'' = -2 t (1 - t^2)."""
    t = np.tanh(W @ x)
    return (W.T * (-2.0 * t * (1.0 - t * t))) @ W + np.diag(3.0 * x * x)
