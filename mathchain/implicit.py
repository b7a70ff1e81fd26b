"""Through solvers (chapter 11): the VJP of a linear solve and of a solution of F(x, θ) = 0.

A solver's output is differentiated from the condition it satisfies, not from its iterations. For
x = A⁻¹b the differential of Ax = b is A dx + dA x = db, so dx = A⁻¹(db − dA x) and, for a scalar z
with x̄ = ∂z/∂x, b̄ = A⁻ᵀx̄ and Ā = −b̄xᵀ: one more solve, with Aᵀ. For F(x, θ) = 0 (the implicit
function theorem) ∂F/∂x dx + ∂F/∂θ dθ = 0, so ∂x/∂θ = −(∂F/∂x)⁻¹ ∂F/∂θ and θ̄ = −(∂F/∂θ)ᵀ u with
u = (∂F/∂x)⁻ᵀ x̄: one adjoint solve. Gradients are in denominator layout (the shape of their
variable), Jacobians in numerator layout.

A matrix that is singular to working precision is refused with a ``ValueError``: its reciprocal
condition number σ_min/σ_max is at most n·ε (ε = 2.2e-16), NumPy's own rank rule
(``numpy.linalg.matrix_rank``), and then no digit of a solve can be trusted. An ill-conditioned
matrix above that threshold is solved; its derivatives are as accurate as its solves. The check
takes the singular values, O(n³) like a factorisation and several times its cost: these functions are
the formulas, checked, for matrices of teaching size; a solver that must be fast reuses its own
factors for the backward solve (chapter 11 does it with SciPy's ``lu_solve(..., trans=1)``).
"""

from __future__ import annotations

from typing import NamedTuple

import numpy as np

from . import _checks


class SolveGrads(NamedTuple):
    """Gradients of a scalar z through x = A⁻¹b, each shaped like its variable."""

    dA: np.ndarray  # ∂z/∂A = −b̄ xᵀ, shape of A
    db: np.ndarray  # ∂z/∂b = A⁻ᵀ x̄, shape of b


def _square(name: str, A) -> np.ndarray:
    """A as a float64 square matrix that is not singular to working precision, else ValueError."""
    A = _checks.array(name, A, ndim=2)
    n, n1 = A.shape
    if n != n1:
        raise ValueError(f"{name} must be square to be solved with; got shape {A.shape}")
    s = np.linalg.svd(A, compute_uv=False)  # σ_max ≥ … ≥ σ_min ≥ 0
    if s[-1] <= s[0] * n * np.finfo(float).eps:  # numpy.linalg.matrix_rank's rule: rank < n
        rcond = s[-1] / s[0] if s[0] > 0 else 0.0
        raise ValueError(
            f"{name} {A.shape} is singular to working precision: σ_min/σ_max = {rcond:.1e} ≤ n·ε = "
            f"{n * np.finfo(float).eps:.1e}, so x = {name}⁻¹b and its derivative are not defined"
        )
    return A


def _rhs(name: str, b, n: int, A_name: str = "A") -> np.ndarray:
    """b as (n,) or (n, k), fitting an n × n matrix, else ValueError naming both shapes."""
    b = _checks.array(name, b, ndim=(1, 2))
    if b.shape[0] != n:
        raise ValueError(
            f"{name} has shape {b.shape} and {A_name} has shape {(n, n)}: {name} needs {n} rows"
        )
    return b


def solve_backward(A, b, x, x_bar) -> SolveGrads:
    """b̄ = A⁻ᵀ x̄, Ā = −b̄ xᵀ for x = A⁻¹b (one solve with Aᵀ, never A⁻¹).

    ``A`` ``(n, n)``; ``b``, ``x`` and ``x_bar`` = ∂z/∂x all ``(n,)`` or all ``(n, k)`` (k right-hand
    sides, solved together). Returns ∂z/∂A ``(n, n)`` and ∂z/∂b, shaped like b (denominator layout).
    """
    A = _square("A", A)
    n = A.shape[0]
    b = _rhs("b", b, n)
    x, x_bar = _rhs("x", x, n), _rhs("x_bar", x_bar, n)
    if not (x.shape == b.shape == x_bar.shape):
        raise ValueError(
            f"b has shape {b.shape}, x has shape {x.shape} and x_bar has shape {x_bar.shape}: "
            "x = A⁻¹b and x_bar = ∂z/∂x must all have the shape of b"
        )
    b_bar = np.linalg.solve(A.T, x_bar)  # b̄ = A⁻ᵀ x̄: the adjoint solve
    if b.ndim == 1:
        dA = -np.outer(b_bar, x)  # Ā = −b̄ xᵀ
    else:
        dA = -b_bar @ x.T  # Ā = −B̄ Xᵀ, summed over the k right-hand sides
    return SolveGrads(dA, b_bar)


def implicit_vjp(F_x, F_theta, x_bar) -> np.ndarray:
    """θ̄ = −(∂F/∂θ)ᵀ (∂F/∂x)⁻ᵀ x̄ at a solution of F(x, θ) = 0 (one adjoint solve).

    ``F_x`` = ∂F/∂x, the ``(n, n)`` Jacobian of F by x at the solution (numerator layout; F and x
    both of size n); ``x_bar`` = ∂z/∂x, ``(n,)``. ``F_theta`` is either the Jacobian ∂F/∂θ
    ``(n, p)`` (θ of size p), or a function ``u -> (∂F/∂θ)ᵀ u`` returning an array of θ's shape (the
    VJP of F with respect to θ, for a θ that is a matrix or too large for its Jacobian). Returns
    ∂z/∂θ: ``(p,)``, or the shape the function returns.
    """
    F_x = _square("F_x", F_x)
    n = F_x.shape[0]
    x_bar = _checks.array("x_bar", x_bar, ndim=1)
    if x_bar.shape != (n,):
        raise ValueError(
            f"x_bar has shape {x_bar.shape} and F_x has shape {F_x.shape}: x_bar = ∂z/∂x needs "
            f"shape {(n,)}"
        )
    u = np.linalg.solve(F_x.T, x_bar)  # u = (∂F/∂x)⁻ᵀ x̄: the adjoint solve
    if callable(F_theta):
        return -np.asarray(F_theta(u), dtype=float)  # θ̄ = −(∂F/∂θ)ᵀ u, by the given VJP
    F_theta = _checks.array("F_theta", F_theta, ndim=2)
    if F_theta.shape[0] != n:
        raise ValueError(
            f"F_theta has shape {F_theta.shape} and F_x has shape {F_x.shape}: both are Jacobians "
            f"of the same F, so F_theta needs {n} rows"
        )
    return -F_theta.T @ u  # θ̄ = −(∂F/∂θ)ᵀ u


def implicit_jacobian(F_x, F_theta) -> np.ndarray:
    """∂x/∂θ = −(∂F/∂x)⁻¹ ∂F/∂θ at a solution of F(x, θ) = 0, ``(n, p)`` (numerator layout).

    p solves, one per parameter: the forward (tangent) mode of :func:`implicit_vjp`, for when θ is
    small. ``F_x`` ``(n, n)``, ``F_theta`` ``(n, p)``.
    """
    F_x = _square("F_x", F_x)
    F_theta = _checks.array("F_theta", F_theta, ndim=2)
    if F_theta.shape[0] != F_x.shape[0]:
        raise ValueError(
            f"F_theta has shape {F_theta.shape} and F_x has shape {F_x.shape}: both are Jacobians "
            f"of the same F, so F_theta needs {F_x.shape[0]} rows"
        )
    return -np.linalg.solve(F_x, F_theta)  # −(∂F/∂x)⁻¹ ∂F/∂θ

