"""JAX as one more oracle: every public function of mathchain with a derivative, against JAX in float64.

Each case writes the forward computation in ``jax.numpy`` from its definition (not from mathchain's
code), asks JAX for the derivative (``grad``, ``vjp``, ``jacobian``, ``hessian``, ``jvp`` of ``grad``)
and compares mathchain's result with it, to rounding. JAX's Jacobians have shape
``out.shape + in.shape``; reshaped in C order they are mathchain's numerator layout (chapter 13).

``CASES`` maps a case name to (the public names it covers, the check). ``EXEMPT`` names every other
public name with the reason it has no JAX case. ``test_every_public_name_is_covered_or_exempt`` fails
when a name is added to ``mathchain.__all__`` without either: a new function gets a JAX check by adding
one entry to ``CASES``.
"""

from __future__ import annotations

import jax
import numpy as np
import pytest

jax.config.update("jax_enable_x64", True)
jax.config.update("jax_platforms", "cpu")  # the oracle runs on the CPU, in float64

import jax.numpy as jnp  # noqa: E402

import mathchain  # noqa: E402
from mathchain import (  # noqa: E402
    attention,
    attention_backward,
    batch_norm,
    batch_norm_backward,
    check_gradient,
    cholesky,
    cholesky_backward,
    col2im,
    commutation_matrix,
    conv2d,
    conv2d_backward,
    cross_entropy_gauss_newton,
    daleckii_krein,
    diagnose,
    diagnose_jacobian,
    eigh_backward,
    elementwise_backward,
    elementwise_jacobian,
    frechet_derivative,
    gradient_chain,
    gram_jacobian,
    im2col,
    implicit_jacobian,
    implicit_vjp,
    inverse_jacobian,
    jacobian_chain,
    kron_jacobian,
    layer_norm,
    layer_norm_backward,
    least_squares_gradient,
    least_squares_hessian,
    least_squares_hessian_vector_product,
    least_squares_loss,
    linear_backward,
    linear_forward,
    mean_squared_error,
    mean_squared_error_gradient,
    numeric_gradient,
    numeric_hessian,
    numeric_jacobian,
    per_example_gradient_norms,
    softmax,
    softmax_backward,
    softmax_cross_entropy,
    softmax_cross_entropy_gradient,
    solve_backward,
    svd_backward,
    symmetric_gradient,
)
from tolerances import EXACT_ATOL, EXACT_RTOL, FD_ATOL, FD_RTOL, HESSIAN_ATOL, HESSIAN_RTOL  # noqa: E402

EPS = 1e-5  # the normalisation layers' default ε


def close(actual, expected, rtol=EXACT_RTOL, atol=EXACT_ATOL):
    np.testing.assert_allclose(np.asarray(actual), np.asarray(expected), rtol=rtol, atol=atol)


def numerator(jac, out_shape, in_shape):
    """JAX's Jacobian, shape out.shape + in.shape, as mathchain's (out.size, in.size), C order."""
    assert jac.shape == tuple(out_shape) + tuple(in_shape), jac.shape
    return np.asarray(jac).reshape(int(np.prod(out_shape)), int(np.prod(in_shape)))


def vjp(f, args, cotangent):
    """uᵀJ for each argument of f (denominator layout: each the shape of its argument)."""
    _, pullback = jax.vjp(f, *args)
    return pullback(jnp.asarray(cotangent))


# --- forward computations in jax.numpy, written from the definitions --------------------------------

def _softmax(U):
    e = jnp.exp(U - jnp.max(U, axis=1, keepdims=True))
    return e / jnp.sum(e, axis=1, keepdims=True)


def _cross_entropy(U, labels):
    return -jnp.mean(jax.nn.log_softmax(U, axis=1)[jnp.arange(U.shape[0]), labels])


def _normalise(axis):
    def f(X, gamma, beta):
        mu = jnp.mean(X, axis=axis, keepdims=True)
        var = jnp.mean((X - mu) ** 2, axis=axis, keepdims=True)
        return gamma * (X - mu) / jnp.sqrt(var + EPS) + beta

    return f


def _attention(Q, K, V):
    return _softmax(Q @ K.T / np.sqrt(Q.shape[1])) @ V


def _conv(X, W, stride, padding):  # XLA's convolution: an implementation independent of im2col
    return jax.lax.conv_general_dilated(X, W, (stride, stride), [(padding, padding)] * 2)


def _smooth(x):  # a nonlinear test function, R^(2, 3) -> R^(4,)
    return jnp.concatenate([jnp.sin(x).ravel()[:2], jnp.array([jnp.sum(x**3), jnp.prod(x[0])])])


# --- the cases: (names covered, check(rng)) ----------------------------------------------------------

def case_numeric(rng):
    x = rng.normal(size=(2, 3))
    scalar = lambda x: jnp.sum(jnp.tanh(x) ** 2) + jnp.prod(x[:, 0])  # noqa: E731
    close(numeric_jacobian(lambda x: np.asarray(_smooth(x)), x),
          numerator(jax.jacobian(_smooth)(x), (4,), x.shape), FD_RTOL, FD_ATOL)
    close(numeric_gradient(lambda x: float(scalar(x)), x), jax.grad(scalar)(x), FD_RTOL, FD_ATOL)
    close(numeric_hessian(lambda x: float(scalar(x)), x),
          numerator(jax.hessian(scalar)(x), x.shape, x.shape), HESSIAN_RTOL, HESSIAN_ATOL)


def case_checkers(rng):
    x = rng.normal(size=(2, 3))
    scalar = lambda x: jnp.sum(jnp.sin(x) * x)  # noqa: E731
    jax_grad = lambda x: np.asarray(jax.grad(scalar)(x))  # noqa: E731
    assert check_gradient(lambda x: float(scalar(x)), jax_grad, x) < FD_RTOL
    assert diagnose(lambda x: float(scalar(x)), jax_grad, x).kind == "correct"
    jax_jac = numerator(jax.jacobian(_smooth)(x), (4,), x.shape)
    assert diagnose_jacobian(lambda x: np.asarray(_smooth(x)), jax_jac, x).kind == "correct"


def case_chains(rng):
    A1, A2, u = rng.normal(size=(5, 3)), rng.normal(size=(4, 5)), rng.normal(size=4)
    f1, f2 = (lambda x: jnp.tanh(A1 @ x)), (lambda y: jnp.sin(A2 @ y))
    x = rng.normal(size=3)
    y = f1(x)
    J1, J2 = np.asarray(jax.jacobian(f1)(x)), np.asarray(jax.jacobian(f2)(y))
    close(jacobian_chain(J2, J1), jax.jacobian(lambda x: f2(f1(x)))(x))
    close(gradient_chain(u, J2, J1), jax.grad(lambda x: u @ f2(f1(x)))(x))


def case_least_squares(rng):
    X, w, y, v = rng.normal(size=(6, 3)), rng.normal(size=3), rng.normal(size=6), rng.normal(size=3)
    J = lambda w: 0.5 * jnp.sum((X @ w - y) ** 2)  # noqa: E731
    close(least_squares_loss(X, w, y), J(w))
    close(least_squares_gradient(X, w, y), jax.grad(J)(w))
    close(least_squares_hessian(X), jax.hessian(J)(w))
    close(least_squares_hessian_vector_product(X, v), jax.jvp(jax.grad(J), (w,), (v,))[1])


def case_linear(rng):
    A, W, B, dY = (rng.normal(size=s) for s in [(4, 3), (3, 2), (2,), (4, 2)])
    f = lambda A, W, B: A @ W + B  # noqa: E731
    close(linear_forward(A, W, B), f(A, W, B))
    for mine, theirs in zip(linear_backward(A, W, B, dY), vjp(f, (A, W, B), dY), strict=True):
        close(mine, theirs)


def case_per_example(rng):
    A, W, T = rng.normal(size=(5, 4)), rng.normal(size=(4, 3)), rng.normal(size=(5, 3))
    loss = lambda W, a, t: 0.5 * jnp.sum((a @ W - t) ** 2)  # noqa: E731
    per_example = jax.vmap(jax.grad(loss), in_axes=(None, 0, 0))(W, A, T)  # (B, 4, 3)
    close(per_example_gradient_norms(A, A @ W - T), jnp.linalg.norm(per_example, axis=(1, 2)))


def case_network(rng):
    U, labels, T = rng.normal(size=(4, 3)), np.array([0, 2, 1, 2]), rng.normal(size=(4, 3))
    mse = lambda Y: jnp.sum((Y - T) ** 2) / (2 * Y.shape[0])  # noqa: E731
    close(softmax(U), jax.nn.softmax(U, axis=1))
    close(softmax_cross_entropy(U, labels), _cross_entropy(U, labels))
    close(softmax_cross_entropy_gradient(U, labels), jax.grad(_cross_entropy)(U, labels))
    close(mean_squared_error(U, T), mse(U))
    close(mean_squared_error_gradient(U, T), jax.grad(mse)(U))
    dY = rng.normal(size=U.shape)
    close(elementwise_backward(dY, 1 - np.tanh(U) ** 2), vjp(jnp.tanh, (U,), dY)[0])


def case_gauss_newton(rng):
    # H_GN = Jᵀ (∂²z/∂vec(U)²) J: JAX's Hessian of the loss in the logits, between JAX's Jacobians
    X, theta, labels = rng.normal(size=(4, 3)), rng.normal(size=6), np.array([1, 0, 1, 1])
    logits = lambda t: jnp.tanh(X @ t.reshape(3, 2))  # noqa: E731
    U = logits(theta)
    J = numerator(jax.jacobian(logits)(theta), (4, 2), (6,))
    H_U = numerator(jax.hessian(_cross_entropy)(U, labels), (4, 2), (4, 2))
    close(cross_entropy_gauss_newton(U, J), J.T @ H_U @ J)


def case_layers(rng):
    U, dS = rng.normal(size=(3, 4)), rng.normal(size=(3, 4))
    close(softmax_backward(softmax(U), dS), vjp(_softmax, (U,), dS)[0])
    X, gamma, beta, dY = (rng.normal(size=s) for s in [(5, 4), (4,), (4,), (5, 4)])
    for forward, backward, axis in [(layer_norm, layer_norm_backward, 1),
                                    (batch_norm, batch_norm_backward, 0)]:
        f = _normalise(axis)
        close(forward(X, gamma, beta), f(X, gamma, beta))
        for mine, theirs in zip(backward(X, gamma, beta, dY), vjp(f, (X, gamma, beta), dY),
                                strict=True):
            close(mine, theirs)
    Q, K, V, dO = (rng.normal(size=s) for s in [(3, 2), (4, 2), (4, 5), (3, 5)])
    close(attention(Q, K, V), _attention(Q, K, V))
    for mine, theirs in zip(attention_backward(Q, K, V, dO), vjp(_attention, (Q, K, V), dO),
                            strict=True):
        close(mine, theirs)


def case_convolution(rng, stride=1, padding=0):
    X, W = rng.normal(size=(2, 3, 6, 5)), rng.normal(size=(4, 3, 3, 2))
    Y = _conv(X, W, stride, padding)
    close(conv2d(X, W, stride, padding), Y)
    dY = rng.normal(size=Y.shape)
    for mine, theirs in zip(conv2d_backward(X, W, dY, stride, padding),
                            vjp(lambda X, W: _conv(X, W, stride, padding), (X, W), dY), strict=True):
        close(mine, theirs)
    # im2col is linear; XLA's patches are its rows, col2im its adjoint (JAX's vjp of the patches)
    patches = lambda X: jax.lax.conv_general_dilated_patches(  # noqa: E731
        X, (3, 2), (stride, stride), [(padding, padding)] * 2)  # (N, C·kh·kw, H_out, W_out)
    rows = lambda X: jnp.transpose(patches(X), (0, 2, 3, 1)).reshape(-1, 3 * 3 * 2)  # noqa: E731
    close(im2col(X, 3, 2, stride, padding), rows(X))
    cols = rng.normal(size=rows(X).shape)
    close(col2im(cols, X.shape, 3, 2, stride, padding), vjp(rows, (X,), cols)[0])


def case_kronecker(rng):
    A, B, X = rng.normal(size=(2, 3)), rng.normal(size=(4, 5)), rng.normal(size=(3, 4))
    J = jax.jacobian(lambda X: A @ X @ B)(X)  # (2, 5, 3, 4)
    close(kron_jacobian(A, B), numerator(J, (2, 5), (3, 4)))
    # vec_c: reshape in Fortran order, rows and columns alike
    close(kron_jacobian(A, B, order="F"), np.asarray(J).reshape(10, 12, order="F"))
    K = jax.jacobian(lambda X: X.T)(X)
    close(commutation_matrix(3, 4), numerator(K, (4, 3), (3, 4)))
    close(commutation_matrix(3, 4, order="F"), np.asarray(K).reshape(12, 12, order="F"))
    S = rng.normal(size=(3, 3)) + 3 * np.eye(3)
    close(inverse_jacobian(S), numerator(jax.jacobian(jnp.linalg.inv)(S), (3, 3), (3, 3)))
    close(gram_jacobian(X), numerator(jax.jacobian(lambda X: X.T @ X)(X), (4, 4), (3, 4)))
    close(elementwise_jacobian(1 - np.tanh(X) ** 2),
          numerator(jax.jacobian(jnp.tanh)(X), (3, 4), (3, 4)))


def _spd(rng, n):
    B = rng.normal(size=(n, n))
    return B @ B.T + n * np.eye(n)


def case_eigh(rng):  # a loss that no sign or order convention of the eigenvectors can change
    n = 4
    A = rng.normal(size=(n, n))
    A = A + A.T
    d, c, b = rng.normal(size=n), rng.normal(size=n), rng.normal(size=n)
    z = lambda A: jnp.sum(d * jnp.linalg.eigh(A)[0]) + jnp.sum(c * (jnp.linalg.eigh(A)[1].T @ b) ** 2)  # noqa: E731
    w, V = np.linalg.eigh(A)
    dV = 2 * np.outer(b, c * (V.T @ b))  # ∂z/∂vᵢ = 2cᵢ(vᵢᵀb) b
    close(eigh_backward(w, V, d, dV), jax.grad(z)(A), 1e-9, 1e-10)  # JAX's eigh: sym(G), as ours
    close(eigh_backward(w, V, d), jax.grad(lambda A: jnp.sum(d * jnp.linalg.eigh(A)[0]))(A))


def case_svd(rng):  # thin SVD of a non-square matrix; uᵢ and vᵢ flip sign together
    m, n = 5, 3
    A = rng.normal(size=(m, n))
    d, c = rng.normal(size=n), rng.normal(size=n)
    a, b = rng.normal(size=m), rng.normal(size=n)

    def z(A):
        U, s, Vt = jnp.linalg.svd(A, full_matrices=False)
        return jnp.sum(d * s) + jnp.sum(c * (U.T @ a) * (Vt @ b))

    U, s, Vt = np.linalg.svd(A, full_matrices=False)
    dU = np.outer(a, c * (Vt @ b))
    dVt = (c * (U.T @ a))[:, None] * b[None, :]
    close(svd_backward(U, s, Vt, d, dU, dVt), jax.grad(z)(A), 1e-9, 1e-10)
    values = lambda A: jnp.sum(d * jnp.linalg.svd(A, compute_uv=False))  # noqa: E731
    close(svd_backward(U, s, Vt, d), jax.grad(values)(A))


def case_cholesky(rng):
    n = 4
    A = _spd(rng, n)
    C = np.tril(rng.normal(size=(n, n)))
    L = cholesky(A)
    close(L, jnp.linalg.cholesky(A))
    close(cholesky_backward(L, C), jax.grad(lambda A: jnp.sum(C * jnp.linalg.cholesky(A)))(A))


def case_matrix_functions(rng):
    import scipy.linalg

    n = 3
    A, E = rng.normal(size=(n, n)) / 2, rng.normal(size=(n, n))
    _, jvp_exp = jax.jvp(jax.scipy.linalg.expm, (A,), (E,))
    close(frechet_derivative(scipy.linalg.expm, A, E), jvp_exp, 1e-10, 1e-12)
    S = A + A.T
    _, jvp_sym = jax.jvp(jax.scipy.linalg.expm, (S,), (E,))
    close(daleckii_krein(np.exp, np.exp, S, E), jvp_sym, 1e-10, 1e-12)


def case_symmetric_gradient(rng):  # f(X) = sum(C ∘ X²) + aᵀXb on a symmetric X
    n = 4
    C, a, b = rng.normal(size=(n, n)), rng.normal(size=n), rng.normal(size=n)
    f = lambda X: jnp.sum(C * X @ X) + a @ X @ b  # noqa: E731
    X = rng.normal(size=(n, n))
    X = X + X.T
    G = np.asarray(jax.grad(f)(X))  # every n² entry its own variable
    close(symmetric_gradient(G), jax.grad(lambda X: f((X + X.T) / 2))(X))
    rows, cols = np.tril_indices(n)

    def on_free(theta):  # the n(n+1)/2 free entries x_ij = x_ji, i ≥ j
        L = jnp.zeros((n, n)).at[rows, cols].set(theta)
        return f(L + L.T - jnp.diag(jnp.diag(L)))

    free = jax.grad(on_free)(X[rows, cols])
    close(symmetric_gradient(G, "free")[rows, cols], free)


def case_solve(rng):  # x = A⁻¹b: JAX differentiates its own LU solve
    n, k = 4, 2
    A = rng.normal(size=(n, n)) + n * np.eye(n)
    b, C = rng.normal(size=(n, k)), rng.normal(size=(n, k))
    x = np.linalg.solve(A, b)
    dA, db = jax.grad(lambda A, b: jnp.sum(C * jnp.linalg.solve(A, b)), argnums=(0, 1))(A, b)
    grads = solve_backward(A, b, x, C)
    close(grads.dA, dA)
    close(grads.db, db)


def case_implicit(rng):  # the fixed point x = tanh(Wx + θ), F(x, θ) = x − tanh(Wx + θ) = 0
    n = 4
    W = 0.4 * rng.normal(size=(n, n)) / np.sqrt(n)
    theta, c = rng.normal(size=n), rng.normal(size=n)

    def solve(theta):  # the fixed-point iteration, unrolled by JAX to convergence (a contraction)
        x = jnp.zeros(n)
        for _ in range(200):
            x = jnp.tanh(W @ x + theta)
        return x

    x = np.asarray(solve(theta))
    s = 1 - np.tanh(W @ x + theta) ** 2
    F_x, F_theta = np.eye(n) - s[:, None] * W, -np.diag(s)
    close(implicit_jacobian(F_x, F_theta), jax.jacobian(solve)(theta), 1e-10, 1e-12)
    hypergradient = jax.grad(lambda t: c @ solve(t))(theta)
    close(implicit_vjp(F_x, F_theta, c), hypergradient, 1e-10, 1e-12)
    close(implicit_vjp(F_x, lambda u: -(s * u), c), hypergradient, 1e-10, 1e-12)  # as a VJP


CASES = {
    "numeric": (("numeric_jacobian", "numeric_gradient", "numeric_hessian"), case_numeric),
    "checkers": (("check_gradient", "diagnose", "diagnose_jacobian"), case_checkers),
    "chains": (("jacobian_chain", "gradient_chain"), case_chains),
    "least squares": (("least_squares_loss", "least_squares_gradient", "least_squares_hessian",
                       "least_squares_hessian_vector_product"), case_least_squares),
    "linear": (("linear_forward", "linear_backward"), case_linear),
    "per-example norms": (("per_example_gradient_norms",), case_per_example),
    "network": (("softmax", "softmax_cross_entropy", "softmax_cross_entropy_gradient",
                 "mean_squared_error", "mean_squared_error_gradient", "elementwise_backward"),
                case_network),
    "gauss-newton": (("cross_entropy_gauss_newton",), case_gauss_newton),
    "layers": (("softmax_backward", "layer_norm", "layer_norm_backward", "batch_norm",
                "batch_norm_backward", "attention", "attention_backward"), case_layers),
    "convolution, stride 1": (("conv2d", "conv2d_backward", "im2col", "col2im"), case_convolution),
    "convolution, stride 2, padding 1": (
        ("conv2d", "conv2d_backward", "im2col", "col2im"),
        lambda rng: case_convolution(rng, stride=2, padding=1)),
    "kronecker": (("kron_jacobian", "commutation_matrix", "inverse_jacobian", "gram_jacobian",
                   "elementwise_jacobian"), case_kronecker),
    "eigh": (("eigh_backward",), case_eigh),
    "svd": (("svd_backward",), case_svd),
    "cholesky": (("cholesky", "cholesky_backward"), case_cholesky),
    "matrix functions": (("frechet_derivative", "daleckii_krein"), case_matrix_functions),
    "symmetric gradient": (("symmetric_gradient",), case_symmetric_gradient),
    "linear solve": (("solve_backward",), case_solve),
    "implicit function theorem": (("implicit_jacobian", "implicit_vjp"), case_implicit),
}

EXEMPT = {
    "AttentionGrads": "a result type (a named tuple), not a function",
    "ConvGrads": "a result type (a named tuple), not a function",
    "Diagnosis": "a result type (a named tuple), not a function",
    "LinearGrads": "a result type (a named tuple), not a function",
    "NormGrads": "a result type (a named tuple), not a function",
    "SolveGrads": "a result type (a named tuple), not a function",
    "vec": "a reshape, not a derivative (tests/test_kronecker.py checks it and unvec entry by entry)",
    "unvec": "a reshape, not a derivative (tests/test_kronecker.py)",
}


@pytest.mark.parametrize("name", list(CASES))
def test_against_jax(rng, name):
    CASES[name][1](rng)


def test_every_public_name_is_covered_or_exempt():
    covered = {n for names, _ in CASES.values() for n in names}
    public = set(mathchain.__all__)
    assert not covered & set(EXEMPT), f"both covered and exempt: {sorted(covered & set(EXEMPT))}"
    assert covered | set(EXEMPT) <= public, f"not public: {sorted((covered | set(EXEMPT)) - public)}"
    missing = sorted(public - covered - set(EXEMPT))
    assert not missing, (f"public names with no JAX case in CASES and no reason in EXEMPT: {missing}; "
                         "add one entry for each")
