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

The Matrix Cookbook's section 2 is covered equation by equation: the group "matrix cookbook" holds the
entries written for it, and ``COOKBOOK_COVERED`` (with ``COOKBOOK_UNCOVERED`` and
``COOKBOOK_NOT_IDENTITIES``) maps each of its equations (32)–(144) to the entry that checks it, or to
the reason it is not counted; ``COOKBOOK_AS_PRINTED`` names the equations printed wrong.
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


# --- the Matrix Cookbook, section 2 (Petersen & Pedersen, version of November 15, 2012) ---------------
# Each entry below checks one or more numbered equations of its section 2 (the numbers are in
# COOKBOOK_COVERED, at the end of the file). Where the variable is a scalar t (a curve X(t) through
# the matrices), x is the 1-vector (t,), and a derivative by t is a "jacobian" of shape (f.size, 1).
# Where the variable is structured (symmetric, diagonal, Toeplitz), x is the vector of its free
# entries and the derivative is by those, as the Cookbook's §2.8 means it.
CB = "matrix cookbook"


def _square(rng, n):
    return rng.normal(size=(n, n))


def _tall(rng, size):
    """A tall m × n matrix (m ≥ n), full column rank: its Gram matrix is well conditioned."""
    m, n = size
    return rng.normal(size=(m, n)) + np.eye(m, n) * 2


def _curve(xp, t, X0, X1, X2):
    """X(t) = X0 + t X1 + t² X2 at the 1-vector t: a smooth curve through the matrices."""
    return X0 + t[0] * X1 + t[0] ** 2 * X2


def _curve_dot(t, X0, X1, X2):
    """X'(t) = X1 + 2t X2."""
    return X1 + 2 * t[0] * X2


def _curve_sample(rng, n):
    return (0.3 * _normal(rng, 1), _invertible(rng, n), _normal(rng, n, n), _normal(rng, n, n))


def _column(v):
    """A derivative by the scalar t as a Jacobian [f.size, 1]."""
    return np.reshape(v, (-1, 1))


def _power(xp, X, k):
    """X^k for k ≥ 0 by repeated products (autograd differentiates it)."""
    P = xp.eye(X.shape[0])
    for _ in range(k):
        P = xp.dot(P, X)
    return P


def _mpow(X, k):
    return np.linalg.matrix_power(X, k)


def _duplication(n):
    """D, n² × n(n+1)/2: vec_r(S) = D θ for the symmetric S whose upper triangle, row by row, is θ."""
    rows, cols = np.triu_indices(n)
    D = np.zeros((n * n, rows.size))
    for p, (i, j) in enumerate(zip(rows, cols, strict=True)):
        D[i * n + j, p] = D[j * n + i, p] = 1.0
    return D


def _sym(xp, theta, n):
    """The symmetric n × n matrix of its free entries theta (upper triangle, row by row)."""
    return xp.reshape(xp.dot(_duplication(n), theta), (n, n))


def _free(M):
    """The upper triangle of M, row by row: a derivative by the free entries of a symmetric matrix."""
    return M[np.triu_indices(M.shape[0])]


def _structured(G):
    """The Cookbook's (138): G + Gᵀ − G ∘ I, the derivative by the free entries, as a matrix."""
    return G + G.T - G * np.eye(G.shape[0])


def _theta(rng, n, spd=False):
    S = _spd(rng, n) if spd else _symmetric(rng, n) + n * np.eye(n)
    return _free(S)


def _toeplitz(xp, t, n):
    """T with T_ij = t_{i−j}: t holds the 2n − 1 diagonals, offsets −(n−1), …, n−1."""
    index = np.subtract.outer(np.arange(n), np.arange(n)) + n - 1
    return xp.reshape(xp.dot(np.eye(2 * n - 1)[index.ravel()], t), (n, n))


def _toeplitz_symmetric(xp, t, n):
    """T with T_ij = t_{|i−j|}: t holds its n diagonals."""
    index = np.abs(np.subtract.outer(np.arange(n), np.arange(n)))
    return xp.reshape(xp.dot(np.eye(n)[index.ravel()], t), (n, n))


def _alpha(A):
    """The Cookbook's α(A) as one value per diagonal: the sum of the (i − j)-th diagonal of Aᵀ."""
    n = A.shape[0]
    return np.array([np.trace(A.T, offset=-k) for k in range(-(n - 1), n)])


def _matrix_sin(xp, X, terms=14):
    """sin(X), the matrix function (its power series), not the entrywise sine."""
    S, P = 0 * X, X
    for k in range(terms):
        S = S + P
        P = -xp.dot(P, xp.dot(X, X)) / ((2 * k + 2) * (2 * k + 3))
    return S


def _xtbx_jacobian(X, B):
    """∂(XᵀBX)_kl/∂X_ij = δ_lj (XᵀB)_ki + δ_kj (BX)_il, as [n·n, m·n] (vec_r out and in)."""
    m, n = X.shape
    I = np.eye(n)
    J = np.einsum("lj,ki->klij", I, X.T @ B) + np.einsum("kj,il->klij", I, B @ X)
    return J.reshape(n * n, m * n)


def _xn_jacobian(X, k):
    """∂(X^k)_kl/∂X_ij = Σ_r (X^r J_ij X^{k−1−r})_kl, as [n², n²]."""
    return sum(np.kron(_mpow(X, r), _mpow(X, k - 1 - r).T) for r in range(k))


def _quadratic_power_gradient(X, a, b, k):
    """The gradient of aᵀ(Xᵏ)ᵀXᵏb, derived: Σ_r (Xʳ)ᵀXᵏ b aᵀ(X^{k−1−r})ᵀ + (Xʳ)ᵀXᵏ a bᵀ(X^{k−1−r})ᵀ."""
    P = _mpow(X, k)
    return sum(_mpow(X, r).T @ P @ (np.outer(b, a) + np.outer(a, b)) @ _mpow(X, k - 1 - r).T
               for r in range(k))


def _quadratic_power_published(X, a, b, k):
    """The Cookbook's (92): Σ_r X^{k−1−r} a bᵀ (Xᵏ)ᵀ Xʳ + (Xʳ)ᵀ Xᵏ a bᵀ (X^{k−1−r})ᵀ."""
    P = _mpow(X, k)
    return sum(_mpow(X, k - 1 - r) @ np.outer(a, b) @ P.T @ _mpow(X, r)
               + _mpow(X, r).T @ P @ np.outer(a, b) @ _mpow(X, k - 1 - r).T for r in range(k))


def _eig_pair(A, i):
    """λ_i and v_i of the symmetric A (ascending), v_i with its largest entry positive."""
    w, V = np.linalg.eigh(A)
    v = V[:, i]
    return w[i], v * np.sign(v[np.argmax(np.abs(v))])


def _eigenvector_jacobian(A, i):
    """∂v_i = (λ_i I − A)⁺ ∂A v_i, for ∂A = the symmetric part of a change of A: [n, n²]."""
    n = A.shape[0]
    w, V = np.linalg.eigh(A)
    lam, v = _eig_pair(A, i)
    I = np.eye(n)
    E = 0.5 * (np.einsum("pk,l->pkl", I, v) + np.einsum("pl,k->pkl", I, v))  # (sym(J_kl) v)_p
    others = np.arange(n) != i  # (λ_i I − A)⁺ = Σ_{j≠i} v_j v_jᵀ / (λ_i − λ_j), the exact zero dropped
    pinv = (V[:, others] / (lam - w[others])) @ V[:, others].T
    return pinv @ E.reshape(n, n * n)


def _sample_distinct_symmetric(rng, n):
    """A symmetric matrix with well separated eigenvalues 1, 2, …, n (rotated)."""
    Q, _ = np.linalg.qr(rng.normal(size=(n, n)))
    return Q @ np.diag(np.arange(1.0, n + 1)) @ Q.T


def _eigenvector_f(xp, A, i, s):
    """v_i of the symmetric part of A, its sign fixed by s (the sign at the sample point)."""
    w, V = xp.linalg.eigh((A + A.T) / 2)
    return s * V[:, i]


_CURVE_SIZES = (3, 1, 4)
_SQUARE_SIZES = (4, 1, 3)
_TALL_SIZES = ((5, 3), (1, 1), (4, 2))

IDENTITIES += [
    # 2.1 determinants
    Identity("cb-det-curve", CB, "jacobian", r"\det Y(t)",
             r"\det(Y) \operatorname{tr}\bigl(Y^{-1} \tfrac{\partial Y}{\partial t}\bigr)",
             r"Y(t) = Y_0 + t Y_1 + t^2 Y_2 \in \mathbb{R}^{n \times n}",
             lambda xp, t, *Ys: xp.reshape(xp.linalg.det(_curve(xp, t, *Ys)), (1,)),
             lambda t, *Ys: _column(np.linalg.det(_curve(np, t, *Ys))
                                    * np.trace(np.linalg.solve(_curve(np, t, *Ys), _curve_dot(t, *Ys)))),
             _curve_sample, _CURVE_SIZES, conditions=r"Y \text{ invertible}"),
    Identity("cb-det-adjugate", CB, "gradient", r"\det X",
             r"G \text{ with } \textstyle\sum_k G_{ik} X_{jk} = \delta_{ij} \det X",
             r"X \in \mathbb{R}^{n \times n}", lambda xp, X: xp.linalg.det(X),
             lambda X: np.linalg.solve(X, np.linalg.det(X) * np.eye(X.shape[0])).T,
             lambda rng, n: (_invertible(rng, n),), _SQUARE_SIZES,
             conditions=r"X \text{ invertible}"),
    Identity("cb-det-second", CB, "jacobian", r"\tfrac{\partial}{\partial t} \det Y(t)",
             r"\det Y \bigl[\operatorname{tr}(Y^{-1} Y'') + \operatorname{tr}(Y^{-1} Y')^2"
             r" - \operatorname{tr}(Y^{-1} Y' Y^{-1} Y')\bigr]",
             r"Y(t) = Y_0 + t Y_1 + t^2 Y_2,\ Y' = \tfrac{\partial Y}{\partial t}",
             lambda xp, t, Y0, Y1, Y2: xp.reshape(
                 xp.linalg.det(_curve(xp, t, Y0, Y1, Y2))
                 * xp.trace(xp.dot(xp.linalg.inv(_curve(xp, t, Y0, Y1, Y2)), Y1 + 2 * t[0] * Y2)), (1,)),
             lambda t, Y0, Y1, Y2: _column(_det_second(t, Y0, Y1, Y2)),
             _curve_sample, _CURVE_SIZES, conditions=r"Y \text{ invertible}"),
    Identity("cb-det-axb", CB, "gradient", r"\det(AXB)", r"\det(AXB)\, X^{-T}",
             r"X, A, B \in \mathbb{R}^{n \times n}",
             lambda xp, X, A, B: xp.linalg.det(xp.dot(A, xp.dot(X, B))),
             lambda X, A, B: np.linalg.det(A @ X @ B) * _inv(X).T,
             lambda rng, n: (_invertible(rng, n), _invertible(rng, n), _invertible(rng, n)), _SQUARE_SIZES,
             conditions=r"A, X, B \text{ invertible}", wrong=lambda X, A, B: np.linalg.det(A @ X @ B) * _inv(X),
             wrong_tex=r"\det(AXB)\, X^{-1}"),
    Identity("cb-det-xtax-square", CB, "gradient", r"\det(X^T A X)", r"2 \det(X^T A X)\, X^{-T}",
             r"X, A \in \mathbb{R}^{n \times n}",
             lambda xp, X, A: xp.linalg.det(xp.dot(X.T, xp.dot(A, X))),
             lambda X, A: 2 * np.linalg.det(X.T @ A @ X) * _inv(X).T,
             lambda rng, n: (_invertible(rng, n), _invertible(rng, n)), _SQUARE_SIZES,
             conditions=r"X, A \text{ invertible (A need not be symmetric)}"),
    Identity("cb-det-xtax-symmetric", CB, "gradient", r"\det(X^T A X)",
             r"2 \det(X^T A X)\, A X (X^T A X)^{-1}",
             r"X \in \mathbb{R}^{m \times n},\ A \in \mathbb{R}^{m \times m}",
             lambda xp, X, A: xp.linalg.det(xp.dot(X.T, xp.dot(A, X))),
             lambda X, A: 2 * np.linalg.det(X.T @ A @ X) * A @ X @ _inv(X.T @ A @ X),
             lambda rng, size: (_tall(rng, size), _spd(rng, size[0])), _TALL_SIZES,
             conditions=r"A = A^T,\ X^T A X \text{ invertible}"),
    Identity("cb-det-xtax-general", CB, "gradient", r"\det(X^T A X)",
             r"\det(X^T A X) \bigl(A X (X^T A X)^{-1} + A^T X (X^T A^T X)^{-1}\bigr)",
             r"X \in \mathbb{R}^{m \times n},\ A \in \mathbb{R}^{m \times m}",
             lambda xp, X, A: xp.linalg.det(xp.dot(X.T, xp.dot(A, X))),
             lambda X, A: np.linalg.det(X.T @ A @ X) * (A @ X @ _inv(X.T @ A @ X) + A.T @ X @ _inv(X.T @ A.T @ X)),
             lambda rng, size: (_tall(rng, size), _invertible(rng, size[0])), _TALL_SIZES,
             conditions=r"X^T A X \text{ invertible}",
             wrong=lambda X, A: 2 * np.linalg.det(X.T @ A @ X) * A @ X @ _inv(X.T @ A @ X),
             wrong_tex=r"2 \det(X^T A X)\, A X (X^T A X)^{-1} \text{ (right only for symmetric } A)",
             mistake="2 det(XᵀAX) AX(XᵀAX)⁻¹ needs a symmetric A; in general it is det(XᵀAX)(AX(XᵀAX)⁻¹ + AᵀX(XᵀAᵀX)⁻¹)."),
    Identity("cb-logdet-gram", CB, "gradient", r"\log \det(X^T X)", r"2 (X^+)^T = 2 X (X^T X)^{-1}",
             r"X \in \mathbb{R}^{m \times n}", lambda xp, X: xp.linalg.slogdet(xp.dot(X.T, X))[1],
             lambda X: 2 * np.linalg.pinv(X).T, lambda rng, size: (_tall(rng, size),), _TALL_SIZES,
             conditions=r"X \text{ of full column rank}", wrong=lambda X: 2 * np.linalg.pinv(X),
             wrong_tex=r"2 X^+ \text{ (not transposed)}"),
    Identity("cb-logdet-gram-pinv", CB, "gradient", r"\log \det(X^T X) \text{ as a function of } Y = X^+",
             r"-2 X^T = -2 (Y^+)^T",
             r"Y = X^+ \in \mathbb{R}^{n \times m} \text{ (so } X = Y^+ = Y^T (Y Y^T)^{-1})",
             lambda xp, Y: xp.linalg.slogdet(xp.dot(_pinv_rows(xp, Y).T, _pinv_rows(xp, Y)))[1],
             lambda Y: -2 * np.linalg.pinv(Y).T, lambda rng, size: (_tall(rng, size).T,), _TALL_SIZES,
             conditions=r"Y \text{ of full row rank}"),
    Identity("cb-det-power", CB, "gradient", r"\det(X^k)", r"k \det(X^k)\, X^{-T}",
             r"X \in \mathbb{R}^{n \times n},\ k = 3", lambda xp, X: xp.linalg.det(_power(xp, X, 3)),
             lambda X: 3 * np.linalg.det(_mpow(X, 3)) * _inv(X).T,
             lambda rng, n: (_invertible(rng, n) / n,), _SQUARE_SIZES, conditions=r"X \text{ invertible}"),
    # 2.2 inverses
    Identity("cb-inverse-curve", CB, "jacobian", r"Y(t)^{-1}",
             r"-Y^{-1} \tfrac{\partial Y}{\partial t} Y^{-1}", r"Y(t) = Y_0 + t Y_1 + t^2 Y_2 \in \mathbb{R}^{n \times n}",
             lambda xp, t, *Ys: xp.reshape(xp.linalg.inv(_curve(xp, t, *Ys)), (-1,)),
             lambda t, *Ys: _column(-_inv(_curve(np, t, *Ys)) @ _curve_dot(t, *Ys) @ _inv(_curve(np, t, *Ys))),
             _curve_sample, _CURVE_SIZES, conditions=r"Y \text{ invertible}",
             wrong=lambda t, *Ys: _column(-_inv(_curve(np, t, *Ys)) @ _inv(_curve(np, t, *Ys))
                                          @ _curve_dot(t, *Ys)),
             wrong_tex=r"-Y^{-2} \tfrac{\partial Y}{\partial t} \text{ (the scalar rule)}",
             mistake="matrices do not commute: the derivative of Y⁻¹ is −Y⁻¹ (∂Y/∂t) Y⁻¹, with ∂Y/∂t between the two inverses."),
    Identity("cb-det-inverse", CB, "gradient", r"\det(X^{-1})", r"-\det(X^{-1})\, X^{-T}",
             r"X \in \mathbb{R}^{n \times n}", lambda xp, X: xp.linalg.det(xp.linalg.inv(X)),
             lambda X: -np.linalg.det(_inv(X)) * _inv(X).T, lambda rng, n: (_invertible(rng, n),),
             _SQUARE_SIZES, conditions=r"X \text{ invertible}"),
    Identity("cb-trace-ainvb", CB, "gradient", r"\operatorname{tr}(A X^{-1} B)",
             r"-(X^{-1} B A X^{-1})^T", r"X \in \mathbb{R}^{n \times n},\ A \in \mathbb{R}^{p \times n},\ B \in \mathbb{R}^{n \times p}",
             lambda xp, X, A, B: xp.trace(xp.dot(A, xp.dot(xp.linalg.inv(X), B))),
             lambda X, A, B: -(_inv(X) @ B @ A @ _inv(X)).T,
             lambda rng, n: (_invertible(rng, n), _normal(rng, 2, n), _normal(rng, n, 2)), _SQUARE_SIZES,
             conditions=r"X \text{ invertible}", other=r"-X^{-T} A^T B^T X^{-T}",
             wrong=lambda X, A, B: -_inv(X) @ B @ A @ _inv(X), wrong_tex=r"-X^{-1} B A X^{-1}"),
    Identity("cb-trace-inverse-shift", CB, "gradient", r"\operatorname{tr}\bigl((X + A)^{-1}\bigr)",
             r"-\bigl((X + A)^{-1} (X + A)^{-1}\bigr)^T", r"X, A \in \mathbb{R}^{n \times n}",
             lambda xp, X, A: xp.trace(xp.linalg.inv(X + A)),
             lambda X, A: -(_inv(X + A) @ _inv(X + A)).T,
             lambda rng, n: (_invertible(rng, n), _normal(rng, n, n) / n), _SQUARE_SIZES,
             conditions=r"X + A \text{ invertible}"),
    # 2.3 eigenvalues
    Identity("cb-eig-sum", CB, "gradient", r"\textstyle\sum_i \lambda_i(X) = \operatorname{tr} X", r"I",
             r"X \in \mathbb{R}^{n \times n}", lambda xp, X: xp.real(xp.sum(xp.linalg.eig(X)[0])),
             lambda X: np.eye(X.shape[0]), lambda rng, n: (_normal(rng, n, n),), _SQUARE_SIZES),
    Identity("cb-eig-product", CB, "gradient", r"\textstyle\prod_i \lambda_i(X) = \det X",
             r"\det(X)\, X^{-T}", r"X \in \mathbb{R}^{n \times n}",
             lambda xp, X: xp.real(xp.prod(xp.linalg.eig(X)[0])),
             lambda X: np.linalg.det(X) * _inv(X).T, lambda rng, n: (_invertible(rng, n) / n,), _SQUARE_SIZES,
             conditions=r"X \text{ invertible (the formula)}"),
    Identity("cb-eigenvalue", CB, "gradient", r"\lambda_i(A)", r"v_i v_i^T",
             r"A = A^T \in \mathbb{R}^{n \times n},\ A v_i = \lambda_i v_i,\ v_i^T v_i = 1",
             lambda xp, A, i: xp.linalg.eigh((A + A.T) / 2)[0][i],
             lambda A, i: np.outer(_eig_pair(A, i)[1], _eig_pair(A, i)[1]),
             lambda rng, n: (_sample_distinct_symmetric(rng, n), n // 2), _SQUARE_SIZES,
             conditions=r"\lambda_i \text{ simple; } f \text{ extends to all } n^2 \text{ entries through } (A + A^T)/2"),
    Identity("cb-eigenvector", CB, "jacobian", r"v_i(A)", r"(\lambda_i I - A)^+ \,\partial A\, v_i",
             r"A = A^T \in \mathbb{R}^{n \times n},\ A v_i = \lambda_i v_i,\ v_i^T v_i = 1",
             lambda xp, A, i, s: _eigenvector_f(xp, A, i, s),
             lambda A, i, s: _eigenvector_jacobian(A, i),
             lambda rng, n: _eigenvector_sample(rng, n), (4, 3),
             conditions=r"\lambda_i \text{ simple; } \partial A \text{ the symmetric part of the change}"),
    # 2.4.1 first order
    Identity("cb-bilinear-transpose", CB, "gradient", r"a^T X^T b", r"b a^T",
             r"X \in \mathbb{R}^{m \times n},\ a \in \mathbb{R}^n,\ b \in \mathbb{R}^m",
             lambda xp, X, a, b: xp.dot(a, xp.dot(X.T, b)), lambda X, a, b: np.outer(b, a),
             lambda rng, size: (_normal(rng, *size), _normal(rng, size[1]), _normal(rng, size[0])),
             _MATRIX_SIZES, wrong=lambda X, a, b: np.outer(a, b), wrong_tex=r"a b^T"),
    Identity("cb-quadratic-matrix", CB, "gradient", r"a^T X a = a^T X^T a", r"a a^T",
             r"X \in \mathbb{R}^{n \times n},\ a \in \mathbb{R}^n",
             lambda xp, X, a: xp.dot(a, xp.dot(X, a)), lambda X, a: np.outer(a, a),
             lambda rng, n: (_normal(rng, n, n), _normal(rng, n)), _SQUARE_SIZES),
    Identity("cb-single-entry", CB, "jacobian", r"X \text{ (by } X_{ij})", r"J^{ij},\ \text{so the Jacobian is } I",
             r"X \in \mathbb{R}^{m \times n}", lambda xp, X: xp.reshape(X, (-1,)),
             lambda X: np.eye(X.size), lambda rng, size: (_normal(rng, *size),), _MATRIX_SIZES),
    Identity("cb-xta-entries", CB, "jacobian", r"X^T A",
             r"\partial (X^T A)_{ij} / \partial X_{mn} = \delta_{in} A_{mj}",
             r"X \in \mathbb{R}^{m \times n},\ A \in \mathbb{R}^{m \times p}",
             lambda xp, X, A: xp.reshape(xp.dot(X.T, A), (-1,)),
             lambda X, A: np.einsum("in,mj->ijmn", np.eye(X.shape[1]), A).reshape(X.shape[1] * A.shape[1], X.size),
             lambda rng, size: (_normal(rng, *size), _normal(rng, size[0], 3)), _MATRIX_SIZES),
    # 2.4.2 second order
    Identity("cb-sum-squared", CB, "gradient", r"\textstyle\sum_{klmn} X_{kl} X_{mn} = (\sum_{kl} X_{kl})^2",
             r"2 \textstyle\sum_{kl} X_{kl} \text{ in every entry}", r"X \in \mathbb{R}^{m \times n}",
             lambda xp, X: xp.sum(X) ** 2, lambda X: 2 * np.sum(X) * np.ones_like(X),
             lambda rng, size: (_normal(rng, *size),), _MATRIX_SIZES),
    Identity("cb-affine-bilinear", CB, "gradient", r"(Bx + b)^T C (Dx + d)",
             r"B^T C (Dx + d) + D^T C^T (Bx + b)",
             r"x \in \mathbb{R}^n,\ B, D \in \mathbb{R}^{m \times n},\ C \in \mathbb{R}^{m \times m}",
             lambda xp, x, B, b, C, D, d: xp.dot(xp.dot(B, x) + b, xp.dot(C, xp.dot(D, x) + d)),
             lambda x, B, b, C, D, d: B.T @ C @ (D @ x + d) + D.T @ C.T @ (B @ x + b),
             lambda rng, n: (_normal(rng, n), _normal(rng, n + 1, n), _normal(rng, n + 1),
                             _normal(rng, n + 1, n + 1), _normal(rng, n + 1, n), _normal(rng, n + 1)),
             _VECTOR_SIZES, wrong=lambda x, B, b, C, D, d: B.T @ C @ (D @ x + d) + D.T @ C @ (B @ x + b),
             wrong_tex=r"B^T C (Dx + d) + D^T C (Bx + b)",
             mistake="the second term goes back through Cᵀ: the gradient is Bᵀ C(Dx + d) + Dᵀ Cᵀ(Bx + b)."),
    Identity("cb-xtbx-entries", CB, "jacobian", r"X^T B X",
             r"\delta_{lj} (X^T B)_{ki} + \delta_{kj} (B X)_{il} = (X^T B J^{ij} + J^{ji} B X)_{kl}",
             r"X \in \mathbb{R}^{m \times n},\ B \in \mathbb{R}^{m \times m}",
             lambda xp, X, B: xp.reshape(xp.dot(X.T, xp.dot(B, X)), (-1,)), _xtbx_jacobian,
             lambda rng, size: (_normal(rng, *size), _normal(rng, size[0], size[0])), _MATRIX_SIZES),
    Identity("cb-bilinear-gram-weighted", CB, "gradient", r"b^T X^T D X c", r"D^T X b c^T + D X c b^T",
             r"X \in \mathbb{R}^{m \times n},\ b, c \in \mathbb{R}^n,\ D \in \mathbb{R}^{m \times m}",
             lambda xp, X, b, c, D: xp.dot(xp.dot(X, b), xp.dot(D, xp.dot(X, c))),
             lambda X, b, c, D: D.T @ X @ np.outer(b, c) + D @ X @ np.outer(c, b),
             lambda rng, size: (_normal(rng, *size), _normal(rng, size[1]), _normal(rng, size[1]),
                                _normal(rng, size[0], size[0])), _MATRIX_SIZES),
    Identity("cb-affine-quadratic-matrix", CB, "gradient", r"(Xb + c)^T D (Xb + c)",
             r"(D + D^T)(Xb + c)\, b^T",
             r"X \in \mathbb{R}^{m \times n},\ b \in \mathbb{R}^n,\ c \in \mathbb{R}^m,\ D \in \mathbb{R}^{m \times m}",
             lambda xp, X, b, c, D: xp.dot(xp.dot(X, b) + c, xp.dot(D, xp.dot(X, b) + c)),
             lambda X, b, c, D: np.outer((D + D.T) @ (X @ b + c), b),
             lambda rng, size: (_normal(rng, *size), _normal(rng, size[1]), _normal(rng, size[0]),
                                _normal(rng, size[0], size[0])), _MATRIX_SIZES,
             wrong=lambda X, b, c, D: 2 * np.outer(D @ (X @ b + c), b), wrong_tex=r"2D(Xb + c)\, b^T",
             mistake="2D(Xb + c)bᵀ needs a symmetric D; in general the gradient is (D + Dᵀ)(Xb + c)bᵀ."),
    Identity("cb-weighted-s-affine", CB, "gradient", r"(x - As)^T W (x - As) \text{ by } s",
             r"-2 A^T W (x - As)",
             r"s \in \mathbb{R}^n,\ A \in \mathbb{R}^{m \times n},\ x \in \mathbb{R}^m",
             lambda xp, s, A, x, W: xp.dot(x - xp.dot(A, s), xp.dot(W, x - xp.dot(A, s))),
             lambda s, A, x, W: -2 * A.T @ W @ (x - A @ s),
             lambda rng, n: (_normal(rng, n), _normal(rng, n + 2, n), _normal(rng, n + 2), _spd(rng, n + 2)),
             _VECTOR_SIZES, conditions=r"W = W^T"),
    Identity("cb-weighted-x", CB, "gradient", r"(x - s)^T W (x - s) \text{ by } x", r"2 W (x - s)",
             r"x, s \in \mathbb{R}^n", lambda xp, x, s, W: xp.dot(x - s, xp.dot(W, x - s)),
             lambda x, s, W: 2 * W @ (x - s), lambda rng, n: (_normal(rng, n), _normal(rng, n), _spd(rng, n)),
             _VECTOR_SIZES, conditions=r"W = W^T"),
    Identity("cb-weighted-s", CB, "gradient", r"(x - s)^T W (x - s) \text{ by } s", r"-2 W (x - s)",
             r"x, s \in \mathbb{R}^n", lambda xp, s, x, W: xp.dot(x - s, xp.dot(W, x - s)),
             lambda s, x, W: -2 * W @ (x - s), lambda rng, n: (_normal(rng, n), _normal(rng, n), _spd(rng, n)),
             _VECTOR_SIZES, conditions=r"W = W^T"),
    Identity("cb-weighted-x-affine", CB, "gradient", r"(x - As)^T W (x - As) \text{ by } x",
             r"2 W (x - As)", r"x \in \mathbb{R}^m,\ A \in \mathbb{R}^{m \times n},\ s \in \mathbb{R}^n",
             lambda xp, x, A, s, W: xp.dot(x - xp.dot(A, s), xp.dot(W, x - xp.dot(A, s))),
             lambda x, A, s, W: 2 * W @ (x - A @ s),
             lambda rng, m: (_normal(rng, m), _normal(rng, m, 2), _normal(rng, 2), _spd(rng, m)),
             _VECTOR_SIZES, conditions=r"W = W^T"),
    Identity("cb-weighted-a", CB, "gradient", r"(x - As)^T W (x - As) \text{ by } A",
             r"-2 W (x - As)\, s^T", r"A \in \mathbb{R}^{m \times n},\ x \in \mathbb{R}^m,\ s \in \mathbb{R}^n",
             lambda xp, A, x, s, W: xp.dot(x - xp.dot(A, s), xp.dot(W, x - xp.dot(A, s))),
             lambda A, x, s, W: -2 * np.outer(W @ (x - A @ s), s),
             lambda rng, size: (_normal(rng, *size), _normal(rng, size[0]), _normal(rng, size[1]),
                                _spd(rng, size[0])), _MATRIX_SIZES, conditions=r"W = W^T",
             wrong=lambda A, x, s, W: -2 * np.outer(s, W @ (x - A @ s)), wrong_tex=r"-2 s (x - As)^T W"),
    # 2.4.3 higher order and non-linear
    Identity("cb-power-entries", CB, "jacobian", r"X^k,\ k = 3",
             r"\textstyle\sum_{r=0}^{k-1} X^r J^{ij} X^{k-1-r}", r"X \in \mathbb{R}^{n \times n}",
             lambda xp, X: xp.reshape(_power(xp, X, 3), (-1,)), lambda X: _xn_jacobian(X, 3),
             lambda rng, n: (_normal(rng, n, n) / 2,), _SQUARE_SIZES,
             other=r"\textstyle\sum_r X^r \otimes (X^{k-1-r})^T \text{ (}\operatorname{vec}_r)",
             wrong=lambda X: 3 * np.kron(_mpow(X, 2), np.eye(X.shape[0])),
             wrong_tex=r"k\, X^{k-1} \otimes I \text{ (the scalar rule)}",
             mistake="matrices do not commute: the Jacobian of Xᵏ sums k terms Xʳ ⊗ (X^{k−1−r})ᵀ, not k X^{k−1} ⊗ I."),
    Identity("cb-bilinear-power", CB, "gradient", r"a^T X^k b,\ k = 3",
             r"\textstyle\sum_{r=0}^{k-1} (X^r)^T a b^T (X^{k-1-r})^T",
             r"X \in \mathbb{R}^{n \times n},\ a, b \in \mathbb{R}^n",
             lambda xp, X, a, b: xp.dot(a, xp.dot(_power(xp, X, 3), b)),
             lambda X, a, b: sum(_mpow(X, r).T @ np.outer(a, b) @ _mpow(X, 2 - r).T for r in range(3)),
             lambda rng, n: (_normal(rng, n, n) / 2, _normal(rng, n), _normal(rng, n)), _SQUARE_SIZES,
             wrong=lambda X, a, b: 3 * _mpow(X, 2).T @ np.outer(a, b), wrong_tex=r"k (X^{k-1})^T a b^T",
             mistake="X does not commute with abᵀ: the gradient of aᵀXᵏb sums k terms (Xʳ)ᵀabᵀ(X^{k−1−r})ᵀ, not k(X^{k−1})ᵀabᵀ."),
    Identity("cb-quadratic-power", CB, "gradient", r"a^T (X^k)^T X^k b,\ k = 3",
             r"\textstyle\sum_{r=0}^{k-1} (X^r)^T X^k (b a^T + a b^T) (X^{k-1-r})^T",
             r"X \in \mathbb{R}^{n \times n},\ a, b \in \mathbb{R}^n",
             lambda xp, X, a, b: xp.dot(xp.dot(_power(xp, X, 3), a), xp.dot(_power(xp, X, 3), b)),
             lambda X, a, b: _quadratic_power_gradient(X, a, b, 3),
             lambda rng, n: (_normal(rng, n, n) / 2, _normal(rng, n), _normal(rng, n)), _SQUARE_SIZES,
             wrong=lambda X, a, b: _quadratic_power_published(X, a, b, 3),
             wrong_tex=r"\textstyle\sum_r X^{k-1-r} a b^T (X^k)^T X^r + (X^r)^T X^k a b^T (X^{k-1-r})^T"
                       r" \text{ (as printed)}",
             mistake="the first term of the Cookbook's (92) is transposed: it must be (Xʳ)ᵀXᵏ b aᵀ (X^{k−1−r})ᵀ, the gradient through the left Xᵏ."),
    Identity("cb-bilinear-functions", CB, "gradient", r"s^T A r,\ s = \sin(Bx),\ r = Cx",
             r"\bigl[\tfrac{\partial s}{\partial x}\bigr]^T A r + \bigl[\tfrac{\partial r}{\partial x}\bigr]^T A^T s",
             r"x \in \mathbb{R}^n,\ B, C \in \mathbb{R}^{m \times n},\ A \in \mathbb{R}^{m \times m}",
             lambda xp, x, A, B, C: xp.dot(xp.sin(xp.dot(B, x)), xp.dot(A, xp.dot(C, x))),
             lambda x, A, B, C: (np.cos(B @ x)[:, None] * B).T @ A @ (C @ x) + C.T @ A.T @ np.sin(B @ x),
             lambda rng, n: (_normal(rng, n), _normal(rng, n + 1, n + 1), _normal(rng, n + 1, n),
                             _normal(rng, n + 1, n)), _VECTOR_SIZES,
             other=r"\tfrac{\partial s}{\partial x}, \tfrac{\partial r}{\partial x} \text{ Jacobians (numerator layout)}",
             wrong=lambda x, A, B, C: (np.cos(B @ x)[:, None] * B).T @ A @ (C @ x) + C.T @ A @ np.sin(B @ x),
             wrong_tex=r"\text{the same with } A \text{ for } A^T",
             mistake="the second term goes back through Aᵀ: the gradient of sᵀAr is (∂s/∂x)ᵀAr + (∂r/∂x)ᵀAᵀs."),
    Identity("cb-rayleigh-quotient", CB, "gradient", r"\frac{(Ax)^T (Ax)}{(Bx)^T (Bx)}",
             r"\frac{2 A^T A x}{x^T B^T B x} - \frac{2\, x^T A^T A x\, B^T B x}{(x^T B^T B x)^2}",
             r"x \in \mathbb{R}^n,\ A \in \mathbb{R}^{m \times n},\ B \in \mathbb{R}^{n \times n}",
             lambda xp, x, A, B: xp.sum(xp.dot(A, x) ** 2) / xp.sum(xp.dot(B, x) ** 2),
             lambda x, A, B: 2 * A.T @ A @ x / np.sum((B @ x) ** 2)
             - 2 * np.sum((A @ x) ** 2) * B.T @ B @ x / np.sum((B @ x) ** 2) ** 2,
             lambda rng, n: (_normal(rng, n), _normal(rng, n + 1, n), _normal(rng, n, n)), _VECTOR_SIZES,
             conditions=r"Bx \neq 0",
             wrong=lambda x, A, B: 2 * A.T @ A @ x / (x @ B @ B @ x)
             - 2 * np.sum((A @ x) ** 2) * B.T @ B @ x / np.sum((B @ x) ** 2) ** 2,
             wrong_tex=r"\text{the same with } x^T B B x \text{ in the first denominator (as printed)}",
             mistake="the first denominator of the Cookbook's (95) lost a transpose: it is xᵀBᵀBx = ‖Bx‖², not xᵀBBx."),
    # 2.4.4 gradient and Hessian
    Identity("cb-quadratic-affine", CB, "gradient", r"f = x^T A x + b^T x", r"(A + A^T) x + b",
             r"x, b \in \mathbb{R}^n,\ A \in \mathbb{R}^{n \times n}",
             lambda xp, x, A, b: xp.dot(x, xp.dot(A, x)) + xp.dot(b, x), lambda x, A, b: (A + A.T) @ x + b,
             lambda rng, n: (_normal(rng, n), _normal(rng, n, n), _normal(rng, n)), _VECTOR_SIZES,
             wrong=lambda x, A, b: 2 * A @ x + b, wrong_tex=r"2Ax + b",
             mistake="2Ax + b holds only for a symmetric A; in general the gradient of xᵀAx + bᵀx is (A + Aᵀ)x + b."),
    Identity("cb-quadratic-hessian", CB, "jacobian", r"\nabla f = (A + A^T) x + b,\ f = x^T A x + b^T x",
             r"\tfrac{\partial^2 f}{\partial x \partial x^T} = A + A^T",
             r"x, b \in \mathbb{R}^n,\ A \in \mathbb{R}^{n \times n}",
             lambda xp, x, A, b: _quadratic_gradient_numeric(xp, x, A, b), lambda x, A, b: A + A.T,
             lambda rng, n: (_normal(rng, n), _normal(rng, n, n), _normal(rng, n)), _VECTOR_SIZES,
             wrong=lambda x, A, b: 2 * A, wrong_tex=r"2A",
             mistake="2A is the Hessian of xᵀAx + bᵀx only for a symmetric A; in general it is A + Aᵀ."),
    # 2.5 traces
    Identity("cb-trace", CB, "gradient", r"\operatorname{tr} X", r"I", r"X \in \mathbb{R}^{n \times n}",
             lambda xp, X: xp.trace(X), lambda X: np.eye(X.shape[0]),
             lambda rng, n: (_normal(rng, n, n),), _SQUARE_SIZES),
    Identity("cb-trace-xa", CB, "gradient", r"\operatorname{tr}(XA)", r"A^T",
             r"X \in \mathbb{R}^{m \times n},\ A \in \mathbb{R}^{n \times m}",
             lambda xp, X, A: xp.trace(xp.dot(X, A)), lambda X, A: A.T,
             lambda rng, size: (_normal(rng, *size), _normal(rng, size[1], size[0])), _MATRIX_SIZES,
             wrong=lambda X, A: A, wrong_tex=r"A"),
    Identity("cb-trace-axtb", CB, "gradient", r"\operatorname{tr}(A X^T B)", r"B A",
             r"X \in \mathbb{R}^{m \times n},\ A \in \mathbb{R}^{p \times n},\ B \in \mathbb{R}^{m \times p}",
             lambda xp, X, A, B: xp.trace(xp.dot(A, xp.dot(X.T, B))), lambda X, A, B: B @ A,
             lambda rng, size: (_normal(rng, *size), _normal(rng, 2, size[1]), _normal(rng, size[0], 2)),
             _MATRIX_SIZES, wrong=lambda X, A, B: A.T @ B.T, wrong_tex=r"A^T B^T"),
    Identity("cb-trace-axt", CB, "gradient", r"\operatorname{tr}(A X^T)", r"A",
             r"X, A \in \mathbb{R}^{m \times n}", lambda xp, X, A: xp.trace(xp.dot(A, X.T)), lambda X, A: A,
             lambda rng, size: (_normal(rng, *size), _normal(rng, *size)), _MATRIX_SIZES),
    Identity("cb-trace-kron", CB, "gradient", r"\operatorname{tr}(A \otimes X)", r"\operatorname{tr}(A)\, I",
             r"X \in \mathbb{R}^{n \times n},\ A \in \mathbb{R}^{p \times p}",
             lambda xp, X, A: xp.trace(xp.kron(A, X)), lambda X, A: np.trace(A) * np.eye(X.shape[0]),
             lambda rng, n: (_normal(rng, n, n), _normal(rng, 2, 2)), _SQUARE_SIZES),
    Identity("cb-trace-x2b", CB, "gradient", r"\operatorname{tr}(X^2 B)", r"(X B + B X)^T",
             r"X, B \in \mathbb{R}^{n \times n}", lambda xp, X, B: xp.trace(xp.dot(X, xp.dot(X, B))),
             lambda X, B: (X @ B + B @ X).T, lambda rng, n: (_normal(rng, n, n), _normal(rng, n, n)),
             _SQUARE_SIZES, wrong=lambda X, B: X @ B + B @ X, wrong_tex=r"X B + B X"),
    Identity("cb-trace-bxxt", CB, "gradient", r"\operatorname{tr}(B X X^T)", r"B X + B^T X",
             r"X \in \mathbb{R}^{m \times n},\ B \in \mathbb{R}^{m \times m}",
             lambda xp, X, B: xp.trace(xp.dot(B, xp.dot(X, X.T))), lambda X, B: (B + B.T) @ X,
             lambda rng, size: (_normal(rng, *size), _normal(rng, size[0], size[0])), _MATRIX_SIZES,
             wrong=lambda X, B: 2 * B @ X, wrong_tex=r"2BX",
             mistake="2BX holds only for a symmetric B; in general the gradient of tr(BXXᵀ) is BX + BᵀX."),
    Identity("cb-trace-xxtb", CB, "gradient", r"\operatorname{tr}(X X^T B)", r"B X + B^T X",
             r"X \in \mathbb{R}^{m \times n},\ B \in \mathbb{R}^{m \times m}",
             lambda xp, X, B: xp.trace(xp.dot(X, xp.dot(X.T, B))), lambda X, B: (B + B.T) @ X,
             lambda rng, size: (_normal(rng, *size), _normal(rng, size[0], size[0])), _MATRIX_SIZES),
    Identity("cb-trace-bxtx", CB, "gradient", r"\operatorname{tr}(B X^T X)", r"X B^T + X B",
             r"X \in \mathbb{R}^{m \times n},\ B \in \mathbb{R}^{n \times n}",
             lambda xp, X, B: xp.trace(xp.dot(B, xp.dot(X.T, X))), lambda X, B: X @ (B + B.T),
             lambda rng, size: (_normal(rng, *size), _normal(rng, size[1], size[1])), _MATRIX_SIZES),
    Identity("cb-trace-xtxb", CB, "gradient", r"\operatorname{tr}(X^T X B)", r"X B^T + X B",
             r"X \in \mathbb{R}^{m \times n},\ B \in \mathbb{R}^{n \times n}",
             lambda xp, X, B: xp.trace(xp.dot(X.T, xp.dot(X, B))), lambda X, B: X @ (B + B.T),
             lambda rng, size: (_normal(rng, *size), _normal(rng, size[1], size[1])), _MATRIX_SIZES),
    Identity("cb-trace-axbx", CB, "gradient", r"\operatorname{tr}(A X B X)",
             r"A^T X^T B^T + B^T X^T A^T", r"X \in \mathbb{R}^{m \times n},\ A \in \mathbb{R}^{p \times m},\ "
             r"B \in \mathbb{R}^{n \times m}",
             lambda xp, X, A, B: xp.trace(xp.dot(A, xp.dot(X, xp.dot(B, X)))),
             lambda X, A, B: A.T @ X.T @ B.T + B.T @ X.T @ A.T,
             lambda rng, size: (_normal(rng, *size), _normal(rng, size[1], size[0]), _normal(rng, size[1], size[0])),
             _MATRIX_SIZES),
    Identity("cb-trace-btxtcxb", CB, "gradient", r"\operatorname{tr}(B^T X^T C X B)",
             r"C^T X B B^T + C X B B^T",
             r"X \in \mathbb{R}^{m \times n},\ B \in \mathbb{R}^{n \times p},\ C \in \mathbb{R}^{m \times m}",
             lambda xp, X, B, C: xp.trace(xp.dot(B.T, xp.dot(X.T, xp.dot(C, xp.dot(X, B))))),
             lambda X, B, C: (C + C.T) @ X @ B @ B.T,
             lambda rng, size: (_normal(rng, *size), _normal(rng, size[1], 2), _normal(rng, size[0], size[0])),
             _MATRIX_SIZES, wrong=lambda X, B, C: 2 * C @ X @ B @ B.T, wrong_tex=r"2 C X B B^T",
             mistake="2CXBBᵀ holds only for a symmetric C; in general the gradient of tr(BᵀXᵀCXB) is CᵀXBBᵀ + CXBBᵀ."),
    Identity("cb-trace-xtbxc", CB, "gradient", r"\operatorname{tr}(X^T B X C)", r"B X C + B^T X C^T",
             r"X \in \mathbb{R}^{m \times n},\ B \in \mathbb{R}^{m \times m},\ C \in \mathbb{R}^{n \times n}",
             lambda xp, X, B, C: xp.trace(xp.dot(X.T, xp.dot(B, xp.dot(X, C)))),
             lambda X, B, C: B @ X @ C + B.T @ X @ C.T,
             lambda rng, size: (_normal(rng, *size), _normal(rng, size[0], size[0]), _normal(rng, size[1], size[1])),
             _MATRIX_SIZES, wrong=lambda X, B, C: 2 * B @ X @ C, wrong_tex=r"2 B X C",
             mistake="2BXC holds only for symmetric B and C; in general the gradient of tr(XᵀBXC) is BXC + BᵀXCᵀ."),
    Identity("cb-trace-axbxtc", CB, "gradient", r"\operatorname{tr}(A X B X^T C)",
             r"A^T C^T X B^T + C A X B",
             r"X \in \mathbb{R}^{m \times n},\ A \in \mathbb{R}^{p \times m},\ B \in \mathbb{R}^{n \times n},\ "
             r"C \in \mathbb{R}^{m \times p}",
             lambda xp, X, A, B, C: xp.trace(xp.dot(A, xp.dot(X, xp.dot(B, xp.dot(X.T, C))))),
             lambda X, A, B, C: A.T @ C.T @ X @ B.T + C @ A @ X @ B,
             lambda rng, size: (_normal(rng, *size), _normal(rng, 2, size[0]), _normal(rng, size[1], size[1]),
                                _normal(rng, size[0], 2)), _MATRIX_SIZES),
    Identity("cb-frobenius-axb-plus-c", CB, "gradient",
             r"\operatorname{tr}\bigl[(AXB + C)(AXB + C)^T\bigr]", r"2 A^T (AXB + C) B^T",
             r"X \in \mathbb{R}^{m \times n},\ A \in \mathbb{R}^{p \times m},\ B \in \mathbb{R}^{n \times q}",
             lambda xp, X, A, B, C: xp.sum((xp.dot(A, xp.dot(X, B)) + C) ** 2),
             lambda X, A, B, C: 2 * A.T @ (A @ X @ B + C) @ B.T,
             lambda rng, size: (_normal(rng, *size), _normal(rng, 2, size[0]), _normal(rng, size[1], 3),
                                _normal(rng, 2, 3)), _MATRIX_SIZES),
    Identity("cb-trace-kron-self", CB, "gradient", r"\operatorname{tr}(X \otimes X) = (\operatorname{tr} X)^2",
             r"2 \operatorname{tr}(X)\, I", r"X \in \mathbb{R}^{n \times n}",
             lambda xp, X: xp.trace(xp.kron(X, X)), lambda X: 2 * np.trace(X) * np.eye(X.shape[0]),
             lambda rng, n: (_normal(rng, n, n),), _SQUARE_SIZES),
    Identity("cb-trace-power", CB, "gradient", r"\operatorname{tr}(X^k),\ k = 4", r"k (X^{k-1})^T",
             r"X \in \mathbb{R}^{n \times n}", lambda xp, X: xp.trace(_power(xp, X, 4)),
             lambda X: 4 * _mpow(X, 3).T, lambda rng, n: (_normal(rng, n, n) / 2,), _SQUARE_SIZES,
             wrong=lambda X: 4 * _mpow(X, 3), wrong_tex=r"k X^{k-1}"),
    Identity("cb-trace-a-power", CB, "gradient", r"\operatorname{tr}(A X^k),\ k = 3",
             r"\textstyle\sum_{r=0}^{k-1} (X^r A X^{k-r-1})^T", r"X, A \in \mathbb{R}^{n \times n}",
             lambda xp, X, A: xp.trace(xp.dot(A, _power(xp, X, 3))),
             lambda X, A: sum((_mpow(X, r) @ A @ _mpow(X, 2 - r)).T for r in range(3)),
             lambda rng, n: (_normal(rng, n, n) / 2, _normal(rng, n, n)), _SQUARE_SIZES,
             wrong=lambda X, A: 3 * (A @ _mpow(X, 2)).T, wrong_tex=r"k (A X^{k-1})^T \text{ (the scalar rule)}",
             mistake="A does not commute with X: the gradient of tr(AXᵏ) sums k terms (XʳAX^{k−r−1})ᵀ, not k(AX^{k−1})ᵀ."),
    Identity("cb-trace-quartic", CB, "gradient", r"\operatorname{tr}(B^T X^T C X X^T C X B)",
             r"C X X^T C X B B^T + C^T X B B^T X^T C^T X + C X B B^T X^T C X + C^T X X^T C^T X B B^T",
             r"X \in \mathbb{R}^{m \times n},\ B \in \mathbb{R}^{n \times p},\ C \in \mathbb{R}^{m \times m}",
             lambda xp, X, B, C: xp.trace(xp.dot(B.T, xp.dot(X.T, xp.dot(C, xp.dot(X, xp.dot(
                 X.T, xp.dot(C, xp.dot(X, B)))))))),
             lambda X, B, C: (C @ X @ X.T @ C @ X @ B @ B.T + C.T @ X @ B @ B.T @ X.T @ C.T @ X
                              + C @ X @ B @ B.T @ X.T @ C @ X + C.T @ X @ X.T @ C.T @ X @ B @ B.T),
             lambda rng, size: (_normal(rng, *size) / 2, _normal(rng, size[1], 2), _normal(rng, size[0], size[0])),
             _MATRIX_SIZES),
    Identity("cb-trace-ainvb-general", CB, "gradient", r"\operatorname{tr}(A X^{-1} B)",
             r"-X^{-T} A^T B^T X^{-T}", r"X \in \mathbb{R}^{n \times n},\ A, B \in \mathbb{R}^{n \times n}",
             lambda xp, X, A, B: xp.trace(xp.dot(A, xp.dot(xp.linalg.inv(X), B))),
             lambda X, A, B: -_inv(X).T @ A.T @ B.T @ _inv(X).T,
             lambda rng, n: (_invertible(rng, n), _normal(rng, n, n), _normal(rng, n, n)), _SQUARE_SIZES,
             conditions=r"X \text{ invertible}"),
    Identity("cb-trace-inverse-gram-a", CB, "gradient", r"\operatorname{tr}\bigl[(X^T C X)^{-1} A\bigr]",
             r"-C X (X^T C X)^{-1} (A + A^T) (X^T C X)^{-1}",
             r"X \in \mathbb{R}^{m \times n},\ C \in \mathbb{R}^{m \times m},\ A \in \mathbb{R}^{n \times n}",
             lambda xp, X, C, A: xp.trace(xp.dot(xp.linalg.inv(xp.dot(X.T, xp.dot(C, X))), A)),
             lambda X, C, A: -C @ X @ _inv(X.T @ C @ X) @ (A + A.T) @ _inv(X.T @ C @ X),
             lambda rng, size: (_tall(rng, size), _spd(rng, size[0]), _normal(rng, size[1], size[1])),
             _TALL_SIZES, conditions=r"C = C^T,\ X^T C X \text{ invertible}"),
    Identity("cb-trace-inverse-gram-ratio", CB, "gradient",
             r"\operatorname{tr}\bigl[(X^T C X)^{-1} (X^T B X)\bigr]",
             r"-2 C X M^{-1} X^T B X M^{-1} + 2 B X M^{-1},\ M = X^T C X",
             r"X \in \mathbb{R}^{m \times n},\ B, C \in \mathbb{R}^{m \times m}",
             lambda xp, X, C, B: xp.trace(xp.dot(xp.linalg.inv(xp.dot(X.T, xp.dot(C, X))), xp.dot(X.T, xp.dot(B, X)))),
             lambda X, C, B: _gram_ratio_gradient(X, C, B, np.zeros((X.shape[1],) * 2)),
             lambda rng, size: (_tall(rng, size), _spd(rng, size[0]), _symmetric(rng, size[0])),
             _TALL_SIZES, conditions=r"B = B^T,\ C = C^T"),
    Identity("cb-trace-inverse-shifted-gram-ratio", CB, "gradient",
             r"\operatorname{tr}\bigl[(A + X^T C X)^{-1} (X^T B X)\bigr]",
             r"-C X (K + K^T) + B X (M^{-1} + M^{-T}),\ M = A + X^T C X,\ K = M^{-1} X^T B X M^{-1}",
             r"X \in \mathbb{R}^{m \times n},\ B, C \in \mathbb{R}^{m \times m},\ A \in \mathbb{R}^{n \times n}",
             lambda xp, X, C, B, A: xp.trace(xp.dot(xp.linalg.inv(A + xp.dot(X.T, xp.dot(C, X))),
                                                    xp.dot(X.T, xp.dot(B, X)))),
             lambda X, C, B, A: _gram_ratio_gradient(X, C, B, A),
             lambda rng, size: (_tall(rng, size) / 5, _spd(rng, size[0]), _symmetric(rng, size[0]),
                                _skewed(rng, size[1]) / size[1]), _TALL_SIZES,
             conditions=r"B = B^T,\ C = C^T,\ A \text{ not necessarily symmetric}",
             wrong=lambda X, C, B, A: _gram_ratio_published(X, C, B, A),
             wrong_tex=r"-2 C X M^{-1} X^T B X M^{-1} + 2 B X M^{-1} \text{ (as printed: needs } A = A^T)",
             mistake="the Cookbook's (127) holds only for a symmetric A, which it does not assume: in general the gradient is −CX(K + Kᵀ) + BX(M⁻¹ + M⁻ᵀ)."),
    Identity("cb-trace-sin", CB, "gradient", r"\operatorname{tr}(\sin X) \text{ (matrix sine)}",
             r"\cos(X)^T \text{ (matrix cosine)}", r"X \in \mathbb{R}^{n \times n}",
             lambda xp, X: xp.trace(_matrix_sin(xp, X)), lambda X: _cosm(X).T,
             lambda rng, n: (_normal(rng, n, n) / n,), _SQUARE_SIZES,
             wrong=lambda X: np.cos(X).T, wrong_tex=r"\text{the entrywise } \cos(X)^T",
             mistake="sin X is the matrix sine here: the gradient of tr(sin X) is the matrix cosine, transposed, not the entrywise cosine."),
    # 2.6 vector norms
    Identity("cb-norm-shifted", CB, "gradient", r"\lVert x - a \rVert_2", r"\frac{x - a}{\lVert x - a \rVert_2}",
             r"x, a \in \mathbb{R}^n", lambda xp, x, a: xp.sqrt(xp.sum((x - a) ** 2)),
             lambda x, a: (x - a) / np.linalg.norm(x - a),
             lambda rng, n: (_normal(rng, n), _normal(rng, n)), _VECTOR_SIZES, conditions=r"x \neq a"),
    Identity("cb-normalise-shifted", CB, "jacobian", r"\frac{x - a}{\lVert x - a \rVert_2}",
             r"\frac{I}{\lVert x - a \rVert_2} - \frac{(x - a)(x - a)^T}{\lVert x - a \rVert_2^3}",
             r"x, a \in \mathbb{R}^n", lambda xp, x, a: (x - a) / xp.sqrt(xp.sum((x - a) ** 2)),
             lambda x, a: np.eye(x.size) / np.linalg.norm(x - a)
             - np.outer(x - a, x - a) / np.linalg.norm(x - a) ** 3,
             lambda rng, n: (_normal(rng, n), _normal(rng, n)), (4, 7), conditions=r"x \neq a"),
    # 2.8 structured matrices: derivatives by the free entries
    Identity("cb-chain-rule", CB, "gradient", r"g(U),\ U = X^T X,\ g(U) = \operatorname{tr}(A U) + \textstyle\sum U_{kl}^2",
             r"\tfrac{\partial g}{\partial X_{ij}} = \operatorname{tr}\bigl[(\tfrac{\partial g}{\partial U})^T"
             r" \tfrac{\partial U}{\partial X_{ij}}\bigr]",
             r"X \in \mathbb{R}^{m \times n},\ A \in \mathbb{R}^{n \times n}",
             lambda xp, X, A: xp.trace(xp.dot(A, xp.dot(X.T, X))) + xp.sum(xp.dot(X.T, X) ** 2),
             lambda X, A: _chain_rule_gradient(X, A),
             lambda rng, size: (_normal(rng, *size) / 2, _normal(rng, size[1], size[1])), _MATRIX_SIZES,
             other=r"\textstyle\sum_{kl} \tfrac{\partial g}{\partial u_{kl}} \tfrac{\partial u_{kl}}{\partial x_{ij}}"),
    Identity("cb-symmetric-rule", CB, "gradient", r"f(S) = a^T S^2 b,\ S = S^T \text{ by its free entries}",
             r"G + G^T - G \circ I,\ G = \tfrac{\partial f}{\partial S} = a b^T S + S a b^T \text{ (all entries)}",
             r"\theta \in \mathbb{R}^{n(n+1)/2} \text{ (the upper triangle of } S),\ a, b \in \mathbb{R}^n",
             lambda xp, t, a, b: xp.dot(a, xp.dot(_sym(xp, t, a.size), xp.dot(_sym(xp, t, a.size), b))),
             lambda t, a, b: _free(_structured(_symmetric_rule_G(t, a, b))),
             lambda rng, n: (_theta(rng, n), _normal(rng, n), _normal(rng, n)), (3, 1, 4),
             other=r"\text{the upper triangle of the matrix shown}",
             wrong=lambda t, a, b: _free(_symmetric_rule_G(t, a, b)),
             wrong_tex=r"G \text{ (the derivative by all } n^2 \text{ entries)}",
             mistake="by the free entries of a symmetric S an off-diagonal entry moves two: the derivative is G + Gᵀ − G ∘ I, not G."),
    Identity("cb-symmetric-trace", CB, "gradient", r"\operatorname{tr}(A S),\ S = S^T \text{ by its free entries}",
             r"A + A^T - A \circ I", r"\theta \in \mathbb{R}^{n(n+1)/2},\ A \in \mathbb{R}^{n \times n}",
             lambda xp, t, A: xp.trace(xp.dot(A, _sym(xp, t, A.shape[0]))),
             lambda t, A: _free(_structured(A.T)),
             lambda rng, n: (_theta(rng, n), _normal(rng, n, n)), (3, 1, 4),
             other=r"\text{the upper triangle of the matrix shown}",
             wrong=lambda t, A: _free(A.T), wrong_tex=r"A^T \text{ (the derivative by all } n^2 \text{ entries)}",
             mistake="by the free entries of a symmetric S an off-diagonal entry moves two: the derivative of tr(AS) is A + Aᵀ − A ∘ I, not Aᵀ."),
    Identity("cb-symmetric-det", CB, "gradient", r"\det S,\ S = S^T \text{ by its free entries}",
             r"\det(S) (2 S^{-1} - S^{-1} \circ I)", r"\theta \in \mathbb{R}^{n(n+1)/2}",
             lambda xp, t, n: xp.linalg.det(_sym(xp, t, n)),
             lambda t, n: _free(np.linalg.det(_sym(np, t, n)) * _structured(_inv(_sym(np, t, n)))),
             lambda rng, n: (_theta(rng, n), n), (3, 1, 4),
             other=r"\text{the upper triangle of the matrix shown}",
             wrong=lambda t, n: _free(np.linalg.det(_sym(np, t, n)) * _inv(_sym(np, t, n))),
             wrong_tex=r"\det(S)\, S^{-1} \text{ (the derivative by all } n^2 \text{ entries)}",
             mistake="by the free entries of a symmetric S an off-diagonal entry moves two: the derivative of det S is det(S)(2S⁻¹ − S⁻¹ ∘ I), not det(S)S⁻¹."),
    Identity("cb-symmetric-logdet", CB, "gradient", r"\log \det S,\ S = S^T \text{ by its free entries}",
             r"2 S^{-1} - S^{-1} \circ I", r"\theta \in \mathbb{R}^{n(n+1)/2}",
             lambda xp, t, n: xp.linalg.slogdet(_sym(xp, t, n))[1],
             lambda t, n: _free(_structured(_inv(_sym(np, t, n)))),
             lambda rng, n: (_free(_spd(rng, n)), n), (3, 1, 4),
             conditions=r"S \text{ positive definite}",
             other=r"\text{the upper triangle of the matrix shown}",
             wrong=lambda t, n: _free(_inv(_sym(np, t, n))),
             wrong_tex=r"S^{-1} \text{ (the derivative by all } n^2 \text{ entries)}",
             mistake="by the free entries of a symmetric S an off-diagonal entry moves two: the derivative of log det S is 2S⁻¹ − S⁻¹ ∘ I, not S⁻¹."),
    Identity("cb-diagonal-trace", CB, "gradient", r"\operatorname{tr}(A X),\ X = \operatorname{diag}(d)",
             r"A \circ I \text{ (its diagonal)}", r"d \in \mathbb{R}^n,\ A \in \mathbb{R}^{n \times n}",
             lambda xp, d, A: xp.trace(xp.dot(A, d * np.eye(d.size))),
             lambda d, A: np.diag(A).copy(), lambda rng, n: (_normal(rng, n), _normal(rng, n, n)), _VECTOR_SIZES),
    Identity("cb-toeplitz-trace", CB, "gradient", r"\operatorname{tr}(A T),\ T_{ij} = t_{i-j}",
             r"\alpha(A):\ \text{the sum of each diagonal of } A^T",
             r"t \in \mathbb{R}^{2n-1},\ A \in \mathbb{R}^{n \times n}",
             lambda xp, t, A: xp.trace(xp.dot(A, _toeplitz(xp, t, A.shape[0]))),
             lambda t, A: _alpha(A), lambda rng, n: (_normal(rng, 2 * n - 1), _normal(rng, n, n)), (3, 1, 4),
             wrong=lambda t, A: _alpha(A.T), wrong_tex=r"\text{the diagonal sums of } A",
             mistake="tr(AT) collects the diagonals of Aᵀ, not of A: the derivative by t_k is the sum of the k-th diagonal of Aᵀ."),
    Identity("cb-toeplitz-symmetric-trace", CB, "gradient", r"\operatorname{tr}(A T),\ T_{ij} = t_{\lvert i-j \rvert}",
             r"\alpha(A) + \alpha(A)^T - \alpha(A) \circ I", r"t \in \mathbb{R}^n,\ A \in \mathbb{R}^{n \times n}",
             lambda xp, t, A: xp.trace(xp.dot(A, _toeplitz_symmetric(xp, t, A.shape[0]))),
             lambda t, A: _alpha_symmetric(A), lambda rng, n: (_normal(rng, n), _normal(rng, n, n)), (3, 1, 4),
             wrong=lambda t, A: _alpha(A)[A.shape[0] - 1:], wrong_tex=r"\alpha(A) \text{ (the unconstrained form)}",
             mistake="in a symmetric Toeplitz matrix t_k sits on two diagonals: its derivative adds both sums, α(A) + α(A)ᵀ − α(A) ∘ I."),
]


def _two_curves(rng, size, second=None):
    """t and two curves X(t) (m × n) and Y(t) (second, default m × n): (t, X0, X1, X2, Y0, Y1, Y2)."""
    m, n = size
    p, q = second or size
    return (0.3 * _normal(rng, 1), *(_normal(rng, m, n) for _ in range(3)),
            *(_normal(rng, p, q) for _ in range(3)))


def _cofactor_adjugate(X):
    """adj(X) from its cofactors, (−1)^{i+j} det of X without row j and column i (no inverse used)."""
    n = X.shape[0]
    if n == 1:
        return np.ones((1, 1))
    adj = np.empty((n, n))
    for i in range(n):
        for j in range(n):
            minor = np.delete(np.delete(X, j, axis=0), i, axis=1)
            adj[i, j] = (-1) ** (i + j) * np.linalg.det(minor)
    return adj


def _rule(key, expression, derivative, f, df, sample=None, sizes=_MATRIX_SIZES, conditions=""):
    """A rule for differentials, (33)–(44), checked along a curve X(t) = X0 + tX1 + t²X2 (and Y(t))."""
    return Identity(key, CB, "jacobian", expression, derivative,
                    r"X(t), Y(t) \text{ curves } X_0 + t X_1 + t^2 X_2",
                    lambda xp, t, *args: xp.reshape(f(xp, t, *args), (-1,)),
                    lambda t, *args: _column(df(t, *args)), sample or _two_curves, sizes,
                    conditions=conditions)


def _X(xp, t, a):
    return _curve(xp, t, *a[:3])


def _Y(xp, t, a):
    return _curve(xp, t, *a[3:6])


def _dX(t, a):
    return _curve_dot(t, *a[:3])


def _dY(t, a):
    return _curve_dot(t, *a[3:6])


IDENTITIES += [
    _rule("cb-rule-constant", r"A \text{ (constant)}", r"\partial A = 0",
          lambda xp, t, *a: a[0] + 0 * t[0], lambda t, *a: np.zeros(a[0].shape)),
    _rule("cb-rule-scale", r"\alpha X", r"\partial(\alpha X) = \alpha\, \partial X",
          lambda xp, t, *a: 1.7 * _X(xp, t, a), lambda t, *a: 1.7 * _dX(t, a)),
    _rule("cb-rule-sum", r"X + Y", r"\partial(X + Y) = \partial X + \partial Y",
          lambda xp, t, *a: _X(xp, t, a) + _Y(xp, t, a), lambda t, *a: _dX(t, a) + _dY(t, a)),
    _rule("cb-rule-trace", r"\operatorname{tr} X", r"\partial \operatorname{tr} X = \operatorname{tr}(\partial X)",
          lambda xp, t, *a: xp.reshape(xp.trace(_X(xp, t, a)), (1,)), lambda t, *a: np.trace(_dX(t, a)),
          lambda rng, n: _two_curves(rng, (n, n)), _SQUARE_SIZES),
    _rule("cb-rule-product", r"X Y", r"\partial(XY) = (\partial X) Y + X (\partial Y)",
          lambda xp, t, *a: xp.dot(_X(xp, t, a), _Y(xp, t, a)),
          lambda t, *a: _dX(t, a) @ _Y(np, t, a) + _X(np, t, a) @ _dY(t, a),
          lambda rng, size: _two_curves(rng, size, (size[1], 2))),
    _rule("cb-rule-hadamard", r"X \circ Y", r"\partial(X \circ Y) = (\partial X) \circ Y + X \circ (\partial Y)",
          lambda xp, t, *a: _X(xp, t, a) * _Y(xp, t, a),
          lambda t, *a: _dX(t, a) * _Y(np, t, a) + _X(np, t, a) * _dY(t, a)),
    _rule("cb-rule-kronecker", r"X \otimes Y", r"\partial(X \otimes Y) = (\partial X) \otimes Y + X \otimes (\partial Y)",
          lambda xp, t, *a: xp.kron(_X(xp, t, a), _Y(xp, t, a)),
          lambda t, *a: np.kron(_dX(t, a), _Y(np, t, a)) + np.kron(_X(np, t, a), _dY(t, a)),
          lambda rng, size: _two_curves(rng, size, (2, 3))),
    _rule("cb-rule-adjugate", r"\det X", r"\partial \det X = \operatorname{tr}\bigl(\operatorname{adj}(X)\, \partial X\bigr)",
          lambda xp, t, *a: xp.reshape(xp.linalg.det(_X(xp, t, a)), (1,)),
          lambda t, *a: np.trace(_cofactor_adjugate(_X(np, t, a)) @ _dX(t, a)),
          lambda rng, n: _curve_sample(rng, n), _CURVE_SIZES),
    _rule("cb-rule-logdet", r"\ln \det X", r"\partial \ln \det X = \operatorname{tr}(X^{-1} \partial X)",
          lambda xp, t, *a: xp.reshape(xp.linalg.slogdet(_X(xp, t, a))[1], (1,)),
          lambda t, *a: np.trace(np.linalg.solve(_X(np, t, a), _dX(t, a))),
          lambda rng, n: _curve_sample(rng, n), _CURVE_SIZES, conditions=r"\det X > 0"),
    _rule("cb-rule-transpose", r"X^T", r"\partial X^T = (\partial X)^T",
          lambda xp, t, *a: _X(xp, t, a).T, lambda t, *a: _dX(t, a).T),
]


def _skewed(rng, n):
    """n I + 2(N − Nᵀ): far from symmetric, and invertible (its symmetric part is n I)."""
    N = rng.normal(size=(n, n))
    return n * np.eye(n) + 2 * (N - N.T)


def _det_second(t, Y0, Y1, Y2):
    """(48): det Y [tr(Y⁻¹Y'') + tr(Y⁻¹Y')² − tr(Y⁻¹Y'Y⁻¹Y')], Y'' = 2 Y2."""
    Y = _curve(np, t, Y0, Y1, Y2)
    P = np.linalg.solve(Y, _curve_dot(t, Y0, Y1, Y2))
    return np.linalg.det(Y) * (np.trace(np.linalg.solve(Y, 2 * Y2)) + np.trace(P) ** 2 - np.trace(P @ P))


def _pinv_rows(xp, Y):
    """Y⁺ = Yᵀ(YYᵀ)⁻¹ for Y of full row rank."""
    return xp.dot(Y.T, xp.linalg.inv(xp.dot(Y, Y.T)))


def _eigenvector_sample(rng, n):
    A = _sample_distinct_symmetric(rng, n)
    i = n // 2
    v = np.linalg.eigh(A)[1][:, i]
    return A, i, np.sign(v[np.argmax(np.abs(v))])


def _quadratic_gradient_numeric(xp, x, A, b):
    """∇(xᵀAx + bᵀx) written out, (A + Aᵀ)x + b, the (97) this row differentiates once more."""
    return xp.dot(A + A.T, x) + b


def _gram_ratio_gradient(X, C, B, A):
    """∇ tr[(A + XᵀCX)⁻¹ XᵀBX] = −CX(K + Kᵀ) + BX(M⁻¹ + M⁻ᵀ), M = A + XᵀCX, K = M⁻¹XᵀBXM⁻¹ (B, C symmetric)."""
    Mi = _inv(A + X.T @ C @ X)
    K = Mi @ X.T @ B @ X @ Mi
    return -C @ X @ (K + K.T) + B @ X @ (Mi + Mi.T)


def _gram_ratio_published(X, C, B, A):
    """The Cookbook's (127) as printed: −2CX M⁻¹XᵀBX M⁻¹ + 2BX M⁻¹."""
    Mi = _inv(A + X.T @ C @ X)
    return -2 * C @ X @ Mi @ X.T @ B @ X @ Mi + 2 * B @ X @ Mi


def _cosm(X):
    """cos(X), the matrix function, from the eigenvalues: V diag(cos λ) V⁻¹ (not the series of f)."""
    w, V = np.linalg.eig(X)
    return np.real(V @ np.diag(np.cos(w)) @ np.linalg.inv(V))


def _chain_rule_gradient(X, A):
    """(136)–(137) on U = XᵀX: ∂g/∂X_ij = Σ_kl (∂g/∂U)_kl ∂U_kl/∂X_ij, with ∂g/∂U = Aᵀ + 2U."""
    m, n = X.shape
    U = X.T @ X
    dU = _xtbx_jacobian(X, np.eye(m))  # ∂(XᵀX)_kl/∂X_ij, [n·n, m·n]
    return ((A.T + 2 * U).ravel() @ dU).reshape(m, n)


def _symmetric_rule_G(t, a, b):
    """G = ∂(aᵀS²b)/∂S by all n² entries: a bᵀ Sᵀ + Sᵀ a bᵀ = a (Sb)ᵀ + (Sᵀa) bᵀ."""
    S = _sym(np, t, a.size)
    return np.outer(a, S @ b) + np.outer(S.T @ a, b)


def _alpha_symmetric(A):
    """(144) by the n diagonals t_0, …, t_{n−1} of a symmetric Toeplitz T: α_0 on 0, α_k + α_{−k} off it."""
    n = A.shape[0]
    alpha = _alpha(A)  # offsets −(n−1), …, n−1
    return np.array([alpha[n - 1]] + [alpha[n - 1 + k] + alpha[n - 1 - k] for k in range(1, n)])


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


# --- the Matrix Cookbook's section 2, equation by equation --------------------------------------------
# Petersen & Pedersen, The Matrix Cookbook, version of November 15, 2012, section 2 "Derivatives":
# equations (32)–(144). Read from two copies: the text extracted from the PDF at
# fliphtml5.com/ifgyy/oati/The_Matrix_Cookbook (pages 10, 11, 15, 16 found; garbled, so each equation
# was rebuilt), and the OCR transcription md/main.md of github.com/eric-wieser/lean-matrix-cookbook,
# whose Lean files also number the subsections (e.g. 2.4.4 is (96)–(98), 2.5.4 is (124)–(128)).
# Where unsure, the equation was derived; every one was checked before it was taken.
# Every number is in exactly one of the three tables below (a test checks it).
COOKBOOK_SECTION_2 = range(32, 145)

# numbered equations that are not derivative identities: left out of the count, with the reason
COOKBOOK_NOT_IDENTITIES: dict[int, str] = {  # Markdown
    32: r"the assumption that the entries of $X$ are independent, "
        r"$\partial X_{kl}/\partial X_{ij} = \delta_{ik} \delta_{lj}$: a definition",
    96: r"the definition $f = x^T A x + b^T x$ of the function that (97) and (98) differentiate",
    134: r"the definition of the structure matrix $S^{ij} = \partial A/\partial A_{ij}$",
    135: r"the definition $g(U) = g(f(X))$ of what the chain rule (136) differentiates",
}

# derivative identities the reference checks: equation → the key of the entry that checks it
COOKBOOK_COVERED: dict[int, str] = {
    33: "cb-rule-constant", 34: "cb-rule-scale", 35: "cb-rule-sum", 36: "cb-rule-trace",
    37: "cb-rule-product", 38: "cb-rule-hadamard", 39: "cb-rule-kronecker", 40: "cb-inverse-curve",
    41: "cb-rule-adjugate", 42: "cb-det-curve", 43: "cb-rule-logdet", 44: "cb-rule-transpose",
    46: "cb-det-curve", 47: "cb-det-adjugate", 48: "cb-det-second", 49: "determinant",
    50: "cb-det-adjugate", 51: "cb-det-axb", 52: "cb-det-xtax-square", 53: "cb-det-xtax-symmetric",
    54: "cb-det-xtax-general", 55: "cb-logdet-gram", 56: "cb-logdet-gram-pinv", 57: "log-determinant",
    58: "cb-det-power", 59: "cb-inverse-curve", 60: "kron-inverse", 61: "bilinear-inverse",
    62: "cb-det-inverse", 63: "cb-trace-ainvb", 64: "cb-trace-inverse-shift", 65: "cb-eig-sum",
    66: "cb-eig-product", 67: "cb-eigenvalue", 68: "cb-eigenvector", 69: "linear", 70: "bilinear-matrix",
    71: "cb-bilinear-transpose", 72: "cb-quadratic-matrix", 73: "cb-single-entry", 74: "kron-xb",
    75: "cb-xta-entries", 76: "cb-sum-squared", 77: "bilinear-gram", 78: "cb-affine-bilinear",
    79: "cb-xtbx-entries", 80: "cb-xtbx-entries", 81: "quadratic", 82: "cb-bilinear-gram-weighted",
    83: "cb-affine-quadratic-matrix", 84: "cb-weighted-s-affine", 85: "cb-weighted-x", 86: "cb-weighted-s",
    87: "cb-weighted-x-affine", 88: "cb-weighted-a", 90: "cb-power-entries", 91: "cb-bilinear-power",
    92: "cb-quadratic-power", 93: "cb-bilinear-functions", 94: "cb-rayleigh-quotient",
    95: "cb-rayleigh-quotient", 97: "cb-quadratic-affine", 98: "cb-quadratic-hessian", 99: "cb-trace",
    100: "cb-trace-xa", 101: "trace-axb", 102: "cb-trace-axtb", 103: "trace-xta", 104: "cb-trace-axt",
    105: "cb-trace-kron", 106: "trace-square", 107: "cb-trace-x2b", 108: "trace-xtax", 109: "cb-trace-bxxt",
    110: "cb-trace-xxtb", 111: "trace-xaxt", 112: "cb-trace-bxtx", 113: "cb-trace-xtxb",
    114: "cb-trace-axbx", 115: "frobenius", 116: "cb-trace-btxtcxb", 117: "cb-trace-xtbxc",
    118: "cb-trace-axbxtc", 119: "cb-frobenius-axb-plus-c", 120: "cb-trace-kron-self",
    121: "cb-trace-power", 122: "cb-trace-a-power", 123: "cb-trace-quartic", 124: "cb-trace-ainvb-general",
    125: "cb-trace-inverse-gram-a", 126: "cb-trace-inverse-gram-ratio",
    127: "cb-trace-inverse-shifted-gram-ratio", 128: "cb-trace-sin", 129: "cb-norm-shifted",
    130: "cb-normalise-shifted", 131: "norm-squared", 132: "frobenius", 133: "cb-symmetric-rule",
    136: "cb-chain-rule", 137: "cb-chain-rule", 138: "cb-symmetric-rule", 139: "cb-symmetric-trace",
    140: "cb-symmetric-det", 141: "cb-symmetric-logdet", 142: "cb-diagonal-trace",
    143: "cb-toeplitz-trace", 144: "cb-toeplitz-symmetric-trace",
}

# derivative identities the reference does not check, with the reason (Markdown)
COOKBOOK_UNCOVERED: dict[int, str] = {  # Markdown
    45: r"complex: $\partial X^H = (\partial X)^H$, the conjugate transpose; this course is real",
    89: r"complex: $\partial (a - x^H b)^2/\partial x$ in the convention of the Cookbook for "
        r"complex variables; this course is real",
}


def cookbook_coverage() -> tuple[list[int], list[int], int]:
    """(covered numbers, uncovered numbers, M): M counts the derivative identities of section 2."""
    covered = sorted(COOKBOOK_COVERED)
    uncovered = sorted(COOKBOOK_UNCOVERED)
    return covered, uncovered, len(covered) + len(uncovered)


# equations printed wrong: equation → the entry whose ``wrong`` is the form as printed (the check refuses it)
COOKBOOK_AS_PRINTED: dict[int, str] = {
    92: "cb-quadratic-power",  # the first term transposed
    95: "cb-rayleigh-quotient",  # xᵀBBx for xᵀBᵀBx in the first denominator
    127: "cb-trace-inverse-shifted-gram-ratio",  # right only if A is symmetric too, which it does not assume
}

# equations right only under a condition the Cookbook does not state next to them
COOKBOOK_UNSTATED_CONDITIONS: dict[int, str] = {
    55: r"$X$ of full column rank, so that $X^T X$ is invertible and $X^+ = (X^T X)^{-1} X^T$",
    56: r"$X^+$ taken as the variable: $Y = X^+$ of full row rank, and $X = Y^+$",
    58: r"$X$ invertible (the formula has $X^{-T}$)",
    132: r"$X$ real (the $X^H$ of the Cookbook is $X^T$ here)",
    138: r"a derivative by the $n(n+1)/2$ free entries of the symmetric matrix, not a gradient "
         r"among symmetric matrices: that one is $\tfrac12(G + G^T)$",
    139: r"as (138): by the free entries",
    140: r"as (138): by the free entries",
    141: r"as (138): by the free entries",
}
