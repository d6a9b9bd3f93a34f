"""gradviz.scipy.integrate: odeint and solve_ivp gradients by the adjoint ODE, tangents by forward sensitivities.

Closed forms: exponential decay y = y0 exp(-k (t - t0)) in y0, k and every t; a linear system y = expm(A t) y0 in
y0 and A (through the Frechet derivative of expm). check_grads is first order (the rules solve ODEs with SciPy
on plain values, so second derivatives are refused); the solvers run with tight tolerances so that their error
stays below check_grads' tolerance.
"""

import numpy as onp
import pytest
import scipy.integrate as si
from scipy.linalg import expm, expm_frechet

import gradviz.numpy as np
import gradviz.scipy.integrate as gi
from gradviz import grad, make_jvp
from gradviz.misc.optimizers import adam
from gradviz.test_util import check_grads

TIGHT = dict(rtol=1e-10, atol=1e-10)
FIRST_ORDER = dict(modes=("fwd", "rev"), order=1)  # second derivatives are refused (see test_no_second_order)


def decay(y, t, k):
    return -k * y


T = onp.array([0.2, 0.5, 1.0, 1.7])


def decay_loss(y0, t, k):
    return np.sum(gi.odeint(decay, y0, t, (k,), **TIGHT) ** 2)


def test_odeint_decay_closed_forms():
    y0, k = onp.array([1.0, -2.0, 0.5]), 0.7
    e = onp.exp(-2 * k * (T - T[0]))  # |y(t_i)|^2 = |y0|^2 e_i
    energy = onp.sum(y0 ** 2)
    assert onp.isclose(decay_loss(y0, T, k), energy * onp.sum(e))
    assert onp.allclose(grad(decay_loss, 0)(y0, T, k), 2 * y0 * onp.sum(e))
    assert onp.isclose(grad(decay_loss, 2)(y0, T, k), energy * onp.sum(-2 * (T - T[0]) * e))
    # each later time only moves its own sample; t_0 moves them all (but not y(t_0) = y0 itself)
    grad_t = -2 * k * energy * e
    grad_t[0] = 2 * k * energy * onp.sum(e[1:])
    assert onp.allclose(grad(decay_loss, 1)(y0, T, k), grad_t)
    # forward mode: the same numbers as directional derivatives
    dt = onp.random.randn(len(T))
    assert onp.isclose(make_jvp(decay_loss, 1)(y0, T, k)(dt)[1], grad_t @ dt)
    assert onp.isclose(make_jvp(decay_loss, 2)(y0, T, k)(1.0)[1], energy * onp.sum(-2 * (T - T[0]) * e))


@pytest.mark.parametrize("argnum", [0, 1, 2])
def test_odeint_decay_check_grads(argnum):
    check_grads(decay_loss, argnum=argnum, **FIRST_ORDER)(onp.array([1.0, -2.0]), T, 0.7)


def test_odeint_linear_system_against_expm():
    A = onp.array([[-0.5, 1.0], [-1.0, -0.3]])
    y0, u = onp.array([1.0, 0.5]), onp.random.randn(len(T), 2)

    def loss(y0, A):
        return np.sum(u * gi.odeint(lambda y, t, A: np.dot(A, y), y0, T, (A,), **TIGHT))

    def expm_loss(y0, A):
        return sum(u[i] @ expm(A * (t - T[0])) @ y0 for i, t in enumerate(T))

    assert onp.isclose(loss(y0, A), expm_loss(y0, A))
    expected_y0 = sum(expm(A * (t - T[0])).T @ u[i] for i, t in enumerate(T))
    assert onp.allclose(grad(loss, 0)(y0, A), expected_y0)
    # d<u, expm(A s) y0>/dA = s L(A^T s, u y0^T), the adjoint of expm's Frechet derivative
    expected_A = sum((t - T[0]) * expm_frechet((A * (t - T[0])).T, onp.outer(u[i], y0), compute_expm=False)
                     for i, t in enumerate(T))
    assert onp.allclose(grad(loss, 1)(y0, A), expected_A, atol=1e-7)
    check_grads(loss, argnum=1, **FIRST_ORDER)(y0, A)


def test_odeint_options_scalar_state_and_nested_args():
    """tfirst=True, a 0-d state, args holding a dict and a list; gradients reach each parameter."""

    def field(t, y, params, scale):
        return -params["k"] * y + scale[0] * np.sin(t)

    def loss(y0, k, c):
        ys = gi.odeint(field, y0, T, args=({"k": k}, [c]), tfirst=True, **TIGHT)
        return np.sum(ys ** 2)

    for argnum in (0, 1, 2):
        check_grads(loss, argnum=argnum, **FIRST_ORDER)(0.8, 0.6, 0.3)


def test_odeint_matches_scipy_values():
    y0 = onp.array([1.0, 0.0])
    field = lambda y, t, w: np.array([y[1], -w ** 2 * y[0]])  # noqa: E731
    ours = gi.odeint(field, y0, T, (2.0,), **TIGHT)
    theirs = si.odeint(lambda y, t, w: [y[1], -w ** 2 * y[0]], y0, T, (2.0,), **TIGHT)
    assert onp.allclose(ours, theirs)
    assert onp.allclose(ours[:, 0], onp.cos(2.0 * (T - T[0])))
    check_grads(lambda w: np.sum(gi.odeint(field, y0, T, (w,), **TIGHT) ** 2), **FIRST_ORDER)(2.0)


# --- solve_ivp


def ivp_decay(t, y, k):
    return -k * y


@pytest.mark.parametrize("method", ["RK45", "DOP853", "LSODA"])
def test_solve_ivp_decay_closed_forms(method):
    y0, k = onp.array([1.0, -2.0]), 0.7
    t0 = 0.1

    def solution(y0, k):
        return gi.solve_ivp(ivp_decay, (t0, 2.0), y0, method=method, t_eval=T, args=(k,), **TIGHT).y

    e = onp.exp(-k * (T - t0))
    assert onp.allclose(solution(y0, k), onp.outer(y0, e))
    u = onp.random.randn(2, len(T))
    assert onp.allclose(grad(lambda y0: np.sum(u * solution(y0, k)))(y0), u @ e)
    assert onp.isclose(grad(lambda k: np.sum(u * solution(y0, k)))(k), onp.sum(u * onp.outer(y0, -(T - t0) * e)))
    assert onp.allclose(make_jvp(lambda k: solution(y0, k))(k)(1.0)[1], onp.outer(y0, -(T - t0) * e), atol=1e-7)
    for argnum in (0, 1):
        check_grads(lambda y0, k: np.sum(solution(y0, k) ** 2), argnum=argnum, **FIRST_ORDER)(y0, k)


def test_solve_ivp_adaptive_times_and_result_fields():
    """Without t_eval the solver's own times are constants; y at them is differentiable."""
    y0, k = onp.array([1.5]), 0.4
    sol = gi.solve_ivp(ivp_decay, (0.0, 1.0), y0, args=(k,), **TIGHT)
    plain = si.solve_ivp(ivp_decay, (0.0, 1.0), y0, args=(k,), **TIGHT)
    assert onp.allclose(sol.y, plain.y) and onp.allclose(sol.t, plain.t) and sol.success

    def last(k):
        return gi.solve_ivp(ivp_decay, (0.0, 1.0), y0, args=(k,), **TIGHT).y[0, -1]

    assert onp.isclose(grad(last)(k), -1.5 * onp.exp(-k))
    check_grads(last, **FIRST_ORDER)(k)


def test_solve_ivp_nested_args():
    """args holding a dict of parameters: forward solve on plain values, gradients back into the dict."""

    def field(t, y, params):
        return -params["k"] * y + params["c"]

    def loss(k, c):
        sol = gi.solve_ivp(field, (0.0, 2.0), onp.array([1.0]), t_eval=T, args=({"k": k, "c": c},), **TIGHT)
        return np.sum(sol.y ** 2)

    for argnum in (0, 1):
        check_grads(loss, argnum=argnum, **FIRST_ORDER)(0.6, 0.2)


def test_logistic_growth_fit():
    """A user's parameter fit: growth rate and capacity of dy/dt = r y (1 - y / K) from noisy-free samples."""
    times = onp.linspace(0.0, 5.0, 8)
    r_true, K_true, y0 = 1.3, 2.0, 0.2
    data = K_true / (1 + (K_true / y0 - 1) * onp.exp(-r_true * times))

    def logistic(y, t, r, K):
        return r * y * (1 - y / K)

    def loss(params):
        r, K = params[0], params[1]
        ys = gi.odeint(logistic, np.array([y0]), times, (r, K), rtol=1e-6, atol=1e-6)
        return np.mean((ys[:, 0] - data) ** 2)

    start = onp.array([0.8, 1.5])
    fitted = adam(lambda p, i: grad(loss)(p), start, num_iters=25, step_size=0.1)
    assert loss(fitted) < 0.05 * loss(start)
    assert abs(fitted[0] - r_true) < abs(start[0] - r_true) and abs(fitted[1] - K_true) < abs(start[1] - K_true)


# --- errors


def test_closure_over_traced_value_is_an_error():
    with pytest.raises(TypeError, match="args="):
        grad(lambda k: np.sum(gi.odeint(lambda y, t: -k * y, onp.ones(2), T)))(0.5)


def test_no_second_order():
    with pytest.raises(NotImplementedError, match="second derivatives"):
        grad(grad(lambda k: np.sum(gi.odeint(decay, onp.ones(2), T, (k,)))))(0.5)


def test_solve_ivp_unsupported():
    with pytest.raises(NotImplementedError, match="t_span"):
        grad(lambda t1: np.sum(gi.solve_ivp(ivp_decay, (0.0, t1), onp.ones(1), args=(0.5,)).y))(1.0)
    with pytest.raises(NotImplementedError, match="events"):
        grad(lambda k: np.sum(gi.solve_ivp(ivp_decay, (0.0, 1.0), onp.ones(1), args=(k,),
                                           events=lambda t, y, k: y[0] - 0.5).y))(0.5)


def test_other_functions_raise_naming_themselves():
    assert onp.isclose(gi.quad(onp.sin, 0.0, onp.pi)[0], 2.0)  # plain values pass through
    with pytest.raises(NotImplementedError, match="scipy.integrate.trapezoid"):
        grad(lambda x: gi.trapezoid(x))(onp.ones(3))
