"""Rules for NumPy's creation functions (being written)."""
