"""Through decompositions and structure (chapter 12): backward passes of eigh, svd and cholesky,
Fréchet derivatives of matrix functions, and gradients with respect to a symmetric matrix.

Every ``*_backward`` function is a vector–Jacobian product in the package's conventions: it takes
the forward outputs (as NumPy returns them) and the cotangents ``∂z/∂output`` of a scalar z, and
returns ``∂z/∂A`` in denominator layout (the shape of A). For the symmetric input of ``eigh`` and
``cholesky`` it returns the symmetric gradient sym(G) = (G + Gᵀ)/2, the one with
dz = tr(sym(G)ᵀ dA) for every symmetric dA (chapter 12 compares it with the Cookbook's 2G − G∘I).

A derivative that does not exist, or that rounding has destroyed, raises ``ValueError`` naming the
pair of eigenvalues or singular values and their gap: never inf, NaN or a silently wrong number.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

from . import _checks

# Two eigenvalues (singular values) count as repeated when |λᵢ − λⱼ| ≤ GAP_RTOL · max|λ|. At a
# relative gap g the eigenvectors LAPACK returns are accurate to about ε/g (ε = 2.2e-16), and the
# derivative of an eigenvector grows like 1/g: at g = 1e-8 half of float64's digits are gone, and
# below it a derivative through the eigenvectors is rounding noise, however it is computed.
GAP_RTOL = 1e-8
# Inside a repeated eigenspace only the antisymmetric part of VᵀV̄ would be divided by the gap. A
# loss that depends on the eigenspace alone (tr f(A), a projector) makes it zero, up to rounding of
# the product VᵀV̄ (≈ n ε of its size); 1e-8 of its largest entry separates that from a loss that
# really depends on the eigenvectors chosen inside the eigenspace (an O(1) part).
SKEW_RTOL = 1e-8
# Orthonormality of the V, U given to a backward pass: VᵀV = I to rounding (≈ n ε).
_ORTHO_ATOL = 1e-8
# Daleckii–Krein: the divided difference (f(a) − f(b))/(a − b) loses ε|f|/|a − b| to cancellation,
# while f′((a + b)/2) errs by |f‴||a − b|²/24. The two balance near |a − b| ≈ ε^(1/3) ≈ 6e-6 of the
# scale; below 1e-5 of it the midpoint derivative is used (both errors ≲ 1e-11 there).
_DIVIDED_RTOL = 1e-5


def _square(name: str, a: np.ndarray) -> None:
    if a.shape[0] != a.shape[1]:
        raise ValueError(f"{name} must be square; got shape {a.shape}")


def _shape(name: str, a: np.ndarray, shape: tuple[int, ...], why: str) -> None:
    if a.shape != shape:
        raise ValueError(f"{name} has shape {a.shape}: {why}, so it must have shape {shape}")


def _orthonormal_columns(name: str, Q: np.ndarray) -> None:
    gap = np.abs(Q.T @ Q - np.eye(Q.shape[1])).max()
    if gap > _ORTHO_ATOL:
        raise ValueError(
            f"{name} (shape {Q.shape}) must have orthonormal columns, as the decomposition returns "
            f"them; max |{name}ᵀ{name} − I| = {gap:.2g}"
        )


def _sym(G: np.ndarray) -> np.ndarray:
    return (G + G.T) / 2


def _repeated(values: np.ndarray) -> np.ndarray:
    """The pairs i ≠ j with |valuesᵢ − valuesⱼ| ≤ GAP_RTOL · max|values| (symmetric mask)."""
    close = np.abs(values[None, :] - values[:, None]) <= GAP_RTOL * np.abs(values).max()
    np.fill_diagonal(close, False)
    return close


def _negligible(a: np.ndarray, scale: float) -> np.ndarray:
    """Entries of ``a`` at rounding level: at most SKEW_RTOL of ``scale`` (the size of the cotangent)."""
    return np.abs(a) <= SKEW_RTOL * max(scale, np.finfo(float).tiny)


def _scale_gap(values: np.ndarray, i: int, j: int) -> str:
    scale = max(np.abs(values).max(), np.finfo(float).tiny)
    return (f"({values[i]:.6g} and {values[j]:.6g}, relative gap "
            f"{abs(values[j] - values[i]) / scale:.1e} <= GAP_RTOL = {GAP_RTOL:g})")


def _tied_cotangents(values: np.ndarray, dvalues: np.ndarray, what: str, name: str) -> None:
    """Raise if z weighs two repeated values differently: it is then not differentiable there."""
    bad = _repeated(values) & ~_negligible(dvalues[None, :] - dvalues[:, None], np.abs(dvalues).max())
    if bad.any():
        i, j = (int(k) for k in np.argwhere(bad)[0])
        raise ValueError(
            f"{what} {i} and {j} are repeated {_scale_gap(values, i, j)} but {name}[{i}] = "
            f"{dvalues[i]:.3g} differs from {name}[{j}] = {dvalues[j]:.3g}: z is not differentiable "
            "there (like max(x, y) at x = y); a function of all the repeated values together, "
            "with equal cotangents, is"
        )


def _inverse_gaps(values: np.ndarray, skew: np.ndarray, scale: float, what: str) -> np.ndarray:
    """K with K_ij = skew_ij / (values_j − values_i), i ≠ j; 0 where skew is 0 in a repeated pair.

    ``skew`` is antisymmetric (the part of the cotangent a rotation inside an eigenspace sees).
    A repeated pair (gap ≤ GAP_RTOL of the scale) with ``skew`` above SKEW_RTOL · ``scale`` raises.
    """
    repeated = _repeated(values)
    bad = repeated & ~_negligible(skew, scale)
    if bad.any():
        i, j = (int(k) for k in np.argwhere(bad)[0])
        raise ValueError(
            f"{what} {i} and {j} are repeated {_scale_gap(values, i, j)} and z depends on the "
            "vectors chosen inside that space: the derivative does not exist there; differentiate "
            "a function of the whole space (eigenvalues, a projector) instead"
        )
    diff = values[None, :] - values[:, None]  # diff_ij = values_j − values_i
    ok = ~repeated
    np.fill_diagonal(ok, False)
    K = np.zeros_like(skew)
    K[ok] = skew[ok] / diff[ok]
    return K


def eigh_backward(w, V, dw, dV=None) -> np.ndarray:
    """∂z/∂A = V (diag(w̄) + ½ F ∘ (VᵀV̄ − V̄ᵀV)) Vᵀ, F_ij = 1/(λⱼ − λᵢ) (i ≠ j), for A = V diag(w) Vᵀ.

    ``w`` (n,) and ``V`` (n, n) are ``np.linalg.eigh(A)``; ``dw = ∂z/∂w`` (n,), ``dV = ∂z/∂V``
    (n, n) or None when z depends on the eigenvalues only. Returns the symmetric gradient (n, n):
    dz = tr(Ḡᵀ dA) for every symmetric dA. With ``dV=None`` it is V diag(w̄) Vᵀ, defined at repeated
    eigenvalues when w̄ is equal on them (a spectral function Σ f(λᵢ): ∂z/∂A = f′(A)). Repeated
    eigenvalues (relative gap ≤ GAP_RTOL) raise ``ValueError`` when w̄ differs on them, or when ``dV``
    makes z depend on the vectors chosen inside that eigenspace (if not, the pair contributes 0).
    """
    w = _checks.array("w", w, ndim=1)
    V = _checks.array("V", V, ndim=2)
    _square("V", V)
    n = V.shape[0]
    _shape("w", w, (n,), "w holds the n eigenvalues of the n × n matrix whose eigenvectors are V")
    _orthonormal_columns("V", V)
    dw = _checks.array("dw", dw, ndim=1)
    _shape("dw", dw, w.shape, "dw = ∂z/∂w has the shape of w")
    _tied_cotangents(w, dw, "eigenvalues", "dw")
    core = np.diag(dw)  # dλᵢ = vᵢᵀ dA vᵢ
    if dV is not None:
        dV = _checks.array("dV", dV, ndim=2)
        _shape("dV", dV, V.shape, "dV = ∂z/∂V has the shape of V")
        X = V.T @ dV
        core = core + _inverse_gaps(w, (X - X.T) / 2, np.abs(X).max(), "eigenvalues")  # ½ F ∘ (X − Xᵀ)
    return V @ core @ V.T


def svd_backward(U, s, Vt, ds, dU=None, dVt=None) -> np.ndarray:
    """∂z/∂A for the thin SVD A = U diag(s) Vᵀ; with ds only, U diag(s̄) Vᵀ (dσᵢ = uᵢᵀ dA vᵢ).

    ``U`` (m, k), ``s`` (k,), ``Vt`` (k, n), k = min(m, n), are ``np.linalg.svd(A,
    full_matrices=False)``; ``ds`` (k,), ``dU`` (m, k) and ``dVt`` (k, n) the cotangents (``dU``,
    ``dVt`` may be None). Returns (m, n). With singular-vector cotangents,
    Ā = U [diag(s̄) + F∘(J_U S + S J_V)] Vᵀ + (I − UUᵀ) Ū S⁻¹ Vᵀ + U S⁻¹ V̄ᵀ (I − VVᵀ),
    J_U = UᵀŪ − ŪᵀU, J_V = VᵀV̄ − V̄ᵀV, F_ij = 1/(σⱼ² − σᵢ²) (i ≠ j), V̄ = dVtᵀ; repeated
    singular values (relative gap of σ² ≤ GAP_RTOL) with unequal ``ds`` or coupled vectors, a zero
    singular value with ``ds`` ≠ 0, or (m ≠ n) a zero one with vector cotangents: ``ValueError``.
    """
    U = _checks.array("U", U, ndim=2)
    s = _checks.array("s", s, ndim=1)
    Vt = _checks.array("Vt", Vt, ndim=2)
    m, k = U.shape
    n = Vt.shape[1]
    if k != min(m, n) or Vt.shape[0] != k or s.shape != (k,):
        raise ValueError(
            f"U {U.shape}, s {s.shape}, Vt {Vt.shape} are not a thin SVD: expected U (m, k), "
            "s (k,), Vt (k, n) with k = min(m, n), as np.linalg.svd(A, full_matrices=False) returns"
        )
    _orthonormal_columns("U", U)
    _orthonormal_columns("Vt.T", Vt.T)
    ds = _checks.array("ds", ds, ndim=1)
    _shape("ds", ds, s.shape, "ds = ∂z/∂s has the shape of s")
    V = Vt.T
    _tied_cotangents(s, ds, "singular values", "ds")
    zero = (s <= GAP_RTOL * s.max()) & ~_negligible(ds, np.abs(ds).max())
    if zero.any():
        i = int(np.argmax(zero))
        raise ValueError(
            f"singular value {i} is {s[i]:.3g} ≈ 0 (<= GAP_RTOL · σ_max) and ds[{i}] = {ds[i]:.3g} ≠ 0: "
            "σ is not differentiable at 0 (like |x|); the nuclear norm there has subgradients only"
        )
    core = np.diag(ds)  # dσᵢ = uᵢᵀ dA vᵢ
    if dU is None and dVt is None:
        return U @ core @ Vt
    dU = np.zeros_like(U) if dU is None else _checks.array("dU", dU, ndim=2)
    dV = np.zeros_like(V) if dVt is None else _checks.array("dVt", dVt, ndim=2).T
    _shape("dU", dU, U.shape, "dU = ∂z/∂U has the shape of U")
    _shape("dVt", dV.T, Vt.shape, "dVt = ∂z/∂Vt has the shape of Vt")
    XU, XV = U.T @ dU, V.T @ dV
    JU, JV = XU - XU.T, XV - XV.T
    # F ∘ (J_U S + S J_V): entry ij is (J_U,ij σⱼ + σᵢ J_V,ij) / (σⱼ² − σᵢ²)
    core = core + _inverse_gaps(s**2, JU * s[None, :] + s[:, None] * JV,
                                max(np.abs(XU).max(), np.abs(XV).max()) * s.max(), "singular values")
    grad = U @ core @ Vt
    if m != n:
        smallest = s.min()
        if smallest <= GAP_RTOL * s.max():
            raise ValueError(
                f"A is {m} × {n} with singular value {smallest:.3g} ≈ 0 (<= GAP_RTOL · σ_max): the "
                "derivative of its singular vectors divides by it and does not exist there"
            )
        if m > n:
            grad += (dU - U @ XU) / s @ Vt  # (I − UUᵀ) Ū S⁻¹ Vᵀ
        else:
            grad += U @ ((dV - V @ XV) / s).T  # U S⁻¹ V̄ᵀ (I − VVᵀ)
    return grad


def cholesky(A) -> np.ndarray:
    """L lower triangular with positive diagonal and A = L Lᵀ, for A symmetric positive definite.

    ``A`` (n, n); raises ``ValueError`` for a non-square, non-symmetric or not positive-definite A
    (NumPy's LinAlgError, and never a factor of a matrix that is not A).
    """
    A = _checks.array("A", A, ndim=2)
    _square("A", A)
    asym = np.abs(A - A.T).max()
    if asym > 1e-12 * np.abs(A).max():
        raise ValueError(f"A (shape {A.shape}) must be symmetric; max |A − Aᵀ| = {asym:.2g}")
    try:
        return np.linalg.cholesky(A)
    except np.linalg.LinAlgError as exc:
        smallest = np.linalg.eigvalsh(A).min()
        raise ValueError(
            f"A (shape {A.shape}) must be positive definite for its Cholesky factor; its smallest "
            f"eigenvalue is {smallest:.3g}"
        ) from exc


def _solve_upper(R: np.ndarray, B: np.ndarray) -> np.ndarray:
    """R⁻¹ B for upper-triangular R, by back substitution (row i uses the rows below it)."""
    X = np.empty_like(B)
    for i in reversed(range(R.shape[0])):
        X[i] = (B[i] - R[i, i + 1:] @ X[i + 1:]) / R[i, i]
    return X


def cholesky_backward(L, dL) -> np.ndarray:
    """∂z/∂A = sym(L⁻ᵀ Φ(Lᵀ L̄) L⁻¹), Φ = lower triangle with the diagonal halved, for A = L Lᵀ.

    ``L`` (n, n) is the Cholesky factor (lower triangular, positive diagonal), ``dL = ∂z/∂L``
    (n, n; its upper triangle is ignored: L has none). Returns the symmetric gradient (n, n). Two
    triangular solves, no inverse. A factor with a diagonal entry ≤ 0 is not the Cholesky factor of
    a positive-definite matrix: ``ValueError``.
    """
    L = _checks.array("L", L, ndim=2)
    _square("L", L)
    dL = _checks.array("dL", dL, ndim=2)
    _shape("dL", dL, L.shape, "dL = ∂z/∂L has the shape of L")
    upper = np.abs(np.triu(L, 1)).max(initial=0.0)
    if upper > 0:
        raise ValueError(
            f"L (shape {L.shape}) must be lower triangular; max |upper entry| = {upper:.2g}"
        )
    diag = np.diag(L)
    if diag.min() <= 0:
        i = int(np.argmin(diag))
        raise ValueError(
            f"L[{i}, {i}] = {diag[i]:.3g}: a Cholesky factor has a positive diagonal, and A = LLᵀ "
            "must be positive definite"
        )
    P = np.tril(L.T @ np.tril(dL))  # Φ(Lᵀ L̄) …
    P[np.diag_indices_from(P)] /= 2  # … with its diagonal halved
    M = _solve_upper(L.T, P)  # L⁻ᵀ P: a triangular solve with Lᵀ
    Y = _solve_upper(L.T, M.T).T  # M L⁻¹ = (L⁻ᵀ Mᵀ)ᵀ: a second one
    return _sym(Y)


def frechet_derivative(f: Callable, A, E) -> np.ndarray:
    """L_f(A, E), the top-right block of f([[A, E], [0, A]]), for a matrix function f.

    ``f`` maps an (2n, 2n) array to its matrix function (``scipy.linalg.expm``, ``sqrtm``, …); ``A``
    and the direction ``E`` are (n, n). Returns (n, n): f(A + tE) = f(A) + t L_f(A, E) + O(t²). f
    must be defined and differentiable at A (for the square root: no eigenvalue of A on (−∞, 0]).
    """
    A = _checks.array("A", A, ndim=2)
    _square("A", A)
    E = _checks.array("E", E, ndim=2)
    _shape("E", E, A.shape, "the direction E has the shape of A")
    n = A.shape[0]
    block = np.block([[A, E], [np.zeros_like(A), A]])  # f([[A, E], [0, A]]) = [[f(A), L], [0, f(A)]]
    F = np.asarray(f(block))
    if F.shape != block.shape:
        raise ValueError(
            f"f must return an array of the shape of its argument {block.shape}; got {F.shape}"
        )
    if np.iscomplexobj(F):  # sqrtm and logm return complex arrays for real input in some versions
        F = np.real_if_close(F, tol=1e6)
        if np.iscomplexobj(F):
            raise ValueError("f(A) is not real: f is not a real matrix function at this A")
    L = np.array(F[:n, n:], dtype=float)  # the top-right block
    return _checks.finite_result("f([[A, E], [0, A]])", L, {"A": A, "E": E})


def daleckii_krein(f: Callable, df: Callable, A, E) -> np.ndarray:
    """L_f(A, E) = V (Γ ∘ (Vᵀ E V)) Vᵀ, Γ_ij = (f(λᵢ) − f(λⱼ))/(λᵢ − λⱼ), Γ_ii = f′(λᵢ), A symmetric.

    ``f`` and its derivative ``df`` act on arrays of eigenvalues (``np.exp``, ``np.exp``); ``A``
    (n, n) symmetric with ``A = V diag(λ) Vᵀ``, ``E`` (n, n). Returns (n, n). Defined at repeated
    eigenvalues: the divided difference becomes f′ there (f′ at the midpoint for a relative gap
    below 1e-5, where the difference would lose digits to cancellation).
    """
    A = _checks.array("A", A, ndim=2)
    _square("A", A)
    asym = np.abs(A - A.T).max()
    if asym > 1e-12 * np.abs(A).max():
        raise ValueError(f"A (shape {A.shape}) must be symmetric; max |A − Aᵀ| = {asym:.2g}")
    E = _checks.array("E", E, ndim=2)
    _shape("E", E, A.shape, "the direction E has the shape of A")
    lam, V = np.linalg.eigh(A)
    a, b = lam[:, None], lam[None, :]
    close = np.abs(a - b) <= _DIVIDED_RTOL * max(np.abs(lam).max(), 1.0)
    with np.errstate(divide="ignore", invalid="ignore"):
        Gamma = np.where(close, df((a + b) / 2), (f(a) - f(b)) / (a - b))
    return V @ (Gamma * (V.T @ E @ V)) @ V.T


def symmetric_gradient(G, convention: str = "symmetric") -> np.ndarray:
    """From the gradient G over all n² entries: sym(G) = (G + Gᵀ)/2, or G + Gᵀ − G∘I ("free").

    ``G`` (n, n) is ∂f/∂X with every entry of X its own variable (what autodiff returns for f(X)).
    ``"symmetric"``: the gradient among symmetric matrices, df = tr(sym(G)ᵀ dX) for symmetric dX
    (the one to step along). ``"free"``: ∂f/∂x_ij for the n(n+1)/2 free entries x_ij = x_ji (i ≤ j),
    laid out as a symmetric matrix: the Matrix Cookbook's 2G − G∘I (§2.8) when G is symmetric.
    """
    G = _checks.array("G", G, ndim=2)
    _square("G", G)
    if convention == "symmetric":
        return _sym(G)
    if convention == "free":
        return G + G.T - np.diag(np.diag(G))  # ∂f/∂x_ij = G_ij + G_ji (i ≠ j), G_ii on the diagonal
    raise ValueError(f"convention must be 'symmetric' or 'free'; got {convention!r}")
