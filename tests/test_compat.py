"""Autograd programs run unchanged on gradviz.

Each program is written once, as an autograd user writes it, against a namespace of modules ``lib`` (``lib.np`` is
``autograd.numpy`` or ``gradviz.numpy``, ``lib.grad`` the matching ``grad``, ...). It runs with both libraries and
the results must agree to 1e-10, containers of the same types included.
"""

import types

import autograd
import autograd.core
import autograd.extend
import autograd.misc
import autograd.misc.optimizers
import autograd.numpy
import autograd.numpy.random
import autograd.tracer
import autograd.util
import autograd.wrap_util
import numpy as onp
import pytest

import gradviz
import gradviz.core
import gradviz.extend
import gradviz.misc
import gradviz.misc.optimizers
import gradviz.numpy
import gradviz.numpy.random
import gradviz.tracer
import gradviz.util
import gradviz.wrap_util


def library(root, core, extend, misc, optimizers, np, npr, tracer, util, wrap_util):
    return types.SimpleNamespace(
        np=np, npr=npr, grad=root.grad, elementwise_grad=root.elementwise_grad, value_and_grad=root.value_and_grad,
        jacobian=root.jacobian, hessian=root.hessian, adam=optimizers.adam, sgd=optimizers.sgd,
        rmsprop=optimizers.rmsprop, flatten=misc.flatten, primitive=extend.primitive, defvjp=extend.defvjp,
        make_vjp=core.make_vjp, vspace=core.vspace, getval=tracer.getval, isbox=tracer.isbox,
        notrace_primitive=tracer.notrace_primitive, subval=util.subval, unary_to_nary=wrap_util.unary_to_nary,
    )


AUTOGRAD = library(autograd, autograd.core, autograd.extend, autograd.misc, autograd.misc.optimizers,
                   autograd.numpy, autograd.numpy.random, autograd.tracer, autograd.util, autograd.wrap_util)
GRADVIZ = library(gradviz, gradviz.core, gradviz.extend, gradviz.misc, gradviz.misc.optimizers, gradviz.numpy,
                  gradviz.numpy.random, gradviz.tracer, gradviz.util, gradviz.wrap_util)


def assert_same(expected, actual, path="result"):
    """Equal nested results: the same container types and keys, and leaves equal to 1e-10."""
    if isinstance(expected, dict):
        assert type(actual) is type(expected) and list(actual) == list(expected), path
        for key in expected:
            assert_same(expected[key], actual[key], f"{path}[{key!r}]")
    elif isinstance(expected, (tuple, list)):
        assert type(actual) is type(expected) and len(actual) == len(expected), path
        for i, (a, b) in enumerate(zip(expected, actual)):
            assert_same(a, b, f"{path}[{i}]")
    else:
        assert onp.shape(actual) == onp.shape(expected), path
        onp.testing.assert_allclose(actual, expected, rtol=1e-10, atol=1e-10, err_msg=path)


# --- the programs

def logistic_regression(lib):
    """Fit a logistic classifier by plain gradient descent; return the weights and the losses on the way."""
    np, npr = lib.np, lib.npr
    rs = npr.RandomState(3)
    features = rs.randn(10, 3)
    labels = (rs.rand(10) > 0.5).astype(float)

    def sigmoid(z):
        return 0.5 * (np.tanh(0.5 * z) + 1.0)

    def negative_log_likelihood(params):
        weights, bias = params
        p = sigmoid(np.dot(features, weights) + bias)
        return -np.sum(labels * np.log(p) + (1.0 - labels) * np.log(1.0 - p)) + 0.01 * np.dot(weights, weights)

    loss_and_grad = lib.value_and_grad(negative_log_likelihood)
    params = (np.zeros(3), 0.0)
    losses = []
    for _ in range(30):
        loss, (g_weights, g_bias) = loss_and_grad(params)
        losses.append(loss)
        params = (params[0] - 0.05 * g_weights, params[1] - 0.05 * g_bias)
    return params, onp.array(losses)


def tanh_rnn(lib):
    """A tanh recurrent net unrolled by a Python loop over a sequence; the gradient in a tuple of weights."""
    np = lib.np
    lib.npr.seed(5)
    sequence = [lib.npr.randn(2) for _ in range(4)]
    weights = (0.5 * lib.npr.randn(3, 3), 0.5 * lib.npr.randn(2, 3), 0.1 * lib.npr.randn(3))

    def final_state_energy(weights):
        w_hidden, w_input, bias = weights
        hidden = np.zeros(3)
        for x in sequence:
            hidden = np.tanh(np.dot(hidden, w_hidden) + np.dot(x, w_input) + bias)
        return np.sum(hidden ** 2)

    return final_state_energy(weights), lib.grad(final_state_energy)(weights)


def recursion(lib):
    """A recursive function with a data-dependent branch, its gradient, second derivative and elementwise grad."""
    np = lib.np

    def nested_sine(x, depth):
        if depth == 0:
            return x
        inner = nested_sine(x, depth - 1)
        return np.sin(inner) * x if lib.getval(inner) > 0 else np.cos(inner) + x

    def fun(x):
        return nested_sine(x, 4)

    xs = np.linspace(-1.5, 2.0, 7)
    return ([lib.grad(fun)(x) for x in (0.7, -0.4)], lib.grad(lib.grad(fun))(0.7),
            lib.elementwise_grad(lambda x: np.sin(x) * np.exp(-x ** 2))(xs))


def closures(lib):
    """Loss functions made by closures, and a closure over a traced value inside the differentiated function."""
    np = lib.np

    def make_loss(data, scale):
        def loss(w):
            return scale * np.sum((data * w - 1.0) ** 2)
        return loss

    losses = [make_loss(np.array([1.0, 2.0, 3.0]), s) for s in (0.5, 2.0)]
    w = np.array([0.3, -0.2, 0.1])

    def outer(x):
        def inner(y):
            return x * y ** 2  # x is traced here: the closure is differentiated through
        return inner(np.sin(x)) + inner(x)

    return [lib.grad(loss)(w) for loss in losses], lib.grad(outer)(1.2), lib.hessian(losses[0])(w)


def dict_params_with_adam(lib):
    """A two-layer net with parameters in a dict, trained by adam with a callback logging the loss."""
    np, npr = lib.np, lib.npr
    rs = npr.RandomState(0)
    inputs, targets = rs.randn(6, 2), rs.randn(6, 1)
    params = {"W1": 0.3 * rs.randn(2, 4), "b1": np.zeros(4), "W2": 0.3 * rs.randn(4, 1), "b2": np.zeros(1)}

    def loss(params, i):
        hidden = np.tanh(np.dot(inputs, params["W1"]) + params["b1"])
        outputs = np.dot(hidden, params["W2"]) + params["b2"]
        return np.mean((outputs - targets) ** 2)

    logged = []
    trained = lib.adam(lib.grad(loss), params, callback=lambda p, i, g: logged.append(loss(p, i)), num_iters=40,
                       step_size=0.05)
    return trained, onp.array(logged), loss(trained, 0)


def tuple_params_with_sgd_and_rmsprop(lib):
    """A least-squares fit with (slope, intercept) parameters, by sgd and by rmsprop."""
    np = lib.np
    xs = np.linspace(0.0, 1.0, 8)
    ys = 2.0 * xs - 0.5 + 0.1 * np.sin(7 * xs)

    def squared_error(params, i):
        slope, intercept = params
        return np.sum((slope * xs + intercept - ys) ** 2)

    start = (np.array(0.0), np.array(0.0))
    return (lib.sgd(lib.grad(squared_error), start, num_iters=60, step_size=0.05),
            lib.rmsprop(lib.grad(squared_error), start, num_iters=60, step_size=0.05))


def custom_primitive(lib):
    """A primitive with a hand-written VJP (a stable logsumexp), used inside a softmax cross-entropy."""
    np = lib.np

    @lib.primitive
    def logsumexp(x):
        biggest = np.max(x)
        return biggest + np.log(np.sum(np.exp(x - biggest)))

    lib.defvjp(logsumexp, lambda ans, x: lambda g: g * np.exp(x - ans))

    def cross_entropy(logits):
        return logsumexp(logits) - logits[2]

    logits = np.array([0.5, -1.0, 2.0, 0.1])
    return lib.value_and_grad(cross_entropy)(logits), lib.grad(lambda x: logsumexp(3.0 * x))(logits)


def extension_api(lib):
    """Code that builds on the internals: its own operator by unary_to_nary and make_vjp, boxes, no-trace helpers."""
    np = lib.np

    @lib.unary_to_nary
    def gradient_of_sum(fun, x):
        vjp, ans = lib.make_vjp(fun, x)
        return vjp(lib.vspace(ans).ones())

    @lib.notrace_primitive
    def threshold(x):
        return np.median(x)

    seen_boxes = []

    def fun(scale, x):
        seen_boxes.append(lib.isbox(x))
        return np.sum(np.maximum(x - threshold(x), 0.0) * scale)

    x = np.array([0.1, 2.0, -1.0, 0.7, 3.0])
    args = lib.subval((1.0, np.zeros(5)), 1, x)
    return gradient_of_sum(fun, 1)(*args), gradient_of_sum(lambda x: np.sin(x))(x), seen_boxes


def flatten_a_model(lib):
    """Flatten nested parameters to one vector (as for a Jacobian or an optimizer) and differentiate through it."""
    np = lib.np
    params = {"layer": (np.array([[1.0, -2.0]]), np.array([0.5])), "gain": np.array(2.0)}
    flat, unflatten = lib.flatten(params)

    def fun(vector):
        p = unflatten(vector)
        weights, bias = p["layer"]
        return np.sum(np.tanh(weights * p["gain"] + bias) ** 2)

    return flat, lib.grad(fun)(flat), lib.jacobian(lambda v: np.tanh(v) * v[0])(flat)


PROGRAMS = [logistic_regression, tanh_rnn, recursion, closures, dict_params_with_adam,
            tuple_params_with_sgd_and_rmsprop, custom_primitive, extension_api, flatten_a_model]


@pytest.mark.parametrize("program", PROGRAMS, ids=[p.__name__ for p in PROGRAMS])
def test_program_gives_autograds_results(program):
    assert_same(program(AUTOGRAD), program(GRADVIZ))


def test_training_programs_make_progress():
    """The comparison above could pass with both libraries broken the same way; these facts can't."""
    _, losses = logistic_regression(GRADVIZ)
    assert onp.all(onp.diff(losses) < 0)
    _, logged, final = dict_params_with_adam(GRADVIZ)
    assert final < 0.5 * logged[0]
    by_sgd, by_rmsprop = tuple_params_with_sgd_and_rmsprop(GRADVIZ)
    for slope, intercept in (by_sgd, by_rmsprop):
        assert abs(slope - 2.0) < 0.6 and abs(intercept + 0.5) < 0.6
    *_, seen_boxes = extension_api(GRADVIZ)
    assert seen_boxes == [True]
