"""numeric_jacobian, numeric_gradient, check_gradient and numeric_hessian against hand-computed
derivatives and autograd.

These are the package's own oracle, so they are checked against oracles that owe nothing to them:
derivatives worked by hand in the comments, and autograd.
"""

import autograd.numpy as anp
import numpy as np
import pytest
from autograd import grad, hessian, jacobian

from mathchain import check_gradient, numeric_gradient, numeric_hessian, numeric_jacobian
from tolerances import FD_ATOL, FD_RTOL, HESSIAN_ATOL, HESSIAN_RTOL, MATRIX_SHAPES

# Shapes of x and of f(x) for the sweeps: scalar (0-D), one-element, vectors, 1×1, row, column,
# square and non-square matrices.
X_SHAPES = [(), (1,), (4,), (1, 1), (1, 4), (4, 1), (3, 3), (2, 5)]
OUT_SHAPES = [(), (1,), (3,), (1, 1), (2, 3), (3, 1)]


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


def test_differences_are_central_and_use_eps():
    # For f(x) = x³ at x = 1 with a deliberately large eps = 0.1:
    #   central  [(1.1)³ − (0.9)³] / 0.2 = (1.331 − 0.729) / 0.2 = 3.01   (= 3x² + eps²)
    #   forward  [(1.1)³ − 1] / 0.1 = 3.31,  backward [1 − (0.9)³] / 0.1 = 2.71.
    J = numeric_jacobian(lambda x: x**3, np.array([1.0]), eps=0.1)
    np.testing.assert_allclose(J, [[3.01]], rtol=1e-12)
    g = numeric_gradient(lambda x: np.sum(x**3), np.array([1.0]), eps=0.1)
    np.testing.assert_allclose(g, [3.01], rtol=1e-12)


def test_jacobian_matrix_input_and_output_c_order(rng):
    # F(X) = X ⊙ X for X of shape (2, 3): ∂vec(F)/∂vec(X) = diag(2 vec(X)) with C-order vec.
    X = rng.normal(size=(2, 3))
    J = numeric_jacobian(lambda X: X * X, X)
    np.testing.assert_allclose(J, np.diag(2 * X.ravel(order="C")), rtol=FD_RTOL, atol=FD_ATOL)


def test_jacobian_of_transpose_is_the_c_order_permutation():
    # F(X) = Xᵀ for X of shape (2, 3). In C order vec(X) = (x00, x01, x02, x10, x11, x12) and
    # vec(Xᵀ) = (x00, x10, x01, x11, x02, x12), so row r of J has its 1 at the input position:
    # r: 0→0, 1→3, 2→1, 3→4, 4→2, 5→5. (Fortran-order flattening would give a different matrix.)
    J = numeric_jacobian(lambda X: X.T, np.arange(6.0).reshape(2, 3))
    want = np.zeros((6, 6))
    for r, c in enumerate([0, 3, 1, 4, 2, 5]):
        want[r, c] = 1.0
    np.testing.assert_allclose(J, want, atol=FD_ATOL)


def test_jacobian_matrix_product_ordering(rng):
    # F(W) = A W: vec_r(AW) = (A ⊗ I) vec_r(W) for C-order (row-major) flattening.
    A, W = rng.normal(size=(4, 2)), rng.normal(size=(2, 3))
    J = numeric_jacobian(lambda W: A @ W, W)
    np.testing.assert_allclose(J, np.kron(A, np.eye(3)), rtol=FD_RTOL, atol=FD_ATOL)


@pytest.mark.parametrize("x", [0.7, np.float64(0.7), np.array(0.7), np.array([0.7]), [[0.7]]])
def test_jacobian_scalar_to_scalar(x):
    J = numeric_jacobian(np.sin, x)
    assert J.shape == (1, 1)
    np.testing.assert_allclose(J, [[np.cos(0.7)]], rtol=FD_RTOL)


@pytest.mark.parametrize("x_shape", X_SHAPES)
@pytest.mark.parametrize("out_shape", OUT_SHAPES)
def test_jacobian_shape_sweep_against_autograd(rng, x_shape, out_shape):
    # Scalar, vector and matrix x and f(x): numerator layout (f(x).size, x.size), C order.
    n_in, n_out = int(np.prod(x_shape)), int(np.prod(out_shape))
    M = rng.normal(size=(n_out, n_in))

    def f(x):
        return anp.reshape(anp.tanh(anp.dot(M, anp.sin(anp.reshape(x, -1)))), out_shape)

    x = rng.normal(size=x_shape)
    J = numeric_jacobian(f, x)
    assert J.shape == (n_out, n_in)
    want = np.reshape(jacobian(f)(x), (n_out, n_in))  # autograd: f(x).shape + x.shape, C order
    np.testing.assert_allclose(J, want, rtol=FD_RTOL, atol=FD_ATOL)


def test_jacobian_costs_2n_plus_1_evaluations(rng):
    calls = []
    numeric_jacobian(lambda x: calls.append(1) or np.sin(x), rng.normal(size=(2, 3)))
    assert len(calls) == 2 * 6 + 1


def test_jacobian_converts_integer_input():
    # An integer x must not truncate the ±eps steps to 0.
    x = np.array([1, 2, 3])
    J = numeric_jacobian(lambda x: x**2, x)
    np.testing.assert_allclose(J, np.diag([2.0, 4.0, 6.0]), rtol=FD_RTOL, atol=FD_ATOL)
    np.testing.assert_array_equal(J, numeric_jacobian(lambda x: x**2, x.astype(float)))


def test_jacobian_does_not_modify_x(rng):
    x = rng.normal(size=4)
    before = x.copy()
    numeric_jacobian(lambda v: v * 3.0, x)
    np.testing.assert_array_equal(x, before)


def test_jacobian_f_changing_shape_is_refused():
    # f returns 3 entries at x but 1 entry at x ± eps: no Jacobian exists.
    def f(x):
        return np.ones(3) if x[0] == 1.0 else np.ones(1)

    with pytest.raises(ValueError, match=r"same shape near x: f\(x\) has shape \(3,\)"):
        numeric_jacobian(f, np.array([1.0, 2.0]))


# --- numeric_gradient -----------------------------------------------------------------------------

def test_gradient_hand_computed_quadratic():
    # f(x) = xᵀ A x has ∇f = (A + Aᵀ) x; A = [[1, 2], [0, 3]], x = (1, 1):
    # A + Aᵀ = [[2, 2], [2, 6]], so ∇f = (4, 8).
    A = np.array([[1.0, 2.0], [0.0, 3.0]])
    g = numeric_gradient(lambda x: x @ A @ x, np.array([1.0, 1.0]))
    np.testing.assert_allclose(g, [4.0, 8.0], rtol=FD_RTOL)


def test_gradient_of_matrix_variable_hand_computed():
    # f(X) = aᵀ X b = Σ_ij a_i X_ij b_j has ∂f/∂X = a bᵀ (denominator layout: shape of X).
    # a = (1, 2), b = (3, 4, 5): a bᵀ = [[3, 4, 5], [6, 8, 10]].
    a, b = np.array([1.0, 2.0]), np.array([3.0, 4.0, 5.0])
    g = numeric_gradient(lambda X: a @ X @ b, np.zeros((2, 3)))
    np.testing.assert_allclose(g, [[3.0, 4.0, 5.0], [6.0, 8.0, 10.0]], rtol=FD_RTOL)


@pytest.mark.parametrize("shape", X_SHAPES + MATRIX_SHAPES)
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


@pytest.mark.parametrize("wrap", [float, np.array, lambda s: np.array([s]), lambda s: np.array([[s]])])
def test_gradient_accepts_any_one_element_output(wrap):
    # A one-element array counts as a scalar: f = x₀² + x₁², ∇f = (2x₀, 2x₁) = (2, −4).
    g = numeric_gradient(lambda x: wrap(np.sum(x**2)), np.array([1.0, -2.0]))
    np.testing.assert_allclose(g, [2.0, -4.0], rtol=FD_RTOL)


@pytest.mark.parametrize("out, shape", [(lambda x: x * 2, r"\(2,\)"),
                                        (lambda x: np.outer(x, x), r"\(2, 2\)")])
def test_gradient_rejects_vector_valued_f(out, shape):
    with pytest.raises(ValueError, match=rf"scalar-valued f.*shape {shape}"):
        numeric_gradient(out, np.array([1.0, 2.0]))


def test_gradient_of_integer_x_equals_gradient_of_float_x():
    # Converted, not truncated: f = Σ x³ at x = (1, 2, 3) has ∇f = 3x² = (3, 12, 27).
    f = lambda x: np.sum(x**3)  # noqa: E731
    x = np.array([1, 2, 3])
    g = numeric_gradient(f, x)
    assert g.dtype == np.float64
    np.testing.assert_array_equal(g, numeric_gradient(f, x.astype(float)))
    np.testing.assert_allclose(g, [3.0, 12.0, 27.0], rtol=FD_RTOL)


# --- check_gradient -------------------------------------------------------------------------------

def test_check_gradient_accepts_the_right_gradient(rng):
    A = rng.normal(size=(4, 4))  # not symmetric
    x = rng.normal(size=4)
    err = check_gradient(lambda x: x @ A @ x, lambda x: (A + A.T) @ x, x)
    assert isinstance(err, float)
    assert 0 <= err < FD_RTOL


def test_check_gradient_rejects_2Ax_for_nonsymmetric_A():
    A = np.array([[1.0, 5.0], [0.0, 2.0]])
    x = np.array([1.0, 2.0])
    # true ∇ = (A + Aᵀ)x = [[2, 5], [5, 4]] (1, 2) = (12, 13); the plausible wrong answer
    # 2Ax = 2 (11, 4) = (22, 8). Differences (10, 5): index 0 is the worst. (At x = (1, 1) the two
    # differences tie at 5 and rounding in the numeric gradient picks either.)
    with pytest.raises(AssertionError) as info:
        check_gradient(lambda x: x @ A @ x, lambda x: 2 * A @ x, x)
    msg = str(info.value)
    assert "index (0,)" in msg and "analytic 22," in msg and "numeric 12" in msg
    assert check_gradient(lambda x: x @ A @ x, lambda x: (A + A.T) @ x, x) < FD_RTOL


def test_check_gradient_rejects_missing_transpose(rng):
    # J(w) = ½‖Xw − y‖²: the gradient Xᵀ(Xw − y) written without the transpose does not even fit
    # for non-square X, so use a square non-symmetric X where the shapes would not warn.
    X, y, w = rng.normal(size=(3, 3)), rng.normal(size=3), rng.normal(size=3)
    loss = lambda w: 0.5 * np.sum((X @ w - y) ** 2)  # noqa: E731
    with pytest.raises(AssertionError, match="gradient check failed"):
        check_gradient(loss, lambda w: X @ (X @ w - y), w)
    assert check_gradient(loss, lambda w: X.T @ (X @ w - y), w) < FD_RTOL


def test_check_gradient_returns_the_relative_error_and_honours_rtol():
    # f = x·x at x = (3, 4): ∇f = (6, 8). A gradient off by 0.008 in entry 1 has error
    # 0.008 / max(1, 8) = 1e-3: accepted with rtol = 1e-2 (and the error returned), refused at 1e-6.
    f = lambda x: x @ x  # noqa: E731
    slightly_wrong = lambda x: 2 * x + np.array([0.0, 0.008])  # noqa: E731
    x = np.array([3.0, 4.0])
    assert check_gradient(f, slightly_wrong, x, rtol=1e-2) == pytest.approx(1e-3, rel=1e-6)
    with pytest.raises(AssertionError, match=r"error 0\.001 > rtol 1e-06; worst entry at index \(1,\)"):
        check_gradient(f, slightly_wrong, x)


def test_check_gradient_is_relative_for_large_gradients(rng):
    # ∇ of 1e6·Σx³ is ~1e6: absolute rounding noise ~1e-4 must not fail the right gradient.
    x = rng.normal(size=5)
    assert check_gradient(lambda x: 1e6 * np.sum(x**3), lambda x: 3e6 * x**2, x) < FD_RTOL


def test_check_gradient_zero_gradient_is_not_failed_by_noise():
    # At a minimum the exact gradient is 0 and the numeric one is rounding noise.
    err = check_gradient(lambda x: np.sum((x - 3.0) ** 2), lambda x: 2 * (x - 3.0), np.full(3, 3.0))
    assert err < FD_RTOL


@pytest.mark.parametrize("shape", MATRIX_SHAPES)
def test_check_gradient_shape_sweep_and_transposed_gradient(rng, shape):
    # f(X) = Σ C ⊙ X³ / 3 has ∂f/∂X = C ⊙ X² (shape of X). Its transpose is a plausible slip:
    # refused by shape for non-square X, by value for square X, and harmless only for 1×1.
    C, X = rng.normal(size=shape), rng.normal(size=shape)
    f = lambda X: np.sum(C * X**3) / 3  # noqa: E731
    assert check_gradient(f, lambda X: C * X**2, X) < FD_RTOL
    transposed = lambda X: (C * X**2).T  # noqa: E731
    if shape == (1, 1):
        assert check_gradient(f, transposed, X) < FD_RTOL
    elif shape[0] == shape[1]:
        with pytest.raises(AssertionError, match="gradient check failed"):
            check_gradient(f, transposed, X)
    else:
        with pytest.raises(ValueError, match=rf"grad\(x\) has shape \({shape[1]}, {shape[0]}\)"):
            check_gradient(f, transposed, X)


def test_check_gradient_names_shape_mismatch():
    with pytest.raises(ValueError, match=r"grad\(x\) has shape \(1, 2\) but x has shape \(2,\)"):
        check_gradient(lambda x: np.sum(x**2), lambda x: (2 * x)[None, :], np.array([1.0, 2.0]))


def test_check_gradient_matrix_index_in_message():
    X = np.zeros((2, 2))
    wrong = lambda X: np.array([[0.0, 0.0], [0.0, 5.0]])  # noqa: E731
    with pytest.raises(AssertionError, match=r"index \(1, 1\): analytic 5, numeric 0(\n|$)"):
        check_gradient(lambda X: np.sum(X**2), wrong, X)


def test_check_gradient_rejects_vector_valued_f():
    with pytest.raises(ValueError, match="scalar-valued f"):
        check_gradient(lambda x: 2 * x, lambda x: 2 * np.ones_like(x), np.ones(2))


def test_check_gradient_integer_x_is_converted():
    # x = (1, 2) as integers: ∇(Σx³) = (3, 12); truncated steps would give a numeric gradient of 0.
    assert check_gradient(lambda x: np.sum(x**3), lambda x: 3 * x**2, np.array([1, 2])) < FD_RTOL


def test_check_gradient_does_not_let_grad_modify_x():
    x = np.array([1.0, 2.0])

    def grad_that_scribbles(v):
        g = 2 * v
        v[:] = 100.0
        return g

    assert check_gradient(lambda v: v @ v, grad_that_scribbles, x) < FD_RTOL
    np.testing.assert_array_equal(x, [1.0, 2.0])


# --- bad input: every argument of every function --------------------------------------------------

def _call(name, x=(1.0, 2.0), f=np.sum, g=np.ones_like, **kw):
    """Call one of the four functions with otherwise valid arguments."""
    if name == "numeric_jacobian":
        return numeric_jacobian(f, x, **kw)
    if name == "numeric_gradient":
        return numeric_gradient(f, x, **kw)
    if name == "numeric_hessian":
        return numeric_hessian(f, x, **kw)
    return check_gradient(f, g, x, **kw)


FUNCTIONS = ["numeric_jacobian", "numeric_gradient", "check_gradient", "numeric_hessian"]


@pytest.mark.parametrize("name", FUNCTIONS)
@pytest.mark.parametrize("eps", [0, 0.0, -1e-6, np.nan, np.inf, -np.inf, "small", "1e-6", True, None])
def test_eps_must_be_positive(name, eps):
    with pytest.raises(ValueError, match="eps must be a positive"):
        _call(name, eps=eps)


@pytest.mark.parametrize("rtol", [0, -1e-6, np.nan, np.inf, "tight", "0.5", True])
def test_rtol_must_be_positive(rtol):
    with pytest.raises(ValueError, match="rtol must be a positive"):
        check_gradient(np.sum, np.ones_like, np.array([1.0, 2.0]), rtol=rtol)


@pytest.mark.parametrize("name", FUNCTIONS)
@pytest.mark.parametrize("bad", [np.nan, np.inf, -np.inf])
def test_non_finite_x_is_refused(name, bad):
    with pytest.raises(ValueError, match=rf"x must be finite; x\[1\] = {bad}"):
        _call(name, x=np.array([1.0, bad]))
    with pytest.raises(ValueError, match=r"x must be finite; x\[0, 2\]"):
        _call(name, x=np.array([[1.0, 2.0, bad], [0.0, 0.0, 0.0]]))


@pytest.mark.parametrize("name", FUNCTIONS)
@pytest.mark.parametrize("bad", [np.nan, np.inf])
def test_non_finite_f_is_refused(name, bad):
    with pytest.raises(ValueError, match=r"f\(x\) is not finite"):
        _call(name, f=lambda x: np.sum(x) * bad)


@pytest.mark.parametrize("name", FUNCTIONS)
def test_non_finite_f_at_a_step_names_the_step(name):
    # f is finite at x = (1, 1) but infinite at x + h·e₁ (h = eps here): the failing evaluation is named.
    def f(x):
        return np.inf if x[1] > 1.0 else np.sum(x)

    with pytest.raises(ValueError, match=r"f\(x \+ h\*e\[1\]\) is not finite"):
        _call(name, x=np.array([1.0, 1.0]), f=f)


@pytest.mark.parametrize("bad", [np.nan, np.inf, -np.inf])
def test_non_finite_analytic_gradient_is_refused(bad):
    with pytest.raises(ValueError, match=r"grad\(x\) must be finite; grad\(x\)\[1\]"):
        check_gradient(np.sum, lambda x: np.array([1.0, bad]), np.array([1.0, 2.0]))


@pytest.mark.parametrize("name", FUNCTIONS)
def test_complex_is_refused(name):
    with pytest.raises(ValueError, match="x must be real"):
        _call(name, x=np.array([1 + 2j, 0]))
    with pytest.raises(ValueError, match=r"f must return real numbers; f\(x\) returned dtype complex"):
        _call(name, f=lambda x: np.sum(x) * 1j)
    with pytest.raises(ValueError, match="grad\\(x\\) must be real"):
        check_gradient(np.sum, lambda x: x * 1j, np.array([1.0, 2.0]))


@pytest.mark.parametrize("name", FUNCTIONS)
def test_empty_is_refused(name):
    with pytest.raises(ValueError, match=r"x must not be empty; got shape \(0,\)"):
        _call(name, x=np.array([]))
    with pytest.raises(ValueError, match=r"x must not be empty; got shape \(2, 0\)"):
        _call(name, x=np.zeros((2, 0)))
    with pytest.raises(ValueError, match=r"f must return a non-empty array; f\(x\) has shape \(0,\)"):
        _call(name, f=lambda x: x[:0])
    with pytest.raises(ValueError, match=r"grad\(x\) must not be empty"):
        check_gradient(np.sum, lambda x: x[:0], np.array([1.0, 2.0]))


@pytest.mark.parametrize("name", FUNCTIONS)
@pytest.mark.parametrize("text", ["1.5", ["1", "2"]])
def test_text_is_refused_not_parsed(name, text):
    with pytest.raises(ValueError, match="x must be a real numeric array"):
        _call(name, x=text)


def test_non_numeric_f_output_is_refused():
    with pytest.raises(ValueError, match="f must return real numbers"):
        numeric_jacobian(lambda x: x > 0, np.array([1.0]))


def test_numeric_gradient_costs_2n_plus_1_evaluations():
    calls = []

    def f(x):
        calls.append(1)
        return float(np.sum(x**2))

    numeric_gradient(f, np.ones(4))
    assert len(calls) == 2 * 4 + 1


@pytest.mark.parametrize("value", [None, [1.0, None], np.array([1.0, None], dtype=object)])
def test_none_is_refused_not_turned_into_nan(value):
    with pytest.raises(ValueError, match="x must be a real numeric array"):
        numeric_jacobian(np.sin, value)


# --- f and x that would fool a naive central difference ------------------------------------------

@pytest.mark.parametrize("name", ["numeric_jacobian", "numeric_gradient"])
def test_f_returning_the_same_buffer_every_time(name):
    # f writes into one array and returns it: f(x + h) would be overwritten by f(x − h) unless the
    # values are copied. True gradient of xᵀx at (1, 2): (2, 4).
    buffer = np.zeros(1)

    def f(x):
        buffer[0] = x @ x
        return buffer

    got = _call(name, x=np.array([1.0, 2.0]), f=f)
    np.testing.assert_allclose(np.ravel(got), [2.0, 4.0], rtol=FD_RTOL)


def test_check_gradient_fails_a_wrong_gradient_when_f_reuses_its_buffer():
    buffer = np.zeros(1)

    def f(x):
        buffer[0] = x @ x
        return buffer

    with pytest.raises(AssertionError, match="gradient check failed"):
        check_gradient(f, np.zeros_like, np.array([1.0, 2.0]))


@pytest.mark.parametrize("dtype", [np.float32, np.float16])
def test_f_in_single_precision_is_refused(dtype):
    # With eps = 1e-6, float32 values (7 digits) give Jacobians off by percents, silently.
    message = f"f must return float64 values; f\\(x\\) returned {np.dtype(dtype)}"
    with pytest.raises(ValueError, match=message):
        numeric_jacobian(lambda x: (2 * x).astype(dtype), np.array([1.0, 2.0]))


@pytest.mark.parametrize("x0", [1e6 + 0.3, 1e10, 1e11, -3e15])
def test_large_entries_get_a_relative_step(x0):
    # An absolute step of 1e-6 is below the spacing of floats near 1e11 (x ± eps rounds to x) and
    # is rounded near 1e6; the step is scaled by |x| and the quotient uses the step actually taken.
    f = lambda x: 3.0 * np.sum(x) + 0.5 * np.sum((x / x0) ** 2)  # noqa: E731
    exact = 3.0 + 1.0 / x0  # ∂f/∂x at x = x0
    got = numeric_gradient(f, np.array([x0]))
    np.testing.assert_allclose(got, [exact], rtol=1e-6)
    check_gradient(f, lambda x: 3.0 + x / x0**2, np.array([x0]))


def test_eps_too_small_for_x_is_an_error():
    with pytest.raises(ValueError, match=r"eps = 1e-320 is too small: x\[0\]"):
        numeric_gradient(np.sum, np.array([1.0]), eps=1e-320)


def test_overflowing_central_difference_is_an_error_not_a_passing_check():
    # f is finite at each point but f(x + h) − f(x − h) overflows; the gradient check must not
    # pass with a NaN error (NaN > rtol is False).
    f = lambda x: 1.7e308 * np.tanh(1e7 * x[0])  # noqa: E731
    with pytest.raises(ValueError, match=r"central difference of f at x\[0\] overflowed"):
        numeric_gradient(f, np.array([0.0]))
    with pytest.raises(ValueError, match="overflowed"):
        check_gradient(f, np.zeros_like, np.array([0.0]))


def test_check_gradient_with_an_infinite_difference_fails_cleanly():
    # analytic −1.5e308 against numeric +1.5e308: their difference overflows to inf, a failure.
    f = lambda x: 1.5e308 * np.sin(x[0])  # noqa: E731
    with pytest.raises(AssertionError, match="gradient check failed: error inf"):
        check_gradient(f, lambda x: np.array([-1.5e308]), np.array([0.0]))


# --- numeric_hessian ------------------------------------------------------------------------------

def test_hessian_of_quadratic_form_is_A_plus_A_transposed():
    # f(x) = xᵀ A x = Σ_ij A_ij x_i x_j has ∂²f/∂x_i∂x_j = A_ij + A_ji, at every x.
    # A = [[1, 2], [0, 3]] (not symmetric): A + Aᵀ = [[2, 2], [2, 6]], not 2A = [[2, 4], [0, 6]].
    A = np.array([[1.0, 2.0], [0.0, 3.0]])
    H = numeric_hessian(lambda x: x @ A @ x, np.array([0.3, -1.2]))
    np.testing.assert_allclose(H, [[2.0, 2.0], [2.0, 6.0]], rtol=HESSIAN_RTOL, atol=HESSIAN_ATOL)
    assert not np.allclose(H, 2 * A, atol=0.1)


@pytest.mark.parametrize("shape", [(1, 1), (1, 4), (4, 1), (3, 3), (2, 5), (5, 2)])
def test_hessian_of_random_quadratic_forms(rng, shape):
    # f(X) = vec(X)ᵀ A vec(X) for a random non-symmetric A: the Hessian is A + Aᵀ whatever X's shape.
    n = int(np.prod(shape))
    A = rng.normal(size=(n, n))
    H = numeric_hessian(lambda X: X.ravel() @ A @ X.ravel(), rng.normal(size=shape))
    assert H.shape == (n, n)
    np.testing.assert_allclose(H, A + A.T, rtol=HESSIAN_RTOL, atol=HESSIAN_ATOL)


def test_hessian_hand_computed_case():
    # f(x1, x2) = x1² x2 + sin x1 at (1, 2):
    # ∂²f/∂x1² = 2 x2 − sin x1 = 4 − sin 1, ∂²f/∂x1∂x2 = 2 x1 = 2, ∂²f/∂x2² = 0.
    f = lambda x: x[0] ** 2 * x[1] + np.sin(x[0])  # noqa: E731
    H = numeric_hessian(f, np.array([1.0, 2.0]))
    want = [[4.0 - np.sin(1.0), 2.0], [2.0, 0.0]]
    np.testing.assert_allclose(H, want, rtol=HESSIAN_RTOL, atol=HESSIAN_ATOL)


def test_hessian_matrix_input_in_c_order():
    # f(X) = X₀₁ X₁₀ for X of shape (2, 2): in C order vec(X) = (X₀₀, X₀₁, X₁₀, X₁₁), so the only
    # non-zero entries are H[1, 2] = H[2, 1] = 1 (Fortran order would put them at the same place
    # for this X, so also X₀₂ X₁₁ on a 2 × 3 X: C positions 2 and 4, Fortran positions 4 and 3).
    H = numeric_hessian(lambda X: X[0, 1] * X[1, 0], np.ones((2, 2)))
    want = np.zeros((4, 4))
    want[1, 2] = want[2, 1] = 1.0
    np.testing.assert_allclose(H, want, atol=HESSIAN_ATOL)
    H = numeric_hessian(lambda X: X[0, 2] * X[1, 1], np.ones((2, 3)))
    want = np.zeros((6, 6))
    want[2, 4] = want[4, 2] = 1.0
    np.testing.assert_allclose(H, want, atol=HESSIAN_ATOL)


@pytest.mark.parametrize("x_shape", X_SHAPES)
def test_hessian_shape_sweep_against_autograd(rng, x_shape):
    # Scalar, vector and matrix x: shape (x.size, x.size), C order, as autograd.hessian reshaped.
    n = int(np.prod(x_shape))
    C, M, b = rng.normal(size=x_shape), rng.normal(size=(n, n)), rng.normal(size=n)

    def f(x):
        v = anp.reshape(x, -1)
        return anp.sum(C * anp.cos(x)) + anp.dot(v, anp.dot(M, v)) / 2 + anp.dot(b, v) ** 3 / 6

    x = rng.normal(size=x_shape)
    H = numeric_hessian(f, x)
    assert H.shape == (n, n)
    want = np.reshape(hessian(f)(x), (n, n))  # autograd: x.shape + x.shape
    np.testing.assert_allclose(H, want, rtol=HESSIAN_RTOL, atol=HESSIAN_ATOL)


def test_hessian_is_the_jacobian_of_the_gradient(rng):
    # ∂²f/∂x∂xᵀ = ∂(∂f/∂x)/∂xᵀ: numeric_jacobian of the analytic gradient, a different oracle.
    # f = Σ x³ + (Σ x)²: ∇f = 3x² + 2(Σ x)𝟏.
    f = lambda x: np.sum(x**3) + np.sum(x) ** 2  # noqa: E731
    gradient = lambda x: 3 * x**2 + 2 * np.sum(x)  # noqa: E731
    x = rng.normal(size=5)
    np.testing.assert_allclose(numeric_hessian(f, x), numeric_jacobian(gradient, x),
                               rtol=HESSIAN_RTOL, atol=HESSIAN_ATOL)


def test_hessian_is_exactly_symmetric(rng):
    M = rng.normal(size=(4, 4))
    H = numeric_hessian(lambda x: np.tanh(x @ M @ x) + np.sum(np.sin(x) * x[0]), rng.normal(size=4))
    np.testing.assert_array_equal(H, H.T)


@pytest.mark.parametrize("shape", [(), (1,), (3,), (2, 3)])
def test_hessian_costs_2n_squared_plus_1_evaluations(rng, shape):
    calls = []

    def f(x):
        calls.append(1)
        return float(np.sum(np.sin(x)))

    numeric_hessian(f, rng.normal(size=shape))
    n = int(np.prod(shape))
    assert len(calls) == 2 * n**2 + 1


@pytest.mark.parametrize("x", [0.7, np.float64(0.7), np.array(0.7), np.array([0.7]), [[0.7]]])
def test_hessian_scalar_to_scalar(x):
    H = numeric_hessian(np.sin, x)
    assert H.shape == (1, 1)
    np.testing.assert_allclose(H, [[-np.sin(0.7)]], rtol=HESSIAN_RTOL)


@pytest.mark.parametrize("x0", [1e6 + 0.3, 1e10, -3e15])
def test_hessian_large_entries_get_a_relative_step(x0):
    # f = 3d² + x0 d y with d = x − x0 (exact near x0) at x = x0, y = 0.5: H = [[6, x0], [x0, 0]]. An
    # absolute step of 1e-4 is rounded near 1e10 and vanishes near 3e15 (x ± 1e-4 rounds to x).
    f = lambda v: 3.0 * (v[0] - x0) ** 2 + x0 * (v[0] - x0) * v[1]  # noqa: E731
    H = numeric_hessian(f, np.array([x0, 0.5]))
    np.testing.assert_allclose(H, [[6.0, x0], [x0, 0.0]], rtol=HESSIAN_RTOL, atol=HESSIAN_ATOL)


def test_hessian_converts_integer_input_and_keeps_x():
    # f = Σ x⁴/12 has H = diag(x²) = diag(1, 4, 9); integer steps would truncate to 0.
    x = np.array([1, 2, 3])
    H = numeric_hessian(lambda v: np.sum(v**4) / 12, x)
    np.testing.assert_allclose(H, np.diag([1.0, 4.0, 9.0]), rtol=HESSIAN_RTOL, atol=HESSIAN_ATOL)
    np.testing.assert_array_equal(x, [1, 2, 3])
    xf = np.array([1.0, 2.0, 3.0])
    numeric_hessian(lambda v: np.sum(v**4), xf)
    np.testing.assert_array_equal(xf, [1.0, 2.0, 3.0])


def test_hessian_of_f_returning_the_same_buffer_every_time():
    # f writes into one array and returns it: the values must be read before the next call.
    # f = x₀² x₁ at (1, 2): H = [[2x₁, 2x₀], [2x₀, 0]] = [[4, 2], [2, 0]].
    buffer = np.zeros(1)

    def f(x):
        buffer[0] = x[0] ** 2 * x[1]
        return buffer

    H = numeric_hessian(f, np.array([1.0, 2.0]))
    np.testing.assert_allclose(H, [[4.0, 2.0], [2.0, 0.0]], rtol=HESSIAN_RTOL, atol=HESSIAN_ATOL)


def test_hessian_default_eps_beats_the_gradient_eps():
    # eps = 1e-6 makes the rounding error ~1e-16/1e-12 = 1e-4; the default 1e-4 gives ~1e-8.
    f = lambda x: np.sum(np.exp(x))  # noqa: E731
    x = np.array([0.5, 1.5])
    exact = np.diag(np.exp(x))
    assert np.abs(numeric_hessian(f, x) - exact).max() < 1e-6
    assert np.abs(numeric_hessian(f, x, eps=1e-6) - exact).max() > 1e-6


@pytest.mark.parametrize("out, shape", [(lambda x: x * 2, r"\(2,\)"),
                                        (lambda x: np.outer(x, x), r"\(2, 2\)")])
def test_hessian_rejects_vector_valued_f(out, shape):
    message = rf"numeric_hessian needs a scalar-valued f; f\(x\) has shape {shape}"
    with pytest.raises(ValueError, match=message):
        numeric_hessian(out, np.array([1.0, 2.0]))


def test_hessian_f_becoming_vector_valued_near_x_is_refused():
    def f(x):
        return np.sum(x) if x[0] == 1.0 else np.ones(2)

    with pytest.raises(ValueError, match=r"scalar near x: f\(x\) has shape \(\), "
                                         r"f\(x \+ h\*e\[0\]\) has shape \(2,\)"):
        numeric_hessian(f, np.array([1.0, 2.0]))


def test_hessian_eps_too_small_for_x_is_an_error():
    with pytest.raises(ValueError, match=r"eps = 1e-320 is too small: x\[0\]"):
        numeric_hessian(np.sum, np.array([1.0]), eps=1e-320)


@pytest.mark.parametrize("dtype", [np.float32, np.float16])
def test_hessian_f_in_single_precision_is_refused(dtype):
    message = rf"f must return float64 values; f\(x\) returned {np.dtype(dtype)}"
    with pytest.raises(ValueError, match=message):
        numeric_hessian(lambda x: np.sum(x**2).astype(dtype), np.array([1.0, 2.0]))


def test_hessian_overflowing_second_difference_is_an_error():
    # f is finite at every point, but f(x + h) − 2 f(x) + f(x − h) overflows.
    f = lambda x: 1.7e308 * np.tanh(1e7 * x[0]) + x[1]  # noqa: E731
    with pytest.raises(ValueError, match=r"second difference of f at x\[0\], x\[0\] overflowed"):
        numeric_hessian(f, np.array([0.0, 1.0]))
    # Only the mixed difference overflows here: f(x ± h e₁ ± h e₀) = ±1.7e308, while f = 0 on both axes.
    g = lambda x: 1.7e308 * np.tanh(1e7 * x[0]) * np.tanh(1e7 * x[1])  # noqa: E731
    with pytest.raises(ValueError, match=r"second difference of f at x\[1\], x\[0\] overflowed"):
        numeric_hessian(g, np.array([0.0, 0.0]))
