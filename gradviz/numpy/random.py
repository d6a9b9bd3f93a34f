"""numpy.random, passed through: random draws are constants, and generators are NumPy's own."""

from numpy.random import *  # noqa: F401,F403
from numpy.random import __all__  # noqa: F401
