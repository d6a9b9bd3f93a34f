"""numpy.linalg as gradviz primitives (rules in ``rules_linalg``)."""

import numpy.linalg as _linalg

from .numpy_wrapper import publish, wrap_numpy

wrap_numpy(_linalg, globals(), "numpy.linalg")
publish(_linalg, dict(globals()))
