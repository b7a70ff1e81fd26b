"""Named tolerances and shape sweeps for the package tests: one place, each with its reason."""

# Central differences with eps = 1e-6 have truncation error O(eps²) ≈ 1e-12 and rounding error
# ≈ 1e-16 · |f| / eps ≈ 1e-10 · |f|; for the O(1)–O(100) functions used here they agree with the
# exact derivative to ~1e-8 relative, so 1e-6 leaves a wide margin yet catches any real mistake
# (a missing transpose or factor is an O(1) error).
FD_RTOL = 1e-6
FD_ATOL = 1e-6
# autograd and the closed forms evaluate the same expressions in a different order: they agree to
# a few ulps of the magnitudes involved.
EXACT_RTOL = 1e-10
EXACT_ATOL = 1e-10

# Shapes for sweeps: 1×1, row, column, square and non-square (both orientations).
MATRIX_SHAPES = [(1, 1), (1, 4), (4, 1), (3, 3), (2, 5), (5, 2)]

# Two evaluation orders of the same sums of products (⟨u, Jv⟩ vs ⟨Jᵀu, v⟩, a chain bracketed two
# ways, mathchain vs autograd) differ only by rounding: entrywise at most a small multiple of machine
# epsilon (2.2e-16) × (inner dimensions) × the same sums taken in absolute values. 1e-12 of that scale
# is a wide margin for the sizes used (≤ 8 per factor, ≤ 6 factors), while a missing transpose is an
# O(1) relative error.
ORDER_RTOL = 1e-12

# Central second differences (numeric_hessian, eps = 1e-4): truncation error O(eps²) ≈ 1e-8 and
# rounding error ≈ 1e-16 · |f| / eps² ≈ 1e-8 · |f|. For the O(1)–O(10) functions used here they agree
# with the exact Hessian to ~1e-7, so 1e-5 leaves a margin and still catches any real mistake (a
# missing symmetrisation or factor 2 is an O(1) error).
HESSIAN_RTOL = 1e-5
HESSIAN_ATOL = 1e-5
