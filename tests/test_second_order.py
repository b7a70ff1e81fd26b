"""least_squares_hessian, least_squares_hessian_vector_product and cross_entropy_gauss_newton against
numeric_hessian, autograd and hand-computed cases."""

import tracemalloc

import autograd.numpy as anp
import numpy as np
import pytest
from autograd import grad, hessian

from assertions import assert_inputs_kept_and_results_new
from mathchain import (
    cross_entropy_gauss_newton,
    least_squares_gradient,
    least_squares_hessian,
    least_squares_hessian_vector_product,
    least_squares_loss,
    numeric_gradient,
    numeric_hessian,
    numeric_jacobian,
    softmax,
    softmax_cross_entropy,
)
from tolerances import (
    EXACT_ATOL,
    EXACT_RTOL,
    FD_ATOL,
    FD_RTOL,
    HESSIAN_ATOL,
    HESSIAN_RTOL,
    MATRIX_SHAPES,
    ORDER_RTOL,
)


def _autograd_loss(X, y):
    return lambda w: 0.5 * anp.sum((anp.dot(X, w) - y) ** 2)


# --- least_squares_hessian ------------------------------------------------------------------------

def test_hessian_hand_computed():
    # X = [[1, 2], [3, 4], [5, 6]]: XᵀX = [[1+9+25, 2+12+30], [2+12+30, 4+16+36]] = [[35, 44], [44, 56]].
    X = np.array([[1.0, 2.0], [3.0, 4.0], [5.0, 6.0]])
    np.testing.assert_array_equal(least_squares_hessian(X), [[35.0, 44.0], [44.0, 56.0]])


@pytest.mark.parametrize("shape", MATRIX_SHAPES)
def test_hessian_against_three_oracles(rng, shape):
    # numeric_hessian of the loss, numeric_jacobian of the gradient, autograd.hessian; at a random w
    # (the Hessian of a quadratic is the same everywhere). Shape (n, n) for X of shape (m, n).
    m, n = shape
    X, y, w = rng.normal(size=(m, n)), rng.normal(size=m), rng.normal(size=n)
    H = least_squares_hessian(X)
    assert H.shape == (n, n)
    np.testing.assert_allclose(H, numeric_hessian(lambda w: least_squares_loss(X, w, y), w),
                               rtol=HESSIAN_RTOL, atol=HESSIAN_ATOL)
    np.testing.assert_allclose(H, numeric_jacobian(lambda w: least_squares_gradient(X, w, y), w),
                               rtol=FD_RTOL, atol=FD_ATOL)
    np.testing.assert_allclose(H, hessian(_autograd_loss(X, y))(w), rtol=EXACT_RTOL, atol=EXACT_ATOL)
    np.testing.assert_array_equal(H, H.T)


def test_hessian_is_not_X_XT(rng):
    # The plausible slip XXᵀ is (m, m): for non-square X the shape is wrong, for square X the values.
    X = rng.normal(size=(3, 3))
    assert not np.allclose(least_squares_hessian(X), X @ X.T)


def test_hessian_keeps_its_input(rng):
    X = rng.normal(size=(4, 3))
    assert_inputs_kept_and_results_new([X], lambda: [least_squares_hessian(X)])


# --- least_squares_hessian_vector_product ---------------------------------------------------------

def test_product_hand_computed():
    # X = [[1, 2], [3, 4], [5, 6]], v = (1, −1): Xv = (−1, −1, −1), Xᵀ(Xv) = (−9, −12)
    # = [[35, 44], [44, 56]] (1, −1) = (35 − 44, 44 − 56).
    X = np.array([[1.0, 2.0], [3.0, 4.0], [5.0, 6.0]])
    np.testing.assert_array_equal(least_squares_hessian_vector_product(X, [1.0, -1.0]), [-9.0, -12.0])


@pytest.mark.parametrize("shape", MATRIX_SHAPES)
@pytest.mark.parametrize("column", [False, True])
def test_product_against_the_matrix_autograd_and_differences(rng, shape, column):
    m, n = shape
    X, y, w = rng.normal(size=(m, n)), rng.normal(size=m), rng.normal(size=n)
    v = rng.normal(size=n)
    Hv = least_squares_hessian_vector_product(X, v.reshape(n, 1) if column else v)
    assert Hv.shape == ((n, 1) if column else (n,))
    Hv = Hv.ravel()
    scale = np.abs(X).T @ (np.abs(X) @ np.abs(v))  # the same sums in absolute values
    assert np.all(np.abs(Hv - least_squares_hessian(X) @ v) <= ORDER_RTOL * scale)
    # autograd: differentiate (∂J/∂w)ᵀ v, a scalar, once more
    hvp = grad(lambda w: anp.dot(grad(_autograd_loss(X, y))(w), v))(w)
    np.testing.assert_allclose(Hv, hvp, rtol=EXACT_RTOL, atol=EXACT_ATOL)
    # central differences of the gradient along v: d/dt ∂J/∂w(w + t v) at t = 0
    along_v = numeric_jacobian(lambda t: least_squares_gradient(X, w + t * v, y), 0.0)
    np.testing.assert_allclose(Hv, along_v.ravel(), rtol=FD_RTOL, atol=FD_ATOL)


def test_product_adjoint(rng):
    # The Hessian is symmetric: ⟨u, Hv⟩ = ⟨Hu, v⟩ for random u, v.
    X, u, v = rng.normal(size=(6, 4)), rng.normal(size=4), rng.normal(size=4)
    left = u @ least_squares_hessian_vector_product(X, v)
    right = least_squares_hessian_vector_product(X, u) @ v
    assert abs(left - right) <= ORDER_RTOL * (np.abs(X) @ np.abs(u)) @ (np.abs(X) @ np.abs(v))


def test_product_memory_is_O_of_m_plus_n(rng):
    # n = 1000 features: XᵀX would take n² floats (8 MB); the product allocates Xv and Xᵀ(Xv).
    m, n = 20, 1000
    X, v = rng.normal(size=(m, n)), rng.normal(size=n)
    tracemalloc.start()
    try:
        least_squares_hessian_vector_product(X, v)
        product_peak = tracemalloc.get_traced_memory()[1]
        tracemalloc.reset_peak()
        least_squares_hessian(X) @ v
        matrix_peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert matrix_peak >= n * n * 8
    assert product_peak < 20 * (m + n) * 8


def test_product_keeps_its_inputs(rng):
    X, v = rng.normal(size=(4, 3)), rng.normal(size=3)
    assert_inputs_kept_and_results_new([X, v], lambda: [least_squares_hessian_vector_product(X, v)])


# --- bad input ------------------------------------------------------------------------------------

@pytest.mark.parametrize("v_shape", [(2,), (4,), (1, 3), (3, 2), (2, 1), (3, 1, 1)])
def test_product_refuses_v_of_the_wrong_shape(rng, v_shape):
    X = rng.normal(size=(5, 3))
    pattern = (r"v must be 1-D or 2-D" if len(v_shape) == 3
               else rf"X has shape \(5, 3\) and v has shape \({', '.join(map(str, v_shape))},?\): "
                    r"v needs the shape of w, \(3,\) or \(3, 1\)")
    with pytest.raises(ValueError, match=pattern):
        least_squares_hessian_vector_product(X, rng.normal(size=v_shape))


@pytest.mark.parametrize("X", [np.ones(3), np.ones((2, 2, 2))])
def test_X_must_be_a_matrix(X):
    message = rf"X must be 2-D; got shape \({', '.join(map(str, X.shape))},?\)"
    for call in (lambda: least_squares_hessian(X),
                 lambda: least_squares_hessian_vector_product(X, np.ones(2))):
        with pytest.raises(ValueError, match=message):
            call()


def test_empty_X_is_refused():
    with pytest.raises(ValueError, match=r"X must not be empty; got shape \(0, 3\)"):
        least_squares_hessian(np.ones((0, 3)))
    with pytest.raises(ValueError, match=r"X must not be empty; got shape \(2, 0\)"):
        least_squares_hessian_vector_product(np.ones((2, 0)), np.ones(0))


@pytest.mark.parametrize("bad", [np.nan, np.inf, -np.inf])
def test_non_finite_input_is_named(bad):
    X = np.ones((3, 2))
    X[1, 0] = bad
    with pytest.raises(ValueError, match=r"X must be finite; X\[1, 0\]"):
        least_squares_hessian(X)
    with pytest.raises(ValueError, match=r"X must be finite; X\[1, 0\]"):
        least_squares_hessian_vector_product(X, np.ones(2))
    with pytest.raises(ValueError, match=r"v must be finite; v\[1\]"):
        least_squares_hessian_vector_product(np.ones((3, 2)), np.array([1.0, bad]))


def test_overflow_is_reported():
    with pytest.raises(ValueError, match="least_squares_hessian overflowed"):
        least_squares_hessian(np.full((2, 2), 1e200))
    with pytest.raises(ValueError, match="least_squares_hessian_vector_product overflowed"):
        least_squares_hessian_vector_product(np.full((2, 2), 1e200), np.ones(2))


def test_complex_and_text_are_refused():
    with pytest.raises(ValueError, match="X must be real"):
        least_squares_hessian(np.ones((2, 2)) * 1j)
    with pytest.raises(ValueError, match="v must be real"):
        least_squares_hessian_vector_product(np.ones((2, 2)), np.ones(2) * 1j)
    with pytest.raises(ValueError, match="X must be a real numeric array"):
        least_squares_hessian([["1", "2"]])


# --- cross_entropy_gauss_newton -------------------------------------------------------------------

def test_gauss_newton_hand_computed():
    # One sample, logits (0, 0): s = (½, ½), diag s − ssᵀ = [[¼, −¼], [−¼, ¼]]. With J = I it is that
    # matrix; with J = [[1], [3]] (one parameter) it is (1, 3)[[¼, −¼], [−¼, ¼]](1, 3)ᵀ
    # = ¼ − 3/2 + 9/4 = 1.
    np.testing.assert_array_equal(cross_entropy_gauss_newton([[0.0, 0.0]], np.eye(2)),
                                  [[0.25, -0.25], [-0.25, 0.25]])
    np.testing.assert_array_equal(cross_entropy_gauss_newton([[0.0, 0.0]], [[1.0], [3.0]]), [[1.0]])


def _tanh_logits(rng, m, c, n_params):
    """A smooth nonlinear U(θ), (m, c), and its θ: tanh of a random linear map, plus a quadratic."""
    M = rng.normal(size=(m * c, n_params)) / np.sqrt(n_params)
    Q = rng.normal(size=(m * c, n_params))
    def logits(theta):
        return (2 * np.tanh(M @ theta) + 0.3 * (Q @ theta) ** 2).reshape(m, c)
    return logits, rng.normal(size=n_params)


@pytest.mark.parametrize(("m", "c", "n_params"), [(1, 2, 1), (1, 3, 5), (4, 2, 3), (3, 4, 2), (5, 3, 6)])
def test_gauss_newton_is_the_hessian_of_the_linearised_loss(rng, m, c, n_params):
    # Independent oracle: the loss of the logits linearised at θ, U₀ + J(θ' − θ), has no curvature
    # from U, so its Hessian (central second differences) is the Gauss–Newton matrix.
    logits, theta = _tanh_logits(rng, m, c, n_params)
    labels = rng.integers(0, c, size=m)
    U0, J = logits(theta), numeric_jacobian(logits, theta)
    H_gn = cross_entropy_gauss_newton(U0, J)
    assert H_gn.shape == (n_params, n_params)
    linearised = numeric_hessian(
        lambda t: softmax_cross_entropy(U0 + (J @ (t - theta)).reshape(m, c), labels), theta)
    np.testing.assert_allclose(H_gn, linearised, rtol=HESSIAN_RTOL, atol=HESSIAN_ATOL)
    np.testing.assert_array_equal(H_gn, H_gn.T)
    assert np.linalg.eigvalsh(H_gn).min() >= -ORDER_RTOL * np.abs(H_gn).max()


def test_gauss_newton_is_the_fisher_and_the_expected_hessian(rng):
    # F = (1/m) Σᵢ Σₖ sᵢₖ gᵢₖgᵢₖᵀ, gᵢₖ the gradient of −log sᵢₖ (central differences), an exact
    # expectation over the classes; and the Hessian of the expected loss E_{k∼sᵢ}[ℓᵢ(k)], s held fixed.
    m, c, n_params = 3, 4, 5
    logits, theta = _tanh_logits(rng, m, c, n_params)
    U0 = logits(theta)
    s = softmax(U0)
    H_gn = cross_entropy_gauss_newton(U0, numeric_jacobian(logits, theta))
    g = np.array([[numeric_gradient(lambda t, i=i, k=k: softmax_cross_entropy(logits(t)[i:i + 1], [k]),
                                    theta) for k in range(c)] for i in range(m)])
    fisher = np.einsum("ik,ika,ikb->ab", s, g, g) / m
    np.testing.assert_allclose(H_gn, fisher, rtol=FD_RTOL, atol=FD_ATOL)
    def expected_loss(t):
        U = logits(t)
        log_s = U - np.log(np.exp(U).sum(axis=1, keepdims=True))
        return -np.sum(s * log_s) / m  # Σₖ sᵢₖ (−log softmax(Uᵢ)ₖ), averaged over i
    np.testing.assert_allclose(H_gn, numeric_hessian(expected_loss, theta),
                               rtol=HESSIAN_RTOL, atol=HESSIAN_ATOL)
    # The empirical Fisher (the labels' gradients only) is another matrix.
    labels = rng.integers(0, c, size=m)
    empirical = np.einsum("ia,ib->ab", g[np.arange(m), labels], g[np.arange(m), labels]) / m
    assert np.linalg.norm(empirical - H_gn) > 0.1 * np.linalg.norm(H_gn)


def test_gauss_newton_logit_hessian(rng):
    # With J = I the result is the Hessian of z in the logits: (diag sᵢ − sᵢsᵢᵀ)/m, block diagonal.
    m, c = 3, 4
    U, labels = rng.normal(size=(m, c)), rng.integers(0, c, size=m)
    by_differences = numeric_jacobian(
        lambda U_: (softmax(U_) - np.eye(c)[labels]).ravel() / m, U)   # Jacobian of ∂z/∂U
    np.testing.assert_allclose(cross_entropy_gauss_newton(U, np.eye(m * c)), by_differences,
                               rtol=FD_RTOL, atol=FD_ATOL)
    np.testing.assert_allclose(cross_entropy_gauss_newton(U, np.eye(m * c)),
                               numeric_hessian(lambda U_: softmax_cross_entropy(U_, labels), U),
                               rtol=HESSIAN_RTOL, atol=HESSIAN_ATOL)


def test_gauss_newton_keeps_its_inputs(rng):
    U, J = rng.normal(size=(2, 3)), rng.normal(size=(6, 4))
    assert_inputs_kept_and_results_new([U, J], lambda: [cross_entropy_gauss_newton(U, J)])


@pytest.mark.parametrize("rows", [5, 7, 12])
def test_gauss_newton_refuses_a_jacobian_of_the_wrong_height(rng, rows):
    pattern = (rf"logits has shape \(2, 3\) and jacobian has shape \({rows}, 4\): jacobian needs one "
               r"row per logit, m\*c = 6 rows")
    with pytest.raises(ValueError, match=pattern):
        cross_entropy_gauss_newton(rng.normal(size=(2, 3)), rng.normal(size=(rows, 4)))


def test_gauss_newton_refuses_bad_arrays():
    with pytest.raises(ValueError, match=r"logits must be 2-D; got shape \(3,\)"):
        cross_entropy_gauss_newton(np.ones(3), np.ones((3, 2)))
    with pytest.raises(ValueError, match=r"jacobian must be 2-D; got shape \(6,\)"):
        cross_entropy_gauss_newton(np.ones((2, 3)), np.ones(6))
    with pytest.raises(ValueError, match=r"jacobian must be finite; jacobian\[1, 0\]"):
        cross_entropy_gauss_newton(np.ones((2, 3)), np.array([[1.0], [np.nan]] + [[0.0]] * 4))
