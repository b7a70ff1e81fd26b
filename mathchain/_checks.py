"""Input validation shared by every module: errors that name the argument and the shapes."""

from __future__ import annotations

import math

import numpy as np


def as_array(name: str, value, ndim: int | tuple[int, ...] | None = None) -> np.ndarray:
    """Return ``value`` as a float64 array (no copy if it already is one), or raise ``ValueError``.

    Integers (exactly up to 2**53) and booleans are converted; complex numbers, text, dates and
    durations, masked arrays and empty arrays are refused. ``ndim`` restricts the number of
    dimensions. Finiteness is checked separately (:func:`require_finite`) so that hot paths can
    choose when to pay for it.
    """
    if type(value) is np.ndarray and value.dtype == np.float64:  # the common case, no conversion
        return _check_dims(name, value, ndim)
    what = f"{name} must be a real numeric array; got {type(value).__name__}"
    if isinstance(value, np.ma.MaskedArray):  # np.asarray would drop the mask and use hidden values
        raise ValueError(f"{what}; fill the masked entries first (value.filled(...))")
    try:
        raw = np.asarray(value)
    except (TypeError, ValueError) as exc:  # ragged nested lists
        raise ValueError(what) from exc
    if np.iscomplexobj(raw):
        raise ValueError(f"{name} must be real; got a complex array")
    if raw.dtype.kind in "USVOmM":  # text would be parsed ("1.5"), None become nan, dates numbers
        raise ValueError(f"{what} of dtype {raw.dtype}")
    try:
        a = raw.astype(np.float64, copy=False)
    except (TypeError, ValueError) as exc:  # objects that are not numbers
        raise ValueError(what) from exc
    return _check_dims(name, a, ndim)


def _check_dims(name: str, a: np.ndarray, ndim: int | tuple[int, ...] | None) -> np.ndarray:
    """``a`` if it has an allowed number of dimensions and is not empty, else ``ValueError``."""
    if ndim is not None:
        allowed = (ndim,) if isinstance(ndim, int) else ndim
        if a.ndim not in allowed:
            want = " or ".join(f"{d}-D" for d in allowed)
            raise ValueError(f"{name} must be {want}; got shape {a.shape} ({a.ndim}-D)")
    if a.size == 0:
        raise ValueError(f"{name} must not be empty; got shape {a.shape}")
    return a


def require_finite(name: str, a: np.ndarray) -> None:
    """Raise ``ValueError`` naming ``name`` and the first offending index if ``a`` has NaN or inf."""
    if math.isfinite(np.vdot(a, a)):  # one pass, no temporary: any NaN or inf makes Σ aᵢ² non-finite
        return
    bad = ~np.isfinite(a)  # Σ aᵢ² is not finite: find the entry, or find none (it overflowed)
    if bad.any():
        index = tuple(int(i) for i in np.argwhere(bad)[0])
        raise ValueError(
            f"{name} must be finite; {name}{list(index)} = {float(a[index])} (shape {a.shape})"
        )


def array(name: str, value, ndim: int | tuple[int, ...] | None = None) -> np.ndarray:
    """:func:`as_array` followed by :func:`require_finite`."""
    a = as_array(name, value, ndim)
    require_finite(name, a)
    return a


def finite_result(what: str, result, inputs: dict[str, np.ndarray]):
    """Return ``result`` if it is finite; otherwise name the first non-finite input, or report overflow.

    Checking the result instead of scanning every input keeps validation off the hot path of a
    matrix-vector product, where a scan would cost as much as the product. It is exact for dense
    products: every input entry is multiplied into some output, and IEEE arithmetic carries NaN and
    inf through (nan·0 = nan, inf·0 = nan), so a finite result means finite inputs.
    """
    # Fast path: any NaN or inf makes Σ rᵢ² non-finite. np.vdot flattens its arguments and, unlike
    # @ and np.dot, does not raise NumPy's floating-point warnings: no errstate on the hot path.
    if math.isfinite(np.vdot(result, result)):
        return result
    if np.isfinite(result).all():  # Σ rᵢ² overflowed, the entries did not
        return result
    for name, a in inputs.items():
        require_finite(name, a)
    raise ValueError(f"{what} overflowed although its inputs are finite; rescale the inputs")


def positive(name: str, value) -> float:
    """Return ``value`` as a float if it is a finite number > 0, else raise ``ValueError``."""
    if isinstance(value, (str, bytes, bool, np.bool_)):  # "1e-6" and True would convert silently
        raise ValueError(f"{name} must be a positive number; got {value!r}")
    try:
        v = float(value)
    except (TypeError, ValueError) as exc:
        raise ValueError(f"{name} must be a positive number; got {value!r}") from exc
    if not (np.isfinite(v) and v > 0):
        raise ValueError(f"{name} must be a positive finite number; got {value!r}")
    return v


def chain_pairs(names: list[str], mats: list[np.ndarray]) -> None:
    """Check that each adjacent pair of matrices in a written product can be multiplied."""
    for i in range(len(mats) - 1):
        left, right = mats[i], mats[i + 1]
        if left.shape[1] != right.shape[0]:
            raise ValueError(
                f"{names[i]} has shape {left.shape} and {names[i + 1]} has shape {right.shape}: "
                f"the columns of the first ({left.shape[1]}) must equal the rows of the second "
                f"({right.shape[0]}) in the product {names[i]} @ {names[i + 1]}"
            )
