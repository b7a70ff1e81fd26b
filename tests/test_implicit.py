"""Through solvers (chapter 11): solve_backward, implicit_vjp and implicit_jacobian.

Oracles: central differences of the solve (mathchain.numeric), autograd and JAX (float64)
differentiating np.linalg.solve, and unrolled differentiation (autograd through the iterations of a
contraction) for the implicit function theorem. Matrices are non-symmetric, so a missing transpose
in the adjoint solve cannot pass; 1 × 1 and ill-conditioned cases are included.
"""

import autograd.numpy as anp
import jax
import jax.numpy as jnp
import numpy as np
import pytest
from autograd import grad

from assertions import assert_inputs_kept_and_results_new
from mathchain import (
    SolveGrads,
    implicit_jacobian,
    implicit_vjp,
    numeric_gradient,
    numeric_jacobian,
    solve_backward,
)
from tolerances import EXACT_ATOL, EXACT_RTOL, FD_ATOL, FD_RTOL

jax.config.update("jax_enable_x64", True)

SIZES = [1, 2, 5]  # 1 × 1, and non-symmetric n × n


def _system(rng, n, k=None):
    """A non-symmetric, well-conditioned A, b (n,) or (n, k), x = A⁻¹b, x̄ = ∂z/∂x for z = ⟨c, x⟩."""
    A = rng.normal(size=(n, n)) + n * np.eye(n)
    shape = (n,) if k is None else (n, k)
    b, c = rng.normal(size=shape), rng.normal(size=shape)
    return A, b, np.linalg.solve(A, b), c


@pytest.mark.parametrize("n", SIZES)
@pytest.mark.parametrize("k", [None, 1, 3])
def test_solve_backward_against_central_differences(rng, n, k):
    A, b, x, c = _system(rng, n, k)
    got = solve_backward(A, b, x, c)
    assert isinstance(got, SolveGrads)
    assert got.dA.shape == A.shape and got.db.shape == b.shape
    num_A = numeric_gradient(lambda A_: np.sum(c * np.linalg.solve(A_, b)), A)
    num_b = numeric_gradient(lambda b_: np.sum(c * np.linalg.solve(A, b_)), b)
    np.testing.assert_allclose(got.dA, num_A, rtol=FD_RTOL, atol=FD_ATOL)
    np.testing.assert_allclose(got.db, num_b, rtol=FD_RTOL, atol=FD_ATOL)


@pytest.mark.parametrize("n", SIZES)
def test_solve_backward_against_autograd_and_jax(rng, n):
    A, b, x, c = _system(rng, n, 2)
    got = solve_backward(A, b, x, c)

    def z_ag(A_, b_):
        return anp.sum(c * anp.linalg.solve(A_, b_))

    def z_jax(A_, b_):
        return jnp.sum(c * jnp.linalg.solve(A_, b_))

    ag_A, ag_b = grad(z_ag, 0)(A, b), grad(z_ag, 1)(A, b)
    jx_A, jx_b = (np.asarray(g) for g in jax.grad(z_jax, argnums=(0, 1))(A, b))
    for oracle_A, oracle_b in [(ag_A, ag_b), (jx_A, jx_b)]:
        np.testing.assert_allclose(got.dA, oracle_A, rtol=EXACT_RTOL, atol=EXACT_ATOL)
        np.testing.assert_allclose(got.db, oracle_b, rtol=EXACT_RTOL, atol=EXACT_ATOL)


def test_solve_backward_one_by_one_by_hand():
    # x = b/a: ∂x/∂b = 1/a, ∂x/∂a = −b/a² = −x/a; with x̄ = 3: b̄ = 3/a, ā = −3x/a
    a, b = 4.0, 2.0
    got = solve_backward([[a]], [b], [b / a], [3.0])
    assert got.db.tolist() == [3 / a]
    assert got.dA.tolist() == [[-3 * (b / a) / a]]


def test_solve_backward_adjoint_identity(rng):
    # ⟨x̄, J v⟩ = ⟨b̄, v⟩ for the Jacobian J = A⁻¹ of b ↦ x: a missing transpose fails it
    A, b, x, x_bar = _system(rng, 6)
    v = rng.normal(size=6)
    lhs = x_bar @ np.linalg.solve(A, v)
    rhs = solve_backward(A, b, x, x_bar).db @ v
    assert abs(lhs - rhs) <= 1e-12 * max(1.0, abs(lhs))


def test_solve_backward_ill_conditioned(rng):
    # cond(A) ≈ 1e8: far from singular to working precision, so solved; the gradient is as good as
    # the solves (relative error ≈ cond · ε ≈ 1e-8), checked against JAX and autograd.
    n = 4
    U, _ = np.linalg.qr(rng.normal(size=(n, n)))
    V, _ = np.linalg.qr(rng.normal(size=(n, n)))
    A = U @ np.diag([1.0, 1e-3, 1e-5, 1e-8]) @ V.T
    assert 1e7 < np.linalg.cond(A) < 1e9
    b, c = rng.normal(size=n), rng.normal(size=n)
    x = np.linalg.solve(A, b)
    got = solve_backward(A, b, x, c)
    jx_A, jx_b = (np.asarray(g) for g in jax.grad(
        lambda A_, b_: jnp.sum(c * jnp.linalg.solve(A_, b_)), argnums=(0, 1))(A, b))
    ag_b = grad(lambda b_: anp.sum(c * anp.linalg.solve(A, b_)))(b)
    for got_, want in [(got.dA, jx_A), (got.db, jx_b), (got.db, ag_b)]:
        assert np.abs(got_ - want).max() <= 1e-6 * np.abs(want).max()


@pytest.mark.parametrize("A, message", [
    (np.zeros((3, 3)), "singular to working precision"),
    (np.ones((3, 3)), "singular to working precision"),
    (np.diag([1.0, 1.0, 1e-17]), "singular to working precision"),
    (np.ones((2, 3)), r"must be square to be solved with; got shape \(2, 3\)"),
])
def test_solve_backward_refuses_singular_and_non_square(A, message):
    n = A.shape[0]
    with pytest.raises(ValueError, match=message):
        solve_backward(A, np.ones(n), np.ones(n), np.ones(n))


def test_solve_backward_names_shapes():
    A = np.eye(3) + 0.1
    with pytest.raises(ValueError, match=r"b has shape \(4,\) and A has shape \(3, 3\)"):
        solve_backward(A, np.ones(4), np.ones(3), np.ones(3))
    with pytest.raises(ValueError, match=r"x has shape \(3, 1\) and x_bar has shape \(3,\)"):
        solve_backward(A, np.ones(3), np.ones((3, 1)), np.ones(3))
    with pytest.raises(ValueError, match=r"x_bar must be finite; x_bar\[1\] = nan"):
        solve_backward(A, np.ones(3), np.ones(3), [1.0, np.nan, 0.0])


def test_solve_backward_keeps_inputs(rng):
    A, b, x, c = _system(rng, 4)
    assert_inputs_kept_and_results_new([A, b, x, c], lambda: solve_backward(A, b, x, c))


# --- the implicit function theorem: a contraction x = tanh(W x + U θ) ------------------------------

def _fixed_point_problem(rng, n=5, p=3):
    W = rng.normal(size=(n, n))
    W *= 0.5 / np.linalg.norm(W, 2)  # ‖W‖₂ = 0.5: tanh is 1-Lipschitz, so a contraction
    U = rng.normal(size=(n, p))
    return W, U, rng.normal(size=p), rng.normal(size=n)


def _solve_fixed_point(W, U, theta, steps=200, xp=np):
    x = xp.zeros(W.shape[0])
    for _ in range(steps):  # error ≤ 0.5^steps · ‖x₁ − x₀‖
        x = xp.tanh(xp.dot(W, x) + xp.dot(U, theta))
    return x


def _partials(W, U, theta, x):
    # F(x, θ) = x − tanh(W x + U θ): ∂F/∂x = I − D W, ∂F/∂θ = −D U, D = diag(1 − x²)
    D = np.diag(1 - x**2)
    return np.eye(len(x)) - D @ W, -D @ U


def test_implicit_vjp_against_unrolled_autograd_and_central_differences(rng):
    W, U, theta, c = _fixed_point_problem(rng)
    x = _solve_fixed_point(W, U, theta)
    F_x, F_theta = _partials(W, U, theta, x)
    got = implicit_vjp(F_x, F_theta, c)
    assert got.shape == theta.shape
    # unrolled: autograd through the 200 iterations
    unrolled = grad(lambda t: anp.dot(c, _solve_fixed_point(W, U, t, xp=anp)))(theta)
    np.testing.assert_allclose(got, unrolled, rtol=EXACT_RTOL, atol=EXACT_ATOL)
    numeric = numeric_gradient(lambda t: c @ _solve_fixed_point(W, U, t), theta)
    np.testing.assert_allclose(got, numeric, rtol=FD_RTOL, atol=FD_ATOL)


def test_implicit_vjp_with_a_function_for_a_matrix_parameter(rng):
    # θ = W, a matrix: (∂F/∂W)ᵀ u = −D u xᵀ (F = x − tanh(W x + U θ)), against JAX unrolled
    W, U, theta, c = _fixed_point_problem(rng)
    x = _solve_fixed_point(W, U, theta)
    F_x, _ = _partials(W, U, theta, x)
    got = implicit_vjp(F_x, lambda u: -np.outer((1 - x**2) * u, x), c)
    assert got.shape == W.shape
    unrolled = jax.grad(lambda W_: jnp.dot(c, _solve_fixed_point(W_, U, theta, xp=jnp)))(W)
    np.testing.assert_allclose(got, np.asarray(unrolled), rtol=EXACT_RTOL, atol=EXACT_ATOL)


def test_implicit_jacobian_against_central_differences_and_jax(rng):
    W, U, theta, _ = _fixed_point_problem(rng)
    x = _solve_fixed_point(W, U, theta)
    J = implicit_jacobian(*_partials(W, U, theta, x))
    assert J.shape == (5, 3)  # numerator layout: [dim x, dim θ]
    numeric = numeric_jacobian(lambda t: _solve_fixed_point(W, U, t), theta)
    np.testing.assert_allclose(J, numeric, rtol=FD_RTOL, atol=FD_ATOL)
    jx = jax.jacfwd(lambda t: _solve_fixed_point(W, U, t, xp=jnp))(theta)
    np.testing.assert_allclose(J, np.asarray(jx), rtol=EXACT_RTOL, atol=EXACT_ATOL)


def test_implicit_vjp_of_a_linear_solve_is_solve_backward(rng):
    # F(x, b) = A x − b: ∂F/∂x = A, ∂F/∂b = −I, so b̄ = A⁻ᵀ x̄ (and A x = b at the solution)
    A, b, x, c = _system(rng, 4)
    np.testing.assert_allclose(implicit_vjp(A, -np.eye(4), c), solve_backward(A, b, x, c).db,
                               rtol=EXACT_RTOL, atol=EXACT_ATOL)


def test_implicit_one_by_one_by_hand():
    # F(x, θ) = x² − θ, x = √θ: ∂x/∂θ = −(2x)⁻¹(−1) = 1/(2√θ); at θ = 4: 1/4, and with x̄ = 2: 1/2
    assert implicit_jacobian([[4.0]], [[-1.0]]).tolist() == [[0.25]]
    assert implicit_vjp([[4.0]], [[-1.0]], [2.0]).tolist() == [0.5]


def test_ridge_hypergradient_against_autograd(rng):
    # w(λ) = argmin ½‖Xw − y‖² + ½λ‖w‖²: F = Xᵀ(Xw − y) + λw, ∂F/∂w = XᵀX + λI, ∂F/∂λ = w
    X, y = rng.normal(size=(8, 3)), rng.normal(size=8)
    X_v, y_v, lam = rng.normal(size=(6, 3)), rng.normal(size=6), 0.7
    H = X.T @ X + lam * np.eye(3)
    w = np.linalg.solve(H, X.T @ y)
    w_bar = X_v.T @ (X_v @ w - y_v)  # ∂L/∂w for L = ½‖X_v w − y_v‖²
    got = implicit_vjp(H, w[:, None], w_bar)

    def L(lam_):
        w_ = anp.linalg.solve(anp.dot(X.T, X) + lam_ * anp.eye(3), anp.dot(X.T, y))
        return 0.5 * anp.sum((anp.dot(X_v, w_) - y_v) ** 2)

    np.testing.assert_allclose(got, [grad(L)(lam)], rtol=EXACT_RTOL, atol=EXACT_ATOL)


def test_implicit_refuses_singular_and_mismatched():
    with pytest.raises(ValueError, match=r"F_x \(2, 2\) is singular to working precision"):
        implicit_vjp(np.ones((2, 2)), np.eye(2), np.ones(2))
    with pytest.raises(ValueError, match=r"F_x must be square to be solved with; got shape \(2, 3\)"):
        implicit_jacobian(np.ones((2, 3)), np.eye(2))
    with pytest.raises(ValueError, match=r"F_theta has shape \(3, 2\) and F_x has shape \(2, 2\)"):
        implicit_vjp(np.eye(2), np.ones((3, 2)), np.ones(2))
    with pytest.raises(ValueError, match=r"F_theta has shape \(3, 2\) and F_x has shape \(2, 2\)"):
        implicit_jacobian(np.eye(2), np.ones((3, 2)))
    with pytest.raises(ValueError, match=r"x_bar has shape \(3,\) and F_x has shape \(2, 2\)"):
        implicit_vjp(np.eye(2), np.eye(2), np.ones(3))


def test_unrolled_and_implicit_agree_as_steps_grow(rng):
    # gradient descent on the ridge objective, differentiated through k steps by autograd, tends
    # to the implicit hypergradient; at k = 5 it is still far from it (the check can fail)
    X, y = rng.normal(size=(10, 4)), rng.normal(size=10)
    X_v, y_v, lam = rng.normal(size=(6, 4)), rng.normal(size=6), 0.5
    H = X.T @ X + lam * np.eye(4)
    w = np.linalg.solve(H, X.T @ y)
    implicit = implicit_vjp(H, w[:, None], X_v.T @ (X_v @ w - y_v))[0]
    eta = 1 / np.linalg.eigvalsh(H).max()

    def unrolled(k):
        def L(lam_):
            w_ = anp.zeros(4)
            for _ in range(k):
                w_ = w_ - eta * (anp.dot(X.T, anp.dot(X, w_) - y) + lam_ * w_)
            return 0.5 * anp.sum((anp.dot(X_v, w_) - y_v) ** 2)
        return grad(L)(lam)

    errors = [abs(unrolled(k) - implicit) for k in (5, 50, 2000)]
    assert errors[0] > 1e-3 * abs(implicit)
    assert errors[0] > errors[1] > errors[2]
    assert errors[2] < 1e-9 * max(1.0, abs(implicit))
