"""Rules for NumPy's fft functions (being written)."""
