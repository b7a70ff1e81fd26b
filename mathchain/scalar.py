"""Scalar by vector (chapter 02): denominator layout, the multi-step rule and least squares.

For a scalar ``z`` and vectors ``y₁ → y₂ → ⋯ → yₙ → z``::

    ∂z/∂y₁ = (∂yₙ/∂yₙ₋₁ ⋯ ∂y₂/∂y₁)ᵀ ∂z/∂yₙ

gradients (``∂z/∂y``) in denominator layout, Jacobians (``∂yₖ/∂yₖ₋₁``) in numerator layout.
"""

from __future__ import annotations

import math
import os
import time
from concurrent.futures import ThreadPoolExecutor

import numpy as np

from . import _checks


def _vector(name: str, value) -> np.ndarray:
    """A 1-D ``(k,)`` or column ``(k, 1)`` vector as a float64 array."""
    a = _checks.as_array(name, value, ndim=(1, 2))
    if a.ndim == 2 and a.shape[1] != 1:
        raise ValueError(f"{name} must be a vector of shape (k,) or (k, 1); got shape {a.shape}")
    return a


def gradient_chain(grad, *jacobians) -> np.ndarray:
    """∂z/∂y₁ = (∂yₙ/∂yₙ₋₁ ⋯ ∂y₂/∂y₁)ᵀ ∂z/∂yₙ, with ``grad = ∂z/∂yₙ``, Jacobians as written.

    ``grad`` is a denominator-layout gradient of shape ``(k,)`` or ``(k, 1)``; each Jacobian is
    a numerator-layout 2-D matrix. The result has the shape of ``y₁`` (1-D or column, like
    ``grad``). Evaluated as successive products Jᵀ g from the loss end (reverse accumulation):
    matrix-vector work only, the Jacobian product is never formed.
    """
    g = _vector("grad", grad)
    names = [f"jacobians[{i}]" for i in range(len(jacobians))]
    mats = [_checks.as_array(n, j, ndim=2) for n, j in zip(names, jacobians, strict=True)]
    _checks.chain_pairs(names, mats)
    if mats and mats[0].shape[0] != g.shape[0]:
        raise ValueError(
            f"grad has shape {g.shape} but jacobians[0] (∂yₙ/∂yₙ₋₁) has shape {mats[0].shape}: "
            f"its rows ({mats[0].shape[0]}) must equal the size of yₙ ({g.shape[0]})"
        )
    result = g.copy()
    with np.errstate(over="ignore", invalid="ignore"):  # reported by finite_result
        for jac in mats:
            result = jac.T @ result  # ∂z/∂yₖ₋₁ = (∂yₖ/∂yₖ₋₁)ᵀ ∂z/∂yₖ
    inputs = {"grad": g, **dict(zip(names, mats, strict=True))}
    return _checks.finite_result("gradient_chain", result, inputs)


def _least_squares_inputs(X, w, y) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """X, w, y as float64 arrays after checking that they fit; shared by loss and gradient.

    Finiteness is not scanned here: every entry of X, w and y reaches every entry of z = Xw − y
    and of Xᵀz (IEEE: nan·0 = nan), so the callers check their small result instead.
    """
    X = _checks.as_array("X", X, ndim=2)
    w = _vector("w", w)
    y = _vector("y", y)
    m, n = X.shape
    if w.shape[0] != n:
        raise ValueError(
            f"X has shape {X.shape} and w has shape {w.shape}: w needs {n} entries, one per "
            "column of X"
        )
    if y.shape[0] != m:
        raise ValueError(
            f"X has shape {X.shape} and y has shape {y.shape}: y needs {m} entries, one per row of X"
        )
    if w.ndim != y.ndim:
        raise ValueError(
            f"w has shape {w.shape} and y has shape {y.shape}: X @ w would have shape "
            f"{(m,) if w.ndim == 1 else (m, 1)} and NumPy would broadcast X @ w - y silently to "
            f"shape ({m}, {m}); pass both as 1-D vectors or both as columns"
        )
    return X, w, y


def _l2_cache_bytes() -> int | None:
    """Size of one core's level-2 cache in bytes, read from Linux sysfs or ``os.sysconf``; else None."""
    index = "/sys/devices/system/cpu/cpu0/cache"
    try:
        for entry in sorted(os.listdir(index)):
            def read(field, entry=entry):
                with open(os.path.join(index, entry, field)) as f:
                    return f.read().strip()

            if read("level") == "2" and read("type") in ("Unified", "Data"):
                size = read("size")  # "2048K"
                scale = {"K": 1 << 10, "M": 1 << 20, "G": 1 << 30}.get(size[-1:], 1)
                return int(size.rstrip("KMG")) * scale
    except (OSError, ValueError):
        pass
    try:
        size = os.sysconf("SC_LEVEL2_CACHE_SIZE")  # glibc; 0 or -1 where unknown
    except (ValueError, OSError, AttributeError):
        return None
    return size if size > 0 else None


# One row block of the one-pass evaluation (and its copy) must stay in one core's L2 cache between
# its two uses: half of L2, so that w, z_b and the other half of the block's traffic fit beside it
# (1 MiB on the benchmark machine: 262 rows of 500). At most 2 MiB: OpenBLAS (NumPy's wheels, 0.3.31)
# runs a matrix-vector product of up to 384k entries (3 MiB) on the calling thread alone, measured
# with the threads' CPU times, so each core multiplies its own blocks and the threads of the one pass
# do not contend for BLAS's thread pool.
_BLOCK_BYTES = min(max((_l2_cache_bytes() or 1 << 20) // 2, 64 << 10), 2 << 20)


def _blas_layout(X: np.ndarray) -> bool:
    """True if BLAS can read ``X`` in place: one of its strides is one element (C or F order,
    a transposed view, a slice of rows with a step). Otherwise NumPy's ``@`` falls back to its own
    loops (``X[:, ::2]``): several times slower than BLAS, and it reads X twice.
    """
    return X.itemsize in (abs(X.strides[0]), abs(X.strides[1])) or 1 in X.shape


def _cores() -> int:
    """The number of cores this process may run on."""
    try:
        return len(os.sched_getaffinity(0))
    except (AttributeError, OSError):  # not Linux
        return os.cpu_count() or 1


_WORKERS = _cores()
_pool: ThreadPoolExecutor | None = None  # started on the first one-pass evaluation


def _forget_pool() -> None:
    """In a forked child the pool's threads do not exist: start a new pool there when needed."""
    global _pool
    _pool = None


if hasattr(os, "register_at_fork"):
    os.register_at_fork(after_in_child=_forget_pool)


def _blocks(X, w, y, start: int, stop: int, rows: int, copy: bool) -> tuple[np.ndarray, float]:
    """Σ_b X_bᵀ(X_b w − y_b) and ½ Σ_b ‖X_b w − y_b‖² over the blocks of rows start:stop of X."""
    n = X.shape[1]
    block, z_buffer = np.empty((rows, n) if copy else (0, 0)), np.empty(rows)
    gradient, term = np.zeros(n), np.empty(n)
    loss = 0.0
    with np.errstate(over="ignore", invalid="ignore"):  # per thread; reported by finite_result
        for first in range(start, stop, rows):
            last = min(first + rows, stop)
            z_b = z_buffer[: last - first]
            if copy:
                X_b = block[: last - first]
                np.copyto(X_b, X[first:last])
            else:
                X_b = X[first:last]
            np.matmul(X_b, w, out=z_b)
            z_b -= y[first:last]  # z_b = X_b w − y_b
            np.matmul(X_b.T, z_b, out=term)
            gradient += term  # ∂J/∂w = Σ_b X_bᵀ z_b
            loss += 0.5 * float(np.vdot(z_b, z_b))  # J = ½ Σ_b z_bᵀz_b
    return gradient, loss


def _one_pass(X: np.ndarray, w: np.ndarray, y: np.ndarray) -> tuple[np.ndarray, float]:
    """Xᵀ(Xw − y) = Σ_b X_bᵀ(X_b w − y_b) and ½ Σ_b ‖X_b w − y_b‖², over blocks X_b of rows.

    Each block is used twice while it is in its core's cache: X is read from memory once. The rows
    are split into one consecutive part per core, each part summed block by block in its own
    thread (NumPy releases the GIL in BLAS), and the parts added in a fixed order, so the result
    does not depend on the scheduling. A block is small enough that BLAS runs it on the calling
    thread alone: the same core multiplies by X_b and by X_bᵀ. A block BLAS cannot read in place
    is first copied to a C-order buffer. ``w`` and ``y`` are 1-D here; errors and overflow are left
    to the caller (NaN and inf reach the sums exactly as in the plain expression).
    """
    global _pool
    m, n = X.shape
    rows = max(1, min(m, _BLOCK_BYTES // (8 * n)))
    copy = not _blas_layout(X)
    parts = max(1, min(_WORKERS, m // (2 * rows)))  # at least two blocks per part
    bounds = [m * k // parts for k in range(parts + 1)]
    if parts == 1:
        return _blocks(X, w, y, 0, m, rows, copy)
    if _pool is None:
        _pool = ThreadPoolExecutor(max_workers=_WORKERS - 1, thread_name_prefix="mathchain")
    others = [_pool.submit(_blocks, X, w, y, bounds[k], bounds[k + 1], rows, copy)
              for k in range(1, parts)]
    results = [_blocks(X, w, y, bounds[0], bounds[1], rows, copy)] + [f.result() for f in others]
    gradient = results[0][0]
    for g, _ in results[1:]:
        gradient += g
    return gradient, sum(loss for _, loss in results)


# X with contiguous rows takes the one pass from this size up; infinite: never, the plain line is
# kept. Measured on the 2-core benchmark machine (benchmarks/run.py, paired rounds, load ~2.5): the
# one pass took 1.5-1.8x the plain line at 20 000x500, 100 000x100 and 100 000x500 (0.98x at
# 1 000 000x20), while run alone it looked faster: after each call OpenBLAS's worker thread keeps
# spinning on the second core for a while, and the one pass's second thread finds no free core.
# Sequential blocks with OpenBLAS's own threads were no faster either (1.00-1.04x for blocks of
# 1 024-32 768 rows of 500, 1.4-2.0x for 128-512 rows; 0.87x with one BLAS thread). A machine where
# it pays can set a size here (32 MiB keeps X that sits in a large cache on the plain line).
_ONE_PASS_MIN_BYTES = math.inf


def _rows_in_place(X: np.ndarray) -> bool:
    """True if each row of X is contiguous and the rows go forward (C order, rows with a step)."""
    return X.strides[1] == X.itemsize and X.strides[0] >= X.itemsize * X.shape[1]


def _use_one_pass(X: np.ndarray) -> bool:
    """Whether to evaluate Σ_b X_bᵀ(X_b w − y_b) in one pass (:func:`_one_pass`) or the plain line.

    - X whose rows are contiguous (C order, rows with a step): one pass from
      ``_ONE_PASS_MIN_BYTES`` up (where the plain line must read X from memory twice); on the
      benchmark machine never, see there.
    - X that BLAS cannot read in place (``X[:, ::2]``): one pass as soon as X holds two blocks,
      since ``@`` would use NumPy's own loops, several times slower than BLAS, and read X twice.
    - Fortran order or a transposed view: the plain line. A row block of such an X is n short
      pieces far apart in memory, and BLAS reads the whole X well in its own order.
    """
    if _rows_in_place(X):
        return X.nbytes >= _ONE_PASS_MIN_BYTES
    return X.nbytes >= 2 * _BLOCK_BYTES and not _blas_layout(X)


# --- the plan: the plain line or the one pass, chosen by measuring (numpy.einsum_path, FFTW) ---------

# From this size of X up the first call for a shape class times both evaluations and remembers
# the faster; below it X sits in the last-level cache, the plain line reads it from there twice.
# Which one pays depends on the machine and its load: on the 2-core AMD EPYC benchmark machine,
# shared (load ~8), the one pass took 0.42-0.76x the plain line from 20 000x500 to 1 000 000x20,
# sequential blocks with OpenBLAS's own threads 2.5-8x (each small product wakes its threads); on an
# Intel Xeon (load ~2.5) the one pass took 1.5-1.8x (see _ONE_PASS_MIN_BYTES).
_PLAN_MIN_BYTES = 32 << 20
# Each evaluation is timed this many times, in turns, and its fastest time counts: on the shared
# benchmark machine a single timing of each chose the plain line at 100 000x500 once in two runs,
# where the one pass took 0.68x its time.
_PLAN_ROUNDS = 2
# MATHCHAIN_LEAST_SQUARES=plain or =blocked forces that evaluation (tests; comparing by hand).
_PLAN_ENV = "MATHCHAIN_LEAST_SQUARES"
_plans: dict[tuple, str] = {}  # shape class -> "plain" or "blocked", for the life of the process
_clock = time.perf_counter  # replaced by a fake clock in the tests


def _shape_class(X: np.ndarray) -> tuple:
    """(layout, ⌈log₂ m⌉, ⌈log₂ n⌉): shapes within a factor of two in the same layout share a plan."""
    layout = "rows" if _rows_in_place(X) else "columns"
    return layout, X.shape[0].bit_length(), X.shape[1].bit_length()


def _plain(X, w, y) -> np.ndarray:
    z = X @ w
    z -= y  # z = Xw − y, in place: one temporary fewer than X @ w - y
    return X.T @ z  # ∂J/∂w = (∂z/∂w)ᵀ ∂J/∂z = Xᵀ z


def _blocked(X, w, y) -> np.ndarray:
    """Σ_b X_bᵀ(X_b w − y_b): :func:`_one_pass`, X read once, one part of the rows per core."""
    return _one_pass(X, w.reshape(-1), y.reshape(-1))[0].reshape(w.shape)


_PATHS = {"plain": _plain, "blocked": _blocked}


def _planned(X, w, y) -> np.ndarray:
    """Xᵀ(Xw − y) by the plan for X's shape class; the first call of a class above
    ``_PLAN_MIN_BYTES`` times both evaluations ``_PLAN_ROUNDS`` times each, in turns, remembers the
    one with the shorter fastest time, and returns its result.
    """
    forced = os.environ.get(_PLAN_ENV, "")
    if forced:
        if forced not in _PATHS:
            raise ValueError(f"{_PLAN_ENV} must be 'plain' or 'blocked' (or unset); got {forced!r}")
        return _PATHS[forced](X, w, y)
    if X.nbytes < _PLAN_MIN_BYTES:
        return _plain(X, w, y)
    key = _shape_class(X)
    if key in _plans:
        return _PATHS[_plans[key]](X, w, y)
    seconds, results = {"blocked": math.inf, "plain": math.inf}, {}
    for _ in range(_PLAN_ROUNDS):  # in turns; the fastest of each: the least disturbed by the load
        for name in seconds:
            start = _clock()
            results[name] = _PATHS[name](X, w, y)
            seconds[name] = min(seconds[name], _clock() - start)
    _plans[key] = min(seconds, key=seconds.get)  # a tie keeps the blocked pass
    return results[_plans[key]]


def least_squares_loss(X, w, y) -> float:
    """J = ½ (Xw − y)ᵀ(Xw − y), a Python float.

    ``X`` is ``(m, n)`` (m samples of n features); ``w`` is ``(n,)`` and ``y`` is ``(m,)``, or both
    are columns ``(n, 1)`` and ``(m, 1)``. Mixing the two raises, since NumPy would broadcast.
    """
    X, w, y = _least_squares_inputs(X, w, y)
    with np.errstate(over="ignore", invalid="ignore"):  # reported by finite_result
        if _use_one_pass(X) and not _blas_layout(X):  # else one pass of BLAS reads X once
            loss = _one_pass(X, w.reshape(-1), y.reshape(-1))[1]  # J = ½ Σ_b z_bᵀz_b
        else:
            z = X @ w
            z -= y  # z = Xw − y, in place: one temporary fewer than X @ w - y
            loss = 0.5 * float(np.vdot(z, z))  # J = ½ zᵀz
    return _checks.finite_result("least_squares_loss", loss, {"X": X, "w": w, "y": y})


def least_squares_gradient(X, w, y) -> np.ndarray:
    """∂J/∂w = Xᵀ(Xw − y), for J = ½ (Xw − y)ᵀ(Xw − y).

    Denominator layout: the result has the shape of ``w`` (``(n,)`` or ``(n, 1)``). By the chain
    rule with z = Xw − y: ∂J/∂w = (∂z/∂w)ᵀ ∂J/∂z = Xᵀ z. Shapes as in :func:`least_squares_loss`.
    The gradient of a sum over samples is the sum of their gradients, Xᵀ(Xw − y) =
    Σ_b X_bᵀ(X_b w − y_b) over blocks of rows: an X in a layout BLAS cannot read (``X[:, ::2]``)
    is evaluated that way, each block copied once into the cache and used twice there, so X is read
    once (see :func:`_use_one_pass`). Other layouts from ``_PLAN_MIN_BYTES`` up take whichever of the
    plain line and that one pass the first call of their shape class measured faster
    (see :func:`_planned`; ``MATHCHAIN_LEAST_SQUARES=plain`` or ``blocked`` forces one).
    """
    X, w, y = _least_squares_inputs(X, w, y)
    with np.errstate(over="ignore", invalid="ignore"):  # reported by finite_result
        if _use_one_pass(X):
            gradient = _one_pass(X, w.reshape(-1), y.reshape(-1))[0].reshape(w.shape)
        else:  # the plain line Xᵀ(Xw − y), or the same sum block by block where that was faster
            gradient = _planned(X, w, y)
    return _checks.finite_result("least_squares_gradient", gradient, {"X": X, "w": w, "y": y})
