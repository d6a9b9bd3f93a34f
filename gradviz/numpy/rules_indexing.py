"""Rules for NumPy's indexing functions (being written)."""
