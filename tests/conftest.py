"""Shared fixtures and tolerances for the package tests."""

import numpy as np
import pytest

SEED = 20261125

@pytest.fixture
def rng():
    """One seeded generator per test: failures reproduce."""
    return np.random.default_rng(SEED)
