"""Vector by vector (chapter 01): the chain rule for Jacobians in numerator layout.

For ``x ∈ ℝᵐ → y ∈ ℝⁿ → z ∈ ℝᵖ``: ``∂z/∂x = ∂z/∂y · ∂y/∂x``, shapes ``[p, m] = [p, n][n, m]``.
"""

from __future__ import annotations

import numpy as np

from . import _checks


def jacobian_chain(*jacobians) -> np.ndarray:
    """∂z/∂x = ∂z/∂yₖ · ∂yₖ/∂yₖ₋₁ ⋯ ∂y₁/∂x, Jacobians given outermost first, as written.

    Numerator layout: each argument is a 2-D ``(output size, input size)`` matrix; the result has
    shape ``(rows of the first, columns of the last)``. The product is associative, so it is
    evaluated in the order with the fewest multiply-adds (the matrix-chain problem, solved by
    ``numpy.linalg.multi_dot``). Raises ``ValueError`` naming any adjacent pair that does not fit.
    """
    if not jacobians:
        raise ValueError("jacobian_chain needs at least one Jacobian")
    names = [f"jacobians[{i}]" for i in range(len(jacobians))]
    mats = [_checks.as_array(n, j, ndim=2) for n, j in zip(names, jacobians, strict=True)]
    _checks.chain_pairs(names, mats)
    with np.errstate(over="ignore", invalid="ignore"):  # reported by finite_result
        if len(mats) == 1:
            product = mats[0].copy()
        elif len(mats) == 2:
            product = mats[0] @ mats[1]  # ∂z/∂x = ∂z/∂y ∂y/∂x
        else:
            product = np.linalg.multi_dot(mats)  # same product, cheapest parenthesisation
    return _checks.finite_result("jacobian_chain", product, dict(zip(names, mats, strict=True)))
