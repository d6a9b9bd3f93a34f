"""numpy.fft rules: every transform in both modes, to second order, with n/s padding and cropping, axes and norms.

The transforms are linear, so the checked functions square the transform: the second derivative is then not zero
and the VJP and JVP rules run on traced cotangents and tangents. Closed forms: Parseval's theorem.
"""

import numpy as onp
import pytest

import gradviz.numpy as np
from gradviz import grad, make_jvp
from gradviz.test_util import check_grads

NORMS = [None, "backward", "ortho", "forward"]


def randn(shape, dtype=float):
    x = onp.random.randn(*shape)
    if onp.dtype(dtype).kind == "c":
        x = x + 1j * onp.random.randn(*shape)
    return onp.asarray(x, dtype)


def check_squared(fun, x, **kwargs):
    check_grads(lambda x: fun(x, **kwargs) ** 2, modes=("fwd", "rev"), order=2)(x)


# --- 1-D transforms: odd and even lengths, n cropping (smaller) and padding (larger), every norm


@pytest.mark.parametrize("norm", NORMS)
@pytest.mark.parametrize("n", [None, 3, 4, 8, 9])
@pytest.mark.parametrize("length", [5, 6])
@pytest.mark.parametrize("name, dtype", [("fft", float), ("fft", complex), ("ifft", float), ("ifft", complex),
                                         ("rfft", float), ("irfft", complex), ("irfft", float), ("hfft", complex),
                                         ("hfft", float), ("ihfft", float)])
def test_1d(name, dtype, length, n, norm):
    check_squared(getattr(np.fft, name), randn((length,), dtype), n=n, norm=norm)


@pytest.mark.parametrize("name, dtype", [("fft", complex), ("ifft", float), ("rfft", float), ("irfft", complex),
                                         ("hfft", complex), ("ihfft", float)])
@pytest.mark.parametrize("axis", [0, 1, -1])
def test_1d_axis_and_positional(name, dtype, axis):
    x = randn((3, 4, 2), dtype)
    fun = getattr(np.fft, name)
    check_grads(lambda x: fun(x, 5, axis, "ortho") ** 2)(x)  # n, axis, norm positionally
    check_squared(fun, x, axis=axis)


# --- n-d transforms: s (cropping and padding), axes (any order, a subset, negative), norms


ND_CASES = [dict(), dict(axes=(0,)), dict(axes=(-1, 0)), dict(s=(3, 5), axes=(0, 2)), dict(s=(2, 6), axes=(1, 2)),
            dict(s=(4, -1), axes=(2, 0)), dict(s=(3, 2, 5), axes=(0, 1, 2))]


@pytest.mark.parametrize("norm", [None, "ortho", "forward"])
@pytest.mark.parametrize("case", ND_CASES, ids=str)
@pytest.mark.parametrize("name, dtype", [("fftn", complex), ("fftn", float), ("ifftn", complex), ("rfftn", float),
                                         ("irfftn", complex), ("irfftn", float)])
def test_nd(name, dtype, case, norm):
    check_squared(getattr(np.fft, name), randn((3, 2, 4), dtype), norm=norm, **case)


@pytest.mark.parametrize("case", [dict(), dict(s=(3, 5)), dict(axes=(0, 2)), dict(s=(5, 3), axes=(2, 1)),
                                  dict(norm="ortho")], ids=str)
@pytest.mark.parametrize("name, dtype", [("fft2", complex), ("ifft2", float), ("rfft2", float),
                                         ("irfft2", complex)])
def test_2d(name, dtype, case):
    check_squared(getattr(np.fft, name), randn((2, 3, 4), dtype), **case)


def test_nd_positional_arguments():
    x = randn((3, 4))
    check_grads(lambda x: np.fft.rfftn(x, (4, 5), (0, 1), "ortho") ** 2)(x)
    check_grads(lambda x: np.fft.irfftn(x, (2, 5), (1, 0), "forward") ** 2)(x + 0j)


@pytest.mark.parametrize("name", ["fftshift", "ifftshift"])
@pytest.mark.parametrize("axes", [None, 0, (1,), (0, 1)])
@pytest.mark.parametrize("dtype", [float, complex])
def test_shifts(name, axes, dtype):
    check_squared(getattr(np.fft, name), randn((3, 4), dtype), axes=axes)


def test_shift_gradient_is_the_inverse_shift():
    x, u = randn((5, 4)), randn((5, 4))
    assert onp.allclose(grad(lambda x: np.sum(np.fft.fftshift(x) * u))(x), onp.fft.ifftshift(u))
    assert onp.allclose(grad(lambda x: np.sum(np.fft.ifftshift(x) * u))(x), onp.fft.fftshift(u))


# --- dtypes: float32 in, float32 gradient; a real input gets a real gradient


@pytest.mark.parametrize("name, dtype", [("fft", onp.float32), ("fft", onp.complex64), ("rfft", onp.float32),
                                         ("irfft", onp.complex64), ("ihfft", onp.float32), ("fftn", onp.float32),
                                         ("irfftn", onp.complex64)])
def test_single_precision(name, dtype):
    fun = getattr(np.fft, name)
    x = randn((4, 5), dtype)
    check_squared(fun, x)
    g = grad(lambda x: np.sum(np.abs(fun(x)) ** 2))(x)
    assert g.dtype == x.dtype


@pytest.mark.parametrize("name", ["fft", "ifft", "fftn", "irfft", "hfft", "irfftn"])
def test_real_input_gets_real_gradient(name):
    x = randn((3, 4))
    fun = getattr(np.fft, name)
    g = grad(lambda x: np.sum(np.abs(fun(x)) ** 2))(x)
    assert g.dtype == onp.float64


def test_empty_batch_axis():
    x = randn((0, 4))
    check_squared(np.fft.fft, x)
    check_squared(np.fft.rfft, x, n=6)
    assert grad(lambda x: np.sum(np.abs(np.fft.fft(x)) ** 2))(x).shape == (0, 4)


# --- closed forms


@pytest.mark.parametrize("norm, scale", [(None, 1.0), ("ortho", 0.0), ("forward", -1.0)])
@pytest.mark.parametrize("n", [None, 7, 10])
def test_parseval_gradient(n, norm, scale):
    """sum |fft(x, n)|^2 = n^p sum |x|^2 (p = 1, 0, -1 for the norms; zero padding adds nothing)."""
    x = randn((6,), complex)
    length = n or 6
    factor = length ** scale

    def energy(x):
        return np.sum(np.abs(np.fft.fft(x, n, norm=norm)) ** 2)

    assert onp.isclose(energy(x), factor * onp.sum(onp.abs(x) ** 2))
    # gradviz's convention for a real function of complex z: df/dRe z - i df/dIm z = 2 n^p conj(z)
    assert onp.allclose(grad(energy)(x), 2 * factor * onp.conj(x))
    v = randn((6,), complex)
    assert onp.isclose(make_jvp(energy)(x)(v)[1], 2 * factor * onp.real(onp.vdot(x, v)))


@pytest.mark.parametrize("length", [5, 6])
def test_parseval_half_spectrum(length):
    """The rfft half spectrum, counted with weights 1, 2, ..., 2, (1 at Nyquist for even n), has energy n sum x^2."""
    x = randn((length,))
    w = onp.full(length // 2 + 1, 2.0)
    w[0] = 1.0
    if length % 2 == 0:
        w[-1] = 1.0
    energy = lambda x: np.sum(w * np.abs(np.fft.rfft(x)) ** 2)  # noqa: E731
    assert onp.isclose(energy(x), length * onp.sum(x ** 2))
    assert onp.allclose(grad(energy)(x), 2 * length * x)


def test_round_trip_gradient_is_identity():
    x, u = randn((3, 7)), randn((3, 7))
    assert onp.allclose(grad(lambda x: np.sum(np.fft.irfft(np.fft.rfft(x), 7) * u))(x), u)
    assert onp.allclose(grad(lambda x: np.sum(np.fft.ifftn(np.fft.fftn(x)).real * u))(x), u)


def test_vjp_matches_explicit_dft_matrix():
    """The VJP of fft with cropping, against the transpose of the explicit DFT matrix (no conjugate)."""
    m, n = 6, 4
    F = onp.exp(-2j * onp.pi * onp.outer(onp.arange(n), onp.arange(m)) / n)
    F[:, n:] = 0  # x is cropped to its first n entries
    z, g = randn((m,), complex), randn((n,), complex)
    f = lambda z: np.real(np.sum(np.fft.fft(z, n) * g))  # noqa: E731
    assert onp.allclose(grad(f)(z), F.T @ g)


def test_forward_over_reverse():
    """The JVPs of the VJP's own steps (resizing, real part, weights) are exercised by differentiating a gradient."""
    for fun in (lambda x: np.fft.rfft(x, 8), lambda x: np.fft.irfft(x + 0j, 5), lambda x: np.fft.hfft(x, 7),
                lambda x: np.fft.fftn(x, (3, 5), (0, 1)), lambda x: np.fft.ihfft(x, 3)):
        energy = lambda x, fun=fun: np.sum(np.abs(fun(x)) ** 2 * np.sin(np.real(fun(x))))  # noqa: E731
        check_grads(grad(energy), modes=("fwd", "rev"), order=1)(randn((4, 6)))
