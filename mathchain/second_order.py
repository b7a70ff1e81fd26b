"""Second order (chapter 08): the least-squares Hessian, as a matrix and as a product with a vector.

For J(w) = ½ (Xw − y)ᵀ(Xw − y) the gradient is Xᵀ(Xw − y) (chapter 02) and its Jacobian, the
Hessian ∂²J/∂w∂wᵀ, is XᵀX: ``(n, n)``, symmetric, the same at every w. The product with a vector v
needs only Xᵀ(Xv), O(mn) time and O(m + n) memory, without forming the ``(n, n)`` matrix.
"""

from __future__ import annotations

import numpy as np

from . import _checks


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
