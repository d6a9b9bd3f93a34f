"""Rules for NumPy's statistics functions (being written)."""
