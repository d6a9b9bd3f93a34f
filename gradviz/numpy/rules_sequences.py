"""Rules for NumPy's sequences functions (being written)."""
