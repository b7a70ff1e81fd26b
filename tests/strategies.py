"""Hypothesis strategies shared by the property tests: bounded float64 arrays and Jacobian chains."""

import numpy as np
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

# Entries are 0 or 1e-3 ≤ |x| ≤ 10: no NaN or inf, and no tiny normals (9e-236, say) whose products
# underflow into subnormals, where rounding is absolute, not relative. The properties are about
# algebra, not about IEEE edges (those have their own tests).
_MAGNITUDES = st.floats(1e-3, 10, allow_nan=False, allow_infinity=False)
ELEMENTS = st.one_of(st.just(0.0), _MAGNITUDES, _MAGNITUDES.map(lambda x: -x))


def arrays(shape):
    """Float64 arrays of the given shape with entries from ELEMENTS."""
    return hnp.arrays(np.float64, shape, elements=ELEMENTS)


def draw_chain(data, dims):
    """Matrices of shapes (dims[i], dims[i+1]): a chain whose written product fits."""
    return [data.draw(arrays((dims[i], dims[i + 1]))) for i in range(len(dims) - 1)]
