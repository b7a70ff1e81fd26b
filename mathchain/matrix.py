"""Scalar by matrix (chapter 03): the linear layer ``Y = AW + B`` and its gradients.

Index form: ∂z/∂W_ij = Σ_kl ∂z/∂Y_kl ∂Y_kl/∂W_ij with ∂Y_kl/∂W_ij = A_ki δ_lj, hence
∂z/∂W = Aᵀ ∂z/∂Y. All gradients are in denominator layout (the shape of their variable).
"""

from __future__ import annotations

from typing import NamedTuple

import numpy as np

from . import _checks


class LinearGrads(NamedTuple):
    """Gradients of a scalar z through Y = AW + B, each shaped like its variable."""

    dA: np.ndarray  # ∂z/∂A = ∂z/∂Y Wᵀ, shape of A
    dW: np.ndarray  # ∂z/∂W = Aᵀ ∂z/∂Y, shape of W
    dB: np.ndarray  # ∂z/∂B = ∂z/∂Y summed over broadcast axes, shape of B


def _layer(A, W, B):
    """A, W, B as float64 arrays after checking that they fit.

    A and W are not scanned for NaN and inf: every entry of each reaches the products (IEEE:
    nan·0 = nan), so the callers check their results instead. B is scanned: it is small next to
    A and W, and the backward pass does not use its values at all.
    """
    A = _checks.as_array("A", A, ndim=2)
    W = _checks.as_array("W", W, ndim=2)
    B = _checks.array("B", B, ndim=(1, 2))
    (m, n), (n_w, n1) = A.shape, W.shape
    if n != n_w:
        raise ValueError(
            f"A has shape {A.shape} and W has shape {W.shape}: Y = AW needs the columns of A "
            f"({n}) to equal the rows of W ({n_w})"
        )
    if B.shape not in ((m, n1), (1, n1), (n1,)):
        raise ValueError(
            f"B has shape {B.shape}; with A {A.shape} and W {W.shape}, Y = AW + B has shape "
            f"{(m, n1)}, so B must have shape {(m, n1)}, {(1, n1)} or {(n1,)}"
        )
    return A, W, B


def linear_forward(A, W, B) -> np.ndarray:
    """Y = AW + B.

    ``A`` is ``(m, n)``, ``W`` is ``(n, n₁)``; ``B`` is ``(m, n₁)``, a row ``(1, n₁)`` or ``(n₁,)``
    (a bias broadcast over the m rows). Returns ``Y`` of shape ``(m, n₁)``.
    """
    A, W, B = _layer(A, W, B)
    with np.errstate(over="ignore", invalid="ignore"):  # reported by finite_result
        Y = A @ W + B  # Y = AW + B
    return _checks.finite_result("linear_forward", Y, {"A": A, "W": W})


def linear_backward(A, W, B, dY) -> LinearGrads:
    """(dA, dW, dB) = (∂z/∂Y Wᵀ, Aᵀ ∂z/∂Y, ∂z/∂Y summed to B's shape), given dY = ∂z/∂Y.

    Denominator layout throughout: ``dY`` has the shape ``(m, n₁)`` of ``Y``; ``dA``, ``dW``, ``dB``
    have exactly the shapes of ``A``, ``W``, ``B``. A broadcast bias collects the gradient of
    every row it was added to, hence the sum over rows.
    """
    A, W, B = _layer(A, W, B)
    dY = _checks.as_array("dY", dY, ndim=2)
    expected = (A.shape[0], W.shape[1])
    if dY.shape != expected:
        raise ValueError(
            f"dY has shape {dY.shape}; with A {A.shape} and W {W.shape}, Y = AW + B has shape "
            f"{expected} and dY = ∂z/∂Y must have that shape too"
        )
    with np.errstate(over="ignore", invalid="ignore"):  # reported by finite_result
        dA = dY @ W.T  # ∂z/∂A = ∂z/∂Y Wᵀ
        dW = A.T @ dY  # ∂z/∂W = Aᵀ ∂z/∂Y
        if B.shape == dY.shape:
            dB = dY.copy()  # ∂z/∂B = ∂z/∂Y
        else:
            dB = dY.sum(axis=0).reshape(B.shape)  # ∂z/∂b_l = Σ_k ∂z/∂Y_kl
    # dA carries every entry of dY and W, dW every entry of A and dY, dB every entry of dY.
    _checks.finite_result("linear_backward (dA)", dA, {"dY": dY, "W": W})
    _checks.finite_result("linear_backward (dW)", dW, {"A": A, "dY": dY})
    _checks.finite_result("linear_backward (dB)", dB, {"dY": dY})
    return LinearGrads(dA, dW, dB)
