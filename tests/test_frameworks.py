"""Chapter 13: per-example gradient norms of a linear layer, without the per-example gradients.

Oracles: the stack of per-example gradients a_b g_bᵀ formed explicitly (np.outer, then the Frobenius
norm), the gradient of each example's own loss by central differences, and a hand case.
"""

import numpy as np
import pytest

from mathchain import numeric_gradient, per_example_gradient_norms
from tolerances import EXACT_RTOL, FD_RTOL, MATRIX_SHAPES


@pytest.mark.parametrize("shape", MATRIX_SHAPES)
@pytest.mark.parametrize("bias", [False, True])
def test_norms_match_the_explicit_outer_products(rng, shape, bias):
    batch, n = shape
    A, G = rng.normal(size=(batch, n)), rng.normal(size=(batch, 3))
    expected = []
    for a, g in zip(A, G, strict=True):
        parts = [np.outer(a, g).ravel()] + ([g] if bias else [])  # ∂ℓ_b/∂W (and ∂ℓ_b/∂b)
        expected.append(np.linalg.norm(np.concatenate(parts)))
    np.testing.assert_allclose(per_example_gradient_norms(A, G, bias=bias), expected,
                               rtol=EXACT_RTOL)


def test_norms_are_those_of_each_examples_own_gradient(rng):
    # ℓ_b(W) = ½‖a_bᵀW − t_b‖²: its gradient by central differences, one example at a time
    A, W, T = rng.normal(size=(5, 4)), rng.normal(size=(4, 3)), rng.normal(size=(5, 3))
    G = A @ W - T  # row b: ∂ℓ_b/∂y_b
    for b in range(5):
        numeric = numeric_gradient(lambda W, b=b: 0.5 * np.sum((A[b] @ W - T[b]) ** 2), W)
        np.testing.assert_allclose(per_example_gradient_norms(A, G)[b], np.linalg.norm(numeric),
                                   rtol=FD_RTOL)


def test_hand_case():
    # a = (3, 4), g = (1, 0, 0): ‖a gᵀ‖ = 5; with the bias √(25 + 1)·1
    A, G = np.array([[3.0, 4.0]]), np.array([[1.0, 0.0, 0.0]])
    assert per_example_gradient_norms(A, G)[0] == 5.0
    assert per_example_gradient_norms(A, G, bias=True)[0] == pytest.approx(np.sqrt(26.0))


def test_errors_name_the_argument_and_shapes():
    with pytest.raises(ValueError, match=r"A has shape \(4, 2\) and G has shape \(3, 5\)"):
        per_example_gradient_norms(np.ones((4, 2)), np.ones((3, 5)))
    with pytest.raises(ValueError, match="G must be 2-D"):
        per_example_gradient_norms(np.ones((4, 2)), np.ones(4))
    with pytest.raises(ValueError, match=r"A must be finite; A\[1, 0\] = nan"):
        per_example_gradient_norms(np.array([[1.0], [np.nan]]), np.ones((2, 1)))
