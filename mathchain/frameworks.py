"""From the course to JAX and PyTorch (chapter 13): per-example gradient norms of a linear layer.

For Y = AW + B with a sum of per-example losses z = Σ_b ℓ_b, row b of ``G = ∂z/∂Y`` is g_b = ∂ℓ_b/∂y_b,
and ∂z/∂W = Aᵀ G = Σ_b a_b g_bᵀ (chapter 03): the gradient of example b is the outer product a_b g_bᵀ.
Its Frobenius norm is ‖a_b‖ ‖g_b‖, so the norms need O(B(n + n₁)) work and never the (B, n, n₁)
stack of per-example gradients (the identity behind clipping in DP-SGD).
"""

from __future__ import annotations

import numpy as np

from . import _checks


def per_example_gradient_norms(A, G, bias=False) -> np.ndarray:
    """‖∂ℓ_b/∂W‖_F = ‖a_b g_bᵀ‖_F = ‖a_b‖ ‖g_b‖ for Y = AW (+ B), one per row b.

    ``A`` (the layer's input) is ``(B, n)``, ``G`` (∂z/∂Y for z = Σ_b ℓ_b, row b is ∂ℓ_b/∂y_b) is
    ``(B, n₁)``; returns shape ``(B,)``. With ``bias=True`` the norm covers (W, b) together:
    ‖(a_b g_bᵀ, g_b)‖ = ‖g_b‖ √(‖a_b‖² + 1).
    """
    A = _checks.array("A", A, ndim=2)
    G = _checks.array("G", G, ndim=2)
    if A.shape[0] != G.shape[0]:
        raise ValueError(
            f"A has shape {A.shape} and G has shape {G.shape}: G = ∂z/∂Y needs one row per row of "
            f"A (per example), ({A.shape[0]}, n₁)"
        )
    with np.errstate(over="ignore", invalid="ignore"):  # reported by finite_result
        a_sq = np.einsum("bi,bi->b", A, A)  # ‖a_b‖², never the (B, n, n₁) stack
        if bias:
            a_sq = a_sq + 1.0  # the bias's gradient g_b adds ‖g_b‖² to the squared norm
        norms = np.sqrt(a_sq) * np.sqrt(np.einsum("bj,bj->b", G, G))  # ‖a_b g_bᵀ‖_F = ‖a_b‖ ‖g_b‖
    return _checks.finite_result("per_example_gradient_norms", norms, {"A": A, "G": G})
