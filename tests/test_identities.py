"""The identity reference: each entry against central differences and autograd; wrong forms refused."""

import re
from dataclasses import replace

import autograd.numpy as anp
import numpy as np
import pytest
from autograd import grad, jacobian

from mathchain.identities import (
    COLUMN_ORDER,
    COOKBOOK_AS_PRINTED,
    COOKBOOK_COVERED,
    COOKBOOK_NOT_IDENTITIES,
    COOKBOOK_SECTION_2,
    COOKBOOK_UNCOVERED,
    COOKBOOK_UNSTATED_CONDITIONS,
    IDENTITIES,
    by_key,
    column_order_error,
    cookbook_coverage,
    derivative_error,
    numeric_derivative,
)
from mathchain.kronecker import commutation_matrix
from mathchain.numeric import numeric_gradient
from tolerances import EXACT_RTOL, FD_RTOL

CASES = [(e, size) for e in IDENTITIES for size in e.sizes]
IDS = [f"{e.key}-{size}" for e, size in CASES]
WITH_WRONG = [e for e in IDENTITIES if e.wrong is not None]
WITH_VEC_C = [e for e in IDENTITIES if e.key in COLUMN_ORDER]
VEC_C_CASES = [(e, size) for e in WITH_VEC_C for size in e.sizes]
# A wrong form differs from the right one by an O(1) fraction: far above the ~1e-8 of central
# differences, and far below what a right formula shows (< FD_RTOL).
WRONG_AT_LEAST = 1e-3


def _autograd_derivative(entry, args):
    x, constants = np.asarray(args[0], dtype=float), args[1:]

    def f(v):
        return entry.f(anp, v, *constants)

    if entry.kind == "gradient":
        return grad(f)(x)
    J = jacobian(f)(x)
    return np.reshape(J, (np.size(entry.f(np, x, *constants)), x.size))  # numerator layout, vec_r


def test_the_reference_is_large_and_covers_every_group():
    assert len(IDENTITIES) >= 50
    groups = {e.group for e in IDENTITIES}
    assert groups == {"scalar by vector", "vector by vector", "scalar by matrix",
                      "matrix by matrix", "network layers", "matrix cookbook"}
    assert len(WITH_WRONG) >= 30


def test_keys_are_unique_stable_anchors():
    keys = [e.key for e in IDENTITIES]
    assert len(set(keys)) == len(keys)
    for key in keys:
        assert re.fullmatch(r"[a-z0-9]+(-[a-z0-9]+)*", key), key
    assert by_key("log-determinant").group == "scalar by matrix"
    with pytest.raises(KeyError):
        by_key("no-such-identity")


def test_entries_are_complete():
    for e in IDENTITIES:
        assert e.kind in ("gradient", "jacobian"), e.key
        assert e.expression and e.derivative and e.shapes, e.key
        assert (e.wrong is None) == (not e.wrong_tex), e.key
        assert e.sizes, e.key


@pytest.mark.parametrize("entry, size", CASES, ids=IDS)
def test_derivative_matches_central_differences(rng, entry, size):
    args = entry.sample(rng, size)
    assert derivative_error(entry, args) < FD_RTOL


@pytest.mark.parametrize("entry, size", CASES, ids=IDS)
def test_derivative_matches_autograd(rng, entry, size):
    args = entry.sample(rng, size)
    ours = np.asarray(entry.df(*args), dtype=float)
    theirs = _autograd_derivative(entry, args)
    assert ours.shape == theirs.shape
    scale = max(1.0, np.abs(theirs).max())
    assert np.abs(ours - theirs).max() <= EXACT_RTOL * scale


@pytest.mark.parametrize("entry", WITH_WRONG, ids=[e.key for e in WITH_WRONG])
def test_the_wrong_form_is_refused(rng, entry):
    args = entry.sample(rng, entry.sizes[0])
    assert derivative_error(entry, args, entry.wrong) > WRONG_AT_LEAST


@pytest.mark.parametrize("entry", IDENTITIES, ids=[e.key for e in IDENTITIES])
def test_a_mutated_derivative_is_caught(rng, entry):
    # Any change of the data's derivative that is larger than rounding fails the check: here a
    # perturbation of one entry, and (for matrices whose transpose has the same shape but other
    # values) a dropped or added transpose.
    args = entry.sample(rng, entry.sizes[0])
    right = np.asarray(entry.df(*args), dtype=float)
    bumped = right.copy()
    bumped.flat[bumped.size // 2] += 1e-3 * max(1.0, np.abs(right).max())
    assert derivative_error(replace(entry, df=lambda *a: bumped), args) > 1e-4
    if right.ndim == 2 and not np.allclose(right, right.T if right.shape == right.T.shape else 0):
        assert derivative_error(replace(entry, df=lambda *a: right.T), args) > 1e-4


def test_samplers_meet_the_conditions(rng):
    for e in IDENTITIES:
        args = e.sample(rng, e.sizes[0])
        square = [a for a in args if np.ndim(a) == 2 and a.shape[0] == a.shape[1]]
        if e.key in ("cb-symmetric-det", "cb-symmetric-logdet"):  # x: the free entries of S
            square = [_symmetric_from_free(args[0], args[1])]
        if "positive definite" in e.conditions:
            S = square[0]
            np.testing.assert_array_equal(S, S.T)
            assert np.linalg.eigvalsh(S).min() > 0, e.key
        elif "A = A^T" in e.conditions:
            np.testing.assert_array_equal(square[0], square[0].T)
        if "invertible" in e.conditions:
            assert np.linalg.cond(square[0]) < 1e3, e.key


def test_numeric_derivative_layouts(rng):
    # gradient: the shape of x; Jacobian: (f.size, x.size), matrices flattened row by row
    e = by_key("trace-axb")
    args = e.sample(rng, (3, 5))
    assert numeric_derivative(e, args).shape == (3, 5)
    e = by_key("kron-axb")
    args = e.sample(rng, (3, 5))
    assert numeric_derivative(e, args).shape == (2 * 3, 3 * 5)


def test_hand_computed_cases():
    # tr(AX) with A = [[1, 2]] (1×2), X 2×1: tr(AX) = X₁ + 2X₂, gradient Aᵀ = [[1], [2]].
    e = by_key("trace-ax")
    np.testing.assert_array_equal(e.df(np.zeros((2, 1)), np.array([[1.0, 2.0]])), [[1.0], [2.0]])
    # softmax of (0, 0): s = (½, ½), Jacobian diag(s) − ssᵀ = [[¼, −¼], [−¼, ¼]]
    np.testing.assert_allclose(by_key("jac-softmax").df(np.zeros(2)), [[0.25, -0.25], [-0.25, 0.25]],
                               rtol=1e-15)
    # log det of diag(2, 4): gradient diag(½, ¼)
    np.testing.assert_allclose(by_key("log-determinant").df(np.diag([2.0, 4.0])),
                               np.diag([0.5, 0.25]), rtol=1e-15)


# --- the column-order (vec_c) forms that the entries' `other` field gives -------------------------

def test_every_vec_c_form_shown_is_checked():
    # an entry whose `other` gives a form "for vec_c" has that form as data, and only those
    shown = {e.key for e in IDENTITIES if r"\operatorname{vec}_c" in e.other}
    assert shown == set(COLUMN_ORDER)
    assert {"kron-gram", "kron-outer-gram", "kron-transpose"} <= shown


@pytest.mark.parametrize("entry, size", VEC_C_CASES, ids=[f"{e.key}-{s}" for e, s in VEC_C_CASES])
def test_column_order_form_matches_central_differences_in_column_order(rng, entry, size):
    args = entry.sample(rng, size)
    assert column_order_error(entry, args) < FD_RTOL


@pytest.mark.parametrize("entry", WITH_VEC_C, ids=[e.key for e in WITH_VEC_C])
def test_the_row_order_form_is_refused_in_column_order(rng, entry):
    # the two forms differ (on the non-square size), so each check tells the orders apart
    args = entry.sample(rng, entry.sizes[0])
    assert column_order_error(entry, args, entry.df) > WRONG_AT_LEAST
    assert derivative_error(entry, args, COLUMN_ORDER[entry.key][0]) > WRONG_AT_LEAST


@pytest.mark.parametrize("key", ["kron-gram", "kron-outer-gram"])
def test_magnus_neudeckers_K_in_the_row_order_form_is_refused(rng, key):
    # K^MN_mn = commutation_matrix(m, n, "F") is the course's K_{n,m}: plugged into the row-order
    # gram forms in place of K_{m,n} = commutation_matrix(m, n), it gives an O(1) error
    entry = by_key(key)
    (X,) = entry.sample(rng, entry.sizes[0])
    m, n = X.shape
    k = n if key == "kron-gram" else m
    first, second = (np.kron(X.T, np.eye(k)), np.kron(np.eye(k), X.T)) if key == "kron-gram" else (
        np.kron(np.eye(k), X), np.kron(X, np.eye(k)))
    assert derivative_error(entry, (X,), lambda X_: first + second @ commutation_matrix(m, n)) < FD_RTOL
    assert derivative_error(entry, (X,), lambda X_: first + second @ commutation_matrix(m, n, "F")) > 0.1


def _symmetric_from_free(theta, n):
    """The symmetric n × n matrix whose upper triangle (diagonal included) is theta, row by row."""
    S = np.zeros((n, n))
    S[np.triu_indices(n)] = theta
    return S + np.triu(S, 1).T


@pytest.mark.parametrize("n", [1, 3, 4])
def test_log_det_of_symmetric_matrix_by_its_free_entries(rng, n):
    # log det Σ(θ) with θ the n(n+1)/2 free entries: ∂/∂θ is 2Σ⁻¹ − Σ⁻¹ ⊙ I on the upper triangle
    # (the Matrix Cookbook's form); the table's Σ⁻¹ is the derivative by all n² entries
    entry = by_key("log-determinant-spd")
    (S,) = entry.sample(rng, n)
    free = numeric_gradient(lambda t: np.linalg.slogdet(_symmetric_from_free(t, n))[1],
                            S[np.triu_indices(n)])
    cookbook = entry.wrong(S)[np.triu_indices(n)]
    assert np.abs(free - cookbook).max() < FD_RTOL * max(1.0, np.abs(free).max())
    if n > 1:
        assert np.abs(free - entry.df(S)[np.triu_indices(n)]).max() > WRONG_AT_LEAST


# --- the Matrix Cookbook's section 2, equation by equation -----------------------------------------

def test_every_cookbook_equation_is_accounted_for_once():
    tables = [set(COOKBOOK_COVERED), set(COOKBOOK_UNCOVERED), set(COOKBOOK_NOT_IDENTITIES)]
    assert set().union(*tables) == set(COOKBOOK_SECTION_2)
    assert sum(len(t) for t in tables) == len(COOKBOOK_SECTION_2)  # no number in two tables
    assert all(COOKBOOK_UNCOVERED.values()) and all(COOKBOOK_NOT_IDENTITIES.values())
    assert set(COOKBOOK_AS_PRINTED) | set(COOKBOOK_UNSTATED_CONDITIONS) <= set(COOKBOOK_COVERED)


def test_the_cookbook_coverage_is_counted_from_the_data():
    covered, uncovered, total = cookbook_coverage()
    assert covered == sorted(COOKBOOK_COVERED) and uncovered == sorted(COOKBOOK_UNCOVERED)
    assert total == len(COOKBOOK_SECTION_2) - len(COOKBOOK_NOT_IDENTITIES)
    assert len(covered) >= 85  # issue 28
    # every entry written for the Cookbook checks at least one of its equations
    assert {e.key for e in IDENTITIES if e.group == "matrix cookbook"} <= set(COOKBOOK_COVERED.values())


@pytest.mark.parametrize("number", sorted(COOKBOOK_COVERED))
def test_every_covered_cookbook_equation_passes_its_check(rng, number):
    entry = by_key(COOKBOOK_COVERED[number])
    for size in entry.sizes:
        assert derivative_error(entry, entry.sample(rng, size)) < FD_RTOL, (number, size)


@pytest.mark.parametrize("number", sorted(COOKBOOK_AS_PRINTED))
def test_the_cookbook_form_as_printed_fails(rng, number):
    # the form as printed is the entry's wrong form: central differences refuse it, at every size
    # where it differs from the right one (they agree at 1 × 1, where nothing fails to commute)
    entry = by_key(COOKBOOK_AS_PRINTED[number])
    errors = [derivative_error(entry, args, entry.wrong)
              for args in (entry.sample(rng, size) for size in entry.sizes)]
    assert errors[0] > WRONG_AT_LEAST and max(errors) > 0.01, errors
    assert "printed" in entry.wrong_tex and entry.mistake


def test_the_matrix_cosine_agrees_with_scipy(rng):
    # (128)'s derivative cos(X)ᵀ comes from an eigendecomposition; SciPy's cosm is a third oracle
    from scipy.linalg import cosm

    entry = by_key("cb-trace-sin")
    for n in entry.sizes:
        (X,) = entry.sample(rng, n)
        np.testing.assert_allclose(entry.df(X), cosm(X).T, rtol=1e-10, atol=1e-12)
