"""mathchain against JAX (jax.jit, float64, CPU) on the cases of issue 26: time and memory.

JAX is the ``bench`` extra (``pip install -e '.[bench]'``); without it these rows are skipped and the
report says so. PyTorch is compared only where it happens to be installed (its wheels pull GBs).

Memory: mathchain's is tracemalloc's peak over one call, everything NumPy allocates during the call
(temporaries and the results; the inputs exist before it). XLA's is the compiled program's own
``memory_analysis()``: its temporaries plus its outputs, the same accounting (the arguments excluded).
"""

from __future__ import annotations

import importlib.util
import tracemalloc
from dataclasses import dataclass
from functools import partial

import numpy as np
from run import Timing, paired

import mathchain as mc

# Targets of issue 26, ratios mathchain / JAX (jit); memory: tracemalloc peak / (XLA temporaries
# + outputs).
TARGET_CONV_TIME = 1.0
TARGET_CONV_MEMORY = 1.5
TARGET_LAYER_NORM_TIME = 1.2

HAVE_JAX = importlib.util.find_spec("jax") is not None
HAVE_TORCH = importlib.util.find_spec("torch") is not None


@dataclass
class PeerRow:
    case: str
    size: str
    peer: str
    timing: Timing  # candidate mathchain, baseline the peer
    ours_bytes: int  # tracemalloc peak of one mathchain call
    peer_temp: int | None = None  # XLA's temporaries
    peer_out: int | None = None  # XLA's outputs
    time_target: float | None = None
    memory_target: float | None = None

    @property
    def memory_ratio(self) -> float | None:
        if self.peer_temp is None:
            return None
        return self.ours_bytes / (self.peer_temp + self.peer_out)

    @property
    def met(self) -> bool | None:
        checks = []
        if self.time_target is not None:
            checks.append(self.timing.ratio <= self.time_target)
        if self.memory_target is not None and self.memory_ratio is not None:
            checks.append(self.memory_ratio <= self.memory_target)
        return all(checks) if checks else None

    @property
    def target(self) -> str:
        parts = []
        if self.time_target is not None:
            parts.append(f"time <= {self.time_target:g}x")
        if self.memory_target is not None:
            parts.append(f"memory <= {self.memory_target:g}x")
        return ", ".join(parts)


def peak_bytes(fn) -> int:
    """tracemalloc's peak over one call of ``fn``: its temporaries and results (deterministic)."""
    fn()
    tracemalloc.start()
    try:
        fn()
        return tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()


def _jax():
    import jax

    jax.config.update("jax_enable_x64", True)
    return jax


def _jax_runner(jitted, *args):
    """A call of the jitted function on device arrays, waited for; and XLA's (temp, output) bytes."""
    jax = _jax()
    device_args = [jax.device_put(a) for a in args]
    memory = jitted.lower(*device_args).compile().memory_analysis()

    def run():
        return jax.block_until_ready(jitted(*device_args))

    return run, memory.temp_size_in_bytes, memory.output_size_in_bytes


def _jax_conv_backward(stride, padding):
    jax = _jax()
    from jax import lax

    def f(X, W, dY):
        _, vjp = jax.vjp(lambda X, W: lax.conv_general_dilated(
            X, W, (stride, stride), [(padding, padding)] * 2,
            dimension_numbers=("NCHW", "OIHW", "NCHW")), X, W)
        return vjp(dY)

    return jax.jit(f)


def _jax_layer_norm_backward(eps=1e-5):
    jax = _jax()
    import jax.numpy as jnp

    def layer_norm(X, gamma, beta):
        mu = jnp.mean(X, axis=1, keepdims=True)
        v = jnp.mean((X - mu) ** 2, axis=1, keepdims=True)
        return gamma * (X - mu) / jnp.sqrt(v + eps) + beta

    return jax.jit(lambda X, gamma, beta, dY: jax.vjp(layer_norm, X, gamma, beta)[1](dY))


def _jax_least_squares_gradient():
    jax = _jax()
    import jax.numpy as jnp

    return jax.jit(jax.grad(lambda w, X, y: 0.5 * jnp.sum((X @ w - y) ** 2)))


def _agree(got, want, what):
    for g, w in zip(got, want, strict=True):
        np.testing.assert_allclose(np.asarray(g), w, rtol=1e-8, atol=1e-8 * np.abs(w).max(),
                                   err_msg=what)


def bench_peers(rng, budget, quick=False) -> list[PeerRow]:
    """mathchain against JAX (jit) on conv2d_backward, layer_norm_backward, least_squares_gradient."""
    if not HAVE_JAX:
        return []
    rows = []
    conv_sizes = ([((2, 3, 16, 16), (8, 3, 3), 1, 1)] if quick else
                  [((2, 3, 16, 16), (8, 3, 3), 1, 1), ((16, 32, 32, 32), (64, 3, 3), 1, 1),
                   ((32, 64, 28, 28), (64, 3, 3), 2, 1)])
    for i, (x_shape, (F, kh, kw), s, p) in enumerate(conv_sizes):
        X = rng.normal(size=x_shape)
        W = rng.normal(size=(F, x_shape[1], kh, kw))
        dY = rng.normal(size=mc.conv2d(X, W, s, p).shape)
        ours = partial(mc.conv2d_backward, X, W, dY, s, p)
        theirs, temp, out = _jax_runner(_jax_conv_backward(s, p), X, W, dY)
        _agree(theirs(), ours(), "conv2d_backward vs JAX")
        large = i > 0
        size = f"X {'x'.join(map(str, x_shape))}, W {F}x{x_shape[1]}x{kh}x{kw}, s {s}, p {p}"
        rows.append(PeerRow("conv2d_backward", size, "JAX (jit)", paired(ours, theirs, budget),
                            peak_bytes(ours), temp, out, TARGET_CONV_TIME if large else None,
                            TARGET_CONV_MEMORY if large else None))
    for m, n in [(64, 64)] if quick else [(64, 64), (512, 512), (4096, 1024)]:
        X, dY = rng.normal(size=(m, n)) * 2 + 1, rng.normal(size=(m, n))
        gamma, beta = rng.normal(size=n), rng.normal(size=n)
        ours = partial(mc.layer_norm_backward, X, gamma, beta, dY)
        theirs, temp, out = _jax_runner(_jax_layer_norm_backward(), X, gamma, beta, dY)
        _agree(theirs(), ours(), "layer_norm_backward vs JAX")
        big = (m, n) == (4096, 1024)
        rows.append(PeerRow("layer_norm_backward", f"X {m}x{n}", "JAX (jit)",
                            paired(ours, theirs, budget), peak_bytes(ours), temp, out,
                            TARGET_LAYER_NORM_TIME if big else None))
    for m, n in [(2000, 500)] if quick else [(10_000, 100), (20_000, 500), (100_000, 500)]:
        X, w, y = rng.normal(size=(m, n)), rng.normal(size=n), rng.normal(size=m)
        ours = partial(mc.least_squares_gradient, X, w, y)
        theirs, temp, out = _jax_runner(_jax_least_squares_gradient(), w, X, y)
        _agree([theirs()], [ours()], "least_squares_gradient vs JAX")
        rows.append(PeerRow("least_squares_gradient", f"X {m}x{n}", "JAX (jit)",
                            paired(ours, theirs, budget), peak_bytes(ours), temp, out))
    return rows


def fmt_bytes(n: int) -> str:
    return f"{n / 2**20:.2f} MiB" if n >= 2**20 else f"{n / 2**10:.1f} KiB"


def peer_report(rows: list[PeerRow], fmt_time) -> list[str]:
    """The section of RESULTS.md: time and memory ratios against JAX, or why there are none."""
    lines = ["", "## Against JAX (jit) and PyTorch", ""]
    if not HAVE_JAX:
        lines.append("JAX is not installed (`pip install -e '.[bench]'`): no rows.")
    lines.append("PyTorch " + ("is installed, but no case is written for it yet." if HAVE_TORCH else
                               "is not installed (its wheels pull GBs of CUDA): no PyTorch rows."))
    if not rows:
        return lines
    lines += ["", "mathchain and JAX (`jax.jit`, float64, CPU, device arrays, `block_until_ready`) in "
              "alternating rounds as above; the ratio is mathchain / JAX. Memory: mathchain's "
              "tracemalloc peak over one call (its temporaries and results) against XLA's "
              "`memory_analysis()` temporaries plus outputs (the arguments excluded on both sides); "
              "XLA's temporaries alone are shown beside.", "",
              "| function | size | mathchain | JAX (jit) | ratio | middle half of the ratios "
              "| mathchain peak | XLA temporaries | XLA temporaries + outputs | memory ratio | target "
              "| met |",
              "| --- | --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | --- | --- |"]
    for r in rows:
        q1, q3 = r.timing.spread
        met = "" if r.met is None else ("yes" if r.met else "**NO**")
        temp = "" if r.peer_temp is None else fmt_bytes(r.peer_temp)
        both = "" if r.peer_temp is None else fmt_bytes(r.peer_temp + r.peer_out)
        mem = "" if r.memory_ratio is None else f"{r.memory_ratio:.2f}"
        lines.append(f"| `{r.case}` | {r.size} | {fmt_time(r.timing.t_candidate)} "
                     f"| {fmt_time(r.timing.t_baseline)} | {r.timing.ratio:.3g} | {q1:.3g} – {q3:.3g} "
                     f"| {fmt_bytes(r.ours_bytes)} | {temp} | {both} | {mem} | {r.target} | {met} |")
    return lines
