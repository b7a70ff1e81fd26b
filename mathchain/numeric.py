"""Central differences: the independent oracle that every analytic derivative is checked against.

Layouts (defined once for the whole package, see chapter 00):

* **numerator layout** (Jacobian): for ``y = f(x)``, ``∂y/∂x`` has shape ``(y.size, x.size)``;
  matrix inputs and outputs are flattened in C order (NumPy's default).
* **denominator layout** (gradient): for a scalar ``z``, ``∂z/∂X`` has the shape of ``X``.

For a scalar ``z`` the two are transposes: ``numeric_gradient(f, x)`` equals
``numeric_jacobian(f, x).T`` reshaped to ``x.shape``.
"""

from __future__ import annotations

import math
from collections.abc import Callable

import numpy as np

from . import _checks


def _evaluate(f: Callable, x: np.ndarray, where: str) -> np.ndarray:
    """f(x) as a new float64 array (a copy: f may return the same buffer every time)."""
    value = np.asarray(f(x))
    kind = value.dtype.kind  # kept cheap: f is evaluated 2n + 1 times
    if kind not in "iuf":  # not complex, bool, text, objects, dates
        raise ValueError(f"f must return real numbers; f({where}) returned dtype {value.dtype}")
    if kind == "f" and value.dtype.itemsize < 8:
        raise ValueError(
            f"f must return float64 values; f({where}) returned {value.dtype}, whose "
            f"~{np.finfo(value.dtype).precision} digits would swamp a central difference"
        )
    if value.size == 0:
        raise ValueError(f"f must return a non-empty array; f({where}) has shape {value.shape}")
    value = np.array(value, dtype=np.float64)
    if not math.isfinite(np.vdot(value, value)) and not np.isfinite(value).all():
        raise ValueError(f"f({where}) is not finite: {value!r}")
    return value


def numeric_jacobian(f: Callable, x, eps: float = 1e-6) -> np.ndarray:
    """∂f/∂x ≈ [f(x + hⱼ eⱼ) − f(x − hⱼ eⱼ)] / 2hⱼ, column j for input entry j, hⱼ = ε max(1, |xⱼ|).

    Numerator layout: shape ``(f(x).size, x.size)``, rows and columns in C order of the
    flattened output and input. ``x`` and ``f(x)`` may be scalars, vectors or matrices; ``f`` must
    return float64 values. The step is relative for entries larger than 1, and the difference is
    divided by the step actually taken, (xⱼ + hⱼ) − (xⱼ − hⱼ) in floating point. Costs
    ``2 * x.size + 1`` evaluations of ``f``; truncation error O(h²).
    """
    x = _checks.array("x", x)
    return _central_differences(f, x, _checks.positive("eps", eps), _evaluate(f, x.copy(), "x"))


def _central_differences(f: Callable, x: np.ndarray, eps: float, y0: np.ndarray) -> np.ndarray:
    """The Jacobian loop of :func:`numeric_jacobian`, given f(x) = y0 (evaluated once)."""
    jac = np.empty((y0.size, x.size))
    flat = x.ravel()
    for j in range(x.size):
        h = eps * max(1.0, abs(float(flat[j])))  # hⱼ = ε max(1, |xⱼ|)
        x_plus, x_minus = flat.copy(), flat.copy()
        x_plus[j] += h
        x_minus[j] -= h
        taken = x_plus[j] - x_minus[j]  # 2hⱼ as represented: xⱼ ± hⱼ are rounded
        if taken == 0:
            raise ValueError(
                f"eps = {eps!r} is too small: x[{j}] ± eps*max(1, |x[{j}]|) rounds to x[{j}]"
            )
        y_plus = _evaluate(f, x_plus.reshape(x.shape), f"x + h*e[{j}]")
        y_minus = _evaluate(f, x_minus.reshape(x.shape), f"x - h*e[{j}]")
        if y_plus.shape != y0.shape or y_minus.shape != y0.shape:
            raise ValueError(
                f"f must return the same shape near x: f(x) has shape {y0.shape}, "
                f"f(x ± h*e[{j}]) has shapes {y_plus.shape} and {y_minus.shape}"
            )
        with np.errstate(over="ignore", invalid="ignore"):  # reported just below
            column = (y_plus - y_minus).ravel() / taken  # column j = ∂f/∂x_j
        if not np.isfinite(column).all():
            raise ValueError(
                f"the central difference of f at x[{j}] overflowed (f changes by more than "
                "the largest float across the step); rescale f"
            )
        jac[:, j] = column
    return jac


def numeric_gradient(f: Callable, x, eps: float = 1e-6) -> np.ndarray:
    """∂f/∂x for scalar f: (∂f/∂x)ᵀ of the 1 × x.size Jacobian, reshaped to x.shape.

    Denominator layout: the result has the shape of ``x``. Raises ``ValueError`` if ``f(x)`` is
    not a scalar (a one-element array counts as a scalar).
    """
    x = _checks.array("x", x)
    y0 = _evaluate(f, x.copy(), "x")
    if y0.size != 1:
        raise ValueError(
            f"numeric_gradient needs a scalar-valued f; f(x) has shape {y0.shape} "
            f"({y0.size} entries). "
            "Use numeric_jacobian for vector-valued functions."
        )
    eps = _checks.positive("eps", eps)
    return _central_differences(f, x, eps, y0).reshape(x.shape)  # gradient = Jacobianᵀ, shaped like x


def check_gradient(
    f: Callable, grad: Callable, x, eps: float = 1e-6, rtol: float = 1e-6
) -> float:
    """error = maxᵢ |gᵢ − ĝᵢ| / max(1, maxᵢ |ĝᵢ|), g = grad(x) analytic, ĝ = numeric_gradient(f, x).

    ``grad(x)`` must have the shape of ``x`` (denominator layout). Returns the error; raises
    ``AssertionError`` naming the worst entry's index, the analytic and the numeric value when it
    exceeds ``rtol``. The error is measured against the largest entry of the numeric gradient
    (absolute when that is below 1), so a true zero gradient is not failed by rounding noise; it is
    not entry by entry, so in a gradient whose entries differ by orders of magnitude, check the
    small ones separately. With ``eps = 1e-6`` central differences agree with the exact gradient to
    about 1e-9 for well-scaled functions, hence ``rtol = 1e-6``.
    """
    x = _checks.array("x", x)
    rtol = _checks.positive("rtol", rtol)
    analytic = _checks.array("grad(x)", grad(x.copy()))
    if analytic.shape != x.shape:
        raise ValueError(
            f"grad(x) has shape {analytic.shape} but x has shape {x.shape}: a gradient in "
            "denominator layout has the shape of the variable (a transpose or a reshape is missing)"
        )
    numeric = numeric_gradient(f, x, eps)
    with np.errstate(over="ignore"):  # an infinite difference is a failed check, reported below
        diff = np.abs(analytic - numeric)
        error = float(diff.max() / max(1.0, float(np.abs(numeric).max())))
    if not error <= rtol:  # written so that a NaN error fails too
        worst = np.unravel_index(int(diff.argmax()), x.shape)
        index = tuple(int(i) for i in worst)
        raise AssertionError(
            f"gradient check failed: error {error:.3g} > rtol {rtol:.3g}; worst entry at index "
            f"{index}: analytic {float(analytic[index])!r}, numeric {float(numeric[index])!r}"
        )
    return error
