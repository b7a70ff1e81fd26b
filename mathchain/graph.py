"""A small reverse-mode engine over NumPy arrays (chapter 10): a graph of operations, each with its VJP.

Every operation records its inputs and a vector–Jacobian product (VJP): given ∂z/∂(its output), the
VJP returns ∂z/∂(each input). ``backward()`` on a scalar z visits the graph from z in reverse
topological order, so each node's gradient is complete before it is passed on, and where a node
feeds several operations the gradients it receives **add** (the multivariable chain rule:
∂z/∂v = Σ over the uses c of v of VJP_c(∂z/∂c)). Gradients are in denominator layout: ``v.grad``
has the shape of ``v.value``. ``backward()`` returns the gradients of its graph, {v: ∂z/∂v}, and
``v.grad`` reads those of the latest call: a node that graph does not reach has none (reading it
raises), so a gradient of an earlier graph is never taken for the current one. The VJPs are the
package's own rules (linear layer, elementwise rule, losses), so the engine adds bookkeeping only.
"""

from __future__ import annotations

import numpy as np

from . import _checks
from .matrix import linear_backward, linear_forward
from .network import (
    elementwise_backward,
    mean_squared_error,
    mean_squared_error_gradient,
    softmax_cross_entropy,
    softmax_cross_entropy_gradient,
)


class Node:
    """A value in the graph: ``value`` (an array), ``grad`` (∂z/∂value after ``z.backward()``)."""

    __array_ufunc__ = None  # 2 * x, A @ x: NumPy leaves them to Node's reflected operators
    _latest: dict = {}  # {v: ∂z/∂v} of the latest backward(), whatever its z: what .grad reads

    def __init__(self, value, parents=(), vjp=None, name=""):
        self.value = value
        self.parents = tuple(parents)
        self.vjp = vjp  # ∂z/∂(this node) -> tuple of ∂z/∂(each parent)
        self.name = name

    def __repr__(self):
        return f"Node({self.name or 'unnamed'}, shape {np.shape(self.value)})"

    @property
    def grad(self) -> np.ndarray:
        """∂z/∂value for the z of the latest ``backward()``, shape of value; an error if z does not
        depend on this node (its ∂z/∂value is 0), never the gradient of an earlier graph."""
        if self not in Node._latest:
            raise ValueError(
                f"{self!r} is not in the graph of the latest backward(): that z does not depend on "
                "it; for the gradients of an earlier z, keep the mapping its backward() returned"
            )
        return Node._latest[self]

    # operators (+, -, *, /, @ and unary -): a number or an array on either side becomes a constant leaf
    def __add__(self, other):
        return add(self, _operand(other))

    def __radd__(self, other):
        return add(_operand(other), self)

    def __matmul__(self, other):
        return matmul(self, _operand(other))

    def __rmatmul__(self, other):
        return matmul(_operand(other), self)

    def __mul__(self, other):
        return multiply(self, _operand(other))

    def __rmul__(self, other):
        return multiply(_operand(other), self)

    def __neg__(self):
        return negative(self)

    def __sub__(self, other):
        return subtract(self, _operand(other))

    def __rsub__(self, other):
        return subtract(_operand(other), self)

    def __truediv__(self, other):
        return divide(self, _operand(other))

    def __rtruediv__(self, other):
        return divide(_operand(other), self)

    @property
    def T(self):  # noqa: N802  (NumPy's name)
        return transpose(self)

    def backward(self) -> dict[Node, np.ndarray]:
        """{v: ∂z/∂v} for every node v that z = self depends on, accumulated over all paths.

        z must be a scalar. Each call computes the gradients afresh (unlike PyTorch, it never adds
        to an earlier call's) and makes them what ``.grad`` reads: on a node z does not depend on,
        ``.grad`` then raises instead of giving an earlier graph's gradient.
        """
        if np.size(self.value) != 1:
            raise ValueError(
                f"backward() needs a scalar z; {self!r} has shape {np.shape(self.value)}: "
                "reduce it first (e.g. with total or a loss)"
            )
        grads = {self: np.ones_like(self.value)}  # ∂z/∂z = 1
        for node in reversed(topological_order(self)):  # outputs first: grads[node] is complete
            if node.vjp is None or node not in grads:
                continue
            for parent, g in zip(node.parents, node.vjp(grads[node]), strict=True):
                # several uses of one value: their contributions add
                grads[parent] = grads[parent] + g if parent in grads else g
        Node._latest = grads
        return grads


def topological_order(output: Node) -> list[Node]:
    """Every node ``output`` depends on, itself last, each after all of its parents.

    An iterative depth-first search, so a chain of thousands of nodes does not hit Python's
    recursion limit. ``backward()`` walks this list in reverse.
    """
    order, seen, stack = [], {id(output)}, [(output, iter(output.parents))]
    while stack:
        node, parents = stack[-1]
        for parent in parents:
            if id(parent) not in seen:
                seen.add(id(parent))
                stack.append((parent, iter(parent.parents)))
                break
        else:  # all parents placed: the node can follow them
            stack.pop()
            order.append(node)
    return order


def variable(value, name: str = "") -> Node:
    """A leaf: an input or a parameter whose gradient ``backward()`` computes.

    It holds a read-only copy of ``value``: changing the caller's array after the forward pass
    cannot change the values the backward pass uses.
    """
    value = np.array(_checks.array(name or "value", value))  # a copy, never the caller's array
    value.flags.writeable = False
    return Node(value, name=name)


def _operand(x) -> Node:
    """x if it is a node, else a constant leaf holding it (so that 2 * x and A @ x are nodes)."""
    return x if isinstance(x, Node) else variable(x, "constant")


def _node(x, name: str) -> Node:
    if not isinstance(x, Node):
        raise ValueError(f"{name} must be a Node (use variable(...)); got {type(x).__name__}")
    return x


def _unbroadcast(g: np.ndarray, shape: tuple) -> np.ndarray:
    """Sum g down to ``shape``: a value broadcast to several entries collects all their gradients."""
    g = g.sum(axis=tuple(range(g.ndim - len(shape)))) if g.ndim > len(shape) else g
    axes = tuple(i for i, n in enumerate(shape) if n == 1 and g.shape[i] != 1)
    return g.sum(axis=axes, keepdims=True) if axes else g


def _pair(x, y, op):
    """(x, y, op(x.value, y.value)) for two nodes, or an error naming shapes that do not broadcast."""
    x, y = _node(x, "x"), _node(y, "y")
    try:
        return x, y, op(x.value, y.value)
    except ValueError as exc:
        raise ValueError(f"x has shape {x.value.shape} and y has shape {y.value.shape}: "
                         "they do not broadcast") from exc


def add(x: Node, y: Node) -> Node:
    """X + Y with NumPy broadcasting; ∂z/∂X is ∂z/∂(X + Y) summed over the axes X was broadcast along."""
    x, y, value = _pair(x, y, np.add)
    return Node(value, (x, y), lambda g: (_unbroadcast(g, x.value.shape),  # Σ over broadcast axes
                                          _unbroadcast(g, y.value.shape)), "add")


def negative(x: Node) -> Node:
    """−X; ∂z/∂X = −∂z/∂(−X)."""
    x = _node(x, "x")
    return Node(-x.value, (x,), lambda g: (-g,), "negative")


def subtract(x: Node, y: Node) -> Node:
    """X − Y with broadcasting; ∂z/∂X = G, ∂z/∂Y = −G for G = ∂z/∂(X − Y), summed over broadcast axes."""
    x, y, value = _pair(x, y, np.subtract)
    return Node(value, (x, y), lambda g: (_unbroadcast(g, x.value.shape),  # G
                                          _unbroadcast(-g, y.value.shape)), "subtract")  # −G


def multiply(x: Node, y: Node) -> Node:
    """X ⊙ Y entrywise, with broadcasting; ∂z/∂X = ∂z/∂(X ⊙ Y) ⊙ Y, summed over broadcast axes."""
    x, y, value = _pair(x, y, np.multiply)
    return Node(value, (x, y), lambda g: (_unbroadcast(g * y.value, x.value.shape),  # G ⊙ Y
                                          _unbroadcast(g * x.value, y.value.shape)), "multiply")


def divide(x: Node, y: Node) -> Node:
    """Q = X ⊘ Y entrywise, with broadcasting; ∂z/∂X = G ⊘ Y, ∂z/∂Y = −G ⊙ Q ⊘ Y, summed likewise.

    Y must have no zero entry: there Q is not defined, nor is either gradient.
    """
    x, y = _node(x, "x"), _node(y, "y")
    if not np.all(y.value):
        index = [int(i) for i in np.argwhere(y.value == 0)[0]]
        raise ValueError(f"y has shape {y.value.shape} and y{index} = 0: x / y needs every entry of "
                         f"y nonzero (x has shape {x.value.shape})")
    x, y, Q = _pair(x, y, np.divide)
    return Node(Q, (x, y), lambda g: (_unbroadcast(g / y.value, x.value.shape),  # G ⊘ Y
                                      _unbroadcast(-g * Q / y.value, y.value.shape)),  # −G ⊙ X ⊘ Y²
                "divide")


def transpose(x: Node) -> Node:
    """Xᵀ; ∂z/∂X = (∂z/∂Xᵀ)ᵀ."""
    x = _node(x, "x")
    return Node(x.value.T, (x,), lambda g: (g.T,), "transpose")


def matmul(a: Node, w: Node) -> Node:
    """Y = AW, with the linear-layer VJPs ∂z/∂A = ∂z/∂Y Wᵀ and ∂z/∂W = Aᵀ ∂z/∂Y."""
    return linear(a, w, None)


def linear(a: Node, w: Node, b: Node | None) -> Node:
    """Y = AW + 1bᵀ (chapter 03); ∂z/∂A = G Wᵀ, ∂z/∂W = Aᵀ G, ∂z/∂b = Gᵀ1 with G = ∂z/∂Y.

    A ``(m, n)``, W ``(n, n₁)``, b ``(n₁,)`` or None (no bias, as for ``A @ W``).
    """
    a, w = _node(a, "a"), _node(w, "w")
    bias = np.zeros(np.shape(w.value)[-1]) if b is None else _node(b, "b").value
    Y = linear_forward(a.value, w.value, bias)

    def vjp(g):
        dA, dW, dB = linear_backward(a.value, w.value, bias, g)  # dY Wᵀ, Aᵀ dY, Σ_rows dY
        return (dA, dW) if b is None else (dA, dW, dB)

    return Node(Y, (a, w) if b is None else (a, w, b), vjp, "linear")


def tanh(x: Node) -> Node:
    """H = tanh(X) entrywise; ∂z/∂X = ∂z/∂H ⊙ (1 − H ⊙ H)."""
    x = _node(x, "x")
    H = np.tanh(x.value)
    return Node(H, (x,), lambda g: (elementwise_backward(g, 1 - H**2),), "tanh")


def total(x: Node) -> Node:
    """s = Σ_ij X_ij; ∂z/∂X = (∂z/∂s) 11ᵀ (all ones when s is z itself)."""
    x = _node(x, "x")
    return Node(np.sum(x.value), (x,), lambda g: (np.full(x.value.shape, g),), "total")


def cross_entropy(u: Node, labels) -> Node:
    """ℓ = mean softmax cross-entropy of the rows of U (ch. 04); ∂z/∂U = (∂z/∂ℓ)(softmax(U) − T)/m."""
    u = _node(u, "u")
    loss = softmax_cross_entropy(u.value, labels)
    return Node(np.asarray(loss), (u,),
                lambda g: (g * softmax_cross_entropy_gradient(u.value, labels),), "cross_entropy")


def squared_error(u: Node, targets) -> Node:
    """ℓ = ‖U − T‖²_F / (2m) (chapter 04); ∂z/∂U = (∂z/∂ℓ)(U − T)/m."""
    u = _node(u, "u")
    loss = mean_squared_error(u.value, targets)
    return Node(np.asarray(loss), (u,),
                lambda g: (g * mean_squared_error_gradient(u.value, targets),), "squared_error")
