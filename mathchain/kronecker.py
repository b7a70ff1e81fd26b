"""Matrix by matrix (chapter 07): vec in two orders, Kronecker-product Jacobians, the commutation matrix.

A map ``Y = F(X)`` between matrices has the Jacobian ∂vec(Y)/∂vec(X) (numerator layout), and its
entries depend on how ``vec`` flattens. ``order="C"`` is vec_r, row by row (NumPy's default and the
order of :func:`mathchain.numeric_jacobian`); ``order="F"`` is vec_c, column by column (the order of
most textbooks). Every function here takes the order as an argument, "C" (the default) or "F", and
refuses anything else. The basic identity, by indices ∂Y_kl/∂X_ij = A_ki B_jl for Y = AXB, is

    vec_r(AXB) = (A ⊗ Bᵀ) vec_r(X),      vec_c(AXB) = (Bᵀ ⊗ A) vec_c(X);

the other Jacobians are built from it (:func:`kron_jacobian`) and from the commutation matrix.
These matrices have (size of Y) × (size of X) entries: they are for small cases and for teaching;
back-propagation never forms them (a scalar loss needs only Aᵀ ∂z/∂Y Bᵀ).
"""

from __future__ import annotations

import numbers

import numpy as np

from . import _checks

_ORDERS = {"C": "vec_r, row by row", "F": "vec_c, column by column"}


def _order(order) -> str:
    """``order`` if it is "C" or "F", else ``ValueError`` naming it."""
    if not isinstance(order, str) or order not in _ORDERS:
        raise ValueError(
            f"order must be 'C' (vec_r, row by row, NumPy's) or 'F' (vec_c, column by column); "
            f"got {order!r}"
        )
    return order


def _is_size(value) -> bool:
    """True for a positive integer (Python's or NumPy's), False for anything else, booleans too."""
    return not isinstance(value, (bool, np.bool_)) and isinstance(value, numbers.Integral) and value >= 1


def _size(name: str, value) -> int:
    """``value`` as a positive int, else ``ValueError`` naming ``name``."""
    if not _is_size(value):
        raise ValueError(f"{name} must be a positive integer; got {value!r}")
    return int(value)


def vec(X, order="C") -> np.ndarray:
    """vec_r(X)_{i n + j} = X_ij (order "C"); vec_c(X)_{j m + i} = X_ij (order "F").

    ``X`` is ``(m, n)``; returns a new 1-D array of ``m n`` entries. vec_c(X) = vec_r(Xᵀ).
    """
    order = _order(order)
    X = _checks.array("X", X, ndim=2)
    return X.flatten(order=order)  # a copy in either order (ravel could return a view of X)


def unvec(v, shape, order="C") -> np.ndarray:
    """X with vec(X) = v: X_ij = v_{i n + j} (order "C") or v_{j m + i} (order "F").

    ``v`` has ``m n`` entries, shape ``(m n,)`` or a column ``(m n, 1)``; ``shape`` is ``(m, n)``;
    returns a new ``(m, n)`` array, the inverse of :func:`vec` in the same order.
    """
    order = _order(order)
    v = _checks.array("v", v, ndim=(1, 2))
    if v.ndim == 2 and v.shape[1] != 1:
        raise ValueError(f"v must be a vector, shape (k,) or a column (k, 1); got shape {v.shape}")
    if not (isinstance(shape, (tuple, list)) and len(shape) == 2 and all(map(_is_size, shape))):
        raise ValueError(f"shape must be a pair (m, n) of positive integers; got {shape!r}")
    m, n = (int(s) for s in shape)
    if v.size != m * n:
        raise ValueError(
            f"v has shape {v.shape} ({v.size} entries) but shape {(m, n)} needs m n = {m * n}"
        )
    return v.reshape((m, n), order=order).copy()  # X_ij = v_{in+j} (C) or v_{jm+i} (F)


def kron_jacobian(A, B, order="C") -> np.ndarray:
    """∂vec(AXB)/∂vec(X) = A ⊗ Bᵀ (order "C", vec_r) or Bᵀ ⊗ A (order "F", vec_c).

    ``A`` is ``(p, m)``, ``B`` is ``(n, q)``, for ``X`` of shape ``(m, n)``; numerator layout,
    shape ``(p q, m n)``. Does not depend on ``X``: the map is linear.
    """
    order = _order(order)
    A = _checks.array("A", A, ndim=2)
    B = _checks.array("B", B, ndim=2)
    with np.errstate(over="ignore", invalid="ignore"):  # reported by finite_result
        if order == "C":
            J = np.kron(A, B.T)  # vec_r(AXB) = (A ⊗ Bᵀ) vec_r(X)
        else:
            J = np.kron(B.T, A)  # vec_c(AXB) = (Bᵀ ⊗ A) vec_c(X)
    return _checks.finite_result("kron_jacobian", J, {"A": A, "B": B})


def commutation_matrix(m, n, order="C") -> np.ndarray:
    """K_{m,n} with vec(Xᵀ) = K_{m,n} vec(X) for every X of shape (m, n), in the given order.

    Returns an ``(m n, m n)`` permutation matrix of 0.0 and 1.0. In C order K[j m + i, i n + j] = 1;
    in F order K[i n + j, j m + i] = 1, so the F-order K_{m,n} is the C-order K_{n,m}. In either
    order K_{n,m} K_{m,n} = I and K_{m,n}ᵀ = K_{n,m}.
    """
    order = _order(order)
    m, n = _size("m", m), _size("n", n)
    i, j = np.divmod(np.arange(m * n), n)  # C position i n + j holds X_ij, for every (i, j)
    K = np.zeros((m * n, m * n))
    if order == "C":
        K[j * m + i, i * n + j] = 1.0  # vec_r(Xᵀ)_{jm+i} = (Xᵀ)_ji = X_ij = vec_r(X)_{in+j}
    else:
        K[i * n + j, j * m + i] = 1.0  # vec_c(Xᵀ)_{in+j} = (Xᵀ)_ji = X_ij = vec_c(X)_{jm+i}
    return K


def inverse_jacobian(X, order="C") -> np.ndarray:
    """∂vec(X⁻¹)/∂vec(X) = −(X⁻¹ ⊗ X⁻ᵀ) (order "C") or −(X⁻ᵀ ⊗ X⁻¹) (order "F").

    ``X`` is square ``(s, s)`` and invertible; shape ``(s², s²)``. From d(X⁻¹) = −X⁻¹ dX X⁻¹, the
    Jacobian of X ↦ AXB with A = −X⁻¹ and B = X⁻¹ (:func:`kron_jacobian`).
    """
    order = _order(order)
    X = _checks.array("X", X, ndim=2)
    if X.shape[0] != X.shape[1]:
        raise ValueError(f"X must be square to have an inverse; got shape {X.shape}")
    try:
        X_inv = np.linalg.inv(X)
    except np.linalg.LinAlgError as exc:
        raise ValueError(f"X is singular (shape {X.shape}): X⁻¹ and its Jacobian do not exist") from exc
    return kron_jacobian(-X_inv, X_inv, order)  # d(X⁻¹) = (−X⁻¹) dX (X⁻¹)


def gram_jacobian(X, order="C") -> np.ndarray:
    """∂vec(XᵀX)/∂vec(X) = (I_n ⊗ Xᵀ) K_{m,n} + (Xᵀ ⊗ I_n) (C); (Xᵀ ⊗ I_n) K_{m,n} + (I_n ⊗ Xᵀ) (F).

    ``X`` is ``(m, n)``; XᵀX is ``(n, n)``; shape ``(n², m n)``. From d(XᵀX) = dXᵀ X + Xᵀ dX: the
    first term is X ↦ AXB applied to dXᵀ (A = I_n, B = X), reached through the commutation
    matrix vec(dXᵀ) = K_{m,n} vec(dX); the second is A = Xᵀ, B = I_n. In the F form, K_{m,n} is
    ``commutation_matrix(m, n, "F")`` (vec_c(Xᵀ) = K_{m,n} vec_c(X), the K_{mn} of Magnus and
    Neudecker), which is the C-order ``commutation_matrix(n, m)``.
    """
    order = _order(order)
    X = _checks.array("X", X, ndim=2)
    m, n = X.shape
    eye = np.eye(n)
    through_transpose = kron_jacobian(eye, X, order) @ commutation_matrix(m, n, order)  # dXᵀ X
    direct = kron_jacobian(X.T, eye, order)  # Xᵀ dX
    return through_transpose + direct


def elementwise_jacobian(derivative, order="C") -> np.ndarray:
    """∂vec(f(X))/∂vec(X) = diag(vec(f′(X))), for f applied entry by entry.

    ``derivative`` is f′(X), of the shape ``(m, n)`` of X; shape ``(m n, m n)``, diagonal because
    f(X)_ij depends on X_ij alone. The diagonal follows the order of vec.
    """
    order = _order(order)
    derivative = _checks.array("derivative", derivative, ndim=2)
    return np.diag(vec(derivative, order))  # ∂f(X)_ij/∂X_kl = f′(X_ij) δ_ik δ_jl
