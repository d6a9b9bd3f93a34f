"""scipy.special for gradviz (being written)."""
