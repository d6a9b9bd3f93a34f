"""scipy.stats for gradviz (being written)."""
