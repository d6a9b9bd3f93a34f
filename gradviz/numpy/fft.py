"""numpy.fft as gradviz primitives (rules in ``rules_fft``)."""

import numpy.fft as _fft

from .numpy_wrapper import publish, wrap_numpy

wrap_numpy(_fft, globals(), "numpy.fft")
publish(_fft, dict(globals()))
