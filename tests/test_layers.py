"""The layers of chapter 09: softmax, layer and batch normalisation, attention, convolution.

Every VJP against central differences of z = sum(dY ⊙ f(X)), against autograd (for convolution, an
autograd oracle written as explicit sums over output positions, since autograd has no conv), hand
cases, and the adjoint identity ⟨u, J v⟩ = ⟨VJP(u), v⟩.
"""

import tracemalloc

import autograd.numpy as anp
import numpy as np
import pytest
from autograd import grad

from assertions import assert_inputs_kept_and_results_new
from mathchain import (
    AttentionGrads,
    ConvGrads,
    NormGrads,
    attention,
    attention_backward,
    batch_norm,
    batch_norm_backward,
    col2im,
    conv2d,
    conv2d_backward,
    im2col,
    layer_norm,
    layer_norm_backward,
    numeric_gradient,
    numeric_jacobian,
    softmax,
    softmax_backward,
    softmax_cross_entropy_gradient,
)
from tolerances import EXACT_ATOL, EXACT_RTOL, FD_ATOL, FD_RTOL, MATRIX_SHAPES, ORDER_RTOL

EPS = 1e-5  # the layers' default ε


# --- autograd oracles, written from the definitions -------------------------------------------------

def _softmax_ag(U):
    e = anp.exp(U)  # no max subtraction: a different expression from mathchain's
    return e / anp.sum(e, axis=1, keepdims=True)


def _norm_ag(axis):
    def f(X, gamma, beta):
        mu = anp.mean(X, axis=axis, keepdims=True)
        var = anp.mean((X - mu) ** 2, axis=axis, keepdims=True)
        return gamma * (X - mu) / anp.sqrt(var + EPS) + beta

    return f


def _attention_ag(Q, K, V):
    return anp.dot(_softmax_ag(anp.dot(Q, K.T) / np.sqrt(Q.shape[1])), V)


def _conv_ag(X, W, stride, padding):
    """Y[n, f, p, q] = Σ_{c,i,j} W[f, c, i, j] X[n, c, p·s + i − pad, q·s + j − pad], by loops.

    No padding array and no im2col: taps that fall outside the image are skipped.
    """
    (N, _, H, Wd), (F, _, kh, kw) = X.shape, W.shape
    Ho, Wo = (H + 2 * padding - kh) // stride + 1, (Wd + 2 * padding - kw) // stride + 1
    rows = []
    for p in range(Ho):
        row = []
        for q in range(Wo):
            total = anp.zeros((N, F))
            for i in range(kh):
                for j in range(kw):
                    h, w = p * stride + i - padding, q * stride + j - padding
                    if 0 <= h < H and 0 <= w < Wd:
                        total = total + anp.dot(X[:, :, h, w], W[:, :, i, j].T)  # Σ_c X W, (N, F)
            row.append(total)
        rows.append(anp.stack(row, axis=-1))  # (N, F, Wo)
    return anp.stack(rows, axis=-2)  # (N, F, Ho, Wo)


def _normal(rng, *shapes):
    return [rng.normal(size=s) for s in shapes]


def _assert_close_fd(got, want):
    np.testing.assert_allclose(got, want, rtol=FD_RTOL, atol=FD_ATOL)


def _assert_exact(got, want):
    np.testing.assert_allclose(got, want, rtol=EXACT_RTOL, atol=EXACT_ATOL)


def _grads_of_z(f, dY, args, argnum):
    """autograd's and central differences' ∂z/∂args[argnum] for z = sum(dY ⊙ f(*args))."""

    def z(*a):
        return anp.sum(dY * f(*a))

    def z_of(v):
        return z(*[v if i == argnum else a for i, a in enumerate(args)])

    return grad(z, argnum)(*args), numeric_gradient(z_of, args[argnum])


# --- softmax ------------------------------------------------------------------------------------

def test_softmax_backward_hand_computed():
    # S = (½, ½), dS = (1, 0): rowsum(dS ⊙ S) = ½, so dU = ½ (1 − ½, 0 − ½) = (¼, −¼): the sigmoid's
    # σ′(0) = ¼, since softmax(u, 0)₀ = σ(u).
    np.testing.assert_array_equal(softmax_backward([[0.5, 0.5]], [[1.0, 0.0]]), [[0.25, -0.25]])
    # A constant dS changes nothing (softmax ignores a shift of its input): dU = 0.
    np.testing.assert_array_equal(softmax_backward([[0.25, 0.75]], [[3.0, 3.0]]), [[0.0, 0.0]])


@pytest.mark.parametrize("m,n", MATRIX_SHAPES)
def test_softmax_backward_against_oracles(rng, m, n):
    U, dS = rng.normal(size=(m, n)) * 2, rng.normal(size=(m, n))
    got = softmax_backward(softmax(U), dS)
    assert got.shape == U.shape
    want_ag, want_fd = _grads_of_z(_softmax_ag, dS, [U], 0)
    _assert_exact(got, want_ag)
    _assert_close_fd(got, want_fd)
    np.testing.assert_allclose(got.sum(axis=1), 0.0, atol=1e-14)  # the shift invariance


def test_softmax_backward_equals_the_formed_jacobian(rng):
    # Row i of the Jacobian is diag(sᵢ) − sᵢsᵢᵀ; the VJP is its transpose times dSᵢ.
    U, dS = rng.normal(size=(3, 5)), rng.normal(size=(3, 5))
    S = softmax(U)
    rows = [(np.diag(s) - np.outer(s, s)).T @ d for s, d in zip(S, dS, strict=True)]
    _assert_exact(softmax_backward(S, dS), np.array(rows))


def test_softmax_with_cross_entropy_collapses_to_s_minus_t(rng):
    # L = −(1/m) Σᵢ log S_{i,tᵢ}: ∂L/∂S = −T/(mS), and the softmax VJP gives (S − T)/m.
    U = rng.normal(size=(4, 3))
    labels = np.array([0, 2, 1, 2])
    S, T = softmax(U), np.eye(3)[labels]
    _assert_exact(softmax_backward(S, -T / (4 * S)), softmax_cross_entropy_gradient(U, labels))


def test_softmax_wrong_vjp_is_rejected(rng):
    # dS ⊙ S alone (the Jacobian's diagonal, the ssᵀ part forgotten): the right shape, wrong values.
    U, dS = rng.normal(size=(3, 4)), rng.normal(size=(3, 4))
    want = _grads_of_z(_softmax_ag, dS, [U], 0)[0]
    assert not np.allclose(dS * softmax(U), want, rtol=FD_RTOL, atol=FD_ATOL)


# --- layer and batch normalisation ----------------------------------------------------------------

NORMS = {"layer_norm": (layer_norm, layer_norm_backward, 1),
         "batch_norm": (batch_norm, batch_norm_backward, 0)}


def test_layer_norm_hand_computed():
    # Row (1, 3): μ = 2, v = 1, X̂ = (−1, 1)/√(1 + ε); γ = (2, 3), β = (10, 20).
    a = 1 / np.sqrt(1 + EPS)
    Y = layer_norm([[1.0, 3.0]], [2.0, 3.0], [10.0, 20.0])
    np.testing.assert_allclose(Y, [[10 - 2 * a, 20 + 3 * a]], rtol=1e-15)
    # dY = (1, 1): dβ = (1, 1), dγ = X̂ = (−a, a); g = γ ⊙ dY = (2, 3); dX = (g₁ − g₂)(1 − a²)/(2σ) (±).
    dX, dgamma, dbeta = layer_norm_backward([[1.0, 3.0]], [2.0, 3.0], [10.0, 20.0], [[1.0, 1.0]])
    np.testing.assert_array_equal(dbeta, [1.0, 1.0])
    np.testing.assert_allclose(dgamma, [-a, a], rtol=1e-15)
    d = (2 - 3) * (1 - a**2) / (2 * np.sqrt(1 + EPS))
    np.testing.assert_allclose(dX, [[d, -d]], rtol=1e-9)


def test_batch_norm_hand_computed():
    # Column (1, 3) over a batch of two: the same numbers as the layer-norm case, transposed.
    a = 1 / np.sqrt(1 + EPS)
    X = [[1.0, 5.0], [3.0, 5.0]]  # the second column is constant: X̂ = 0 there, Y = β
    Y = batch_norm(X, [2.0, 3.0], [10.0, 20.0])
    np.testing.assert_allclose(Y, [[10 - 2 * a, 20.0], [10 + 2 * a, 20.0]], rtol=1e-15)
    dX, dgamma, dbeta = batch_norm_backward(X, [2.0, 3.0], [10.0, 20.0], [[1.0, 4.0], [0.0, 6.0]])
    np.testing.assert_array_equal(dbeta, [1.0, 10.0])
    np.testing.assert_allclose(dgamma, [-a, 0.0], rtol=1e-15, atol=0)
    d = 2 * (1 - 0) * (1 - a**2) / (2 * np.sqrt(1 + EPS))  # γ (dY₁ − dY₂)(1 − a²)/(2σ)
    # a constant column: X̂ = 0, so dX = γ (dY − mean dY)/√ε
    const = 3 * np.array([4.0 - 5.0, 6.0 - 5.0]) / np.sqrt(EPS)
    np.testing.assert_allclose(dX, [[d, const[0]], [-d, const[1]]], rtol=1e-9)


@pytest.mark.parametrize("name,m,n", [
    (name, m, n) for name in NORMS for m, n in MATRIX_SHAPES + [(6, 3)]
    if (m, n)[NORMS[name][2]] >= 2  # one entry to normalise over is refused (test below)
])
def test_norm_against_oracles(rng, name, m, n):
    f, f_backward, axis = NORMS[name]
    X = rng.normal(size=(m, n)) * 2 + 1
    gamma, beta, dY = rng.normal(size=n), rng.normal(size=n), rng.normal(size=(m, n))
    _assert_exact(f(X, gamma, beta), _norm_ag(axis)(X, gamma, beta))
    got = f_backward(X, gamma, beta, dY)
    assert isinstance(got, NormGrads)
    for argnum, (g, var) in enumerate(zip(got, (X, gamma, beta), strict=True)):
        assert g.shape == var.shape
        want_ag, want_fd = _grads_of_z(_norm_ag(axis), dY, [X, gamma, beta], argnum)
        _assert_exact(g, want_ag)
        _assert_close_fd(g, want_fd)


@pytest.mark.parametrize("name", NORMS)
def test_norm_of_huge_inputs_is_the_scaled_ordinary_one(rng, name):
    # At |X| ~ 1e160 the variance (~1e320) overflows float64 if formed directly (σ = inf, Y = β,
    # dX = 0). Normalisation is scale invariant up to ε: Y(sX) = Y(X), and through X ↦ sX the chain
    # rule gives s·dX(sX) = dX(X), dγ and dβ unchanged; here ε/s² ≈ 1e-325 is below every rounding.
    # Oracle: the formula written out with autograd at the ordinary scale, with ε = 0.
    f, f_backward, axis = NORMS[name]
    s = 1e160
    X, gamma, beta, dY = _normal(rng, (5, 4), 4, 4, (5, 4))

    def by_hand(X, gamma, beta):  # ε = 0
        D = X - anp.mean(X, axis=axis, keepdims=True)
        return gamma * D / anp.sqrt(anp.mean(D**2, axis=axis, keepdims=True)) + beta

    _assert_exact(f(s * X, gamma, beta), by_hand(X, gamma, beta))
    for argnum, (g, scale) in enumerate(zip(f_backward(s * X, gamma, beta, dY), (s, 1, 1),
                                            strict=True)):
        _assert_exact(scale * g, grad(lambda *a: anp.sum(dY * by_hand(*a)), argnum)(X, gamma, beta))
    # a row (layer_norm) or column (batch_norm) that is constant and huge: X̂ = 0, dX = γ(dY − mean)/√ε
    Xc = np.full((3, 3), 1e200)
    np.testing.assert_array_equal(f(Xc, gamma[:3], beta[:3]), np.broadcast_to(beta[:3], (3, 3)))
    gc = dY[:3, :3] * gamma[:3]
    _assert_exact(f_backward(Xc, gamma[:3], beta[:3], dY[:3, :3]).dX,
                  (gc - gc.mean(axis=axis, keepdims=True)) / np.sqrt(EPS))


@pytest.mark.parametrize("name", NORMS)
def test_norm_refuses_x_minus_its_mean_beyond_float64(name):
    # 1.7e308 twice and -1.7e308 once: X − μ = -2.3e308 has no float64 value; refused, not nan.
    X = np.array([[1.7e308, 1.7e308, -1.7e308]] * 2)
    X = X if name == "layer_norm" else X.T
    n = X.shape[1]
    for call in (lambda: NORMS[name][0](X, np.ones(n), np.zeros(n)),
                 lambda: NORMS[name][1](X, np.ones(n), np.zeros(n), np.ones(X.shape))):
        with pytest.raises(ValueError, match=rf"X has shape \({X.shape[0]}, {n}\) and entries up "
                                             r"to 1.7e\+308: X − μ overflows float64"):
            call()


@pytest.mark.parametrize("rows_per_block", [1, 2, 3, 7, 100])
def test_layer_norm_backward_block_by_block_against_oracles(rng, monkeypatch, rows_per_block):
    # The fused backward goes through the rows in blocks (the last one shorter for 2, 3): every block
    # size gives autograd's gradients, dγ and dβ summed over all the blocks.
    from mathchain import layers

    m, n = 7, 5
    monkeypatch.setattr(layers, "_ROW_BLOCK_BYTES", 8 * n * rows_per_block)
    X, gamma, beta, dY = _normal(rng, (m, n), n, n, (m, n))
    X = X * 3 + 2
    got = layer_norm_backward(X, gamma, beta, dY)
    for argnum, g in enumerate(got):
        want_ag, want_fd = _grads_of_z(_norm_ag(1), dY, [X, gamma, beta], argnum)
        _assert_exact(g, want_ag)
        _assert_close_fd(g, want_fd)


def test_layer_norm_backward_with_one_huge_row_in_a_later_block(rng, monkeypatch):
    # Blocks of 2 rows; row 4 is at 1e160 (its variance overflows if formed directly): the call takes
    # the scaled path, and every row gets autograd's gradient (row 4: its scaled one, ε/s² ≈ 0).
    from mathchain import layers

    m, n, s = 5, 4, 1e160
    monkeypatch.setattr(layers, "_ROW_BLOCK_BYTES", 8 * n * 2)
    X, gamma, beta, dY = _normal(rng, (m, n), n, n, (m, n))
    big = X.copy()
    big[4] *= s
    dX, dgamma, dbeta = layer_norm_backward(big, gamma, beta, dY)

    def no_eps(X, gamma, beta):
        D = X - anp.mean(X, axis=1, keepdims=True)
        return gamma * D / anp.sqrt(anp.mean(D**2, axis=1, keepdims=True)) + beta

    top, bottom = (0, 4), (4, 5)
    want = [grad(lambda *a, f=f, r=r: anp.sum(dY[r[0]:r[1]] * f(*a)), argnum)(X[r[0]:r[1]], gamma, beta)
            for argnum in (0, 1) for f, r in ((_norm_ag(1), top), (no_eps, bottom))]
    _assert_exact(dX[:4], want[0])
    _assert_exact(s * dX[4:], want[1])
    _assert_exact(dgamma, want[2] + want[3])
    _assert_exact(dbeta, dY.sum(axis=0))


def test_layer_norm_rows_are_independent_batch_norm_rows_are_coupled(rng):
    # The Jacobian ∂vec Y/∂vec X in blocks of n × n: block (i, j) = ∂Y_i,:/∂X_j,:. Layer norm is
    # block diagonal; batch norm has non-zero blocks off the diagonal.
    m, n = 4, 3
    X, gamma, beta = rng.normal(size=(m, n)), rng.normal(size=n), rng.normal(size=n)
    for name, coupled in (("layer_norm", False), ("batch_norm", True)):
        f = NORMS[name][0]
        J = numeric_jacobian(lambda X_, f=f: f(X_, gamma, beta), X).reshape(m, n, m, n)
        off = max(np.abs(J[i, :, j, :]).max() for i in range(m) for j in range(m) if i != j)
        assert (off > 1e-3) == coupled, (name, off)


def test_batch_norm_with_constant_statistics_is_rejected(rng):
    # The slip: treat μ and σ as constants, dX = γ ⊙ dY/σ. Right shape, wrong values.
    X, gamma, beta, dY = _normal(rng, (5, 3), 3, 3, (5, 3))
    sigma = np.sqrt(X.var(axis=0) + EPS)
    want = _grads_of_z(_norm_ag(0), dY, [X, gamma, beta], 0)[0]
    assert not np.allclose(gamma * dY / sigma, want, rtol=FD_RTOL, atol=FD_ATOL)
    _assert_exact(batch_norm_backward(X, gamma, beta, dY).dX, want)


# --- attention ----------------------------------------------------------------------------------

def test_attention_hand_computed():
    # q = 0 matches both keys equally: S = (½, ½), O = mean of the values = (1 + 3)/2 = 2. With dO = 1:
    # dV = Sᵀ dO = (½, ½); dS = dO Vᵀ = (1, 3), dA = ½ ((1, 3) − 2) = (−½, ½), dQ = dA K = −½ − ½ = −1
    # (by calculus, O(q) = (eᵠ + 3e⁻ᵠ)/(eᵠ + e⁻ᵠ) has O′(0) = −1), dK = dAᵀ Q = 0.
    Q, K, V = [[0.0]], [[1.0], [-1.0]], [[1.0], [3.0]]
    np.testing.assert_array_equal(attention(Q, K, V), [[2.0]])
    dQ, dK, dV = attention_backward(Q, K, V, [[1.0]])
    np.testing.assert_array_equal(dV, [[0.5], [0.5]])
    np.testing.assert_array_equal(dQ, [[-1.0]])
    np.testing.assert_array_equal(dK, [[0.0], [0.0]])


@pytest.mark.parametrize("m,d,n,dv", [(1, 1, 1, 1), (3, 4, 5, 2), (5, 2, 3, 4), (1, 3, 4, 1),
                                      (4, 1, 2, 3)])
def test_attention_against_oracles(rng, m, d, n, dv):
    Q, K, V = rng.normal(size=(m, d)), rng.normal(size=(n, d)), rng.normal(size=(n, dv))
    dO = rng.normal(size=(m, dv))
    _assert_exact(attention(Q, K, V), _attention_ag(Q, K, V))
    got = attention_backward(Q, K, V, dO)
    assert isinstance(got, AttentionGrads)
    for argnum, (g, var) in enumerate(zip(got, (Q, K, V), strict=True)):
        assert g.shape == var.shape
        want_ag, want_fd = _grads_of_z(_attention_ag, dO, [Q, K, V], argnum)
        _assert_exact(g, want_ag)
        _assert_close_fd(g, want_fd)


def test_attention_without_the_scale_is_rejected(rng):
    # Forgetting the 1/√d in dQ: right shape, values √d = 2 times too large.
    Q, K, V, dO = (rng.normal(size=s) for s in [(3, 4), (5, 4), (5, 2), (3, 2)])
    want = _grads_of_z(_attention_ag, dO, [Q, K, V], 0)[0]
    _assert_exact(2 * attention_backward(Q, K, V, dO).dQ, 2 * want)
    assert not np.allclose(2 * attention_backward(Q, K, V, dO).dQ, want, rtol=FD_RTOL, atol=FD_ATOL)


# --- convolution --------------------------------------------------------------------------------

def test_conv2d_hand_computed():
    # X = 0..8 as a 3 × 3 image, W = a 2 × 2 kernel of ones: each output is the sum of a 2 × 2 window.
    X = np.arange(9.0).reshape(1, 1, 3, 3)
    ones = np.ones((1, 1, 2, 2))
    np.testing.assert_array_equal(conv2d(X, ones), [[[[8, 12], [20, 24]]]])
    # stride 2, padding 1: windows at padded (0, 0), (0, 2), (2, 0), (2, 2) see {0}, {1, 2}, {3, 6},
    # {4, 5, 7, 8}.
    np.testing.assert_array_equal(conv2d(X, ones, stride=2, padding=1), [[[[0, 3], [9, 24]]]])
    # dY = ones: dX counts the windows that read each pixel, dW[i, j] sums the pixels under tap (i, j).
    dX, dW = conv2d_backward(X, ones, np.ones((1, 1, 2, 2)))
    np.testing.assert_array_equal(dX, [[[[1, 2, 1], [2, 4, 2], [1, 2, 1]]]])
    np.testing.assert_array_equal(dW, [[[[8, 12], [20, 24]]]])


def test_conv2d_is_cross_correlation_not_flipped():
    # A kernel with a single 1 at tap (0, 0) reads X[p + 0, q + 0]: the top-left pixel of each window.
    # A true (flipped) convolution would read the bottom-right one, X[p + 1, q + 1].
    X = np.arange(9.0).reshape(1, 1, 3, 3)
    W = np.array([[[[1.0, 0.0], [0.0, 0.0]]]])
    np.testing.assert_array_equal(conv2d(X, W), [[[[0, 1], [3, 4]]]])


# (N, C, H, W), (F, kh, kw), stride, padding: 1×1 kernels, stride 2, padding 1, non-square images,
# N = 1, C > 1, F > 1
CONV_CASES = [
    ((1, 1, 4, 4), (1, 3, 3), 1, 0),
    ((2, 3, 5, 6), (4, 3, 2), 1, 0),
    ((2, 3, 5, 6), (4, 3, 2), 2, 1),
    ((1, 2, 7, 4), (3, 1, 1), 1, 0),
    ((1, 2, 7, 4), (3, 1, 1), 2, 0),
    ((2, 1, 4, 5), (2, 3, 3), 1, 1),
    ((1, 3, 6, 5), (2, 2, 3), 3, 2),
    ((3, 2, 2, 3), (1, 2, 3), 1, 0),
]
CONV_IDS = [f"X{x}-W{w}-s{s}-p{p}" for x, w, s, p in CONV_CASES]


def _conv_problem(rng, x_shape, w_shape):
    N, C = x_shape[:2]
    F, kh, kw = w_shape
    return rng.normal(size=x_shape), rng.normal(size=(F, C, kh, kw))


@pytest.mark.parametrize("x_shape, w_shape, stride, padding", CONV_CASES, ids=CONV_IDS)
def test_conv2d_against_explicit_sums(rng, x_shape, w_shape, stride, padding):
    X, W = _conv_problem(rng, x_shape, w_shape)
    Y = conv2d(X, W, stride, padding)
    want = _conv_ag(X, W, stride, padding)
    assert Y.shape == want.shape
    _assert_exact(Y, want)


@pytest.mark.parametrize("x_shape, w_shape, stride, padding", CONV_CASES, ids=CONV_IDS)
def test_conv2d_backward_against_oracles(rng, x_shape, w_shape, stride, padding):
    X, W = _conv_problem(rng, x_shape, w_shape)
    dY = rng.normal(size=conv2d(X, W, stride, padding).shape)
    got = conv2d_backward(X, W, dY, stride, padding)
    assert isinstance(got, ConvGrads)

    def f(X_, W_):
        return _conv_ag(X_, W_, stride, padding)

    for argnum, (g, var) in enumerate(zip(got, (X, W), strict=True)):
        assert g.shape == var.shape
        want_ag, want_fd = _grads_of_z(f, dY, [X, W], argnum)
        _assert_exact(g, want_ag)
        _assert_close_fd(g, want_fd)


@pytest.mark.parametrize("x_shape, w_shape, stride, padding", CONV_CASES, ids=CONV_IDS)
def test_conv2d_adjoint_identity(rng, x_shape, w_shape, stride, padding):
    # The convolution is linear in X and in W, so J v is conv2d itself: ⟨u, conv2d(V, W)⟩ = ⟨dX(u), V⟩.
    X, W = _conv_problem(rng, x_shape, w_shape)
    u = rng.normal(size=conv2d(X, W, stride, padding).shape)
    Vx, Vw = rng.normal(size=X.shape), rng.normal(size=W.shape)
    dX, dW = conv2d_backward(X, W, u, stride, padding)
    for lhs, rhs in ((np.vdot(u, conv2d(Vx, W, stride, padding)), np.vdot(dX, Vx)),
                     (np.vdot(u, conv2d(X, Vw, stride, padding)), np.vdot(dW, Vw))):
        scale = np.vdot(np.abs(u), np.abs(conv2d(np.abs(Vx), np.abs(W), stride, padding))) + np.vdot(
            np.abs(u), np.abs(conv2d(np.abs(X), np.abs(Vw), stride, padding)))
        assert abs(lhs - rhs) <= ORDER_RTOL * scale


@pytest.mark.parametrize("x_shape, w_shape, stride, padding", CONV_CASES, ids=CONV_IDS)
def test_col2im_is_the_adjoint_of_im2col(rng, x_shape, w_shape, stride, padding):
    X = rng.normal(size=x_shape)
    _, kh, kw = w_shape
    cols = im2col(X, kh, kw, stride, padding)
    G = rng.normal(size=cols.shape)
    lhs, rhs = np.vdot(cols, G), np.vdot(X, col2im(G, X.shape, kh, kw, stride, padding))
    assert abs(lhs - rhs) <= ORDER_RTOL * np.vdot(np.abs(cols), np.abs(G))


def test_conv2d_is_a_linear_layer_after_unfolding(rng):
    # Yₘ = im2col(X) Wₘᵀ: chapter 03's Y = AW with A = im2col(X), W = Wₘᵀ.
    X, W = rng.normal(size=(2, 3, 5, 4)), rng.normal(size=(4, 3, 3, 2))
    Ym = im2col(X, 3, 2, 2, 1) @ W.reshape(4, -1).T
    Y = conv2d(X, W, stride=2, padding=1)
    _assert_exact(Y, Ym.reshape(2, Y.shape[2], Y.shape[3], 4).transpose(0, 3, 1, 2))


# --- the adjoint identity for the nonlinear layers, with numeric_jacobian ---------------------------

def _layers_at(rng):
    """(name, f of one array, VJP of that array, the point) for each nonlinear layer and argument."""
    X, gamma, beta = rng.normal(size=(4, 3)), rng.normal(size=3), rng.normal(size=3)
    Q, K, V = rng.normal(size=(3, 2)), rng.normal(size=(4, 2)), rng.normal(size=(4, 5))
    U = rng.normal(size=(3, 4))
    out = [("softmax", softmax, lambda u: softmax_backward(softmax(U), u), U)]
    for name, (f, fb, _) in NORMS.items():
        out.append((f"{name} X", lambda X_, f=f: f(X_, gamma, beta),
                    lambda u, fb=fb: fb(X, gamma, beta, u).dX, X))
        out.append((f"{name} gamma", lambda g, f=f: f(X, g, beta),
                    lambda u, fb=fb: fb(X, gamma, beta, u).dgamma, gamma))
    out += [("attention Q", lambda Q_: attention(Q_, K, V),
             lambda u: attention_backward(Q, K, V, u).dQ, Q),
            ("attention K", lambda K_: attention(Q, K_, V),
             lambda u: attention_backward(Q, K, V, u).dK, K),
            ("attention V", lambda V_: attention(Q, K, V_),
             lambda u: attention_backward(Q, K, V, u).dV, V)]
    return out


def test_adjoint_identity_against_numeric_jacobian(rng):
    # ⟨u, J v⟩ = ⟨VJP(u), v⟩, J from central differences (numerator layout, C-order vec).
    for name, f, vjp, x in _layers_at(rng):
        J = numeric_jacobian(f, x)
        y = f(x)
        u, v = rng.normal(size=y.shape), rng.normal(size=x.shape)
        lhs, rhs = u.ravel() @ (J @ v.ravel()), np.vdot(vjp(u), v)
        assert abs(lhs - rhs) <= FD_RTOL * max(1.0, abs(lhs)), (name, lhs, rhs)
        _assert_close_fd(vjp(u).ravel(), J.T @ u.ravel())  # the whole transposed Jacobian, too


# --- named tuples, inputs untouched -----------------------------------------------------------------

def test_named_tuple_fields():
    assert NormGrads._fields == ("dX", "dgamma", "dbeta")
    assert AttentionGrads._fields == ("dQ", "dK", "dV")
    assert ConvGrads._fields == ("dX", "dW")


def test_inputs_are_not_modified_and_results_are_new(rng):
    X, gamma, beta, dY = _normal(rng, (4, 3), 3, 3, (4, 3))
    Q, K, V, dO = _normal(rng, (3, 2), (4, 2), (4, 5), (3, 5))
    Xc, Wc, dYc = _normal(rng, (1, 2, 4, 4), (3, 2, 3, 3), (1, 3, 2, 2))
    S = softmax(X)
    assert_inputs_kept_and_results_new(
        (X, gamma, beta, dY, Q, K, V, dO, Xc, Wc, dYc, S),
        lambda: [softmax_backward(S, dY), layer_norm(X, gamma, beta), batch_norm(X, gamma, beta),
                 *layer_norm_backward(X, gamma, beta, dY), *batch_norm_backward(X, gamma, beta, dY),
                 attention(Q, K, V), *attention_backward(Q, K, V, dO), conv2d(Xc, Wc, 1, 0),
                 *conv2d_backward(Xc, Wc, dYc), im2col(Xc, 3, 3),
                 col2im(np.ones((4, 18)), Xc.shape, 3, 3)],
    )


# --- refusals: one test each, the message names the shapes -------------------------------------------

def test_softmax_backward_refuses_mismatched_shapes():
    with pytest.raises(ValueError, match=r"dS has shape \(3, 2\) and S has shape \(2, 3\).*\(2, 3\)"):
        softmax_backward(np.full((2, 3), 1 / 3), np.zeros((3, 2)))


def test_softmax_backward_refuses_a_vector():
    with pytest.raises(ValueError, match=r"S must be 2-D; got shape \(3,\)"):
        softmax_backward(np.full(3, 1 / 3), np.zeros(3))


@pytest.mark.parametrize("name, shape, message", [
    ("batch_norm", (1, 3), r"batch_norm normalises each column of X over the m rows \(the batch\); "
                           r"X has shape \(1, 3\), so every output would be beta .*need m >= 2"),
    ("layer_norm", (4, 1), r"layer_norm normalises each row of X over the n columns \(the "
                           r"features\); X has shape \(4, 1\), .*need n >= 2"),
])
@pytest.mark.parametrize("backward", [False, True], ids=["forward", "backward"])
def test_norm_refuses_a_single_entry(name, shape, message, backward):
    # m = 1 (batch_norm) or n = 1 (layer_norm): X̂ = 0, so Y = β and dX = 0 whatever X is.
    X, n = np.ones(shape), shape[1]
    with pytest.raises(ValueError, match=message):
        if backward:
            NORMS[name][1](X, np.ones(n), np.zeros(n), np.ones(shape))
        else:
            NORMS[name][0](X, np.ones(n), np.zeros(n))


@pytest.mark.parametrize("S, seen", [
    ([[0.5, -1.0, 2.0]], r"smallest entry -1, row sums \[1.5\]"),   # logits passed as S
    ([[0.2, 0.3, 0.4], [0.5, 0.25, 0.25]], r"smallest entry 0.2, row sums \[0.9 1. \]"),
], ids=["logits", "rows-not-summing-to-1"])
def test_softmax_backward_refuses_what_is_not_a_softmax_output(S, seen):
    with pytest.raises(ValueError, match=r"S must be softmax\(U\) \(rows >= 0 summing to 1\), "
                                         r"not the logits U; S has shape \(\d, 3\), " + seen):
        softmax_backward(S, np.zeros(np.shape(S)))


def test_softmax_backward_accepts_softmax_outputs_of_any_size(rng):
    # rounding in the row sums of a real softmax (float64 or float32) is not refused
    for m, n in [(1, 1), (3, 1000), (2, 10**5)]:
        U = rng.normal(size=(m, n)) * 10
        softmax_backward(softmax(U), np.ones((m, n)))
        softmax_backward(softmax(U).astype(np.float32), np.ones((m, n)))


@pytest.mark.parametrize("name", NORMS)
def test_norm_refuses_gamma_of_the_wrong_length(name):
    with pytest.raises(ValueError, match=rf"gamma has shape \(4,\) and X has shape \(2, 3\): {name} "
                                         r".* must have shape \(3,\)"):
        NORMS[name][0](np.zeros((2, 3)), np.ones(4), np.zeros(3))


@pytest.mark.parametrize("name", NORMS)
def test_norm_refuses_beta_of_the_wrong_length(name):
    with pytest.raises(ValueError, match=r"beta has shape \(2,\) and X has shape \(2, 3\).*\(3,\)"):
        NORMS[name][1](np.zeros((2, 3)), np.ones(3), np.zeros(2), np.zeros((2, 3)))


@pytest.mark.parametrize("name", NORMS)
def test_norm_refuses_gamma_as_a_row(name):
    with pytest.raises(ValueError, match=r"gamma must be 1-D; got shape \(1, 3\)"):
        NORMS[name][0](np.zeros((2, 3)), np.ones((1, 3)), np.zeros(3))


@pytest.mark.parametrize("name", NORMS)
def test_norm_backward_refuses_dY_of_another_shape(name):
    with pytest.raises(ValueError, match=r"dY has shape \(3, 2\) and X has shape \(2, 3\).*\(2, 3\)"):
        NORMS[name][1](np.zeros((2, 3)), np.ones(3), np.zeros(3), np.zeros((3, 2)))


@pytest.mark.parametrize("name", NORMS)
def test_norm_refuses_a_non_positive_eps(name):
    with pytest.raises(ValueError, match=r"eps must be a positive finite number; got 0"):
        NORMS[name][0](np.zeros((2, 3)), np.ones(3), np.zeros(3), eps=0)


def test_attention_refuses_keys_of_another_size():
    with pytest.raises(ValueError, match=r"Q has shape \(3, 4\) and K has shape \(5, 2\): QKᵀ needs"):
        attention(np.zeros((3, 4)), np.zeros((5, 2)), np.zeros((5, 2)))


def test_attention_refuses_a_value_count_unlike_the_keys():
    with pytest.raises(ValueError,
                       match=r"K has shape \(5, 4\) and V has shape \(4, 2\).*rows as K \(5\)"):
        attention_backward(np.zeros((3, 4)), np.zeros((5, 4)), np.zeros((4, 2)), np.zeros((3, 2)))


def test_attention_backward_refuses_dO_of_another_shape():
    with pytest.raises(ValueError, match=r"dO has shape \(2, 3\); with Q \(3, 4\) and V \(5, 2\) the "
                                         r"output O has shape \(3, 2\)"):
        attention_backward(np.zeros((3, 4)), np.zeros((5, 4)), np.zeros((5, 2)), np.zeros((2, 3)))


def test_conv2d_refuses_a_channel_mismatch():
    with pytest.raises(ValueError, match=r"X has shape \(1, 3, 5, 5\) and W has shape \(2, 4, 3, 3\).*"
                                         r"W.shape\[1\] \(4\) must equal X.shape\[1\] \(3\)"):
        conv2d(np.zeros((1, 3, 5, 5)), np.zeros((2, 4, 3, 3)))


def test_conv2d_refuses_a_kernel_larger_than_the_padded_image():
    with pytest.raises(ValueError, match=r"the kernel \(5, 1\) is larger than the padded image \(4, 6\) "
                                         r"\(X has shape \(1, 1, 2, 4\), padding 1\)"):
        conv2d(np.zeros((1, 1, 2, 4)), np.zeros((1, 1, 5, 1)), padding=1)


def test_conv2d_backward_refuses_dY_of_another_shape():
    with pytest.raises(ValueError, match=r"dY has shape \(1, 2, 3, 3\); with X \(1, 1, 5, 5\), W "
                                         r"\(2, 1, 3, 3\), stride 2 and padding 0 the output Y has "
                                         r"shape \(1, 2, 2, 2\)"):
        conv2d_backward(np.zeros((1, 1, 5, 5)), np.zeros((2, 1, 3, 3)), np.zeros((1, 2, 3, 3)), stride=2)


def test_conv2d_refuses_an_image_without_channels():
    with pytest.raises(ValueError, match=r"X must be 4-D; got shape \(5, 5\)"):
        conv2d(np.zeros((5, 5)), np.zeros((1, 1, 3, 3)))


@pytest.mark.parametrize("stride, message", [(0, "got 0"), (1.5, "got 1.5"), (True, "got True")])
def test_conv2d_refuses_a_bad_stride(stride, message):
    with pytest.raises(ValueError, match=rf"stride must be an integer >= 1; {message}"):
        conv2d(np.zeros((1, 1, 5, 5)), np.zeros((1, 1, 3, 3)), stride=stride)


def test_conv2d_refuses_a_negative_padding():
    with pytest.raises(ValueError, match=r"padding must be an integer >= 0; got -1"):
        conv2d(np.zeros((1, 1, 5, 5)), np.zeros((1, 1, 3, 3)), padding=-1)


def test_col2im_refuses_cols_of_another_shape():
    with pytest.raises(ValueError, match=r"cols has shape \(8, 4\); im2col of an image \(1, 1, 4, 4\) "
                                         r"with a \(2, 2\) kernel, stride 1, padding 0 has shape "
                                         r"\(9, 4\)"):
        col2im(np.zeros((8, 4)), (1, 1, 4, 4), 2, 2)


@pytest.mark.parametrize("call, name", [
    (lambda bad: softmax_backward(bad, np.zeros((2, 3))), "S"),
    (lambda bad: layer_norm(bad, np.ones(3), np.zeros(3)), "X"),
    (lambda bad: batch_norm_backward(np.zeros((2, 3)), np.ones(3), np.zeros(3), bad), "dY"),
    (lambda bad: attention(bad, np.zeros((4, 3)), np.zeros((4, 1))), "Q"),
    (lambda bad: conv2d(np.zeros((1, 1, 2, 3)), bad[None, None]), "W"),
], ids=["softmax_backward-S", "layer_norm-X", "batch_norm_backward-dY", "attention-Q", "conv2d-W"])
def test_non_finite_input_is_named(call, name):
    bad = np.zeros((2, 3))
    bad[1, 0] = np.nan
    index = r"\[1, 0\]" if name != "W" else r"\[0, 0, 1, 0\]"
    with pytest.raises(ValueError, match=rf"{name} must be finite; {name}{index} = nan"):
        call(bad)


def test_conv2d_ignores_the_rows_and_columns_no_window_reads(rng):
    # H + 2p − kh = 6 − 3 = 3 is not a multiple of the stride 2: windows start at rows 0 and 2, so
    # row 5 (and column 5) is read by none. Y does not change with it, and its gradient is 0.
    X, W = rng.normal(size=(2, 3, 6, 6)), rng.normal(size=(4, 3, 3, 3))
    Y = conv2d(X, W, stride=2)
    assert Y.shape == (2, 4, 2, 2)
    X2 = X.copy()
    X2[:, :, 5, :] += 1.0
    X2[:, :, :, 5] -= 2.0
    np.testing.assert_array_equal(conv2d(X2, W, stride=2), Y)
    dX = conv2d_backward(X, W, rng.normal(size=Y.shape), stride=2).dX
    np.testing.assert_array_equal(dX[:, :, 5, :], 0.0)
    np.testing.assert_array_equal(dX[:, :, :, 5], 0.0)
    assert np.all(np.abs(dX[:, :, :5, :5]).max(axis=(0, 1)) > 0)  # every other pixel is read


# --- conv2d_backward a chunk of images at a time: never the whole X_col --------------------------------

CHUNK_CASES = [  # (N, C, H, W), (F, kh, kw), stride, padding: strides 1-4, 1x1, non-square
    ((3, 2, 7, 5), (2, 3, 2), 1, 0),
    ((3, 2, 7, 5), (2, 3, 2), 2, 1),
    ((5, 1, 9, 6), (3, 1, 1), 3, 0),
    ((3, 2, 6, 9), (2, 2, 4), 4, 2),
    ((4, 3, 5, 4), (2, 1, 3), 1, 1),
]


@pytest.mark.parametrize("images_per_chunk", [1, 2, 100])
@pytest.mark.parametrize("x_shape, w_shape, stride, padding", CHUNK_CASES,
                         ids=[f"X{x}-W{w}-s{s}-p{p}" for x, w, s, p in CHUNK_CASES])
def test_conv2d_backward_by_chunks_against_oracles(rng, monkeypatch, images_per_chunk, x_shape,
                                                   w_shape, stride, padding):
    # Chunks of 1 image, of 2 (the last one shorter for N = 3, 5) and all at once: autograd through
    # the explicit sums, central differences, and the whole unfolding (public im2col/col2im).
    from mathchain import layers

    X, W = _conv_problem(rng, x_shape, w_shape)
    F, C, kh, kw = W.shape
    dY = rng.normal(size=conv2d(X, W, stride, padding).shape)
    Ho, Wo = dY.shape[2:]
    monkeypatch.setattr(layers, "_CONV_CHUNK_BYTES", 8 * C * kh * kw * Ho * Wo * images_per_chunk)
    dX, dW = conv2d_backward(X, W, dY, stride, padding)
    dYm = dY.transpose(0, 2, 3, 1).reshape(-1, F)  # rows (n, a, b), like im2col's
    _assert_exact(dW, (dYm.T @ im2col(X, kh, kw, stride, padding)).reshape(W.shape))
    _assert_exact(dX, col2im(dYm @ W.reshape(F, -1), X.shape, kh, kw, stride, padding))

    def f(X_, W_):
        return _conv_ag(X_, W_, stride, padding)

    for argnum, g in enumerate((dX, dW)):
        want_ag, want_fd = _grads_of_z(f, dY, [X, W], argnum)
        _assert_exact(g, want_ag)
        _assert_close_fd(g, want_fd)


@pytest.mark.parametrize("stride, padding", [(1, 1), (2, 1), (1, 0)])
def test_conv2d_backward_never_forms_the_unfolded_image(rng, stride, padding):
    # X_col is (N·H_out·W_out, C·kh·kw): 5.3 MB for stride 1, more than the whole call may take. The
    # call allocates dX and dW (the results), and per chunk of images X_pad, X_colᵀ (reused for its
    # gradient), dYₘᵀ and col2im's padded dX, and NumPy's iterator buffers (8192 entries an operand):
    # bounded by the chunk size, not by N.
    from mathchain import layers

    N, C, H, Wd, F, kh, kw = 48, 8, 16, 12, 4, 3, 3
    X, W = rng.normal(size=(N, C, H, Wd)), rng.normal(size=(F, C, kh, kw))
    Ho, Wo = (H + 2 * padding - kh) // stride + 1, (Wd + 2 * padding - kw) // stride + 1
    dY = rng.normal(size=(N, F, Ho, Wo))
    unfolded = 8 * N * Ho * Wo * C * kh * kw
    per_image = 8 * C * kh * kw * Ho * Wo
    images = max(1, layers._CONV_CHUNK_BYTES // per_image)
    if images >= N // 2:  # the default chunk would hold half of this X: make it hold 3 images
        images = 3
    chunk_bytes = images * per_image
    padded = 8 * images * C * (H + 2 * padding) * (Wd + 2 * padding)
    bound = X.nbytes + W.nbytes + chunk_bytes + 2 * padded + 8 * images * F * Ho * Wo + (256 << 10)
    assert bound < unfolded
    old = layers._CONV_CHUNK_BYTES
    layers._CONV_CHUNK_BYTES = chunk_bytes
    tracemalloc.start()
    try:
        conv2d_backward(X, W, dY, stride, padding)
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
        layers._CONV_CHUNK_BYTES = old
    assert peak <= bound, (peak, bound, unfolded)
