"""Benchmarks of chapter 09's layers: conv2d_backward and attention_backward against a hand-written
NumPy version and autograd, in the result rows of ``run.py``.

Wired into ``run.py`` by calling :func:`bench_layers` from its ``main`` (import this module there, inside
``main``: this module imports ``Row`` and ``paired`` from ``run``)::

    import layers
    ...  ("layers", lambda: layers.bench_layers(rng, budget, quick=args.quick)) ...

Standalone (prints the rows): ``.venv/bin/python benchmarks/layers.py [--quick]``.
"""

from __future__ import annotations

import sys
from functools import partial

import autograd.numpy as anp
import numpy as np
from autograd import grad
from numpy.lib.stride_tricks import sliding_window_view
from run import Row, paired

import mathchain as mc

# Targets: mathchain's VJPs validate their inputs and go through im2col (convolution) or recompute
# the softmax (attention); at the large sizes that must cost at most this much over the hand-written
# NumPy below.
TARGET_LAYER_OVERHEAD = 1.25


# --- the hand-written baselines: what a reader would type, with einsum instead of im2col ----------

def _conv_backward_by_hand(X, W, dY, stride, padding):
    F, C, kh, kw = W.shape
    Ho, Wo = dY.shape[2:]
    Xp = np.pad(X, ((0, 0), (0, 0), (padding, padding), (padding, padding)))
    windows = sliding_window_view(Xp, (kh, kw), axis=(2, 3))[:, :, ::stride, ::stride]
    dW = np.einsum("nfab,ncabij->fcij", dY, windows, optimize=True)
    dXp = np.zeros_like(Xp)
    for i in range(kh):
        for j in range(kw):
            dXp[:, :, i : i + stride * Ho : stride, j : j + stride * Wo : stride] += np.einsum(
                "nfab,fc->ncab", dY, W[:, :, i, j], optimize=True)
    return dXp[:, :, padding : padding + X.shape[2], padding : padding + X.shape[3]], dW


def _attention_backward_by_hand(Q, K, V, dO):
    d = Q.shape[1]
    A = Q @ K.T / np.sqrt(d)
    E = np.exp(A - A.max(axis=1, keepdims=True))
    S = E / E.sum(axis=1, keepdims=True)
    dS = dO @ V.T
    dA = S * (dS - np.sum(dS * S, axis=1, keepdims=True))
    return dA @ K / np.sqrt(d), dA.T @ Q / np.sqrt(d), S.T @ dO


# --- autograd: the same maps written in its NumPy wrapper ---------------------------------------

def _pad_autograd(X, p):
    if p == 0:
        return X
    N, C, H, W = X.shape
    side = anp.zeros((N, C, H, p))
    X = anp.concatenate([side, X, side], axis=3)
    top = anp.zeros((N, C, p, W + 2 * p))
    return anp.concatenate([top, X, top], axis=2)


def _conv_autograd(X, W, stride, padding):
    """Y = Σ over the kernel offsets (i, j) of W[:, :, i, j] applied to the shifted image."""
    F, C, kh, kw = W.shape
    Xp = _pad_autograd(X, padding)
    Ho = (Xp.shape[2] - kh) // stride + 1
    Wo = (Xp.shape[3] - kw) // stride + 1
    Y = 0.0
    for i in range(kh):
        for j in range(kw):
            shifted = Xp[:, :, i : i + stride * Ho : stride, j : j + stride * Wo : stride]
            Y = Y + anp.einsum("ncab,fc->nfab", shifted, W[:, :, i, j])
    return Y


def _conv_z(params, dY, stride, padding):
    X, W = params
    return anp.sum(dY * _conv_autograd(X, W, stride, padding))  # ∂z/∂Y = dY


def _attention_z(params, dO):
    Q, K, V = params
    A = anp.dot(Q, K.T) / np.sqrt(Q.shape[1])
    E = anp.exp(A - anp.max(A, axis=1, keepdims=True))
    return anp.sum(dO * anp.dot(E / anp.sum(E, axis=1, keepdims=True), V))  # ∂z/∂O = dO


def _agree(got, want, what):
    for g, w in zip(got, want, strict=True):
        np.testing.assert_allclose(g, w, rtol=1e-8, atol=1e-8 * np.abs(w).max(), err_msg=what)


def bench_layers(rng, budget, quick=False) -> list[Row]:
    """Rows for conv2d_backward and attention_backward: mathchain and autograd against NumPy by hand."""
    # (N, C, H, W), (F, kh, kw), stride, padding
    conv_sizes = ([((2, 3, 16, 16), (8, 3, 3), 1, 1)] if quick else
                  [((2, 3, 16, 16), (8, 3, 3), 1, 1), ((16, 32, 32, 32), (64, 3, 3), 1, 1),
                   ((32, 64, 28, 28), (64, 3, 3), 2, 1)])
    attention_sizes = [(64, 64, 16, 16)] if quick else [(64, 64, 16, 16), (512, 512, 64, 64),
                                                        (2048, 2048, 64, 64)]
    rows = []
    for i, (x_shape, (F, kh, kw), s, p) in enumerate(conv_sizes):
        X = rng.normal(size=x_shape)
        W = rng.normal(size=(F, x_shape[1], kh, kw))
        dY = rng.normal(size=mc.conv2d(X, W, s, p).shape)
        by_hand = partial(_conv_backward_by_hand, X, W, dY, s, p)
        ours = partial(mc.conv2d_backward, X, W, dY, s, p)
        _agree(ours(), by_hand(), "conv2d_backward")
        size = f"X {'x'.join(map(str, x_shape))}, W {F}x{x_shape[1]}x{kh}x{kw}, s {s}, p {p}"
        large = i > 0
        t = paired(ours, by_hand, budget)
        rows.append(Row("conv2d_backward", size, "mathchain (im2col)", "NumPy (einsum)", t,
                        f"<= {TARGET_LAYER_OVERHEAD}x" if large else "",
                        t.ratio <= TARGET_LAYER_OVERHEAD if large else None))
        by_autograd = partial(grad(_conv_z), (X, W), dY, s, p)
        _agree(by_autograd(), by_hand(), "conv2d autograd")
        rows.append(Row("conv2d_backward", size, "autograd", "NumPy (einsum)",
                        paired(by_autograd, by_hand, budget)))
    for i, (m, n, d, dv) in enumerate(attention_sizes):
        Q, K, V = rng.normal(size=(m, d)), rng.normal(size=(n, d)), rng.normal(size=(n, dv))
        dO = rng.normal(size=(m, dv))
        by_hand = partial(_attention_backward_by_hand, Q, K, V, dO)
        ours = partial(mc.attention_backward, Q, K, V, dO)
        _agree(ours(), by_hand(), "attention_backward")
        size = f"Q {m}x{d}, K {n}x{d}, V {n}x{dv}"
        large = i > 0
        t = paired(ours, by_hand, budget)
        rows.append(Row("attention_backward", size, "mathchain", "NumPy, 6 lines", t,
                        f"<= {TARGET_LAYER_OVERHEAD}x" if large else "",
                        t.ratio <= TARGET_LAYER_OVERHEAD if large else None))
        by_autograd = partial(grad(_attention_z), (Q, K, V), dO)
        _agree(by_autograd(), by_hand(), "attention autograd")
        rows.append(Row("attention_backward", size, "autograd", "NumPy, 6 lines",
                        paired(by_autograd, by_hand, budget)))
    return rows


if __name__ == "__main__":
    quick = "--quick" in sys.argv[1:]
    for r in bench_layers(np.random.default_rng(0), 0.3 if quick else 3.0, quick=quick):
        q1, q3 = r.timing.spread
        print(f"{r.case:<19} {r.size:<40} {r.candidate:<19} vs {r.baseline:<15} "
              f"{r.timing.t_candidate * 1e3:9.3f} ms {r.timing.t_baseline * 1e3:9.3f} ms "
              f"ratio {r.timing.ratio:6.3g} ({q1:.3g} – {q3:.3g}) {r.target} "
              f"{'' if r.met is None else ('met' if r.met else 'MISSED')}")
