"""numeric_jacobian, numeric_gradient and check_gradient against hand-computed derivatives."""

import autograd.numpy as anp
import numpy as np
import pytest
from autograd import grad, jacobian

from mathchain import check_gradient, numeric_gradient, numeric_jacobian
from tolerances import FD_ATOL, FD_RTOL

# --- numeric_jacobian -----------------------------------------------------------------------------

def test_jacobian_of_linear_map_is_the_matrix(rng):
    # f(x) = A x has ∂f/∂x = A exactly (numerator layout: rows = outputs, columns = inputs).
    A = rng.normal(size=(3, 5))
    J = numeric_jacobian(lambda x: A @ x, rng.normal(size=5))
    assert J.shape == (3, 5)
    np.testing.assert_allclose(J, A, rtol=FD_RTOL, atol=FD_ATOL)


def test_jacobian_hand_computed_case():
    # f(x1, x2) = (x1² x2, sin x1) at (1, 2):
    # ∂f/∂x = [[2 x1 x2, x1²], [cos x1, 0]] = [[4, 1], [cos 1, 0]].
    f = lambda x: np.array([x[0] ** 2 * x[1], np.sin(x[0])])  # noqa: E731
    J = numeric_jacobian(f, np.array([1.0, 2.0]))
    np.testing.assert_allclose(J, [[4.0, 1.0], [np.cos(1.0), 0.0]], rtol=FD_RTOL, atol=FD_ATOL)


def test_jacobian_matrix_input_and_output_c_order(rng):
    # F(X) = X ⊙ X for X of shape (2, 3): ∂vec(F)/∂vec(X) = diag(2 vec(X)) with C-order vec.
    X = rng.normal(size=(2, 3))
    J = numeric_jacobian(lambda X: X * X, X)
    np.testing.assert_allclose(J, np.diag(2 * X.ravel(order="C")), rtol=FD_RTOL, atol=FD_ATOL)


def test_jacobian_matrix_product_ordering(rng):
    # F(W) = A W: vec_r(AW) = (A ⊗ I) vec_r(W) for C-order (row-major) flattening.
    A, W = rng.normal(size=(4, 2)), rng.normal(size=(2, 3))
    J = numeric_jacobian(lambda W: A @ W, W)
    np.testing.assert_allclose(J, np.kron(A, np.eye(3)), rtol=FD_RTOL, atol=FD_ATOL)


@pytest.mark.parametrize("x", [0.7, np.array(0.7), np.array([0.7])])
def test_jacobian_scalar_to_scalar(x):
    J = numeric_jacobian(np.sin, x)
    assert J.shape == (1, 1)
    np.testing.assert_allclose(J, [[np.cos(0.7)]], rtol=FD_RTOL)


@pytest.mark.parametrize("shape", [(3,), (2, 3), (1, 1), (4, 1)])
def test_jacobian_against_autograd(rng, shape):
    A = rng.normal(size=(5, int(np.prod(shape))))

    def f(x):
        return anp.tanh(anp.dot(A, anp.reshape(x, -1))) ** 2

    x = rng.normal(size=shape)
    want = jacobian(f)(x).reshape(5, -1)  # autograd's shape is f(x).shape + x.shape
    np.testing.assert_allclose(numeric_jacobian(f, x), want, rtol=FD_RTOL, atol=FD_ATOL)


def test_jacobian_converts_integer_input():
    # An integer x must not truncate the ±eps steps to 0.
    J = numeric_jacobian(lambda x: x**2, np.array([1, 2, 3]))
    np.testing.assert_allclose(J, np.diag([2.0, 4.0, 6.0]), rtol=FD_RTOL, atol=FD_ATOL)


def test_jacobian_does_not_modify_x(rng):
    x = rng.normal(size=4)
    before = x.copy()
    numeric_jacobian(lambda v: v * 3.0, x)
    np.testing.assert_array_equal(x, before)


# --- numeric_gradient -----------------------------------------------------------------------------

def test_gradient_hand_computed_quadratic():
    # f(x) = xᵀ A x has ∇f = (A + Aᵀ) x; A = [[1, 2], [0, 3]], x = (1, 1):
    # A + Aᵀ = [[2, 2], [2, 6]], so ∇f = (4, 8).
    A = np.array([[1.0, 2.0], [0.0, 3.0]])
    g = numeric_gradient(lambda x: x @ A @ x, np.array([1.0, 1.0]))
    np.testing.assert_allclose(g, [4.0, 8.0], rtol=FD_RTOL)


@pytest.mark.parametrize("shape", [(1,), (4,), (4, 1), (1, 4), (3, 3), (2, 5)])
def test_gradient_has_shape_of_x_and_matches_autograd(rng, shape):
    C = rng.normal(size=shape)
    f = lambda X: anp.sum(C * anp.sin(X)) + 0.5 * anp.sum(X**2)  # noqa: E731
    X = rng.normal(size=shape)
    g = numeric_gradient(f, X)
    assert g.shape == X.shape
    np.testing.assert_allclose(g, grad(f)(X), rtol=FD_RTOL, atol=FD_ATOL)


def test_gradient_is_transposed_jacobian(rng):
    # Layout bridge: for scalar f, gradient = Jacobianᵀ reshaped to x's shape.
    X = rng.normal(size=(2, 3))
    f = lambda X: float(np.sum(X**3))  # noqa: E731
    np.testing.assert_allclose(numeric_gradient(f, X), numeric_jacobian(f, X).T.reshape(2, 3))


def test_gradient_accepts_one_element_array_output(rng):
    g = numeric_gradient(lambda x: np.array([np.sum(x**2)]), np.array([1.0, -2.0]))
    np.testing.assert_allclose(g, [2.0, -4.0], rtol=FD_RTOL)


def test_gradient_rejects_vector_valued_f():
    with pytest.raises(ValueError, match=r"scalar-valued f.*shape \(2,\)"):
        numeric_gradient(lambda x: x * 2, np.array([1.0, 2.0]))


# --- check_gradient -------------------------------------------------------------------------------

def test_check_gradient_accepts_the_right_gradient(rng):
    A = rng.normal(size=(4, 4))  # not symmetric
    x = rng.normal(size=4)
    err = check_gradient(lambda x: x @ A @ x, lambda x: (A + A.T) @ x, x)
    assert 0 <= err < FD_RTOL


def test_check_gradient_rejects_2Ax_for_nonsymmetric_A(rng):
    A = np.array([[1.0, 5.0], [0.0, 2.0]])
    x = np.array([1.0, 1.0])
    # true ∇ = (A + Aᵀ)x = (7, 9); the plausible wrong answer 2Ax = (12, 4): worst entry is index 0
    with pytest.raises(AssertionError) as info:
        check_gradient(lambda x: x @ A @ x, lambda x: 2 * A @ x, x)
    msg = str(info.value)
    assert "index (0,)" in msg and "analytic 12.0" in msg and "numeric 7.0" in msg


def test_check_gradient_rejects_missing_transpose(rng):
    # J(w) = ½‖Xw − y‖²: the gradient Xᵀ(Xw − y) written without the transpose does not even fit
    # for non-square X, so use a square non-symmetric X where the shapes would not warn.
    X, y, w = rng.normal(size=(3, 3)), rng.normal(size=3), rng.normal(size=3)
    with pytest.raises(AssertionError, match="gradient check failed"):
        check_gradient(lambda w: 0.5 * np.sum((X @ w - y) ** 2), lambda w: X @ (X @ w - y), w)


def test_check_gradient_names_shape_mismatch():
    with pytest.raises(ValueError, match=r"grad\(x\) has shape \(1, 2\) but x has shape \(2,\)"):
        check_gradient(lambda x: np.sum(x**2), lambda x: (2 * x)[None, :], np.array([1.0, 2.0]))


def test_check_gradient_zero_gradient_is_not_failed_by_noise():
    # At a minimum the exact gradient is 0 and the numeric one is rounding noise.
    err = check_gradient(lambda x: np.sum((x - 3.0) ** 2), lambda x: 2 * (x - 3.0), np.full(3, 3.0))
    assert err < FD_RTOL


def test_check_gradient_matrix_index_in_message():
    X = np.zeros((2, 2))
    wrong = lambda X: np.array([[0.0, 0.0], [0.0, 5.0]])  # noqa: E731
    with pytest.raises(AssertionError, match=r"index \(1, 1\): analytic 5\.0"):
        check_gradient(lambda X: np.sum(X**2), wrong, X)


# --- bad input ------------------------------------------------------------------------------------

@pytest.mark.parametrize("eps", [0, -1e-6, np.nan, np.inf, "small"])
def test_eps_must_be_positive(eps):
    with pytest.raises(ValueError, match="eps must be a positive"):
        numeric_jacobian(np.sin, np.array([1.0]), eps=eps)
    with pytest.raises(ValueError, match="eps must be a positive"):
        numeric_gradient(np.sum, np.array([1.0]), eps=eps)


@pytest.mark.parametrize("bad", [np.nan, np.inf, -np.inf])
def test_non_finite_x_is_refused(bad):
    with pytest.raises(ValueError, match=r"x must be finite; x\[1\]"):
        numeric_jacobian(np.sin, np.array([1.0, bad]))
    with pytest.raises(ValueError, match="x must be finite"):
        check_gradient(np.sum, np.ones_like, np.array([1.0, bad]))


def test_empty_and_complex_x_are_refused():
    with pytest.raises(ValueError, match=r"x must not be empty; got shape \(0,\)"):
        numeric_jacobian(np.sin, np.array([]))
    with pytest.raises(ValueError, match="x must be real"):
        numeric_gradient(np.sum, np.array([1 + 2j]))


def test_non_finite_f_is_reported():
    # f is finite at x = 1 but infinite at x + eps: the step that failed is named.
    def f(x):
        return np.where(x > 1.0, np.inf, x)

    with pytest.raises(ValueError, match=r"f\(x \+ eps\*e\[0\]\) is not finite"):
        numeric_jacobian(f, np.array([1.0]))


def test_check_gradient_non_finite_analytic_is_refused():
    with pytest.raises(ValueError, match=r"grad\(x\) must be finite"):
        check_gradient(np.sum, lambda x: x * np.nan, np.array([1.0]))
