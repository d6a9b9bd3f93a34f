from pathlib import Path

import numpy as np
import pytest

from gradviz.coverage import rule_coverage_plugin


@pytest.fixture(autouse=True)
def _seed():
    """Every test draws the same random directions and data, run alone or in the suite."""
    np.random.seed(0)


def pytest_configure(config):
    """A full run fails when a primitive claims a VJP or JVP that no check_grads call exercised (gradviz.coverage).

    GRADVIZ_COVERAGE=report lists those rules without failing; GRADVIZ_COVERAGE=off skips the check.
    """
    config.pluginmanager.register(rule_coverage_plugin(tests_dir=Path(__file__).parent), "gradviz-rule-coverage")
