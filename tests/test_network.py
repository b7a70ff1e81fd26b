"""The back-propagation pieces: elementwise rule, softmax cross-entropy, mean squared error."""

import autograd.numpy as anp
import numpy as np
import pytest
from autograd import grad

from mathchain import (
    elementwise_backward,
    linear_backward,
    mean_squared_error,
    mean_squared_error_gradient,
    numeric_gradient,
    softmax,
    softmax_cross_entropy,
    softmax_cross_entropy_gradient,
)
from tolerances import EXACT_ATOL, EXACT_RTOL, FD_ATOL, FD_RTOL

BATCH_SHAPES = [(1, 1), (1, 4), (4, 1), (3, 3), (5, 2)]


def _ce_autograd(labels):
    def loss(U):
        top = anp.max(U, axis=1, keepdims=True)
        logsumexp = anp.log(anp.sum(anp.exp(U - top), axis=1)) + top[:, 0]
        return anp.mean(logsumexp - U[np.arange(U.shape[0]), labels])

    return loss


# --- hand-computed cases ------------------------------------------------------------------------

def test_cross_entropy_hand_computed():
    # Equal logits: softmax = (½, ½), loss = −log ½ = ln 2, gradient = (½ − 1, ½) = (−½, ½).
    assert softmax_cross_entropy([[0.0, 0.0]], [0]) == pytest.approx(np.log(2.0), rel=1e-15)
    np.testing.assert_allclose(softmax_cross_entropy_gradient([[0.0, 0.0]], [0]), [[-0.5, 0.5]])
    # A batch of two: the mean, and the gradient divided by m = 2.
    np.testing.assert_allclose(softmax_cross_entropy_gradient([[0.0, 0.0], [0.0, 0.0]], [0, 1]),
                               [[-0.25, 0.25], [0.25, -0.25]])


def test_softmax_hand_computed():
    # softmax(ln 1, ln 3) = (1/4, 3/4)
    np.testing.assert_allclose(softmax([[0.0, np.log(3.0)]]), [[0.25, 0.75]], rtol=1e-15)


def test_mse_hand_computed():
    # Y − T = [[1, 2], [0, −2]]: L = (1 + 4 + 0 + 4) / (2·2) = 9/4; ∂L/∂Y = (Y − T)/2.
    Y, T = np.array([[1.0, 2.0], [0.0, -2.0]]), np.zeros((2, 2))
    assert mean_squared_error(Y, T) == 2.25
    np.testing.assert_array_equal(mean_squared_error_gradient(Y, T), Y / 2)


def test_elementwise_hand_computed():
    np.testing.assert_array_equal(elementwise_backward([[1.0, 2.0]], [[3.0, -1.0]]), [[3.0, -2.0]])


# --- against autograd and finite differences ----------------------------------------------------

@pytest.mark.parametrize("m,k", BATCH_SHAPES)
def test_cross_entropy_gradient_sweep(rng, m, k):
    U = rng.normal(size=(m, k)) * 3
    labels = rng.integers(0, k, size=m)
    g = softmax_cross_entropy_gradient(U, labels)
    assert g.shape == U.shape
    np.testing.assert_allclose(softmax_cross_entropy(U, labels), _ce_autograd(labels)(U), rtol=1e-12)
    np.testing.assert_allclose(g, grad(_ce_autograd(labels))(U), rtol=EXACT_RTOL, atol=EXACT_ATOL)
    np.testing.assert_allclose(g, numeric_gradient(lambda U: softmax_cross_entropy(U, labels), U),
                               rtol=FD_RTOL, atol=FD_ATOL)
    np.testing.assert_allclose(g.sum(axis=1), 0.0, atol=1e-15)


@pytest.mark.parametrize("m,k", BATCH_SHAPES)
def test_mse_gradient_sweep(rng, m, k):
    Y, T = rng.normal(size=(m, k)), rng.normal(size=(m, k))
    g = mean_squared_error_gradient(Y, T)
    want = grad(lambda Y: 0.5 * anp.sum((Y - T) ** 2) / m)(Y)
    np.testing.assert_allclose(g, want, rtol=EXACT_RTOL, atol=EXACT_ATOL)
    np.testing.assert_allclose(g, numeric_gradient(lambda Y: mean_squared_error(Y, T), Y),
                               rtol=FD_RTOL, atol=FD_ATOL)


@pytest.mark.parametrize("shape", BATCH_SHAPES)
def test_elementwise_rule_for_tanh(rng, shape):
    X, C = rng.normal(size=shape), rng.normal(size=shape)
    z = lambda X: anp.sum(C * anp.tanh(X))  # noqa: E731  ∂z/∂Y = C for Y = tanh X
    got = elementwise_backward(C, 1 - np.tanh(X) ** 2)
    np.testing.assert_allclose(got, grad(z)(X), rtol=EXACT_RTOL, atol=EXACT_ATOL)
    np.testing.assert_allclose(got, numeric_gradient(z, X), rtol=FD_RTOL, atol=FD_ATOL)


def test_two_layer_network_backward_matches_autograd(rng):
    # X → tanh(X W1 + b1) → H W2 + b2 → cross-entropy, backward from the three rules only.
    X, W1, b1 = rng.normal(size=(6, 2)), rng.normal(size=(2, 5)), rng.normal(size=5)
    W2, b2 = rng.normal(size=(5, 3)), rng.normal(size=3)
    labels = rng.integers(0, 3, size=6)
    H = np.tanh(X @ W1 + b1)
    dU = softmax_cross_entropy_gradient(H @ W2 + b2, labels)
    dH, dW2, db2 = linear_backward(H, W2, b2, dU)
    dP = elementwise_backward(dH, 1 - H**2)
    _, dW1, db1 = linear_backward(X, W1, b1, dP)

    def loss(params):
        W1, b1, W2, b2 = params
        return _ce_autograd(labels)(anp.dot(anp.tanh(anp.dot(X, W1) + b1), W2) + b2)

    want = grad(loss)((W1, b1, W2, b2))
    for got, expected in zip((dW1, db1, dW2, db2), want, strict=True):
        np.testing.assert_allclose(got, expected, rtol=EXACT_RTOL, atol=EXACT_ATOL)


# --- stability and bad input --------------------------------------------------------------------

@pytest.mark.parametrize("scale", [1e3, -1e3, 1e300])
def test_cross_entropy_is_stable_for_large_logits(scale):
    U = np.array([[scale, 0.0, -scale], [0.0, 0.0, scale]])
    loss = softmax_cross_entropy(U, [0, 1])
    g = softmax_cross_entropy_gradient(U, [0, 1])
    assert np.isfinite(loss) and np.isfinite(g).all()
    np.testing.assert_allclose(softmax(U).sum(axis=1), 1.0)


def test_cross_entropy_large_logits_value():
    # logits (1000, 0), label 1: loss = logsumexp − 0 = 1000 + log(1 + e^−1000) = 1000.
    assert softmax_cross_entropy([[1000.0, 0.0]], [1]) == 1000.0


def test_label_errors_name_the_shapes():
    U = np.zeros((3, 4))
    with pytest.raises(ValueError, match=r"labels has shape \(2,\) and logits has shape \(3, 4\)"):
        softmax_cross_entropy(U, [0, 1])
    with pytest.raises(ValueError, match=r"labels must be integers in \[0, 4\).*from 0.0 to 4.0"):
        softmax_cross_entropy_gradient(U, [0, 1, 4])
    with pytest.raises(ValueError, match=r"labels must be integers"):
        softmax_cross_entropy(U, [0, 1.5, 2])
    with pytest.raises(ValueError, match=r"labels must be integers in \[0, 4\)"):
        softmax_cross_entropy(U, [0, -1, 2])
    with pytest.raises(ValueError, match=r"logits must be 2-D; got shape \(4,\)"):
        softmax_cross_entropy(np.zeros(4), [0])


def test_nan_and_shape_errors():
    with pytest.raises(ValueError, match=r"logits must be finite; logits\[0, 1\] = nan"):
        softmax(np.array([[0.0, np.nan]]))
    with pytest.raises(ValueError, match=r"Y has shape \(2, 3\) and T has shape \(3, 2\)"):
        mean_squared_error(np.zeros((2, 3)), np.zeros((3, 2)))
    with pytest.raises(ValueError, match=r"dY has shape \(2, 3\) and derivative has shape \(3, 2\)"):
        elementwise_backward(np.zeros((2, 3)), np.zeros((3, 2)))
    with pytest.raises(ValueError, match=r"T must be finite"):
        mean_squared_error_gradient(np.zeros((1, 1)), np.full((1, 1), np.inf))
