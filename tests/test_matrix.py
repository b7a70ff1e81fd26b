"""linear_forward and linear_backward: Y = AW + B and ∂z/∂W = Aᵀ ∂z/∂Y, against oracles."""

import autograd.numpy as anp
import numpy as np
import pytest
from autograd import grad
from hypothesis import given, settings
from hypothesis import strategies as st

from assertions import assert_inputs_kept_and_results_new
from mathchain import LinearGrads, linear_backward, linear_forward, numeric_gradient
from strategies import arrays
from tolerances import EXACT_ATOL, EXACT_RTOL, FD_ATOL, FD_RTOL, MATRIX_SHAPES, ORDER_RTOL

# --- hand-computed cases --------------------------------------------------------------------------

@pytest.mark.parametrize("B", [[[5]], [5]], ids=["B (1, 1)", "B (1,)"])
def test_hand_computed_1x1(B):
    # A = [[2]], W = [[3]], B = 5: Y = 2·3 + 5 = 11. With dY = [[7]] (z = 7Y):
    # dA = dY Wᵀ = 7·3 = 21, dW = Aᵀ dY = 2·7 = 14, dB = 7, in the shape of B.
    np.testing.assert_array_equal(linear_forward([[2]], [[3]], B), [[11.0]])
    dA, dW, dB = linear_backward([[2]], [[3]], B, [[7]])
    np.testing.assert_array_equal(dA, [[21.0]])
    np.testing.assert_array_equal(dW, [[14.0]])
    np.testing.assert_array_equal(dB, np.full(np.shape(B), 7.0))


def test_hand_computed_row_times_column():
    # A = [[1, 2]], W = [[3], [4]], B = [[5]]: Y = 1·3 + 2·4 + 5 = 16.
    # With dY = [[2]]: dA = dY Wᵀ = [[6, 8]], dW = Aᵀ dY = [[2], [4]], dB = [[2]].
    A, W, B = [[1, 2]], [[3], [4]], [[5]]
    np.testing.assert_array_equal(linear_forward(A, W, B), [[16.0]])
    dA, dW, dB = linear_backward(A, W, B, [[2]])
    np.testing.assert_array_equal(dA, [[6.0, 8.0]])
    np.testing.assert_array_equal(dW, [[2.0], [4.0]])
    np.testing.assert_array_equal(dB, [[2.0]])


def test_hand_computed_2x2():
    # A = [[1, 2], [3, 4]], W = [[5, 6], [7, 8]], B = [[1, 1], [1, 1]]:
    # AW = [[1·5 + 2·7, 1·6 + 2·8], [3·5 + 4·7, 3·6 + 4·8]] = [[19, 22], [43, 50]]; Y = AW + 1.
    # Take z = Y₀₀ = A₀₀W₀₀ + A₀₁W₁₀ + B₀₀, so dY = [[1, 0], [0, 0]] and by hand
    # ∂z/∂A = [[W₀₀, W₁₀], [0, 0]] = [[5, 7], [0, 0]]   (= dY Wᵀ; the slip dY W gives [[5, 6], ...])
    # ∂z/∂W = [[A₀₀, 0], [A₀₁, 0]] = [[1, 0], [2, 0]]   (= Aᵀ dY; the slip A dY gives [[1, 0], [3, 0]])
    # ∂z/∂B = dY.
    A, W, B = [[1, 2], [3, 4]], [[5, 6], [7, 8]], [[1, 1], [1, 1]]
    np.testing.assert_array_equal(linear_forward(A, W, B), [[20.0, 23.0], [44.0, 51.0]])
    grads = linear_backward(A, W, B, [[1, 0], [0, 0]])
    assert isinstance(grads, LinearGrads)
    np.testing.assert_array_equal(grads.dA, [[5.0, 7.0], [0.0, 0.0]])
    np.testing.assert_array_equal(grads.dW, [[1.0, 0.0], [2.0, 0.0]])
    np.testing.assert_array_equal(grads.dB, [[1.0, 0.0], [0.0, 0.0]])


@pytest.mark.parametrize("B, Y, dB", [
    ([[10, 20], [30, 40]], [[11, 20], [30, 41]], [[1, 2], [3, 4]]),
    ([[10, 20]], [[11, 20], [10, 21]], [[4, 6]]),
    ([10, 20], [[11, 20], [10, 21]], [4, 6]),
], ids=["B (2, 2)", "B (1, 2)", "B (2,)"])
def test_hand_computed_bias_gradient_sums_over_rows(B, Y, dB):
    # A = W = I, so Y = I + B (B broadcast over the rows when it is a row). With dY = [[1, 2], [3, 4]]
    # a full B gets dY itself; a bias added to both rows collects both: (1 + 3, 2 + 4) = (4, 6),
    # in the shape of B.
    A, W = np.eye(2), np.eye(2)
    np.testing.assert_array_equal(linear_forward(A, W, B), Y)
    got = linear_backward(A, W, B, [[1, 2], [3, 4]]).dB
    assert got.shape == np.shape(B)
    np.testing.assert_array_equal(got, dB)


# --- oracles: autograd and finite differences of z = sum(C ⊙ Y) -----------------------------------

def _bias_shapes(m, n1):
    return [(m, n1), (1, n1), (n1,)]


def _assert_gradients(z, A, W, B, grads, exact_rtol=EXACT_RTOL):
    """Each of dA, dW, dB has its variable's shape and equals autograd and finite differences of z."""
    assert (grads.dA.shape, grads.dW.shape, grads.dB.shape) == (A.shape, W.shape, B.shape)
    args = [A, W, B]
    for argnum, (got, var) in enumerate(zip(grads, args, strict=True)):
        np.testing.assert_allclose(got, grad(z, argnum)(A, W, B), rtol=exact_rtol, atol=EXACT_ATOL)

        def z_of(v, argnum=argnum):
            return z(*[v if i == argnum else a for i, a in enumerate(args)])

        np.testing.assert_allclose(got, numeric_gradient(z_of, var), rtol=FD_RTOL, atol=FD_ATOL)


@pytest.mark.parametrize("m,n", MATRIX_SHAPES)
@pytest.mark.parametrize("n1", [1, 3])
@pytest.mark.parametrize("bias", [0, 1, 2], ids=["B (m, n1)", "B (1, n1)", "B (n1,)"])
def test_backward_of_linear_z_against_autograd_and_finite_differences(rng, m, n, n1, bias):
    # z = sum(C ⊙ Y) = Σ_kl C_kl Y_kl, so ∂z/∂Y = C exactly: dY = C needs no derivation.
    A, W = rng.normal(size=(m, n)), rng.normal(size=(n, n1))
    B = rng.normal(size=_bias_shapes(m, n1)[bias])
    C = rng.normal(size=(m, n1))
    Y = linear_forward(A, W, B)
    assert Y.shape == (m, n1)
    np.testing.assert_allclose(Y, A @ W + B, rtol=EXACT_RTOL, atol=EXACT_ATOL)

    def z(A, W, B):
        return anp.sum(C * (anp.dot(A, W) + B))

    _assert_gradients(z, A, W, B, linear_backward(A, W, B, C))


@pytest.mark.parametrize("m,n", MATRIX_SHAPES)
@pytest.mark.parametrize("bias", [0, 1, 2], ids=["B (m, n1)", "B (1, n1)", "B (n1,)"])
def test_backward_of_nonlinear_z(rng, m, n, bias):
    # z = sum(C ⊙ tanh Y): dY = C ⊙ (1 − tanh² Y), by hand, so dY is not a constant.
    n1 = 2
    A, W = rng.normal(size=(m, n)), rng.normal(size=(n, n1))
    B, C = rng.normal(size=_bias_shapes(m, n1)[bias]), rng.normal(size=(m, n1))

    def z(A, W, B):
        return anp.sum(C * anp.tanh(anp.dot(A, W) + B))

    dY = C * (1 - np.tanh(linear_forward(A, W, B)) ** 2)
    _assert_gradients(z, A, W, B, linear_backward(A, W, B, dY))


@settings(max_examples=50, deadline=None)
@given(data=st.data(), m=st.integers(1, 6), n=st.integers(1, 6), n1=st.integers(1, 6),
       bias=st.integers(0, 2))
def test_backward_property_against_autograd(data, m, n, n1, bias):
    A = data.draw(arrays((m, n)))
    W = data.draw(arrays((n, n1)))
    B = data.draw(arrays(_bias_shapes(m, n1)[bias]))
    C = data.draw(arrays((m, n1)))

    def z(A, W, B):
        return anp.sum(C * (anp.dot(A, W) + B))

    grads = linear_backward(A, W, B, C)
    # the same sums in absolute values bound the rounding: |C||W|ᵀ, |A|ᵀ|C|, and |C| summed to B
    scales = (np.abs(C) @ np.abs(W).T, np.abs(A).T @ np.abs(C),
              np.abs(C) if bias == 0 else np.abs(C).sum(axis=0).reshape(B.shape))
    for argnum, (got, scale) in enumerate(zip(grads, scales, strict=True)):
        want = grad(z, argnum)(A, W, B)
        assert got.shape == want.shape == scale.shape
        assert np.all(np.abs(got - want) <= ORDER_RTOL * scale)


def test_dW_and_dA_by_index_formula(rng):
    # ∂z/∂W_ij = Σ_kl ∂z/∂Y_kl ∂Y_kl/∂W_ij with ∂Y_kl/∂W_ij = A_ki δ_lj, and
    # ∂z/∂A_ij = Σ_kl ∂z/∂Y_kl ∂Y_kl/∂A_ij with ∂Y_kl/∂A_ij = δ_ki W_jl: loops, no matrix algebra.
    A, W, B, dY = (rng.normal(size=s) for s in [(4, 3), (3, 2), (4, 2), (4, 2)])
    (m, n), n1 = A.shape, W.shape[1]
    dW, dA = np.zeros((n, n1)), np.zeros((m, n))
    for i in range(n):
        for j in range(n1):
            dW[i, j] = sum(dY[k, l] * A[k, i] * (l == j) for k in range(m) for l in range(n1))
    for i in range(m):
        for j in range(n):
            dA[i, j] = sum(dY[k, l] * (k == i) * W[j, l] for k in range(m) for l in range(n1))
    grads = linear_backward(A, W, B, dY)
    np.testing.assert_allclose(grads.dW, dW, rtol=EXACT_RTOL, atol=EXACT_ATOL)
    np.testing.assert_allclose(grads.dA, dA, rtol=EXACT_RTOL, atol=EXACT_ATOL)


def test_gradients_through_the_kronecker_jacobians(rng):
    # C-order vec: vec(AW) = (A ⊗ I_{n₁}) vec(W) = (I_m ⊗ Wᵀ) vec(A). A gradient is the transposed
    # Jacobian times vec(dY), reshaped to the variable (denominator layout).
    A, W, dY = rng.normal(size=(4, 3)), rng.normal(size=(3, 2)), rng.normal(size=(4, 2))
    grads = linear_backward(A, W, np.zeros(2), dY)
    via_kron_W = (np.kron(A, np.eye(2)).T @ dY.ravel()).reshape(W.shape)
    via_kron_A = (np.kron(np.eye(4), W.T).T @ dY.ravel()).reshape(A.shape)
    np.testing.assert_allclose(grads.dW, via_kron_W, rtol=EXACT_RTOL, atol=EXACT_ATOL)
    np.testing.assert_allclose(grads.dA, via_kron_A, rtol=EXACT_RTOL, atol=EXACT_ATOL)


def test_missing_transposes_would_be_caught(rng):
    # Square shapes let the slips dY W and A dY through shape checks; the oracle rejects them, so
    # the sweeps above would catch a missing transpose in linear_backward.
    A, W, C = (rng.normal(size=(3, 3)) for _ in range(3))

    def z(A, W):
        return anp.sum(C * anp.dot(A, W))

    assert not np.allclose(C @ W, grad(z, 0)(A, W), rtol=FD_RTOL, atol=FD_ATOL)
    assert not np.allclose(A @ C, grad(z, 1)(A, W), rtol=FD_RTOL, atol=FD_ATOL)
    grads = linear_backward(A, W, np.zeros(3), C)
    np.testing.assert_allclose(grads.dA, grad(z, 0)(A, W), rtol=EXACT_RTOL, atol=EXACT_ATOL)
    np.testing.assert_allclose(grads.dW, grad(z, 1)(A, W), rtol=EXACT_RTOL, atol=EXACT_ATOL)


def test_batched_gradient_is_sum_of_per_sample_gradients(rng):
    A, W, b, dY = (rng.normal(size=s) for s in [(6, 3), (3, 2), (2,), (6, 2)])
    total = linear_backward(A, W, b, dY)
    per = [linear_backward(A[k : k + 1], W, b, dY[k : k + 1]) for k in range(6)]
    np.testing.assert_allclose(total.dW, sum(g.dW for g in per), rtol=EXACT_RTOL, atol=EXACT_ATOL)
    np.testing.assert_allclose(total.dB, sum(g.dB for g in per), rtol=EXACT_RTOL, atol=EXACT_ATOL)
    np.testing.assert_allclose(total.dA, np.vstack([g.dA for g in per]), rtol=EXACT_RTOL,
                               atol=EXACT_ATOL)


def test_results_do_not_alias_inputs(rng):
    A, W, B, dY = (rng.normal(size=s) for s in [(2, 2), (2, 2), (2, 2), (2, 2)])
    assert_inputs_kept_and_results_new((A, W, B, dY), lambda: linear_backward(A, W, B, dY))


def test_integer_input_is_converted_not_wrapped():
    # int8: 100·100 = 10 000, which int8 arithmetic would wrap to 16.
    i8 = lambda v: np.array(v, dtype=np.int8)  # noqa: E731
    np.testing.assert_array_equal(linear_forward(i8([[100]]), i8([[100]]), i8([0])), [[10_000.0]])
    dA, dW, dB = linear_backward(i8([[100]]), i8([[1]]), i8([0]), i8([[100]]))
    assert dW.dtype == np.float64
    np.testing.assert_array_equal(dW, [[10_000.0]])
    ints = [np.array([[1, 2], [3, 4]]), np.array([[1], [1]]), np.array([3]), np.array([[1], [2]])]
    for got, want in zip(linear_backward(*ints), linear_backward(*[a * 1.0 for a in ints]), strict=True):
        np.testing.assert_array_equal(got, want)


# --- bad input ------------------------------------------------------------------------------------

def _forward(A, W, B, dY=None):
    return linear_forward(A, W, B)


def _backward(A, W, B, dY):
    return linear_backward(A, W, B, dY)


BOTH = [_forward, _backward]


@pytest.mark.parametrize("fn", BOTH, ids=["forward", "backward"])
def test_inner_dimension_mismatch_names_shapes(fn):
    with pytest.raises(ValueError, match=r"A has shape \(4, 3\) and W has shape \(2, 5\).*\(3\).*\(2\)"):
        fn(np.ones((4, 3)), np.ones((2, 5)), np.ones(5), np.ones((4, 5)))


@pytest.mark.parametrize("fn", BOTH, ids=["forward", "backward"])
@pytest.mark.parametrize("shape", [(6,), (4,), (4, 1), (2, 5), (5, 4), (1, 1), (5, 5)])
def test_bad_bias_shape_lists_the_allowed_ones(fn, shape):
    # Y is (4, 5): B may be (4, 5), (1, 5) or (5,). (4,), a column (4, 1) or (1, 1) would broadcast
    # in NumPy, and are refused all the same: they are not the shape of a bias of this layer.
    shape_text = str(shape).replace("(", r"\(").replace(")", r"\)")
    with pytest.raises(ValueError, match=rf"B has shape {shape_text}.*\(4, 5\), \(1, 5\) or \(5,\)"):
        fn(np.ones((4, 3)), np.ones((3, 5)), np.ones(shape), np.ones((4, 5)))


@pytest.mark.parametrize("fn", BOTH, ids=["forward", "backward"])
@pytest.mark.parametrize("arg, shape", [("A", (3,)), ("A", (1, 4, 3)), ("W", (3,)), ("B", ()),
                                        ("B", (1, 1, 5))])
def test_wrong_ndim_is_refused(fn, arg, shape):
    args = {"A": np.ones((4, 3)), "W": np.ones((3, 5)), "B": np.ones(5), "dY": np.ones((4, 5))}
    args[arg] = np.ones(shape)
    with pytest.raises(ValueError, match=rf"{arg} must be .*-D; got shape"):
        fn(**args)


@pytest.mark.parametrize("shape", [(5, 4), (4, 4), (4, 5, 1), (20,), (1, 5)])
def test_dY_shape_must_be_Y_shape(shape):
    # (5, 4) is Yᵀ, (20,) is Y flattened, (1, 5) a single row: none is ∂z/∂Y in denominator layout.
    with pytest.raises(ValueError, match=r"dY (has shape|must be 2-D).*"):
        linear_backward(np.ones((4, 3)), np.ones((3, 5)), np.ones(5), np.ones(shape))
    if len(shape) == 2:
        with pytest.raises(ValueError, match=rf"dY has shape \({shape[0]}, {shape[1]}\).*Y = AW \+ B "
                                             r"has shape \(4, 5\)"):
            linear_backward(np.ones((4, 3)), np.ones((3, 5)), np.ones(5), np.ones(shape))


# Every argument of both functions (linear_forward has no dY).
FN_ARGS = [(fn, arg) for fn in BOTH for arg in ["A", "W", "B", "dY"] if (fn, arg) != (_forward, "dY")]
FN_ARG_IDS = [f"{fn.__name__[1:]}-{arg}" for fn, arg in FN_ARGS]


@pytest.mark.parametrize("fn, arg", FN_ARGS, ids=FN_ARG_IDS)
@pytest.mark.parametrize("bad", [np.nan, np.inf, -np.inf])
@pytest.mark.parametrize("size", ["small", "BLAS"])
def test_non_finite_inputs_are_named(rng, fn, arg, bad, size):
    # At a BLAS size (300×200), the bad entry meets only zeros in the products: a row or column of
    # the other factor is 0 where it would be multiplied (IEEE: nan·0 = nan, inf·0 = nan).
    m, n, n1 = (3, 2, 4) if size == "small" else (300, 200, 150)
    args = {"A": rng.normal(size=(m, n)), "W": rng.normal(size=(n, n1)), "B": rng.normal(size=(1, n1)),
            "dY": rng.normal(size=(m, n1))}
    i, j = (0, 1)
    args[arg][i, j] = bad
    if arg == "A":  # A[i, j] multiplies row j of W and, in dW = Aᵀ dY, row i of dY
        args["W"][j, :] = 0.0
        args["dY"][i, :] = 0.0
    elif arg == "W":  # W[i, j] multiplies column i of A and, in dA = dY Wᵀ, column j of dY
        args["A"][:, i] = 0.0
        args["dY"][:, j] = 0.0
    elif arg == "dY":
        args["W"][:, j] = 0.0
        args["A"][i, :] = 0.0
    with pytest.raises(ValueError, match=rf"{arg} must be finite; {arg}\[{i}, {j}\] = {bad}"):
        fn(**args)


@pytest.mark.parametrize("fn, arg", FN_ARGS, ids=FN_ARG_IDS)
def test_complex_empty_and_text_are_refused(fn, arg):
    args = {"A": np.ones((2, 3)), "W": np.ones((3, 2)), "B": np.ones(2), "dY": np.ones((2, 2))}
    shape = args[arg].shape
    with pytest.raises(ValueError, match=rf"{arg} must be real"):
        fn(**(args | {arg: np.ones(shape) * 1j}))
    with pytest.raises(ValueError, match=rf"{arg} must not be empty; got shape"):
        fn(**(args | {arg: np.ones(shape[:-1] + (0,))}))
    with pytest.raises(ValueError, match=rf"{arg} must be a real numeric array"):
        fn(**(args | {arg: np.full(shape, "1")}))


def test_overflow_is_an_error_not_a_silent_inf():
    big = np.array([[1e200]])
    with pytest.raises(ValueError, match="linear_forward overflowed"):
        linear_forward(big, big, np.zeros(1))
    with pytest.raises(ValueError, match=r"linear_backward \(dA\) overflowed"):
        linear_backward(np.ones((1, 1)), big, np.zeros(1), big)
    with pytest.raises(ValueError, match=r"linear_backward \(dW\) overflowed"):
        linear_backward(big, np.ones((1, 1)), np.zeros(1), big)
    with pytest.raises(ValueError, match=r"linear_backward \(dB\) overflowed"):
        linear_backward(np.zeros((2, 1)), np.zeros((1, 1)), np.zeros(1), np.full((2, 1), 1e308))


def test_large_finite_values_are_not_mistaken_for_non_finite():
    # Finiteness is checked first through Σ aᵢ² (one pass); 1e200² overflows although every entry is
    # finite, so the exact check must take over and accept these inputs and results.
    B = np.array([1e200, -1e200])
    Y = linear_forward(np.zeros((3, 1)), np.zeros((1, 2)), B)
    np.testing.assert_array_equal(Y, np.tile(B, (3, 1)))
    dA, dW, dB = linear_backward(np.ones((3, 1)), np.ones((1, 2)), B, np.full((3, 2), 1e200))
    np.testing.assert_array_equal(dA, np.full((3, 1), 2e200))
    np.testing.assert_array_equal(dW, np.full((1, 2), 3e200))
    np.testing.assert_array_equal(dB, np.full(2, 3e200))
