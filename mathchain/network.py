"""Back-propagation pieces (chapter 04): the elementwise rule and the usual output losses.

Together with :func:`mathchain.linear_backward` these are all a multilayer perceptron needs.
Batches are rows: logits and outputs are ``(m, c)`` for m samples and c outputs (classes); the
loss is the scalar z. All gradients are in denominator layout (the shape of their variable). Both
losses are means over the m samples, so both gradients carry a factor 1/m.
"""

from __future__ import annotations

import numpy as np

from . import _checks


def elementwise_backward(dY, derivative) -> np.ndarray:
    """∂z/∂X = ∂z/∂Y ⊙ f′(X), for Y = f(X) applied entry by entry.

    ``dY`` (``∂z/∂Y``) and ``derivative`` (``f′(X)``, evaluated at the layer's input X) have the
    shape of ``X``; so has the result. The Jacobian of an elementwise map is diagonal, so the
    transposed chain rule reduces to an entrywise product.
    """
    dY = _checks.array("dY", dY)
    derivative = _checks.array("derivative", derivative)
    if dY.shape != derivative.shape:
        raise ValueError(
            f"dY has shape {dY.shape} and derivative has shape {derivative.shape}: an elementwise "
            "map keeps the shape, so both must have the shape of its input"
        )
    with np.errstate(over="ignore"):  # reported by finite_result
        dX = dY * derivative  # ∂z/∂X_ij = ∂z/∂Y_ij f′(X_ij)
    return _checks.finite_result("elementwise_backward", dX, {})


def _logits_and_labels(logits, labels) -> tuple[np.ndarray, np.ndarray]:
    """(logits as float64 (m, c), labels as integer (m,)) after checking that they fit."""
    logits = _checks.array("logits", logits, ndim=2)
    m, k = logits.shape
    values = _checks.as_array("labels", labels)
    if values.shape != (m,):
        hint = "; it looks one-hot: pass labels.argmax(axis=1)" if values.shape == logits.shape else ""
        raise ValueError(
            f"labels has shape {values.shape} and logits has shape {logits.shape}: labels needs one "
            f"class index per row of logits, shape ({m},){hint}"
        )
    _checks.require_finite("labels", values)
    bad = (values != np.round(values)) | (values < 0) | (values >= k)
    if bad.any():
        i = int(np.argmax(bad))
        raise ValueError(
            f"labels must be integer class indices in [0, {k}) for logits with {k} columns; "
            f"labels[{i}] = {values[i]}"
        )
    return logits, values.astype(np.intp)


def softmax(logits) -> np.ndarray:
    """softmax(U)_ij = exp(U_ij) / Σ_k exp(U_ik), row by row.

    ``logits`` U is ``(m, c)``; the result has the same shape and each row sums to 1. The row
    maximum is subtracted first, which leaves the result unchanged and keeps ``exp`` from overflowing.
    """
    logits = _checks.array("logits", logits, ndim=2)
    with np.errstate(over="ignore"):  # U − max U may round to −inf; exp(−inf) = 0 is then right
        e = np.exp(logits - logits.max(axis=1, keepdims=True))  # exp(U − max U): same softmax
    return e / e.sum(axis=1, keepdims=True)  # softmax(U)_ij = e_ij / Σ_k e_ik


def softmax_cross_entropy(logits, labels) -> float:
    """z = −(1/m) Σ_i log softmax(U)_{i, tᵢ}, a Python float.

    ``logits`` U is ``(m, c)``; ``labels`` t is ``(m,)`` of class indices in ``[0, c)``. Computed as
    the mean of ``log Σ_k exp(U_ik − Mᵢ) − (U_{i,tᵢ} − Mᵢ)`` with Mᵢ the row maximum: the same value
    as ``logsumexp(Uᵢ) − U_{i,tᵢ}``, without adding and subtracting the (possibly huge) Mᵢ.
    """
    logits, labels = _logits_and_labels(logits, labels)
    with np.errstate(over="ignore", invalid="ignore"):  # reported by finite_result
        shifted = logits - logits.max(axis=1, keepdims=True)  # U − M: every row's maximum is 0
        log_sum = np.log(np.exp(shifted).sum(axis=1))  # log Σ_k exp(U_ik − Mᵢ), in [0, log c]
        picked = shifted[np.arange(logits.shape[0]), labels]  # U_{i,tᵢ} − Mᵢ
        loss = float(np.mean(log_sum - picked))  # z = mean(logsumexp(Uᵢ) − U_{i,tᵢ})
    return _checks.finite_result("softmax_cross_entropy", loss, {})


def softmax_cross_entropy_gradient(logits, labels) -> np.ndarray:
    """∂z/∂U = (softmax(U) − onehot(t)) / m, for the mean cross-entropy z above.

    Denominator layout: shape ``(m, c)`` of ``logits``; ``labels`` is ``(m,)``. Each row sums to 0.
    """
    logits, labels = _logits_and_labels(logits, labels)
    grad = softmax(logits)
    grad[np.arange(logits.shape[0]), labels] -= 1.0  # softmax(U) − onehot(t)
    return grad / logits.shape[0]  # the mean over m rows: 1/m


def _outputs_and_targets(Y, T) -> tuple[np.ndarray, np.ndarray]:
    Y = _checks.array("Y", Y, ndim=2)
    T = _checks.array("T", T, ndim=2)
    if Y.shape != T.shape:
        raise ValueError(
            f"Y has shape {Y.shape} and T has shape {T.shape}: targets need the shape of the "
            f"outputs, (m, c) = {Y.shape}"
        )
    return Y, T


def mean_squared_error(Y, T) -> float:
    """z = (1/2m) Σ_ij (Y_ij − T_ij)², a Python float.

    ``Y`` (outputs) and ``T`` (targets) are both ``(m, c)``: m samples of c outputs.
    """
    Y, T = _outputs_and_targets(Y, T)
    with np.errstate(over="ignore", invalid="ignore"):  # reported by finite_result
        loss = 0.5 * float(np.sum((Y - T) ** 2)) / Y.shape[0]  # z = ‖Y − T‖²_F / 2m
    return _checks.finite_result("mean_squared_error", loss, {})


def mean_squared_error_gradient(Y, T) -> np.ndarray:
    """∂z/∂Y = (Y − T) / m, for z = (1/2m) Σ_ij (Y_ij − T_ij)².

    Denominator layout: shape ``(m, c)`` of ``Y``; ``T`` has the same shape.
    """
    Y, T = _outputs_and_targets(Y, T)
    with np.errstate(over="ignore"):  # reported by finite_result
        dY = (Y - T) / Y.shape[0]  # ∂z/∂Y = (Y − T)/m
    return _checks.finite_result("mean_squared_error_gradient", dY, {})
