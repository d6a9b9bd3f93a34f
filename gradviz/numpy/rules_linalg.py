"""Rules for NumPy's linalg functions (being written)."""
