"""The back-propagation pieces: elementwise rule, softmax cross-entropy, mean squared error."""

import warnings

import autograd.numpy as anp
import numpy as np
import pytest
from autograd import grad
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

from assertions import assert_inputs_kept_and_results_new
from mathchain import (
    elementwise_backward,
    linear_backward,
    linear_forward,
    mean_squared_error,
    mean_squared_error_gradient,
    numeric_gradient,
    softmax,
    softmax_cross_entropy,
    softmax_cross_entropy_gradient,
)
from tolerances import EXACT_ATOL, EXACT_RTOL, FD_ATOL, FD_RTOL, MATRIX_SHAPES, ORDER_RTOL


def _ce_naive(labels):
    """The cross-entropy written straight from its definition, −mean log(exp U_t / Σ exp U).

    No max subtraction and no logsumexp: a different expression from mathchain's, fine for the
    moderate logits (|U| ≤ 30) it is used with.
    """

    def loss(U):
        p = anp.exp(U) / anp.sum(anp.exp(U), axis=1, keepdims=True)
        return -anp.mean(anp.log(p[np.arange(U.shape[0]), labels]))

    return loss


def _mse_autograd(T):
    def loss(Y):
        return 0.5 * anp.sum((Y - T) ** 2) / Y.shape[0]

    return loss


# --- hand-computed cases --------------------------------------------------------------------------

def test_cross_entropy_hand_computed_two_classes():
    # Equal logits: softmax = (½, ½), loss = −log ½ = ln 2, gradient = (½ − 1, ½) = (−½, ½).
    assert softmax_cross_entropy([[0.0, 0.0]], [0]) == pytest.approx(np.log(2.0), rel=1e-15)
    np.testing.assert_array_equal(softmax_cross_entropy_gradient([[0.0, 0.0]], [0]), [[-0.5, 0.5]])
    np.testing.assert_array_equal(softmax_cross_entropy_gradient([[0.0, 0.0]], [1]), [[0.5, -0.5]])


def test_cross_entropy_hand_computed_three_classes():
    # U = (ln 1, ln 2, ln 3): softmax = (1, 2, 3)/6. Label 2: loss = −ln(3/6) = ln 2,
    # gradient = (1/6, 2/6, 3/6 − 1) = (1/6, 1/3, −1/2). Label 0: loss = ln 6, gradient (−5/6, 1/3, 1/2).
    U = [[0.0, np.log(2.0), np.log(3.0)]]
    np.testing.assert_allclose(softmax(U), [[1 / 6, 1 / 3, 1 / 2]], rtol=1e-15)
    assert softmax_cross_entropy(U, [2]) == pytest.approx(np.log(2.0), rel=1e-14)
    np.testing.assert_allclose(softmax_cross_entropy_gradient(U, [2]), [[1 / 6, 1 / 3, -1 / 2]],
                               rtol=1e-14)
    assert softmax_cross_entropy(U, [0]) == pytest.approx(np.log(6.0), rel=1e-14)
    np.testing.assert_allclose(softmax_cross_entropy_gradient(U, [0]), [[-5 / 6, 1 / 3, 1 / 2]],
                               rtol=1e-14)


def test_cross_entropy_hand_computed_batch_divides_by_m():
    # Two rows of equal logits, labels 0 and 1: loss = (ln 2 + ln 2)/2 = ln 2, and each row's
    # gradient (∓½, ±½) is divided by m = 2. Forgetting the 1/m would give (∓½, ±½).
    U = [[0.0, 0.0], [0.0, 0.0]]
    assert softmax_cross_entropy(U, [0, 1]) == pytest.approx(np.log(2.0), rel=1e-15)
    np.testing.assert_array_equal(softmax_cross_entropy_gradient(U, [0, 1]),
                                  [[-0.25, 0.25], [0.25, -0.25]])


def test_softmax_hand_computed():
    # softmax(ln 1, ln 3) = (1/4, 3/4); adding a constant to a row changes nothing.
    np.testing.assert_allclose(softmax([[0.0, np.log(3.0)]]), [[0.25, 0.75]], rtol=1e-15)
    np.testing.assert_allclose(softmax([[5.0, 5.0 + np.log(3.0)]]), [[0.25, 0.75]], rtol=1e-15)
    np.testing.assert_array_equal(softmax([[7.0]]), [[1.0]])


def test_mse_hand_computed():
    # Y − T = [[1, 2], [0, −2]]: z = (1 + 4 + 0 + 4) / (2·2) = 9/4; ∂z/∂Y = (Y − T)/2.
    Y, T = np.array([[1.0, 2.0], [0.0, -2.0]]), np.zeros((2, 2))
    assert mean_squared_error(Y, T) == 2.25
    np.testing.assert_array_equal(mean_squared_error_gradient(Y, T), [[0.5, 1.0], [0.0, -1.0]])
    # One sample, one output: z = ½ (3 − 1)² = 2, ∂z/∂Y = 3 − 1 = 2.
    assert mean_squared_error([[3.0]], [[1.0]]) == 2.0
    np.testing.assert_array_equal(mean_squared_error_gradient([[3.0]], [[1.0]]), [[2.0]])


def test_elementwise_hand_computed():
    # ∂z/∂Y = (1, 2), f′(X) = (3, −1): ∂z/∂X = (1·3, 2·(−1)) = (3, −2).
    np.testing.assert_array_equal(elementwise_backward([[1.0, 2.0]], [[3.0, -1.0]]), [[3.0, -2.0]])
    # tanh at X = 0: f′(0) = 1 − tanh² 0 = 1, so the gradient passes unchanged.
    np.testing.assert_array_equal(elementwise_backward([[4.0]], 1 - np.tanh([[0.0]]) ** 2), [[4.0]])


def test_mean_of_a_repeated_batch():
    # The same sample twice: the mean loss is the single loss, and each row gets half the gradient.
    U, t = np.array([[0.3, -1.2, 2.0]]), [1]
    U2, t2 = np.vstack([U, U]), [1, 1]
    assert softmax_cross_entropy(U2, t2) == pytest.approx(softmax_cross_entropy(U, t), rel=1e-15)
    np.testing.assert_allclose(softmax_cross_entropy_gradient(U2, t2),
                               np.vstack([softmax_cross_entropy_gradient(U, t)] * 2) / 2, rtol=1e-15)
    T = np.array([[1.0, 0.0, 2.0]])
    np.testing.assert_allclose(mean_squared_error_gradient(U2, np.vstack([T, T])),
                               np.vstack([mean_squared_error_gradient(U, T)] * 2) / 2, rtol=1e-15)


# --- oracles: autograd and finite differences over shapes -----------------------------------------

@pytest.mark.parametrize("m,k", MATRIX_SHAPES)
def test_cross_entropy_against_autograd_and_finite_differences(rng, m, k):
    U = rng.normal(size=(m, k)) * 3
    labels = rng.integers(0, k, size=m)
    loss = _ce_naive(labels)
    g = softmax_cross_entropy_gradient(U, labels)
    assert g.shape == U.shape
    np.testing.assert_allclose(softmax_cross_entropy(U, labels), loss(U), rtol=EXACT_RTOL,
                               atol=EXACT_ATOL)
    np.testing.assert_allclose(g, grad(loss)(U), rtol=EXACT_RTOL, atol=EXACT_ATOL)
    np.testing.assert_allclose(g, numeric_gradient(lambda U: softmax_cross_entropy(U, labels), U),
                               rtol=FD_RTOL, atol=FD_ATOL)
    np.testing.assert_allclose(g.sum(axis=1), 0.0, atol=1e-15)


@pytest.mark.parametrize("m,k", MATRIX_SHAPES)
def test_softmax_against_its_definition(rng, m, k):
    U = rng.normal(size=(m, k)) * 3
    want = np.exp(U) / np.exp(U).sum(axis=1, keepdims=True)  # no max subtraction: fine for |U| ≲ 700
    got = softmax(U)
    assert got.shape == U.shape
    np.testing.assert_allclose(got, want, rtol=EXACT_RTOL, atol=EXACT_ATOL)
    np.testing.assert_allclose(got.sum(axis=1), 1.0, rtol=1e-15)


@pytest.mark.parametrize("m,k", MATRIX_SHAPES)
def test_mse_against_autograd_and_finite_differences(rng, m, k):
    Y, T = rng.normal(size=(m, k)), rng.normal(size=(m, k))
    g = mean_squared_error_gradient(Y, T)
    assert g.shape == Y.shape
    np.testing.assert_allclose(mean_squared_error(Y, T), _mse_autograd(T)(Y), rtol=EXACT_RTOL)
    np.testing.assert_allclose(g, grad(_mse_autograd(T))(Y), rtol=EXACT_RTOL, atol=EXACT_ATOL)
    np.testing.assert_allclose(g, numeric_gradient(lambda Y: mean_squared_error(Y, T), Y),
                               rtol=FD_RTOL, atol=FD_ATOL)


ACTIVATIONS = {  # f for autograd, f′ written by hand
    "tanh": (anp.tanh, lambda X: 1 - np.tanh(X) ** 2),
    "sigmoid": (lambda X: 1 / (1 + anp.exp(-X)), lambda X: np.exp(-X) / (1 + np.exp(-X)) ** 2),
    "sin": (anp.sin, np.cos),
}


@pytest.mark.parametrize("shape", MATRIX_SHAPES + [(7,), (2, 3, 4)])
@pytest.mark.parametrize("name", ACTIVATIONS)
def test_elementwise_rule_against_autograd_and_finite_differences(rng, shape, name):
    f, fprime = ACTIVATIONS[name]
    X, C = rng.normal(size=shape), rng.normal(size=shape)

    def z(X):  # ∂z/∂Y = C for Y = f(X)
        return anp.sum(C * f(X))

    got = elementwise_backward(C, fprime(X))
    assert got.shape == X.shape
    np.testing.assert_allclose(got, grad(z)(X), rtol=EXACT_RTOL, atol=EXACT_ATOL)
    np.testing.assert_allclose(got, numeric_gradient(z, X), rtol=FD_RTOL, atol=FD_ATOL)


@settings(max_examples=60, deadline=None)
@given(data=st.data(), m=st.integers(1, 6), k=st.integers(1, 6))
def test_cross_entropy_property(data, m, k):
    U = data.draw(hnp.arrays(np.float64, (m, k), elements=st.floats(-30, 30, allow_subnormal=False)))
    labels = np.array(data.draw(st.lists(st.integers(0, k - 1), min_size=m, max_size=m)))
    g = softmax_cross_entropy_gradient(U, labels)
    # entries of g are at most 1/m in size; two evaluation orders differ by rounding of that scale
    assert np.all(np.abs(g - grad(_ce_naive(labels))(U)) <= ORDER_RTOL / m)
    assert np.all(np.abs(g.sum(axis=1)) <= ORDER_RTOL / m)
    assert softmax_cross_entropy(U, labels) >= 0.0
    shift = data.draw(st.floats(-100, 100))  # a constant added to every logit of a row changes nothing
    np.testing.assert_allclose(softmax(U + shift), softmax(U), rtol=1e-11, atol=1e-300)


# --- a two-layer network, backward by the three rules -------------------------------------------

def _network(rng, m=6, n=2, h=5, k=3):
    X, W1, b1 = rng.normal(size=(m, n)), rng.normal(size=(n, h)), rng.normal(size=h)
    W2, b2 = rng.normal(size=(h, k)), rng.normal(size=k)
    return X, [W1, b1, W2, b2]


def _backward(X, params, dU_of):
    W1, b1, W2, b2 = params
    P = linear_forward(X, W1, b1)
    H = np.tanh(P)
    dU = dU_of(linear_forward(H, W2, b2))
    dH, dW2, db2 = linear_backward(H, W2, b2, dU)  # linear rule
    dP = elementwise_backward(dH, 1 - np.tanh(P) ** 2)  # elementwise rule, f′ at the input P
    _, dW1, db1 = linear_backward(X, W1, b1, dP)  # linear rule
    return [dW1, db1, dW2, db2]


@pytest.mark.parametrize("loss_name", ["cross-entropy", "mse"])
def test_two_layer_network_backward(rng, loss_name):
    # X → tanh(X W1 + b1) → H W2 + b2 → loss: every parameter against autograd and finite differences.
    X, params = _network(rng)
    labels = rng.integers(0, 3, size=6)
    T = rng.normal(size=(6, 3))
    if loss_name == "cross-entropy":
        ours, ag_loss = (lambda U: softmax_cross_entropy(U, labels)), _ce_naive(labels)
        dU_of = lambda U: softmax_cross_entropy_gradient(U, labels)  # noqa: E731
    else:
        ours, ag_loss = (lambda U: mean_squared_error(U, T)), _mse_autograd(T)
        dU_of = lambda U: mean_squared_error_gradient(U, T)  # noqa: E731

    def loss(params):
        W1, b1, W2, b2 = params
        return ag_loss(anp.dot(anp.tanh(anp.dot(X, W1) + b1), W2) + b2)

    def loss_np(params):
        W1, b1, W2, b2 = params
        return ours(linear_forward(np.tanh(linear_forward(X, W1, b1)), W2, b2))

    got = _backward(X, params, dU_of)
    want = grad(loss)(params)
    for i, (g, w, p) in enumerate(zip(got, want, params, strict=True)):
        assert g.shape == p.shape
        np.testing.assert_allclose(g, w, rtol=EXACT_RTOL, atol=EXACT_ATOL)

        def loss_of(v, i=i):
            return loss_np(params[:i] + [v] + params[i + 1:])

        np.testing.assert_allclose(g, numeric_gradient(loss_of, p), rtol=FD_RTOL, atol=FD_ATOL)


def test_plausible_slips_are_caught_by_the_oracle(rng):
    # The slips the chapter warns about keep every shape and change the numbers: forgetting the 1/m,
    # and tanh′ evaluated at the output H instead of the input P.
    X, params = _network(rng)
    labels = rng.integers(0, 3, size=6)
    W1, b1, W2, b2 = params

    def loss(W1):
        return _ce_naive(labels)(anp.dot(anp.tanh(anp.dot(X, W1) + b1), W2) + b2)

    right = grad(loss)(W1)
    no_mean = _backward(X, params, lambda U: 6 * softmax_cross_entropy_gradient(U, labels))[0]
    np.testing.assert_allclose(no_mean, 6 * right, rtol=EXACT_RTOL, atol=EXACT_ATOL)
    H = np.tanh(linear_forward(X, W1, b1))
    dU = softmax_cross_entropy_gradient(linear_forward(H, W2, b2), labels)
    dH = linear_backward(H, W2, b2, dU).dA
    at_output = linear_backward(X, W1, b1, elementwise_backward(dH, 1 - np.tanh(H) ** 2)).dW
    assert at_output.shape == right.shape
    assert not np.allclose(at_output, right, rtol=FD_RTOL, atol=FD_ATOL)


# --- stability ------------------------------------------------------------------------------------

def test_logits_of_a_thousand_give_exact_finite_results():
    # exp(−2000) underflows to 0, so softmax((1000, −1000)) = (1, 0) exactly; the loss for label 1 is
    # logsumexp − U₁ = 1000 − (−1000) = 2000, for label 0 it is 0; gradients (1, −1) and (0, 0).
    U = [[1000.0, -1000.0]]
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # no overflow warning either
        np.testing.assert_array_equal(softmax(U), [[1.0, 0.0]])
        assert softmax_cross_entropy(U, [1]) == 2000.0
        assert softmax_cross_entropy(U, [0]) == 0.0
        np.testing.assert_array_equal(softmax_cross_entropy_gradient(U, [1]), [[1.0, -1.0]])
        np.testing.assert_array_equal(softmax_cross_entropy_gradient(U, [0]), [[0.0, 0.0]])
        # a large common offset: softmax(1000 + (0, ln 3)) = (1/4, 3/4), not nan from inf/inf
        np.testing.assert_allclose(softmax([[1000.0, 1000.0 + np.log(3.0)]]), [[0.25, 0.75]], rtol=1e-12)


@pytest.mark.parametrize("offset", [1e8, 1e12, 1e16, -1e300])
@pytest.mark.parametrize("label", [0, 1])
def test_loss_is_exact_under_a_large_common_offset(offset, label):
    # The loss depends only on differences of logits: (a, a) gives z = log 2 for every a and label.
    # Computing logsumexp − U_t as (a + log 2) − a loses digits as a grows and gives 0 at a = 1e16
    # (a + log 2 rounds back to a): the loss must be formed from U − max U.
    assert softmax_cross_entropy([[offset, offset]], [label]) == pytest.approx(np.log(2.0), rel=1e-15)


@pytest.mark.parametrize("scale", [1e3, 1e300, 1.7e308])
def test_softmax_and_gradient_finite_for_any_logits(scale):
    U = np.array([[scale, 0.0, -scale], [0.0, 0.0, scale], [-scale, -scale, -scale]])
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        s = softmax(U)
        g = softmax_cross_entropy_gradient(U, [0, 1, 2])
    np.testing.assert_array_equal(s[:2], [[1.0, 0.0, 0.0], [0.0, 0.0, 1.0]])
    np.testing.assert_allclose(s[2], [1 / 3] * 3, rtol=1e-15)
    np.testing.assert_allclose(g, (s - np.eye(3)) / 3, rtol=1e-15)


def test_cross_entropy_that_does_not_fit_a_float_is_an_error():
    # logsumexp − U_t = 1.7e308 + 1.7e308 exceeds the largest float (1.8e308): an error, not inf.
    assert softmax_cross_entropy([[1e307, -1e307]], [1]) == 2e307
    with pytest.raises(ValueError, match="softmax_cross_entropy overflowed"):
        softmax_cross_entropy([[1.7e308, -1.7e308]], [1])


def test_overflow_elsewhere_is_an_error_not_a_silent_inf():
    big = np.array([[1e200]])
    with pytest.raises(ValueError, match="mean_squared_error overflowed"):
        mean_squared_error(big, -big)
    with pytest.raises(ValueError, match="mean_squared_error_gradient overflowed"):
        mean_squared_error_gradient(np.array([[1.7e308]]), np.array([[-1.7e308]]))
    with pytest.raises(ValueError, match="elementwise_backward overflowed"):
        elementwise_backward(big, big)


# --- bad input ------------------------------------------------------------------------------------

def test_labels_must_match_the_rows_of_logits():
    U = np.zeros((3, 4))
    with pytest.raises(ValueError, match=r"labels has shape \(2,\) and logits has shape \(3, 4\).*"
                                         r"shape \(3,\)$"):
        softmax_cross_entropy(U, [0, 1])
    with pytest.raises(ValueError, match=r"labels has shape \(3, 1\)"):
        softmax_cross_entropy_gradient(U, [[0], [1], [2]])
    with pytest.raises(ValueError, match=r"labels has shape \(3, 4\).*one-hot: pass labels.argmax"):
        softmax_cross_entropy(U, np.eye(3, 4))


@pytest.mark.parametrize("fn", [softmax_cross_entropy, softmax_cross_entropy_gradient])
@pytest.mark.parametrize("labels, index, value", [
    ([0, 1, 4], 2, "4.0"), ([0, -1, 2], 1, "-1.0"), ([0.5, 1, 2], 0, "0.5"), ([3, 3, 7], 2, "7.0"),
])
def test_labels_must_be_class_indices(fn, labels, index, value):
    with pytest.raises(ValueError, match=rf"labels must be integer class indices in \[0, 4\) for "
                                         rf"logits with 4 columns; labels\[{index}\] = {value}$"):
        fn(np.zeros((3, 4)), labels)


def test_labels_may_be_any_integer_or_integral_float_dtype():
    U = np.array([[0.0, 1.0, 2.0], [2.0, 1.0, 0.0]])
    want = softmax_cross_entropy_gradient(U, [2, 0])
    for labels in (np.array([2, 0], dtype=np.uint8), np.array([2.0, 0.0]), (2, 0)):
        np.testing.assert_array_equal(softmax_cross_entropy_gradient(U, labels), want)


LOGIT_FNS = {"softmax": lambda U, t: softmax(U), "softmax_cross_entropy": softmax_cross_entropy,
             "softmax_cross_entropy_gradient": softmax_cross_entropy_gradient}
MSE_FNS = {"mean_squared_error": mean_squared_error,
           "mean_squared_error_gradient": mean_squared_error_gradient}
# (function, argument name, position, a valid value of every argument)
ARGS = ([(fn, "logits", 0, [np.zeros((2, 3)), np.array([0, 2])]) for fn in LOGIT_FNS.values()]
        + [(fn, "labels", 1, [np.zeros((2, 3)), np.array([0, 2])])
           for name, fn in LOGIT_FNS.items() if name != "softmax"]
        + [(fn, arg, i, [np.zeros((2, 3)), np.ones((2, 3))]) for fn in MSE_FNS.values()
           for i, arg in enumerate("YT")]
        + [(elementwise_backward, arg, i, [np.zeros((2, 3)), np.ones((2, 3))])
           for i, arg in enumerate(["dY", "derivative"])])
ARG_IDS = [f"{fn.__name__ if fn.__name__ != '<lambda>' else 'softmax'}-{arg}" for fn, arg, _, _ in ARGS]


def _call(fn, args, i, value):
    return fn(*[value if j == i else a for j, a in enumerate(args)])


@pytest.mark.parametrize("fn, arg, i, args", ARGS, ids=ARG_IDS)
@pytest.mark.parametrize("bad", [np.nan, np.inf, -np.inf])
def test_non_finite_input_is_named(fn, arg, i, args, bad):
    value = args[i].astype(float)
    value[1] = bad
    index = r"\[1\]" if value.ndim == 1 else r"\[1, 0\]"
    with pytest.raises(ValueError, match=rf"{arg} must be finite; {arg}{index} = {bad}"):
        _call(fn, args, i, value)


@pytest.mark.parametrize("fn, arg, i, args", ARGS, ids=ARG_IDS)
def test_complex_empty_and_text_are_refused(fn, arg, i, args):
    shape = args[i].shape
    with pytest.raises(ValueError, match=rf"{arg} must be real"):
        _call(fn, args, i, np.ones(shape) * 1j)
    with pytest.raises(ValueError, match=rf"{arg} (must not be empty|has shape)"):
        _call(fn, args, i, np.ones(shape[:-1] + (0,)))
    with pytest.raises(ValueError, match=rf"{arg} must be a real numeric array"):
        _call(fn, args, i, np.full(shape, "1"))


@pytest.mark.parametrize("fn", list(LOGIT_FNS.values()) + list(MSE_FNS.values()),
                         ids=list(LOGIT_FNS) + list(MSE_FNS))
@pytest.mark.parametrize("shape", [(3,), (1, 2, 3)])
def test_batches_must_be_2d(fn, shape):
    name = "Y" if fn in MSE_FNS.values() else "logits"
    with pytest.raises(ValueError, match=rf"{name} must be 2-D; got shape"):
        fn(np.zeros(shape), np.zeros(shape) if name == "Y" else [0])


def test_shape_mismatches_name_both_shapes():
    with pytest.raises(ValueError, match=r"Y has shape \(2, 3\) and T has shape \(3, 2\).*\(2, 3\)"):
        mean_squared_error(np.zeros((2, 3)), np.zeros((3, 2)))
    # a column against a row: NumPy would broadcast Y − T to (4, 4) without a word
    with pytest.raises(ValueError, match=r"Y has shape \(4, 1\) and T has shape \(1, 4\)"):
        mean_squared_error_gradient(np.zeros((4, 1)), np.zeros((1, 4)))
    with pytest.raises(ValueError, match=r"T must be 2-D; got shape \(4,\)"):
        mean_squared_error(np.zeros((4, 1)), np.zeros(4))
    with pytest.raises(ValueError, match=r"dY has shape \(2, 3\) and derivative has shape \(3, 2\)"):
        elementwise_backward(np.zeros((2, 3)), np.zeros((3, 2)))


# --- inputs are converted, never modified -----------------------------------------------------------

def test_inputs_are_not_modified_and_results_are_new(rng):
    U, C, D = rng.normal(size=(3, 4)), rng.normal(size=(3, 4)), rng.normal(size=(3, 4))
    labels = np.array([0, 3, 1])
    assert_inputs_kept_and_results_new(
        (U, C, D, labels),
        lambda: [softmax(U), softmax_cross_entropy_gradient(U, labels),
                 mean_squared_error_gradient(U, C), elementwise_backward(C, D)],
    )


def test_integer_input_is_converted_not_wrapped():
    # int8: 100 − (−100) = 200 wraps to −56 in int8 arithmetic; as floats the MSE is ½ 200² = 20 000.
    i8 = lambda v: np.array(v, dtype=np.int8)  # noqa: E731
    assert mean_squared_error(i8([[100]]), i8([[-100]])) == 20_000.0
    np.testing.assert_array_equal(mean_squared_error_gradient(i8([[100]]), i8([[-100]])), [[200.0]])
    np.testing.assert_array_equal(elementwise_backward(i8([[100]]), i8([[100]])), [[10_000.0]])
    np.testing.assert_array_equal(softmax(i8([[0, 0]])), [[0.5, 0.5]])
