"""diagnose and diagnose_jacobian: every kind named on hand-built wrong candidates, and never misnamed.

The oracles are closed forms written here (f(X) = Σ C ⊙ X³ / 3 has ∂f/∂X = C ⊙ X², the Jacobian of
X ↦ AXB is A ⊗ Bᵀ in vec_r order), from which each wrong candidate is built by hand: a transpose, a
factor, a reshape, a symmetric convention, a permutation, a changed row.
"""

import re
from dataclasses import replace

import numpy as np
import pytest

from mathchain import (
    check_gradient,
    commutation_matrix,
    diagnose,
    diagnose_jacobian,
)
from mathchain.diagnosis import KINDS, Diagnosis
from mathchain.identities import IDENTITIES, derivative_error, diagnose_identity
from tolerances import MATRIX_SHAPES

SHAPES = [(1,), (4,), *MATRIX_SHAPES]  # vectors, then 1×1, row, column, square, non-square
SQUARE = [s for s in SHAPES if len(s) == 2 and s[0] == s[1] > 1]
WITH_WRONG = [e for e in IDENTITIES if e.wrong is not None]
WRONG_AT_LEAST = 1e-3  # as in test_identities: a wrong form differs by an O(1) fraction


def cubic(rng, shape):
    """f(X) = Σ C ⊙ X³ / 3 and its gradient C ⊙ X² (X away from 0, so no entry of G is 0)."""
    C = rng.normal(size=shape)
    X = rng.choice([-1.0, 1.0], size=shape) * rng.uniform(0.5, 2.0, size=shape)
    return (lambda X: np.sum(C * X**3) / 3), C * X**2, X


def symmetric_gradient(rng, n):
    """f(X) = Σ S ⊙ X + Σ X² with S symmetric: G = S + 2X at a symmetric X, symmetric and full."""
    S, B = rng.normal(size=(n, n)), rng.normal(size=(n, n))
    S, X = S + S.T, B + B.T
    return (lambda X: np.sum(S * X) + np.sum(X**2)), S + 2 * X, X


def told(d, name=("grad", "jac"), shape=None):
    """What every diagnosis must be: a known kind, one sentence naming the shape, no long decimals."""
    assert isinstance(d, Diagnosis) and d.kind in KINDS
    assert d.message.count("\n") == 0 and d.message[-1] in ".?", d.message
    assert d.message.startswith(name), d.message
    if shape is not None:
        assert str(tuple(shape)) in d.message, d.message
    assert not re.search(r"\d\.\d{4}", d.message), d.message  # digits that rounding could move
    assert (d.factor is None) == (d.kind != "scaled")
    assert (d.mask is None) == (d.kind != "partial")
    return d


# --- correct ----------------------------------------------------------------------------------------

@pytest.mark.parametrize("shape", SHAPES)
def test_the_right_gradient_is_correct_as_array_and_callable(rng, shape):
    f, G, X = cubic(rng, shape)
    assert told(diagnose(f, G, X), "grad", shape).kind == "correct"
    assert told(diagnose(f, lambda X: G, X), "grad(x)", shape).kind == "correct"


@pytest.mark.parametrize("shape", SHAPES)
def test_a_wrong_gradient_is_never_correct_and_a_right_one_never_wrong(rng, shape):
    # any entry moved by more than rtol · max(1, max |G|) is not correct; rounding-sized moves are
    f, G, X = cubic(rng, shape)
    scale = max(1.0, np.abs(G).max())
    for j in range(G.size):
        for delta, right in ((1e-4, False), (-3e-6, False), (1e-9, True)):
            C = G.copy()
            C.flat[j] += delta * scale
            assert (told(diagnose(f, C, X)).kind == "correct") is right


# --- transposed -------------------------------------------------------------------------------------

@pytest.mark.parametrize("shape", MATRIX_SHAPES)
def test_a_transposed_gradient(rng, shape):
    f, G, X = cubic(rng, shape)
    d = told(diagnose(f, G.T, X), "grad", G.T.shape)
    if shape == (1, 1):
        assert d.kind == "correct"  # the transpose of a 1 × 1 gradient is itself
    elif 1 in shape:
        assert d.kind == "layout" and ("a row" in d.message or "a column" in d.message)
    else:
        assert d.kind == "transposed" and "transpose" in d.message


@pytest.mark.parametrize("n", [2, 3])
def test_the_transpose_of_a_symmetric_gradient_is_correct(rng, n):
    f, G, X = symmetric_gradient(rng, n)
    assert told(diagnose(f, G.T, X)).kind == "correct"


# --- scaled -----------------------------------------------------------------------------------------

FACTORS = [  # factor, the words the message must hold
    (2.0, "twice the gradient"), (0.5, "half the gradient"), (-1.0, "the sign is flipped"),
    (4.0, "did you forget to average"), (0.25, "did you average"), (-2.0, "the sign is flipped"),
    (1.5, "3/2 of the gradient"), (0.37, "0.37 times"), (37.25, "37.2 times"),
]


@pytest.mark.parametrize("shape", SHAPES)
@pytest.mark.parametrize("factor, words", FACTORS, ids=[str(c) for c, _ in FACTORS])
def test_a_constant_factor_is_named(rng, shape, factor, words):
    f, G, X = cubic(rng, shape)
    d = told(diagnose(f, factor * G, X), "grad", shape)
    assert d.kind == "scaled" and words in d.message
    assert d.factor == pytest.approx(factor, rel=5e-3)  # 37.25 reported as 37.2: three digits
    if factor in (2.0, 0.5, -1.0, 4.0, 0.25, -2.0, 1.5):
        assert d.factor == factor  # simple factors exactly


def test_a_batch_size_is_named_in_words(rng):
    f, G, X = cubic(rng, (6, 3))
    assert "6 times too large: did you forget to average" in diagnose(f, 6 * G, X).message
    assert "1/6 of the gradient, 6 times too small: did you average" in diagnose(f, G / 6, X).message
    assert diagnose(f, G / 64, X).factor == 1 / 64  # large batches too


def test_no_factor_for_a_zero_gradient_a_zero_candidate_or_nearly_one(rng):
    f = lambda x: np.sum((x - 3.0) ** 2)  # noqa: E731  # minimum at 3: G = 0 there
    x = np.full(3, 3.0)
    assert told(diagnose(f, np.zeros(3), x)).kind == "correct"
    d = told(diagnose(f, np.ones(3), x))
    assert d.kind == "wrong" and "zero at this x" in d.message
    d = told(diagnose(lambda x: 1e-9 * np.sum(x), np.full(3, 1e-3), x))  # G ≈ 1e-9: zero, no factor
    assert d.kind == "wrong" and "zero at this x" in d.message
    f, G, X = cubic(rng, (3, 4))
    d = told(diagnose(f, np.zeros_like(G), X))
    assert d.kind == "wrong" and "zero everywhere" in d.message
    d = told(diagnose(f, (1 + 1e-5) * G, X))  # off by 1e-5 of itself: inaccurate, not a factor
    assert d.kind not in ("correct", "scaled")


# --- layout -----------------------------------------------------------------------------------------

@pytest.mark.parametrize("n", [1, 4])
def test_a_row_or_a_column_where_a_vector_belongs(rng, n):
    f, G, x = cubic(rng, (n,))
    row, column = ("a row", "a column") if n > 1 else ("a 1 × 1 matrix", "a 1 × 1 matrix")
    for C, word in ((G[None, :], row), (G[:, None], column)):
        d = told(diagnose(f, C, x), "grad", C.shape)
        assert d.kind == "layout" and word in d.message and "a 1-D array" in d.message


def test_a_row_where_a_column_belongs(rng):
    f, G, X = cubic(rng, (4, 1))
    d = told(diagnose(f, G.reshape(1, 4), X), "grad", (1, 4))
    assert d.kind == "layout"
    assert "a row of shape (1, 4) where the gradient, like x, is a column" in d.message


@pytest.mark.parametrize("shape", [(2, 5), (5, 2), (3, 3), (1, 1)])
def test_a_flattened_or_reshaped_matrix_gradient(rng, shape):
    f, G, X = cubic(rng, shape)
    d = told(diagnose(f, G.ravel(), X), "grad", (G.size,))
    assert d.kind == "layout" and "numbers are right;" in d.message and "column" not in d.message
    if shape != (1, 1):
        d = told(diagnose(f, G.ravel(order="F"), X))
        assert d.kind == "layout" and "flattened column by column (F order)" in d.message
    if shape[0] != shape[1]:
        d = told(diagnose(f, G.reshape(shape[::-1]), X))  # a reshape, not a transpose
        assert d.kind == "layout"
        d = told(diagnose(f, G.ravel(order="F").reshape(shape), X))  # same shape, the other order
        assert d.kind == "layout" and "column by column (F order) and refilled row by row" in d.message
        d = told(diagnose(f, G.ravel().reshape(shape, order="F"), X))  # chapter 00's slip
        assert d.kind == "layout" and "row by row (C order) and refilled column by column" in d.message


def test_another_number_of_entries_or_other_numbers_is_wrong(rng):
    f, G, X = cubic(rng, (2, 3))
    d = told(diagnose(f, np.ones(5), X))
    assert d.kind == "wrong" and "(5 entries)" in d.message and "(2, 3) (6 entries)" in d.message
    d = told(diagnose(f, rng.normal(size=(3, 2)), X))
    assert d.kind == "wrong" and "not the gradient's in any order" in d.message


# --- symmetric-convention ---------------------------------------------------------------------------

@pytest.mark.parametrize("n", [2, 3])
def test_the_free_entries_of_a_symmetric_matrix(rng, n):
    f, G, X = symmetric_gradient(rng, n)
    eye = np.eye(n)
    d = told(diagnose(f, 2 * G - G * eye, X), "grad", (n, n))
    assert d.kind == "symmetric-convention" and "doubles the off-diagonal" in d.message
    d = told(diagnose(f, (G + G * eye) / 2, X))
    assert d.kind == "symmetric-convention" and "halves the off-diagonal" in d.message
    A = rng.normal(size=(n, n))
    d = told(diagnose(f, G + (A - A.T), X))  # not symmetric, symmetric part G
    assert d.kind == "symmetric-convention" and "is not symmetric" in d.message


@pytest.mark.parametrize("n", [2, 3])
def test_the_symmetric_part_of_a_non_symmetric_gradient(rng, n):
    f, G, X = cubic(rng, (n, n))
    d = told(diagnose(f, (G + G.T) / 2, X))
    assert d.kind == "symmetric-convention" and "symmetric part" in d.message


def test_symmetric_convention_is_not_claimed_where_it_means_nothing(rng):
    # a vector variable: 2G is a factor; a diagonal G: 2G − G∘I = G; 1 × 1: the same;
    # a zero diagonal: 2G − G∘I = 2G, reported as the factor (precedence)
    f, G, x = cubic(rng, (4,))
    assert told(diagnose(f, 2 * G, x)).kind == "scaled"
    d = rng.normal(size=3)
    f = lambda X: np.sum(d * np.diag(X) ** 2)  # noqa: E731
    X = rng.normal(size=(3, 3))
    G = np.diag(2 * d * np.diag(X))
    assert told(diagnose(f, 2 * G - G * np.eye(3), X)).kind == "correct"
    f, G, X = cubic(rng, (1, 1))
    assert told(diagnose(f, 2 * G - G, X)).kind == "correct"
    S = rng.normal(size=(3, 3))
    S = S + S.T - 2 * np.diag(np.diag(S))  # symmetric, zero diagonal
    f = lambda X: np.sum(S * X)  # noqa: E731
    assert told(diagnose(f, 2 * S - S * np.eye(3), rng.normal(size=(3, 3)))).kind == "scaled"


# --- known mistakes (hints) -------------------------------------------------------------------------

def test_a_hint_names_the_mistake_and_correct_comes_first(rng):
    A, x = rng.normal(size=(4, 4)), rng.normal(size=4)  # A not symmetric
    f = lambda x: x @ A @ x  # noqa: E731
    hint = (lambda x: 2 * A @ x, "2Ax holds only for a symmetric A.")
    d = told(diagnose(f, 2 * A @ x, x, hints=[hint]))
    assert d.kind == "known-mistake" and d.message.endswith("2Ax holds only for a symmetric A.")
    assert told(diagnose(f, 2 * A @ x, x)).kind == "wrong"  # no generic rule names it
    d = told(diagnose(f, 2 * A @ x, x, hints=[(2 * A @ x, "an array works too.")]))
    assert d.kind == "known-mistake"
    right = (A + A.T) @ x
    same = [(right, "a wrong form equal to the gradient")]
    assert told(diagnose(f, right, x, hints=same)).kind == "correct"
    assert told(diagnose(f, -right, x, hints=[hint])).kind == "scaled"  # a hint that does not match


@pytest.mark.parametrize("entry", WITH_WRONG, ids=[e.key for e in WITH_WRONG])
def test_every_wrong_form_of_the_identities_gets_a_specific_diagnosis(rng, entry):
    generic = {"transposed", "scaled", "layout", "symmetric-convention", "vec-order",
               "kronecker-swapped"}
    name = "grad" if entry.kind == "gradient" else "jac"
    for size in entry.sizes:
        args = entry.sample(rng, size)
        if derivative_error(entry, args, entry.wrong) < WRONG_AT_LEAST:
            continue  # the wrong form is right here (1 × 1, say): checked below to be "correct"
        d = told(diagnose_identity(entry, args, entry.wrong(*args)), name)
        if entry.mistake:
            assert d.kind == "known-mistake" and entry.mistake in d.message, (entry.key, size)
        else:
            assert d.kind in generic, (entry.key, size, d)
    args = entry.sample(rng, entry.sizes[0])
    assert diagnose_identity(entry, args, entry.df(*args)).kind == "correct"
    if entry.mistake:  # the sentence is needed: without it the wrong form is not named exactly
        plain = replace(entry, mistake="")
        d = diagnose_identity(plain, args, entry.wrong(*args))
        simple = (d.kind == "scaled" and d.factor in (2.0, 0.5, -1.0, -2.0)
                  or d.kind in generic - {"scaled"})
        assert not simple, (entry.key, d)


def test_hints_are_checked(rng):
    f, G, x = cubic(rng, (3,))
    for bad in ("2x", [("2x",)], [(G, "")], [(G, 3)], [G]):
        with pytest.raises(ValueError, match=r"hints"):
            diagnose(f, G, x, hints=bad)
    with pytest.raises(ValueError, match=r"hints\[0\]\[0\] must be finite"):
        diagnose(f, G, x, hints=[(np.array([1.0, np.nan, 2.0]), "a sentence")])


# --- partial ----------------------------------------------------------------------------------------

def test_partial_names_rows_columns_the_diagonal_and_the_off_diagonal(rng):
    f, G, X = cubic(rng, (3, 4))
    for index, words in (((1, slice(None)), "whole rows 1 and"),
                         ((slice(None), 2), "whole columns 2 and")):
        C = G.copy()
        C[index] += 1.0
        d = told(diagnose(f, C, X), "grad", (3, 4))
        expected = np.zeros((3, 4), dtype=bool)
        expected[index] = True
        assert d.kind == "partial" and words in d.message
        np.testing.assert_array_equal(d.mask, expected)
    f, G, X = cubic(rng, (3, 3))
    d = told(diagnose(f, G + np.diag([1.0, 2.0, 3.0]), X))
    assert d.kind == "partial" and "on the diagonal only" in d.message
    np.testing.assert_array_equal(d.mask, np.eye(3, dtype=bool))
    d = told(diagnose(f, G * np.eye(3), X))  # the off-diagonal dropped
    assert d.kind == "partial" and "every off-diagonal entry" in d.message
    np.testing.assert_array_equal(d.mask, ~np.eye(3, dtype=bool))


@pytest.mark.parametrize("shape", [(4,), (1, 4), (4, 1), (2, 5)])
def test_partial_lists_scattered_entries(rng, shape):
    f, G, X = cubic(rng, shape)
    C = G.copy()
    C.flat[[0, 3]] += 1.0
    d = told(diagnose(f, C, X), "grad", shape)
    assert d.kind == "partial" and "2 of its" in d.message
    assert d.mask.shape == shape and list(np.flatnonzero(d.mask)) == [0, 3]


def test_partial_needs_a_right_entry_that_is_not_zero(rng):
    # G = C ⊙ X² with C zero in row 0: a candidate right only there is not "partly right"
    C0 = rng.normal(size=(3, 4))
    C0[0] = 0
    X = rng.normal(size=(3, 4))
    f = lambda X: np.sum(C0 * X**3) / 3  # noqa: E731
    candidate = np.where(C0 == 0, 0.0, rng.normal(size=(3, 4)))
    assert told(diagnose(f, candidate, X)).kind == "wrong"


# --- Jacobians --------------------------------------------------------------------------------------

def axb(rng, m, n, p=2, q=3):
    """Y = AXB, X (m, n): the Jacobian of vec_r Y is A ⊗ Bᵀ, (p q, m n)."""
    A, B, X = rng.normal(size=(p, m)), rng.normal(size=(n, q)), rng.normal(size=(m, n))
    return (lambda X: A @ X @ B), np.kron(A, B.T), X


@pytest.mark.parametrize("shape", MATRIX_SHAPES)
def test_jacobian_correct_transposed_scaled_layout(rng, shape):
    f, J, X = axb(rng, *shape)
    assert told(diagnose_jacobian(f, J, X), "jac", J.shape).kind == "correct"
    assert told(diagnose_jacobian(f, lambda X: J, X), "jac(x)").kind == "correct"
    transposed = told(diagnose_jacobian(f, J.T, X), "jac", J.T.shape).kind
    assert transposed == ("transposed" if min(J.shape) > 1 else "layout")  # a column for a row
    d = told(diagnose_jacobian(f, -0.5 * J, X))
    assert d.kind == "scaled" and d.factor == -0.5
    d = told(diagnose_jacobian(f, J.reshape(2, 3, *shape), X), "jac", (2, 3, *shape))
    assert d.kind == "layout" and "autograd" in d.message


def test_jacobian_transposed_when_square_and_layout_for_a_row(rng):
    A, x = rng.normal(size=(3, 3)), rng.normal(size=3)
    assert told(diagnose_jacobian(lambda x: A @ x, A.T, x)).kind == "transposed"
    S = A + A.T
    assert told(diagnose_jacobian(lambda x: S @ x, S.T, x)).kind == "correct"
    a = rng.normal(size=4)
    x = rng.normal(size=4)
    d = told(diagnose_jacobian(lambda x: a @ x, a, x))  # the gradient, where the row (1, 4) belongs
    assert d.kind == "layout" and "the gradient" in d.message and "(1, 4)" in d.message
    assert told(diagnose_jacobian(lambda x: a @ x, a[:, None], x)).kind == "layout"


@pytest.mark.parametrize("shape", [(3, 5), (4, 2), (2, 2)])
def test_jacobian_in_vec_c_order(rng, shape):
    m, n = shape
    A, B, X = rng.normal(size=(2, m)), rng.normal(size=(n, 3)), rng.normal(size=(m, n))
    f, J = (lambda X: A @ X @ B), np.kron(A, B.T)  # vec_r, the course's order
    rows = commutation_matrix(2, 3)  # vec_c(Y) = K vec_r(Y) for Y (2, 3)
    cols = commutation_matrix(m, n)  # vec_c(X) = K vec_r(X)
    for C, which in ((rows @ J, "rows follow"), (J @ cols.T, "columns follow"),
                     (np.kron(B.T, A), "rows and columns follow")):  # Bᵀ ⊗ A: the textbooks' vec_c form
        d = told(diagnose_jacobian(f, C, X), "jac", J.shape)
        assert d.kind == "vec-order" and which in d.message, (which, d)


def test_jacobian_kronecker_factors_swapped(rng):
    # f(x) = (A ⊗ B) x with x a vector: no matrix shape to read vec_c from, so the swap is named
    for a, b in ((2, 3), (3, 2), (2, 2)):
        A, B = rng.normal(size=(a, a)), rng.normal(size=(b, b))
        x = rng.normal(size=a * b)
        f = lambda x, A=A, B=B: np.kron(A, B) @ x  # noqa: E731
        K = commutation_matrix(a, b)
        np.testing.assert_allclose(K @ np.kron(A, B) @ K.T, np.kron(B, A), rtol=1e-12, atol=1e-12)
        d = told(diagnose_jacobian(f, np.kron(B, A), x), "jac", (a * b, a * b))
        assert d.kind == "kronecker-swapped" and f"A {a} × {a}, B {b} × {b}" in d.message
    A, B = rng.normal(size=(1, 1)), rng.normal(size=(3, 3))  # a 1 × 1 factor: B ⊗ A = A ⊗ B
    x = rng.normal(size=3)
    assert told(diagnose_jacobian(lambda x: np.kron(A, B) @ x, np.kron(B, A), x)).kind == "correct"


def test_jacobian_symmetric_convention_row_by_row(rng):
    n = 3
    S = rng.normal(size=(2, n, n))
    S = S + np.swapaxes(S, 1, 2)  # each output's gradient symmetric
    X = rng.normal(size=(n, n))
    f = lambda X: np.einsum("kij,ij->k", S, X)  # noqa: E731
    J = S.reshape(2, n * n)  # row k: the gradient of output k, Sₖ, read row by row
    assert told(diagnose_jacobian(f, J, X)).kind == "correct"
    C = (2 * S - S * np.eye(n)).reshape(2, n * n)
    d = told(diagnose_jacobian(f, C, X))
    assert d.kind == "symmetric-convention" and "each row of the Jacobian" in d.message


def test_jacobian_partial_and_wrong(rng):
    f, J, X = axb(rng, 3, 4)
    C = J.copy()
    C[2] += 1.0
    d = told(diagnose_jacobian(f, C, X))
    assert d.kind == "partial" and "whole rows 2 (those outputs)" in d.message
    assert told(diagnose_jacobian(f, rng.normal(size=J.shape), X)).kind == "wrong"
    d = told(diagnose_jacobian(f, np.ones((5, 5)), X))
    assert d.kind == "wrong" and "(f(x).size, x.size) = (6, 12)" in d.message


# --- cost and bad input -----------------------------------------------------------------------------

@pytest.mark.parametrize("shape", [(1,), (4,), (2, 3)])
def test_f_is_evaluated_2n_plus_1_times_and_grad_once(rng, shape):
    f, G, X = cubic(rng, shape)
    calls = {"f": 0, "grad": 0}

    def counted_f(X):
        calls["f"] += 1
        return f(X)

    def counted_grad(X):
        calls["grad"] += 1
        return G.T  # a wrong candidate: every rule runs
    diagnose(counted_f, counted_grad, X)
    assert calls == {"f": 2 * X.size + 1, "grad": 1}
    calls["f"] = 0
    diagnose_jacobian(lambda X: np.atleast_1d(counted_f(X)) * np.ones(2), np.ones((2, X.size)), X)
    assert calls["f"] == 2 * X.size + 1


def test_bad_input_is_refused_with_names_and_shapes(rng):
    f, G, x = cubic(rng, (3,))
    with pytest.raises(ValueError, match=r"x must be finite; x\[1\]"):
        diagnose(f, G, np.array([1.0, np.nan, 2.0]))
    with pytest.raises(ValueError, match="eps must be a positive"):
        diagnose(f, G, x, eps=0)
    with pytest.raises(ValueError, match="rtol must be a positive"):
        diagnose_jacobian(f, G, x, rtol=-1)
    with pytest.raises(ValueError, match=r"grad\(x\) must be real"):
        diagnose(f, lambda x: x * 1j, x)
    with pytest.raises(ValueError, match=r"grad must be finite; grad\[0\]"):
        diagnose(f, np.array([np.inf, 1.0, 2.0]), x)
    with pytest.raises(ValueError, match=r"jac must not be empty"):
        diagnose_jacobian(f, np.zeros((0, 3)), x)
    with pytest.raises(ValueError, match="scalar-valued f.*shape \\(3,\\)"):
        diagnose(lambda x: 2 * x, G, x)


# --- check_gradient says it too ---------------------------------------------------------------------

def test_check_gradient_appends_the_diagnosis(rng):
    f, G, X = cubic(rng, (3, 3))
    with pytest.raises(AssertionError, match=r"gradient check failed: .*\ngrad\(x\), shape \(3, 3\), is "
                                             r"the transpose of the gradient"):
        check_gradient(f, lambda X: G.T, X)
    with pytest.raises(AssertionError, match=r"\ngrad\(x\), shape \(3, 3\), is twice the gradient"):
        check_gradient(f, lambda X: 2 * G, X)
    f, G, X = cubic(rng, (2, 5))
    with pytest.raises(ValueError, match=r"a transpose or a reshape is missing\)\ngrad\(x\) is a "
                                         r"matrix of shape \(5, 2\) .*: it is the transpose"):
        check_gradient(f, lambda X: G.T, X)
    with pytest.raises(ValueError, match=r"reshape is missing\)\ngrad\(x\) is a 1-D array"):
        check_gradient(f, lambda X: G.ravel(), X)
    # nothing named: one line, as before
    with pytest.raises(AssertionError) as info:
        check_gradient(f, lambda X: rng.normal(size=X.shape), X)
    assert "\n" not in str(info.value)
    with pytest.raises(ValueError) as info:
        check_gradient(f, lambda X: np.ones(7)[:X.size].reshape(X.shape[::-1]), X)
    assert "\n" not in str(info.value)


def test_a_mistake_sentence_belongs_to_a_wrong_form():
    for e in IDENTITIES:
        assert not e.mistake or (e.wrong is not None and e.mistake.endswith(".")), e.key
