"""mathchain: the matrix and vector chain rule for machine learning, small and tested.

Layouts: Jacobians are in numerator layout (``(output size, input size)``), gradients of a
scalar in denominator layout (the shape of the variable). See :mod:`mathchain.numeric`.
"""

from . import graph as graph  # the reverse-mode engine (chapter 10), a submodule
from .decompositions import (
    cholesky,
    cholesky_backward,
    daleckii_krein,
    eigh_backward,
    frechet_derivative,
    svd_backward,
    symmetric_gradient,
)
from .diagnosis import Diagnosis, diagnose, diagnose_jacobian
from .frameworks import per_example_gradient_norms
from .implicit import SolveGrads, implicit_jacobian, implicit_vjp, solve_backward
from .kronecker import (
    commutation_matrix,
    elementwise_jacobian,
    gram_jacobian,
    inverse_jacobian,
    kron_jacobian,
    unvec,
    vec,
)
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
from .numeric import check_gradient, numeric_gradient, numeric_hessian, numeric_jacobian
from .scalar import gradient_chain, least_squares_gradient, least_squares_loss
from .second_order import (
    cross_entropy_gauss_newton,
    least_squares_hessian,
    least_squares_hessian_vector_product,
)
from .vector import jacobian_chain

__version__ = "0.1.0"  # the only copy: pyproject.toml, the wheel and the course kit read it

__all__ = [
    "AttentionGrads",
    "ConvGrads",
    "Diagnosis",
    "LinearGrads",
    "NormGrads",
    "SolveGrads",
    "attention",
    "attention_backward",
    "batch_norm",
    "batch_norm_backward",
    "check_gradient",
    "cholesky",
    "cholesky_backward",
    "col2im",
    "commutation_matrix",
    "conv2d",
    "conv2d_backward",
    "cross_entropy_gauss_newton",
    "daleckii_krein",
    "diagnose",
    "diagnose_jacobian",
    "eigh_backward",
    "elementwise_backward",
    "elementwise_jacobian",
    "frechet_derivative",
    "gradient_chain",
    "gram_jacobian",
    "im2col",
    "implicit_jacobian",
    "implicit_vjp",
    "inverse_jacobian",
    "jacobian_chain",
    "kron_jacobian",
    "layer_norm",
    "layer_norm_backward",
    "least_squares_gradient",
    "least_squares_hessian",
    "least_squares_hessian_vector_product",
    "least_squares_loss",
    "linear_backward",
    "linear_forward",
    "mean_squared_error",
    "mean_squared_error_gradient",
    "numeric_gradient",
    "numeric_hessian",
    "numeric_jacobian",
    "per_example_gradient_norms",
    "softmax",
    "softmax_backward",
    "softmax_cross_entropy",
    "softmax_cross_entropy_gradient",
    "solve_backward",
    "svd_backward",
    "symmetric_gradient",
    "unvec",
    "vec",
]
