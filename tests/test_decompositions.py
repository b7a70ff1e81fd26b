"""Chapter 12: backward passes of eigh, svd, cholesky, Fréchet derivatives, symmetric gradients.

Oracles: central differences in the right parametrisation (a symmetric A is reached as sym(X) of
an unconstrained X, whose gradient is then the symmetric gradient; the free entries of a symmetric
matrix as a vector of n(n+1)/2 numbers), JAX in float64, autograd (eigh, svd, cholesky), SciPy's
expm_frechet and sqrtm, and closed forms (tr A³, log det, the nuclear norm at an orthogonal matrix).
Losses through eigenvectors are sign-invariant (squares of vᵢᵀa), so the derivative exists.
"""

import autograd.numpy as anp
import jax
import jax.numpy as jnp
import numpy as np
import pytest
import scipy.linalg
from autograd import grad

from assertions import assert_inputs_kept_and_results_new
from mathchain import (
    cholesky,
    cholesky_backward,
    daleckii_krein,
    eigh_backward,
    frechet_derivative,
    numeric_gradient,
    svd_backward,
    symmetric_gradient,
)
from tolerances import EXACT_ATOL, EXACT_RTOL, FD_ATOL, FD_RTOL, MATRIX_SHAPES

jax.config.update("jax_enable_x64", True)

SIZES = [1, 2, 3, 5]


def _sym(X):
    return (X + X.T) / 2


def _symmetric(rng, n, eigenvalues=None):
    """A random symmetric n × n matrix, with the given eigenvalues if any."""
    Q = np.linalg.qr(rng.normal(size=(n, n)))[0]
    lam = rng.normal(size=n) * 2 if eigenvalues is None else np.asarray(eigenvalues, float)
    return _sym(Q @ np.diag(lam) @ Q.T)


def _spd(rng, n):
    M = rng.normal(size=(n, n))
    return M @ M.T + n * np.eye(n)


# --- eigh -------------------------------------------------------------------------------------------

def _eigh_loss(xp, c, Av):
    """z = Σ cᵢ λᵢ³ + Σ_j (aⱼᵀ vⱼ)²: through eigenvalues and (sign-invariantly) eigenvectors."""
    def z(A):
        w, V = xp.linalg.eigh(A)
        return xp.sum(c * w**3) + xp.sum(xp.sum(Av * V, axis=0) ** 2)
    return z


def _eigh_cotangents(A, c, Av):
    w, V = np.linalg.eigh(A)
    proj = np.sum(Av * V, axis=0)  # aⱼᵀ vⱼ
    return w, V, 3 * c * w**2, 2 * Av * proj  # ∂z/∂w, ∂z/∂V


@pytest.mark.parametrize("n", SIZES)
def test_eigh_backward_matches_three_oracles(rng, n):
    A = _symmetric(rng, n)
    c, Av = rng.normal(size=n), rng.normal(size=(n, n))
    w, V, dw, dV = _eigh_cotangents(A, c, Av)
    ours = eigh_backward(w, V, dw, dV)
    assert ours.shape == (n, n)
    np.testing.assert_allclose(ours, ours.T, rtol=0, atol=EXACT_ATOL)  # the symmetric gradient
    # central differences of X -> z(sym X): their gradient is sym(G), the symmetric gradient
    z_np = _eigh_loss(np, c, Av)
    fd = numeric_gradient(lambda X: z_np(_sym(X)), A)
    np.testing.assert_allclose(ours, fd, rtol=FD_RTOL, atol=FD_ATOL)
    # JAX's eigh symmetrises its input: jax.grad is sym(G) as well
    jx = np.asarray(jax.grad(_eigh_loss(jnp, c, Av))(A))
    np.testing.assert_allclose(ours, jx, rtol=EXACT_RTOL, atol=EXACT_ATOL)
    # autograd returns the free-entry derivative in the lower triangle; through sym(X) it is sym(G)
    ag = grad(lambda X: _eigh_loss(anp, c, Av)((X + X.T) / 2))(A)
    np.testing.assert_allclose(ours, ag, rtol=EXACT_RTOL, atol=EXACT_ATOL)


def test_eigenvalue_derivative_is_v_dA_v(rng):
    """dλᵢ = vᵢᵀ dA vᵢ: the eigenvalue-only backward is V diag(w̄) Vᵀ, against a JVP by differences."""
    A, E = _symmetric(rng, 4), _sym(rng.normal(size=(4, 4)))
    w, V = np.linalg.eigh(A)
    t = 1e-6
    dlam = (np.linalg.eigvalsh(A + t * E) - np.linalg.eigvalsh(A - t * E)) / (2 * t)
    np.testing.assert_allclose(dlam, np.einsum("ki,kl,li->i", V, E, V), rtol=FD_RTOL, atol=FD_ATOL)
    for i in range(4):  # one-hot cotangents pick out vᵢvᵢᵀ
        np.testing.assert_allclose(eigh_backward(w, V, np.eye(4)[i]), np.outer(V[:, i], V[:, i]),
                                   rtol=EXACT_RTOL, atol=EXACT_ATOL)


def test_spectral_function_at_repeated_eigenvalues(rng):
    """tr(A³) = Σ λᵢ³ at eigenvalues (1, 1, 1, 2): the gradient 3A², finite; log det: A⁻¹."""
    A = _symmetric(rng, 4, [1.0, 1.0, 1.0, 2.0])
    w, V = np.linalg.eigh(A)
    ours = eigh_backward(w, V, 3 * w**2)
    np.testing.assert_allclose(ours, 3 * A @ A, rtol=EXACT_RTOL, atol=EXACT_ATOL)
    fd = numeric_gradient(lambda X: np.sum(np.linalg.eigvalsh(_sym(X)) ** 3), A)
    np.testing.assert_allclose(ours, fd, rtol=FD_RTOL, atol=FD_ATOL)
    # log det A = Σ log λᵢ at a repeated eigenvalue: gradient A⁻¹
    S = _symmetric(rng, 3, [2.0, 2.0, 5.0])
    w, V = np.linalg.eigh(S)
    np.testing.assert_allclose(eigh_backward(w, V, 1 / w), np.linalg.inv(S), rtol=EXACT_RTOL,
                               atol=EXACT_ATOL)


def test_projector_inside_a_repeated_eigenspace(rng):
    """z = ⟨C, V₂V₂ᵀ⟩ (top-2 projector) at eigenvalues (1, 2, 2): defined, the gap 1 | 2 matters only."""
    A = _symmetric(rng, 3, [1.0, 2.0, 2.0])
    C = rng.normal(size=(3, 3))
    w, V = np.linalg.eigh(A)

    def z(X):
        Vk = np.linalg.eigh(_sym(X))[1][:, 1:]
        return np.sum(C * (Vk @ Vk.T))

    dV = np.zeros((3, 3))
    dV[:, 1:] = (C + C.T) @ V[:, 1:]  # ∂⟨C, VₖVₖᵀ⟩/∂Vₖ = (C + Cᵀ) Vₖ
    ours = eigh_backward(w, V, np.zeros(3), dV)
    assert np.isfinite(ours).all()
    np.testing.assert_allclose(ours, numeric_gradient(z, A), rtol=FD_RTOL, atol=FD_ATOL)
    # closed form: dP = (I − P) dA R + R dA (I − P), R = P/(2 − 1) ... here P's complement has λ = 1:
    # with Q = v₀v₀ᵀ, dP = (Q dA P + P dA Q)/(2 − 1), so ∂⟨C, P⟩/∂A = sym(Q (C + Cᵀ) P)
    P, Q = V[:, 1:] @ V[:, 1:].T, np.outer(V[:, 0], V[:, 0])
    np.testing.assert_allclose(ours, _sym(Q @ (C + C.T) @ P), rtol=EXACT_RTOL, atol=EXACT_ATOL)


@pytest.mark.parametrize("gap", [0.0, 1e-10])
def test_eigenvector_gradient_at_repeated_eigenvalues_raises(rng, gap):
    A = _symmetric(rng, 3, [1.0, 1.0 + gap, 3.0])
    w, V = np.linalg.eigh(A)
    a = rng.normal(size=3)
    dV = np.zeros((3, 3))
    dV[:, 0] = 2 * a * (a @ V[:, 0])  # z = (aᵀv₀)²: depends on the vector chosen in the eigenspace
    with pytest.raises(ValueError, match=r"eigenvalues 0 and 1 are repeated.*GAP_RTOL"):
        eigh_backward(w, V, np.zeros(3), dV)
    assert np.isfinite(eigh_backward(w, V, np.ones(3))).all()  # eigenvalues only: defined


def test_eigh_backward_near_but_above_the_gap_threshold(rng):
    """At a relative gap 1e-6 (> GAP_RTOL) the eigenvector derivative exists: large, and right."""
    A = _symmetric(rng, 3, [1.0, 1.0 + 1e-3, 3.0])
    c, Av = np.zeros(3), rng.normal(size=(3, 3))
    w, V, dw, dV = _eigh_cotangents(A, c, Av)
    jx = np.asarray(jax.grad(_eigh_loss(jnp, c, Av))(A))
    np.testing.assert_allclose(eigh_backward(w, V, dw, dV), jx, rtol=1e-8, atol=1e-8)


def test_unequal_eigenvalue_cotangents_at_a_tie_raise(rng):
    """λ_max at a tie is not differentiable (its directional derivative is not linear in dA)."""
    A = _symmetric(rng, 3, [0.5, 2.0, 2.0])
    w, V = np.linalg.eigh(A)
    with pytest.raises(ValueError, match=r"eigenvalues 1 and 2 are repeated .* dw\[1\] = 0 differs"):
        eigh_backward(w, V, np.array([0.0, 0.0, 1.0]))
    E = _sym(rng.normal(size=(3, 3)))
    t = 1e-6
    up = (np.linalg.eigvalsh(A + t * E)[-1] - w[-1]) / t
    down = (np.linalg.eigvalsh(A - t * E)[-1] - w[-1]) / t
    assert up + down > 1e-3  # one-sided slopes along E and −E do not cancel: no derivative
    U, s, Vt = np.linalg.svd(np.diag([3.0, 3.0, 1.0]))
    with pytest.raises(ValueError, match=r"singular values 0 and 1 are repeated"):
        svd_backward(U, s, Vt, np.array([1.0, 0.0, 0.0]))  # the spectral norm at a tie


def test_eigh_backward_errors(rng):
    w, V = np.linalg.eigh(_symmetric(rng, 3))
    with pytest.raises(ValueError, match=r"V must be square; got shape \(3, 2\)"):
        eigh_backward(w[:2], V[:, :2], w[:2])
    with pytest.raises(ValueError, match=r"dw has shape \(2,\).*must have shape \(3,\)"):
        eigh_backward(w, V, np.ones(2))
    with pytest.raises(ValueError, match=r"dV has shape \(3, 2\).*shape \(3, 3\)"):
        eigh_backward(w, V, np.ones(3), np.ones((3, 2)))
    with pytest.raises(ValueError, match=r"orthonormal columns"):
        eigh_backward(w, 2 * V, np.ones(3))
    with pytest.raises(ValueError, match=r"dw must be finite"):
        eigh_backward(w, V, np.array([1.0, np.nan, 0.0]))


# --- svd --------------------------------------------------------------------------------------------

def _svd_loss(xp, cs, Au, Bv):
    """z = Σ cᵢσᵢ² + Σ_j (aⱼᵀuⱼ)² + Σ_j (bⱼᵀvⱼ)²."""
    def z(A):
        U, s, Vt = xp.linalg.svd(A, full_matrices=False)
        vectors = xp.sum(xp.sum(Au * U, axis=0) ** 2) + xp.sum(xp.sum(Bv * Vt, axis=1) ** 2)
        return xp.sum(cs * s**2) + vectors
    return z


@pytest.mark.parametrize("shape", [s for s in MATRIX_SHAPES if s != (1, 1)] + [(1, 1)])
def test_svd_backward_matches_three_oracles(rng, shape):
    m, n = shape
    k = min(m, n)
    A = rng.normal(size=shape)
    cs, Au, Bv = rng.normal(size=k), rng.normal(size=(m, k)), rng.normal(size=(k, n))
    U, s, Vt = np.linalg.svd(A, full_matrices=False)
    dU = 2 * Au * np.sum(Au * U, axis=0)
    dVt = 2 * Bv * np.sum(Bv * Vt, axis=1)[:, None]
    ours = svd_backward(U, s, Vt, 2 * cs * s, dU, dVt)
    assert ours.shape == shape
    z_np = _svd_loss(np, cs, Au, Bv)
    np.testing.assert_allclose(ours, numeric_gradient(z_np, A), rtol=FD_RTOL, atol=FD_ATOL)
    jx = np.asarray(jax.grad(_svd_loss(jnp, cs, Au, Bv))(A))
    np.testing.assert_allclose(ours, jx, rtol=EXACT_RTOL, atol=EXACT_ATOL)
    ag = grad(_svd_loss(anp, cs, Au, Bv))(A)
    np.testing.assert_allclose(ours, ag, rtol=EXACT_RTOL, atol=EXACT_ATOL)


@pytest.mark.parametrize("shape", [(3, 3), (5, 2), (2, 5)])
def test_spectral_and_nuclear_norm_gradients(rng, shape):
    A = rng.normal(size=shape)
    U, s, Vt = np.linalg.svd(A, full_matrices=False)
    top = np.zeros_like(s)
    top[0] = 1.0
    spectral = svd_backward(U, s, Vt, top)  # ∂σ₁/∂A = u₁v₁ᵀ
    np.testing.assert_allclose(spectral, np.outer(U[:, 0], Vt[0]), rtol=EXACT_RTOL, atol=EXACT_ATOL)
    np.testing.assert_allclose(spectral, numeric_gradient(lambda X: np.linalg.norm(X, 2), A),
                               rtol=FD_RTOL, atol=FD_ATOL)
    nuclear = svd_backward(U, s, Vt, np.ones_like(s))  # ∂‖A‖_*/∂A = UVᵀ
    np.testing.assert_allclose(nuclear, numeric_gradient(lambda X: np.linalg.norm(X, "nuc"), A),
                               rtol=FD_RTOL, atol=FD_ATOL)


def test_nuclear_norm_at_repeated_singular_values(rng):
    """At A = 2Q (Q orthogonal) every σ is 2: the nuclear norm is still differentiable, gradient Q."""
    Q = np.linalg.qr(rng.normal(size=(4, 4)))[0]
    U, s, Vt = np.linalg.svd(2 * Q)
    ours = svd_backward(U, s, Vt, np.ones(4))
    np.testing.assert_allclose(ours, Q, rtol=EXACT_RTOL, atol=EXACT_ATOL)
    np.testing.assert_allclose(ours, numeric_gradient(lambda X: np.linalg.norm(X, "nuc"), 2 * Q),
                               rtol=FD_RTOL, atol=FD_ATOL)
    # ‖A‖_F² = Σσᵢ²: cotangents 2σᵢ equal up to rounding on the tie (every σ the same), gradient 2A
    np.testing.assert_allclose(svd_backward(U, s, Vt, 2 * s), 4 * Q, rtol=EXACT_RTOL, atol=EXACT_ATOL)
    w, V = np.linalg.eigh(2 * np.eye(3) + 0 * Q[:3, :3])  # all eigenvalues 2: tr A² has gradient 2A
    np.testing.assert_allclose(eigh_backward(w, V, 2 * w), 4 * np.eye(3), rtol=EXACT_RTOL,
                               atol=EXACT_ATOL)


def test_singular_vector_gradient_degenerate_raises(rng):
    Q = np.linalg.qr(rng.normal(size=(3, 3)))[0]
    U, s, Vt = np.linalg.svd(Q @ np.diag([3.0, 1.0, 1.0]))
    a = rng.normal(size=3)
    dU = np.zeros((3, 3))
    dU[:, 1] = 2 * a * (a @ U[:, 1])
    with pytest.raises(ValueError, match=r"singular values 1 and 2 are repeated"):
        svd_backward(U, s, Vt, np.zeros(3), dU)
    B = rng.normal(size=(4, 1)) @ rng.normal(size=(1, 2))  # 4 × 2 of rank 1: σ₂ = 0
    U, s, Vt = np.linalg.svd(B, full_matrices=False)
    dU = rng.normal(size=U.shape)
    with pytest.raises(ValueError, match=r"A is 4 × 2 with singular value .* ≈ 0"):
        svd_backward(U, s, Vt, np.zeros(2), dU)
    with pytest.raises(ValueError, match=r"singular value 1 is .* ≈ 0 .* not differentiable at 0"):
        svd_backward(U, s, Vt, np.ones(2))  # the nuclear norm at rank 1: subgradients only
    assert np.isfinite(svd_backward(U, s, Vt, np.array([1.0, 0.0]))).all()  # σ₁ alone: defined


def test_svd_backward_errors(rng):
    U, s, Vt = np.linalg.svd(rng.normal(size=(4, 3)), full_matrices=False)
    with pytest.raises(ValueError, match=r"not a thin SVD"):
        svd_backward(*np.linalg.svd(rng.normal(size=(4, 3))), np.ones(3))  # full U (4, 4)
    with pytest.raises(ValueError, match=r"ds has shape \(2,\)"):
        svd_backward(U, s, Vt, np.ones(2))
    with pytest.raises(ValueError, match=r"dU has shape \(3, 3\)"):
        svd_backward(U, s, Vt, np.ones(3), np.ones((3, 3)))


# --- cholesky ---------------------------------------------------------------------------------------

def _chol_loss(xp, C):
    def z(S):
        return xp.sum(C * xp.linalg.cholesky(S))
    return z


@pytest.mark.parametrize("n", SIZES)
def test_cholesky_backward_matches_three_oracles(rng, n):
    S, C = _spd(rng, n), np.tril(rng.normal(size=(n, n)))
    L = cholesky(S)
    np.testing.assert_allclose(L @ L.T, S, rtol=EXACT_RTOL, atol=EXACT_ATOL)
    ours = cholesky_backward(L, C)
    np.testing.assert_allclose(ours, ours.T, rtol=0, atol=EXACT_ATOL)
    fd = numeric_gradient(lambda X: _chol_loss(np, C)(_sym(X)), S)
    np.testing.assert_allclose(ours, fd, rtol=FD_RTOL, atol=FD_ATOL)
    jx = np.asarray(jax.grad(lambda X: _chol_loss(jnp, C)(_sym(X)))(S))
    np.testing.assert_allclose(ours, jx, rtol=EXACT_RTOL, atol=EXACT_ATOL)
    ag = grad(lambda X: _chol_loss(anp, C)((X + X.T) / 2))(S)
    np.testing.assert_allclose(ours, ag, rtol=EXACT_RTOL, atol=EXACT_ATOL)


def test_gaussian_log_likelihood_through_cholesky(rng):
    """−½ log det Σ − ½ yᵀΣ⁻¹y through L: gradient ½(Σ⁻¹yyᵀΣ⁻¹ − Σ⁻¹), the textbook closed form."""
    n = 4
    S, y = _spd(rng, n), rng.normal(size=n)
    L = cholesky(S)
    alpha = scipy.linalg.cho_solve((L, True), y)
    # z = −Σ log Lᵢᵢ − ½ ‖L⁻¹y‖²: with b = L⁻¹y, ∂z/∂L = −diag(1/Lᵢᵢ) + L⁻ᵀ b bᵀ, lower part
    b = scipy.linalg.solve_triangular(L, y, lower=True)
    dL = -np.diag(1 / np.diag(L)) + np.tril(np.outer(scipy.linalg.solve_triangular(L.T, b), b))
    Sinv = np.linalg.inv(S)
    want = 0.5 * (np.outer(alpha, alpha) - Sinv)
    np.testing.assert_allclose(cholesky_backward(L, dL), want, rtol=EXACT_RTOL, atol=EXACT_ATOL)

    def loglik(X):
        Lx = np.linalg.cholesky(_sym(X))
        bx = scipy.linalg.solve_triangular(Lx, y, lower=True)
        return -np.sum(np.log(np.diag(Lx))) - 0.5 * np.sum(bx**2)

    np.testing.assert_allclose(want, numeric_gradient(loglik, S), rtol=FD_RTOL, atol=FD_ATOL)


def test_cholesky_errors(rng):
    with pytest.raises(ValueError, match=r"positive definite.*smallest eigenvalue is -1"):
        cholesky(np.diag([1.0, -1.0, 2.0]))
    with pytest.raises(ValueError, match=r"A must be square; got shape \(2, 3\)"):
        cholesky(np.ones((2, 3)))
    with pytest.raises(ValueError, match=r"must be symmetric"):
        cholesky(np.array([[2.0, 1.0], [0.0, 2.0]]))
    L = cholesky(_spd(rng, 3))
    with pytest.raises(ValueError, match=r"L\[1, 1\] = 0: a Cholesky factor has a positive diagonal"):
        cholesky_backward(np.diag([1.0, 0.0, 1.0]), L)
    with pytest.raises(ValueError, match=r"lower triangular"):
        cholesky_backward(L.T, L)
    with pytest.raises(ValueError, match=r"dL has shape \(3, 2\)"):
        cholesky_backward(L, np.ones((3, 2)))


# --- Fréchet derivatives ----------------------------------------------------------------------------

@pytest.mark.parametrize("n", SIZES)
def test_frechet_expm_against_scipy_and_differences(rng, n):
    A, E = rng.normal(size=(n, n)) / 2, rng.normal(size=(n, n))
    ours = frechet_derivative(scipy.linalg.expm, A, E)
    np.testing.assert_allclose(ours, scipy.linalg.expm_frechet(A, E, compute_expm=False),
                               rtol=EXACT_RTOL, atol=EXACT_ATOL)
    t = 1e-6
    fd = (scipy.linalg.expm(A + t * E) - scipy.linalg.expm(A - t * E)) / (2 * t)
    np.testing.assert_allclose(ours, fd, rtol=FD_RTOL, atol=FD_ATOL)
    # JAX's JVP of expm is a third, independent route
    jx = jax.jvp(jax.scipy.linalg.expm, (jnp.asarray(A),), (jnp.asarray(E),))[1]
    np.testing.assert_allclose(ours, np.asarray(jx), rtol=1e-9, atol=1e-9)


def test_frechet_sqrtm_solves_the_sylvester_equation(rng):
    """X = √A ⇒ X dX + dX X = dA: the Fréchet derivative of √ solves a Sylvester equation."""
    S, E = _spd(rng, 4) / 4, rng.normal(size=(4, 4))
    ours = frechet_derivative(scipy.linalg.sqrtm, S, E)
    X = np.real(scipy.linalg.sqrtm(S))
    np.testing.assert_allclose(ours, scipy.linalg.solve_sylvester(X, X, E), rtol=1e-8, atol=1e-8)
    t = 1e-6
    fd = (scipy.linalg.sqrtm(S + t * E) - scipy.linalg.sqrtm(S - t * E)) / (2 * t)
    np.testing.assert_allclose(ours, np.real(fd), rtol=FD_RTOL, atol=FD_ATOL)


@pytest.mark.parametrize("eigenvalues", [None, [0.5, 0.5, 0.5, 2.0], [1.0, 1.0 + 1e-9, 3.0, 3.0]])
def test_daleckii_krein_against_expm_frechet(rng, eigenvalues):
    A, E = _symmetric(rng, 4, eigenvalues), rng.normal(size=(4, 4))
    ours = daleckii_krein(np.exp, np.exp, A, E)
    np.testing.assert_allclose(ours, scipy.linalg.expm_frechet(A, E, compute_expm=False),
                               rtol=1e-10, atol=1e-10)


def test_daleckii_krein_square_root(rng):
    S, E = _spd(rng, 4) / 4, rng.normal(size=(4, 4))
    ours = daleckii_krein(np.sqrt, lambda x: 0.5 / np.sqrt(x), S, E)
    np.testing.assert_allclose(ours, frechet_derivative(scipy.linalg.sqrtm, S, E), rtol=1e-8, atol=1e-8)


def test_frechet_errors(rng):
    with pytest.raises(ValueError, match=r"E has shape \(3, 2\)"):
        frechet_derivative(scipy.linalg.expm, np.eye(3), np.ones((3, 2)))
    with pytest.raises(ValueError, match=r"A must be square"):
        frechet_derivative(scipy.linalg.expm, np.ones((3, 2)), np.ones((3, 2)))
    with pytest.raises(ValueError, match=r"A \(shape \(2, 2\)\) must be symmetric"):
        daleckii_krein(np.exp, np.exp, np.array([[1.0, 2.0], [0.0, 1.0]]), np.eye(2))


# --- symmetric gradients ----------------------------------------------------------------------------

def _free(X):
    """The n(n+1)/2 free entries of a symmetric X (upper triangle, row by row)."""
    return X[np.triu_indices(X.shape[0])]


def _from_free(x, n):
    X = np.zeros((n, n))
    X[np.triu_indices(n)] = x
    return X + np.triu(X, 1).T


@pytest.mark.parametrize("n", [1, 2, 4])
def test_symmetric_gradient_conventions(rng, n):
    """f(X) = aᵀXb + log det X: G = abᵀ + X⁻ᵀ over all n² entries, not symmetric."""
    a, b, S = rng.normal(size=n), rng.normal(size=n), _spd(rng, n)

    def f(X):
        return a @ X @ b + np.linalg.slogdet(X)[1]

    G = np.outer(a, b) + np.linalg.inv(S).T
    np.testing.assert_allclose(G, numeric_gradient(f, S), rtol=FD_RTOL, atol=FD_ATOL)
    sym = symmetric_gradient(G)
    # the gradient of X -> f(sym X), and the directional derivative along symmetric directions
    np.testing.assert_allclose(sym, numeric_gradient(lambda X: f(_sym(X)), S),
                               rtol=FD_RTOL, atol=FD_ATOL)
    E = _sym(rng.normal(size=(n, n)))
    t = 1e-6
    slope = (f(S + t * E) - f(S - t * E)) / (2 * t)
    np.testing.assert_allclose(np.sum(sym * E), slope, rtol=FD_RTOL)
    # the free entries: central differences in the n(n+1)/2 numbers x_ij, i ≤ j
    free = symmetric_gradient(G, "free")
    fd_free = numeric_gradient(lambda x: f(_from_free(x, n)), _free(S))
    np.testing.assert_allclose(_free(free), fd_free, rtol=FD_RTOL, atol=FD_ATOL)
    # for symmetric G it is the Cookbook's 2G − G∘I (§2.8), twice sym(G) off the diagonal
    np.testing.assert_allclose(free, 2 * sym - sym * np.eye(n), rtol=EXACT_RTOL, atol=EXACT_ATOL)
    if n > 1:
        assert not np.allclose(np.sum(free * E), slope, rtol=1e-3)  # not a gradient for ⟨·, dX⟩


def test_symmetric_gradient_errors():
    with pytest.raises(ValueError, match=r"convention must be 'symmetric' or 'free'; got 'cookbook'"):
        symmetric_gradient(np.eye(2), "cookbook")
    with pytest.raises(ValueError, match=r"G must be square; got shape \(2, 3\)"):
        symmetric_gradient(np.ones((2, 3)))


def test_inputs_kept_and_results_new(rng):
    A = _symmetric(rng, 3)
    w, V = np.linalg.eigh(A)
    dw, dV = rng.normal(size=3), rng.normal(size=(3, 3))
    assert_inputs_kept_and_results_new([w, V, dw, dV], lambda: [eigh_backward(w, V, dw, dV)])
    U, s, Vt = np.linalg.svd(rng.normal(size=(4, 3)), full_matrices=False)
    ds, dU, dVt = rng.normal(size=3), rng.normal(size=(4, 3)), rng.normal(size=(3, 3))
    assert_inputs_kept_and_results_new([U, s, Vt, ds, dU, dVt],
                                       lambda: [svd_backward(U, s, Vt, ds, dU, dVt)])
    L, dL = cholesky(_spd(rng, 3)), rng.normal(size=(3, 3))
    assert_inputs_kept_and_results_new([L, dL], lambda: [cholesky_backward(L, dL)])
    G = rng.normal(size=(3, 3))
    assert_inputs_kept_and_results_new([G], lambda: [symmetric_gradient(G),
                                                     symmetric_gradient(G, "free")])
