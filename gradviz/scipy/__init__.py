"""SciPy for gradviz: ``import gradviz.scipy`` makes integrate, linalg, signal, special and stats available."""

from . import integrate, linalg, signal, special, stats  # noqa: F401
