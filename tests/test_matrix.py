"""linear_forward and linear_backward: Y = AW + B and ∂z/∂W = Aᵀ ∂z/∂Y, against oracles."""

import autograd.numpy as anp
import numpy as np
import pytest
from autograd import grad

from mathchain import LinearGrads, linear_backward, linear_forward, numeric_gradient
from tolerances import EXACT_ATOL, EXACT_RTOL, FD_ATOL, FD_RTOL, MATRIX_SHAPES


def test_hand_computed_case():
    # A = [[1, 2]], W = [[3], [4]], B = [[5]]: Y = 1·3 + 2·4 + 5 = 16.
    # With dY = [[2]]: dA = dY Wᵀ = [[6, 8]], dW = Aᵀ dY = [[2], [4]], dB = [[2]].
    A, W, B = [[1, 2]], [[3], [4]], [[5]]
    np.testing.assert_array_equal(linear_forward(A, W, B), [[16.0]])
    dA, dW, dB = linear_backward(A, W, B, [[2]])
    np.testing.assert_array_equal(dA, [[6.0, 8.0]])
    np.testing.assert_array_equal(dW, [[2.0], [4.0]])
    np.testing.assert_array_equal(dB, [[2.0]])


def test_hand_computed_2x2_with_broadcast_bias():
    # A = I, W = [[1, 2], [3, 4]], b = (10, 20): Y = W + b = [[11, 22], [13, 24]].
    # dY = I: dA = dY Wᵀ = Wᵀ = [[1, 3], [2, 4]]; dW = Aᵀ dY = I; db = column sums of dY = (1, 1).
    A, W, b = np.eye(2), np.array([[1.0, 2.0], [3.0, 4.0]]), np.array([10.0, 20.0])
    np.testing.assert_array_equal(linear_forward(A, W, b), [[11.0, 22.0], [13.0, 24.0]])
    grads = linear_backward(A, W, b, np.eye(2))
    assert isinstance(grads, LinearGrads)
    np.testing.assert_array_equal(grads.dA, [[1.0, 3.0], [2.0, 4.0]])
    np.testing.assert_array_equal(grads.dW, np.eye(2))
    np.testing.assert_array_equal(grads.dB, [1.0, 1.0])


def _z(C):
    """z = sum(C ⊙ tanh(Y)): a nonlinear scalar of Y, so dY = C ⊙ (1 − tanh²Y) is not trivial."""
    return lambda A, W, B: anp.sum(C * anp.tanh(anp.dot(A, W) + B))


def _bias_shapes(m, n1):
    return [(m, n1), (1, n1), (n1,)]


@pytest.mark.parametrize("m,n", MATRIX_SHAPES)
@pytest.mark.parametrize("n1", [1, 3])
@pytest.mark.parametrize("bias", [0, 1, 2])
def test_backward_against_autograd_and_finite_differences(rng, m, n, n1, bias):
    A, W = rng.normal(size=(m, n)), rng.normal(size=(n, n1))
    B = rng.normal(size=_bias_shapes(m, n1)[bias])
    C = rng.normal(size=(m, n1))
    z = _z(C)
    Y = linear_forward(A, W, B)
    assert Y.shape == (m, n1)
    dY = C * (1 - np.tanh(Y) ** 2)  # ∂z/∂Y for z = sum(C ⊙ tanh Y)
    dA, dW, dB = linear_backward(A, W, B, dY)
    assert (dA.shape, dW.shape, dB.shape) == (A.shape, W.shape, B.shape)
    for got, argnum, var in ((dA, 0, A), (dW, 1, W), (dB, 2, B)):
        want = grad(z, argnum)(A, W, B)
        np.testing.assert_allclose(got, want, rtol=EXACT_RTOL, atol=EXACT_ATOL)
        args = [A, W, B]

        def z_of(v, argnum=argnum, args=args):
            return z(*[v if i == argnum else a for i, a in enumerate(args)])

        np.testing.assert_allclose(got, numeric_gradient(z_of, var), rtol=FD_RTOL, atol=FD_ATOL)


def test_dW_by_index_formula(rng):
    # ∂z/∂W_ij = Σ_kl ∂z/∂Y_kl ∂Y_kl/∂W_ij with ∂Y_kl/∂W_ij = A_ki δ_lj: loops, no matrix algebra.
    A, W, B, dY = (rng.normal(size=s) for s in [(4, 3), (3, 2), (4, 2), (4, 2)])
    m, n = A.shape
    n1 = W.shape[1]
    dW = np.zeros((n, n1))
    for i in range(n):
        for j in range(n1):
            dW[i, j] = sum(dY[k, l] * A[k, i] * (l == j) for k in range(m) for l in range(n1))
    np.testing.assert_allclose(linear_backward(A, W, B, dY).dW, dW, rtol=EXACT_RTOL, atol=EXACT_ATOL)


def test_dW_through_the_kronecker_jacobian(rng):
    # vec_r(AW) = (A ⊗ I_{n₁}) vec_r(W), so ∂z/∂W = reshape((A ⊗ I)ᵀ vec_r(∂z/∂Y)).
    A, W, dY = rng.normal(size=(4, 3)), rng.normal(size=(3, 2)), rng.normal(size=(4, 2))
    J = np.kron(A, np.eye(2))
    via_kron = (J.T @ dY.ravel()).reshape(W.shape)
    np.testing.assert_allclose(linear_backward(A, W, np.zeros(2), dY).dW, via_kron,
                               rtol=EXACT_RTOL, atol=EXACT_ATOL)


def test_plausible_wrong_answers_differ(rng):
    # W dY does not even fit for non-square shapes; dY Wᵀ is what the shapes allow.
    A, W, dY = rng.normal(size=(5, 3)), rng.normal(size=(3, 2)), rng.normal(size=(5, 2))
    with pytest.raises(ValueError):
        np.matmul(W, dY)
    assert linear_backward(A, W, np.zeros(2), dY).dA.shape == (5, 3)


def test_batched_gradient_is_sum_of_per_sample_gradients(rng):
    A, W, b, dY = (rng.normal(size=s) for s in [(6, 3), (3, 2), (2,), (6, 2)])
    total = linear_backward(A, W, b, dY)
    per = [linear_backward(A[k : k + 1], W, b, dY[k : k + 1]) for k in range(6)]
    np.testing.assert_allclose(total.dW, sum(g.dW for g in per), rtol=EXACT_RTOL, atol=EXACT_ATOL)
    np.testing.assert_allclose(total.dB, sum(g.dB for g in per), rtol=EXACT_RTOL, atol=EXACT_ATOL)


def test_results_do_not_alias_inputs(rng):
    A, W, B, dY = (rng.normal(size=s) for s in [(2, 2), (2, 2), (2, 2), (2, 2)])
    dB = linear_backward(A, W, B, dY).dB
    dB[0, 0] = 99.0
    assert dY[0, 0] != 99.0


def test_integer_input_is_converted():
    dA, dW, dB = linear_backward([[1, 2]], [[1], [1]], [3], [[1]])
    assert dW.dtype == np.float64
    np.testing.assert_array_equal(dW, [[1.0], [2.0]])


# --- bad input ------------------------------------------------------------------------------------

def test_inner_dimension_mismatch_names_shapes():
    with pytest.raises(ValueError, match=r"A has shape \(4, 3\) and W has shape \(2, 5\).*\(3\).*\(2\)"):
        linear_forward(np.ones((4, 3)), np.ones((2, 5)), np.ones(5))


@pytest.mark.parametrize("shape", [(6,), (4, 1), (2, 5), (5, 4)])
def test_bad_bias_shape_lists_the_allowed_ones(shape):
    with pytest.raises(ValueError, match=rf"B has shape \({shape[0]},.*\(4, 5\), \(1, 5\) or \(5,\)"):
        linear_forward(np.ones((4, 3)), np.ones((3, 5)), np.ones(shape))
    with pytest.raises(ValueError, match=r"B must be 1-D or 2-D; got shape \(1, 1, 5\)"):
        linear_forward(np.ones((4, 3)), np.ones((3, 5)), np.ones((1, 1, 5)))


def test_dY_shape_must_be_Y_shape():
    with pytest.raises(ValueError, match=r"dY has shape \(5, 4\).*Y = AW \+ B has shape \(4, 5\)"):
        linear_backward(np.ones((4, 3)), np.ones((3, 5)), np.ones(5), np.ones((5, 4)))


@pytest.mark.parametrize("arg", ["A", "W", "B", "dY"])
def test_non_finite_inputs_are_named(rng, arg):
    args = {"A": rng.normal(size=(3, 2)), "W": rng.normal(size=(2, 4)), "B": rng.normal(size=(1, 4)),
            "dY": rng.normal(size=(3, 4))}
    args[arg][0, 1] = np.nan
    with pytest.raises(ValueError, match=rf"{arg} must be finite; {arg}\[0, 1\] = nan"):
        linear_backward(**args)
    if arg != "dY":
        args[arg][0, 1] = np.inf
        with pytest.raises(ValueError, match=rf"{arg} must be finite"):
            linear_forward(args["A"], args["W"], args["B"])


def test_empty_and_wrong_ndim_are_refused():
    with pytest.raises(ValueError, match=r"A must not be empty; got shape \(0, 3\)"):
        linear_forward(np.ones((0, 3)), np.ones((3, 2)), np.ones(2))
    with pytest.raises(ValueError, match=r"W must be 2-D; got shape \(3,\)"):
        linear_forward(np.ones((2, 3)), np.ones(3), np.ones(1))
