"""vec, unvec, kron_jacobian, commutation_matrix and the Jacobians built on them, against oracles.

Oracles: central differences (numeric_jacobian flattens in C order; F order is reached by wrapping
the map in column-order reshapes), autograd's jacobian (shape Y.shape + X.shape, reshaped), and
small cases computed by hand in the comments.
"""

import re

import autograd.numpy as anp
import numpy as np
import pytest
from autograd import jacobian

from assertions import assert_inputs_kept_and_results_new
from mathchain import (
    commutation_matrix,
    elementwise_jacobian,
    gram_jacobian,
    inverse_jacobian,
    kron_jacobian,
    numeric_jacobian,
    unvec,
    vec,
)
from tolerances import EXACT_ATOL, EXACT_RTOL, FD_ATOL, FD_RTOL, MATRIX_SHAPES

ORDERS = ["C", "F"]


def _autograd_jacobian(F, X, order):
    """∂vec(F(X))/∂vec(X) from autograd, whose jacobian has shape F(X).shape + X.shape."""
    J4 = jacobian(F)(X)  # [k, l, i, j] = ∂F(X)_kl/∂X_ij
    p, q = J4.shape[:2]
    m, n = X.shape
    if order == "F":  # vec_c: row l p + k, column j m + i, so l and j must vary slowest
        J4 = J4.transpose(1, 0, 3, 2)
    return J4.reshape(p * q, m * n)


def _numeric_jacobian(F, X, order):
    """∂vec(F(X))/∂vec(X) by central differences, flattening input and output in ``order``."""
    def flat(v):
        return vec(F(unvec(v, X.shape, order)), order)

    return numeric_jacobian(flat, vec(X, order))


def _assert_jacobian(got, F, X, order):
    """got equals autograd's Jacobian of F (to rounding) and central differences (to FD tolerance)."""
    want = _autograd_jacobian(F, X, order)
    assert got.shape == want.shape
    np.testing.assert_allclose(got, want, rtol=EXACT_RTOL, atol=EXACT_ATOL)
    np.testing.assert_allclose(got, _numeric_jacobian(F, X, order), rtol=FD_RTOL, atol=FD_ATOL)


def _well_conditioned(rng, n):
    """A random (n, n) matrix far from singular: n I plus standard normal noise."""
    return n * np.eye(n) + rng.normal(size=(n, n))


# --- vec and unvec --------------------------------------------------------------------------------

def test_vec_hand_computed_2x3():
    # X = [[0, 1, 2], [3, 4, 5]]: row by row 0, 1, 2, 3, 4, 5; column by column 0, 3, 1, 4, 2, 5.
    X = np.arange(6.0).reshape(2, 3)
    np.testing.assert_array_equal(vec(X), [0, 1, 2, 3, 4, 5])
    np.testing.assert_array_equal(vec(X, "C"), [0, 1, 2, 3, 4, 5])
    np.testing.assert_array_equal(vec(X, "F"), [0, 3, 1, 4, 2, 5])
    np.testing.assert_array_equal(unvec([0, 3, 1, 4, 2, 5], (2, 3), "F"), X)
    np.testing.assert_array_equal(unvec([0, 1, 2, 3, 4, 5], (2, 3)), X)


@pytest.mark.parametrize("order", ORDERS)
@pytest.mark.parametrize("m,n", MATRIX_SHAPES)
def test_vec_unvec_round_trip_and_index_formula(rng, order, m, n):
    X = rng.normal(size=(m, n))
    v = vec(X, order)
    assert v.shape == (m * n,)
    for i, j in np.ndindex(m, n):  # vec_r(X)_{in+j} = X_ij, vec_c(X)_{jm+i} = X_ij
        assert v[i * n + j if order == "C" else j * m + i] == X[i, j]
    np.testing.assert_array_equal(unvec(v, (m, n), order), X)
    w = rng.normal(size=m * n)
    np.testing.assert_array_equal(vec(unvec(w, (m, n), order), order), w)


@pytest.mark.parametrize("m,n", MATRIX_SHAPES)
def test_vec_c_is_vec_r_of_the_transpose(rng, m, n):
    X = rng.normal(size=(m, n))
    np.testing.assert_array_equal(vec(X, "F"), vec(X.T, "C"))


def test_vec_and_unvec_return_new_arrays(rng):
    X, v = rng.normal(size=(2, 3)), rng.normal(size=6)
    assert_inputs_kept_and_results_new((X, v), lambda: (vec(X), vec(X, "F"), unvec(v, (2, 3)),
                                                         unvec(v, (3, 2), "F")))


# --- kron_jacobian: Y = AXB -----------------------------------------------------------------------

def test_kron_jacobian_hand_computed_scalar_output():
    # A = [[1, 2]], B = [[3], [4]], X 2×2: Y = Σ_ij A_i X_ij B_j, a 1×1 matrix, so the Jacobian is the
    # row A_i B_j: in C order (X00, X01, X10, X11) it is (1·3, 1·4, 2·3, 2·4) = (3, 4, 6, 8);
    # in F order (X00, X10, X01, X11) it is (3, 6, 4, 8).
    np.testing.assert_array_equal(kron_jacobian([[1, 2]], [[3], [4]]), [[3, 4, 6, 8]])
    np.testing.assert_array_equal(kron_jacobian([[1, 2]], [[3], [4]], "F"), [[3, 6, 4, 8]])


def test_kron_jacobian_hand_computed_2x2():
    # A = [[1, 2], [3, 4]], B = I: Y = AX, Y_kl = Σ_i A_ki X_il. In C order ∂Y_kl/∂X_il = A_ki
    # sits at row 2k + l, column 2i + l: A ⊗ I. With B = [[0, 1], [1, 0]] (swap columns) instead,
    # Y = XB swaps the columns of X: row 2k + l has its 1 at column 2k + (1 − l).
    A = [[1, 2], [3, 4]]
    np.testing.assert_array_equal(kron_jacobian(A, np.eye(2)),
                                  [[1, 0, 2, 0], [0, 1, 0, 2], [3, 0, 4, 0], [0, 3, 0, 4]])
    np.testing.assert_array_equal(kron_jacobian(A, np.eye(2), "F"),
                                  [[1, 2, 0, 0], [3, 4, 0, 0], [0, 0, 1, 2], [0, 0, 3, 4]])
    swap = [[0, 1], [1, 0]]
    np.testing.assert_array_equal(kron_jacobian(np.eye(2), swap),
                                  [[0, 1, 0, 0], [1, 0, 0, 0], [0, 0, 0, 1], [0, 0, 1, 0]])


@pytest.mark.parametrize("order", ORDERS)
@pytest.mark.parametrize("m,n", MATRIX_SHAPES)
@pytest.mark.parametrize("p,q", [(1, 1), (2, 3), (3, 1)])
def test_kron_jacobian_against_autograd_and_finite_differences(rng, order, m, n, p, q):
    A, X, B = rng.normal(size=(p, m)), rng.normal(size=(m, n)), rng.normal(size=(n, q))
    J = kron_jacobian(A, B, order)
    assert J.shape == (p * q, m * n)
    _assert_jacobian(J, lambda X: anp.dot(anp.dot(A, X), B), X, order)
    np.testing.assert_allclose(J @ vec(X, order), vec(A @ X @ B, order), rtol=EXACT_RTOL,
                               atol=EXACT_ATOL)  # the map is linear: J vec(X) = vec(AXB)


@pytest.mark.parametrize("m,n", MATRIX_SHAPES)
def test_kron_jacobian_by_index_formula(rng, m, n):
    # ∂Y_kl/∂X_ij = A_ki B_jl at row k q + l, column i n + j (C order): loops, no Kronecker product.
    p, q = 3, 2
    A, B = rng.normal(size=(p, m)), rng.normal(size=(n, q))
    J = np.zeros((p * q, m * n))
    for k, l, i, j in np.ndindex(p, q, m, n):
        J[k * q + l, i * n + j] = A[k, i] * B[j, l]
    np.testing.assert_allclose(kron_jacobian(A, B), J, rtol=EXACT_RTOL, atol=EXACT_ATOL)


def test_the_two_orders_differ_by_commutation_matrices(rng):
    # vec_c(X) = vec_r(Xᵀ) = K_{m,n} vec_r(X) (C order), so J_F = K_{p,q} J_C K_{m,n}ᵀ.
    (p, m), (n, q) = (2, 3), (4, 5)
    A, B = rng.normal(size=(p, m)), rng.normal(size=(n, q))
    J_C, J_F = kron_jacobian(A, B, "C"), kron_jacobian(A, B, "F")
    np.testing.assert_allclose(J_F, commutation_matrix(p, q) @ J_C @ commutation_matrix(m, n).T,
                               rtol=EXACT_RTOL, atol=EXACT_ATOL)


@pytest.mark.parametrize("order", ORDERS)
def test_adjoint_of_kron_jacobian_is_the_compact_vjp(rng, order):
    # ⟨vec U, J vec V⟩ = ⟨Jᵀ vec U, vec V⟩ = ⟨vec(Aᵀ U Bᵀ), vec V⟩: the vector–Jacobian product of
    # Y = AXB is Aᵀ U Bᵀ, in either order, without forming J.
    A, B = rng.normal(size=(2, 3)), rng.normal(size=(4, 5))
    U, V = rng.normal(size=(2, 5)), rng.normal(size=(3, 4))
    J = kron_jacobian(A, B, order)
    lhs = vec(U, order) @ (J @ vec(V, order))
    rhs = vec(A.T @ U @ B.T, order) @ vec(V, order)
    assert abs(lhs - rhs) <= 1e-12 * (np.abs(A).T @ np.abs(U) @ np.abs(B).T * np.abs(V)).sum()
    np.testing.assert_allclose(J.T @ vec(U, order), vec(A.T @ U @ B.T, order), rtol=EXACT_RTOL,
                               atol=EXACT_ATOL)


def test_missing_transpose_or_swapped_order_would_be_caught(rng):
    # The plausible wrong Jacobians: Bᵀ ⊗ A (the column-order formula) with C-order flattening has
    # the right shape but wrong entries; A ⊗ B without the transpose has the wrong shape.
    A, X, B = rng.normal(size=(2, 3)), rng.normal(size=(3, 4)), rng.normal(size=(4, 5))
    want = _autograd_jacobian(lambda X: anp.dot(anp.dot(A, X), B), X, "C")
    assert np.kron(B.T, A).shape == want.shape
    assert not np.allclose(np.kron(B.T, A), want, rtol=FD_RTOL, atol=FD_ATOL)
    assert np.kron(A, B).shape != want.shape


# --- commutation_matrix ---------------------------------------------------------------------------

def test_commutation_matrix_hand_computed_2x3():
    # X = [[0, 1, 2], [3, 4, 5]]: vec_r(X) = 0..5 and vec_r(Xᵀ) = (0, 3, 1, 4, 2, 5), so row r of
    # K has its 1 in column vec_r(Xᵀ)_r. In F order vec_c(X) = (0, 3, 1, 4, 2, 5) and vec_c(Xᵀ) = 0..5:
    # row r has its 1 where vec_c(X) holds r, columns (0, 2, 4, 1, 3, 5).
    np.testing.assert_array_equal(commutation_matrix(2, 3), np.eye(6)[[0, 3, 1, 4, 2, 5]])
    np.testing.assert_array_equal(commutation_matrix(2, 3, "F"), np.eye(6)[[0, 2, 4, 1, 3, 5]])


@pytest.mark.parametrize("order", ORDERS)
@pytest.mark.parametrize("m,n", MATRIX_SHAPES)
def test_commutation_matrix_transposes_vec(rng, order, m, n):
    X = rng.normal(size=(m, n))
    K = commutation_matrix(m, n, order)
    assert K.shape == (m * n, m * n)
    np.testing.assert_array_equal(K @ vec(X, order), vec(X.T, order))  # a permutation: exact
    _assert_jacobian(K, lambda X: anp.transpose(X), X, order)


@pytest.mark.parametrize("order", ORDERS)
@pytest.mark.parametrize("m,n", MATRIX_SHAPES)
def test_commutation_matrix_is_a_permutation_undone_by_K_nm(order, m, n):
    K = commutation_matrix(m, n, order)
    assert set(np.unique(K)) <= {0.0, 1.0}
    np.testing.assert_array_equal(K.sum(axis=0), 1.0)
    np.testing.assert_array_equal(K.sum(axis=1), 1.0)
    np.testing.assert_array_equal(commutation_matrix(n, m, order) @ K, np.eye(m * n))
    np.testing.assert_array_equal(K.T, commutation_matrix(n, m, order))


@pytest.mark.parametrize("m,n", MATRIX_SHAPES)
def test_column_order_K_mn_is_row_order_K_nm(m, n):
    np.testing.assert_array_equal(commutation_matrix(m, n, "F"), commutation_matrix(n, m, "C"))


def test_commutation_matrices_swap_a_kronecker_product(rng):
    # K_{p,r} (P ⊗ Q) K_{s,t}ᵀ = Q ⊗ P for P (p, s), Q (r, t), in C order (Magnus & Neudecker 3.9).
    P, Q = rng.normal(size=(2, 3)), rng.normal(size=(4, 5))
    swapped = commutation_matrix(2, 4) @ np.kron(P, Q) @ commutation_matrix(3, 5).T
    np.testing.assert_array_equal(swapped, np.kron(Q, P))


# --- inverse_jacobian: Y = X⁻¹ --------------------------------------------------------------------

def test_inverse_jacobian_hand_computed():
    # X = [[1, 1], [0, 1]], X⁻¹ = [[1, −1], [0, 1]]. Perturb one entry by t and invert by hand:
    # X00: [[1 + t, 1], [0, 1]]⁻¹ = [[1/(1+t), −1/(1+t)], [0, 1]], derivative [[−1, 1], [0, 0]];
    # X01: [[1, 1 + t], [0, 1]]⁻¹ = [[1, −1 − t], [0, 1]], derivative [[0, −1], [0, 0]];
    # X10: [[1, 1], [t, 1]]⁻¹ = [[1, −1], [−t, 1]]/(1 − t), derivative at 0 [[1, −1], [−1, 1]];
    # X11: [[1, 1], [0, 1 + t]]⁻¹ = [[1, −1/(1+t)], [0, 1/(1+t)]], derivative [[0, 1], [0, −1]].
    # These are the columns of the Jacobian (C order on both sides).
    columns = [[-1, 1, 0, 0], [0, -1, 0, 0], [1, -1, -1, 1], [0, 1, 0, -1]]
    X = [[1, 1], [0, 1]]
    np.testing.assert_allclose(inverse_jacobian(X), np.array(columns).T, rtol=0, atol=1e-15)
    # F order: the same numbers, rows and columns re-indexed X00, X10, X01, X11.
    perm = [0, 2, 1, 3]
    np.testing.assert_allclose(inverse_jacobian(X, "F"), np.array(columns).T[np.ix_(perm, perm)],
                               rtol=0, atol=1e-15)


def test_inverse_jacobian_hand_computed_diagonal():
    # X = diag(2, 4): ∂(X⁻¹)_kl/∂X_ij = −(X⁻¹)_ki (X⁻¹)_jl, nonzero only for k = i, j = l:
    # −(1/2)(1/2), −(1/2)(1/4), −(1/4)(1/2), −(1/4)(1/4) on the diagonal.
    np.testing.assert_allclose(inverse_jacobian([[2, 0], [0, 4]]),
                               -np.diag([1 / 4, 1 / 8, 1 / 8, 1 / 16]), rtol=0, atol=1e-15)


@pytest.mark.parametrize("order", ORDERS)
@pytest.mark.parametrize("n", [1, 2, 3, 5])
def test_inverse_jacobian_against_autograd_and_finite_differences(rng, order, n):
    X = _well_conditioned(rng, n)
    J = inverse_jacobian(X, order)
    assert J.shape == (n * n, n * n)
    _assert_jacobian(J, anp.linalg.inv, X, order)


def test_inverse_jacobian_missing_transpose_would_be_caught(rng):
    # −(X⁻¹ ⊗ X⁻¹), the formula with the transpose forgotten, has the right shape, wrong entries.
    X = _well_conditioned(rng, 3)
    X_inv = np.linalg.inv(X)
    want = _autograd_jacobian(anp.linalg.inv, X, "C")
    assert not np.allclose(-np.kron(X_inv, X_inv), want, rtol=FD_RTOL, atol=FD_ATOL)
    np.testing.assert_allclose(inverse_jacobian(X), want, rtol=EXACT_RTOL, atol=EXACT_ATOL)


# --- gram_jacobian: Y = XᵀX -----------------------------------------------------------------------

def test_gram_jacobian_hand_computed():
    # X = [[a, b]] (a row): XᵀX = [[a², ab], [ba, b²]]; rows Y00, Y01, Y10, Y11, columns a, b:
    # [[2a, 0], [b, a], [b, a], [0, 2b]]; with a, b = 1, 2 that is [[2, 0], [2, 1], [2, 1], [0, 4]].
    np.testing.assert_array_equal(gram_jacobian([[1, 2]]), [[2, 0], [2, 1], [2, 1], [0, 4]])
    np.testing.assert_array_equal(gram_jacobian([[1, 2]], "F"), [[2, 0], [2, 1], [2, 1], [0, 4]])
    # X = [[a], [b]] (a column): XᵀX = a² + b², Jacobian [[2a, 2b]].
    np.testing.assert_array_equal(gram_jacobian([[3], [5]]), [[6, 10]])


@pytest.mark.parametrize("order", ORDERS)
@pytest.mark.parametrize("m,n", MATRIX_SHAPES)
def test_gram_jacobian_against_autograd_and_finite_differences(rng, order, m, n):
    X = rng.normal(size=(m, n))
    J = gram_jacobian(X, order)
    assert J.shape == (n * n, m * n)
    _assert_jacobian(J, lambda X: anp.dot(X.T, X), X, order)


def test_gram_jacobian_docstring_forms_name_their_commutation_matrix(rng):
    # C: (I_n ⊗ Xᵀ) K_{m,n} + (Xᵀ ⊗ I_n); F: (Xᵀ ⊗ I_n) K + (I_n ⊗ Xᵀ), K = commutation_matrix(m, n, "F")
    m, n = 3, 2
    X, eye = rng.normal(size=(m, n)), np.eye(n)
    c_form = np.kron(eye, X.T) @ commutation_matrix(m, n) + np.kron(X.T, eye)
    f_form = np.kron(X.T, eye) @ commutation_matrix(m, n, "F") + np.kron(eye, X.T)
    np.testing.assert_allclose(gram_jacobian(X), c_form, rtol=EXACT_RTOL, atol=EXACT_ATOL)
    np.testing.assert_allclose(gram_jacobian(X, "F"), f_form, rtol=EXACT_RTOL, atol=EXACT_ATOL)
    np.testing.assert_array_equal(commutation_matrix(m, n, "F"), commutation_matrix(n, m))
    wrong_k = np.kron(X.T, eye) @ commutation_matrix(m, n) + np.kron(eye, X.T)  # C-order K in F
    assert not np.allclose(gram_jacobian(X, "F"), wrong_k)


# --- elementwise_jacobian: Y = f(X) ---------------------------------------------------------------

def test_elementwise_jacobian_hand_computed():
    # f′(X) = [[1, 2, 3], [4, 5, 6]]: the diagonal is vec of it, in the order asked for.
    D = [[1, 2, 3], [4, 5, 6]]
    np.testing.assert_array_equal(elementwise_jacobian(D), np.diag([1, 2, 3, 4, 5, 6]))
    np.testing.assert_array_equal(elementwise_jacobian(D, "F"), np.diag([1, 4, 2, 5, 3, 6]))


@pytest.mark.parametrize("order", ORDERS)
@pytest.mark.parametrize("m,n", MATRIX_SHAPES)
def test_elementwise_jacobian_against_autograd_and_finite_differences(rng, order, m, n):
    X = rng.normal(size=(m, n))
    J = elementwise_jacobian(1 - np.tanh(X) ** 2, order)  # tanh′ = 1 − tanh²
    assert J.shape == (m * n, m * n)
    _assert_jacobian(J, anp.tanh, X, order)


# --- the chain rule: products of these Jacobians ----------------------------------------------------

@pytest.mark.parametrize("order", ORDERS)
def test_chain_of_matrix_maps_is_the_product_of_jacobians(rng, order):
    # Z = tanh(A X⁻¹ B): ∂vec Z/∂vec X = diag(tanh′) (A ⊗ Bᵀ or Bᵀ ⊗ A) ∂vec(X⁻¹)/∂vec X.
    A, X, B = rng.normal(size=(2, 3)), _well_conditioned(rng, 3), rng.normal(size=(3, 4))
    U = A @ np.linalg.inv(X) @ B
    J = elementwise_jacobian(1 - np.tanh(U) ** 2, order) @ kron_jacobian(A, B, order) @ \
        inverse_jacobian(X, order)
    assert J.shape == (8, 9)
    _assert_jacobian(J, lambda X: anp.tanh(anp.dot(anp.dot(A, anp.linalg.inv(X)), B)), X, order)


def test_results_do_not_alias_inputs(rng):
    A, B, X, D = (rng.normal(size=s) for s in [(2, 2), (2, 2), (2, 2), (2, 2)])
    X += 3 * np.eye(2)
    assert_inputs_kept_and_results_new(
        (A, B, X, D),
        lambda: (kron_jacobian(A, B), inverse_jacobian(X), gram_jacobian(X), elementwise_jacobian(D)))


# --- bad input ------------------------------------------------------------------------------------

CALLS = {  # name: a call with good arguments and the given order
    "vec": lambda order: vec(np.ones((2, 3)), order),
    "unvec": lambda order: unvec(np.ones(6), (2, 3), order),
    "kron_jacobian": lambda order: kron_jacobian(np.ones((2, 3)), np.ones((4, 5)), order),
    "commutation_matrix": lambda order: commutation_matrix(2, 3, order),
    "inverse_jacobian": lambda order: inverse_jacobian(np.eye(2), order),
    "gram_jacobian": lambda order: gram_jacobian(np.ones((2, 3)), order),
    "elementwise_jacobian": lambda order: elementwise_jacobian(np.ones((2, 3)), order),
}


@pytest.mark.parametrize("name", CALLS)
@pytest.mark.parametrize("order", ["c", "f", "A", "K", "row", None, 0])
def test_unknown_order_is_refused_by_name(name, order):
    # NumPy would accept "A" and "K" (and reinterpret them per array); here only C and F exist.
    with pytest.raises(ValueError, match=rf"order must be 'C' \(vec_r.*or 'F' \(vec_c.*got {order!r}"):
        CALLS[name](order)


@pytest.mark.parametrize("name", CALLS)
def test_both_orders_are_accepted(name):
    for order in ORDERS:
        CALLS[name](order)


@pytest.mark.parametrize("fn, arg", [(vec, "X"), (inverse_jacobian, "X"), (gram_jacobian, "X"),
                                     (elementwise_jacobian, "derivative")])
@pytest.mark.parametrize("shape", [(6,), (1, 2, 3)])
def test_matrix_arguments_must_be_2d(fn, arg, shape):
    with pytest.raises(ValueError, match=rf"{arg} must be 2-D; got shape \({shape[0]},"):
        fn(np.ones(shape))


@pytest.mark.parametrize("arg", ["A", "B"])
@pytest.mark.parametrize("shape", [(3,), (2, 3, 1)])
def test_kron_jacobian_needs_matrices(arg, shape):
    args = {"A": np.ones((2, 3)), "B": np.ones((4, 5))} | {arg: np.ones(shape)}
    with pytest.raises(ValueError, match=rf"{arg} must be 2-D; got shape"):
        kron_jacobian(**args)


@pytest.mark.parametrize("arg", ["A", "B"])
def test_kron_jacobian_refuses_non_finite_entries(arg):
    args = {"A": np.ones((2, 3)), "B": np.ones((4, 5))}
    args[arg][1, 2] = np.nan
    with pytest.raises(ValueError, match=rf"{arg} must be finite; {arg}\[1, 2\] = nan"):
        kron_jacobian(**args)


def test_kron_jacobian_overflow_is_an_error():
    with pytest.raises(ValueError, match="kron_jacobian overflowed"):
        kron_jacobian([[1e200]], [[1e200]])


def test_unvec_refuses_wrong_sizes_and_shapes():
    with pytest.raises(ValueError, match=r"v has shape \(6,\) \(6 entries\) but shape \(2, 4\) "
                                         r"needs m n = 8"):
        unvec(np.ones(6), (2, 4))
    with pytest.raises(ValueError, match=r"v must be a vector, shape \(k,\) or a column \(k, 1\); "
                                         r"got shape \(2, 3\)"):
        unvec(np.ones((2, 3)), (2, 3))
    with pytest.raises(ValueError, match=r"v must be 1-D or 2-D; got shape \(6, 1, 1\)"):
        unvec(np.ones((6, 1, 1)), (2, 3))
    for shape in [(6,), (1, 2, 3), (2, 0), (2, -3), (2.0, 3), (True, 6), "23", 6]:
        with pytest.raises(ValueError, match=re.escape(f"shape must be a pair (m, n) of positive "
                                                       f"integers; got {shape!r}")):
            unvec(np.ones(6), shape)


def test_unvec_accepts_a_column():
    np.testing.assert_array_equal(unvec(np.arange(6.0).reshape(6, 1), (2, 3)),
                                  np.arange(6.0).reshape(2, 3))


@pytest.mark.parametrize("arg", ["m", "n"])
@pytest.mark.parametrize("bad", [0, -2, 2.0, 2.5, True, "3", None])
def test_commutation_matrix_refuses_bad_sizes_by_name(arg, bad):
    args = {"m": 2, "n": 3} | {arg: bad}
    with pytest.raises(ValueError, match=rf"{arg} must be a positive integer; got {bad!r}"):
        commutation_matrix(**args)


def test_commutation_matrix_accepts_numpy_integers():
    np.testing.assert_array_equal(commutation_matrix(np.int64(2), np.int32(3)), commutation_matrix(2, 3))


@pytest.mark.parametrize("shape", [(2, 3), (3, 2), (1, 4)])
def test_inverse_jacobian_refuses_non_square(shape):
    with pytest.raises(ValueError, match=rf"X must be square to have an inverse; got shape "
                                         rf"\({shape[0]}, {shape[1]}\)"):
        inverse_jacobian(np.ones(shape))


def test_inverse_jacobian_refuses_singular():
    with pytest.raises(ValueError, match=r"X is singular \(shape \(2, 2\)\)"):
        inverse_jacobian([[1, 2], [2, 4]])


@pytest.mark.parametrize("fn, arg", [(vec, "X"), (gram_jacobian, "X"), (inverse_jacobian, "X"),
                                     (elementwise_jacobian, "derivative")])
def test_non_finite_matrix_is_named(fn, arg):
    X = np.eye(3)
    X[2, 0] = np.inf
    with pytest.raises(ValueError, match=rf"{arg} must be finite; {arg}\[2, 0\] = inf"):
        fn(X)


def test_empty_and_complex_are_refused():
    with pytest.raises(ValueError, match=r"X must not be empty; got shape \(2, 0\)"):
        vec(np.ones((2, 0)))
    with pytest.raises(ValueError, match="A must be real"):
        kron_jacobian(np.ones((2, 2)) * 1j, np.ones((2, 2)))


def _magnus_neudecker_K(m, n):
    """Magnus and Neudecker's K_mn by its definition, Σ_ij H_ij ⊗ H_ijᵀ (H_ij: m × n unit matrices)."""
    K = np.zeros((m * n, m * n))
    for i, j in np.ndindex(m, n):
        H = np.zeros((m, n))
        H[i, j] = 1.0
        K += np.kron(H, H.T)
    return K


@pytest.mark.parametrize("m, n", [(2, 3), (3, 2), (1, 4), (3, 3)])
def test_the_two_conventions_against_magnus_neudeckers_definition(rng, m, n):
    # K^MN_mn vec_c(X) = vec_c(Xᵀ); the course's row-order K_{m,n} is K^MN_nm, the "F" one K^MN_mn
    X = rng.normal(size=(m, n))
    K_mn = _magnus_neudecker_K(m, n)
    np.testing.assert_array_equal(K_mn @ X.flatten(order="F"), X.T.flatten(order="F"))
    np.testing.assert_array_equal(commutation_matrix(m, n, "F"), K_mn)
    np.testing.assert_array_equal(commutation_matrix(m, n), _magnus_neudecker_K(n, m))
    if m != n and min(m, n) > 1:  # the trap: the same subscripts, different matrices (a vector: I)
        assert not np.array_equal(commutation_matrix(m, n), K_mn)
