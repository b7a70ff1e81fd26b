"""Shared fixtures for the package tests (named tolerances and shape lists live in tolerances.py)."""

import numpy as np
import pytest

SEED = 20261125


@pytest.fixture
def rng():
    """One seeded generator per test: a failure reproduces with the same numbers."""
    return np.random.default_rng(SEED)
