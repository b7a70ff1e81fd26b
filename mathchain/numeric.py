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

# Central differences with eps = 1e-6 agree with the exact gradient to about 1e-9 of its largest
# entry for well-scaled functions; a real mistake (a lost transpose or factor) is an O(1) error.
# 1e-6 sits between the two: check_gradient and diagnose both measure against it.
GRADIENT_RTOL = 1e-6


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


def _step(value: float, eps: float) -> float:
    """hⱼ = ε max(1, |xⱼ|): absolute for small entries, relative for large ones."""
    return eps * max(1.0, abs(float(value)))


def _eps_too_small(eps: float, j: int) -> ValueError:
    return ValueError(f"eps = {eps!r} is too small: x[{j}] ± eps*max(1, |x[{j}]|) rounds to x[{j}]")


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
        h = _step(flat[j], eps)  # hⱼ = ε max(1, |xⱼ|)
        x_plus, x_minus = flat.copy(), flat.copy()
        x_plus[j] += h
        x_minus[j] -= h
        taken = x_plus[j] - x_minus[j]  # 2hⱼ as represented: xⱼ ± hⱼ are rounded
        if taken == 0:
            raise _eps_too_small(eps, j)
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
    f: Callable, grad: Callable, x, eps: float = 1e-6, rtol: float = GRADIENT_RTOL
) -> float:
    """error = maxᵢ |gᵢ − ĝᵢ| / max(1, maxᵢ |ĝᵢ|), g = grad(x) analytic, ĝ = numeric_gradient(f, x).

    ``grad(x)`` must have the shape of ``x`` (denominator layout). Returns the error; raises
    ``AssertionError`` naming the worst entry's index, the analytic and the numeric value when it
    exceeds ``rtol``, and on a second line the likely mistake when :func:`mathchain.diagnose` names
    one (a transpose, a factor, a layout, ...; the shape error names a transpose or a reshape).
    The error is measured against the largest entry of the numeric gradient (absolute when that is
    below 1), so a true zero gradient is not failed by rounding noise; it is
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
            + _likely_cause(f, analytic, x, eps, rtol, ("transposed", "layout"))
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
            # six significant digits: the last digits of a difference quotient are rounding, and
            # they change with the BLAS kernel that computed f
            f"{index}: analytic {float(analytic[index]):.6g}, numeric {float(numeric[index]):.6g}"
            + _likely_cause(f, analytic, x, eps, rtol, numeric=numeric)
        )
    return error


def _likely_cause(f, analytic, x, eps, rtol, kinds=None, numeric=None) -> str:
    """'\n' + mathchain.diagnose's sentence when it names a mistake (of ``kinds``, if given), else ''.

    Reuses ``numeric`` when given; otherwise computes it, and says nothing if f fails on the way
    (the error being raised is the one to report).
    """
    from .diagnosis import _classify_gradient  # here: diagnosis imports this module

    if numeric is None:
        try:
            numeric = numeric_gradient(f, x, eps)
        except ValueError:
            return ""
    found = _classify_gradient(analytic, numeric, rtol, "grad(x)")
    named = found.kind not in ("correct", "wrong") and (kinds is None or found.kind in kinds)
    return "\n" + found.message if named else ""


def numeric_hessian(f: Callable, x, eps: float = 1e-4) -> np.ndarray:
    """Hᵢⱼ = ∂²f/∂xᵢ∂xⱼ ≈ [f(x+hᵢeᵢ+hⱼeⱼ) − f(x+hᵢeᵢ−hⱼeⱼ) − f(x−hᵢeᵢ+hⱼeⱼ) + f(x−hᵢeᵢ−hⱼeⱼ)] / 4hᵢhⱼ.

    Shape ``(x.size, x.size)``, rows and columns in C order of the flattened ``x``; entry (i, j) is
    ∂²f/∂xᵢ∂xⱼ. ``f`` must be scalar-valued (a one-element array counts) and return float64.
    Off-diagonal entries use the four-point formula above, computed once for i < j and mirrored,
    so the result is exactly symmetric. Diagonal entries use the three-point second difference
    [f(x + hᵢeᵢ) − 2f(x) + f(x − hᵢeᵢ)] / hᵢ². Steps hᵢ = ε max(1, |xᵢ|) as in
    :func:`numeric_jacobian`, and the differences are divided by the steps actually taken.
    Costs ``2 * x.size**2 + 1`` evaluations of ``f`` (1 at x, 2 per diagonal entry, 4 per pair
    i < j). Truncation error O(h²), rounding error about 1e-16 |f| / h², hence the larger default
    eps = 1e-4: both are then about 1e-8 for well-scaled f.
    """
    x = _checks.array("x", x)
    eps = _checks.positive("eps", eps)
    f0 = _evaluate(f, x.copy(), "x")
    if f0.size != 1:
        raise ValueError(
            f"numeric_hessian needs a scalar-valued f; f(x) has shape {f0.shape} ({f0.size} entries). "
            "For a vector-valued f, take the Hessian of each entry."
        )
    flat = x.ravel()
    n = flat.size
    steps_up, steps_down = np.empty(n), np.empty(n)  # (xᵢ + hᵢ) − xᵢ and xᵢ − (xᵢ − hᵢ), as rounded
    for i in range(n):
        h = _step(flat[i], eps)  # hᵢ = ε max(1, |xᵢ|)
        steps_up[i], steps_down[i] = (flat[i] + h) - flat[i], flat[i] - (flat[i] - h)
        if steps_up[i] == 0 or steps_down[i] == 0:
            raise _eps_too_small(eps, i)

    def at(signs: dict[int, int], where: str) -> float:
        """f at x moved by +hᵢ (sign 1) or −hᵢ (sign −1) along each entry i in ``signs``."""
        moved = flat.copy()
        for i, sign in signs.items():
            moved[i] = flat[i] + steps_up[i] if sign > 0 else flat[i] - steps_down[i]
        value = _evaluate(f, moved.reshape(x.shape), where)
        if value.size != 1:
            raise ValueError(
                f"f must return a scalar near x: f(x) has shape {f0.shape}, f({where}) has shape "
                f"{value.shape}"
            )
        return float(value.ravel()[0])

    z0 = float(f0.ravel()[0])
    hess = np.empty((n, n))
    with np.errstate(over="ignore", invalid="ignore"):  # reported below, entry by entry
        for i in range(n):
            up, down = at({i: 1}, f"x + h*e[{i}]"), at({i: -1}, f"x - h*e[{i}]")
            a, b = steps_up[i], steps_down[i]
            # f'' ≈ 2 [(f₊ − f₀)/a − (f₀ − f₋)/b] / (a + b); = (f₊ − 2f₀ + f₋)/h² when a = b = h
            hess[i, i] = 2.0 * ((up - z0) / a - (z0 - down) / b) / (a + b)
            for j in range(i):
                pp = at({i: 1, j: 1}, f"x + h*e[{i}] + h*e[{j}]")
                pm = at({i: 1, j: -1}, f"x + h*e[{i}] - h*e[{j}]")
                mp = at({i: -1, j: 1}, f"x - h*e[{i}] + h*e[{j}]")
                mm = at({i: -1, j: -1}, f"x - h*e[{i}] - h*e[{j}]")
                taken = (a + b) * (steps_up[j] + steps_down[j])  # (2hᵢ)(2hⱼ) as represented
                hess[i, j] = hess[j, i] = ((pp - pm) - (mp - mm)) / taken  # ∂²f/∂xᵢ∂xⱼ, mirrored
            if not np.isfinite(hess[i, : i + 1]).all():
                j = int(np.argmin(np.isfinite(hess[i, : i + 1])))
                raise ValueError(
                    f"the second difference of f at x[{i}], x[{j}] overflowed (f changes by more "
                    "than the largest float across the steps); rescale f"
                )
    return hess
