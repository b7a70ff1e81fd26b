"""Back-propagation pieces (chapter 04): the elementwise rule and the usual output losses.

Together with :func:`mathchain.linear_backward` these are all a multilayer perceptron needs.
Batches are rows: logits and outputs are ``(m, k)`` for m samples and k outputs. All gradients are
in denominator layout (the shape of their variable).
"""

from __future__ import annotations

import numpy as np

from . import _checks


def elementwise_backward(dY, derivative) -> np.ndarray:
    """∂z/∂X = ∂z/∂Y ⊙ f′(X), for Y = f(X) applied entry by entry.

    ``dY`` (``∂z/∂Y``) and ``derivative`` (``f′(X)``, evaluated at the layer's input) have the shape
    of ``X``; so has the result. The Jacobian of an elementwise map is diagonal, so the transposed
    chain rule reduces to an entrywise product.
    """
    dY = _checks.array("dY", dY)
    derivative = _checks.array("derivative", derivative)
    if dY.shape != derivative.shape:
        raise ValueError(
            f"dY has shape {dY.shape} and derivative has shape {derivative.shape}: an elementwise "
            "map keeps the shape, so both must have the shape of its input"
        )
    return dY * derivative  # ∂z/∂X_ij = ∂z/∂Y_ij f′(X_ij)


def _logits_and_labels(logits, labels) -> tuple[np.ndarray, np.ndarray]:
    logits = _checks.array("logits", logits, ndim=2)
    raw = np.asarray(labels)
    if raw.ndim != 1 or raw.shape[0] != logits.shape[0]:
        raise ValueError(
            f"labels has shape {raw.shape} and logits has shape {logits.shape}: labels needs one "
            f"class index per row of logits, shape ({logits.shape[0]},)"
        )
    labels = _checks.array("labels", raw, ndim=1)
    k = logits.shape[1]
    if not np.array_equal(labels, np.round(labels)) or labels.min() < 0 or labels.max() >= k:
        raise ValueError(f"labels must be integers in [0, {k}) for logits with {k} columns; "
                         f"got values from {labels.min()} to {labels.max()}")
    return logits, labels.astype(np.intp)


def softmax(logits) -> np.ndarray:
    """softmax(U)_ij = exp(U_ij) / Σ_c exp(U_ic), row by row.

    ``logits`` is ``(m, k)``; the result has the same shape and each row sums to 1. The row maximum is
    subtracted first, which leaves the result unchanged and keeps ``exp`` from overflowing.
    """
    logits = _checks.array("logits", logits, ndim=2)
    e = np.exp(logits - logits.max(axis=1, keepdims=True))  # exp(U − max U): same softmax, no overflow
    return e / e.sum(axis=1, keepdims=True)


def softmax_cross_entropy(logits, labels) -> float:
    """L = −(1/m) Σ_i log softmax(U)_{i, tᵢ}, a Python float.

    ``logits`` U is ``(m, k)``; ``labels`` t is ``(m,)`` of class indices in ``[0, k)``. Computed as
    ``logsumexp(Uᵢ) − U_{i,tᵢ}``, finite for any finite logits.
    """
    logits, labels = _logits_and_labels(logits, labels)
    top = logits.max(axis=1)
    logsumexp = top + np.log(np.exp(logits - top[:, None]).sum(axis=1))
    picked = logits[np.arange(logits.shape[0]), labels]
    return float(np.mean(logsumexp - picked))  # L = mean(logsumexp(Uᵢ) − U_{i,tᵢ})


def softmax_cross_entropy_gradient(logits, labels) -> np.ndarray:
    """∂L/∂U = (softmax(U) − onehot(t)) / m, for the mean cross-entropy L above.

    Denominator layout: shape ``(m, k)`` of ``logits``. Each row sums to 0.
    """
    logits, labels = _logits_and_labels(logits, labels)
    grad = softmax(logits)
    grad[np.arange(logits.shape[0]), labels] -= 1.0  # softmax(U) − onehot(t)
    return grad / logits.shape[0]


def _outputs_and_targets(Y, T) -> tuple[np.ndarray, np.ndarray]:
    Y = _checks.array("Y", Y, ndim=2)
    T = _checks.array("T", T, ndim=2)
    if Y.shape != T.shape:
        raise ValueError(f"Y has shape {Y.shape} and T has shape {T.shape}: they must be equal")
    return Y, T


def mean_squared_error(Y, T) -> float:
    """L = (1/2m) Σ_ij (Y_ij − T_ij)², a Python float; ``Y`` and ``T`` are ``(m, k)``."""
    Y, T = _outputs_and_targets(Y, T)
    return 0.5 * float(np.sum((Y - T) ** 2)) / Y.shape[0]  # L = ‖Y − T‖²_F / 2m


def mean_squared_error_gradient(Y, T) -> np.ndarray:
    """∂L/∂Y = (Y − T) / m, for L = (1/2m) Σ_ij (Y_ij − T_ij)²; shape ``(m, k)`` of ``Y``."""
    Y, T = _outputs_and_targets(Y, T)
    return (Y - T) / Y.shape[0]  # ∂L/∂Y = (Y − T)/m
