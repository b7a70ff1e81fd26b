"""least_squares_hessian and least_squares_hessian_vector_product against numeric_hessian, autograd
and hand-computed cases."""

import tracemalloc

import autograd.numpy as anp
import numpy as np
import pytest
from autograd import grad, hessian

from assertions import assert_inputs_kept_and_results_new
from mathchain import (
    least_squares_gradient,
    least_squares_hessian,
    least_squares_hessian_vector_product,
    least_squares_loss,
    numeric_hessian,
    numeric_jacobian,
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
