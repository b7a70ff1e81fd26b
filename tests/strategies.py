"""Hypothesis strategies shared by the property tests: bounded float64 arrays and Jacobian chains."""

import numpy as np
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

# |entries| ≤ 10, no NaN, inf or subnormals: the properties are about algebra, not about IEEE edges
# (those have their own tests).
ELEMENTS = st.floats(-10, 10, allow_nan=False, allow_infinity=False, allow_subnormal=False)


def arrays(shape):
    """Float64 arrays of the given shape with entries from ELEMENTS."""
    return hnp.arrays(np.float64, shape, elements=ELEMENTS)


def draw_chain(data, dims):
    """Matrices of shapes (dims[i], dims[i+1]): a chain whose written product fits."""
    return [data.draw(arrays((dims[i], dims[i + 1]))) for i in range(len(dims) - 1)]
