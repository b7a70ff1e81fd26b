"""jacobian_chain: the numerator-layout chain rule, its multiplication order, its shape errors."""

import inspect
from functools import reduce

import autograd.numpy as anp
import numpy as np
import pytest
from autograd import jacobian
from hypothesis import given, settings
from hypothesis import strategies as st

import mathchain
from mathchain import jacobian_chain, numeric_jacobian
from mathchain import vector as vector_module
from strategies import draw_chain
from tolerances import EXACT_ATOL, EXACT_RTOL, FD_ATOL, FD_RTOL, ORDER_RTOL


def test_hand_computed_product():
    # [[1, 2]] [[3], [4]] = [[11]]; then [[11]] [[1, 0, -1]] = [[11, 0, -11]]
    got = jacobian_chain([[1, 2]], [[3], [4]], [[1, 0, -1]])
    np.testing.assert_array_equal(got, [[11.0, 0.0, -11.0]])


def test_hand_computed_chain_rule():
    # x ∈ ℝ² → y = (x₁x₂, x₁ + x₂, x₂²) ∈ ℝ³ → z = y₁ + 2y₂ + 3y₃ ∈ ℝ, at x = (1, 2):
    # ∂y/∂x = [[x₂, x₁], [1, 1], [0, 2x₂]] = [[2, 1], [1, 1], [0, 4]]; ∂z/∂y = [[1, 2, 3]];
    # ∂z/∂x = [[1·2 + 2·1 + 3·0, 1·1 + 2·1 + 3·4]] = [[4, 15]]   (z = x₁x₂ + 2x₁ + 2x₂ + 3x₂²).
    got = jacobian_chain([[1, 2, 3]], [[2, 1], [1, 1], [0, 4]])
    np.testing.assert_array_equal(got, [[4.0, 15.0]])


def test_chain_rule_for_composed_maps_matches_autograd(rng):
    # x ∈ ℝ⁴ → y = tanh(A x) ∈ ℝ³ → z = B y² ∈ ℝ²: ∂z/∂x = ∂z/∂y ∂y/∂x, shapes [2,4] = [2,3][3,4].
    A, B, x = rng.normal(size=(3, 4)), rng.normal(size=(2, 3)), rng.normal(size=4)

    def y_of(x):
        return anp.tanh(anp.dot(A, x))

    def z_of(y):
        return anp.dot(B, y**2)

    dz_dy = jacobian(z_of)(y_of(x))
    dy_dx = jacobian(y_of)(x)
    chained = jacobian_chain(dz_dy, dy_dx)
    assert chained.shape == (2, 4)
    np.testing.assert_allclose(chained, jacobian(lambda x: z_of(y_of(x)))(x), rtol=EXACT_RTOL,
                               atol=EXACT_ATOL)
    np.testing.assert_allclose(chained, numeric_jacobian(lambda x: z_of(y_of(x)), x), rtol=FD_RTOL,
                               atol=FD_ATOL)


def test_three_step_chain_matches_finite_differences(rng):
    # x ∈ ℝ³ → u = sin(x) ∈ ℝ³ → v = M u ∈ ℝ⁵ → z = v ⊙ v ∈ ℝ⁵, Jacobians taken numerically,
    # one map at a time, then chained in the written order ∂z/∂v ∂v/∂u ∂u/∂x.
    M, x = rng.normal(size=(5, 3)), rng.normal(size=3)
    u = np.sin(x)
    v = M @ u
    chained = jacobian_chain(numeric_jacobian(lambda v: v * v, v), numeric_jacobian(lambda u: M @ u, u),
                             numeric_jacobian(np.sin, x))
    whole = numeric_jacobian(lambda x: (M @ np.sin(x)) ** 2, x)
    np.testing.assert_allclose(chained, whole, rtol=FD_RTOL, atol=FD_ATOL)


def _assert_same_product(got, mats):
    """got equals the left-to-right product up to the rounding of a different evaluation order."""
    want = reduce(np.matmul, mats)
    bound = ORDER_RTOL * reduce(np.matmul, [np.abs(m) for m in mats])
    assert got.shape == want.shape
    assert np.all(np.abs(got - want) <= bound), np.max(np.abs(got - want) - bound)


@pytest.mark.parametrize("dims", [(1, 1), (1, 1, 1), (1, 5, 1), (5, 1, 5), (3, 3, 3, 3), (2, 7, 1, 6, 3),
                                  (4, 2, 6, 1), (1, 4, 4, 4), (4, 4, 4, 1), (6, 2, 5, 3, 8, 1, 4)])
def test_equals_naive_left_to_right_product(rng, dims):
    mats = [rng.normal(size=(dims[i], dims[i + 1])) for i in range(len(dims) - 1)]
    got = jacobian_chain(*mats)
    assert got.shape == (dims[0], dims[-1])
    _assert_same_product(got, mats)


@settings(max_examples=60, deadline=None)
@given(data=st.data(), dims=st.lists(st.integers(1, 8), min_size=2, max_size=7))
def test_equals_naive_product_property(data, dims):
    mats = draw_chain(data, dims)
    _assert_same_product(jacobian_chain(*mats), mats)


def test_single_jacobian_is_returned_as_a_copy(rng):
    J = rng.normal(size=(2, 3))
    out = jacobian_chain(J)
    np.testing.assert_array_equal(out, J)
    out[0, 0] = 99.0
    assert J[0, 0] != 99.0


def test_inputs_are_not_modified(rng):
    mats = [rng.normal(size=s) for s in [(2, 3), (3, 4), (4, 1)]]
    before = [m.copy() for m in mats]
    jacobian_chain(*mats)
    for m, b in zip(mats, before, strict=True):
        np.testing.assert_array_equal(m, b)


# --- the multiplication order, counted in multiply-adds -------------------------------------------

class _CountingDot:
    """Wraps a matrix product: records each product's shapes and multiply-adds."""

    def __init__(self, dot):
        self.dot, self.madds, self.calls = dot, 0, []

    def __call__(self, a, b):
        assert a.ndim == 2 and b.ndim == 2, (a.shape, b.shape)
        self.madds += a.shape[0] * a.shape[1] * b.shape[1]  # (p×q)(q×r): p·q·r multiply-adds
        self.calls.append((a.shape, b.shape))
        return self.dot(a, b)


@pytest.fixture
def counted_dot(monkeypatch):
    """Count the multiply-adds of jacobian_chain, which multiplies through ``vector._multiply``.

    A self-test first, so that the order tests cannot pass vacuously with a count of 0.
    """
    counter = _CountingDot(vector_module._multiply)
    monkeypatch.setattr(vector_module, "_multiply", counter)
    # (1×2)(2×3)(3×1): the cheapest order is A(BC), 2·3·1 + 1·2·1 = 8 (left to right costs 9).
    jacobian_chain(np.ones((1, 2)), np.ones((2, 3)), np.ones((3, 1)))
    assert counter.madds == 8 and len(counter.calls) == 2, "jacobian_chain bypassed the counter"
    counter.madds, counter.calls = 0, []
    return counter


def naive_cost(dims):
    """Multiply-adds of ((M₁M₂)M₃)⋯ for matrices of shapes (dims[i], dims[i+1])."""
    return sum(dims[0] * dims[k] * dims[k + 1] for k in range(1, len(dims) - 1))


def test_textbook_chain_of_three(rng, counted_dot):
    # CLRS 15.2: A 10×100, B 100×5, C 5×50. (AB)C costs 10·100·5 + 10·5·50 = 5 000 + 2 500 = 7 500,
    # A(BC) costs 100·5·50 + 10·100·50 = 25 000 + 50 000 = 75 000: ten times more.
    mats = [rng.normal(size=s) for s in [(10, 100), (100, 5), (5, 50)]]
    got = jacobian_chain(*mats)
    assert counted_dot.madds == 7_500
    assert counted_dot.calls == [((10, 100), (100, 5)), ((10, 5), (5, 50))]
    _assert_same_product(got, mats)


def test_textbook_chain_of_six(rng, counted_dot):
    # CLRS 15.2 (Figure 15.5): dimensions 30, 35, 15, 5, 10, 20, 25. The optimal parenthesisation is
    # ((A₁(A₂A₃))((A₄A₅)A₆)) with 15 125 multiply-adds:
    #   A₂A₃ 35·15·5 = 2 625, A₁(A₂A₃) 30·35·5 = 5 250, A₄A₅ 5·10·20 = 1 000,
    #   (A₄A₅)A₆ 5·20·25 = 2 500, final 30·5·25 = 3 750.
    # Left to right: 30·35·15 + 30·15·5 + 30·5·10 + 30·10·20 + 30·20·25
    #   = 15 750 + 2 250 + 1 500 + 6 000 + 15 000 = 40 500.
    dims = [30, 35, 15, 5, 10, 20, 25]
    mats = [rng.normal(size=(dims[i], dims[i + 1])) for i in range(6)]
    got = jacobian_chain(*mats)
    assert counted_dot.madds == 15_125
    assert naive_cost(dims) == 40_500
    assert sorted(counted_dot.calls) == sorted([((35, 15), (15, 5)), ((30, 35), (35, 5)),
                                                ((5, 10), (10, 20)), ((5, 20), (20, 25)),
                                                ((30, 5), (5, 25))])
    _assert_same_product(got, mats)


def test_picks_cheaper_order_than_naive_for_a_forward_mode_chain(rng, counted_dot):
    # (n×n)(n×n)(n×1): naive (J₁J₂)v costs n³ + n², J₁(J₂v) costs 2n². For n = 50: 127 500 vs 5 000.
    n = 50
    mats = [rng.normal(size=(n, n)), rng.normal(size=(n, n)), rng.normal(size=(n, 1))]
    got = jacobian_chain(*mats)
    assert counted_dot.madds == 2 * n * n == 5_000
    assert naive_cost([n, n, n, 1]) == n**3 + n**2 == 127_500
    _assert_same_product(got, mats)


def test_row_vector_first_is_reverse_mode(rng, counted_dot):
    # (1×n)(n×n)(n×n): the left-to-right order is already the cheap one (vector–matrix products):
    # n² + n² = 3 200 for n = 40, against n³ + n² = 65 600 for u(J₁J₂).
    n = 40
    mats = [rng.normal(size=(1, n)), rng.normal(size=(n, n)), rng.normal(size=(n, n))]
    got = jacobian_chain(*mats)
    assert counted_dot.madds == naive_cost([1, n, n, n]) == 2 * n * n == 3_200
    _assert_same_product(got, mats)


def test_long_chain_never_costs_more_than_naive(rng, counted_dot):
    # Four square Jacobians then a vector: the cheapest order works from the vector end, 4·n².
    n = 30
    mats = [rng.normal(size=(n, n)) for _ in range(4)] + [rng.normal(size=(n, 1))]
    got = jacobian_chain(*mats)
    assert counted_dot.madds == 4 * n * n
    assert naive_cost([n] * 5 + [1]) == 3 * n**3 + n**2
    _assert_same_product(got, mats)


def _all_bracketings_cost(dims):
    """Fewest multiply-adds over every bracketing, by trying them all (exponential; an oracle)."""
    if len(dims) <= 2:
        return 0
    return min(_all_bracketings_cost(dims[:k + 1]) + _all_bracketings_cost(dims[k:])
               + dims[0] * dims[k] * dims[-1] for k in range(1, len(dims) - 1))


@settings(max_examples=60, deadline=None)
@given(dims=st.lists(st.sampled_from([1, 2, 3, 5, 8, 13]), min_size=3, max_size=7))
def test_order_is_the_cheapest_of_all_bracketings(dims):
    # Hypothesis runs many examples in one test, which a function-scoped fixture does not cover:
    # swap the counter in by hand.
    counter = _CountingDot(vector_module._multiply)
    original, vector_module._multiply = vector_module._multiply, counter
    try:
        mats = [np.ones((dims[i], dims[i + 1])) for i in range(len(dims) - 1)]
        jacobian_chain(*mats)
    finally:
        vector_module._multiply = original
    assert counter.madds == _all_bracketings_cost(dims)
    assert len(counter.calls) == len(mats) - 1


# --- bad input ------------------------------------------------------------------------------------

def test_mismatched_pair_names_both_shapes(rng):
    with pytest.raises(ValueError) as info:
        jacobian_chain(rng.normal(size=(2, 3)), rng.normal(size=(3, 4)), rng.normal(size=(5, 1)))
    msg = str(info.value)
    assert "jacobians[1] has shape (3, 4) and jacobians[2] has shape (5, 1)" in msg
    assert "columns of the first (4) must equal the rows of the second (5)" in msg


def test_reversed_order_is_refused(rng):
    # The plausible wrong answer ∂y/∂x ∂z/∂y: [n,m][p,n] does not fit when m ≠ p.
    dz_dy, dy_dx = rng.normal(size=(2, 3)), rng.normal(size=(3, 4))
    with pytest.raises(ValueError, match=r"jacobians\[0\] has shape \(3, 4\) and jacobians\[1\] has "
                                         r"shape \(2, 3\)"):
        jacobian_chain(dy_dx, dz_dy)


@pytest.mark.parametrize("position", [0, 1])
@pytest.mark.parametrize("bad", [np.ones(3), np.ones((3, 3, 3)), 5.0])
def test_jacobians_must_be_2d(position, bad):
    mats = [np.ones((3, 3)), np.ones((3, 3))]
    mats[position] = bad
    with pytest.raises(ValueError, match=rf"jacobians\[{position}\] must be 2-D; got shape"):
        jacobian_chain(*mats)


def test_no_jacobian_is_refused():
    with pytest.raises(ValueError, match="at least one"):
        jacobian_chain()


# Chains whose cheapest order differs: a single matrix, a pair and three (the chosen bracketing), at
# sizes that go through BLAS.
BLAS_CHAINS = [[(300, 200)], [(1, 300), (300, 200)], [(300, 200), (200, 300), (300, 1)]]


@pytest.mark.parametrize("shapes", BLAS_CHAINS, ids=["one", "two", "three"])
@pytest.mark.parametrize("bad", [np.nan, np.inf, -np.inf])
def test_non_finite_entry_is_named_even_against_zeros(rng, shapes, bad):
    # Inputs are checked through the product (a scan would cost as much as a matrix-vector chain).
    # Worst case for that: the bad entry M[i, j] only ever meets zeros (column i of the left
    # neighbour and row j of the right neighbour are 0), where a BLAS that skipped zero
    # multipliers would drop it. IEEE: nan·0 = nan, inf·0 = nan.
    for k in range(len(shapes)):
        mats = [rng.normal(size=s) for s in shapes]
        i, j = shapes[k][0] // 2, shapes[k][1] // 3
        mats[k][i, j] = bad
        if k > 0:
            mats[k - 1][:, i] = 0.0
        if k + 1 < len(mats):
            mats[k + 1][j, :] = 0.0
        with pytest.raises(ValueError, match=rf"jacobians\[{k}\] must be finite; "
                                             rf"jacobians\[{k}\]\[{i}, {j}\] = {bad}"):
            jacobian_chain(*mats)


def test_non_finite_entry_is_named_through_a_zero_one_by_one_factor():
    # NumPy's dot (used by numpy.linalg.multi_dot) treats a 1 × 1 operand as a scalar and, when it
    # is 0, skips the other operand: its NaN would vanish. Both a 1 × 1 input that is 0 and a
    # 1 × 1 intermediate product that comes out 0 (1·1 + 1·(−1)) must still be reported.
    with pytest.raises(ValueError, match=r"jacobians\[2\] must be finite; jacobians\[2\]\[0, 0\] = nan"):
        jacobian_chain(np.ones((2, 1)), np.zeros((1, 1)), np.array([[np.nan, 1.0]]))
    with pytest.raises(ValueError, match=r"jacobians\[2\] must be finite; jacobians\[2\]\[0, 0\] = inf"):
        jacobian_chain(np.array([[1.0, 1.0]]), np.array([[1.0], [-1.0]]), np.array([[np.inf, 2.0]]))


@pytest.mark.parametrize("position", [0, 1, 2])
def test_complex_empty_and_text_are_refused(position):
    def chain_with(bad):
        mats = [np.ones((2, 2))] * 3
        mats[position] = bad
        return mats

    with pytest.raises(ValueError, match=rf"jacobians\[{position}\] must be real"):
        jacobian_chain(*chain_with(np.ones((2, 2)) * 1j))
    with pytest.raises(ValueError, match=rf"jacobians\[{position}\] must not be empty; got shape"):
        jacobian_chain(*chain_with(np.ones((2, 0))))
    with pytest.raises(ValueError, match=rf"jacobians\[{position}\] must be a real numeric array"):
        jacobian_chain(*chain_with([["1", "0"], ["0", "1"]]))


def test_overflow_is_an_error_not_a_silent_inf():
    with pytest.raises(ValueError, match="jacobian_chain overflowed"):
        jacobian_chain([[1e200]], [[1e200]], [[1.0]])


def test_integer_jacobians_are_converted_not_wrapped():
    # int8 entries: 100·100 = 10 000 in real arithmetic, but 16 if computed in int8 (10 000 mod 256).
    mats = [np.array([[100]], dtype=np.int8), np.array([[100]], dtype=np.int8), np.array([[1]])]
    got = jacobian_chain(*mats)
    assert got.dtype == np.float64
    np.testing.assert_array_equal(got, [[10_000.0]])
    ints = [np.array([[1, 2]]), np.array([[3], [4]])]
    np.testing.assert_array_equal(jacobian_chain(*ints), jacobian_chain(*[m * 1.0 for m in ints]))


def test_public_surface_is_explicit():
    # __all__ lists exactly the public non-module names, and every name in it exists.
    public = {name for name, value in vars(mathchain).items()
              if not name.startswith("_") and not inspect.ismodule(value)}
    assert set(mathchain.__all__) == public
    assert {"jacobian_chain", "gradient_chain", "linear_backward", "check_gradient"} <= public
