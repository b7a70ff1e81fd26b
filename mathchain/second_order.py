"""Second order (chapter 08): the least-squares Hessian, as a matrix and as a product with a vector;
the Gauss–Newton matrix of the softmax cross-entropy.

For J(w) = ½ (Xw − y)ᵀ(Xw − y) the gradient is Xᵀ(Xw − y) (chapter 02) and its Jacobian, the
Hessian ∂²J/∂w∂wᵀ, is XᵀX: ``(n, n)``, symmetric, the same at every w. The product with a vector v
needs only Xᵀ(Xv), O(mn) time and O(m + n) memory, without forming the ``(n, n)`` matrix.

For the mean cross-entropy of chapter 04 on logits U = f(θ), the Hessian in the logits is
(diag sᵢ − sᵢsᵢᵀ)/m per sample, and the Gauss–Newton matrix is (1/m) Σᵢ Jᵢᵀ(diag sᵢ − sᵢsᵢᵀ)Jᵢ.
"""

from __future__ import annotations

import numpy as np

from . import _checks
from .network import softmax


def least_squares_hessian(X) -> np.ndarray:
    """∂²J/∂w∂wᵀ = XᵀX, for J = ½ (Xw − y)ᵀ(Xw − y).

    ``X`` is ``(m, n)``; the result is ``(n, n)`` and symmetric (rows and columns indexed by the
    entries of w). It depends on neither w nor y. Costs O(mn²) time and n² floats of memory.
    """
    X = _checks.as_array("X", X, ndim=2)
    with np.errstate(over="ignore", invalid="ignore"):  # reported by finite_result
        hessian = X.T @ X  # ∂(Xᵀ(Xw − y))/∂wᵀ = Xᵀ ∂(Xw − y)/∂wᵀ = XᵀX
    return _checks.finite_result("least_squares_hessian", hessian, {"X": X})


def least_squares_hessian_vector_product(X, v) -> np.ndarray:
    """(∂²J/∂w∂wᵀ) v = Xᵀ(Xv), for J = ½ (Xw − y)ᵀ(Xw − y), without forming XᵀX.

    ``X`` is ``(m, n)``; ``v`` is ``(n,)`` or a column ``(n, 1)``, and the result has the shape of
    ``v``. Two matrix-vector products: O(mn) time and O(m + n) memory, against O(mn²) and n² for
    :func:`least_squares_hessian` followed by a product.
    """
    X = _checks.as_array("X", X, ndim=2)
    v = _checks.as_array("v", v, ndim=(1, 2))
    n = X.shape[1]
    if v.shape not in ((n,), (n, 1)):
        raise ValueError(
            f"X has shape {X.shape} and v has shape {v.shape}: v needs the shape of w, ({n},) or "
            f"({n}, 1), one entry per column of X"
        )
    with np.errstate(over="ignore", invalid="ignore"):  # reported by finite_result
        product = X.T @ (X @ v)  # (XᵀX) v = Xᵀ(Xv): the bracket keeps every product a vector
    return _checks.finite_result(
        "least_squares_hessian_vector_product", product, {"X": X, "v": v}
    )


def cross_entropy_gauss_newton(logits, jacobian) -> np.ndarray:
    """H_GN = (1/m) Σᵢ Jᵢᵀ (diag sᵢ − sᵢsᵢᵀ) Jᵢ, sᵢ = softmax(Uᵢ,:), for the mean cross-entropy z.

    ``logits`` U is ``(m, c)``; ``jacobian`` is ∂vec(U)/∂θ ``(m*c, N)`` in numerator layout, rows in
    C order of U (as :func:`mathchain.numeric_jacobian` gives them), so Jᵢ is rows i*c to i*c + c − 1.
    The result is ``(N, N)``, symmetric positive semidefinite, and independent of the labels. It is
    also the Fisher information matrix of the softmax model, (1/m) Σᵢ Σₖ sᵢₖ gᵢₖgᵢₖᵀ with
    gᵢₖ = Jᵢᵀ(sᵢ − eₖ). Costs O(mcN²) time; never forms the ``(m*c, m*c)`` Hessian in the logits.
    """
    logits = _checks.array("logits", logits, ndim=2)
    jacobian = _checks.array("jacobian", jacobian, ndim=2)
    m, c = logits.shape
    if jacobian.shape[0] != m * c:
        raise ValueError(
            f"logits has shape {logits.shape} and jacobian has shape {jacobian.shape}: jacobian needs "
            f"one row per logit, m*c = {m * c} rows (∂vec(U)/∂θ in numerator layout)"
        )
    s = softmax(logits)  # sᵢ = softmax(Uᵢ,:), (m, c)
    J = jacobian.reshape(m, c, -1)  # Jᵢ = J[i], (c, N)
    with np.errstate(over="ignore", invalid="ignore"):  # reported by finite_result
        sJ = np.einsum("ik,ikn->in", s, J)  # sᵢᵀJᵢ, (m, N)
        diag_part = np.einsum("ikn,ik,ikp->np", J, s, J)  # Σᵢ Jᵢᵀ diag(sᵢ) Jᵢ
        gn = (diag_part - sJ.T @ sJ) / m  # (1/m) Σᵢ Jᵢᵀ(diag sᵢ − sᵢsᵢᵀ)Jᵢ
        gn = (gn + gn.T) / 2  # symmetric to the last bit (the two products round differently)
    return _checks.finite_result("cross_entropy_gauss_newton", gn, {"jacobian": jacobian})
