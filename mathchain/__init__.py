"""mathchain: the matrix and vector chain rule for machine learning, small and tested.

Layouts: Jacobians are in numerator layout (``(output size, input size)``), gradients of a
scalar in denominator layout (the shape of the variable). See :mod:`mathchain.numeric`.
"""

from .matrix import LinearGrads, linear_backward, linear_forward
from .network import (
    elementwise_backward,
    mean_squared_error,
    mean_squared_error_gradient,
    softmax,
    softmax_cross_entropy,
    softmax_cross_entropy_gradient,
)
from .numeric import check_gradient, numeric_gradient, numeric_jacobian
from .scalar import gradient_chain, least_squares_gradient, least_squares_loss
from .vector import jacobian_chain

__version__ = "0.1.0"  # the only copy: pyproject.toml, the wheel and the course kit read it

__all__ = [
    "LinearGrads",
    "check_gradient",
    "elementwise_backward",
    "gradient_chain",
    "jacobian_chain",
    "least_squares_gradient",
    "least_squares_loss",
    "linear_backward",
    "linear_forward",
    "mean_squared_error",
    "mean_squared_error_gradient",
    "numeric_gradient",
    "numeric_jacobian",
    "softmax",
    "softmax_cross_entropy",
    "softmax_cross_entropy_gradient",
]
