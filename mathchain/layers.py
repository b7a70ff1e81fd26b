"""The layers of modern networks (chapter 09): vector–Jacobian products that never form the Jacobian.

Each ``*_backward`` function is a VJP: given ``dY = ∂z/∂Y`` for some scalar z, it returns the
gradients of z with respect to the layer's inputs, each in denominator layout (the shape of its
variable). They are plain functions of arrays, so a reverse-mode engine can call them directly.
Batches are rows (``(m, n)``: m samples of n features); images are ``(N, C, H, W)``.
"""

from __future__ import annotations

import operator
from typing import NamedTuple

import numpy as np

from . import _checks
from .network import softmax


class NormGrads(NamedTuple):
    """Gradients of a scalar z through Y = γ ⊙ X̂ + β, each shaped like its variable."""

    dX: np.ndarray  # ∂z/∂X, shape (m, n) of X
    dgamma: np.ndarray  # ∂z/∂γ = Σ over the batch of ∂z/∂Y ⊙ X̂, shape (n,)
    dbeta: np.ndarray  # ∂z/∂β = Σ over the batch of ∂z/∂Y, shape (n,)


class AttentionGrads(NamedTuple):
    """Gradients of a scalar z through O = softmax(QKᵀ/√d) V."""

    dQ: np.ndarray  # ∂z/∂Q = ∂z/∂A K / √d, shape (m, d)
    dK: np.ndarray  # ∂z/∂K = (∂z/∂A)ᵀ Q / √d, shape (n, d)
    dV: np.ndarray  # ∂z/∂V = Sᵀ ∂z/∂O, shape (n, d_v)


class ConvGrads(NamedTuple):
    """Gradients of a scalar z through Y = conv2d(X, W)."""

    dX: np.ndarray  # ∂z/∂X = col2im(∂z/∂Yₘ Wₘ), shape (N, C, H, W)
    dW: np.ndarray  # ∂z/∂W = (∂z/∂Yₘ)ᵀ im2col(X), shape (F, C, kh, kw)


def _same_shape(name: str, a: np.ndarray, like_name: str, like: np.ndarray, why: str) -> None:
    if a.shape != like.shape:
        raise ValueError(
            f"{name} has shape {a.shape} and {like_name} has shape {like.shape}: {why}, so {name} "
            f"must have shape {like.shape}"
        )


# --- softmax ------------------------------------------------------------------------------------

# softmax rows sum to 1 up to rounding: about n·2⁻⁵³ in float64; 1e-6 also admits a float32 softmax.
_ROW_SUM_ATOL = 1e-6


def _softmax_vjp(S: np.ndarray, dS: np.ndarray) -> np.ndarray:
    return S * (dS - np.sum(dS * S, axis=1, keepdims=True))  # ∂z/∂U = S ⊙ (∂z/∂S − rowsum(∂z/∂S ⊙ S))


def softmax_backward(S, dS) -> np.ndarray:
    """∂z/∂U = S ⊙ (∂z/∂S − rowsum(∂z/∂S ⊙ S)), for S = softmax(U) row by row.

    ``S`` (the softmax output) and ``dS`` (``∂z/∂S``) are ``(m, n)``; so is the result. Block i
    (sample i) of the Jacobian is diag(sᵢ) − sᵢsᵢᵀ, never formed: applying it costs O(mn), forming
    it O(mn²). ``S`` must be the output, not the logits U: its rows are checked (≥ 0, sum 1).
    """
    S = _checks.array("S", S, ndim=2)
    dS = _checks.array("dS", dS, ndim=2)
    _same_shape("dS", dS, "S", S, "dS = ∂z/∂S has the shape of S")
    sums = S.sum(axis=1)
    if np.any(S < 0) or not np.allclose(sums, 1.0, rtol=0, atol=_ROW_SUM_ATOL):
        raise ValueError(
            f"S must be softmax(U) (rows >= 0 summing to 1), not the logits U; S has shape "
            f"{S.shape}, smallest entry {S.min():.3g}, row sums {np.array2string(sums, precision=3)}"
        )
    return _softmax_vjp(S, dS)


# --- normalisation ------------------------------------------------------------------------------

def _norm_args(X, gamma, beta, eps, what: str):
    X = _checks.array("X", X, ndim=2)
    gamma = _checks.array("gamma", gamma, ndim=1)
    beta = _checks.array("beta", beta, ndim=1)
    n = X.shape[1]
    for name, v in (("gamma", gamma), ("beta", beta)):
        if v.shape != (n,):
            raise ValueError(
                f"{name} has shape {v.shape} and X has shape {X.shape}: {what} scales and shifts "
                f"each of the {n} columns of X, so {name} must have shape ({n},)"
            )
    along, over, size, letter = (
        ("row", "n columns (the features)", n, "n") if what == "layer_norm"
        else ("column", "m rows (the batch)", X.shape[0], "m"))
    if size < 2:
        raise ValueError(
            f"{what} normalises each {along} of X over the {over}; X has shape {X.shape}, so "
            f"every output would be beta and every gradient dX zero: need {letter} >= 2"
        )
    return X, gamma, beta, _checks.positive("eps", eps)


def _normalize(X: np.ndarray, axis: int, eps: float) -> tuple[np.ndarray, np.ndarray]:
    """(X̂, σ): X̂ = (X − μ)/σ along ``axis``, σ = √(v + ε) with keepdims.

    μ and v are computed on X/c, c = 2ᵏ ≥ 1 with |X/c| < 2 along the axis. Dividing by a power of two
    is exact, so the results are the formula's to the last bit, but v no longer overflows: formed
    directly, |X| ≳ 1e154 gives v = inf, σ = inf, X̂ = 0 and zero gradients.
    """
    c = np.ldexp(1.0, np.maximum(np.frexp(np.abs(X).max(axis=axis, keepdims=True))[1] - 1, 0))
    Xc = X / c
    D = Xc - Xc.mean(axis=axis, keepdims=True)  # (X − μ)/c, μ the mean along the axis
    if np.any(np.abs(D) > np.finfo(np.float64).max / c):
        raise ValueError(
            f"X has shape {X.shape} and entries up to {np.abs(X).max():.3g}: X − μ overflows "
            "float64 (beyond 1.8e308); scale X down (normalisation does not depend on the scale)"
        )
    v = np.mean(D * D, axis=axis, keepdims=True)  # v/c², v the biased variance
    sigma = np.where(v > 0, c * np.sqrt(v + eps / c / c), np.sqrt(eps))  # σ = c √(v/c² + ε/c²)
    return c * D / sigma, sigma  # X̂ = (X − μ)/σ


def _normalize_vjp(Xhat, sigma, dXhat, axis: int) -> np.ndarray:
    """∂z/∂X = (∂z/∂X̂ − mean(∂z/∂X̂) − X̂ ⊙ mean(∂z/∂X̂ ⊙ X̂)) / σ, means along ``axis``."""
    mean_g = dXhat.mean(axis=axis, keepdims=True)
    mean_gx = (dXhat * Xhat).mean(axis=axis, keepdims=True)
    return (dXhat - mean_g - Xhat * mean_gx) / sigma  # (g − mean g − X̂ ⊙ mean(g ⊙ X̂)) / σ


# Rows of one block of the fused layer-norm backward: its X, dY, dX and X̂ blocks (512 KiB each, 64
# rows at n = 1024) stay in the cache across the block's dozen passes, so X and dY are read from
# memory once. Paired rounds on the benchmark machine, against 2 MiB blocks: 0.59x at 512x512 (the
# two scratch blocks, fresh pages at each call, are 4x smaller), 0.99x at 4096x1024; 128 KiB 1.13x.
_ROW_BLOCK_BYTES = 512 << 10


def _layer_norm_vjp_blocks(X, gamma, dY, eps) -> NormGrads | None:
    """layer_norm_backward block by block of rows, every pass of a block while it is in the cache.

    Per row: μ, D = X − μ, v = DᵀD/n, X̂ = D/σ; g = dY ⊙ γ; dX = (g − mean g − X̂ mean(g ⊙ X̂))/σ,
    computed in place in dX (g) and in one scratch block (D, then X̂, then X̂ ⊙ mean(g ⊙ X̂)); the
    column sums dγ, dβ are added block by block. None if some v is not finite (|X| ≳ 1e154): the
    caller then takes :func:`_normalize`'s scaled path. Otherwise the values are the formula's: with
    v finite, scaling X by a power of two as :func:`_normalize` does changes no rounding.
    """
    m, n = X.shape
    rows = max(1, min(m, _ROW_BLOCK_BYTES // (8 * n)))
    dX = np.empty((m, n))
    dgamma, dbeta = np.zeros(n), np.zeros(n)
    scratch, product = np.empty((rows, n)), np.empty((rows, n))
    with np.errstate(over="ignore", invalid="ignore"):  # an overflow is detected on v below
        for first in range(0, m, rows):
            last = min(m, first + rows)
            X_b, dY_b, g = X[first:last], dY[first:last], dX[first:last]
            D, P = scratch[: last - first], product[: last - first]
            np.subtract(X_b, X_b.mean(axis=1, keepdims=True), out=D)  # D = X − μ
            v = np.einsum("ij,ij->i", D, D) / n  # v = mean(D ⊙ D), one pass, no temporary
            if not np.isfinite(v).all():
                return None
            inv_sigma = (1.0 / np.sqrt(v + eps))[:, None]  # 1/σ, σ = √(v + ε)
            D *= inv_sigma  # X̂ = D/σ
            dgamma += np.multiply(dY_b, D, out=P).sum(axis=0)  # ∂z/∂γ = Σᵢ dY ⊙ X̂
            dbeta += dY_b.sum(axis=0)  # ∂z/∂β = Σᵢ dY
            np.multiply(dY_b, gamma, out=g)  # g = ∂z/∂X̂ = dY ⊙ γ
            mean_gx = np.einsum("ij,ij->i", g, D)[:, None] / n  # mean(g ⊙ X̂)
            g -= g.mean(axis=1, keepdims=True)  # g − mean g
            D *= mean_gx
            g -= D  # g − mean g − X̂ ⊙ mean(g ⊙ X̂)
            g *= inv_sigma  # ∂z/∂X = (g − mean g − X̂ ⊙ mean(g ⊙ X̂)) / σ
    return NormGrads(dX, dgamma, dbeta)


def _norm_backward(X, gamma, beta, dY, eps, axis, what) -> NormGrads:
    X, gamma, beta, eps = _norm_args(X, gamma, beta, eps, what)
    dY = _checks.array("dY", dY, ndim=2)
    _same_shape("dY", dY, "X", X, f"{what} keeps the shape of X and dY = ∂z/∂Y has it too")
    if axis == 1:
        fused = _layer_norm_vjp_blocks(X, gamma, dY, eps)
        if fused is not None:
            return fused
    Xhat, sigma = _normalize(X, axis, eps)
    dgamma = np.sum(dY * Xhat, axis=0)  # ∂z/∂γ_j = Σ_i ∂z/∂Y_ij X̂_ij
    dbeta = np.sum(dY, axis=0)  # ∂z/∂β_j = Σ_i ∂z/∂Y_ij: the gradient of a broadcast is a sum
    dX = _normalize_vjp(Xhat, sigma, dY * gamma, axis)  # ∂z/∂X̂ = ∂z/∂Y ⊙ γ
    return NormGrads(dX, dgamma, dbeta)


def layer_norm(X, gamma, beta, eps=1e-5) -> np.ndarray:
    """Y = γ ⊙ (X − μ)/√(v + ε) + β, μ and v the mean and (biased) variance of each row of X.

    ``X`` is ``(m, n)``; ``gamma`` and ``beta`` are ``(n,)``, broadcast over the rows; Y is ``(m, n)``.
    Each sample is normalised on its own: row i of Y depends on row i of X only.
    """
    X, gamma, beta, eps = _norm_args(X, gamma, beta, eps, "layer_norm")
    Xhat, _ = _normalize(X, 1, eps)
    return Xhat * gamma + beta  # Y = X̂ ⊙ γ + β, γ and β broadcast over the rows


def layer_norm_backward(X, gamma, beta, dY, eps=1e-5) -> NormGrads:
    """(dX, dγ, dβ) = ((g − mean g − X̂ ⊙ mean(g ⊙ X̂))/σ, Σᵢ dY ⊙ X̂, Σᵢ dY), g = dY ⊙ γ, means per row.

    ``X`` and ``dY = ∂z/∂Y`` are ``(m, n)``, ``gamma`` and ``beta`` ``(n,)``; the results have the
    shapes of X, γ, β. σ = √(v + ε) is each row's; the row's Jacobian is n × n, never formed.
    """
    return _norm_backward(X, gamma, beta, dY, eps, 1, "layer_norm")


def batch_norm(X, gamma, beta, eps=1e-5) -> np.ndarray:
    """Y = γ ⊙ (X − μ)/√(v + ε) + β, μ and v the mean and (biased) variance of each column of X.

    ``X`` is ``(m, n)``: the statistics are over the m rows (the batch), training mode; ``gamma`` and
    ``beta`` are ``(n,)``; Y is ``(m, n)``. Every row of Y depends on every row of X.
    """
    X, gamma, beta, eps = _norm_args(X, gamma, beta, eps, "batch_norm")
    Xhat, _ = _normalize(X, 0, eps)
    return Xhat * gamma + beta  # Y = X̂ ⊙ γ + β


def batch_norm_backward(X, gamma, beta, dY, eps=1e-5) -> NormGrads:
    """(dX, dγ, dβ) = (γ ⊙ (dY − mean dY − X̂ ⊙ mean(dY ⊙ X̂))/σ, Σᵢ dY ⊙ X̂, Σᵢ dY), means per column.

    ``X`` and ``dY = ∂z/∂Y`` are ``(m, n)``, ``gamma`` and ``beta`` ``(n,)``; the results have the
    shapes of X, γ, β. The means over the batch couple the samples: dX's row i uses all of dY.
    """
    return _norm_backward(X, gamma, beta, dY, eps, 0, "batch_norm")


# --- attention ----------------------------------------------------------------------------------

def _attention_args(Q, K, V):
    Q = _checks.array("Q", Q, ndim=2)
    K = _checks.array("K", K, ndim=2)
    V = _checks.array("V", V, ndim=2)
    if K.shape[1] != Q.shape[1]:
        raise ValueError(
            f"Q has shape {Q.shape} and K has shape {K.shape}: QKᵀ needs the columns of Q "
            f"({Q.shape[1]}) to equal the columns of K ({K.shape[1]}), the key size d"
        )
    if V.shape[0] != K.shape[0]:
        raise ValueError(
            f"K has shape {K.shape} and V has shape {V.shape}: each key needs a value, so V must "
            f"have as many rows as K ({K.shape[0]})"
        )
    return Q, K, V


def _attention_weights(Q, K):
    return softmax(Q @ K.T / np.sqrt(Q.shape[1]))  # S = softmax(QKᵀ/√d), (m, n)


def attention(Q, K, V) -> np.ndarray:
    """O = softmax(QKᵀ/√d) V, the softmax taken row by row.

    ``Q`` is ``(m, d)``, ``K`` is ``(n, d)``, ``V`` is ``(n, d_v)``; O is ``(m, d_v)``: each of the m
    queries gets a weighted mean of the n values, weighted by how well it matches each key.
    """
    Q, K, V = _attention_args(Q, K, V)
    return _attention_weights(Q, K) @ V  # O = S V


def attention_backward(Q, K, V, dO) -> AttentionGrads:
    """(dQ, dK, dV) = (dA K/√d, dAᵀ Q/√d, Sᵀ dO), dA = S ⊙ (dS − rowsum(dS ⊙ S)), dS = dO Vᵀ.

    ``Q`` ``(m, d)``, ``K`` ``(n, d)``, ``V`` ``(n, d_v)``, ``dO = ∂z/∂O`` ``(m, d_v)``; the results
    have the shapes of Q, K, V. S = softmax(A), A = QKᵀ/√d, both ``(m, n)``, recomputed here.
    """
    Q, K, V = _attention_args(Q, K, V)
    dO = _checks.array("dO", dO, ndim=2)
    want = (Q.shape[0], V.shape[1])
    if dO.shape != want:
        raise ValueError(
            f"dO has shape {dO.shape}; with Q {Q.shape} and V {V.shape} the output O has shape "
            f"{want}, and dO = ∂z/∂O must have that shape too"
        )
    S = _attention_weights(Q, K)
    dV = S.T @ dO  # ∂z/∂V = Sᵀ ∂z/∂O
    dA = _softmax_vjp(S, dO @ V.T)  # ∂z/∂S = ∂z/∂O Vᵀ, then the softmax VJP
    scale = 1.0 / np.sqrt(Q.shape[1])
    dQ = dA @ K * scale  # ∂z/∂Q = ∂z/∂A K / √d
    dK = dA.T @ Q * scale  # ∂z/∂K = (∂z/∂A)ᵀ Q / √d
    return AttentionGrads(dQ, dK, dV)


# --- convolution --------------------------------------------------------------------------------

def _count(name: str, value, minimum: int) -> int:
    """``value`` as an int ≥ ``minimum`` (bool, float and text refused), else ``ValueError``."""
    if isinstance(value, (bool, np.bool_)):
        raise ValueError(f"{name} must be an integer >= {minimum}; got {value!r}")
    try:
        v = operator.index(value)
    except TypeError as exc:
        raise ValueError(f"{name} must be an integer >= {minimum}; got {value!r}") from exc
    if v < minimum:
        raise ValueError(f"{name} must be an integer >= {minimum}; got {v}")
    return v


def _out_size(X_shape, kh: int, kw: int, stride: int, padding: int) -> tuple[int, int]:
    H, W_ = X_shape[2], X_shape[3]
    if H + 2 * padding < kh or W_ + 2 * padding < kw:
        raise ValueError(
            f"the kernel ({kh}, {kw}) is larger than the padded image "
            f"({H + 2 * padding}, {W_ + 2 * padding}) (X has shape {X_shape}, padding {padding})"
        )
    return (H + 2 * padding - kh) // stride + 1, (W_ + 2 * padding - kw) // stride + 1


def im2col(X, kh, kw, stride=1, padding=0) -> np.ndarray:
    """X_col[(n, a, b), (c, i, j)] = X_pad[n, c, a·s + i, b·s + j]: every patch as one row.

    ``X`` is ``(N, C, H, W)``; the result is ``(N·H_out·W_out, C·kh·kw)``, rows in C order of
    (n, a, b), columns in C order of (c, i, j), the order of ``W.reshape(F, -1)``'s columns.
    """
    X = _checks.array("X", X, ndim=4)
    kh, kw = _count("kh", kh, 1), _count("kw", kw, 1)
    stride, padding = _count("stride", stride, 1), _count("padding", padding, 0)
    _out_size(X.shape, kh, kw, stride, padding)
    return _im2col_t(X, kh, kw, stride, padding).T


def _im2col_t(X, kh, kw, stride, padding):
    """X_colᵀ, ``(C·kh·kw, N·H_out·W_out)``: transposed, so each (c, i, j) is one contiguous row."""
    C = X.shape[1]
    Xp = np.pad(X, ((0, 0), (0, 0), (padding, padding), (padding, padding)))  # a new array
    windows = np.lib.stride_tricks.sliding_window_view(Xp, (kh, kw), axis=(2, 3))
    windows = windows[:, :, ::stride, ::stride]  # (N, C, H_out, W_out, kh, kw), a view
    return windows.transpose(1, 4, 5, 0, 2, 3).reshape(C * kh * kw, -1)  # one copy


def col2im(cols, X_shape, kh, kw, stride=1, padding=0) -> np.ndarray:
    """X[n, c, h, w] = Σ over the patches that read X[n, c, h, w] of cols[(n, a, b), (c, i, j)].

    ``cols`` is ``(N·H_out·W_out, C·kh·kw)``; the result has shape ``X_shape = (N, C, H, W)``. The
    adjoint of :func:`im2col`: ⟨im2col(X), G⟩ = ⟨X, col2im(G)⟩; a pixel read by several patches
    collects the sum of their entries (the gradient of a copy is a sum).
    """
    cols = _checks.array("cols", cols, ndim=2)
    X_shape = tuple(_count("X_shape", s, 1) for s in X_shape)
    if len(X_shape) != 4:
        raise ValueError(f"X_shape must be (N, C, H, W); got {X_shape}")
    kh, kw = _count("kh", kh, 1), _count("kw", kw, 1)
    stride, padding = _count("stride", stride, 1), _count("padding", padding, 0)
    Ho, Wo = _out_size(X_shape, kh, kw, stride, padding)
    N, C = X_shape[:2]
    want = (N * Ho * Wo, C * kh * kw)
    if cols.shape != want:
        raise ValueError(
            f"cols has shape {cols.shape}; im2col of an image {X_shape} with a ({kh}, {kw}) kernel, "
            f"stride {stride}, padding {padding} has shape {want}"
        )
    return _col2im_t(cols.T, X_shape, kh, kw, stride, padding)


def _col2im_t(cols_t, X_shape, kh, kw, stride, padding, out=None):
    """col2im of X_colᵀ ``(C·kh·kw, N·H_out·W_out)``: each kernel offset adds one contiguous block.

    Written into ``out`` (shape ``X_shape``) if given, else into a new array.
    """
    N, C, H, W_ = X_shape
    Ho, Wo = _out_size(X_shape, kh, kw, stride, padding)
    patches = cols_t.reshape(C, kh, kw, N, Ho, Wo)
    Xp = np.zeros((C, N, H + 2 * padding, W_ + 2 * padding))  # channels first: patches[:, i, j] fits
    for i in range(kh):  # one offset of the kernel at a time: within it no pixel is read twice
        for j in range(kw):
            Xp[:, :, i : i + stride * Ho : stride, j : j + stride * Wo : stride] += patches[:, i, j]
    X = Xp[:, :, padding : padding + H, padding : padding + W_].transpose(1, 0, 2, 3)
    if out is None:
        return X.copy()
    out[...] = X
    return out


def _conv_args(X, W, stride, padding):
    X = _checks.array("X", X, ndim=4)
    W = _checks.array("W", W, ndim=4)
    stride, padding = _count("stride", stride, 1), _count("padding", padding, 0)
    if W.shape[1] != X.shape[1]:
        raise ValueError(
            f"X has shape {X.shape} and W has shape {W.shape}: each filter W[f] needs one kernel per "
            f"channel of X, so W.shape[1] ({W.shape[1]}) must equal X.shape[1] ({X.shape[1]})"
        )
    Ho, Wo = _out_size(X.shape, W.shape[2], W.shape[3], stride, padding)
    return X, W, stride, padding, Ho, Wo


def conv2d(X, W, stride=1, padding=0) -> np.ndarray:
    """Y[n, f, a, b] = Σ_{c,i,j} W[f, c, i, j] X_pad[n, c, a·s + i, b·s + j] (cross-correlation).

    ``X`` is ``(N, C, H, W)``, ``W`` is ``(F, C, kh, kw)``; Y is ``(N, F, H_out, W_out)`` with
    H_out = ⌊(H + 2·padding − kh)/stride⌋ + 1 (W_out likewise). Computed as the linear layer
    Yₘ = im2col(X) Wₘᵀ, Wₘ = W.reshape(F, C·kh·kw), Yₘ of shape (N·H_out·W_out, F). When the
    stride does not divide H + 2·padding − kh (or W + 2·padding − kw), the last rows (columns) of
    the padded image are read by no window: Y ignores them and their gradient dX is 0.
    """
    X, W, stride, padding, Ho, Wo = _conv_args(X, W, stride, padding)
    F, _, kh, kw = W.shape
    # Yₘ = X_col Wₘᵀ (chapter 03's Y = AW), computed transposed: Yₘᵀ = Wₘ X_colᵀ, (F, N·H_out·W_out)
    Ym_t = W.reshape(F, -1) @ _im2col_t(X, kh, kw, stride, padding)
    return Ym_t.reshape(F, X.shape[0], Ho, Wo).transpose(1, 0, 2, 3).copy()


# Images per chunk of conv2d_backward: their unfolded patches X_colᵀ take at most this many bytes
# (at least one image). The whole X_col, (N·H_out·W_out, C·kh·kw), is never formed: for
# N 16, C 32, 32x32, 3x3 it would take 36 MiB, and its gradient as much again. Smaller chunks
# save memory but cost time on a busy machine (each product wakes BLAS's threads once more):
# 16 MiB took 0.6x the time of 4 MiB chunks on the 2-core benchmark machine (paired rounds, load ~10).
_CONV_CHUNK_BYTES = 16 << 20


def conv2d_backward(X, W, dY, stride=1, padding=0) -> ConvGrads:
    """(dX, dW) = (col2im(dYₘ Wₘ), (dYₘᵀ im2col(X)) reshaped to W), dYₘ = dY as (N·H_out·W_out, F).

    ``X`` ``(N, C, H, W)``, ``W`` ``(F, C, kh, kw)``, ``dY = ∂z/∂Y`` ``(N, F, H_out, W_out)``; the
    results have the shapes of X and W. Chapter 03's rules on the unfolded layer, then col2im, a chunk
    of images at a time: the rows of X_col and dYₘ are the images' output positions, so both
    products split over the images, dW = Σ_chunks dYₘ,ₖᵀ X_col,ₖ, and dX of chunk k is
    col2im(dYₘ,ₖ Wₘ). Only one chunk's X_col (at most ``_CONV_CHUNK_BYTES``) exists at a time.
    """
    X, W, stride, padding, Ho, Wo = _conv_args(X, W, stride, padding)
    dY = _checks.array("dY", dY, ndim=4)
    F, C, kh, kw = W.shape
    N = X.shape[0]
    want = (N, F, Ho, Wo)
    if dY.shape != want:
        raise ValueError(
            f"dY has shape {dY.shape}; with X {X.shape}, W {W.shape}, stride {stride} and padding "
            f"{padding} the output Y has shape {want}, and dY = ∂z/∂Y must have that shape too"
        )
    Wm = W.reshape(F, -1)  # Wₘ, (F, C·kh·kw)
    images = max(1, min(N, _CONV_CHUNK_BYTES // (8 * C * kh * kw * Ho * Wo)))
    dWm_t = np.zeros((C * kh * kw, F))  # (∂z/∂Wₘ)ᵀ
    dX = np.empty(X.shape)
    for first in range(0, N, images):
        chunk = slice(first, min(N, first + images))
        # Chapter 03's rules on Yₘ = X_col Wₘᵀ for these images, with the transposes (contiguous col2im):
        dYm_t = dY[chunk].transpose(1, 0, 2, 3).reshape(F, -1)  # (∂z/∂Yₘ)ᵀ, (F, images·H_out·W_out)
        cols_t = _im2col_t(X[chunk], kh, kw, stride, padding)  # X_colᵀ of the chunk
        # ∂z/∂Wₘ = (∂z/∂Yₘ)ᵀ X_col, summed over the chunks; formed transposed, (∂z/∂Wₘ)ᵀ = X_colᵀ ∂z/∂Yₘ:
        # OpenBLAS takes 3-4x longer for the (F, C·kh·kw) orientation of this long, thin product
        dWm_t += cols_t @ dYm_t.T
        # (∂z/∂X_col)ᵀ = Wₘᵀ (∂z/∂Yₘ)ᵀ, in X_colᵀ's place unless that is a read-only view (1x1 kernels)
        dcols_t = np.matmul(Wm.T, dYm_t, out=cols_t if cols_t.flags.writeable else None)
        _col2im_t(dcols_t, dX[chunk].shape, kh, kw, stride, padding, out=dX[chunk])  # col2im
        del dYm_t, cols_t, dcols_t  # before the next chunk's are made
    return ConvGrads(dX, dWm_t.T.reshape(W.shape))
