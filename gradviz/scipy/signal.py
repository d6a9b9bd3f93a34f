"""scipy.signal for gradviz (being written)."""
