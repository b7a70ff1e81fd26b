"""Scalar by vector (chapter 02): denominator layout, the multi-step rule and least squares.

For a scalar ``z`` and vectors ``y₁ → y₂ → ⋯ → yₙ → z``::

    ∂z/∂y₁ = (∂yₙ/∂yₙ₋₁ ⋯ ∂y₂/∂y₁)ᵀ ∂z/∂yₙ

gradients (``∂z/∂y``) in denominator layout, Jacobians (``∂yₖ/∂yₖ₋₁``) in numerator layout.
"""

from __future__ import annotations

import numpy as np

from . import _checks


def _vector(name: str, value) -> np.ndarray:
    """A 1-D ``(k,)`` or column ``(k, 1)`` vector as a float64 array."""
    a = _checks.as_array(name, value, ndim=(1, 2))
    if a.ndim == 2 and a.shape[1] != 1:
        raise ValueError(f"{name} must be a vector of shape (k,) or (k, 1); got shape {a.shape}")
    return a


def gradient_chain(grad, *jacobians) -> np.ndarray:
    """∂z/∂y₁ = (∂yₙ/∂yₙ₋₁ ⋯ ∂y₂/∂y₁)ᵀ ∂z/∂yₙ, with ``grad = ∂z/∂yₙ``, Jacobians as written.

    ``grad`` is a denominator-layout gradient of shape ``(k,)`` or ``(k, 1)``; each Jacobian is
    a numerator-layout 2-D matrix. The result has the shape of ``y₁`` (1-D or column, like
    ``grad``). Evaluated as successive products Jᵀ g from the loss end (reverse accumulation):
    matrix-vector work only, the Jacobian product is never formed.
    """
    g = _vector("grad", grad)
    names = [f"jacobians[{i}]" for i in range(len(jacobians))]
    mats = [_checks.as_array(n, j, ndim=2) for n, j in zip(names, jacobians, strict=True)]
    _checks.chain_pairs(names, mats)
    if mats and mats[0].shape[0] != g.shape[0]:
        raise ValueError(
            f"grad has shape {g.shape} but jacobians[0] (∂yₙ/∂yₙ₋₁) has shape {mats[0].shape}: "
            f"its rows ({mats[0].shape[0]}) must equal the size of yₙ ({g.shape[0]})"
        )
    result = g.copy()
    with np.errstate(over="ignore", invalid="ignore"):  # reported by finite_result
        for jac in mats:
            result = jac.T @ result  # ∂z/∂yₖ₋₁ = (∂yₖ/∂yₖ₋₁)ᵀ ∂z/∂yₖ
    inputs = {"grad": g, **dict(zip(names, mats, strict=True))}
    return _checks.finite_result("gradient_chain", result, inputs)


def _least_squares_inputs(X, w, y) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """X, w, y as float64 arrays after checking that they fit; shared by loss and gradient.

    Finiteness is not scanned here: every entry of X, w and y reaches every entry of z = Xw − y
    and of Xᵀz (IEEE: nan·0 = nan), so the callers check their small result instead.
    """
    X = _checks.as_array("X", X, ndim=2)
    w = _vector("w", w)
    y = _vector("y", y)
    m, n = X.shape
    if w.shape[0] != n:
        raise ValueError(
            f"X has shape {X.shape} and w has shape {w.shape}: w needs {n} entries, one per "
            "column of X"
        )
    if y.shape[0] != m:
        raise ValueError(
            f"X has shape {X.shape} and y has shape {y.shape}: y needs {m} entries, one per row of X"
        )
    if w.ndim != y.ndim:
        raise ValueError(
            f"w has shape {w.shape} and y has shape {y.shape}: X @ w would have shape "
            f"{(m,) if w.ndim == 1 else (m, 1)} and NumPy would broadcast X @ w - y silently to "
            f"shape ({m}, {m}); pass both as 1-D vectors or both as columns"
        )
    return X, w, y


def least_squares_loss(X, w, y) -> float:
    """J = ½ (Xw − y)ᵀ(Xw − y), a Python float.

    ``X`` is ``(m, n)`` (m samples of n features); ``w`` is ``(n,)`` and ``y`` is ``(m,)``, or both
    are columns ``(n, 1)`` and ``(m, 1)``. Mixing the two raises, since NumPy would broadcast.
    """
    X, w, y = _least_squares_inputs(X, w, y)
    with np.errstate(over="ignore", invalid="ignore"):  # reported by finite_result
        z = X @ w - y  # z = Xw − y
        loss = 0.5 * float(np.vdot(z, z))  # J = ½ zᵀz
    return _checks.finite_result("least_squares_loss", loss, {"X": X, "w": w, "y": y})


def least_squares_gradient(X, w, y) -> np.ndarray:
    """∂J/∂w = Xᵀ(Xw − y), for J = ½ (Xw − y)ᵀ(Xw − y).

    Denominator layout: the result has the shape of ``w`` (``(n,)`` or ``(n, 1)``). By the chain
    rule with z = Xw − y: ∂J/∂w = (∂z/∂w)ᵀ ∂J/∂z = Xᵀ z. Shapes as in :func:`least_squares_loss`.
    """
    X, w, y = _least_squares_inputs(X, w, y)
    with np.errstate(over="ignore", invalid="ignore"):  # reported by finite_result
        z = X @ w - y  # z = Xw − y
        gradient = X.T @ z  # ∂J/∂w = (∂z/∂w)ᵀ ∂J/∂z = Xᵀ z
    return _checks.finite_result("least_squares_gradient", gradient, {"X": X, "w": w, "y": y})
