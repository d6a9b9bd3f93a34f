"""Rules for NumPy's sorting functions (being written)."""
