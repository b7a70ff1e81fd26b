"""jacobian_chain: the numerator-layout chain rule, its multiplication order, its shape errors."""

from functools import reduce

import autograd.numpy as anp
import numpy as np
import pytest
from autograd import jacobian

import mathchain
from mathchain import jacobian_chain, numeric_jacobian
from tolerances import EXACT_ATOL, EXACT_RTOL, FD_ATOL, FD_RTOL


def test_hand_computed_product():
    # [[1, 2]] [[3], [4]] = [[11]]; then [[11]] [[1, 0, -1]] = [[11, 0, -11]]
    got = jacobian_chain([[1, 2]], [[3], [4]], [[1, 0, -1]])
    np.testing.assert_array_equal(got, [[11.0, 0.0, -11.0]])


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


@pytest.mark.parametrize("dims", [(1, 1, 1), (1, 5, 1), (5, 1, 5), (3, 3, 3, 3), (2, 7, 1, 6, 3),
                                  (4, 2, 6, 1)])
def test_equals_naive_left_to_right_product(rng, dims):
    mats = [rng.normal(size=(dims[i], dims[i + 1])) for i in range(len(dims) - 1)]
    want = reduce(np.matmul, mats)
    got = jacobian_chain(*mats)
    assert got.shape == (dims[0], dims[-1])
    np.testing.assert_allclose(got, want, rtol=EXACT_RTOL, atol=EXACT_ATOL)


def test_single_jacobian_is_returned_as_a_copy(rng):
    J = rng.normal(size=(2, 3))
    out = jacobian_chain(J)
    np.testing.assert_array_equal(out, J)
    out[0, 0] = 99.0
    assert J[0, 0] != 99.0


class _CountingDot:
    """Wraps numpy.linalg's internal ``dot`` to count the multiply-adds multi_dot performs."""

    def __init__(self, dot):
        self.dot, self.madds = dot, 0

    def __call__(self, a, b, out=None):
        self.madds += a.shape[0] * a.shape[1] * b.shape[-1]  # (p×q)(q×r): p·q·r multiply-adds
        return self.dot(a, b, out=out)


@pytest.fixture
def counted_dot(monkeypatch):
    import numpy.linalg._linalg as linalg_impl

    # multi_dot multiplies through the module-level name `dot`; if NumPy changes this, the test
    # must fail loudly (not pass vacuously), hence the assertion on the count below.
    assert hasattr(linalg_impl, "dot"), "numpy.linalg._linalg.dot is gone: update the instrumentation"
    counter = _CountingDot(linalg_impl.dot)
    monkeypatch.setattr(linalg_impl, "dot", counter)
    return counter


def naive_cost(dims):
    """Multiply-adds of ((M₁M₂)M₃)⋯ for matrices of shapes (dims[i], dims[i+1])."""
    return sum(dims[0] * dims[k] * dims[k + 1] for k in range(1, len(dims) - 1))


def test_textbook_chain_order(rng, counted_dot):
    # CLRS 15.2: A 10×100, B 100×5, C 5×50. (AB)C costs 10·100·5 + 10·5·50 = 7 500,
    # A(BC) costs 100·5·50 + 10·100·50 = 75 000. The cheap order is the left one here.
    mats = [rng.normal(size=s) for s in [(10, 100), (100, 5), (5, 50)]]
    jacobian_chain(*mats)
    assert counted_dot.madds == 7_500
    assert naive_cost([10, 100, 5, 50]) == 7_500


def test_picks_cheaper_order_than_naive_for_a_backprop_shaped_chain(rng, counted_dot):
    # (n×n)(n×n)(n×1): naive (J₁J₂)v costs n³ + n², J₁(J₂v) costs 2n². For n = 50: 127 500 vs 5 000.
    n = 50
    mats = [rng.normal(size=(n, n)), rng.normal(size=(n, n)), rng.normal(size=(n, 1))]
    got = jacobian_chain(*mats)
    assert counted_dot.madds == 2 * n * n
    assert naive_cost([n, n, n, 1]) == n**3 + n**2
    np.testing.assert_allclose(got, reduce(np.matmul, mats), rtol=1e-9, atol=1e-9)


def test_row_vector_first_is_reverse_mode(rng, counted_dot):
    # (1×n)(n×n)(n×n): the left-to-right order is already the cheap one (vector–matrix products).
    n = 40
    mats = [rng.normal(size=(1, n)), rng.normal(size=(n, n)), rng.normal(size=(n, n))]
    jacobian_chain(*mats)
    assert counted_dot.madds == 2 * n * n


# --- bad input ------------------------------------------------------------------------------------

def test_mismatched_pair_names_both_shapes(rng):
    with pytest.raises(ValueError) as info:
        jacobian_chain(rng.normal(size=(2, 3)), rng.normal(size=(3, 4)), rng.normal(size=(5, 1)))
    msg = str(info.value)
    assert "jacobians[1] has shape (3, 4)" in msg and "jacobians[2] has shape (5, 1)" in msg
    assert "(4)" in msg and "(5)" in msg


def test_reversed_order_is_refused(rng):
    # The plausible wrong answer ∂y/∂x ∂z/∂y: [n,m][p,n] does not fit when m ≠ p.
    dz_dy, dy_dx = rng.normal(size=(2, 3)), rng.normal(size=(3, 4))
    with pytest.raises(ValueError, match=r"jacobians\[0\] has shape \(3, 4\) and jacobians\[1\]"):
        jacobian_chain(dy_dx, dz_dy)


@pytest.mark.parametrize("bad", [np.ones(3), np.ones((2, 2, 2)), 5.0])
def test_jacobians_must_be_2d(bad):
    with pytest.raises(ValueError, match=r"jacobians\[0\] must be 2-D; got shape"):
        jacobian_chain(bad, np.ones((3, 1)))


def test_no_jacobian_empty_nan_complex():
    with pytest.raises(ValueError, match="at least one"):
        jacobian_chain()
    with pytest.raises(ValueError, match=r"jacobians\[0\] must not be empty; got shape \(2, 0\)"):
        jacobian_chain(np.ones((2, 0)), np.ones((0, 2)))
    with pytest.raises(ValueError, match=r"jacobians\[1\] must be finite; jacobians\[1\]\[0, 1\] = nan"):
        jacobian_chain(np.ones((2, 2)), np.array([[1.0, np.nan], [0.0, 0.0]]))
    with pytest.raises(ValueError, match=r"must be finite; jacobians\[0\]\[1, 0\] = -inf"):
        jacobian_chain(np.array([[1.0, 2.0], [-np.inf, 0.0]]), np.ones((2, 2)))
    with pytest.raises(ValueError, match=r"jacobians\[0\] must be real"):
        jacobian_chain(np.ones((2, 2)) * 1j)


def test_integer_jacobians_are_converted():
    got = jacobian_chain(np.array([[1, 2]]), np.array([[3], [4]]))
    assert got.dtype == np.float64 and got[0, 0] == 11.0


def test_public_surface_is_explicit():
    public = {name for name in vars(mathchain) if not name.startswith("_")}
    modules = {"numeric", "vector", "scalar", "matrix", "network"}
    assert set(mathchain.__all__) == public - modules
    assert {"jacobian_chain", "gradient_chain", "linear_backward", "check_gradient"} <= public
