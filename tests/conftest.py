import numpy as np
import pytest


@pytest.fixture(autouse=True)
def _seed():
    """Every test draws the same random directions and data, run alone or in the suite."""
    np.random.seed(0)
