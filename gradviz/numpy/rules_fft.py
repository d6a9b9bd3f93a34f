"""Rules for numpy.fft: every transform is linear, so its JVP is the transform of the tangent, and its VJP the adjoint.

A transform is a chain of 1-D steps along single axes (``fftn`` is ``fft`` along each axis, ``rfftn`` is ``rfft``
then ``fft``, ``hfft`` is ``conj`` then ``irfft``), each with its length ``n`` and norm. The VJP runs the adjoint of
each step in reverse order:

* fft/ifft of length n (after cropping/zero-padding the input from m to n): the DFT matrix is symmetric, so the
  adjoint is the same transform, with the same norm, of g, then resized back from n to m.
* rfft keeps the first n//2+1 bins of the fft of a real input: the adjoint zero-pads g back to n bins, takes the
  fft, and keeps the real part (the input was real).
* irfft reads a half spectrum X as the Hermitian spectrum it stands for: y = c Re(sum_k w_k X_k e^{2 pi i jk/n})
  with w = 1 for the zero bin (and the Nyquist bin when n is even) and 2 for the bins whose mirror image is
  implicit. The adjoint is w times the first n//2+1 bins of ifft(g), resized back to the input length.
* conj is its own adjoint.
"""

from __future__ import annotations

from typing import Any

import numpy as _np

from ..core.backward import defvjp
from ..core.forward import defjvp
from ..core.tracer import primitive
from . import fft as afft
from . import wrapped as anp
from .rules_util import cast_like, dtype_of, shape_of


@primitive
def _resize(x: Any, size: int, axis: int) -> Any:
    """``x`` cropped or zero-padded at the end of ``axis`` to ``size`` (what numpy.fft does with ``n``)."""
    x = _np.asarray(x)
    length = x.shape[axis]
    if size <= length:
        index = [slice(None)] * x.ndim
        index[axis] = slice(0, size)
        return x[tuple(index)]
    shape = list(x.shape)
    shape[axis] = size
    out = _np.zeros(shape, x.dtype)
    index = [slice(None)] * x.ndim
    index[axis] = slice(0, length)
    out[tuple(index)] = x
    return out


# Cropping and zero-padding are transposes of each other.
defvjp(_resize, lambda ans, x, size, axis: lambda g: _resize(g, shape_of(x)[axis], axis))
defjvp(_resize, "same")


def _resized(x: Any, size: int, axis: int) -> Any:
    return x if shape_of(x)[axis] == size else _resize(x, size, axis)


def _swap(norm: str | None) -> str:
    """The norm of the opposite direction (hfft and ihfft are irfft and rfft with the other scaling)."""
    return {None: "forward", "backward": "forward", "ortho": "ortho", "forward": "backward"}[norm]


def _halved_weights(n: int, axis: int, ndim: int, dtype: Any) -> _np.ndarray:
    """How often each bin of a half spectrum of length n//2+1 counts in the full Hermitian spectrum of length n."""
    w = _np.full(n // 2 + 1, 2.0)
    w[0] = 1.0
    if n % 2 == 0:
        w[-1] = 1.0
    shape = [1] * ndim
    shape[axis] = w.size
    return w.reshape(shape).astype(_np.empty(0, dtype).real.dtype)


# --- the chain of 1-D steps of each transform: [(kind, m, n, axis)], m the input length and n the output length


def _steps_1d(kind: str, shape: tuple, n: int | None, axis: int) -> list[tuple[str, int, int, int]]:
    axis = axis % len(shape)
    m = shape[axis]
    if n is None:
        n = 2 * (m - 1) if kind == "irfft" else m
    return [(kind, m, n, axis)]


def _steps_nd(kinds: tuple[str, str], shape: tuple, s: Any, axes: Any) -> list[tuple[str, int, int, int]]:
    """The steps of an n-d transform, as numpy.fft._cook_nd_args and _raw_fftnd/rfftn/irfftn order them.

    ``kinds`` is (the transform along axes[-1], the transform along the other axes).
    """
    last_kind, other_kind = kinds
    if axes is None:
        axes = list(range(-len(s), 0)) if s is not None else list(range(len(shape)))
    axes = [int(a) % len(shape) for a in axes]
    sizes = [None] * len(axes) if s is None else [None if n is None else shape[a] if n == -1 else int(n)
                                                   for n, a in zip(s, axes)]
    kind_of = [other_kind] * (len(axes) - 1) + [last_kind]
    order = list(range(len(axes)))  # irfftn: ifft along axes[0], ..., axes[-2], then irfft along axes[-1]
    if last_kind != "irfft":  # the others: the transform along axes[-1] first, then axes[-2], ..., axes[0]
        order.reverse()
    current = list(shape)
    steps = []
    for i in order:
        kind, axis = kind_of[i], axes[i]
        ((_, m, n, _),) = _steps_1d(kind, tuple(current), sizes[i], axis)
        steps.append((kind, m, n, axis))
        current[axis] = n // 2 + 1 if kind == "rfft" else n
    return steps


def _adjoint(steps: list[tuple[str, int, int, int]], norm: str | None, g: Any) -> Any:
    """The adjoint of the chain of ``steps`` applied to ``g``."""
    for kind, m, n, axis in reversed(steps):
        if kind == "conj":
            g = anp.conjugate(g)
        elif kind in ("fft", "ifft"):
            transform = afft.fft if kind == "fft" else afft.ifft
            g = _resized(transform(g, axis=axis, norm=norm), m, axis)
        elif kind == "rfft":
            g = anp.real(afft.fft(_resized(g, n, axis), axis=axis, norm=norm))
            g = _resized(g, m, axis)
        else:  # irfft
            w = _halved_weights(n, axis, len(shape_of(g)), dtype_of(g))
            g = _resized(w * _resized(afft.ifft(g, axis=axis, norm=norm), n // 2 + 1, axis), m, axis)
    return g


def _def_1d(fun: Any, kind: str) -> None:
    def vjp(ans, x, n=None, axis=-1, norm=None, out=None):
        steps = _steps_1d(kind, shape_of(x), n, axis)
        return lambda g: cast_like(x, _adjoint(steps, norm, g))

    defvjp(fun, vjp)
    defjvp(fun, lambda g, ans, x, n=None, axis=-1, norm=None, out=None: fun(g, n, axis, norm))


def _def_nd(fun: Any, kinds: tuple[str, str], default_axes: Any) -> None:
    def vjp(ans, x, s=None, axes=default_axes, norm=None, out=None):
        steps = _steps_nd(kinds, shape_of(x), s, axes)
        return lambda g: cast_like(x, _adjoint(steps, norm, g))

    defvjp(fun, vjp)
    defjvp(fun, lambda g, ans, x, s=None, axes=default_axes, norm=None, out=None: fun(g, s, axes, norm))


for _fun, _kind in ((afft.fft, "fft"), (afft.ifft, "ifft"), (afft.rfft, "rfft"), (afft.irfft, "irfft")):
    _def_1d(_fun, _kind)

for _fun, _kinds, _axes in ((afft.fftn, ("fft", "fft"), None), (afft.ifftn, ("ifft", "ifft"), None),
                            (afft.fft2, ("fft", "fft"), (-2, -1)), (afft.ifft2, ("ifft", "ifft"), (-2, -1)),
                            (afft.rfftn, ("rfft", "fft"), None), (afft.irfftn, ("irfft", "ifft"), None),
                            (afft.rfft2, ("rfft", "fft"), (-2, -1)), (afft.irfft2, ("irfft", "ifft"), (-2, -1))):
    _def_nd(_fun, _kinds, _axes)


# hfft(x) = irfft(conj(x)) and ihfft(x) = conj(rfft(x)), each with the norm of the other direction.
def _hfft_vjp(ans, x, n=None, axis=-1, norm=None, out=None):
    steps = [("conj", 0, 0, 0)] + _steps_1d("irfft", shape_of(x), n, axis)
    return lambda g: cast_like(x, _adjoint(steps, _swap(norm), g))


def _ihfft_vjp(ans, x, n=None, axis=-1, norm=None, out=None):
    steps = _steps_1d("rfft", shape_of(x), n, axis) + [("conj", 0, 0, 0)]
    return lambda g: cast_like(x, _adjoint(steps, _swap(norm), g))


defvjp(afft.hfft, _hfft_vjp)
defjvp(afft.hfft, lambda g, ans, x, n=None, axis=-1, norm=None, out=None: afft.hfft(g, n, axis, norm))
defvjp(afft.ihfft, _ihfft_vjp)
defjvp(afft.ihfft, lambda g, ans, x, n=None, axis=-1, norm=None, out=None: afft.ihfft(g, n, axis, norm))

# The shifts are rolls; each undoes the other.
defvjp(afft.fftshift, lambda ans, x, axes=None: lambda g: afft.ifftshift(g, axes))
defjvp(afft.fftshift, lambda g, ans, x, axes=None: afft.fftshift(g, axes))
defvjp(afft.ifftshift, lambda ans, x, axes=None: lambda g: afft.fftshift(g, axes))
defjvp(afft.ifftshift, lambda g, ans, x, axes=None: afft.ifftshift(g, axes))
