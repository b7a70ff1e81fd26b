"""gradient_chain and least squares: the denominator-layout rules against independent oracles."""

import tracemalloc
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
from strategies import arrays, draw_chain
from tolerances import EXACT_ATOL, EXACT_RTOL, FD_ATOL, FD_RTOL, MATRIX_SHAPES, ORDER_RTOL

# Chains of Jacobian shapes (dims[i], dims[i+1]) for the sweeps: 1×1, column, row, square,
# non-square, and longer mixed chains.
CHAIN_DIMS = [(1, 1), (3, 1), (1, 3), (4, 4), (4, 2, 5), (2, 6, 1, 3), (5, 5, 5, 5), (1, 4, 3, 1)]


def _chain(rng, dims):
    return [rng.normal(size=(dims[i], dims[i + 1])) for i in range(len(dims) - 1)]


# --- gradient_chain -------------------------------------------------------------------------------

def test_gradient_chain_hand_computed():
    # y₁ ∈ ℝ² → y₂ = J y₁ ∈ ℝ³ with J = [[1, 0], [2, 1], [0, 3]]; z = sum(y₂) so ∂z/∂y₂ = (1, 1, 1).
    # ∂z/∂y₁ = Jᵀ (1, 1, 1) = (1 + 2 + 0, 0 + 1 + 3) = (3, 4).
    J = [[1, 0], [2, 1], [0, 3]]
    np.testing.assert_array_equal(gradient_chain([1, 1, 1], J), [3.0, 4.0])
    np.testing.assert_array_equal(gradient_chain([[1], [1], [1]], J), [[3.0], [4.0]])


def test_gradient_chain_two_steps_hand_computed():
    # y₁ ∈ ℝ¹ → y₂ = (2y₁, −y₁) → y₃ = (y₂₁ + y₂₂, 3y₂₂) → z with ∂z/∂y₃ = (1, 2).
    # ∂y₃/∂y₂ = [[1, 1], [0, 3]], ∂y₂/∂y₁ = [[2], [−1]]; y₃ = (y₁, −3y₁) so ∂y₃/∂y₁ = [[1], [−3]]
    # and ∂z/∂y₁ = 1·1 + 2·(−3) = −5. The written order is (∂y₃/∂y₂ ∂y₂/∂y₁)ᵀ ∂z/∂y₃.
    np.testing.assert_array_equal(gradient_chain([1, 2], [[1, 1], [0, 3]], [[2], [-1]]), [-5.0])


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


def _assert_adjoint(u, mats, v, Jt_u):
    J = reduce(np.matmul, mats)
    lhs = float(u.ravel() @ (J @ v.ravel()))  # ⟨u, J v⟩
    rhs = float(Jt_u.ravel() @ v.ravel())  # ⟨Jᵀu, v⟩
    scale = float(np.abs(u.ravel()) @ reduce(np.matmul, [np.abs(m) for m in mats]) @ np.abs(v.ravel()))
    assert abs(lhs - rhs) <= ORDER_RTOL * scale, (lhs, rhs, scale)


@pytest.mark.parametrize("dims", CHAIN_DIMS)
@pytest.mark.parametrize("column", [False, True], ids=["1-D", "column"])
def test_adjoint_identity(rng, dims, column):
    # ⟨u, J v⟩ = ⟨Jᵀ u, v⟩ for J = J₁J₂⋯ of shape (dims[0], dims[-1]); gradient_chain(u, …) = Jᵀu.
    mats = _chain(rng, dims)
    u = rng.normal(size=(dims[0], 1) if column else dims[0])
    v = rng.normal(size=dims[-1])
    Jt_u = gradient_chain(u, *mats)
    assert Jt_u.shape == ((dims[-1], 1) if column else (dims[-1],))
    _assert_adjoint(u, mats, v, Jt_u)


@settings(max_examples=60, deadline=None)
@given(data=st.data(), dims=st.lists(st.integers(1, 7), min_size=1, max_size=6))
def test_adjoint_identity_property(data, dims):
    mats = draw_chain(data, dims)
    u = data.draw(arrays(dims[0]))
    v = data.draw(arrays(dims[-1]))
    Jt_u = gradient_chain(u, *mats)
    if mats:
        _assert_adjoint(u, mats, v, Jt_u)
    else:
        np.testing.assert_array_equal(Jt_u, u)


def test_adjoint_test_catches_a_missing_transpose(rng):
    # The identity is not vacuous: J u in place of Jᵀ u (a square J, so the shapes fit) fails it.
    J, u, v = rng.normal(size=(4, 4)), rng.normal(size=4), rng.normal(size=4)
    with pytest.raises(AssertionError):
        _assert_adjoint(u, [J], v, J @ u)


@pytest.mark.parametrize("dims", CHAIN_DIMS)
def test_column_gradient_gives_column_result(rng, dims):
    mats = _chain(rng, dims)
    g = rng.normal(size=(dims[0], 1))
    got = gradient_chain(g, *mats)
    assert got.shape == (dims[-1], 1)
    np.testing.assert_allclose(got.ravel(), gradient_chain(g.ravel(), *mats), rtol=EXACT_RTOL,
                               atol=EXACT_ATOL)


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
    np.testing.assert_allclose(got, want, rtol=EXACT_RTOL, atol=EXACT_ATOL)


def test_never_allocates_a_jacobian_sized_array(rng):
    # Independent of how the products are spelt: forming any product of two n×n Jacobians needs
    # an n×n result (8 MB for n = 1000). Reverse accumulation needs only vectors (8 kB each).
    n = 1000
    mats = [rng.normal(size=(n, n)) for _ in range(3)]
    g = rng.normal(size=n)
    tracemalloc.start()
    try:
        gradient_chain(g, *mats)
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert peak < n * n * 8 / 10, f"peak {peak} bytes: an n×n intermediate was allocated"
    # The same measurement does see a product being formed (the test can fail):
    tracemalloc.start()
    try:
        jacobian_chain(*mats).T @ g
        _, peak_product = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert peak_product >= n * n * 8


@pytest.mark.parametrize("bad", [np.nan, np.inf, -np.inf])
@pytest.mark.parametrize("position", [0, 1, 2], ids=["grad", "jacobians[0]", "jacobians[1]"])
def test_non_finite_input_is_named_even_against_zeros(rng, bad, position):
    # Inputs are checked through the result (a scan would cost as much as the products). Worst case:
    # the bad entry only ever meets zeros, at a size that goes through BLAS. Read the rule as
    # gᵀ J₀ J₁: for a bad M[i, j], zero column i of the factor on its left and row j of the one
    # on its right (for g, a row vector, i = 0). IEEE: nan·0 = nan, inf·0 = nan.
    g, J0, J1 = rng.normal(size=300), rng.normal(size=(300, 200)), rng.normal(size=(200, 100))
    if position == 0:
        g[7] = bad
        J0[7, :] = 0.0
        where, where_column = r"grad\[7\]", r"grad\[7, 0\]"
    elif position == 1:
        J0[5, 7] = bad
        g[5] = 0.0
        J1[7, :] = 0.0
        where = where_column = r"jacobians\[0\]\[5, 7\]"
    else:
        J1[5, 7] = bad
        J0[:, 5] = 0.0
        where = where_column = r"jacobians\[1\]\[5, 7\]"
    with pytest.raises(ValueError, match=rf"must be finite; {where} = {bad}"):
        gradient_chain(g, J0, J1)
    with pytest.raises(ValueError, match=rf"must be finite; {where_column} = {bad}"):
        gradient_chain(g[:, None], J0, J1)


def test_gradient_chain_overflow_is_an_error():
    with pytest.raises(ValueError, match="gradient_chain overflowed"):
        gradient_chain(np.array([1e300]), np.array([[1e300]]))


def test_gradient_chain_shape_errors():
    with pytest.raises(ValueError, match=r"grad has shape \(3,\) but jacobians\[0\].*shape \(4, 2\)"):
        gradient_chain(np.ones(3), np.ones((4, 2)))
    with pytest.raises(ValueError, match=r"grad has shape \(3, 1\) but jacobians\[0\].*shape \(4, 2\)"):
        gradient_chain(np.ones((3, 1)), np.ones((4, 2)))
    with pytest.raises(ValueError, match=r"jacobians\[0\] has shape \(3, 2\) and jacobians\[1\] has "
                                         r"shape \(3, 1\)"):
        gradient_chain(np.ones(3), np.ones((3, 2)), np.ones((3, 1)))
    with pytest.raises(ValueError, match=r"grad must be a vector .*; got shape \(1, 3\)"):
        gradient_chain(np.ones((1, 3)), np.ones((3, 2)))
    with pytest.raises(ValueError, match=r"grad must be 1-D or 2-D; got shape \(\)"):
        gradient_chain(1.0, np.ones((1, 2)))
    with pytest.raises(ValueError, match=r"jacobians\[0\] must be 2-D; got shape \(2,\)"):
        gradient_chain(np.ones(2), np.ones(2))


def test_gradient_chain_reversed_order_is_refused(rng):
    # Jacobians are written outermost first, as in the rule; the reversed order does not fit.
    J_outer, J_inner = rng.normal(size=(5, 3)), rng.normal(size=(3, 2))
    gradient_chain(np.ones(5), J_outer, J_inner)
    with pytest.raises(ValueError, match=r"jacobians\[0\] has shape \(3, 2\) and jacobians\[1\] has "
                                         r"shape \(5, 3\)"):
        gradient_chain(np.ones(5), J_inner, J_outer)


@pytest.mark.parametrize("position", [0, 1, 2], ids=["grad", "jacobians[0]", "jacobians[1]"])
def test_gradient_chain_complex_empty_and_text_are_refused(position):
    name = ["grad", "jacobians[0]", "jacobians[1]"][position]
    pattern = name.replace("[", r"\[").replace("]", r"\]")

    def call(bad):
        args = [np.ones(2), np.ones((2, 2)), np.ones((2, 2))]
        args[position] = bad
        return gradient_chain(*args)

    with pytest.raises(ValueError, match=rf"{pattern} must be real"):
        call(np.ones(2) * 1j if position == 0 else np.ones((2, 2)) * 1j)
    with pytest.raises(ValueError, match=rf"{pattern} must not be empty"):
        call(np.ones(0) if position == 0 else np.ones((2, 0)))
    with pytest.raises(ValueError, match=rf"{pattern} must be a real numeric array"):
        call(["1", "2"] if position == 0 else [["1", "0"], ["0", "1"]])


def test_gradient_chain_integer_input_is_converted_not_wrapped():
    # int8: 100·100 = 10 000, which int8 arithmetic would wrap to 16.
    got = gradient_chain(np.array([100], dtype=np.int8), np.array([[100]], dtype=np.int8))
    np.testing.assert_array_equal(got, [10_000.0])
    g, J = np.array([1, 2, 3]), np.array([[1, 0], [2, 1], [0, 3]])
    np.testing.assert_array_equal(gradient_chain(g, J), gradient_chain(g * 1.0, J * 1.0))


# --- least squares --------------------------------------------------------------------------------

# Worked by hand: X = [[1, 2], [3, 4], [5, 6]], w = (1, −1), y = (0, 1, 2).
# Xw = (1 − 2, 3 − 4, 5 − 6) = (−1, −1, −1); z = Xw − y = (−1, −2, −3); J = ½(1 + 4 + 9) = 7.
# Xᵀz = (1·−1 + 3·−2 + 5·−3, 2·−1 + 4·−2 + 6·−3) = (−22, −28).
HAND_X = [[1, 2], [3, 4], [5, 6]]
HAND_W = [1, -1]
HAND_Y = [0, 1, 2]


def test_least_squares_hand_computed():
    loss = least_squares_loss(HAND_X, HAND_W, HAND_Y)
    assert type(loss) is float and loss == 7.0
    np.testing.assert_array_equal(least_squares_gradient(HAND_X, HAND_W, HAND_Y), [-22.0, -28.0])


def test_least_squares_columns_hand_computed():
    w, y = np.array(HAND_W)[:, None], np.array(HAND_Y)[:, None]
    assert least_squares_loss(HAND_X, w, y) == 7.0
    g = least_squares_gradient(HAND_X, w, y)
    assert g.shape == (2, 1)
    np.testing.assert_array_equal(g, [[-22.0], [-28.0]])


def test_least_squares_hand_computed_against_oracles():
    # The same hand case through autograd and finite differences, so the oracles are checked too.
    X, w, y = (np.array(a, dtype=float) for a in (HAND_X, HAND_W, HAND_Y))
    np.testing.assert_allclose(_ls_autograd(X, y)(w), [-22.0, -28.0], rtol=EXACT_RTOL)
    np.testing.assert_allclose(numeric_gradient(lambda w: least_squares_loss(X, w, y), w),
                               [-22.0, -28.0], rtol=FD_RTOL)


def _ls_autograd(X, y):
    return grad(lambda w: 0.5 * anp.sum((anp.dot(X, w) - y) ** 2))


@pytest.mark.parametrize("m,n", MATRIX_SHAPES + [(7, 2), (2, 7)])
@pytest.mark.parametrize("column", [False, True], ids=["1-D", "column"])
def test_least_squares_gradient_sweep(rng, m, n, column):
    X = rng.normal(size=(m, n))
    w = rng.normal(size=(n, 1) if column else n)
    y = rng.normal(size=(m, 1) if column else m)
    g = least_squares_gradient(X, w, y)
    assert g.shape == w.shape
    np.testing.assert_allclose(g, _ls_autograd(X, y)(w), rtol=EXACT_RTOL, atol=EXACT_ATOL)
    loss = lambda w: least_squares_loss(X, w, y)  # noqa: E731
    np.testing.assert_allclose(g, numeric_gradient(loss, w), rtol=FD_RTOL, atol=FD_ATOL)
    r = X @ w - y
    np.testing.assert_allclose(loss(w), 0.5 * float(np.sum(r * r)), rtol=EXACT_RTOL)


@settings(max_examples=60, deadline=None)
@given(data=st.data(), m=st.integers(1, 8), n=st.integers(1, 8))
def test_least_squares_property(data, m, n):
    X = data.draw(arrays((m, n)))
    w = data.draw(arrays(n))
    y = data.draw(arrays(m))
    r = X @ w - y
    # rounding of Xᵀ(Xw − y) is bounded by a few ulps of |X|ᵀ(|X||w| + |y|)
    scale = np.abs(X).T @ (np.abs(X) @ np.abs(w) + np.abs(y))
    error = np.abs(least_squares_gradient(X, w, y) - _ls_autograd(X, y)(w))
    assert np.all(error <= ORDER_RTOL * scale)
    assert least_squares_loss(X, w, y) == pytest.approx(0.5 * float(r @ r), rel=ORDER_RTOL, abs=1e-300)


def test_batched_gradient_is_sum_of_per_sample_gradients(rng):
    X, w, y = rng.normal(size=(6, 3)), rng.normal(size=3), rng.normal(size=6)
    per_sample = sum(least_squares_gradient(X[i : i + 1], w, y[i : i + 1]) for i in range(6))
    np.testing.assert_allclose(least_squares_gradient(X, w, y), per_sample, rtol=EXACT_RTOL,
                               atol=EXACT_ATOL)


def test_gradient_is_the_chain_rule_through_the_residual(rng):
    # ∂J/∂w = (∂z/∂w)ᵀ ∂J/∂z with z = Xw − y: ∂z/∂w = X, ∂J/∂z = z.
    X, w, y = rng.normal(size=(5, 3)), rng.normal(size=3), rng.normal(size=5)
    np.testing.assert_allclose(least_squares_gradient(X, w, y), gradient_chain(X @ w - y, X),
                               rtol=EXACT_RTOL, atol=EXACT_ATOL)


def test_gradient_vanishes_at_the_least_squares_solution(rng):
    X, y = rng.normal(size=(20, 4)), rng.normal(size=20)
    w_star = np.linalg.lstsq(X, y, rcond=None)[0]
    np.testing.assert_allclose(least_squares_gradient(X, w_star, y), 0.0, atol=1e-10)


def test_integer_input_is_converted_not_truncated():
    X = np.array([[1, 2], [3, 5]])
    w, y = np.array([1, 1]), np.array([0, 1])
    np.testing.assert_array_equal(least_squares_gradient(X, w, y),
                                  least_squares_gradient(X.astype(float), w * 1.0, y * 1.0))
    # Xw = (3, 8), z = (3, 7): J = ½(9 + 49) = 29.
    assert least_squares_loss(X, w, y) == 29.0
    # uint8: z = 1·1 − 3 = −2, which uint8 arithmetic would wrap to 254. J = 2, ∂J/∂w = 1·(−2).
    X8, w8, y8 = (np.array(a, dtype=np.uint8) for a in ([[1]], [1], [3]))
    assert least_squares_loss(X8, w8, y8) == 2.0
    np.testing.assert_array_equal(least_squares_gradient(X8, w8, y8), [-2.0])


# --- bad input ------------------------------------------------------------------------------------

LEAST_SQUARES = [least_squares_loss, least_squares_gradient]


@pytest.mark.parametrize("fn", LEAST_SQUARES)
def test_broadcasting_trap_is_refused(rng, fn):
    # w (n,) with y (m, 1): Xw has shape (m,), and Xw − y would broadcast to (m, m) silently.
    X, w, y = rng.normal(size=(5, 3)), rng.normal(size=3), rng.normal(size=(5, 1))
    with pytest.raises(ValueError, match=r"w has shape \(3,\) and y has shape \(5, 1\).*\(5, 5\)"):
        fn(X, w, y)
    with pytest.raises(ValueError, match=r"w has shape \(3, 1\) and y has shape \(5,\).*\(5, 5\)"):
        fn(X, w.reshape(3, 1), y.ravel())


@pytest.mark.parametrize("fn", LEAST_SQUARES)
def test_shape_mismatches_name_the_shapes(rng, fn):
    X = rng.normal(size=(5, 3))
    with pytest.raises(ValueError, match=r"X has shape \(5, 3\) and w has shape \(4,\)"):
        fn(X, np.ones(4), np.ones(5))
    with pytest.raises(ValueError, match=r"X has shape \(5, 3\) and w has shape \(2, 1\)"):
        fn(X, np.ones((2, 1)), np.ones((5, 1)))
    with pytest.raises(ValueError, match=r"X has shape \(5, 3\) and y has shape \(6,\)"):
        fn(X, np.ones(3), np.ones(6))
    with pytest.raises(ValueError, match=r"X must be 2-D; got shape \(5,\)"):
        fn(np.ones(5), np.ones(1), np.ones(5))
    with pytest.raises(ValueError, match=r"w must be a vector .*; got shape \(3, 2\)"):
        fn(X, np.ones((3, 2)), np.ones(5))
    with pytest.raises(ValueError, match=r"y must be a vector .*; got shape \(1, 5\)"):
        fn(X, np.ones(3), np.ones((1, 5)))


@pytest.mark.parametrize("fn", LEAST_SQUARES)
@pytest.mark.parametrize("arg", ["X", "w", "y"])
@pytest.mark.parametrize("bad", [np.nan, np.inf, -np.inf])
def test_non_finite_inputs_are_named(rng, fn, arg, bad):
    args = {"X": rng.normal(size=(4, 3)), "w": rng.normal(size=3), "y": rng.normal(size=4)}
    args[arg][1] = bad
    with pytest.raises(ValueError, match=rf"{arg} must be finite; {arg}\[1"):
        fn(**args)


@pytest.mark.parametrize("fn", LEAST_SQUARES)
@pytest.mark.parametrize("arg", ["X", "w", "y"])
@pytest.mark.parametrize("bad", [np.nan, np.inf])
def test_non_finite_meeting_zeros_at_blas_size(rng, fn, arg, bad):
    # X, w, y are checked through the result (a full scan of X would double the cost). The worst
    # case: a NaN in X in a column whose weight is 0, or a NaN weight whose column of X is 0, at
    # a size (300×200) where NumPy calls BLAS. IEEE gives nan·0 = nan; BLAS must not skip zeros.
    X, w, y = rng.normal(size=(300, 200)), rng.normal(size=200), rng.normal(size=300)
    if arg == "X":
        X[123, 17], w[17] = bad, 0.0
        where = where_column = r"X\[123, 17\]"
    elif arg == "w":
        w[17], X[:, 17] = bad, 0.0
        where, where_column = r"w\[17\]", r"w\[17, 0\]"
    else:
        y[123] = bad
        where, where_column = r"y\[123\]", r"y\[123, 0\]"
    with pytest.raises(ValueError, match=rf"{arg} must be finite; {where} = {bad}"):
        fn(X, w, y)
    with pytest.raises(ValueError, match=rf"{arg} must be finite; {where_column} = {bad}"):
        fn(X, w[:, None], y[:, None])


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


@pytest.mark.parametrize("fn", LEAST_SQUARES)
@pytest.mark.parametrize("arg", ["X", "w", "y"])
def test_least_squares_complex_empty_and_text_are_refused(fn, arg):
    def call(**bad):
        args = {"X": np.ones((2, 2)), "w": np.ones(2), "y": np.ones(2)} | bad
        return fn(**args)

    shape = (2, 2) if arg == "X" else (2,)
    with pytest.raises(ValueError, match=rf"{arg} must be real"):
        call(**{arg: np.ones(shape) * 1j})
    with pytest.raises(ValueError, match=rf"{arg} must not be empty; got shape"):
        call(**{arg: np.ones((2, 0) if arg == "X" else (0,))})
    with pytest.raises(ValueError, match=rf"{arg} must be a real numeric array"):
        call(**{arg: np.full(shape, "1")})
    # dates and durations are not numbers; a masked array would lose its mask in np.asarray
    with pytest.raises(ValueError, match=rf"{arg} must be a real numeric array"):
        call(**{arg: np.full(shape, np.timedelta64(1, "s"))})
    with pytest.raises(ValueError, match=rf"{arg} must be a real numeric array"):
        call(**{arg: np.full(shape, np.datetime64("2026-11-25"))})
    with pytest.raises(ValueError, match=rf"{arg} must be a real numeric array.*filled"):
        call(**{arg: np.ma.masked_array(np.ones(shape), mask=np.eye(*shape, dtype=bool)
                                        if arg == "X" else [True, False])})


# --- the one-pass blocked evaluation: Xᵀ(Xw − y) = Σ_b X_bᵀ(X_b w − y_b) -------------------------

import mathchain.scalar as scalar  # noqa: E402  (the private path selection is tested below)


def _every_other_column(X):
    """A view of X whose rows and columns both have strides > one element: BLAS cannot read it."""
    X = np.asarray(X, dtype=float)
    wide = np.zeros((X.shape[0], 2 * X.shape[1]))
    wide[:, ::2] = X
    view = wide[:, ::2]
    assert not view.flags.c_contiguous and not view.flags.f_contiguous
    return view


def _relative_difference(a, b):
    return float(np.linalg.norm(np.ravel(a) - np.ravel(b)) / np.linalg.norm(np.ravel(b)))


def test_one_pass_hand_computed_one_row_per_block(monkeypatch):
    # Blocks of one row: Σᵢ xᵢ(xᵢᵀw − yᵢ) = (1·−1 + 3·−2 + 5·−3, 2·−1 + 4·−2 + 6·−3) = (−22, −28),
    # J = ½(1 + 4 + 9) = 7; small integers, so every order of the sums gives them exactly.
    monkeypatch.setattr(scalar, "_BLOCK_BYTES", 16)  # 16 bytes // (8 · n = 16) = 1 row per block
    X = _every_other_column(HAND_X)
    assert scalar._use_one_pass(X)
    np.testing.assert_array_equal(least_squares_gradient(X, HAND_W, HAND_Y), [-22.0, -28.0])
    w, y = np.array(HAND_W)[:, None], np.array(HAND_Y)[:, None]
    np.testing.assert_array_equal(least_squares_gradient(X, w, y), [[-22.0], [-28.0]])
    assert least_squares_loss(X, HAND_W, HAND_Y) == 7.0
    assert least_squares_loss(X, w, y) == 7.0


@pytest.mark.parametrize("rows_per_block", [1, 7, 64, 1000])
@pytest.mark.parametrize("column", [False, True], ids=["1-D", "column"])
def test_one_pass_matches_the_plain_expression(rng, monkeypatch, rows_per_block, column):
    # Blocks of 1 row, a block size that does not divide m (last block short), and one block.
    m, n = 300, 23
    monkeypatch.setattr(scalar, "_BLOCK_BYTES", 8 * n * rows_per_block)
    X = _every_other_column(rng.normal(size=(m, n)))
    w = rng.normal(size=(n, 1) if column else n)
    y = rng.normal(size=(m, 1) if column else m)
    assert scalar._use_one_pass(X) == (rows_per_block < m / 2)
    Xc = np.ascontiguousarray(X)
    g = least_squares_gradient(X, w, y)
    assert g.shape == w.shape
    assert _relative_difference(g, Xc.T @ (Xc @ w - y)) <= 1e-12
    r = Xc @ w - y
    assert abs(least_squares_loss(X, w, y) - 0.5 * float(np.vdot(r, r))) <= 1e-12 * float(np.vdot(r, r))


def test_one_pass_forced_on_contiguous_x_matches(rng):
    # The same loop on the layouts that take the plain expression (no copy of the blocks there).
    X, w, y = rng.normal(size=(5000, 60)), rng.normal(size=60), rng.normal(size=5000)
    want = X.T @ (X @ w - y)
    for layout in (X, np.asfortranarray(X), np.ascontiguousarray(X.T).T):
        g, loss = scalar._one_pass(layout, w, y)
        assert _relative_difference(g, want) <= 1e-12
        assert loss == pytest.approx(0.5 * float(np.sum((X @ w - y) ** 2)), rel=1e-12)


def _layouts(X):
    """The same matrix in the layouts a caller may pass (values equal to X's)."""
    wide = np.zeros((2 * X.shape[0], X.shape[1]))
    wide[::2] = X
    return {
        "C order": np.ascontiguousarray(X),
        "Fortran order": np.asfortranarray(X),
        "transposed view": np.ascontiguousarray(X.T).T,
        "rows with a step": wide[::2],
        "columns with a step": _every_other_column(X),
        "reversed rows": np.ascontiguousarray(X[::-1])[::-1],
    }


@pytest.mark.parametrize("layout", ["C order", "Fortran order", "transposed view", "rows with a step",
                                    "columns with a step", "reversed rows"])
@pytest.mark.parametrize("column", [False, True], ids=["1-D", "column"])
def test_every_layout_gives_the_same_result(rng, layout, column):
    # 2000×150 (2.4 MB) is larger than two blocks on any machine (a block is at most half of L2).
    m, n = 2000, 150
    X = rng.normal(size=(m, n))
    w = rng.normal(size=(n, 1) if column else n)
    y = rng.normal(size=(m, 1) if column else m)
    Xl = _layouts(X)[layout]
    np.testing.assert_array_equal(Xl, X)
    want = X.T @ (X @ w - y)
    assert _relative_difference(least_squares_gradient(Xl, w, y), want) <= 1e-12
    r = X @ w - y
    assert least_squares_loss(Xl, w, y) == pytest.approx(0.5 * float(np.vdot(r, r)), rel=1e-12)


def test_path_follows_the_layout(rng, monkeypatch):
    # One pass for rows in place from _ONE_PASS_MIN_BYTES up, for layouts BLAS cannot read from
    # two blocks up; the plain line for Fortran order, transposed views and reversed rows.
    X = rng.normal(size=(4 * scalar._BLOCK_BYTES // (8 * 50), 50))
    layouts = _layouts(X)
    chosen = {name: scalar._use_one_pass(a) for name, a in layouts.items()}
    assert chosen == {"C order": False, "Fortran order": False, "transposed view": False,
                      "rows with a step": False, "columns with a step": True,
                      "reversed rows": False}, chosen
    monkeypatch.setattr(scalar, "_ONE_PASS_MIN_BYTES", X.nbytes)
    chosen = {name: scalar._use_one_pass(a) for name, a in layouts.items()}
    assert chosen == {"C order": True, "Fortran order": False, "transposed view": False,
                      "rows with a step": True, "columns with a step": True,
                      "reversed rows": False}, chosen
    assert not scalar._use_one_pass(_every_other_column(rng.normal(size=(10, 5))))  # small
    assert not scalar._use_one_pass(rng.normal(size=(10, 5)))


@pytest.mark.parametrize("workers", [1, 2, 3, 5])
def test_one_pass_split_over_threads(rng, monkeypatch, workers):
    # The rows are split into one part per core, summed in their threads and added in a fixed order:
    # the result does not depend on the number of parts beyond rounding, nor on the scheduling.
    m, n = 1003, 40
    monkeypatch.setattr(scalar, "_BLOCK_BYTES", 8 * n * 50)  # 50 rows per block
    monkeypatch.setattr(scalar, "_WORKERS", workers)
    monkeypatch.setattr(scalar, "_pool", None)
    X, w, y = rng.normal(size=(m, n)), rng.normal(size=n), rng.normal(size=m)
    g, loss = scalar._one_pass(X, w, y)
    want = X.T @ (X @ w - y)
    assert _relative_difference(g, want) <= 1e-12
    assert loss == pytest.approx(0.5 * float(np.sum((X @ w - y) ** 2)), rel=1e-12)
    for _ in range(3):
        again, loss_again = scalar._one_pass(X, w, y)
        np.testing.assert_array_equal(again, g)
        assert loss_again == loss
    if scalar._pool is not None:
        scalar._pool.shutdown()


def test_one_pass_reads_x_in_blocks_without_copying_it(rng):
    # A copy of X (np.ascontiguousarray, what @ might do) would allocate X.nbytes; the blocked pass
    # allocates one block (at most half of L2) per thread, and vectors.
    X = _every_other_column(rng.normal(size=(20_000, 100)))  # a 16 MB view
    w, y = rng.normal(size=100), rng.normal(size=20_000)
    tracemalloc.start()
    try:
        least_squares_gradient(X, w, y)
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    bound = scalar._WORKERS * scalar._BLOCK_BYTES + 4 * X.shape[0] * 8
    assert peak <= bound < X.nbytes / 2, (peak, bound)
    tracemalloc.start()  # the measurement sees a copy of X (the test can fail)
    try:
        np.ascontiguousarray(X)
        _, peak_copy = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert peak_copy >= X.nbytes


@pytest.mark.parametrize("fn", LEAST_SQUARES)
@pytest.mark.parametrize("arg", ["X", "w", "y"])
@pytest.mark.parametrize("bad", [np.nan, np.inf, -np.inf])
@pytest.mark.parametrize("where", ["first block", "last block"])
def test_one_pass_non_finite_is_named(rng, fn, arg, bad, where):
    # The blocked path, against zeros as in test_non_finite_meeting_zeros_at_blas_size: row 3 is in
    # the first block, row m − 3 in the last (short) block.
    m, n = 3001, 200
    X, w, y = rng.normal(size=(m, n)), rng.normal(size=n), rng.normal(size=m)
    i = 3 if where == "first block" else m - 3
    if arg == "X":
        X[i, 17], w[17] = bad, 0.0
        pattern = rf"X\[{i}, 17\] = {bad}"
    elif arg == "w":
        w[17], X[:, 17] = bad, 0.0
        pattern = rf"w\[17\] = {bad}"
    else:
        y[i] = bad
        pattern = rf"y\[{i}\] = {bad}"
    X = _every_other_column(X)
    assert scalar._use_one_pass(X) and m // (scalar._BLOCK_BYTES // (8 * n)) >= 2  # several blocks
    with pytest.raises(ValueError, match=rf"{arg} must be finite; {pattern}"):
        fn(X, w, y)


def test_one_pass_overflow_is_an_error(monkeypatch):
    # One row per block; each block's term is finite but their sum over three blocks overflows:
    # ∂J/∂w₁ = 3 · 1e200 · 1e108 = 3e308, J = 3 · ½ (1.2e154)² ≈ 2.2e308 (the largest double is 1.8e308).
    monkeypatch.setattr(scalar, "_BLOCK_BYTES", 16)
    X = _every_other_column([[1e200, 0.0], [1e200, 0.0], [1e200, 0.0]])
    assert scalar._use_one_pass(X)
    with pytest.raises(ValueError, match="least_squares_gradient overflowed"):
        least_squares_gradient(X, [1e-92, 0.0], [0.0, 0.0, 0.0])
    with pytest.raises(ValueError, match="least_squares_loss overflowed"):
        least_squares_loss(X, [1.2e-46, 0.0], [0.0, 0.0, 0.0])


@pytest.mark.parametrize("fn", LEAST_SQUARES)
def test_one_pass_keeps_the_refusals(rng, fn, monkeypatch):
    monkeypatch.setattr(scalar, "_BLOCK_BYTES", 8 * 3)
    X = _every_other_column(rng.normal(size=(5, 3)))
    assert scalar._use_one_pass(X)
    with pytest.raises(ValueError, match=r"w has shape \(3,\) and y has shape \(5, 1\).*\(5, 5\)"):
        fn(X, rng.normal(size=3), rng.normal(size=(5, 1)))
    with pytest.raises(ValueError, match=r"X has shape \(5, 3\) and y has shape \(6,\)"):
        fn(X, np.ones(3), np.ones(6))


def test_one_pass_in_a_forked_child(rng, monkeypatch):
    # A child forked after the thread pool started has none of its threads: it must start its own
    # pool, not wait forever for threads that do not exist.
    import multiprocessing

    m, n = 1000, 40
    X, w, y = rng.normal(size=(m, n)), rng.normal(size=n), rng.normal(size=m)
    monkeypatch.setattr(scalar, "_BLOCK_BYTES", 8 * n * 50)
    monkeypatch.setattr(scalar, "_WORKERS", 2)
    scalar._one_pass(X, w, y)  # starts the pool in this process
    assert scalar._pool is not None
    child = multiprocessing.get_context("fork").Process(target=_one_pass_in_child, args=(X, w, y))
    child.start()
    child.join(timeout=60)
    if child.is_alive():
        child.kill()
        pytest.fail("the one pass hung in a forked child")
    assert child.exitcode == 0


def _one_pass_in_child(X, w, y):
    scalar._BLOCK_BYTES = 8 * X.shape[1] * 50  # 50 rows per block: several parts
    scalar._WORKERS = 2
    g, _ = scalar._one_pass(X, w, y)
    raise SystemExit(0 if _relative_difference(g, X.T @ (X @ w - y)) <= 1e-12 else 1)


# --- the plan: the plain line or the one pass, chosen by measuring ---------------------------------

def _fake_paths(monkeypatch, cost):
    """Replace the two evaluations by spies that advance a fake clock by ``cost[name]`` seconds (a
    number, or a list: one per call of that evaluation, in order)."""
    now, calls = [0.0], []
    real = dict(scalar._PATHS)

    def spy(name):
        def run(X, w, y):
            c = cost[name]
            now[0] += c if isinstance(c, float) else c[calls.count(name)]
            calls.append(name)
            return real[name](X, w, y)
        return run

    monkeypatch.setattr(scalar, "_PATHS", {name: spy(name) for name in real})
    monkeypatch.setattr(scalar, "_clock", lambda: now[0])
    monkeypatch.setattr(scalar, "_plans", {})
    monkeypatch.setattr(scalar, "_PLAN_MIN_BYTES", 0)
    monkeypatch.delenv(scalar._PLAN_ENV, raising=False)
    return calls


@pytest.mark.parametrize("faster", ["plain", "blocked"])
def test_plan_takes_the_faster_by_the_clock_and_remembers_it(rng, monkeypatch, faster):
    calls = _fake_paths(monkeypatch, {"plain": 2.0 if faster == "blocked" else 1.0,
                                      "blocked": 2.0 if faster == "plain" else 1.0})
    X, w, y = rng.normal(size=(300, 20)), rng.normal(size=20), rng.normal(size=300)
    least_squares_gradient(X, w, y)
    rounds = scalar._PLAN_ROUNDS
    assert calls == ["blocked", "plain"] * rounds  # the first call of the class times both, in turns
    assert scalar._plans == {scalar._shape_class(X): faster}
    calls.clear()
    for shape in ((300, 20), (260, 17), (511, 31)):  # the same class: within the same powers of two
        least_squares_gradient(rng.normal(size=shape), rng.normal(size=shape[1]),
                               rng.normal(size=shape[0]))
    assert calls == [faster] * 3


def test_plan_counts_the_fastest_time_of_each(rng, monkeypatch):
    # The plain line is disturbed once (5 s), then takes 1 s; the one pass takes 2 s twice. The
    # fastest times (1 < 2) choose the plain line; the first timing alone or the means would not.
    monkeypatch.setattr(scalar, "_PLAN_ROUNDS", 2)
    _fake_paths(monkeypatch, {"plain": [5.0, 1.0], "blocked": [2.0, 2.0]})
    X, w, y = rng.normal(size=(300, 20)), rng.normal(size=20), rng.normal(size=300)
    least_squares_gradient(X, w, y)
    assert scalar._plans == {scalar._shape_class(X): "plain"}


def test_plan_is_per_shape_class_and_layout(rng, monkeypatch):
    calls = _fake_paths(monkeypatch, {"plain": 1.0, "blocked": 2.0})
    X, w, y = rng.normal(size=(300, 20)), rng.normal(size=20), rng.normal(size=300)
    for a in (X, X[:, :10], X[:100], np.asfortranarray(X)):  # n halved, m a third, the other layout
        calls.clear()
        least_squares_gradient(a, w[: a.shape[1]], y[: a.shape[0]])
        assert calls == ["blocked", "plain"] * scalar._PLAN_ROUNDS, a.shape
    assert len(scalar._plans) == 4
    assert set(scalar._plans.values()) == {"plain"}


def test_plan_below_the_threshold_is_the_plain_line_unmeasured(rng, monkeypatch):
    calls = _fake_paths(monkeypatch, {"plain": 2.0, "blocked": 1.0})
    X, w, y = rng.normal(size=(300, 20)), rng.normal(size=20), rng.normal(size=300)
    monkeypatch.setattr(scalar, "_PLAN_MIN_BYTES", X.nbytes + 1)
    least_squares_gradient(X, w, y)
    assert calls == [] and scalar._plans == {}  # the plain line, called directly


@pytest.mark.parametrize("column", [False, True], ids=["1-D", "column"])
def test_forced_paths_agree_with_per_sample_sums(rng, monkeypatch, column):
    # Both paths, forced, against Σᵢ xᵢ(xᵢᵀw − yᵢ) summed sample by sample (no BLAS product of X),
    # on blocks that do not divide m; and each within 1e-12 of the other.
    m, n = 1001, 37
    monkeypatch.setattr(scalar, "_BLOCK_BYTES", 8 * n * 64)  # 64 rows per block
    monkeypatch.setattr(scalar, "_WORKERS", 2)
    monkeypatch.setattr(scalar, "_pool", None)
    X = rng.normal(size=(m, n))
    w = rng.normal(size=(n, 1) if column else n)
    y = rng.normal(size=(m, 1) if column else m)
    want = np.zeros(n)
    for x_i, y_i in zip(X, y.reshape(-1), strict=True):
        want += x_i * (float(np.dot(x_i, w.reshape(-1))) - y_i)
    calls = _fake_paths(monkeypatch, {"plain": 1.0, "blocked": 1.0})
    got = {}
    for path in ("plain", "blocked"):
        monkeypatch.setenv(scalar._PLAN_ENV, path)
        calls.clear()
        got[path] = least_squares_gradient(X, w, y)
        assert calls == [path]
        assert got[path].shape == w.shape
        assert _relative_difference(got[path], want) <= 1e-12
    assert _relative_difference(got["blocked"], got["plain"]) <= 1e-12
    assert scalar._plans == {}  # a forced path is not a measurement


def test_forced_path_must_be_named(rng, monkeypatch):
    monkeypatch.setenv(scalar._PLAN_ENV, "fast")
    monkeypatch.setattr(scalar, "_PLAN_MIN_BYTES", 0)
    with pytest.raises(ValueError, match="MATHCHAIN_LEAST_SQUARES must be 'plain' or 'blocked'"):
        least_squares_gradient(rng.normal(size=(5, 2)), np.zeros(2), np.zeros(5))
