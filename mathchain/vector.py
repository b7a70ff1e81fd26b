"""Vector by vector (chapter 01): the chain rule for Jacobians in numerator layout.

For ``x ∈ ℝᵐ → y ∈ ℝⁿ → z ∈ ℝᵖ``: ``∂z/∂x = ∂z/∂y · ∂y/∂x``, shapes ``[p, m] = [p, n][n, m]``.
"""

from __future__ import annotations

import math

import numpy as np

from . import _checks


def jacobian_chain(*jacobians) -> np.ndarray:
    """∂z/∂x = ∂z/∂yₖ · ∂yₖ/∂yₖ₋₁ ⋯ ∂y₁/∂x, Jacobians given outermost first, as written.

    Numerator layout: each argument is a 2-D ``(output size, input size)`` matrix; the result has
    shape ``(rows of the first, columns of the last)``. The product is associative, so it is
    evaluated in the order with the fewest multiply-adds (the matrix-chain problem, solved as
    ``numpy.linalg.multi_dot`` solves it). Raises ``ValueError`` naming any adjacent pair that does
    not fit.
    """
    if not jacobians:
        raise ValueError("jacobian_chain needs at least one Jacobian")
    names = [f"jacobians[{i}]" for i in range(len(jacobians))]
    mats = [_checks.as_array(n, j, ndim=2) for n, j in zip(names, jacobians, strict=True)]
    _checks.chain_pairs(names, mats)
    dims = [m.shape[0] for m in mats] + [mats[-1].shape[1]]
    with np.errstate(over="ignore", invalid="ignore"):  # reported by finite_result
        if len(mats) == 1:
            product = mats[0].copy()
        else:
            product = _chain_product(mats, _cheapest_splits(dims), 0, len(mats) - 1)
    return _checks.finite_result("jacobian_chain", product, dict(zip(names, mats, strict=True)))


def _multiply(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """One product of the chain, always ``@``: NumPy's ``dot`` (which ``multi_dot`` uses) treats a
    1 × 1 factor as a scalar and skips the other factor when it is 0, dropping its NaN and inf.
    A module-level name, so that the tests can count the multiply-adds."""
    return a @ b


def _cheapest_splits(dims: list[int]) -> list[list[int]]:
    """split[i][j] = k: the cheapest bracketing of Mᵢ⋯Mⱼ is (Mᵢ⋯Mₖ)(Mₖ₊₁⋯Mⱼ), Mᵢ of shape
    (dims[i], dims[i + 1]). Dynamic programming over sub-chains (CLRS 15.2): O(k³) for k matrices."""
    count = len(dims) - 1
    cost = [[0] * count for _ in range(count)]
    split = [[0] * count for _ in range(count)]
    for length in range(2, count + 1):
        for i in range(count - length + 1):
            j = i + length - 1
            cost[i][j] = math.inf
            for k in range(i, j):  # joining [dims[i], dims[k+1]] and [dims[k+1], dims[j+1]]
                c = cost[i][k] + cost[k + 1][j] + dims[i] * dims[k + 1] * dims[j + 1]
                if c < cost[i][j]:
                    cost[i][j], split[i][j] = c, k
    return split


def _chain_product(mats: list[np.ndarray], split: list[list[int]], i: int, j: int) -> np.ndarray:
    """Mᵢ⋯Mⱼ in the bracketing given by ``split``."""
    if i == j:
        return mats[i]
    k = split[i][j]
    return _multiply(_chain_product(mats, split, i, k), _chain_product(mats, split, k + 1, j))
