"""scipy.linalg for gradviz (being written)."""
