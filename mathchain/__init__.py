"""mathchain: the matrix and vector chain rule for machine learning, small and tested.

Layouts: Jacobians are in numerator layout (``(output size, input size)``), gradients of a
scalar in denominator layout (the shape of the variable). See :mod:`mathchain.numeric`.
"""

from .layers import (
    AttentionGrads,
    ConvGrads,
    NormGrads,
    attention,
    attention_backward,
    batch_norm,
    batch_norm_backward,
    col2im,
    conv2d,
    conv2d_backward,
    im2col,
    layer_norm,
    layer_norm_backward,
    softmax_backward,
)
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

__all__ = [
    "AttentionGrads",
    "ConvGrads",
    "LinearGrads",
    "NormGrads",
    "attention",
    "attention_backward",
    "batch_norm",
    "batch_norm_backward",
    "check_gradient",
    "col2im",
    "conv2d",
    "conv2d_backward",
    "elementwise_backward",
    "gradient_chain",
    "im2col",
    "jacobian_chain",
    "layer_norm",
    "layer_norm_backward",
    "least_squares_gradient",
    "least_squares_loss",
    "linear_backward",
    "linear_forward",
    "mean_squared_error",
    "mean_squared_error_gradient",
    "numeric_gradient",
    "numeric_jacobian",
    "softmax",
    "softmax_backward",
    "softmax_cross_entropy",
    "softmax_cross_entropy_gradient",
]
