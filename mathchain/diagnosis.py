"""What is wrong with a gradient or a Jacobian: a teacher's margin note beside check_gradient.

:func:`diagnose` compares a candidate gradient with the numeric one (:func:`numeric_gradient`,
computed once: ``2 x.size + 1`` evaluations of ``f``, nothing else) and names the likely mistake;
:func:`diagnose_jacobian` does the same for a Jacobian in numerator layout. Both return a
:class:`Diagnosis`. Every comparison is check_gradient's: ``max |a − b| ≤ rtol · max(1, max |ĝ|)``
with ĝ the numeric derivative, so "correct" here means exactly "check_gradient passes".

Precedence: the first relation that holds (to that tolerance) is reported. Each is an exact relation,
so when two hold both are true, and the earlier is the more specific or the more common slip.

1. ``correct``: the right shape and values. A candidate that is the transpose, the symmetric part or
   a reshuffle of the derivative is correct when that equals the derivative (a symmetric gradient,
   a 1 × 1 or diagonal one): nothing is wrong then.
2. ``known-mistake``: the candidate matches a wrong form given in ``hints`` (a teacher's sentence
   for this very function says more than a generic rule); the message carries the sentence.
3. Another shape with as many entries: ``transposed`` (a matrix variable, both dimensions > 1;
   Jacobian: denominator layout), else ``layout`` (the right numbers reshaped, or flattened in the
   other order: a row where a column belongs, a 1-D array for a matrix, autograd's
   ``f(x).shape + x.shape``). Another number of entries, or other numbers: ``wrong``.
4. ``transposed``: a square variable (Jacobian: a square Jacobian), Gᵀ; never for a row or a
   column, whose transpose is a ``layout`` slip. An antisymmetric G (Gᵀ = −G) is "transposed".
5. ``scaled``: c·G for a constant c ≠ 1 (``factor`` = c, simple fractions exact, others to three
   digits). Not for a zero gradient (every candidate would be a multiple of it) nor a zero candidate;
   for a 1 × 1 variable every other non-zero value is "scaled".
6. ``symmetric-convention``: a square variable n × n, n > 1 (Jacobian: each row read as n × n):
   2G − G∘I (the derivative in the free entries of a symmetric matrix), (G + G∘I)/2 (the reverse),
   (G + Gᵀ)/2 for a non-symmetric G, or a non-symmetric candidate whose symmetric part is G.
   Never for a vector variable; a G with zero diagonal makes 2G − G∘I = 2G, "scaled".
7. Gradient: ``layout`` (a non-square matrix flattened in one order and refilled in the other).
   Jacobian: ``vec-order`` (rows, columns or both in vec_c order for a matrix output or input),
   then ``kronecker-swapped`` (B ⊗ A where A ⊗ B was wanted, for any factor sizes that divide the
   Jacobian's: the permutation K (A ⊗ B) K' = B ⊗ A, which also names vec_c for an f that
   flattens its matrix output itself).
8. ``partial``: some entries right, at least one of them non-zero; ``mask`` marks the wrong ones.
9. ``wrong``: nothing above fits.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import NamedTuple

import numpy as np

from . import _checks
from .numeric import GRADIENT_RTOL, _central_differences, _evaluate, numeric_gradient

KINDS = ("correct", "transposed", "scaled", "layout", "symmetric-convention", "vec-order",
         "kronecker-swapped", "known-mistake", "partial", "wrong")


class Diagnosis(NamedTuple):
    """What is wrong with a derivative: ``kind`` (one of :data:`KINDS`) and a one-sentence ``message``.

    ``factor`` is the constant c of a ``"scaled"`` candidate (candidate = c · derivative), ``mask``
    the wrong entries of a ``"partial"`` one (a boolean array of the candidate's shape); both are
    ``None`` for the other kinds.
    """

    kind: str
    message: str
    factor: float | None = None
    mask: np.ndarray | None = None


def diagnose(
    f: Callable, grad, x, eps: float = 1e-6, rtol: float = GRADIENT_RTOL, hints: Sequence = ()
) -> Diagnosis:
    """The likely mistake in a gradient: candidate g against ĝ = numeric_gradient(f, x), as a Diagnosis.

    ``grad`` is what check_gradient takes, a callable called once as ``grad(x)``, or the candidate
    array itself; it may have any shape (a wrong shape is diagnosed, not refused). ``hints`` are
    pairs ``(wrong form, sentence)``: a wrong form is a callable of x or an array, and when the
    candidate matches it the kind is ``"known-mistake"`` with that sentence. Costs ``2 x.size + 1``
    evaluations of ``f``. Precedence: see :mod:`mathchain.diagnosis`.
    """
    x = _checks.array("x", x)
    eps, rtol = _checks.positive("eps", eps), _checks.positive("rtol", rtol)
    name = "grad(x)" if callable(grad) else "grad"
    candidate = _candidate(name, grad, x)
    wrong_forms = _hints(hints, x)
    numeric = numeric_gradient(f, x, eps)  # the only evaluations of f
    return _classify_gradient(candidate, numeric, rtol, name, wrong_forms)


def diagnose_jacobian(
    f: Callable, jac, x, eps: float = 1e-6, rtol: float = GRADIENT_RTOL, hints: Sequence = ()
) -> Diagnosis:
    """The likely mistake in a Jacobian: candidate J against numeric_jacobian(f, x), as a Diagnosis.

    Numerator layout, ``(f(x).size, x.size)``, matrices flattened row by row (vec_r, C order).
    ``jac`` is a callable called once as ``jac(x)``, or the candidate array; ``hints`` as in
    :func:`diagnose`. Costs ``2 x.size + 1`` evaluations of ``f``. Adds the kinds ``"vec-order"``
    and ``"kronecker-swapped"``; precedence: see :mod:`mathchain.diagnosis`.
    """
    x = _checks.array("x", x)
    eps, rtol = _checks.positive("eps", eps), _checks.positive("rtol", rtol)
    name = "jac(x)" if callable(jac) else "jac"
    candidate = _candidate(name, jac, x)
    wrong_forms = _hints(hints, x)
    y0 = _evaluate(f, x.copy(), "x")
    numeric = _central_differences(f, x, eps, y0)  # with y0: 2 x.size + 1 evaluations in all
    return _classify_jacobian(candidate, numeric, y0.shape, x.shape, rtol, name, wrong_forms)


# --- input ------------------------------------------------------------------------------------------

def _candidate(name: str, value, x: np.ndarray) -> np.ndarray:
    """value(x) for a callable (on a copy of x), else value; a finite float64 array or ValueError."""
    return _checks.array(name, value(x.copy()) if callable(value) else value)


def _hints(hints, x: np.ndarray) -> list[tuple[np.ndarray, str]]:
    """The wrong forms of ``hints`` evaluated at x, each with its sentence."""
    if isinstance(hints, (str, bytes)) or not isinstance(hints, Sequence):
        raise ValueError(
            f"hints must be a list of (wrong form, sentence) pairs; got {type(hints).__name__}"
        )
    forms = []
    for i, pair in enumerate(hints):
        if not (isinstance(pair, (tuple, list)) and len(pair) == 2 and isinstance(pair[1], str)
                and pair[1].strip()):
            raise ValueError(
                f"hints[{i}] must be a pair (wrong form, sentence): a callable of x or an array, "
                f"and a non-empty str; got {type(pair).__name__} {pair!r:.80}"
            )
        form, sentence = pair
        forms.append((_candidate(f"hints[{i}][0]", form, x), sentence.strip()))
    return forms


# --- the relations ----------------------------------------------------------------------------------

class _Close:
    """a ≈ b: same shape and max |a − b| ≤ rtol · max(1, max |reference|), check_gradient's measure."""

    def __init__(self, reference: np.ndarray, rtol: float):
        self.tol = rtol * max(1.0, float(np.abs(reference).max()))

    def __call__(self, a: np.ndarray, b: np.ndarray, scale: float = 1.0) -> bool:
        if a.shape != b.shape:
            return False
        with np.errstate(over="ignore", invalid="ignore"):
            return bool(np.abs(a - b).max() <= self.tol * scale)  # False for NaN and inf


def _scaled(C: np.ndarray, R: np.ndarray, close: _Close, subject: str, what: str) -> Diagnosis | None:
    """C = c·R for a constant c ≠ 0, 1 (least squares c = ⟨C, R⟩/⟨R, R⟩), named in words."""
    if np.abs(R).max() <= close.tol or np.abs(C).max() <= close.tol:  # a zero R or C: no factor
        return None
    with np.errstate(over="ignore", invalid="ignore"):
        c = float(np.vdot(C, R) / np.vdot(R, R))
    if not np.isfinite(c) or not close(C, c * R, max(1.0, abs(c))):  # c·R amplifies ĝ's error by |c|
        return None
    ratio = _simple_ratio(c)
    if ratio is not None and close(C, ratio[0] / ratio[1] * R, max(1.0, abs(c))):
        p, q = ratio
        factor = p / q
    elif abs(abs(c) - 1) < 5e-3:  # nearly ±1 but not within rtol: an inaccurate gradient, no factor
        return None
    else:
        p = q = None
        factor = float(f"{c:.3g}")  # three digits: the message must not depend on rounding
    return Diagnosis("scaled", subject + _factor_words(factor, p, q, what), factor)


def _entries(n: int) -> str:
    return f"{n} entry" if n == 1 else f"{n} entries"


def _simple_ratio(c: float) -> tuple[int, int] | None:
    """(p, q) with c = p/q to 1e-4, for q ≤ 12 or p = ±1: the factors a slip produces."""
    for q in range(1, 13):
        p = round(c * q)
        if p != 0 and abs(c * q - p) <= 1e-4 * abs(c * q):
            return p, q
    k = round(1 / c)
    if abs(k) > 12 and abs(1 / c - k) <= 1e-4 * abs(k):
        return (1, k) if k > 0 else (-1, -k)
    return None


def _factor_words(factor: float, p: int | None, q: int | None, what: str) -> str:
    """'is twice the gradient: ...' and so on, with the likely cause; p/q is the factor when simple."""
    size = abs(factor)
    if p is None:
        return f"is {factor:g} times {what} at this x: a factor that does not belong, or a missing one?"
    p = abs(p)
    if factor < 0:
        if (p, q) == (1, 1):
            return f"is the negative of {what}: the sign is flipped."
        size = {(2, 1): f"twice {what}", (1, 2): f"half {what}"}.get(
            (p, q), f"{p} times {what}" if q == 1 else f"{p}/{q} of {what}")
        return f"is minus {size}: the sign is flipped and the size is off by a factor {p}/{q}.".replace(
            "/1.", ".")
    if (p, q) == (2, 1):
        return f"is twice {what}: a ½ forgotten, or a term counted twice?"
    if (p, q) == (1, 2):
        return f"is half {what}: a factor 2 lost (the 2 of a square, or a term that appears twice)?"
    if q == 1:
        return (f"is {p} times {what}, {p} times too large: did you forget to average "
                f"(over a batch of {p})?")
    if p == 1:
        return (f"is 1/{q} of {what}, {q} times too small: did you average (over a batch of {q}) "
                "where f sums?")
    return f"is {p}/{q} of {what} ({size:.3g} times): a constant factor is wrong."


def _symmetric_convention(C: np.ndarray, R: np.ndarray, close: _Close, subject: str,
                          what: str) -> Diagnosis | None:
    """The derivative in the free entries of a symmetric matrix, or the symmetric part, for the other.

    ``R`` and ``C`` end in a square n × n pair of axes (the variable), n > 1.
    """
    eye = np.eye(R.shape[-1])
    Rt, Ct = np.swapaxes(R, -1, -2), np.swapaxes(C, -1, -2)
    if close(C, 2 * R - R * eye):  # off-diagonal doubled
        text = ("doubles the off-diagonal entries (2G − G∘I, the derivative in the free entries of a "
                f"symmetric matrix), but f takes every entry of x as its own variable: {what} is G")
    elif close(C, (R + R * eye) / 2):  # off-diagonal halved
        text = ("halves the off-diagonal entries: f counts each pair x_ij, x_ji once, as the free "
                f"entries of a symmetric matrix do, so {what} is 2G − G∘I for your G")
    elif not close(R, Rt) and close(C, (R + Rt) / 2):
        text = (f"is the symmetric part (G + Gᵀ)/2 of {what} G, but f does not take x symmetric: "
                f"{what} is G itself")
    elif close(R, Rt) and close((C + Ct) / 2, R):
        text = (f"is not symmetric, but f depends only on the symmetric part of x: {what} is the "
                "symmetric part (G + Gᵀ)/2 of yours")
    else:
        return None
    return Diagnosis("symmetric-convention", f"{subject}{text}.")


def _known(C: np.ndarray, hints, close: _Close, subject: str) -> Diagnosis | None:
    for form, sentence in hints:
        if close(C, form):
            return Diagnosis("known-mistake", f"{subject}matches a known mistake: {sentence}")
    return None


def _partial(C: np.ndarray, R: np.ndarray, close: _Close, subject: str,
             jacobian: bool) -> Diagnosis | None:
    """Some entries right (one at least where R is not zero): say which are wrong, by their pattern."""
    with np.errstate(over="ignore", invalid="ignore"):
        mask = ~(np.abs(C - R) <= close.tol)
    if not mask.any() or not (~mask & (np.abs(R) > close.tol)).any():
        return None
    return Diagnosis("partial", f"{subject}{_pattern(mask, jacobian)}.", None, mask)


def _pattern(mask: np.ndarray, jacobian: bool) -> str:
    """Where the wrong entries are: the diagonal, the off-diagonal, whole rows or columns, or which."""
    k, size = int(mask.sum()), mask.size
    if mask.ndim == 2 and min(mask.shape) > 1:
        rows_of, cols_of = (" (those outputs)", " (those inputs)") if jacobian else ("", "")
        m, n = mask.shape
        off = ~np.eye(m, n, dtype=bool)
        if m == n and not (mask & off).any():
            return (f"is wrong on the diagonal only ({k} of its {n} entries) and right elsewhere: "
                    "look at the terms with i = j")
        if m == n and (mask == off).all():
            return ("is wrong on every off-diagonal entry and right on the diagonal: look at the terms "
                    "with i ≠ j")
        rows, cols = mask.all(axis=1) | ~mask.any(axis=1), mask.all(axis=0) | ~mask.any(axis=0)
        if rows.all():
            return (f"is wrong in whole rows {_listed(np.flatnonzero(mask.all(axis=1)))}{rows_of} and "
                    "right in the others")
        if cols.all():
            return (f"is wrong in whole columns {_listed(np.flatnonzero(mask.all(axis=0)))}{cols_of} "
                    "and right in the others")
    where = [tuple(int(i) for i in index) for index in np.argwhere(mask)]
    return (f"is wrong in {k} of its {size} entries (see mask), at {_listed(where)}, and right in "
            "the others")


def _listed(items) -> str:
    """'0', '0 and 2', '0, 2 and 3', or the first four and '…'."""
    words = [str(int(i)) if np.ndim(i) == 0 else str(tuple(i)) for i in items]
    if len(words) > 4:
        return ", ".join(words[:4]) + ", …"
    return words[0] if len(words) == 1 else ", ".join(words[:-1]) + " and " + words[-1]


def _shape_word(shape: tuple) -> str:
    """'a row', 'a column', 'a 1-D array', 'a matrix', ...: what a learner calls the shape."""
    if shape == (1, 1):
        return "a 1 × 1 matrix"
    if len(shape) == 2 and 1 in shape:
        return "a row" if shape[0] == 1 else "a column"
    return {0: "a scalar", 1: "a 1-D array", 2: "a matrix"}.get(len(shape), f"a {len(shape)}-D array")


def _zero_or_wrong(C: np.ndarray, R: np.ndarray, close: _Close, subject: str, what: str,
                   rules: str) -> Diagnosis:
    if np.abs(C).max() <= close.tol:
        return Diagnosis("wrong", f"{subject}is zero everywhere but {what} is not: a term is missing.")
    if np.abs(R).max() <= close.tol:
        return Diagnosis("wrong", f"{subject}is not zero, but {what} is zero at this x.")
    return Diagnosis("wrong", f"{subject}is not {what}, and no {rules} explains the difference.")


def _is_square_matrix(shape: tuple) -> bool:
    return len(shape) == 2 and shape[0] == shape[1] > 1


# --- gradients --------------------------------------------------------------------------------------

_GRADIENT_RULES = "transpose, constant factor, layout or symmetric convention"


def _classify_gradient(C: np.ndarray, G: np.ndarray, rtol: float, name: str, hints=()) -> Diagnosis:
    """The Diagnosis of candidate C against the numeric gradient G (the shape of x); no evaluations."""
    close = _Close(G, rtol)
    subject = f"{name}, shape {C.shape}, "
    if close(C, G):
        return Diagnosis("correct", f"{subject}matches the numeric gradient.")
    known = _known(C, hints, close, subject)
    if known:
        return known
    if C.size != G.size:
        return Diagnosis("wrong", f"{name} has shape {C.shape} ({_entries(C.size)}) but the gradient "
                                  f"has the shape of x, {G.shape} ({_entries(G.size)}): no transpose or "
                                  "reshape turns one into the other.")
    if C.shape != G.shape:
        return _gradient_in_other_shape(C, G, close, name)
    if _is_square_matrix(G.shape) and close(C, G.T):
        return Diagnosis("transposed", f"{subject}is the transpose of the gradient: x is square, so "
                                       "the shapes agree, but entry (i, j) holds ∂f/∂x_ji.")
    found = _scaled(C, G, close, subject, "the gradient")
    if found is None and _is_square_matrix(G.shape):
        found = _symmetric_convention(C, G, close, subject, "the gradient")
    if found is None and G.ndim == 2 and min(G.shape) > 1:  # square ones were transposes
        if close(C, G.ravel(order="F").reshape(G.shape)):
            found = Diagnosis("layout", f"{subject}holds the gradient's entries read column by column "
                                        "(F order) and refilled row by row (C order): keep one order.")
        elif close(C, G.ravel().reshape(G.shape, order="F")):
            found = Diagnosis("layout", f"{subject}holds the gradient's entries read row by row (C "
                                        "order) and refilled column by column (F order): keep one "
                                        "order.")
    return (found or _partial(C, G, close, subject, False)
            or _zero_or_wrong(C, G, close, subject, "the gradient", _GRADIENT_RULES))


def _gradient_in_other_shape(C: np.ndarray, G: np.ndarray, close: _Close, name: str) -> Diagnosis:
    """A candidate of another shape with as many entries: a transpose, a reshape, or wrong."""
    ours = f"{name} is {_shape_word(C.shape)} of shape {C.shape} where the gradient, like x, is " \
           f"{_shape_word(G.shape)} of shape {G.shape}"
    if G.ndim == 2 and min(G.shape) > 1 and close(C, G.T):
        return Diagnosis("transposed", f"{ours}: it is the transpose of the gradient, which has the "
                                       "shape of x (denominator layout).")
    ways = {("C", "C"): "",
            ("C", "F"): ", flattened column by column (F order) where x reads row by row (C order)",
            ("F", "C"): ", read column by column (F order) where x reads row by row (C order)",
            ("F", "F"): " (reshaped column by column)"}
    for (ours_order, its_order), how in ways.items():
        if close(C.ravel(order=ours_order), G.ravel(order=its_order)):
            return Diagnosis("layout", f"{ours}: the numbers are right{how}; reshape it to {G.shape}.")
    return Diagnosis("wrong", f"{ours}, and its numbers are not the gradient's in any order.")


# --- Jacobians --------------------------------------------------------------------------------------

_JACOBIAN_RULES = "transpose, constant factor, layout, vec order or Kronecker swap"


def _classify_jacobian(C: np.ndarray, J: np.ndarray, y_shape: tuple, x_shape: tuple, rtol: float,
                       name: str, hints=()) -> Diagnosis:
    """The Diagnosis of candidate C against the numeric Jacobian J, (f(x).size, x.size)."""
    close = _Close(J, rtol)
    p, q = J.shape
    subject = f"{name}, shape {C.shape}, "
    numerator = f"(f(x).size, x.size) = {J.shape}"
    if close(C, J):
        return Diagnosis("correct", f"{subject}matches the numeric Jacobian.")
    known = _known(C, hints, close, subject)
    if known:
        return known
    if C.size != J.size:
        return Diagnosis("wrong", f"{name} has shape {C.shape} ({_entries(C.size)}) but the Jacobian in "
                                  f"numerator layout is {numerator} ({_entries(J.size)}).")
    if C.shape != J.shape:
        if min(p, q) > 1 and close(C, J.T):
            return Diagnosis("transposed", f"{name} has shape {C.shape}: it is the transpose of the "
                                           "Jacobian (denominator layout); numerator layout is "
                                           f"{numerator}.")
        if close(C.ravel(), J.ravel()):
            if p == 1 and C.shape == x_shape:
                how = "the shape of x: that is the gradient, the transpose of a scalar f's Jacobian"
            elif C.shape == y_shape + x_shape:
                how = "f(x).shape + x.shape, autograd's and JAX's layout"
            else:
                how = f"{_shape_word(C.shape)}"
            return Diagnosis("layout", f"{name} has shape {C.shape} ({how}): the numbers are right; "
                                       f"numerator layout is {numerator}.")
        return Diagnosis("wrong", f"{name} has shape {C.shape} where numerator layout is {numerator}, "
                                  "and its numbers are not the Jacobian's in any order.")
    if p == q > 1 and close(C, J.T):
        return Diagnosis("transposed", f"{subject}is the transpose of the Jacobian (denominator "
                                       "layout): the shapes agree, but row i must hold the derivatives "
                                       "of output i.")
    what = "the Jacobian"
    found = _scaled(C, J, close, subject, what)
    if found is None and _is_square_matrix(x_shape):
        n = x_shape[0]
        found = _symmetric_convention(C.reshape(p, n, n), J.reshape(p, n, n), close, subject,
                                      "each row of the Jacobian (read as x's shape)")
    return (found or _vec_order(C, J, y_shape, x_shape, close, subject)
            or _kronecker_swapped(C, J, close, subject)
            or _partial(C, J, close, subject, True)
            or _zero_or_wrong(C, J, close, subject, what, _JACOBIAN_RULES))


def _f_order(shape: tuple) -> np.ndarray | None:
    """perm with vec_c(X) = vec_r(X)[perm] for X of this shape; None when the two orders agree."""
    perm = np.arange(int(np.prod(shape))).reshape(shape).ravel(order="F")
    return None if (perm == np.arange(perm.size)).all() else perm


def _vec_order(C, J, y_shape, x_shape, close, subject) -> Diagnosis | None:
    """Rows (output), columns (input) or both in vec_c order, column by column, instead of vec_r."""
    rows, cols = _f_order(y_shape), _f_order(x_shape)
    every = slice(None)
    options = []
    if rows is not None:
        options.append((rows, every, f"rows follow vec_c of f(x), shape {y_shape}"))
    if cols is not None:
        options.append((every, cols, f"columns follow vec_c of x, shape {x_shape}"))
    if rows is not None and cols is not None:
        options.append((rows, cols, f"rows and columns follow vec_c of f(x), shape {y_shape}, and of x, "
                                    f"shape {x_shape}"))
    for r, c, which in options:
        if close(C, J[r][:, c]):
            return Diagnosis("vec-order", f"{subject}has the right entries, but its {which} (column "
                                          "by column, F order) where the course flattens row by row "
                                          "(vec_r, C order).")
    return None


def _kronecker_swapped(C, J, close, subject) -> Diagnosis | None:
    """C = B ⊗ A where J = A ⊗ B (A a₁ × b₁, B a₂ × b₂): J with both index grids transposed."""
    p, q = J.shape
    for a1 in _divisors(p):
        for b1 in _divisors(q):
            a2, b2 = p // a1, q // b1
            r, c = _grid_swap(a1, a2), _grid_swap(b1, b2)
            if r is None and c is None:
                continue
            swapped = J[slice(None) if r is None else r][:, slice(None) if c is None else c]
            # (B ⊗ A)[k a₁ + i, l b₁ + j] = B_kl A_ij = (A ⊗ B)[i a₂ + k, j b₂ + l]
            if close(C, swapped):
                return Diagnosis("kronecker-swapped", _swapped_words(subject, a1, b1, a2, b2))
    return None


def _swapped_words(subject: str, a1: int, b1: int, a2: int, b2: int) -> str:
    return (f"{subject}has its rows and columns permuted as when the factors of a Kronecker product "
            f"are swapped, B ⊗ A for A ⊗ B (A {a1} × {b1}, B {a2} × {b2}), as vec_c gives for vec_r: "
            "in vec_r order the factor of the outer index comes first.")


def _divisors(n: int) -> list[int]:
    return [d for d in range(1, n + 1) if n % d == 0]


def _grid_swap(a: int, b: int) -> np.ndarray | None:
    """perm taking index i b + k to position k a + i (an a × b grid transposed); None if trivial."""
    return np.arange(a * b).reshape(a, b).ravel(order="F") if a > 1 and b > 1 else None
