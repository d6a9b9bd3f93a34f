"""An adversarial audit of the debugger: bugs planted as a new user would plant them, in models the other debug tests
don't use (a CNN through convolve, an RNN, a tree recursion, a GP likelihood, attention, a mixture, dict / tuple
parameters, float32, complex, scalar floats, tuple and dict outputs, kwargs, broadcasting), each named exactly with
its line; correct rules at awkward values with no false alarm; NaN births located without blaming the data."""

from __future__ import annotations

import numpy as onp
import pytest
from source_lines import code_lines, nodes_of

import gradviz
import gradviz.numpy as np
import gradviz.scipy.linalg as sla
import gradviz.scipy.signal as signal
import gradviz.scipy.special as sp
from gradviz import detect_anomaly, grad
from gradviz.debug import GradientCheckError, check_grads, check_trace, check_vjps
from gradviz.extend import defjvp, defvjp, defvjp_argnums, primitive

line_of = code_lines(__file__)


pytestmark = pytest.mark.filterwarnings("ignore::RuntimeWarning")  # NaN and Inf are what these tests make


def sigm(x):
    return 1 / (1 + np.exp(-x))


rs = onp.random.RandomState(7)
CATALOGUE = []  # (id, fun, args, argnum, broken primitive, the line of the first failure the backward pass meets)


def planted(name, fun, args, bad, code, argnum=0, whole=True):
    """``whole``: the whole gradient is wrong too (a VJP that damages its outgrad may still give the right one)."""
    CATALOGUE.append(pytest.param(fun, args, argnum, bad, code, whole, id=name))


# sign flipped: swish in a small CNN through scipy.signal.convolve
@primitive
def swish(x):
    return x / (1 + onp.exp(-x))


defvjp(swish, lambda ans, x: lambda g: -g * (sigm(x) + x * sigm(x) * (1 - sigm(x))))  # BUG: sign


def cnn(kernels, image):
    h = image
    for k in kernels:
        h = signal.convolve(h, k, mode="valid")
        h = swish(h)
    return np.mean(h ** 2)


planted("sign-cnn", cnn, ([rs.randn(3, 3) * 0.5, rs.randn(2, 2) * 0.5], rs.randn(7, 7)), "swish", "h = swish(h)")


# the two rules swapped (wrong argnum): a gate in an RNN with a Python loop
@primitive
def gate(a, b):
    return a / (1 + onp.exp(-b))


defvjp(gate, lambda ans, a, b: lambda g: g * a * sigm(b) * (1 - sigm(b)),  # BUG: b's rule given for a
       lambda ans, a, b: lambda g: g * sigm(b))


def rnn(params, xs):
    Wh, Wx = params
    h = np.zeros(4)
    for x in xs:
        pre = np.dot(Wh, h) + np.dot(Wx, x)
        h = gate(np.tanh(pre), pre + 0.5)
    return np.sum(h ** 2)


planted("argnum-rnn", rnn, ((rs.randn(4, 4) * 0.5, rs.randn(4, 3)), rs.randn(4, 3)), "gate",
        "h = gate(np.tanh(pre), pre + 0.5)")


# a forgotten transpose (square weights, so the shapes fit): softmax attention
@primitive
def linear(x, W):
    return onp.dot(x, W)


defvjp(linear, lambda ans, x, W: lambda g: np.dot(g, W),  # BUG: W.T
       lambda ans, x, W: lambda g: np.dot(x.T, g))


def attention(params, X):
    Wq, Wk, Wv = params
    q, k, v = linear(X, Wq), linear(X, Wk), linear(X, Wv)
    scores = np.dot(q, k.T) / 2.0
    weights = np.exp(scores - sp.logsumexp(scores, axis=1, keepdims=True))
    return np.sum(np.dot(weights, v) ** 2)


planted("transpose-attention", attention, ((rs.randn(4, 4), rs.randn(4, 4), rs.randn(4, 4)), rs.randn(5, 4)),
        "linear", "q, k, v = linear(X, Wq), linear(X, Wk), linear(X, Wv)", argnum=1)


# un-broadcasting forgotten: a layer-norm gain in a dict of parameters
@primitive
def gain(x, gamma):
    return x * gamma


defvjp(gain, lambda ans, x, gamma: lambda g: g * gamma, lambda ans, x, gamma: lambda g: g * x)  # BUG: no sum


def layernorm(params, X):
    mu = np.mean(X, axis=1, keepdims=True)
    sd = np.std(X, axis=1, keepdims=True) + 1e-3
    h = gain((X - mu) / sd, params["gamma"]) + params["beta"]
    return np.sum(np.tanh(h) * params["w"])


planted("unbroadcast-dict", layernorm, ({"gamma": rs.rand(4) + 0.5, "beta": rs.randn(4), "w": rs.randn(4)},
                                        rs.randn(6, 4)), "gain",
        'h = gain((X - mu) / sd, params["gamma"]) + params["beta"]')


# a factor 2 missing: squared distances in a GP likelihood (cholesky, solve_triangular)
@primitive
def sqdist(X, Y):
    return onp.sum((X[:, None, :] - Y[None, :, :]) ** 2, axis=-1)


defvjp(sqdist, lambda ans, X, Y: lambda g: np.sum(g[:, :, None] * (X[:, None, :] - Y[None, :, :]), axis=1),  # BUG
       lambda ans, X, Y: lambda g: -2 * np.sum(g[:, :, None] * (X[:, None, :] - Y[None, :, :]), axis=0))


def gp_nll(log_ell, X, y):
    Z = X / np.exp(log_ell)
    K = np.exp(-0.5 * sqdist(Z, Z)) + 0.1 * np.eye(X.shape[0])
    L = np.linalg.cholesky(K)
    alpha = sla.solve_triangular(L, y, lower=True)
    return 0.5 * np.sum(alpha ** 2) + np.sum(np.log(np.diag(L)))


planted("factor2-gp", gp_nll, (onp.array(0.3), rs.randn(6, 2), rs.randn(6)), "sqdist",
        "K = np.exp(-0.5 * sqdist(Z, Z)) + 0.1 * np.eye(X.shape[0])")


# a complex conjugate missing: |z| of a spectrum
@primitive
def cabs(z):
    return onp.abs(z)


defvjp(cabs, lambda ans, z: lambda g: g * z / ans)  # BUG: conj(z) / ans


def spectrum(x, w):
    z = np.fft.fft(x * w)
    return np.sum(np.log1p(cabs(z)))


planted("conj-fft", spectrum, (rs.randn(8), rs.rand(8) + 0.5), "cabs", "return np.sum(np.log1p(cabs(z)))")


# right only at 0: softplus with sigmoid(0) for a derivative, in a mixture with logsumexp
@primitive
def softplus(x):
    return onp.logaddexp(0.0, x)


defvjp(softplus, lambda ans, x: lambda g: g * sigm(0 * x))  # BUG


def mixture_nll(params, data):
    means, raw_scales, logits = params
    scales = softplus(raw_scales) + 1e-3
    z = (data[:, None] - means[None, :]) / scales
    logp = -0.5 * z ** 2 - np.log(scales) + logits - sp.logsumexp(logits)
    return -np.sum(sp.logsumexp(logp, axis=1))


planted("only-at-0-mixture", mixture_nll, ((rs.randn(3), rs.randn(3) + 1.0, rs.randn(3)), rs.randn(10)), "softplus",
        "scales = softplus(raw_scales) + 1e-3")


# ans where x was meant: a log in a recursive tree sum
@primitive
def mylog(x):
    return onp.log(x)


defvjp(mylog, lambda ans, x: lambda g: g / ans)  # BUG: g / x


def tree(node):
    if isinstance(node, tuple):
        left, right = node
        return mylog(1.0 + tree(left) ** 2 + tree(right) ** 2)
    return np.sum(node ** 2)


def tree_loss(leaves):
    a, b, c, d = leaves
    return tree(((a, b), (c, (d, a))))


planted("ans-for-x-tree", tree_loss, ([rs.randn(2) for _ in range(4)],), "mylog",
        "return mylog(1.0 + tree(left) ** 2 + tree(right) ** 2)")


# a VJP that ignores g: Python floats only
@primitive
def cube(x):
    return x ** 3


defvjp(cube, lambda ans, x: lambda g: 3 * x ** 2)  # BUG: g forgotten


def scalar_code(a, b):
    total = 0.0
    for k in range(3):
        total = total + cube(a * (k + 1) - b) * 0.5
    return total / (1.0 + b * b)


planted("ignores-g-floats", scalar_code, (0.7, 0.3), "cube", "total = total + cube(a * (k + 1) - b) * 0.5")


# right for square matrices only: a column mean divided by the number of columns
@primitive
def colmean(X):
    return onp.mean(X, axis=0)


defvjp(colmean, lambda ans, X: lambda g: np.broadcast_to(g, X.shape) / X.shape[1])  # BUG: shape[0]


def batchnorm(params, X):
    W, b = params
    H = np.dot(X, W) + b
    return np.sum(np.tanh(H - colmean(H)) ** 2)


planted("square-only-batchnorm", batchnorm, ((rs.randn(3, 4), rs.randn(4)), rs.randn(6, 3)), "colmean",
        "return np.sum(np.tanh(H - colmean(H)) ** 2)")


# summed over the wrong axis (square scores, so the shape fits): an attention bias
@primitive
def add_row(S, b):
    return S + b[None, :]


defvjp(add_row, lambda ans, S, b: lambda g: g, lambda ans, S, b: lambda g: np.sum(g, axis=1))  # BUG: axis 0


def biased_attention(params, X):
    Wq, bias = params
    scores = add_row(np.dot(np.dot(X, Wq), X.T), bias)
    p = np.exp(scores - sp.logsumexp(scores, axis=1, keepdims=True))
    return np.sum(np.dot(p, X) ** 2)


planted("wrong-axis-attention", biased_attention, ((rs.randn(3, 3), rs.randn(4)), rs.randn(4, 3)), "add_row",
        "scores = add_row(np.dot(np.dot(X, Wq), X.T), bias)")


# the VJP returns the wrong shape (summed to a scalar): a tuple of parameters
@primitive
def normalize(x):
    return x / onp.sqrt(onp.sum(x ** 2))


defvjp(normalize, lambda ans, x: lambda g: np.sum(g - ans * np.sum(g * ans)) / np.sqrt(np.sum(x ** 2)))  # BUG


def tuple_model(params, x):
    a, (b, c) = params
    return np.sum(normalize(a * x + b) * c)


planted("shape-tuple", tuple_model, ((rs.randn(3), (rs.randn(3), rs.randn(3))), rs.randn(3)), "normalize",
        "return np.sum(normalize(a * x + b) * c)")


# float32: a sign flip in softsign
@primitive
def softsign(x):
    return x / (1 + onp.abs(x))


defvjp(softsign, lambda ans, x: lambda g: -g / (1 + np.abs(x)) ** 2)  # BUG: sign


def mlp32(params, X):
    for W in params:
        X = softsign(np.dot(X, W))
    return np.mean(X ** 2)


planted("sign-float32", mlp32, ([rs.randn(3, 4).astype("float32"), rs.randn(4, 2).astype("float32")],
                                rs.randn(5, 3).astype("float32")), "softsign", "X = softsign(np.dot(X, W))")


# one primitive at several shapes (scalar, vector, matrix); the backward pass meets the matrix first
@primitive
def sq(x):
    return x * x


defvjp(sq, lambda ans, x: lambda g: 4 * g * x)  # BUG: factor 2


def multishape(a, B):
    s = sq(np.sum(a))
    v = sq(a)
    M = sq(B)
    return s + np.sum(v) + np.sum(np.dot(M, a))


planted("factor2-shapes", multishape, (rs.randn(3), rs.randn(2, 3)), "sq", "M = sq(B)", argnum=(0, 1))


# two array arguments and keywords: the rule ignores p
@primitive
def wpow(x, w, p=2.0, axis=-1):
    return onp.sum(w * onp.abs(x) ** p, axis=axis)


defvjp(wpow, lambda ans, x, w, p=2.0, axis=-1: lambda g: np.expand_dims(g, axis) * w * 2.0 * x,  # BUG: p = 2
       lambda ans, x, w, p=2.0, axis=-1: lambda g: np.expand_dims(g, axis) * np.abs(x) ** p)


def kwmodel(x, w):
    return np.sum(np.sin(wpow(x, w, p=3.0, axis=0)))


planted("kwargs", kwmodel, (rs.rand(4, 3) + 0.2, rs.rand(4, 3)), "wpow",
        "return np.sum(np.sin(wpow(x, w, p=3.0, axis=0)))", argnum=(0, 1))


# a tuple output, its outgrads swapped in one rule
@primitive
def polar(x, y):
    return onp.hypot(x, y), onp.arctan2(y, x)


defvjp(polar, lambda ans, x, y: lambda g: g[1] * x / ans[0] - g[0] * y / ans[0] ** 2,  # BUG: g[0], g[1] swapped
       lambda ans, x, y: lambda g: g[0] * y / ans[0] + g[1] * x / ans[0] ** 2)


def polar_model(x, y):
    r, theta = polar(x, y)
    return np.sum(r * np.cos(theta) ** 2 + theta)


planted("tuple-output", polar_model, (rs.rand(4) + 0.5, rs.randn(4)), "polar", "r, theta = polar(x, y)",
        argnum=(0, 1))


# a dict output, its entries swapped in the rule
@primitive
def moments(x):
    return {"mean": onp.mean(x), "sq": onp.mean(x ** 2)}


defvjp(moments, lambda ans, x: lambda g: g["mean"] * 2 * x / x.shape[0] + g["sq"] / x.shape[0])  # BUG: swapped


def variance(x):
    m = moments(x)
    return m["sq"] - m["mean"] ** 2 + m["mean"] * 0.3


planted("dict-output", variance, (rs.randn(5),), "moments", "m = moments(x)")


# applied by broadcasting, un-broadcasting forgotten
@primitive
def myhypot(x, y):
    return onp.sqrt(x * x + y * y)


defvjp(myhypot, lambda ans, x, y: lambda g: g * x / ans, lambda ans, x, y: lambda g: g * y / ans)  # BUG


def pairwise(x, y):
    return np.sum(myhypot(x[:, None], y) ** 1.5)


planted("broadcast", pairwise, (rs.randn(3), rs.randn(4)), "myhypot", "return np.sum(myhypot(x[:, None], y) ** 1.5)",
        argnum=(0, 1))


# a VJP that writes into g: the value is right, the outgrad is damaged
@primitive
def relu(x):
    return onp.maximum(x, 0.0)


def _relu_vjp(ans, x):
    def vjp(g):
        g[x < 0] = 0.0  # BUG: in place
        return g
    return vjp


defvjp(relu, _relu_vjp)


def relu_net(W, X):
    return np.sum(relu(np.dot(X, W)) ** 2)


planted("in-place", relu_net, (rs.randn(3, 5), rs.randn(4, 3)), "relu", "return np.sum(relu(np.dot(X, W)) ** 2)",
        whole=False)


# a joint rule (defvjp_argnums) with one gradient wrong
@primitive
def affine(x, a, b):
    return a * x + b


defvjp_argnums(affine, lambda argnums, ans, args, kwargs: lambda g: tuple(
    {0: g * args[1], 1: np.sum(g * args[1]), 2: np.sum(g)}[i] for i in argnums))  # BUG: a's is sum(g * x)


def affine_model(a, x):
    return np.sum(np.tanh(affine(x, a, 0.3)))


planted("joint-rule", affine_model, (0.8, rs.randn(5)), "affine", "return np.sum(np.tanh(affine(x, a, 0.3)))")


# real -> complex, the conjugate misplaced
@primitive
def cis(theta):
    return onp.exp(1j * theta)


defvjp(cis, lambda ans, theta: lambda g: np.real(g * np.conj(1j * ans)))  # BUG: g * 1j * ans


def phasor(theta, z):
    return np.sum(np.abs(cis(theta) + z) ** 2)


planted("complex-out", phasor, (rs.randn(4), rs.randn(4) + 1j * rs.randn(4)), "cis",
        "return np.sum(np.abs(cis(theta) + z) ** 2)")


# complex64 in, a factor 2 missing
@primitive
def csquare(z):
    return z * z


defvjp(csquare, lambda ans, z: lambda g: g * z)  # BUG: 2 g z


def c64(z):
    return np.sum(np.abs(csquare(z) + 0.5) ** 2)


planted("complex64", c64, ((rs.randn(4) + 1j * rs.randn(4)).astype("complex64"),), "csquare",
        "return np.sum(np.abs(csquare(z) + 0.5) ** 2)")


@pytest.mark.parametrize("fun, args, argnum, bad, code, whole", CATALOGUE)
def test_planted_bug_is_named_with_its_line_and_nothing_else(fun, args, argnum, bad, code, whole):
    report = check_vjps(fun, *args, argnum=argnum)
    broken = nodes_of(report.trace, bad)
    failing = {check.node for check in report.failures}
    assert failing and failing <= broken, str(report)
    assert report.first.name == bad
    assert report.first.site.file == __file__ and report.first.site.line == line_of(code), report.first.message()
    assert report.first.code == code
    assert len(report.passed) >= 2
    if not whole:
        return
    # the whole-function check fails and blames the same node
    with pytest.raises(GradientCheckError) as caught:
        check_grads(fun, *args, argnum=argnum, modes=("rev",))
    assert caught.value.blame is not None and caught.value.blame.name == bad
    assert f":{line_of(code)}" in str(caught.value)


def test_the_same_models_with_the_rules_corrected_pass():
    # fixing the rule makes the report clean: the failures came from the bug, not from the model
    defvjp(sq, lambda ans, x: lambda g: 2 * g * x)
    defvjp(polar, lambda ans, x, y: lambda g: g[0] * x / ans[0] - g[1] * y / ans[0] ** 2,
           lambda ans, x, y: lambda g: g[0] * y / ans[0] + g[1] * x / ans[0] ** 2)
    defvjp(softsign, lambda ans, x: lambda g: g / (1 + np.abs(x)) ** 2)
    defvjp(sqdist, lambda ans, X, Y: lambda g: 2 * np.sum(g[:, :, None] * (X[:, None, :] - Y[None, :, :]), axis=1),
           lambda ans, X, Y: lambda g: -2 * np.sum(g[:, :, None] * (X[:, None, :] - Y[None, :, :]), axis=0))
    try:
        for seed in range(3):
            assert check_vjps(multishape, rs.randn(3), rs.randn(2, 3), argnum=(0, 1), seed=seed).ok
            assert check_vjps(polar_model, rs.rand(4) + 0.5, rs.randn(4), argnum=(0, 1), seed=seed).ok
            assert check_vjps(mlp32, [rs.randn(3, 4).astype("float32")], rs.randn(5, 3).astype("float32"),
                              seed=seed).ok
            assert check_vjps(gp_nll, onp.array(0.3), rs.randn(6, 2), rs.randn(6), seed=seed).ok
    finally:
        defvjp(sq, lambda ans, x: lambda g: 4 * g * x)
        defvjp(polar, lambda ans, x, y: lambda g: g[1] * x / ans[0] - g[0] * y / ans[0] ** 2,
               lambda ans, x, y: lambda g: g[0] * y / ans[0] + g[1] * x / ans[0] ** 2)
        defvjp(softsign, lambda ans, x: lambda g: -g / (1 + np.abs(x)) ** 2)
        defvjp(sqdist, lambda ans, X, Y: lambda g: np.sum(g[:, :, None] * (X[:, None, :] - Y[None, :, :]), axis=1),
               lambda ans, X, Y: lambda g: -2 * np.sum(g[:, :, None] * (X[:, None, :] - Y[None, :, :]), axis=0))


# --- JVP bugs (the VJP is right)

@primitive
def logistic(x):
    return 1 / (1 + onp.exp(-x))


defvjp(logistic, lambda ans, x: lambda g: g * ans * (1 - ans))
defjvp(logistic, lambda g, ans, x: g * ans)  # BUG: (1 - ans) missing


@primitive
def shift(x, c):
    return x + c


defvjp(shift, lambda ans, x, c: lambda g: g, lambda ans, x, c: lambda g: np.sum(g))
defjvp(shift, lambda g, ans, x, c: g, lambda g, ans, x, c: g)  # BUG: c's tangent not broadcast to the output


@primitive
def cubed(x):
    return x ** 3


defvjp(cubed, lambda ans, x: lambda g: 3 * g * x ** 2)
defjvp(cubed, lambda g, ans, x: 3 * g * x ** 2 * undefined_scale)  # noqa: F821  BUG: a NameError


def jvp_models(w, X):
    p = logistic(np.dot(X, w))
    q = shift(p, w[0])
    return np.sum(cubed(q))


def test_a_wrong_raising_or_misshapen_jvp_is_named_as_the_jvp():
    report = check_vjps(jvp_models, rs.randn(3), rs.randn(5, 3))
    assert {check.name for check in report.failures} == {"logistic", "shift", "cubed"}
    by_name = {check.name: check for check in report.failures}
    assert all(check.rule == "JVP" for check in report.failures)
    assert "the JVP is wrong" in by_name["logistic"].args[0].reason
    (shift_arg,) = [arg for arg in by_name["shift"].args if arg.status == "fail"]
    assert shift_arg.argnum == 1 and "output's shape" in shift_arg.reason
    assert "NameError" in by_name["cubed"].args[0].reason
    assert str(by_name["cubed"]).startswith("the JVP of cubed (node %")
    # forward mode fails as a whole, and the diagnosis blames a JVP
    with pytest.raises(GradientCheckError, match="the JVP of cubed") as caught:
        check_grads(jvp_models, rs.randn(3), rs.randn(5, 3), modes=("fwd",))
    assert caught.value.blame.name == "cubed"
    # reverse mode is right: nothing to blame there
    assert check_grads(jvp_models, rs.randn(3), rs.randn(5, 3), modes=("rev",)).errors["rev"] < 1e-6


def test_check_grads_blames_a_node_of_the_mode_that_failed():
    @primitive
    def twice(x):
        return 2.0 * x

    defvjp(twice, lambda ans, x: lambda g: g)  # BUG in the VJP (reverse mode)
    defjvp(twice, lambda g, ans, x: 2.0 * g)

    def both(w, X):
        return np.sum(twice(logistic(np.dot(X, w))))  # logistic's JVP is wrong too (forward mode)

    with pytest.raises(GradientCheckError) as caught:
        check_grads(both, rs.randn(3), rs.randn(4, 3), modes=("rev",))
    assert caught.value.blame.name == "twice" and "the VJP of twice" in str(caught.value)
    with pytest.raises(GradientCheckError) as caught:
        check_grads(both, rs.randn(3), rs.randn(4, 3), modes=("fwd",))
    assert caught.value.blame.name == "logistic" and "the JVP of logistic" in str(caught.value)


# --- no false alarms at awkward values

def test_oscillating_functions_at_large_arguments_are_checked_with_smaller_steps():
    # a step of 1e-3 |x| spans many periods of sin at 1e6: smaller steps must judge, not "not differentiable"
    report = check_vjps(lambda x: np.sum(np.sin(x)) + np.sum(np.cos(2 * x)), onp.array([1e6, -1e6, 3e5, 7e7]))
    for name in ("sin", "cos"):
        (node,) = nodes_of(report.trace, name)
        assert report[node].status == "pass", report[node].message()
    for seed in range(6):
        x = (onp.random.RandomState(seed).randn(5) * 1e4).astype("float32")
        assert check_vjps(lambda x: np.sum(np.sinc(x)), x, seed=seed).ok


def test_ties_of_median_are_not_differentiable_not_wrong():
    for seed in range(10):
        report = check_vjps(lambda x: np.median(x) + np.percentile(x, 30.0), onp.zeros(4), seed=seed)
        assert report.ok, str(report)
    skipped = [check for seed in range(10) for check in check_vjps(np.median, onp.zeros(4), seed=seed).skipped]
    assert skipped and all("not differentiable" in check.args[0].reason for check in skipped)


def test_float32_underflow_and_cancellation_are_no_false_alarms():
    # exp(-438) is 0 in float32 while double-precision differences still see it
    x = onp.array([-3547.6, -827.4, -438.2], dtype="float32")
    for seed in range(3):
        assert check_vjps(lambda x: np.sum(np.exp(x) + np.exp2(x)), x, seed=seed).ok
    # 1 - tanh(x)^2 cancels in float32 near |x| = 8: the same rule in double precision passes
    report = check_vjps(lambda x: np.sum(np.tanh(x)), onp.array([8.0, -8.5, 9.0], dtype="float32"))
    assert report.ok
    (node,) = nodes_of(report.trace, "tanh")
    assert report[node].status == "pass" and "passes in double precision" in report[node].args[0].reason


def test_a_nearly_repeated_eigenvalue_is_no_false_alarm():
    A = onp.diag([1.0, 1e-3, 1e-5, 1.0]) + 1e-7 * onp.random.RandomState(2).randn(4, 4)
    for seed in range(3):
        assert check_vjps(lambda A: np.sum(np.real(np.linalg.eigvals(A)) ** 2), A, seed=seed).ok


UNARY = ["sin", "cos", "tan", "tanh", "arctan", "arcsinh", "exp", "expm1", "log1p", "abs", "square", "sqrt", "cbrt",
         "log", "reciprocal", "sinc", "arcsin", "arctanh", "sign"]
AWKWARD = {
    "integers": onp.array([-2.0, -1.0, 0.0, 1.0, 2.0, 3.0]),
    "tiny": onp.array([-1e-8, 1e-8, 1e-300, -3e-10, 2e-9]),
    "large": onp.array([1e6, -1e6, 3e5, 7e7]),
    "float32": onp.array([1.7, -0.3, 2.9, -2.2, 0.05], dtype="float32"),
    "repeated": onp.array([0.5, 0.5, 0.5, -0.5, -0.5]),
    "zeros": onp.zeros(4),
}
REDUCTIONS = {
    "max": np.max, "min": np.min, "median": np.median, "ptp": np.ptp, "prod": np.prod, "var": np.var, "std": np.std,
    "sort": lambda x: np.sum(np.sort(x) * np.arange(x.shape[0])), "cumprod": lambda x: np.sum(np.cumprod(x)),
    "maximum": lambda x: np.sum(np.maximum(x, 0.0)), "clip": lambda x: np.sum(np.clip(x, -0.5, 0.5) ** 2),
    "norm1": lambda x: np.linalg.norm(x, 1), "norminf": lambda x: np.linalg.norm(x, onp.inf),
    "logsumexp": sp.logsumexp, "softmax": lambda x: np.sum(sp.softmax(x) * np.arange(x.shape[0])),
    "hypot": lambda x: np.sum(np.hypot(x, x[::-1])), "where": lambda x: np.sum(np.where(x > 0, x ** 2, -x)),
}


@pytest.mark.parametrize("values", list(AWKWARD), ids=str)
def test_no_false_alarm_on_numpy_rules_at_awkward_values(values):
    x = AWKWARD[values]

    def model(x):
        total = 0.0
        for name in UNARY:
            total = total + np.sum(getattr(np, name)(x) * 1.3)
        for reduce in REDUCTIONS.values():
            total = total + reduce(x)
        return total

    report = check_vjps(model, x, directions=1)
    assert report.ok, str(report)
    assert len(report.passed) > len(UNARY)
    for check in report.skipped:
        assert all(arg.reason for arg in check.args)  # a skipped node says why


LINALG = {
    "inv": lambda A: np.sum(np.linalg.inv(A)), "solve": lambda A: np.sum(np.linalg.solve(A, onp.ones(4))),
    "det": np.linalg.det, "slogdet": lambda A: np.linalg.slogdet(A)[1], "pinv": lambda A: np.sum(np.linalg.pinv(A)),
    "svd": lambda A: np.sum(np.linalg.svd(A, compute_uv=False)),
    "eigvalsh": lambda A: np.sum(np.linalg.eigvalsh(A + A.T)),
    "cholesky": lambda A: np.sum(np.linalg.cholesky(np.dot(A, A.T) + onp.eye(4))),
    "expm": lambda A: np.sum(sla.expm(A * 0.3)), "matrix_power": lambda A: np.sum(np.linalg.matrix_power(A, 3)),
    "nuc": lambda A: np.linalg.norm(A, "nuc"), "qr": lambda A: np.sum(np.linalg.qr(A)[1] ** 2),
}
_A = onp.random.RandomState(11).randn(4, 4)
MATRICES = {"random": _A, "nearly singular": _A @ _A.T + 1e-6 * onp.eye(4), "ill-conditioned":
            onp.diag([1.0, 1e-3, 1e-5, 1.0]) + 1e-7 * onp.random.RandomState(1).randn(4, 4),
            "repeated eigenvalues": onp.diag([2.0, 2.0, 1.0, 3.0]), "float32": _A.astype("float32"),
            "large": _A * 1e6, "integer-valued": onp.round(_A * 3) + 5 * onp.eye(4)}


@pytest.mark.parametrize("matrix", list(MATRICES), ids=str)
def test_no_false_alarm_on_linear_algebra_at_awkward_matrices(matrix):
    A = MATRICES[matrix]

    def model(A):
        total = 0.0
        for fun in LINALG.values():
            total = total + fun(A)
        return total

    report = check_vjps(model, A, directions=1)
    assert report.ok, str(report)


@primitive
def steps_of(x):
    return x[1:] - x[:-1]


def _steps_vjp(ans, x):
    def vjp(g):
        return np.concatenate([-g[:1], g[:-1] - g[1:], 0.0 * g[-1:]])  # BUG: the last element's g[-1] dropped
    return vjp


defvjp(steps_of, _steps_vjp)


def test_an_off_by_one_at_the_edge_of_a_large_array_is_not_diluted():
    # one wrong element of 100000 is 1e-5 of a dense pairing: below the tolerance, unless a direction is sparse
    report = check_vjps(lambda x: np.sum(np.sin(steps_of(x))), onp.random.RandomState(5).randn(100000))
    assert {check.name for check in report.failures} == {"steps_of"}
    defvjp(steps_of, lambda ans, x: lambda g: np.concatenate([-g[:1], g[:-1] - g[1:], g[-1:]]))
    try:
        assert check_vjps(lambda x: np.sum(np.sin(steps_of(x))), onp.random.RandomState(5).randn(100000)).ok
    finally:
        defvjp(steps_of, _steps_vjp)


# --- reports and misuse

def test_values_that_overflow_are_skipped_with_the_reason_not_passed():
    @primitive
    def myexp(x):
        return onp.exp(x)

    defvjp(myexp, lambda ans, x: lambda g: g * ans * 2)  # BUG, but exp(705) * 705 overflows any pairing
    report = check_vjps(lambda x: np.sum(np.log(myexp(x))), onp.array([700.0, 705.0, 1.0]))
    (node,) = nodes_of(report.trace, "myexp")
    assert report[node].status == "skip" and "overflow" in report[node].args[0].reason
    assert all(check.error is None or onp.isfinite(check.error) for check in report.nodes)


def test_a_primitive_drawing_random_numbers_is_skipped_as_not_deterministic():
    @primitive
    def dropout(x):
        return x * (onp.random.rand(*x.shape) > 0.3) / 0.7

    defvjp(dropout, lambda ans, x: lambda g: g * (ans != 0) / 0.7)
    report = check_vjps(lambda W, X: np.sum(np.tanh(dropout(np.dot(X, W)))), rs.randn(3, 4), rs.randn(5, 3))
    (node,) = nodes_of(report.trace, "dropout")
    assert report[node].status == "skip" and "not deterministic" in report[node].args[0].reason
    assert report.ok


def test_check_grads_refuses_a_function_drawing_random_numbers():
    def noisy(W, x):
        return np.sum(np.tanh(np.dot(x, W) + np.random.randn(3)))

    with pytest.raises(ValueError, match="not deterministic: two calls at the same point"):
        check_grads(noisy, rs.randn(4, 3), rs.randn(2, 4))


def test_check_trace_on_something_else_says_what_it_takes():
    with pytest.raises(TypeError, match=r"check_trace takes a gradviz.Trace .* gradviz.check_vjps\(fun, \*args\)"):
        check_trace(lambda x: np.sum(x))


def test_a_forward_pass_that_fails_raises_its_own_error_once():
    @primitive
    def no_rules(x):
        return 2.0 * x

    with pytest.raises(NotImplementedError, match="no_rules has no VJP") as caught:
        check_vjps(lambda x: np.sum(no_rules(x)), onp.ones(3))
    assert caught.value.__suppress_context__  # not "during handling of the above exception, another occurred"


def test_a_primitive_writing_into_its_argument_is_named_not_its_vjp():
    @primitive
    def shifted_square(x):
        x += 1.0  # BUG: in place; the rule below is right for the function as written
        return x ** 2

    defvjp(shifted_square, lambda ans, x: lambda g: 2 * g * x)
    report = check_vjps(lambda x: np.sum(np.sin(shifted_square(x * 1.0))), rs.randn(4))
    assert {check.name for check in report.failures} == {"shifted_square"}
    assert report.first.rule == "primitive" and "changes its argument in place" in report.first.args[0].reason
    assert str(report.first).startswith("the primitive shifted_square (node %")


def test_flow_of_a_trace_without_backward_pass_says_so():
    trace = gradviz.trace(lambda x: np.sum(x ** 2), onp.ones(3), backward=False)
    assert "no backward pass was recorded" in str(trace.flow())


def test_first_failure_prints_as_its_message():
    report = check_vjps(multishape, rs.randn(3), rs.randn(2, 3))
    assert str(report.first) == report.first.message()
    assert str(report.first).startswith(f"the VJP of sq (node %{report.first.node}) at test_debug_audit.py:")


# --- NaN births

def test_a_nan_in_the_data_is_not_born_in_an_operation():
    def weighted(x, data):
        return np.sum(np.sin(x) * data)

    trace = gradviz.trace(weighted, onp.array([0.1, 0.2]), onp.array([onp.nan, 1.0]))
    report = trace.nonfinite()
    assert report.backward is None, str(report)  # the multiply's VJP only passed the data's NaN on
    assert report.forward.primitive is None and "constant" in report.forward.message()
    assert "no operation made it" in report.forward.message()
    trace = gradviz.trace(weighted, onp.array([onp.nan, 0.2]), onp.array([1.0, 1.0]))
    report = trace.nonfinite()
    assert report.backward is None and report.forward.node == 0  # the input itself, not sin
    with detect_anomaly():  # quiet: no operation made a NaN from finite values
        g = grad(weighted)(onp.array([0.1, 0.2]), onp.array([onp.nan, 1.0]))
        h = grad(lambda x: np.sum(np.sin(x)))(onp.array([onp.nan, 0.2]))
    assert onp.isnan(g[0]) and g[1] == onp.cos(0.2) and onp.isnan(h[0])


def arcsin_layer(w, X):
    s = np.dot(X, w)
    a = np.arcsin(s)
    return np.sum(a ** 2)


def naive_softmax(logits):
    e = np.exp(logits)
    p = e / np.sum(e)
    return -np.log(p[0])


@primitive
def norm_of(x):
    return onp.sqrt(onp.sum(x ** 2))


defvjp(norm_of, lambda ans, x: lambda g: g * x / ans)  # 0 / 0 at x = 0


def norm_penalty(W, X):
    h = np.tanh(np.dot(X, W))
    return norm_of(h * 0.0) + np.sum(h)


def xlogy_entropy(p):
    return np.sum(sp.xlogy(p, p))


def float32_square(x):
    y = x * onp.float32(1e20)
    z = y * y
    return np.sum(np.tanh(z))


BIRTHS = [
    (arcsin_layer, (onp.array([1.0, 2.0]), onp.array([[0.3, 0.4], [0.1, 0.1]])), "forward", "arcsin",
     "a = np.arcsin(s)"),
    (naive_softmax, (onp.array([800.0, 1.0, 2.0]),), "forward", "exp", "e = np.exp(logits)"),
    (norm_penalty, (onp.ones((2, 2)), onp.ones((3, 2))), "backward", "norm_of",
     "return norm_of(h * 0.0) + np.sum(h)"),
    (xlogy_entropy, (onp.array([0.0, 0.5]),), "backward", "xlogy", "return np.sum(sp.xlogy(p, p))"),
    (float32_square, (onp.ones(2, dtype="float32"),), "forward", "multiply", "z = y * y"),
]


@pytest.mark.parametrize("fun, args, direction, name, code", BIRTHS, ids=[b[0].__name__ for b in BIRTHS])
def test_births_are_located_and_their_spread_is_not_a_second_birth(fun, args, direction, name, code):
    report = gradviz.trace(fun, *args).nonfinite()
    origin = getattr(report, direction)
    assert origin.name == name and origin.site.line == line_of(code), str(report)
    # a forward NaN or Inf spreads through the backward pass too: that is not a birth in a VJP
    other = report.backward if direction == "forward" else report.forward
    assert other is None, str(report)
    with pytest.raises(FloatingPointError, match=f"{name}.*:{line_of(code)} in {fun.__name__}"), detect_anomaly():
        grad(fun)(*args)


def root_sum(y):
    return np.sum(np.sqrt(y))


def gradient_sum(x):
    g = grad(root_sum)(x)
    return np.sum(g)


def test_a_birth_inside_an_inner_backward_pass_names_the_vjp_that_made_it():
    report = gradviz.trace(gradient_sum, onp.array([0.0, 1.0])).nonfinite()
    origin = report.forward
    assert origin.name == "divide" and origin.site.line == line_of("g = grad(root_sum)(x)")
    assert origin.made_in.startswith("the VJP of sqrt (node %")
    assert f"test_debug_audit.py:{line_of('return np.sum(np.sqrt(y))')}" in origin.made_in
    assert f", inside {origin.made_in}, made 1 Inf" in origin.message()
