"""Assertions shared by the package tests."""

import numpy as np


def assert_inputs_kept_and_results_new(inputs, compute):
    """``compute()`` leaves ``inputs`` unchanged, and overwriting its results changes no input.

    The second half catches results that are views of an input (a missing copy).
    """
    before = [a.copy() for a in inputs]
    results = compute()
    for r in results:
        r[...] = 99.0
    for a, b in zip(inputs, before, strict=True):
        np.testing.assert_array_equal(a, b)
