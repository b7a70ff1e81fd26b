"""gradient_chain and least squares: the denominator-layout rules against independent oracles."""

from functools import reduce

import autograd.numpy as anp
import numpy as np
import pytest
from autograd import grad, jacobian
from hypothesis import given, settings
from hypothesis import strategies as st

from mathchain import (
    gradient_chain,
    jacobian_chain,
    least_squares_gradient,
    least_squares_loss,
    numeric_gradient,
)
from tolerances import EXACT_ATOL, EXACT_RTOL, FD_ATOL, FD_RTOL

# --- gradient_chain -------------------------------------------------------------------------------


def test_gradient_chain_hand_computed():
    # y₁ ∈ ℝ² → y₂ = J y₁ ∈ ℝ³ with J = [[1, 0], [2, 1], [0, 3]]; z = sum(y₂) so ∂z/∂y₂ = (1, 1, 1).
    # ∂z/∂y₁ = Jᵀ (1, 1, 1) = (1 + 2 + 0, 0 + 1 + 3) = (3, 4).
    J = [[1, 0], [2, 1], [0, 3]]
    np.testing.assert_array_equal(gradient_chain([1, 1, 1], J), [3.0, 4.0])


def test_multi_step_rule_matches_autograd(rng):
    # y₁ ∈ ℝ⁴ → y₂ = tanh(A y₁) ∈ ℝ³ → y₃ = B y₂ ∈ ℝ⁵ → z = ½‖y₃‖² + sum(sin y₃).
    A, B, y1 = rng.normal(size=(3, 4)), rng.normal(size=(5, 3)), rng.normal(size=4)

    def y2_of(y1):
        return anp.tanh(anp.dot(A, y1))

    def y3_of(y2):
        return anp.dot(B, y2)

    def z_of(y3):
        return 0.5 * anp.sum(y3**2) + anp.sum(anp.sin(y3))

    y2 = y2_of(y1)
    y3 = y3_of(y2)
    # Written order of the rule: (∂y₃/∂y₂ ∂y₂/∂y₁)ᵀ ∂z/∂y₃
    got = gradient_chain(grad(z_of)(y3), jacobian(y3_of)(y2), jacobian(y2_of)(y1))
    full = lambda y1: z_of(y3_of(y2_of(y1)))  # noqa: E731
    assert got.shape == (4,)
    np.testing.assert_allclose(got, grad(full)(y1), rtol=EXACT_RTOL, atol=EXACT_ATOL)
    np.testing.assert_allclose(got, numeric_gradient(full, y1), rtol=FD_RTOL, atol=FD_ATOL)


@pytest.mark.parametrize("dims", [(1, 1), (3, 1), (1, 3), (4, 2, 5), (2, 6, 1, 3), (5, 5, 5, 5)])
def test_adjoint_identity(rng, dims):
    # ⟨u, J v⟩ = ⟨Jᵀ u, v⟩ for J = J₁J₂⋯ of shape (dims[0], dims[-1]); gradient_chain(u, …) = Jᵀu.
    mats = [rng.normal(size=(dims[i], dims[i + 1])) for i in range(len(dims) - 1)]
    u, v = rng.normal(size=dims[0]), rng.normal(size=dims[-1])
    Jv = reduce(np.matmul, mats) @ v
    lhs = u @ Jv
    rhs = gradient_chain(u, *mats) @ v
    np.testing.assert_allclose(lhs, rhs, rtol=1e-12, atol=1e-12)


def test_column_gradient_gives_column_result(rng):
    J1, J2 = rng.normal(size=(3, 4)), rng.normal(size=(4, 2))
    g = rng.normal(size=(3, 1))
    got = gradient_chain(g, J1, J2)
    assert got.shape == (2, 1)
    np.testing.assert_allclose(got, (J1 @ J2).T @ g, rtol=EXACT_RTOL, atol=EXACT_ATOL)


def test_no_jacobians_returns_the_gradient_itself():
    g = np.array([1.0, 2.0])
    out = gradient_chain(g)
    np.testing.assert_array_equal(out, g)
    assert out is not g


def test_never_forms_the_jacobian_product(rng, monkeypatch):
    # Every product gradient_chain performs must have a vector operand (reverse accumulation).
    n = 30
    mats = [rng.normal(size=(n, n)) for _ in range(3)]
    g = rng.normal(size=n)
    want = reduce(np.matmul, mats).T @ g
    shapes = []

    class Spy(np.ndarray):
        def __matmul__(self, other):
            shapes.append((self.shape, np.shape(other)))
            return np.asarray(self) @ np.asarray(other)

    import mathchain._checks as checks

    real = checks.as_array
    monkeypatch.setattr(checks, "as_array", lambda *a, **k: real(*a, **k).view(Spy))
    got = np.asarray(gradient_chain(g, *mats))
    assert len(shapes) == 3, shapes
    assert all(len(b) == 1 for _, b in shapes), f"a matrix-matrix product was formed: {shapes}"
    np.testing.assert_allclose(got, want, rtol=1e-10, atol=1e-10)


@pytest.mark.parametrize("bad", [np.nan, np.inf])
def test_non_finite_jacobian_is_named_even_against_zero_entries(rng, bad):
    # Inputs are checked through the result (a scan would cost as much as the products); the NaN
    # meets a zero of the gradient at a size that goes through BLAS, which must not skip it.
    g = rng.normal(size=300)
    J1, J2 = rng.normal(size=(300, 200)), rng.normal(size=(200, 100))
    g[5] = 0.0
    J1[5, 7] = bad
    with pytest.raises(ValueError, match=r"jacobians\[0\] must be finite; jacobians\[0\]\[5, 7\]"):
        gradient_chain(g, J1, J2)
    v = rng.normal(size=(200, 1))
    v[7] = 0.0
    with pytest.raises(ValueError, match=r"jacobians\[1\] must be finite; jacobians\[1\]\[5, 7\]"):
        jacobian_chain(np.ones((300, 300)), J1, v)  # multi_dot: J1 v first, against v[7] = 0


def test_gradient_chain_overflow_is_an_error():
    with pytest.raises(ValueError, match="gradient_chain overflowed"):
        gradient_chain(np.array([1e300]), np.array([[1e300]]))


def test_gradient_chain_shape_errors(rng):
    with pytest.raises(ValueError, match=r"grad has shape \(3,\) but jacobians\[0\].*shape \(4, 2\)"):
        gradient_chain(np.ones(3), np.ones((4, 2)))
    with pytest.raises(ValueError, match=r"\(3, 2\) and jacobians\[1\] has shape \(3, 1\)"):
        gradient_chain(np.ones(3), np.ones((3, 2)), np.ones((3, 1)))
    with pytest.raises(ValueError, match=r"grad must be a vector .*; got shape \(1, 3\)"):
        gradient_chain(np.ones((1, 3)), np.ones((3, 2)))
    with pytest.raises(ValueError, match=r"grad must be finite"):
        gradient_chain(np.array([np.nan, 1.0]), np.ones((2, 2)))
    with pytest.raises(ValueError, match=r"jacobians\[0\] must be 2-D"):
        gradient_chain(np.ones(2), np.ones(2))


# --- least squares --------------------------------------------------------------------------------

# Worked by hand: X = [[1, 2], [3, 4], [5, 6]], w = (1, −1), y = (0, 1, 2).
# Xw = (−1, −1, −1); z = Xw − y = (−1, −2, −3); J = ½(1 + 4 + 9) = 7.
# Xᵀz = (1·−1 + 3·−2 + 5·−3, 2·−1 + 4·−2 + 6·−3) = (−22, −28).
HAND_X = [[1, 2], [3, 4], [5, 6]]
HAND_W = [1, -1]
HAND_Y = [0, 1, 2]


def test_least_squares_hand_computed():
    assert least_squares_loss(HAND_X, HAND_W, HAND_Y) == 7.0
    assert isinstance(least_squares_loss(HAND_X, HAND_W, HAND_Y), float)
    np.testing.assert_array_equal(least_squares_gradient(HAND_X, HAND_W, HAND_Y), [-22.0, -28.0])


def test_least_squares_columns_hand_computed():
    w, y = np.array(HAND_W)[:, None], np.array(HAND_Y)[:, None]
    assert least_squares_loss(HAND_X, w, y) == 7.0
    g = least_squares_gradient(HAND_X, w, y)
    assert g.shape == (2, 1)
    np.testing.assert_array_equal(g, [[-22.0], [-28.0]])


def _ls_autograd(X, y):
    return grad(lambda w: 0.5 * anp.sum((anp.dot(X, w) - y) ** 2))


@pytest.mark.parametrize("m,n", [(1, 1), (1, 4), (4, 1), (3, 3), (7, 2), (2, 7)])
@pytest.mark.parametrize("column", [False, True])
def test_least_squares_gradient_sweep(rng, m, n, column):
    X = rng.normal(size=(m, n))
    w = rng.normal(size=(n, 1) if column else n)
    y = rng.normal(size=(m, 1) if column else m)
    g = least_squares_gradient(X, w, y)
    assert g.shape == w.shape
    np.testing.assert_allclose(g, _ls_autograd(X, y)(w), rtol=EXACT_RTOL, atol=EXACT_ATOL)
    loss = lambda w: least_squares_loss(X, w, y)  # noqa: E731
    np.testing.assert_allclose(g, numeric_gradient(loss, w), rtol=FD_RTOL, atol=FD_ATOL)


@settings(max_examples=40, deadline=None)
@given(m=st.integers(1, 8), n=st.integers(1, 8), seed=st.integers(0, 2**32 - 1))
def test_least_squares_property(m, n, seed):
    rng = np.random.default_rng(seed)
    X, w, y = rng.normal(size=(m, n)), rng.normal(size=n), rng.normal(size=m)
    np.testing.assert_allclose(least_squares_gradient(X, w, y), _ls_autograd(X, y)(w),
                               rtol=1e-9, atol=1e-9)
    r = X @ w - y
    np.testing.assert_allclose(least_squares_loss(X, w, y), 0.5 * np.sum(r * r), rtol=1e-12)


def test_batched_gradient_is_sum_of_per_sample_gradients(rng):
    X, w, y = rng.normal(size=(6, 3)), rng.normal(size=3), rng.normal(size=6)
    per_sample = sum(least_squares_gradient(X[i : i + 1], w, y[i : i + 1]) for i in range(6))
    np.testing.assert_allclose(least_squares_gradient(X, w, y), per_sample, rtol=EXACT_RTOL,
                               atol=EXACT_ATOL)


def test_gradient_vanishes_at_the_least_squares_solution(rng):
    X, y = rng.normal(size=(20, 4)), rng.normal(size=20)
    w_star = np.linalg.lstsq(X, y, rcond=None)[0]
    np.testing.assert_allclose(least_squares_gradient(X, w_star, y), 0.0, atol=1e-10)


def test_integer_input_is_converted_not_truncated():
    X = np.array([[1, 2], [3, 5]])
    w, y = np.array([1, 1]), np.array([0, 1])
    np.testing.assert_array_equal(least_squares_gradient(X, w, y),
                                  least_squares_gradient(X.astype(float), w * 1.0, y * 1.0))
    assert least_squares_loss(X, w, y) == 0.5 * (9 + 49)


# --- bad input ------------------------------------------------------------------------------------

def test_broadcasting_trap_is_refused(rng):
    X, w, y = rng.normal(size=(5, 3)), rng.normal(size=3), rng.normal(size=(5, 1))
    with pytest.raises(ValueError, match=r"w has shape \(3,\) and y has shape \(5, 1\).*\(5, 5\)"):
        least_squares_gradient(X, w, y)
    with pytest.raises(ValueError, match=r"w has shape \(3, 1\) and y has shape \(5,\).*\(5, 5\)"):
        least_squares_loss(X, w.reshape(3, 1), y.ravel())


def test_shape_mismatches_name_the_shapes(rng):
    X = rng.normal(size=(5, 3))
    with pytest.raises(ValueError, match=r"X has shape \(5, 3\) and w has shape \(4,\)"):
        least_squares_gradient(X, np.ones(4), np.ones(5))
    with pytest.raises(ValueError, match=r"X has shape \(5, 3\) and y has shape \(6,\)"):
        least_squares_gradient(X, np.ones(3), np.ones(6))
    with pytest.raises(ValueError, match=r"X must be 2-D; got shape \(5,\)"):
        least_squares_gradient(np.ones(5), np.ones(1), np.ones(5))
    with pytest.raises(ValueError, match=r"w must be a vector .*; got shape \(3, 2\)"):
        least_squares_gradient(X, np.ones((3, 2)), np.ones(5))
    with pytest.raises(ValueError, match=r"X must not be empty; got shape \(0, 3\)"):
        least_squares_gradient(np.ones((0, 3)), np.ones(3), np.ones(0))


@pytest.mark.parametrize("arg", ["X", "w", "y"])
@pytest.mark.parametrize("bad", [np.nan, np.inf, -np.inf])
def test_non_finite_inputs_are_named(rng, arg, bad):
    args = {"X": rng.normal(size=(4, 3)), "w": rng.normal(size=3), "y": rng.normal(size=4)}
    args[arg][1] = bad
    for fn in (least_squares_loss, least_squares_gradient):
        with pytest.raises(ValueError, match=rf"{arg} must be finite; {arg}\[1"):
            fn(**args)


def test_nan_in_X_is_caught_where_w_is_zero_at_blas_size(rng):
    # X is checked through z = Xw − y (a full scan of X would double the cost); this is the case
    # where that could go wrong: the NaN sits in a column whose weight is 0, and X is large enough
    # for NumPy to call BLAS. IEEE gives nan·0 = nan, and the BLAS must not skip zero weights.
    X, w, y = rng.normal(size=(300, 200)), rng.normal(size=200), rng.normal(size=300)
    w[17] = 0.0
    X[123, 17] = np.nan
    with pytest.raises(ValueError, match=r"X must be finite; X\[123, 17\] = nan"):
        least_squares_gradient(X, w, y)
    X[123, 17] = np.inf
    with pytest.raises(ValueError, match=r"X must be finite; X\[123, 17\] = inf"):
        least_squares_loss(X, w, y)


def test_overflow_is_an_error_not_a_silent_inf():
    X = np.array([[1e308, 1e308]])
    with pytest.raises(ValueError, match="overflowed"):
        least_squares_gradient(X, np.array([1e10, 1e10]), np.array([0.0]))


def test_overflow_in_the_last_step_is_an_error():
    # z = Xw − y is finite (1e200) but ½ zᵀz and Xᵀz overflow.
    X, w, y = np.array([[1e200]]), np.array([1.0]), np.array([0.0])
    with pytest.raises(ValueError, match="least_squares_loss overflowed"):
        least_squares_loss(X, w, y)
    with pytest.raises(ValueError, match="least_squares_gradient overflowed"):
        least_squares_gradient(X, w, y)


def test_complex_input_is_refused():
    with pytest.raises(ValueError, match="w must be real"):
        least_squares_gradient(np.ones((2, 2)), np.ones(2) * 1j, np.ones(2))
