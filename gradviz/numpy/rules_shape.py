"""Rules for NumPy's shape functions (being written)."""
