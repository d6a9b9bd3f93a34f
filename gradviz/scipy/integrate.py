"""scipy.integrate for gradviz (being written)."""
