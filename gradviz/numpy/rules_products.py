"""Rules for NumPy's products functions (being written)."""
