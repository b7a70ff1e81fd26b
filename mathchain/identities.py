"""Matrix-calculus identities as data (appendix "Identities"): one entry per identity, checked by code.

Each :class:`Identity` holds the TeX of an expression and of its derivative, a function ``f(xp, x,
*constants)`` written once for NumPy and autograd (``xp`` is ``numpy`` or ``autograd.numpy``), the
derivative ``df(x, *constants)``, a sampler of inputs that meet its conditions, and, where a plausible
wrong form circulates, that wrong form too. The appendix page renders its tables from
:data:`IDENTITIES` and the tests iterate over the same list: no identity is typed twice.

Layouts (chapter 00): ``kind="gradient"`` for a scalar f, denominator layout (the shape of x);
``kind="jacobian"`` for a vector or matrix f, numerator layout, ``(f.size, x.size)`` with matrices
flattened row by row (``vec_r``, C order, NumPy's), as :func:`mathchain.numeric_jacobian` does.
The variable is always the first argument x; the others are constants.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

from .diagnosis import Diagnosis, diagnose, diagnose_jacobian
from .kronecker import commutation_matrix
from .numeric import numeric_gradient, numeric_jacobian


@dataclass(frozen=True)
class Identity:
    """One identity: f, its derivative in the course's layout, and how to check it."""

    key: str  # stable anchor: the page's target is "identity-<key>"
    group: str
    kind: str  # "gradient" (denominator layout) or "jacobian" (numerator layout, vec_r)
    expression: str  # TeX of f
    derivative: str  # TeX of ∂f/∂x in the course's layout
    shapes: str  # TeX: the shapes of x and of the constants
    f: Callable  # f(xp, x, *constants)
    df: Callable  # df(x, *constants): the derivative, as an array
    sample: Callable  # sample(rng, size) -> (x, *constants), meeting the conditions
    sizes: tuple  # sizes the checks run at; sizes[0] is non-square where that matters
    conditions: str = ""
    other: str = ""  # TeX: the other layout's (or vec order's) form, where readers look for it
    wrong: Callable | None = None  # a plausible wrong form, same signature as df
    wrong_tex: str = ""
    chapter: str = ""  # the page that derives it (docname under chapters/), if one does
    note: str = ""  # Markdown: where a published reference or a library got this one wrong, cited
    mistake: str = ""  # one plain sentence on the wrong form, where no generic diagnosis names it


def _normal(rng, *shape):
    return rng.normal(size=shape)


def _invertible(rng, n):
    """A non-symmetric, well-conditioned n × n matrix (eigenvalues near n, away from 0)."""
    return rng.normal(size=(n, n)) + n * np.eye(n)


def _spd(rng, n):
    """A symmetric positive-definite n × n matrix."""
    B = rng.normal(size=(n, n))
    return B @ B.T + n * np.eye(n)


def _symmetric(rng, n):
    B = rng.normal(size=(n, n))
    return (B + B.T) / 2


def _sigmoid(xp, u):
    return 1 / (1 + xp.exp(-u))


def _softmax(xp, U):
    """Row-wise softmax (a vector is one row)."""
    E = xp.exp(U - xp.max(U, axis=-1, keepdims=True))
    return E / xp.sum(E, axis=-1, keepdims=True)


def _inv(X):
    return np.linalg.inv(X)


SV, VV, SM, MM, NET = ("scalar by vector", "vector by vector", "scalar by matrix",
                       "matrix by matrix", "network layers")
_VECTOR_SIZES = (4, 1, 7)
_MATRIX_SIZES = ((3, 5), (1, 1), (4, 2))

IDENTITIES: list[Identity] = [
    # --- scalar by vector: gradients, the shape of x ------------------------------------------------
    Identity("linear", SV, "gradient", r"a^T x", r"a", r"x, a \in \mathbb{R}^n",
             lambda xp, x, a: xp.dot(a, x), lambda x, a: a,
             lambda rng, n: (_normal(rng, n), _normal(rng, n)), _VECTOR_SIZES,
             other=r"a^T \text{ (numerator layout)}", chapter="00-layouts",
             note="Readers of *Mathematics for Machine Learning* ask why its $d(x^Ta)/dx$ is $a^T$: "
                  "it is the numerator layout "
                  "([mml-book #465](https://github.com/mml-book/mml-book.github.io/issues/465), "
                  "[#754](https://github.com/mml-book/mml-book.github.io/issues/754))."),
    Identity("quadratic", SV, "gradient", r"x^T A x", r"(A + A^T)\,x",
             r"x \in \mathbb{R}^n,\ A \in \mathbb{R}^{n \times n}",
             lambda xp, x, A: xp.dot(x, xp.dot(A, x)), lambda x, A: (A + A.T) @ x,
             lambda rng, n: (_normal(rng, n), _normal(rng, n, n)), _VECTOR_SIZES,
             other=r"x^T (A + A^T)", wrong=lambda x, A: 2 * A @ x,
             wrong_tex=r"2Ax \text{ (right only for symmetric } A)",
             mistake="2Ax is the gradient of xᵀAx only for a symmetric A; in general it is (A + Aᵀ)x."),
    Identity("quadratic-symmetric", SV, "gradient", r"x^T A x", r"2Ax",
             r"x \in \mathbb{R}^n,\ A \in \mathbb{R}^{n \times n}",
             lambda xp, x, A: xp.dot(x, xp.dot(A, x)), lambda x, A: 2 * A @ x,
             lambda rng, n: (_normal(rng, n), _symmetric(rng, n)), _VECTOR_SIZES,
             conditions=r"A = A^T", wrong=lambda x, A: A @ x, wrong_tex=r"Ax"),
    Identity("bilinear", SV, "gradient", r"x^T A b", r"A b",
             r"x \in \mathbb{R}^m,\ A \in \mathbb{R}^{m \times n},\ b \in \mathbb{R}^n",
             lambda xp, x, A, b: xp.dot(x, xp.dot(A, b)), lambda x, A, b: A @ b,
             lambda rng, n: (_normal(rng, n), _normal(rng, n, n + 2), _normal(rng, n + 2)),
             _VECTOR_SIZES, wrong=lambda x, A, b: A.T @ x, wrong_tex=r"A^T x",
             mistake="Aᵀx has the size of b: xᵀAb is linear in x, with gradient Ab."),
    Identity("norm", SV, "gradient", r"\lVert x \rVert_2", r"x / \lVert x \rVert_2",
             r"x \in \mathbb{R}^n", lambda xp, x: xp.sqrt(xp.sum(x**2)),
             lambda x: x / np.linalg.norm(x), lambda rng, n: (_normal(rng, n),), _VECTOR_SIZES,
             conditions=r"x \neq 0", wrong=lambda x: 2 * x, wrong_tex=r"2x \text{ (the square's)}",
             mistake="2x is the gradient of the square ‖x‖²; the gradient of ‖x‖ is x/‖x‖."),
    Identity("norm-squared", SV, "gradient", r"\lVert x \rVert_2^2", r"2x", r"x \in \mathbb{R}^n",
             lambda xp, x: xp.sum(x**2), lambda x: 2 * x, lambda rng, n: (_normal(rng, n),),
             _VECTOR_SIZES),
    Identity("l2-penalty", SV, "gradient", r"\tfrac{\lambda}{2} \lVert w \rVert_2^2", r"\lambda w",
             r"w \in \mathbb{R}^n,\ \lambda > 0", lambda xp, w, lam: lam / 2 * xp.sum(w**2),
             lambda w, lam: lam * w, lambda rng, n: (_normal(rng, n), np.float64(0.3)),
             _VECTOR_SIZES, wrong=lambda w, lam: 2 * lam * w, wrong_tex=r"2\lambda w"),
    Identity("least-squares", SV, "gradient", r"\tfrac12 \lVert Xw - y \rVert_2^2", r"X^T (Xw - y)",
             r"w \in \mathbb{R}^n,\ X \in \mathbb{R}^{m \times n},\ y \in \mathbb{R}^m",
             lambda xp, w, X, y: 0.5 * xp.sum((xp.dot(X, w) - y) ** 2),
             lambda w, X, y: X.T @ (X @ w - y),
             lambda rng, n: (_normal(rng, n), _normal(rng, n + 3, n), _normal(rng, n + 3)),
             _VECTOR_SIZES, other=r"(Xw - y)^T X", chapter="02-scalar-by-vector",
             note=r"A printed least-squares formula lost a transpose, $\Phi(\Phi^T\Phi)^{-1}\Phi y$ "
                  r"for $\Phi(\Phi^T\Phi)^{-1}\Phi^T y$; the authors confirmed it "
                  "([mml-book #455](https://github.com/mml-book/mml-book.github.io/issues/455))."),
    Identity("affine-norm-squared", SV, "gradient", r"\lVert Ax - b \rVert_2^2",
             r"2A^T (Ax - b)",
             r"x \in \mathbb{R}^n,\ A \in \mathbb{R}^{m \times n},\ b \in \mathbb{R}^m",
             lambda xp, x, A, b: xp.sum((xp.dot(A, x) - b) ** 2),
             lambda x, A, b: 2 * A.T @ (A @ x - b),
             lambda rng, n: (_normal(rng, n), _normal(rng, n + 2, n), _normal(rng, n + 2)),
             _VECTOR_SIZES, wrong=lambda x, A, b: A.T @ (A @ x - b),
             wrong_tex=r"A^T(Ax - b)"),
    Identity("affine-norm", SV, "gradient", r"\lVert Ax \rVert_2", r"A^T A x / \lVert Ax \rVert_2",
             r"x \in \mathbb{R}^n,\ A \in \mathbb{R}^{m \times n}",
             lambda xp, x, A: xp.sqrt(xp.sum(xp.dot(A, x) ** 2)),
             lambda x, A: A.T @ (A @ x) / np.linalg.norm(A @ x),
             lambda rng, n: (_normal(rng, n), _normal(rng, n + 2, n)), _VECTOR_SIZES,
             conditions=r"Ax \neq 0"),
    Identity("inverse-quadratic", SV, "gradient", r"x^T A^{-1} x", r"(A^{-1} + A^{-T})\,x",
             r"x \in \mathbb{R}^n,\ A \in \mathbb{R}^{n \times n}",
             lambda xp, x, A: xp.dot(x, xp.dot(xp.linalg.inv(A), x)),
             lambda x, A: (_inv(A) + _inv(A).T) @ x,
             lambda rng, n: (_normal(rng, n), _invertible(rng, n)), _VECTOR_SIZES,
             conditions=r"A \text{ invertible}", wrong=lambda x, A: 2 * _inv(A) @ x,
             wrong_tex=r"2A^{-1}x",
             mistake="2A⁻¹x holds only for a symmetric A; in general the gradient of xᵀA⁻¹x is (A⁻¹ + A⁻ᵀ)x."),
    Identity("mahalanobis", SV, "gradient", r"(x - \mu)^T \Sigma^{-1} (x - \mu)",
             r"2\,\Sigma^{-1} (x - \mu)",
             r"x, \mu \in \mathbb{R}^n,\ \Sigma \in \mathbb{R}^{n \times n}",
             lambda xp, x, mu, S: xp.dot(x - mu, xp.dot(xp.linalg.inv(S), x - mu)),
             lambda x, mu, S: 2 * _inv(S) @ (x - mu),
             lambda rng, n: (_normal(rng, n), _normal(rng, n), _spd(rng, n)), _VECTOR_SIZES,
             conditions=r"\Sigma \text{ symmetric positive definite}",
             wrong=lambda x, mu, S: _inv(S) @ (x - mu), wrong_tex=r"\Sigma^{-1}(x - \mu)"),
    Identity("inner-squared", SV, "gradient", r"(a^T x)^2", r"2\,(a^T x)\, a", r"x, a \in \mathbb{R}^n",
             lambda xp, x, a: xp.dot(a, x) ** 2, lambda x, a: 2 * (a @ x) * a,
             lambda rng, n: (_normal(rng, n), _normal(rng, n)), _VECTOR_SIZES),
    Identity("exp-inner", SV, "gradient", r"e^{a^T x}", r"e^{a^T x}\, a", r"x, a \in \mathbb{R}^n",
             lambda xp, x, a: xp.exp(xp.dot(a, x)), lambda x, a: np.exp(a @ x) * a,
             lambda rng, n: (0.3 * _normal(rng, n), _normal(rng, n)), _VECTOR_SIZES),
    Identity("logsumexp", SV, "gradient", r"\log \textstyle\sum_i e^{x_i}",
             r"\operatorname{softmax}(x)", r"x \in \mathbb{R}^n",
             lambda xp, x: xp.max(x) + xp.log(xp.sum(xp.exp(x - xp.max(x)))),
             lambda x: _softmax(np, x), lambda rng, n: (_normal(rng, n),), _VECTOR_SIZES,
             wrong=lambda x: np.exp(x), wrong_tex=r"e^{x} \text{ (not normalised)}",
             mistake="exp(x) must be divided by its sum: the gradient of log Σᵢ exp(xᵢ) is softmax(x)."),
    Identity("softmax-cross-entropy", SV, "gradient", r"-\log \operatorname{softmax}(u)_t",
             r"\operatorname{softmax}(u) - e_t",
             r"u \in \mathbb{R}^c,\ t \in \{1, \dots, c\},\ e_t \text{ the one-hot vector of the label } t",
             lambda xp, u, e: -xp.sum(e * (u - xp.max(u))) + xp.log(xp.sum(xp.exp(u - xp.max(u)))),
             lambda u, e: _softmax(np, u) - e,
             lambda rng, n: (_normal(rng, n + 1), np.eye(n + 1)[rng.integers(n + 1)]),
             _VECTOR_SIZES,
             wrong=lambda u, e: e - _softmax(np, u), wrong_tex=r"e_t - \operatorname{softmax}(u)",
             chapter="04-backprop"),
    Identity("binary-cross-entropy", SV, "gradient",
             r"-t^T \log \sigma(u) - (1 - t)^T \log \sigma(-u)",
             r"\sigma(u) - t", r"u, t \in \mathbb{R}^n,\ t_i \in \{0, 1\}",
             lambda xp, u, t: -xp.sum(t * xp.log(_sigmoid(xp, u)) + (1 - t) * xp.log(_sigmoid(xp, -u))),
             lambda u, t: _sigmoid(np, u) - t,
             lambda rng, n: (_normal(rng, n), rng.integers(0, 2, size=n).astype(float)),
             _VECTOR_SIZES, wrong=lambda u, t: _sigmoid(np, u) * _sigmoid(np, -u) * (_sigmoid(np, u) - t),
             wrong_tex=r"\sigma'(u) \odot (\sigma(u) - t)", chapter="04-backprop",
             mistake="σ′(u) cancels against the derivative of the log: the gradient in the logits u is σ(u) − t, with no σ′(u)."),
    Identity("logistic-regression", SV, "gradient",
             r"\tfrac1m \textstyle\sum_i \log\bigl(1 + e^{-y_i x_i^T w}\bigr)",
             r"-\tfrac1m X^T \bigl(y \odot \sigma(-y \odot Xw)\bigr)",
             r"w \in \mathbb{R}^n,\ X \in \mathbb{R}^{m \times n} \text{ (rows } x_i^T),\ y \in \{\pm 1\}^m",
             lambda xp, w, X, y: xp.mean(xp.log(1 + xp.exp(-y * xp.dot(X, w)))),
             lambda w, X, y: -X.T @ (y * _sigmoid(np, -y * (X @ w))) / X.shape[0],
             lambda rng, n: (_normal(rng, n), _normal(rng, n + 4, n),
                             rng.choice([-1.0, 1.0], size=n + 4)),
             _VECTOR_SIZES, wrong=lambda w, X, y: -X.T @ (y * _sigmoid(np, -y * (X @ w))),
             wrong_tex=r"\text{the same without } \tfrac1m"),
    Identity("softplus-sum", SV, "gradient", r"\textstyle\sum_i \log\bigl(1 + e^{(Ax)_i}\bigr)",
             r"A^T \sigma(Ax)", r"x \in \mathbb{R}^n,\ A \in \mathbb{R}^{m \times n}",
             lambda xp, x, A: xp.sum(xp.log(1 + xp.exp(xp.dot(A, x)))),
             lambda x, A: A.T @ _sigmoid(np, A @ x),
             lambda rng, n: (_normal(rng, n), _normal(rng, n + 1, n)), _VECTOR_SIZES,
             chapter="05-chain-order"),
    Identity("tanh-sum", SV, "gradient", r"\textstyle\sum_i \tanh(x_i)", r"1 - \tanh^2(x)",
             r"x \in \mathbb{R}^n", lambda xp, x: xp.sum(xp.tanh(x)),
             lambda x: 1 - np.tanh(x) ** 2, lambda rng, n: (_normal(rng, n),), _VECTOR_SIZES),

    # --- vector by vector: Jacobians, [dim f, dim x] ---------------------------------------------
    Identity("jac-linear", VV, "jacobian", r"Ax", r"A",
             r"x \in \mathbb{R}^n,\ A \in \mathbb{R}^{m \times n}",
             lambda xp, x, A: xp.dot(A, x), lambda x, A: A,
             lambda rng, n: (_normal(rng, n), _normal(rng, n + 2, n)), _VECTOR_SIZES,
             other=r"A^T \text{ (denominator layout)}", wrong=lambda x, A: A.T,
             wrong_tex=r"A^T \text{ as the Jacobian}", chapter="01-vector-by-vector",
             note="SymPy once differentiated $A^Tx$ to $A^T$ where the Matrix Cookbook, in the other "
                  "layout, has $A$ ([sympy #5858](https://github.com/sympy/sympy/issues/5858)): "
                  "both are right, each in its own layout, and mixing them is the error."),
    Identity("jac-linear-in-a", VV, "jacobian", r"Ax \text{ as a function of } A",
             r"I_m \otimes x^T \text{ (} \operatorname{vec}_r A)",
             r"A \in \mathbb{R}^{m \times n},\ x \in \mathbb{R}^n",
             lambda xp, A, x: xp.dot(A, x), lambda A, x: np.kron(np.eye(A.shape[0]), x[None, :]),
             lambda rng, size: (_normal(rng, *size), _normal(rng, size[1])), _MATRIX_SIZES,
             other=r"x^T \otimes I_m \text{ for } \operatorname{vec}_c A",
             wrong=lambda A, x: np.kron(x[None, :], np.eye(A.shape[0])),
             wrong_tex=r"x^T \otimes I_m \text{ with } \operatorname{vec}_r", chapter="03-scalar-by-matrix"),
    Identity("jac-elementwise", VV, "jacobian", r"\tanh(x)", r"\operatorname{diag}(1 - \tanh^2 x)",
             r"x \in \mathbb{R}^n", lambda xp, x: xp.tanh(x), lambda x: np.diag(1 - np.tanh(x) ** 2),
             lambda rng, n: (_normal(rng, n),), _VECTOR_SIZES, chapter="04-backprop"),
    Identity("jac-sigmoid", VV, "jacobian", r"\sigma(x)",
             r"\operatorname{diag}\bigl(\sigma(x) \odot (1 - \sigma(x))\bigr)", r"x \in \mathbb{R}^n",
             lambda xp, x: _sigmoid(xp, x), lambda x: np.diag(_sigmoid(np, x) * _sigmoid(np, -x)),
             lambda rng, n: (_normal(rng, n),), _VECTOR_SIZES),
    Identity("jac-hadamard", VV, "jacobian", r"a \odot x", r"\operatorname{diag}(a)",
             r"x, a \in \mathbb{R}^n", lambda xp, x, a: a * x, lambda x, a: np.diag(a),
             lambda rng, n: (_normal(rng, n), _normal(rng, n)), _VECTOR_SIZES),
    Identity("jac-softmax", VV, "jacobian", r"s = \operatorname{softmax}(x)",
             r"\operatorname{diag}(s) - s s^T", r"x \in \mathbb{R}^n",
             lambda xp, x: _softmax(xp, x),
             lambda x: np.diag(_softmax(np, x)) - np.outer(_softmax(np, x), _softmax(np, x)),
             lambda rng, n: (_normal(rng, n),), (4, 7), wrong=lambda x: np.diag(_softmax(np, x)),
             wrong_tex=r"\operatorname{diag}(s) \text{ (the } ss^T \text{ forgotten)}",
             mistake="every softmax output depends on every input through the sum: the Jacobian is diag(s) − s sᵀ."),
    Identity("jac-normalise", VV, "jacobian", r"x / \lVert x \rVert_2",
             r"\bigl(I - \hat x \hat x^T\bigr) / \lVert x \rVert_2,\ \hat x = x / \lVert x \rVert_2",
             r"x \in \mathbb{R}^n", lambda xp, x: x / xp.sqrt(xp.sum(x**2)),
             lambda x: (np.eye(x.size) - np.outer(x, x) / (x @ x)) / np.linalg.norm(x),
             lambda rng, n: (_normal(rng, n),), (4, 7), conditions=r"x \neq 0",
             wrong=lambda x: np.eye(x.size) / np.linalg.norm(x),
             wrong_tex=r"I / \lVert x \rVert_2 \text{ (the norm held constant)}",
             mistake="the norm depends on x too: the Jacobian of x/‖x‖ is (I − x xᵀ/‖x‖²)/‖x‖."),
    Identity("jac-scaled", VV, "jacobian", r"(a^T x)\, x", r"x a^T + (a^T x)\, I",
             r"x, a \in \mathbb{R}^n", lambda xp, x, a: xp.dot(a, x) * x,
             lambda x, a: np.outer(x, a) + (a @ x) * np.eye(x.size),
             lambda rng, n: (_normal(rng, n), _normal(rng, n)), _VECTOR_SIZES,
             wrong=lambda x, a: np.outer(a, x) + (a @ x) * np.eye(x.size),
             wrong_tex=r"a x^T + (a^T x)\, I"),
    Identity("jac-layer", VV, "jacobian", r"\tanh(Ax)", r"\operatorname{diag}\bigl(1 - \tanh^2(Ax)\bigr) A",
             r"x \in \mathbb{R}^n,\ A \in \mathbb{R}^{m \times n}",
             lambda xp, x, A: xp.tanh(xp.dot(A, x)),
             lambda x, A: (1 - np.tanh(A @ x) ** 2)[:, None] * A,
             lambda rng, n: (_normal(rng, n), _normal(rng, n + 2, n)), _VECTOR_SIZES,
             wrong=lambda x, A: (1 - np.tanh(A @ x))[:, None] * A,
             wrong_tex=r"\operatorname{diag}\bigl(1 - \tanh(Ax)\bigr) A \text{ (not squared)}",
             mistake="the derivative of tanh is 1 − tanh², squared: diag(1 − tanh²(Ax)) A.",
             chapter="05-chain-order"),
    Identity("jac-outer", VV, "jacobian", r"\operatorname{vec}_r(x x^T)", r"x \otimes I + I \otimes x",
             r"x \in \mathbb{R}^n", lambda xp, x: xp.reshape(x[:, None] * x[None, :], (-1,)),
             lambda x: np.kron(x[:, None], np.eye(x.size)) + np.kron(np.eye(x.size), x[:, None]),
             lambda rng, n: (_normal(rng, n),), _VECTOR_SIZES,
             wrong=lambda x: 2 * np.kron(x[:, None], np.eye(x.size)),
             wrong_tex=r"2\,(x \otimes I)",
             mistake="the two x of x xᵀ give two different terms, x ⊗ I + I ⊗ x, not twice one of them."),

    # --- scalar by matrix: gradients, the shape of X --------------------------------------------------
    Identity("trace-ax", SM, "gradient", r"\operatorname{tr}(AX)", r"A^T",
             r"X \in \mathbb{R}^{m \times n},\ A \in \mathbb{R}^{n \times m}",
             lambda xp, X, A: xp.trace(xp.dot(A, X)), lambda X, A: A.T,
             lambda rng, size: (_normal(rng, *size), _normal(rng, size[1], size[0])), _MATRIX_SIZES,
             wrong=lambda X, A: A, wrong_tex=r"A", chapter="06-differentials"),
    Identity("trace-xta", SM, "gradient", r"\operatorname{tr}(X^T A) = \textstyle\sum_{ij} X_{ij} A_{ij}", r"A",
             r"X, A \in \mathbb{R}^{m \times n}",
             lambda xp, X, A: xp.trace(xp.dot(X.T, A)), lambda X, A: A,
             lambda rng, size: (_normal(rng, *size), _normal(rng, *size)), _MATRIX_SIZES,
             other=r"A^T \text{ (numerator layout)}"),
    Identity("trace-axb", SM, "gradient", r"\operatorname{tr}(AXB)", r"A^T B^T",
             r"X \in \mathbb{R}^{m \times n},\ A \in \mathbb{R}^{p \times m},\ B \in \mathbb{R}^{n \times p}",
             lambda xp, X, A, B: xp.trace(xp.dot(A, xp.dot(X, B))), lambda X, A, B: A.T @ B.T,
             lambda rng, size: (_normal(rng, *size), _normal(rng, 2, size[0]), _normal(rng, size[1], 2)),
             _MATRIX_SIZES, wrong=lambda X, A, B: B @ A, wrong_tex=r"BA",
             chapter="06-differentials"),
    Identity("trace-xtax", SM, "gradient", r"\operatorname{tr}(X^T A X)", r"(A + A^T)\,X",
             r"X \in \mathbb{R}^{m \times n},\ A \in \mathbb{R}^{m \times m}",
             lambda xp, X, A: xp.trace(xp.dot(X.T, xp.dot(A, X))), lambda X, A: (A + A.T) @ X,
             lambda rng, size: (_normal(rng, *size), _normal(rng, size[0], size[0])), _MATRIX_SIZES,
             wrong=lambda X, A: 2 * A @ X, wrong_tex=r"2AX",
             mistake="2AX holds only for a symmetric A; in general the gradient of tr(XᵀAX) is (A + Aᵀ)X."),
    Identity("trace-xaxt", SM, "gradient", r"\operatorname{tr}(X A X^T)", r"X (A + A^T)",
             r"X \in \mathbb{R}^{m \times n},\ A \in \mathbb{R}^{n \times n}",
             lambda xp, X, A: xp.trace(xp.dot(X, xp.dot(A, X.T))), lambda X, A: X @ (A + A.T),
             lambda rng, size: (_normal(rng, *size), _normal(rng, size[1], size[1])), _MATRIX_SIZES,
             wrong=lambda X, A: 2 * X @ A, wrong_tex=r"2XA",
             mistake="2XA holds only for a symmetric A; in general the gradient of tr(XAXᵀ) is X(A + Aᵀ)."),
    Identity("trace-axbxt", SM, "gradient", r"\operatorname{tr}(A X B X^T)", r"A^T X B^T + A X B",
             r"X \in \mathbb{R}^{m \times n},\ A \in \mathbb{R}^{m \times m},\ B \in \mathbb{R}^{n \times n}",
             lambda xp, X, A, B: xp.trace(xp.dot(A, xp.dot(X, xp.dot(B, X.T)))),
             lambda X, A, B: A.T @ X @ B.T + A @ X @ B,
             lambda rng, size: (_normal(rng, *size), _normal(rng, size[0], size[0]),
                                _normal(rng, size[1], size[1])), _MATRIX_SIZES,
             wrong=lambda X, A, B: 2 * A @ X @ B, wrong_tex=r"2AXB",
             mistake="2AXB holds only for symmetric A and B; in general the gradient of tr(AXBXᵀ) is AᵀXBᵀ + AXB."),
    Identity("trace-square", SM, "gradient", r"\operatorname{tr}(X^2)", r"2X^T",
             r"X \in \mathbb{R}^{n \times n}", lambda xp, X: xp.trace(xp.dot(X, X)),
             lambda X: 2 * X.T, lambda rng, n: (_normal(rng, n, n),), (4, 1, 3),
             wrong=lambda X: 2 * X, wrong_tex=r"2X"),
    Identity("frobenius", SM, "gradient", r"\lVert X \rVert_F^2 = \operatorname{tr}(X^T X)", r"2X",
             r"X \in \mathbb{R}^{m \times n}", lambda xp, X: xp.sum(X**2), lambda X: 2 * X,
             lambda rng, size: (_normal(rng, *size),), _MATRIX_SIZES),
    Identity("frobenius-axb-c", SM, "gradient", r"\lVert AXB - C \rVert_F^2",
             r"2A^T (AXB - C) B^T",
             r"X \in \mathbb{R}^{m \times n},\ A \in \mathbb{R}^{p \times m},\ B \in \mathbb{R}^{n \times q}",
             lambda xp, X, A, B, C: xp.sum((xp.dot(A, xp.dot(X, B)) - C) ** 2),
             lambda X, A, B, C: 2 * A.T @ (A @ X @ B - C) @ B.T,
             lambda rng, size: (_normal(rng, *size), _normal(rng, 2, size[0]), _normal(rng, size[1], 3),
                                _normal(rng, 2, 3)), _MATRIX_SIZES,
             wrong=lambda X, A, B, C: A.T @ (A @ X @ B - C) @ B.T,
             wrong_tex=r"A^T (AXB - C) B^T \text{ (the 2 lost)}", chapter="06-differentials"),
    Identity("least-squares-matrix", SM, "gradient", r"\tfrac12 \lVert AW - Y \rVert_F^2",
             r"A^T (AW - Y)",
             r"W \in \mathbb{R}^{n \times k},\ A \in \mathbb{R}^{m \times n},\ Y \in \mathbb{R}^{m \times k}",
             lambda xp, W, A, Y: 0.5 * xp.sum((xp.dot(A, W) - Y) ** 2),
             lambda W, A, Y: A.T @ (A @ W - Y),
             lambda rng, size: (_normal(rng, *size), _normal(rng, 4, size[0]), _normal(rng, 4, size[1])),
             _MATRIX_SIZES, wrong=lambda W, A, Y: 2 * A.T @ (A @ W - Y),
             wrong_tex=r"2A^T(AW - Y) \text{ (the } \tfrac12 \text{ forgotten)}", chapter="03-scalar-by-matrix"),
    Identity("bilinear-matrix", SM, "gradient", r"a^T X b", r"a b^T",
             r"X \in \mathbb{R}^{m \times n},\ a \in \mathbb{R}^m,\ b \in \mathbb{R}^n",
             lambda xp, X, a, b: xp.dot(a, xp.dot(X, b)), lambda X, a, b: np.outer(a, b),
             lambda rng, size: (_normal(rng, *size), _normal(rng, size[0]), _normal(rng, size[1])),
             _MATRIX_SIZES, wrong=lambda X, a, b: np.outer(b, a), wrong_tex=r"b a^T"),
    Identity("bilinear-gram", SM, "gradient", r"a^T X^T X b", r"X (a b^T + b a^T)",
             r"X \in \mathbb{R}^{m \times n},\ a, b \in \mathbb{R}^n",
             lambda xp, X, a, b: xp.dot(xp.dot(X, a), xp.dot(X, b)),
             lambda X, a, b: X @ (np.outer(a, b) + np.outer(b, a)),
             lambda rng, size: (_normal(rng, *size), _normal(rng, size[1]), _normal(rng, size[1])),
             _MATRIX_SIZES, wrong=lambda X, a, b: 2 * X @ np.outer(a, b), wrong_tex=r"2 X a b^T",
             mistake="2X abᵀ holds only when abᵀ is symmetric; the gradient of aᵀXᵀXb is X(abᵀ + baᵀ)."),
    Identity("bilinear-inverse", SM, "gradient", r"a^T X^{-1} b", r"-X^{-T} a b^T X^{-T}",
             r"X \in \mathbb{R}^{n \times n},\ a, b \in \mathbb{R}^n",
             lambda xp, X, a, b: xp.dot(a, xp.dot(xp.linalg.inv(X), b)),
             lambda X, a, b: -_inv(X).T @ np.outer(a, b) @ _inv(X).T,
             lambda rng, n: (_invertible(rng, n), _normal(rng, n), _normal(rng, n)), (4, 1, 3),
             conditions=r"X \text{ invertible}",
             wrong=lambda X, a, b: -_inv(X) @ np.outer(a, b) @ _inv(X),
             wrong_tex=r"-X^{-1} a b^T X^{-1}",
             mistake="the transposes are missing: the gradient of aᵀX⁻¹b is −X⁻ᵀabᵀX⁻ᵀ."),
    Identity("trace-inverse", SM, "gradient", r"\operatorname{tr}(X^{-1} A)", r"-X^{-T} A^T X^{-T}",
             r"X, A \in \mathbb{R}^{n \times n}",
             lambda xp, X, A: xp.trace(xp.dot(xp.linalg.inv(X), A)),
             lambda X, A: -(_inv(X) @ A @ _inv(X)).T,
             lambda rng, n: (_invertible(rng, n), _normal(rng, n, n)), (4, 1, 3),
             conditions=r"X \text{ invertible}", wrong=lambda X, A: -_inv(X) @ A @ _inv(X),
             wrong_tex=r"-X^{-1} A X^{-1}", chapter="06-differentials"),
    Identity("determinant", SM, "gradient", r"\det X", r"\det(X)\, X^{-T}",
             r"X \in \mathbb{R}^{n \times n}", lambda xp, X: xp.linalg.det(X),
             lambda X: np.linalg.det(X) * _inv(X).T, lambda rng, n: (_invertible(rng, n),), (4, 1, 3),
             conditions=r"X \text{ invertible (the formula)}",
             wrong=lambda X: np.linalg.det(X) * _inv(X), wrong_tex=r"\det(X)\, X^{-1}",
             chapter="06-differentials"),
    Identity("log-determinant", SM, "gradient", r"\log \lvert \det X \rvert", r"X^{-T}",
             r"X \in \mathbb{R}^{n \times n}", lambda xp, X: xp.linalg.slogdet(X)[1],
             lambda X: _inv(X).T, lambda rng, n: (_invertible(rng, n),), (4, 1, 3),
             conditions=r"X \text{ invertible}", wrong=lambda X: _inv(X), wrong_tex=r"X^{-1}",
             chapter="06-differentials"),
    Identity("log-determinant-spd", SM, "gradient", r"\log \det \Sigma", r"\Sigma^{-1}",
             r"\Sigma \in \mathbb{R}^{n \times n}", lambda xp, S: xp.linalg.slogdet(S)[1],
             lambda S: _inv(S), lambda rng, n: (_spd(rng, n),), (4, 1, 3),
             conditions=r"\Sigma \text{ symmetric positive definite},\ "
                        r"\text{all } n^2 \text{ entries independent}",
             wrong=lambda S: 2 * _inv(S) - _inv(S) * np.eye(S.shape[0]),
             wrong_tex=r"2\Sigma^{-1} - \Sigma^{-1} \odot I \text{ (the free-entries form)}",
             note=r"Central differences move one entry at a time, all $n^2$ of them independent; the "
                  r"gradient is then $\Sigma^{-1}$, the $X^{-T}$ of {ref}`identity-log-determinant`, and "
                  r"it is also the gradient among symmetric matrices ($d \log\det\Sigma = "
                  r"\operatorname{tr}(\Sigma^{-1} d\Sigma)$), the one autograd returns. The Matrix "
                  r"Cookbook (§2.8.2) gives $2\Sigma^{-1} - \Sigma^{-1} \odot I$: the derivative by the "
                  r"$n(n+1)/2$ free entries of a symmetric $\Sigma$, where $\sigma_{ij} = \sigma_{ji}$ is "
                  r"one variable and collects both terms. Right for that parametrisation (checked "
                  r"below the table), it is refused here."),

    # --- matrix by matrix: Jacobians of vec_r Y by vec_r X ---------------------------------------------
    Identity("kron-axb", MM, "jacobian", r"AXB", r"A \otimes B^T",
             r"X \in \mathbb{R}^{m \times n},\ A \in \mathbb{R}^{p \times m},\ B \in \mathbb{R}^{n \times q}",
             lambda xp, X, A, B: xp.reshape(xp.dot(A, xp.dot(X, B)), (-1,)),
             lambda X, A, B: np.kron(A, B.T),
             lambda rng, size: (_normal(rng, *size), _normal(rng, 2, size[0]), _normal(rng, size[1], 3)),
             _MATRIX_SIZES, other=r"B^T \otimes A \text{ for } \operatorname{vec}_c",
             wrong=lambda X, A, B: np.kron(B.T, A),
             wrong_tex=r"B^T \otimes A \text{ with } \operatorname{vec}_r", chapter="07-matrix-by-matrix"),
    Identity("kron-ax", MM, "jacobian", r"AX", r"A \otimes I_n",
             r"X \in \mathbb{R}^{m \times n},\ A \in \mathbb{R}^{p \times m}",
             lambda xp, X, A: xp.reshape(xp.dot(A, X), (-1,)),
             lambda X, A: np.kron(A, np.eye(X.shape[1])),
             lambda rng, size: (_normal(rng, *size), _normal(rng, 2, size[0])), _MATRIX_SIZES,
             other=r"I_n \otimes A \text{ for } \operatorname{vec}_c",
             wrong=lambda X, A: np.kron(np.eye(X.shape[1]), A),
             wrong_tex=r"I_n \otimes A \text{ with } \operatorname{vec}_r", chapter="03-scalar-by-matrix"),
    Identity("kron-xb", MM, "jacobian", r"XB", r"I_m \otimes B^T",
             r"X \in \mathbb{R}^{m \times n},\ B \in \mathbb{R}^{n \times q}",
             lambda xp, X, B: xp.reshape(xp.dot(X, B), (-1,)),
             lambda X, B: np.kron(np.eye(X.shape[0]), B.T),
             lambda rng, size: (_normal(rng, *size), _normal(rng, size[1], 3)), _MATRIX_SIZES,
             other=r"B^T \otimes I_m \text{ for } \operatorname{vec}_c",
             wrong=lambda X, B: np.kron(np.eye(X.shape[0]), B),
             wrong_tex=r"I_m \otimes B", chapter="03-scalar-by-matrix"),
    Identity("kron-inverse", MM, "jacobian", r"X^{-1}", r"-X^{-1} \otimes X^{-T}",
             r"X \in \mathbb{R}^{n \times n}",
             lambda xp, X: xp.reshape(xp.linalg.inv(X), (-1,)),
             lambda X: -np.kron(_inv(X), _inv(X).T), lambda rng, n: (_invertible(rng, n),), (3, 1, 2),
             conditions=r"X \text{ invertible}",
             other=r"-X^{-T} \otimes X^{-1} \text{ for } \operatorname{vec}_c",
             wrong=lambda X: -np.kron(_inv(X), _inv(X)), wrong_tex=r"-X^{-1} \otimes X^{-1}",
             mistake="vec_r(A dX B) = (A ⊗ Bᵀ) vec_r(dX), so d(X⁻¹) = −X⁻¹ dX X⁻¹ gives −X⁻¹ ⊗ X⁻ᵀ: the second factor is transposed.",
             chapter="07-matrix-by-matrix"),
    Identity("kron-transpose", MM, "jacobian", r"X^T", r"K_{m,n} \text{ (commutation matrix)}",
             r"X \in \mathbb{R}^{m \times n}", lambda xp, X: xp.reshape(X.T, (-1,)),
             lambda X: commutation_matrix(*X.shape), lambda rng, size: (_normal(rng, *size),), _MATRIX_SIZES,
             other=r"K^{\mathrm{MN}}_{mn} = K_{n,m} \text{ for } \operatorname{vec}_c",
             wrong=lambda X: np.eye(X.size), wrong_tex=r"I \text{ (a transpose is not the identity)}",
             chapter="07-matrix-by-matrix"),
    Identity("kron-gram", MM, "jacobian", r"X^T X", r"X^T \otimes I_n + (I_n \otimes X^T) K_{m,n}",
             r"X \in \mathbb{R}^{m \times n}", lambda xp, X: xp.reshape(xp.dot(X.T, X), (-1,)),
             lambda X: np.kron(X.T, np.eye(X.shape[1]))
             + np.kron(np.eye(X.shape[1]), X.T) @ commutation_matrix(*X.shape),
             lambda rng, size: (_normal(rng, *size),), _MATRIX_SIZES,
             other=r"I_n \otimes X^T + (X^T \otimes I_n) K^{\mathrm{MN}}_{mn} \text{ for } \operatorname{vec}_c",
             wrong=lambda X: 2 * np.kron(X.T, np.eye(X.shape[1])), wrong_tex=r"2\,(X^T \otimes I_n)",
             mistake="the two terms of d(XᵀX) = dXᵀ X + Xᵀ dX differ: the first goes through the commutation matrix, (I ⊗ Xᵀ)K.",
             chapter="07-matrix-by-matrix"),
    Identity("kron-outer-gram", MM, "jacobian", r"X X^T", r"I_m \otimes X + (X \otimes I_m) K_{m,n}",
             r"X \in \mathbb{R}^{m \times n}", lambda xp, X: xp.reshape(xp.dot(X, X.T), (-1,)),
             lambda X: np.kron(np.eye(X.shape[0]), X)
             + np.kron(X, np.eye(X.shape[0])) @ commutation_matrix(*X.shape),
             lambda rng, size: (_normal(rng, *size),), _MATRIX_SIZES,
             other=r"X \otimes I_m + (I_m \otimes X) K^{\mathrm{MN}}_{mn} \text{ for } \operatorname{vec}_c",
             wrong=lambda X: 2 * np.kron(np.eye(X.shape[0]), X), wrong_tex=r"2\,(I_m \otimes X)",
             mistake="the two terms of d(XXᵀ) = dX Xᵀ + X dXᵀ differ: the second goes through the commutation matrix, (X ⊗ I)K."),
    Identity("kron-elementwise", MM, "jacobian", r"\tanh(X)",
             r"\operatorname{diag}\bigl(\operatorname{vec}_r(1 - \tanh^2 X)\bigr)",
             r"X \in \mathbb{R}^{m \times n}", lambda xp, X: xp.reshape(xp.tanh(X), (-1,)),
             lambda X: np.diag((1 - np.tanh(X) ** 2).ravel()),
             lambda rng, size: (_normal(rng, *size),), _MATRIX_SIZES, chapter="04-backprop"),
    Identity("kron-hadamard", MM, "jacobian", r"A \odot X", r"\operatorname{diag}(\operatorname{vec}_r A)",
             r"X, A \in \mathbb{R}^{m \times n}", lambda xp, X, A: xp.reshape(A * X, (-1,)),
             lambda X, A: np.diag(A.ravel()),
             lambda rng, size: (_normal(rng, *size), _normal(rng, *size)), _MATRIX_SIZES,
             wrong=lambda X, A: np.diag(A.T.ravel()),
             wrong_tex=r"\operatorname{diag}(\operatorname{vec}_c A) \text{ with } \operatorname{vec}_r X"),

    # --- network layers: gradients of z = Σ G ⊙ (layer output), G = ∂z/∂(output) -----------------------
    Identity("layer-dw", NET, "gradient", r"z = \textstyle\sum G \odot (AW + \mathbf 1 b^T)",
             r"\partial z/\partial W = A^T G",
             r"W \in \mathbb{R}^{n \times k},\ A \in \mathbb{R}^{m \times n},\ G \in \mathbb{R}^{m \times k}",
             lambda xp, W, A, b, G: xp.sum(G * (xp.dot(A, W) + b)), lambda W, A, b, G: A.T @ G,
             lambda rng, size: (_normal(rng, *size), _normal(rng, 4, size[0]), _normal(rng, size[1]),
                                _normal(rng, 4, size[1])), _MATRIX_SIZES,
             wrong=lambda W, A, b, G: G.T @ A, wrong_tex=r"G^T A", chapter="03-scalar-by-matrix"),
    Identity("layer-da", NET, "gradient", r"z = \textstyle\sum G \odot (AW + \mathbf 1 b^T)",
             r"\partial z/\partial A = G W^T",
             r"A \in \mathbb{R}^{m \times n},\ W \in \mathbb{R}^{n \times k},\ G \in \mathbb{R}^{m \times k}",
             lambda xp, A, W, b, G: xp.sum(G * (xp.dot(A, W) + b)), lambda A, W, b, G: G @ W.T,
             lambda rng, size: (_normal(rng, *size), _normal(rng, size[1], 3), _normal(rng, 3),
                                _normal(rng, size[0], 3)), _MATRIX_SIZES,
             chapter="03-scalar-by-matrix"),
    Identity("layer-db", NET, "gradient", r"z = \textstyle\sum G \odot (AW + \mathbf 1 b^T)",
             r"\partial z/\partial b = G^T \mathbf 1",
             r"b \in \mathbb{R}^k,\ G \in \mathbb{R}^{m \times k}",
             lambda xp, b, A, W, G: xp.sum(G * (xp.dot(A, W) + b)), lambda b, A, W, G: G.sum(axis=0),
             lambda rng, k: (_normal(rng, k), _normal(rng, 5, 2), _normal(rng, 2, k), _normal(rng, 5, k)),
             _VECTOR_SIZES, other=r"\text{the column sums of } G",
             wrong=lambda b, A, W, G: G.mean(axis=0), wrong_tex=r"\text{the column means of } G",
             chapter="03-scalar-by-matrix"),
    Identity("layer-qkt-q", NET, "gradient", r"z = \textstyle\sum G \odot Q K^T",
             r"\partial z/\partial Q = G K",
             r"Q \in \mathbb{R}^{m \times d},\ K \in \mathbb{R}^{n \times d},\ G \in \mathbb{R}^{m \times n}",
             lambda xp, Q, K, G: xp.sum(G * xp.dot(Q, K.T)), lambda Q, K, G: G @ K,
             lambda rng, size: (_normal(rng, *size), _normal(rng, 4, size[1]), _normal(rng, size[0], 4)),
             _MATRIX_SIZES, chapter="09-layers"),
    Identity("layer-qkt-k", NET, "gradient", r"z = \textstyle\sum G \odot Q K^T",
             r"\partial z/\partial K = G^T Q",
             r"K \in \mathbb{R}^{n \times d},\ Q \in \mathbb{R}^{m \times d},\ G \in \mathbb{R}^{m \times n}",
             lambda xp, K, Q, G: xp.sum(G * xp.dot(Q, K.T)), lambda K, Q, G: G.T @ Q,
             lambda rng, size: (_normal(rng, *size), _normal(rng, 4, size[1]), _normal(rng, 4, size[0])),
             _MATRIX_SIZES, chapter="09-layers"),
    Identity("layer-softmax", NET, "gradient", r"z = \textstyle\sum G \odot \operatorname{softmax}(U)",
             r"S \odot \bigl(G - (G \odot S)\mathbf 1 \mathbf 1^T\bigr)",
             r"U, G \in \mathbb{R}^{m \times c},\ S = \operatorname{softmax}(U) \text{ by rows}",
             lambda xp, U, G: xp.sum(G * _softmax(xp, U)),
             lambda U, G: _softmax(np, U) * (G - np.sum(G * _softmax(np, U), axis=1, keepdims=True)),
             lambda rng, size: (_normal(rng, *size), _normal(rng, *size)), ((3, 5), (4, 2), (1, 3)),
             other=r"\text{row by row: } (\operatorname{diag}(s) - s s^T)\, g",
             wrong=lambda U, G: _softmax(np, U) * G, wrong_tex=r"S \odot G",
             mistake="each softmax output depends on its whole row: the gradient is S ⊙ (G − rowsum(G ⊙ S)), not S ⊙ G.",
             chapter="09-layers"),
    Identity("layer-norm-row", NET, "jacobian", r"y = (x - \mu)/\sigma",
             r"\tfrac{1}{\sigma}\bigl(I - \tfrac1k \mathbf 1 \mathbf 1^T - \tfrac1k y y^T\bigr)",
             r"x \in \mathbb{R}^k,\ \mu = \tfrac1k \mathbf 1^T x,\ "
             r"\sigma^2 = \tfrac1k \lVert x - \mu \rVert^2 + \epsilon",
             lambda xp, x, eps: (x - xp.mean(x)) / xp.sqrt(xp.mean((x - xp.mean(x)) ** 2) + eps),
             lambda x, eps: _layer_norm_jacobian(x, eps),
             lambda rng, k: (_normal(rng, k), np.float64(1e-5)), (4, 7), conditions=r"\epsilon > 0",
             wrong=lambda x, eps: (np.eye(x.size) - 1 / x.size) / np.sqrt(np.var(x) + eps),
             wrong_tex=r"\tfrac{1}{\sigma}(I - \tfrac1k \mathbf 1 \mathbf 1^T) \text{ (} \sigma \text{ held constant)}",
             mistake="σ depends on x too: holding it constant drops the − y yᵀ/k term.",
             chapter="09-layers"),
    Identity("mean-squared-error", NET, "gradient", r"\tfrac{1}{2m} \lVert U - T \rVert_F^2",
             r"\tfrac1m (U - T)", r"U, T \in \mathbb{R}^{m \times c}",
             lambda xp, U, T: 0.5 * xp.sum((U - T) ** 2) / U.shape[0], lambda U, T: (U - T) / U.shape[0],
             lambda rng, size: (_normal(rng, *size), _normal(rng, *size)), ((3, 5), (4, 2), (5, 1)),
             wrong=lambda U, T: U - T, wrong_tex=r"U - T \text{ (the } 1/m \text{ lost)}",
             chapter="04-backprop"),
    Identity("cross-entropy", NET, "gradient",
             r"-\tfrac1m \textstyle\sum_i \log \operatorname{softmax}(U_{i,:})_{t_i}",
             r"\tfrac1m \bigl(\operatorname{softmax}(U) - T\bigr)",
             r"U \in \mathbb{R}^{m \times c},\ T \text{ one-hot rows}",
             lambda xp, U, T: -xp.sum(T * xp.log(_softmax(xp, U))) / U.shape[0],
             lambda U, T: (_softmax(np, U) - T) / U.shape[0],
             lambda rng, size: (_normal(rng, *size), np.eye(size[1])[rng.integers(size[1], size=size[0])]),
             ((3, 5), (4, 2), (5, 3)), wrong=lambda U, T: _softmax(np, U) - T,
             wrong_tex=r"\operatorname{softmax}(U) - T \text{ (the } 1/m \text{ lost)}", chapter="04-backprop"),
    Identity("residual", NET, "gradient", r"z = \textstyle\sum G \odot \bigl(X + \tanh(XW)\bigr)",
             r"G + \bigl(G \odot (1 - T \odot T)\bigr) W^T",
             r"X, G \in \mathbb{R}^{m \times k},\ W \in \mathbb{R}^{k \times k},\ T = \tanh(XW)",
             lambda xp, X, W, G: xp.sum(G * (X + xp.tanh(xp.dot(X, W)))),
             lambda X, W, G: G + (G * (1 - np.tanh(X @ W) ** 2)) @ W.T,
             lambda rng, size: (_normal(rng, *size), _normal(rng, size[1], size[1]), _normal(rng, *size)),
             _MATRIX_SIZES, wrong=lambda X, W, G: (G * (1 - np.tanh(X @ W) ** 2)) @ W.T,
             wrong_tex=r"\text{the identity path } G \text{ forgotten}",
             mistake="the identity path of X + tanh(XW) carries G back unchanged: add G to the path through tanh.", chapter="10-graphs"),
    # chapter 11: through solvers
    Identity("solve-rhs", VV, "jacobian", r"A^{-1} b \text{ (a solve)}", r"A^{-1}",
             r"b \in \mathbb{R}^n,\ A \in \mathbb{R}^{n \times n}",
             lambda xp, b, A: xp.linalg.solve(A, b), lambda b, A: _inv(A),
             lambda rng, n: (_normal(rng, n), _invertible(rng, n)), (4, 1, 3),
             conditions=r"A \text{ invertible}", other=r"A^{-T} \text{ (denominator layout)}",
             wrong=lambda b, A: _inv(A).T, wrong_tex=r"A^{-T}",
             mistake="the Jacobian of x = A⁻¹b by b is A⁻¹; A⁻ᵀ is what the backward pass applies to ∂z/∂x (b̄ = A⁻ᵀx̄).",
             chapter="11-implicit"),
    Identity("solve-lhs", SM, "gradient", r"\langle C, A^{-1} B \rangle", r"-\bar B X^T",
             r"A \in \mathbb{R}^{n \times n},\ B, C \in \mathbb{R}^{n \times k},\ "
             r"X = A^{-1} B,\ \bar B = A^{-T} C",
             lambda xp, A, B, C: xp.sum(C * xp.linalg.solve(A, B)),
             lambda A, B, C: -np.linalg.solve(A.T, C) @ np.linalg.solve(A, B).T,
             lambda rng, n: (_invertible(rng, n), _normal(rng, n, 2), _normal(rng, n, 2)), (4, 1, 3),
             conditions=r"A \text{ invertible}",
             wrong=lambda A, B, C: -np.linalg.solve(A, C) @ np.linalg.solve(A, B).T,
             wrong_tex=r"-(A^{-1} C) X^T \text{ (the adjoint solve with } A \text{)}",
             mistake="the adjoint solve is with Aᵀ: B̄ = A⁻ᵀC, then ∂z/∂A = −B̄Xᵀ; solving with A is right only for a symmetric A.",
             chapter="11-implicit"),
    Identity("gaussian-nll", SM, "gradient", r"\tfrac12 b^T \Sigma^{-1} b + \tfrac12 \log\det\Sigma",
             r"\tfrac12 (\Sigma^{-1} - x x^T)",
             r"\Sigma \in \mathbb{R}^{n \times n},\ b \in \mathbb{R}^n,\ x = \Sigma^{-1} b",
             lambda xp, S, b: 0.5 * xp.dot(b, xp.linalg.solve(S, b)) + 0.5 * xp.linalg.slogdet(S)[1],
             lambda S, b: 0.5 * (_inv(S) - np.outer(np.linalg.solve(S, b), np.linalg.solve(S, b))),
             lambda rng, n: (_spd(rng, n), _normal(rng, n)), (4, 1, 3),
             conditions=r"\Sigma \text{ symmetric positive definite},\ "
                        r"\text{all } n^2 \text{ entries independent}",
             wrong=lambda S, b: 0.5 * (_inv(S) - np.outer(b, b)),
             wrong_tex=r"\tfrac12 (\Sigma^{-1} - b b^T)",
             mistake="b enters through two solves: the gradient of ½bᵀΣ⁻¹b by Σ is −½xxᵀ with x = Σ⁻¹b, not −½bbᵀ.",
             chapter="11-implicit"),
    Identity("implicit-fixed-point", VV, "jacobian", r"x(\theta): x = \tanh(Wx + U\theta)",
             r"(I - DW)^{-1} D U",
             r"\theta \in \mathbb{R}^p,\ W \in \mathbb{R}^{n \times n},\ U \in \mathbb{R}^{n \times p},\ "
             r"D = \operatorname{diag}(1 - x \odot x)",
             lambda xp, t, W, U: _fixed_point(xp, t, W, U),
             lambda t, W, U: _fixed_point_jacobian(t, W, U),
             lambda rng, p: (_normal(rng, p), _contraction(rng, p + 2), _normal(rng, p + 2, p)),
             (3, 1, 2), conditions=r"\lVert W \rVert_2 < 1 \text{ (a contraction)}",
             other=r"-(\partial F/\partial x)^{-1} \partial F/\partial \theta,\ F = x - \tanh(Wx + U\theta)",
             wrong=lambda t, W, U: _fixed_point_jacobian(t, W, U, feedback=False),
             wrong_tex=r"D U \text{ (} x \text{ held constant inside } \tanh \text{)}",
             mistake="x appears on both sides of x = tanh(Wx + Uθ): its change feeds back through W, so the Jacobian is (I − DW)⁻¹DU, not DU.",
             chapter="11-implicit"),
    Identity("attention-values", NET, "gradient",
             r"z = \textstyle\sum G \odot PV", r"\partial z/\partial V = P^T G",
             r"V \in \mathbb{R}^{n \times d_v},\ P = \operatorname{softmax}(QK^T/\sqrt d) \in \mathbb{R}^{m \times n},\ "
             r"G \in \mathbb{R}^{m \times d_v}",
             lambda xp, V, P, G: xp.sum(G * xp.dot(P, V)), lambda V, P, G: P.T @ G,
             lambda rng, size: (_normal(rng, *size), _softmax(np, _normal(rng, 3, size[0])),
                                _normal(rng, 3, size[1])), _MATRIX_SIZES,
             chapter="09-layers"),
]

# The column-order form (vec_c in and out) of each entry whose ``other`` gives one: the derivative,
# same signature as ``df``, and the shape of f(x) as a matrix (``f`` returns it flattened by rows).
# K^MN_mn (Magnus and Neudecker's, vec_c(Xᵀ) = K^MN_mn vec_c(X)) is commutation_matrix(m, n, "F"),
# which is the course's row-order K_{n,m}, not its K_{m,n}.
COLUMN_ORDER: dict[str, tuple[Callable, Callable]] = {
    "jac-linear-in-a": (lambda A, x: np.kron(x[None, :], np.eye(A.shape[0])),  # xᵀ ⊗ I_m
                        lambda A, x: (A.shape[0],)),
    "kron-axb": (lambda X, A, B: np.kron(B.T, A),  # Bᵀ ⊗ A
                 lambda X, A, B: (A.shape[0], B.shape[1])),
    "kron-ax": (lambda X, A: np.kron(np.eye(X.shape[1]), A),  # I_n ⊗ A
                lambda X, A: (A.shape[0], X.shape[1])),
    "kron-xb": (lambda X, B: np.kron(B.T, np.eye(X.shape[0])),  # Bᵀ ⊗ I_m
                lambda X, B: (X.shape[0], B.shape[1])),
    "kron-inverse": (lambda X: -np.kron(_inv(X).T, _inv(X)), lambda X: X.shape),  # −X⁻ᵀ ⊗ X⁻¹
    "kron-transpose": (lambda X: commutation_matrix(*X.shape, order="F"),  # K^MN_mn
                       lambda X: X.T.shape),
    "kron-gram": (lambda X: np.kron(np.eye(X.shape[1]), X.T)  # I_n ⊗ Xᵀ + (Xᵀ ⊗ I_n) K^MN_mn
                  + np.kron(X.T, np.eye(X.shape[1])) @ commutation_matrix(*X.shape, order="F"),
                  lambda X: (X.shape[1], X.shape[1])),
    "kron-outer-gram": (lambda X: np.kron(X, np.eye(X.shape[0]))  # X ⊗ I_m + (I_m ⊗ X) K^MN_mn
                        + np.kron(np.eye(X.shape[0]), X) @ commutation_matrix(*X.shape, order="F"),
                        lambda X: (X.shape[0], X.shape[0])),
}


def column_order_error(entry: Identity, args: tuple, derivative=None) -> float:
    """As :func:`derivative_error`, for the entry's vec_c form: central differences in column order."""
    x, constants = np.asarray(args[0], dtype=float), args[1:]
    column_df, out_shape = COLUMN_ORDER[entry.key]
    shape = out_shape(*args)

    def f_c(v):  # vec_c(x) in, vec_c(f) out
        y = entry.f(np, v.reshape(x.shape, order="F"), *constants)
        return np.reshape(y, shape).flatten(order="F")

    numeric = numeric_jacobian(f_c, x.flatten(order="F"))
    analytic = np.asarray((derivative or column_df)(*args), dtype=float)
    if analytic.shape != numeric.shape:
        return float("inf")
    return float(np.abs(analytic - numeric).max() / max(1.0, np.abs(numeric).max()))


def _layer_norm_jacobian(x, eps):
    """(I − 11ᵀ/k − y yᵀ/k)/σ for y = (x − μ)/σ, σ = √(var x + ε)."""
    k = x.size
    sigma = np.sqrt(np.var(x) + eps)
    y = (x - x.mean()) / sigma
    return (np.eye(k) - np.ones((k, k)) / k - np.outer(y, y) / k) / sigma


def _contraction(rng, n):
    """An n × n matrix with spectral norm 1/2: x ↦ tanh(Wx + c) is then a contraction."""
    W = rng.normal(size=(n, n))
    return W * (0.5 / np.linalg.norm(W, 2))


def _fixed_point(xp, theta, W, U, steps=80):
    """The fixed point of x = tanh(Wx + Uθ), by 80 iterations from 0 (error ≤ 2⁻⁸⁰)."""
    x = xp.zeros(W.shape[0])
    for _ in range(steps):
        x = xp.tanh(xp.dot(W, x) + xp.dot(U, theta))
    return x


def _fixed_point_jacobian(theta, W, U, feedback=True):
    """(I − DW)⁻¹DU at the fixed point, D = diag(1 − x²) (chapter 11); DU without the feedback."""
    D = np.diag(1 - _fixed_point(np, theta, W, U) ** 2)
    return np.linalg.solve(np.eye(W.shape[0]) - D @ W, D @ U) if feedback else D @ U


def by_key(key: str) -> Identity:
    """The entry with this key."""
    for entry in IDENTITIES:
        if entry.key == key:
            return entry
    raise KeyError(key)


def numeric_derivative(entry: Identity, args: tuple) -> np.ndarray:
    """∂f/∂x at args by central differences, in the entry's layout."""
    x, constants = args[0], args[1:]

    def f(v):
        return entry.f(np, v, *constants)

    return numeric_gradient(f, x) if entry.kind == "gradient" else numeric_jacobian(f, x)


def derivative_error(entry: Identity, args: tuple, derivative=None) -> float:
    """max |df − numeric| / max(1, max |numeric|); inf when the shapes differ (a layout slip).

    The largest absolute difference, divided by the largest |numeric| entry when that exceeds 1: an
    absolute error for derivatives of size up to 1, relative to the largest entry above. Not the
    largest relative error of an entry (a small entry can be off by much more, relatively).
    """
    numeric = numeric_derivative(entry, args)
    analytic = np.asarray((derivative or entry.df)(*args), dtype=float)
    if analytic.shape != numeric.shape:
        return float("inf")
    return float(np.abs(analytic - numeric).max() / max(1.0, np.abs(numeric).max()))


def diagnose_identity(entry: Identity, args: tuple, candidate) -> Diagnosis:
    """:func:`mathchain.diagnose` (or ``diagnose_jacobian``) of a candidate derivative at args.

    ``candidate`` is an array or a callable of x (the other arguments fixed at ``args``). The entry's
    wrong form, when it carries a ``mistake`` sentence, is passed as a hint.
    """
    x, constants = args[0], args[1:]

    def f(v):
        return entry.f(np, v, *constants)

    hints = [(lambda v: entry.wrong(v, *constants), entry.mistake)] if entry.mistake else []
    check = diagnose if entry.kind == "gradient" else diagnose_jacobian
    return check(f, candidate, x, hints=hints)
