"""Benchmarks: mathchain against hand-written NumPy, autograd and JAX (jit); the cost of the build.

Run with ``make bench``; writes ``benchmarks/RESULTS.md``. Not part of ``make test``'s pass/fail:
timings depend on the machine and its load, so the results file records the machine with them.
``--only least-squares`` (or ``linear``, ``chains``, ``layers``, ``peers``) runs one group, e.g.
while tuning, and ``--output`` writes elsewhere.

Each case times a candidate and its baseline in the same run, in alternating rounds so that drift
in the machine's load affects both alike; it reports the median time of each and the median of the
per-round ratios, with their quartiles.
"""

from __future__ import annotations

import argparse
import os
import platform
import statistics
import subprocess
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass
from functools import partial, reduce
from importlib.metadata import version
from pathlib import Path

import autograd.numpy as anp
import numpy as np
from autograd import grad

import mathchain as mc

ROOT = Path(__file__).resolve().parent.parent
RESULTS = ROOT / "benchmarks" / "RESULTS.md"

# Targets of issue 7: a ratio is candidate time / baseline time.
TARGET_OVERHEAD = 1.1  # mathchain within 1.1x of the hand-written NumPy at the large sizes
# Targets of issue 12 (least squares): reading X once instead of twice where X is larger than the
# cache, and no slower than X.T @ (X @ w - y) at any size from 10 000 x 100 up, in any layout.
TARGET_ONE_PASS = 0.85
TARGET_LEAST_SQUARES = 1.05
ONE_PASS_SIZES = {(20_000, 500), (100_000, 500)}  # sizes (C order) judged against TARGET_ONE_PASS
TARGET_CHAIN_SPEEDUP = 20.0  # jacobian_chain >= 20x faster than the naive order at n = 2000
TARGET_GRADIENT_CHAIN = 1.0  # gradient_chain never slower than forming the Jacobian product


@dataclass
class Timing:
    """Per-round seconds per call of a candidate and its baseline, timed back to back."""

    candidate: list[float]
    baseline: list[float]

    @property
    def t_candidate(self) -> float:
        return statistics.median(self.candidate)

    @property
    def t_baseline(self) -> float:
        return statistics.median(self.baseline)

    @property
    def ratios(self) -> list[float]:
        """candidate / baseline in each round: both saw the same state of the machine."""
        return [c / b for c, b in zip(self.candidate, self.baseline, strict=True)]

    @property
    def ratio(self) -> float:
        return statistics.median(self.ratios)

    @property
    def spread(self) -> tuple[float, float]:
        """First and third quartiles of the per-round ratios: how much the machine's noise moves it."""
        q1, _, q3 = statistics.quantiles(self.ratios, n=4)
        return q1, q3


@dataclass
class Row:
    case: str
    size: str
    candidate: str
    baseline: str
    timing: Timing
    target: str = ""
    met: bool | None = None
    limit: float | None = None  # seconds to read the input once (the physical limit), if measured

    @property
    def distance(self) -> float | None:
        """Candidate time / time to read the input once: 1 is the limit, 2 is reading it twice."""
        return None if self.limit is None else self.timing.t_candidate / self.limit


def _calls_per_sample(fn: Callable) -> tuple[int, float]:
    """How many calls of ``fn`` make one timing sample (~20 ms), and the time of one call."""
    start = time.perf_counter()
    fn()
    once = max(time.perf_counter() - start, 1e-7)
    return max(1, int(0.02 / once)), once


def read_once(X: np.ndarray, budget: float) -> float:
    """Seconds to read X once: the faster of a BLAS pass (X @ ones) and NumPy's X.sum().

    No gradient of X can be faster than reading X once, so this is the physical limit.
    """
    ones = np.ones(X.shape[1])
    t = paired(partial(np.matmul, X, ones), X.sum, budget)
    return min(t.t_candidate, t.t_baseline)


def paired(candidate: Callable, baseline: Callable, budget: float) -> Timing:
    """Time ``candidate`` and ``baseline`` in alternating rounds within ~``budget`` seconds."""
    candidate(), baseline()  # warm up: first-touch page faults, BLAS thread start
    # Each function batches its own tiny calls, so the timer's resolution does not matter and a
    # slow baseline is not repeated as often as a fast candidate.
    (inner_c, once_c), (inner_b, once_b) = _calls_per_sample(candidate), _calls_per_sample(baseline)
    repeats = int(min(max(budget / (inner_c * once_c + inner_b * once_b), 5), 50))
    tc, tb = [], []
    for _ in range(repeats):
        for fn, inner, times in ((candidate, inner_c, tc), (baseline, inner_b, tb)):
            s = time.perf_counter()
            for _ in range(inner):
                fn()
            times.append((time.perf_counter() - s) / inner)
    return Timing(tc, tb)


# The hand-written baselines: what a reader would type instead of calling mathchain.
def _ls_by_hand(X, w, y):
    return X.T @ (X @ w - y)


def _linear_by_hand(A, W, dY):
    return dY @ W.T, A.T @ dY, dY.sum(axis=0)


def _ls_autograd_loss(w, X, y):
    return 0.5 * anp.sum((anp.dot(X, w) - y) ** 2)


def _linear_autograd_z(params, dY):
    A, W, b = params  # z = sum(dY * Y) has ∂z/∂Y = dY: autograd returns the same three gradients
    return anp.sum(dY * (anp.dot(A, W) + b))


def ls_target(m: int, n: int, layout: str) -> float | None:
    """Target ratio of a least-squares case: 0.85 where one pass should pay, 1.05 from 10⁶ entries."""
    if layout == "C order" and (m, n) in ONE_PASS_SIZES:
        return TARGET_ONE_PASS
    if m * n >= 10**6:
        return TARGET_LEAST_SQUARES
    return None


def ls_matrix(rng, m: int, n: int, layout: str) -> np.ndarray:
    """An m x n float64 X in the given layout."""
    if layout == "Fortran order":
        return np.asfortranarray(rng.normal(size=(m, n)))
    if layout == "view X[:, ::2]":  # every other column: neither stride is one element
        return rng.normal(size=(m, 2 * n))[:, ::2]
    return rng.normal(size=(m, n))


def bench_least_squares(rng, cases, budget, autograd_sizes=(), forced_sizes=()) -> list[Row]:
    """``cases``: (m, n, layout). autograd is timed at ``autograd_sizes``; the one-pass loop alone
    (forced on a C-order X, no validation) at ``forced_sizes``, to show whether reading X once pays."""
    rows = []
    for m, n, layout in cases:
        X, w, y = ls_matrix(rng, m, n, layout), rng.normal(size=n), rng.normal(size=m)
        size = f"X {m}x{n}" + ("" if layout == "C order" else f", {layout}")
        by_hand = partial(_ls_by_hand, X, w, y)
        ours = partial(mc.least_squares_gradient, X, w, y)
        want = np.ascontiguousarray(X).T @ (np.ascontiguousarray(X) @ w - y)
        np.testing.assert_allclose(ours(), want, rtol=1e-10, atol=1e-8)
        np.testing.assert_allclose(by_hand(), want, rtol=1e-10, atol=1e-8)
        limit = read_once(X, budget / 3) if m * n >= 10**6 else None
        target = ls_target(m, n, layout)
        t = paired(ours, by_hand, budget)
        rows.append(Row("least_squares_gradient", size, "mathchain", "NumPy X.T @ (X @ w - y)",
                        t, "" if target is None else f"<= {target}x",
                        None if target is None else t.ratio <= target, limit))
        if (m, n) in forced_sizes and layout == "C order":
            forced = partial(mc.scalar._one_pass, X, w, y)
            np.testing.assert_allclose(forced()[0], want, rtol=1e-10, atol=1e-8)
            rows.append(Row("least_squares_gradient", size, "one pass, forced (no checks)",
                            "NumPy X.T @ (X @ w - y)", paired(forced, by_hand, budget), limit=limit))
        if (m, n) in autograd_sizes and layout == "C order":
            by_autograd = partial(grad(_ls_autograd_loss), w, X, y)
            np.testing.assert_allclose(by_autograd(), want, rtol=1e-8, atol=1e-6)
            rows.append(Row("least_squares_gradient", size, "autograd", "NumPy X.T @ (X @ w - y)",
                            paired(by_autograd, by_hand, budget)))
        del X, by_hand, ours
    return rows


def least_squares_summary(rows: list[Row]) -> list[str]:
    """What the least-squares rows say about reading X once (computed from them, not in advance)."""
    out = []
    for r in rows:
        if r.case != "least_squares_gradient" or r.limit is None or r.candidate != "mathchain":
            continue
        plain = r.timing.t_baseline / r.limit
        line = (f"- {r.size}: one read of X takes {fmt_time(r.limit)}; NumPy's line "
                f"{fmt_time(r.timing.t_baseline)} = {plain:.2f} reads, mathchain "
                f"{fmt_time(r.timing.t_candidate)} = {r.distance:.2f} reads "
                f"({r.timing.ratio:.3g}x NumPy)")
        forced = [f for f in rows if f.size == r.size and f.candidate.startswith("one pass")]
        if forced:
            f = forced[0]
            line += (f"; the one-pass loop alone {fmt_time(f.timing.t_candidate)} = {f.distance:.2f} "
                     f"reads ({f.timing.ratio:.3g}x NumPy): reading X once "
                     + ("pays here." if f.timing.ratio <= TARGET_ONE_PASS else
                        "does not pay here."))
        out.append(line)
    return out


def bench_linear(rng, sizes, budget) -> list[Row]:
    rows = []
    for m, n, n1 in sizes:
        A, W, b = rng.normal(size=(m, n)), rng.normal(size=(n, n1)), rng.normal(size=n1)
        dY = rng.normal(size=(m, n1))
        by_hand = partial(_linear_by_hand, A, W, dY)
        ours = partial(mc.linear_backward, A, W, b, dY)
        for got, want in zip(ours(), by_hand(), strict=True):
            np.testing.assert_allclose(got, want, rtol=1e-10, atol=1e-8)
        large = m * n * n1 >= 512 * 512 * 512
        t = paired(ours, by_hand, budget)
        rows.append(Row("linear_backward", f"A {m}x{n}, W {n}x{n1}", "mathchain", "NumPy, 3 lines",
                        t, f"<= {TARGET_OVERHEAD}x" if large else "",
                        t.ratio <= TARGET_OVERHEAD if large else None))
        by_autograd = partial(grad(_linear_autograd_z), (A, W, b), dY)
        for got, want in zip(by_autograd(), by_hand(), strict=True):
            np.testing.assert_allclose(got, want, rtol=1e-8, atol=1e-6)
        rows.append(Row("linear_backward", f"A {m}x{n}, W {n}x{n1}", "autograd", "NumPy, 3 lines",
                        paired(by_autograd, by_hand, budget)))
    return rows


def _formed_first(g, J1, J2):
    return (J1 @ J2).T @ g  # forms the n x n Jacobian product, then one product with g


def bench_chains(rng, widths, budget) -> list[Row]:
    rows = []
    for n in widths:
        J1, J2, v = rng.normal(size=(n, n)), rng.normal(size=(n, n)), rng.normal(size=(n, 1))
        naive = partial(reduce, np.matmul, (J1, J2, v))  # (J1 J2) v: n³ + n² multiply-adds
        ours = partial(mc.jacobian_chain, J1, J2, v)  # J1 (J2 v): 2 n² multiply-adds
        np.testing.assert_allclose(ours(), naive(), rtol=1e-8, atol=1e-6 * n)
        t = paired(ours, naive, budget)
        big = n == 2000
        rows.append(Row("jacobian_chain", f"({n}x{n})({n}x{n})({n}x1)", "mathchain (cheapest order)",
                        "naive left to right", t,
                        f">= {TARGET_CHAIN_SPEEDUP:g}x faster" if big else "",
                        1 / t.ratio >= TARGET_CHAIN_SPEEDUP if big else None))
        g = rng.normal(size=n)
        formed = partial(_formed_first, g, J1, J2)
        ours = partial(mc.gradient_chain, g, J1, J2)
        np.testing.assert_allclose(ours(), formed(), rtol=1e-8, atol=1e-6 * n)
        t = paired(ours, formed, budget)
        rows.append(Row("gradient_chain", f"g {n}, J {n}x{n} twice", "mathchain (Jᵀg twice)",
                        "(J1 J2)ᵀ g", t, f"<= {TARGET_GRADIENT_CHAIN:g}x",
                        t.ratio <= TARGET_GRADIENT_CHAIN))
    return rows


@dataclass
class JacobianRow:
    n: int  # input size
    calls: int  # evaluations of f counted during one numeric_jacobian call
    seconds: float  # median time of numeric_jacobian
    f_seconds: float  # median time of one call of f alone, at this n

    @property
    def per_call(self) -> float:
        return self.seconds / self.calls


def bench_numeric_jacobian(rng, sizes) -> list[JacobianRow]:
    """numeric_jacobian of f(x) = tanh(A x), A 50 x n: evaluations counted, time against f's own."""
    out = []
    for n in sizes:
        A, x = rng.normal(size=(50, n)), rng.normal(size=n)
        calls = 0

        def f(x, A=A):
            nonlocal calls
            calls += 1
            return np.tanh(A @ x)

        def f_alone(A=A, x=x):
            return np.tanh(A @ x)

        calls = 0
        mc.numeric_jacobian(f, x)
        counted = calls
        t = paired(partial(mc.numeric_jacobian, f, x), f_alone, 1.0)
        out.append(JacobianRow(n, counted, t.t_candidate, t.t_baseline))
    return out


def jacobian_summary(rows: list[JacobianRow]) -> list[str]:
    """What the numbers say, computed from them (nothing here is written in advance)."""
    first, last = rows[0], rows[-1]
    exact = all(r.calls == 2 * r.n + 1 for r in rows)
    extra = [r.per_call - r.f_seconds for r in rows]  # numeric_jacobian's own work per evaluation
    return [
        f"- Evaluations of f: {'exactly' if exact else '**not** always'} 2n + 1 at every n. From "
        f"n = {first.n} to n = {last.n} ({last.n / first.n:g}x) they grow "
        f"{last.calls / first.calls:.2f}x and the time {last.seconds / first.seconds:.2f}x.",
        f"- One call of f alone grows {last.f_seconds / first.f_seconds:.2f}x over the same range "
        f"(a 50 x n product). Each evaluation costs one call of f plus {fmt_time(min(extra))} to "
        f"{fmt_time(max(extra))} of numeric_jacobian's own work (the step, x ± step, one column): "
        "time = (2n + 1) x (cost of f + that step).",
    ]


def timed_command(cmd: list[str]) -> float:
    start = time.perf_counter()
    subprocess.run(cmd, cwd=ROOT, check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    return time.perf_counter() - start


def machine() -> list[str]:
    cpu = platform.processor() or "unknown"
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    blas = np.show_config(mode="dicts").get("Build Dependencies", {}).get("blas", {})
    return [
        f"- CPU: {cpu}, {os.cpu_count()} logical cores",
        f"- Python {platform.python_version()}, NumPy {np.__version__} "
        f"(BLAS: {blas.get('name', '?')} {blas.get('version', '')}), mathchain {version('mathchain')}",
        f"- Date: {time.strftime('%Y-%m-%d %H:%M UTC', time.gmtime())}",
    ] + load_line()


def load_line() -> list[str]:
    """The machine's load when the results are written: other processes share the cores."""
    try:
        one, _, fifteen = os.getloadavg()
    except (AttributeError, OSError):
        return []
    cores = os.cpu_count() or 1
    busy = fifteen > cores
    return [f"- Load average when written: {one:.1f} (1 min), {fifteen:.1f} (15 min) on {cores} cores"
            + (": **the machine was busy**, other processes took turns on the cores and the "
               "timings are noisy; rerun on a quiet machine before judging the targets"
               if busy else "")]


def fmt_time(seconds: float) -> str:
    if seconds >= 1:
        return f"{seconds:.2f} s"
    if seconds >= 1e-3:
        return f"{seconds * 1e3:.2f} ms"
    return f"{seconds * 1e6:.1f} µs"


def report(rows, jac_rows, build_times, quick, peer_rows=None) -> str:
    """RESULTS.md's text; ``peer_rows`` (from ``peers.bench_peers``), if given, adds the JAX section."""
    lines = ["# Benchmark results", "",
             "Written by `make bench` (`benchmarks/run.py`); do not edit by hand.", ""]
    lines += machine()
    if quick:
        lines += ["- **Quick run** (small sizes only): the targets are judged on the full run."]
    lines += ["", "Candidate and baseline are timed in alternating rounds of ~20 ms each (up to 50 "
              "rounds); the times are medians over the rounds, the ratio is the median of the "
              "per-round ratios candidate / baseline (each pair saw the same state of the machine), "
              "and the middle half of those ratios shows how much the machine's noise moves it. "
              "Targets: `least_squares_gradient` at most "
              f"{TARGET_ONE_PASS}x of hand-written NumPy at 20 000x500 and 100 000x500 and at most "
              f"{TARGET_LEAST_SQUARES}x at every other size from 10 000x100 up, in every layout; "
              "`linear_backward` within "
              f"{TARGET_OVERHEAD}x of hand-written NumPy at the large sizes; `jacobian_chain` at "
              f"least {TARGET_CHAIN_SPEEDUP:g}x faster than the naive order at n = 2000; "
              "`gradient_chain` never slower than forming the Jacobian product.", "",
              "| function | size | candidate | baseline | candidate time | baseline time | ratio "
              "| middle half of the ratios | target | met | one read of X | distance to the limit |",
              "| --- | --- | --- | --- | ---: | ---: | ---: | ---: | --- | --- | ---: | ---: |"]
    for r in rows:
        met = "" if r.met is None else ("yes" if r.met else "**NO**")
        q1, q3 = r.timing.spread
        limit = "" if r.limit is None else f"{fmt_time(r.limit)} | {r.distance:.2f}x"
        lines.append(f"| `{r.case}` | {r.size} | {r.candidate} | {r.baseline} "
                     f"| {fmt_time(r.timing.t_candidate)} | {fmt_time(r.timing.t_baseline)} "
                     f"| {r.timing.ratio:.3g} | {q1:.3g} – {q3:.3g} | {r.target} | {met} "
                     f"| {limit or ' | '} |")
    ls_lines = least_squares_summary(rows)
    if ls_lines:
        lines += ["", "## Least squares: distance to the limit", "",
                  "One read of X is the faster of `X @ ones` and `X.sum()`: no gradient of X can take "
                  "less. NumPy's line reads X twice (`X @ w`, then `X.T @ z`); the blocked evaluation "
                  "Xᵀ(Xw − y) = Σ_b X_bᵀ(X_b w − y_b) reads it once and uses each block twice in "
                  "cache.", ""] + ls_lines
    if jac_rows:
        lines += ["", "## `numeric_jacobian`: cost against input size", "",
                  "f(x) = tanh(A x), A of 50 rows: central differences evaluate f 2n + 1 times.", "",
                  "| n | evaluations of f | 2n + 1 | time | time per evaluation | one call of f alone "
                  "| per evaluation / f alone |",
                  "| ---: | ---: | ---: | ---: | ---: | ---: | ---: |"]
        for r in jac_rows:
            lines.append(f"| {r.n} | {r.calls} | {2 * r.n + 1} | {fmt_time(r.seconds)} "
                         f"| {fmt_time(r.per_call)} | {fmt_time(r.f_seconds)} "
                         f"| {r.per_call / r.f_seconds:.2f} |")
        lines += [""] + jacobian_summary(jac_rows)
    if build_times:
        lines += ["", "## The build", "", "| command | wall time |", "| --- | ---: |"]
        lines += [f"| `{cmd}` | {fmt_time(t)} |" for cmd, t in build_times]
    if peer_rows is not None:
        import peers

        lines += peers.peer_report(peer_rows, fmt_time)
    missed = [r for r in rows if r.met is False]
    missed_peers = [r for r in peer_rows or [] if r.met is False]
    lines += ["", "## Verdict", ""]
    lines += [f"- target missed: `{r.case}` {r.size}: ratio {r.timing.ratio:.3g}, target {r.target}"
              for r in missed]
    lines += [f"- target missed against {r.peer}: `{r.case}` {r.size}: time ratio {r.timing.ratio:.3g}"
              + ("" if r.memory_ratio is None else f", memory ratio {r.memory_ratio:.2f}")
              + f", target {r.target}" for r in missed_peers]
    if not missed and not missed_peers:
        lines.append("- every target met.")
    return "\n".join(lines) + "\n"


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="small sizes only (a smoke test)")
    parser.add_argument("--no-build-times", action="store_true",
                        help="skip timing `make book` and `make test`")
    parser.add_argument("--output", type=Path, default=RESULTS)
    parser.add_argument("--only", choices=["least-squares", "linear", "chains", "layers", "peers"],
                        help="run one group of cases (no numeric_jacobian, no build times)")
    args = parser.parse_args()
    rng = np.random.default_rng(0)
    budget = 0.3 if args.quick else 3.0
    if args.quick:
        ls_cases = [(100, 10, "C order"), (2000, 50, "C order"), (2000, 500, "C order"),
                    (2000, 500, "Fortran order"), (2000, 500, "view X[:, ::2]")]
        ls_autograd, ls_forced = {(100, 10), (2000, 50)}, {(2000, 500)}
        lin_sizes, widths = [(64, 128, 128)], [100, 200]
    else:
        ls_cases = [(100, 10, "C order"), (10_000, 100, "C order"), (20_000, 500, "C order"),
                    (100_000, 100, "C order"), (100_000, 500, "C order"), (1_000_000, 20, "C order"),
                    (100_000, 500, "Fortran order"), (100_000, 500, "view X[:, ::2]")]
        ls_autograd, ls_forced = {(100, 10), (10_000, 100), (100_000, 500)}, ONE_PASS_SIZES
        lin_sizes = [(64, 512, 512), (1024, 1024, 1024), (4096, 1024, 1024)]
        widths = [500, 1000, 2000]
    import layers  # chapter 09's layers; it imports Row and paired from this module
    import peers  # JAX (jit), the bench extra; it imports Timing and paired from this module

    rows, peer_rows = [], []
    for name, bench in (("least-squares", lambda: bench_least_squares(rng, ls_cases, budget,
                                                                      ls_autograd, ls_forced)),
                        ("linear", lambda: bench_linear(rng, lin_sizes, budget)),
                        ("chains", lambda: bench_chains(rng, widths, budget)),
                        ("layers", lambda: layers.bench_layers(rng, budget, quick=args.quick)),
                        ("peers", lambda: peers.bench_peers(rng, budget, quick=args.quick))):
        if args.only and name != args.only:
            continue
        start = time.perf_counter()
        if name == "peers":
            peer_rows += bench()
        else:
            rows += bench()
        print(f"{name}: {time.perf_counter() - start:.1f} s", flush=True)
    if args.only:
        text = report(rows, [], [], args.quick, peer_rows)
        args.output.write_text(text)
        print(text)
        return 0
    jac_rows = bench_numeric_jacobian(rng, [10, 40, 160, 640] if not args.quick else [10, 40])
    build_times = []
    if not args.no_build_times and not args.quick:
        make = ["make", "--no-print-directory"]
        # The environment is installed (warm); the first build starts from an empty _build.
        timed_command(make + ["clean"])
        build_times = [("make book (warm environment, empty _build)", timed_command(make + ["book"])),
                       ("make book (again, nothing changed)", timed_command(make + ["book"])),
                       ("make test", timed_command(make + ["test"]))]
    text = report(rows, jac_rows, build_times, args.quick, peer_rows)
    args.output.write_text(text)
    print(text)
    return 0


if __name__ == "__main__":
    sys.exit(main())
