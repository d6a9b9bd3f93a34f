"""scipy.signal for gradviz: differentiable ``convolve`` (autograd's, with axes and dot_axes) and ``fftconvolve``.

Both are written with gradviz.numpy primitives (padding, gathering sliding windows, einsum; or rfftn/irfftn), so
their derivatives in both modes, and to any order, come from those primitives' rules. Every other scipy.signal
function is a primitive without a rule: on a traced value it raises NotImplementedError naming itself.
"""

from __future__ import annotations

import string
from collections.abc import Sequence
from typing import Any

import numpy as _np
import scipy.signal as _signal

from ..numpy import fft as _fft
from ..numpy import wrapped as _anp
from ..numpy.numpy_wrapper import wrap_namespace
from ..numpy.rules_util import iscomplex, shape_of

__all__ = ["convolve", "fftconvolve"]

_MODES = ("full", "valid", "same")


def _centered(x: Any, starts: Sequence[int], sizes: Sequence[int], axes: Sequence[int]) -> Any:
    """``x`` sliced to ``sizes[i]`` elements from ``starts[i]`` along each of ``axes``."""
    index = [slice(None)] * len(shape_of(x))
    for axis, start, size in zip(axes, starts, sizes):
        if start != 0 or size != shape_of(x)[axis]:
            index[axis] = slice(start, start + size)
    return x if all(i == slice(None) for i in index) else x[tuple(index)]


def _mode_window(mode: str, a: int, b: int) -> tuple[int, int]:
    """Where the ``mode`` result starts in the full convolution of lengths a (in1) and b (in2), and its length."""
    if mode == "full":
        return 0, a + b - 1
    if mode == "same":  # centred on the full result, as long as in1
        return (b - 1) // 2, a
    return min(a, b) - 1, abs(a - b) + 1


def _check_mode(mode: Any) -> None:
    if mode not in _MODES:
        raise ValueError(f"convolve: mode must be one of {_MODES}, not {mode!r}")


def _check_valid(sizes1: Sequence[int], sizes2: Sequence[int]) -> None:
    """'valid' needs one input at least as large as the other along every convolved axis (as scipy)."""
    if not (all(a >= b for a, b in zip(sizes1, sizes2)) or all(a <= b for a, b in zip(sizes1, sizes2))):
        raise ValueError("convolve: for mode='valid', one input must be at least as large as the other along every "
                         "convolved axis")


def convolve(in1: Any, in2: Any, mode: str = "full", axes: Any = None,
             dot_axes: Sequence[Sequence[int]] = ((), ())) -> Any:
    """The convolution of in1 and in2 over the axis pairs ``axes``, contracted over the axis pairs ``dot_axes``.

    ``axes = (axes_of_in1, axes_of_in2)`` are convolved together (default: every axis of both, as
    scipy.signal.convolve); ``dot_axes`` likewise are multiplied and summed (a tensordot). The result's axes are
    in1's other axes, then in2's other axes, then the convolved axes, as in autograd. With autograd's positional
    order ``convolve(A, B, axes, dot_axes, mode)`` the third argument is not a string; that order works too.
    """
    if not isinstance(mode, str):  # autograd's order: (A, B, axes=None, dot_axes=[(), ()], mode='full')
        # the arguments landed in (mode, axes, dot_axes) = (axes, dot_axes, mode)
        mode, axes, dot_axes = (dot_axes if isinstance(dot_axes, str) else "full"), mode, \
            (axes if axes is not None else ((), ()))
    _check_mode(mode)
    shape1, shape2 = shape_of(in1), shape_of(in2)
    if axes is None:
        if len(shape1) != len(shape2):
            raise ValueError("convolve: in1 and in2 should have the same dimensionality")
        axes = (tuple(range(len(shape1))), tuple(range(len(shape2))))
    conv1, conv2 = [[int(a) % max(len(s), 1) for a in ax] for ax, s in zip(axes, (shape1, shape2))]
    dot1, dot2 = [[int(a) % max(len(s), 1) for a in ax] for ax, s in zip(dot_axes, (shape1, shape2))]
    if len(conv1) != len(conv2) or len(dot1) != len(dot2):
        raise ValueError("convolve: axes and dot_axes must each pair as many axes of in1 as of in2")
    if not conv1 and not dot1 and not shape1 and not shape2:
        return in1 * in2
    sizes1, sizes2 = [shape1[a] for a in conv1], [shape2[a] for a in conv2]
    if mode == "valid":
        _check_valid(sizes1, sizes2)

    letters = iter(string.ascii_letters)
    labels1 = [next(letters) for _ in shape1]  # in1's axes; the dot axes share their labels with in2's
    labels2 = [next(letters) for _ in shape2]
    for a1, a2 in zip(dot1, dot2):
        labels2[a2] = labels1[a1]
    # Sliding windows of in2, zero-padded by a - 1 on each side of each convolved axis: window[k, j] = in2p[k + j],
    # so that full[k] = sum_j flip(in1)[j] * window[k, j].
    pad_width = [(0, 0)] * len(shape2)
    for a2, a in zip(conv2, sizes1):
        pad_width[a2] = (a - 1, a - 1)
    padded = _anp.pad(in2, pad_width)
    window_labels = list(labels2)
    out_labels = []
    for a1, a2, a, b in zip(conv1, conv2, sizes1, sizes2):
        k = next(letters)
        position = window_labels.index(labels2[a2])
        index = _np.arange(a + b - 1)[:, None] + _np.arange(a)[None, :]
        padded = _anp.take(padded, index, axis=position)
        window_labels[position:position + 1] = [k, labels1[a1]]
        out_labels.append(k)
    flipped = _anp.flip(in1, tuple(conv1)) if conv1 else in1
    kept1 = [labels1[i] for i in range(len(shape1)) if i not in conv1 and i not in dot1]
    kept2 = [labels2[i] for i in range(len(shape2)) if i not in conv2 and i not in dot2]
    full = _anp.einsum(f"{''.join(labels1)},{''.join(window_labels)}->{''.join(kept1 + kept2 + out_labels)}",
                       flipped, padded)
    windows = [_mode_window(mode, a, b) for a, b in zip(sizes1, sizes2)]
    first = len(kept1) + len(kept2)
    return _centered(full, [w[0] for w in windows], [w[1] for w in windows], range(first, first + len(conv1)))


def fftconvolve(in1: Any, in2: Any, mode: str = "full", axes: Any = None) -> Any:
    """scipy.signal.fftconvolve: the convolution over ``axes`` by FFT, broadcasting the other axes."""
    _check_mode(mode)
    shape1, shape2 = shape_of(in1), shape_of(in2)
    if len(shape1) != len(shape2):
        raise ValueError("fftconvolve: in1 and in2 should have the same dimensionality")
    if not shape1:
        return in1 * in2
    ndim = len(shape1)
    axes = list(range(ndim)) if axes is None else sorted({int(a) % ndim for a in _np.atleast_1d(axes)})
    if not axes:
        raise ValueError("fftconvolve: when provided, axes cannot be empty")
    for i in range(ndim):
        if i not in axes and not (shape1[i] == shape2[i] or 1 in (shape1[i], shape2[i])):
            raise ValueError(f"fftconvolve: incompatible shapes for in1 {shape1} and in2 {shape2}")
    sizes1, sizes2 = [shape1[a] for a in axes], [shape2[a] for a in axes]
    if mode == "valid":
        _check_valid(sizes1, sizes2)
    lengths = [a + b - 1 for a, b in zip(sizes1, sizes2)]
    if iscomplex(in1) or iscomplex(in2):
        full = _fft.ifftn(_fft.fftn(in1, lengths, axes) * _fft.fftn(in2, lengths, axes), lengths, axes)
    else:
        full = _fft.irfftn(_fft.rfftn(in1, lengths, axes) * _fft.rfftn(in2, lengths, axes), lengths, axes)
    # as scipy: 'same' is centred to in1's shape on every axis; 'valid' crops the convolved axes only
    if mode == "same":
        full_shape = shape_of(full)
        return _centered(full, [(n - s) // 2 for n, s in zip(full_shape, shape1)], shape1, range(ndim))
    windows = [_mode_window(mode, a, b) for a, b in zip(sizes1, sizes2)]
    return _centered(full, [w[0] for w in windows], [w[1] for w in windows], axes)


wrap_namespace(vars(_signal), globals(), "scipy.signal", {})
