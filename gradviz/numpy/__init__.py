"""NumPy for gradviz: ``import gradviz.numpy as np`` and write NumPy as usual; traced values are followed.

Every public NumPy name is here. Functions are primitives with VJP and JVP rules (see the ``rules_*`` tables),
constants (the output of comparisons, argmax, floor, ...) or, for functions without a rule yet, primitives that
raise a clear NotImplementedError when they meet a traced value.
"""

from . import numpy_boxes as _numpy_boxes
from . import rules_creation as _rules_creation  # noqa: F401
from . import rules_elementwise as _rules_elementwise  # noqa: F401
from . import rules_fft as _rules_fft  # noqa: F401
from . import rules_indexing as _rules_indexing  # noqa: F401
from . import rules_linalg as _rules_linalg  # noqa: F401
from . import rules_products as _rules_products  # noqa: F401
from . import rules_reductions as _rules_reductions  # noqa: F401
from . import rules_sequences as _rules_sequences  # noqa: F401
from . import rules_shape as _rules_shape  # noqa: F401
from . import rules_sorting as _rules_sorting  # noqa: F401
from . import rules_statistics as _rules_statistics  # noqa: F401
from . import rules_util as _rules_util  # noqa: F401  (broadcast_to, needed by the tables below)
from . import wrapped as _wrapped
from .wrapped import *  # noqa: F401,F403

_numpy_boxes._gnp.update(vars(_wrapped))

from . import fft, linalg, random  # noqa: E402,F401
