"""The reverse-mode engine: every operation's VJP, gradients that add, order, and refusals."""

import autograd.numpy as anp
import numpy as np
import pytest
from autograd import grad

from mathchain import numeric_gradient
from mathchain.graph import (
    Node,
    add,
    cross_entropy,
    divide,
    linear,
    matmul,
    multiply,
    negative,
    squared_error,
    subtract,
    tanh,
    topological_order,
    total,
    transpose,
    variable,
)
from tolerances import EXACT_ATOL, EXACT_RTOL, FD_ATOL, FD_RTOL, MATRIX_SHAPES


def _gradients(build, *values):
    """∂z/∂(each input) from the engine, for z = build(*input nodes)."""
    nodes = [variable(v, name=f"x{i}") for i, v in enumerate(values)]
    grads = build(*nodes).backward()
    assert all(grads[n] is n.grad for n in nodes)  # the mapping backward() returns, and .grad
    return [n.grad for n in nodes]


def _check_against_oracles(build, np_fn, values):
    """The engine's gradients against central differences and autograd of the same function."""
    ours = _gradients(build, *values)
    for i, (g, v) in enumerate(zip(ours, values, strict=True)):
        assert g.shape == np.shape(v), (i, g.shape, np.shape(v))

        def z_of(x, i=i):
            return np_fn(*[x if j == i else values[j] for j in range(len(values))])

        np.testing.assert_allclose(g, numeric_gradient(z_of, values[i]), rtol=FD_RTOL, atol=FD_ATOL)
        np.testing.assert_allclose(g, grad(z_of)(np.asarray(values[i], float)),
                                   rtol=EXACT_RTOL, atol=EXACT_ATOL)


# --- each operation, weighted by a random C so that ∂z/∂(output) = C is not all ones ---------------

@pytest.mark.parametrize("shape_x, shape_y", [((3, 4), (3, 4)), ((3, 4), (4,)), ((3, 4), (3, 1)),
                                              ((3, 4), (1, 1)), ((1, 1), (2, 5)), ((5,), ())])
def test_add_and_multiply_sum_over_broadcast_axes(rng, shape_x, shape_y):
    X, Y = rng.normal(size=shape_x), rng.normal(size=shape_y)
    C = rng.normal(size=np.broadcast_shapes(shape_x, shape_y))
    _check_against_oracles(lambda x, y: total(multiply(add(x, y), variable(C))),
                           lambda x, y: anp.sum((x + y) * C), [X, Y])
    _check_against_oracles(lambda x, y: total(multiply(x * y, variable(C))),
                           lambda x, y: anp.sum(x * y * C), [X, Y])


@pytest.mark.parametrize("shape_x, shape_y", [((3, 4), (3, 4)), ((3, 4), (4,)), ((3, 4), (3, 1)),
                                              ((3, 4), (1, 1)), ((1, 1), (2, 5)), ((5,), ())])
def test_subtract_divide_and_negative_sum_over_broadcast_axes(rng, shape_x, shape_y):
    X, Y = rng.normal(size=shape_x), rng.normal(size=shape_y)
    Y_away = np.sign(Y) * (1 + np.abs(Y))  # |y| >= 1: x / y and its derivatives stay moderate
    C = rng.normal(size=np.broadcast_shapes(shape_x, shape_y))
    _check_against_oracles(lambda x, y: total(multiply(subtract(x, y), variable(C))),
                           lambda x, y: anp.sum((x - y) * C), [X, Y])
    _check_against_oracles(lambda x, y: total((x - y) * variable(C)),
                           lambda x, y: anp.sum((x - y) * C), [X, Y])
    _check_against_oracles(lambda x, y: total(multiply(divide(x, y), variable(C))),
                           lambda x, y: anp.sum(x / y * C), [X, Y_away])
    _check_against_oracles(lambda x, y: total(x / y * variable(C)),
                           lambda x, y: anp.sum(x / y * C), [X, Y_away])
    _check_against_oracles(lambda x, y: total(negative(x * y) * variable(C)),
                           lambda x, y: anp.sum(-(x * y) * C), [X, Y])


def test_division_by_zero_names_the_entry_and_the_shapes():
    named = r"y has shape \(2, 2\) and y\[1, 0\] = 0.*x has shape \(3, 2, 2\)"
    with pytest.raises(ValueError, match=named):
        divide(variable(np.ones((3, 2, 2))), variable([[1.0, 2.0], [0.0, 3.0]]))
    with pytest.raises(ValueError, match=r"y has shape \(\) and y\[\] = 0"):
        variable(np.ones(2)) / 0


@pytest.mark.parametrize("m, n", MATRIX_SHAPES)
@pytest.mark.parametrize("n1", [1, 3])
def test_matmul_linear_transpose_tanh(rng, m, n, n1):
    A, W, b = rng.normal(size=(m, n)), rng.normal(size=(n, n1)), rng.normal(size=n1)
    C = rng.normal(size=(m, n1))
    _check_against_oracles(lambda a, w: total(tanh(a @ w) * variable(C)),
                           lambda a, w: anp.sum(anp.tanh(anp.dot(a, w)) * C), [A, W])
    _check_against_oracles(lambda a, w, b: total(linear(a, w, b) * variable(C)),
                           lambda a, w, b: anp.sum((anp.dot(a, w) + b) * C), [A, W, b])
    Ct = rng.normal(size=(n, m))
    _check_against_oracles(lambda a: total(transpose(a) * variable(Ct)),
                           lambda a: anp.sum(a.T * Ct), [A])
    _check_against_oracles(lambda a: total(a.T * variable(Ct)), lambda a: anp.sum(a.T * Ct), [A])


def test_losses(rng):
    U, labels, T = rng.normal(size=(6, 4)), rng.integers(0, 4, size=6), rng.normal(size=(6, 4))

    def ce(u):
        e = anp.exp(u)
        return -anp.mean(anp.log((e / anp.sum(e, axis=1, keepdims=True))[np.arange(6), labels]))

    _check_against_oracles(lambda u: cross_entropy(u, labels), ce, [U])
    _check_against_oracles(lambda u: squared_error(u, T), lambda u: 0.5 * anp.sum((u - T) ** 2) / 6,
                           [U])


def test_reductions_not_last_scale_by_the_incoming_gradient(rng):
    # z = 3 s (s a reduction or a loss): ∂z/∂X = 3 ∂s/∂X, not ∂s/∂X; checked against autograd.
    U, labels, T = rng.normal(size=(6, 4)), rng.integers(0, 4, size=6), rng.normal(size=(6, 4))
    three = variable(np.array(3.0))

    def ce(u):
        e = anp.exp(u)
        return -anp.mean(anp.log((e / anp.sum(e, axis=1, keepdims=True))[np.arange(6), labels]))

    _check_against_oracles(lambda u: three * total(u), lambda u: 3 * anp.sum(u), [U])
    _check_against_oracles(lambda u: three * cross_entropy(u, labels), lambda u: 3 * ce(u), [U])
    _check_against_oracles(lambda u: three * squared_error(u, T),
                           lambda u: 1.5 * anp.sum((u - T) ** 2) / 6, [U])


def test_adjoint_identity_through_a_vector_valued_graph(rng):
    # y = tanh(X W) + X (a residual block): with z = Σ U ⊙ y, x.grad = Jᵀu; compare ⟨u, J v⟩ by a
    # central difference along v with ⟨Jᵀu, v⟩.
    X, W = rng.normal(size=(4, 3)), rng.normal(size=(3, 3))
    U, V = rng.normal(size=(4, 3)), rng.normal(size=(4, 3))

    def f(x):
        return np.tanh(x @ W) + x

    x = variable(X)
    total(multiply(add(tanh(x @ variable(W)), x), variable(U))).backward()
    eps = 1e-6
    u_Jv = np.sum(U * (f(X + eps * V) - f(X - eps * V)) / (2 * eps))
    assert np.sum(x.grad * V) == pytest.approx(u_Jv, rel=1e-8)


# --- gradients add where a value is used more than once --------------------------------------------

def test_a_value_used_twice_collects_both_gradients(rng):
    X = rng.normal(size=(3, 2))
    x = variable(X)
    total(x * x).backward()  # z = Σ x², ∂z/∂x = 2x (by hand)
    np.testing.assert_allclose(x.grad, 2 * X, rtol=1e-15)


def test_tied_weights(rng):
    # X̂ = tanh(X W) Wᵀ, z = ‖X̂ − X‖²/(2m): W is used twice, once transposed.
    X, W = rng.normal(size=(5, 4)), rng.normal(size=(4, 2))
    _check_against_oracles(lambda x, w: squared_error(tanh(x @ w) @ w.T, X),
                           lambda x, w: 0.5 * anp.sum((anp.tanh(x @ w) @ w.T - X) ** 2) / 5, [X, W])


def test_diamond_and_residual(rng):
    x0, A, B = rng.normal(size=(1, 3)), rng.normal(size=(3, 4)), rng.normal(size=(3, 4))
    # diamond: x → a = xA, b = tanh(xB) → z = Σ a ⊙ b
    _check_against_oracles(lambda x: total((x @ variable(A)) * tanh(x @ variable(B))),
                           lambda x: anp.sum(anp.dot(x, A) * anp.tanh(anp.dot(x, B))), [x0])
    # residual: y = x + tanh(xW), z = Σ y²/2 ... through the identity path ∂z/∂y itself arrives
    W = rng.normal(size=(3, 3))
    _check_against_oracles(lambda x: squared_error(x + tanh(x @ variable(W)), np.zeros((1, 3))),
                           lambda x: 0.5 * anp.sum((x + anp.tanh(anp.dot(x, W))) ** 2), [x0])


def test_backward_twice_gives_the_same_gradients_not_double(rng):
    X = rng.normal(size=(2, 3))
    x = variable(X)
    z = total(x * x)
    z.backward()
    first = x.grad.copy()
    z.backward()
    np.testing.assert_array_equal(x.grad, first)


def test_nodes_off_the_path_get_no_gradient(rng):
    x, y = variable(rng.normal(size=3)), variable(rng.normal(size=3))
    unused = x * y
    grads = total(x * x).backward()
    assert y not in grads and unused not in grads and x.grad.shape == (3,)
    for node in (y, unused):
        with pytest.raises(ValueError, match="is not in the graph of the latest backward"):
            node.grad  # noqa: B018  (the read must raise)


def test_a_parameter_that_drops_out_of_the_graph_gets_no_stale_gradient(rng):
    # A training loop whose step 2 no longer uses q: z1 = Σ p ⊙ q, then z2 = Σ p ⊙ p. ∂z2/∂q = 0, so
    # step 1's ∂z1/∂q = p must not be what q.grad gives after step 2 (an update would apply it).
    P, Q = rng.normal(size=3), rng.normal(size=3)
    p, q = variable(P, "p"), variable(Q, "q")
    total(p * q).backward()                   # step 1
    np.testing.assert_array_equal(q.grad, P)  # ∂z1/∂q = p, by hand
    total(p * p).backward()                   # step 2: q is not in the graph
    with pytest.raises(ValueError, match=r"Node\(q, shape \(3,\)\) is not in the graph of the latest "
                                         r"backward\(\)"):
        q.grad  # noqa: B018  (the read must raise)
    np.testing.assert_allclose(p.grad, 2 * P, rtol=EXACT_RTOL)  # ∂z2/∂p = 2p, replaced, not Q + 2P


def test_backward_returns_the_gradients_of_its_own_graph(rng):
    # The mapping {node: ∂z/∂node} keeps each graph's gradients; .grad reads the latest backward().
    P, Q = rng.normal(size=3), rng.normal(size=3)
    p, q = variable(P, "p"), variable(Q, "q")
    z1 = total(p * q)
    grads1 = z1.backward()
    grads2 = total(p * p).backward()
    np.testing.assert_array_equal(grads1[q], P)  # by hand: ∂z1/∂q = p, ∂z1/∂p = q
    np.testing.assert_array_equal(grads1[p], Q)
    np.testing.assert_allclose(grads2[p], 2 * P, rtol=EXACT_RTOL)
    assert q not in grads2 and grads2[p] is p.grad
    assert grads1[z1] == 1.0  # ∂z/∂z


def test_topological_order_puts_parents_first_and_the_output_last(rng):
    x = variable(rng.normal(size=(2, 2)), "x")
    h = tanh(x)
    y = h @ h.T
    z = total(y * x)
    order = topological_order(z)
    assert order[-1] is z and len(order) == len({id(v) for v in order})
    position = {id(v): i for i, v in enumerate(order)}
    for node in order:
        assert all(position[id(p)] < position[id(node)] for p in node.parents)
    assert {id(v) for v in (x, h, y, z)} <= set(position)


def test_deep_chain_has_no_recursion_limit():
    # 3000 tanh nodes: the gradient is the product of the local derivatives (by hand).
    x = variable(np.array([[0.3]]))
    h, derivative = x, 1.0
    for _ in range(3000):
        h = tanh(h)
        derivative *= 1 - h.value.item() ** 2
    total(h).backward()
    assert x.grad.item() == pytest.approx(derivative, rel=1e-12)


# --- leaves own their values; numbers and arrays on either side of an operator --------------------

def test_mutating_the_callers_array_after_the_forward_pass_changes_nothing(rng):
    # The caller changes X and W in place between forward and backward: the gradients are still
    # those at the forward's values (oracle: central differences at the original arrays).
    X, W, C = rng.normal(size=(4, 3)), rng.normal(size=(3, 2)), rng.normal(size=(4, 2))
    X0, W0 = X.copy(), W.copy()
    x, w = variable(X), variable(W)
    z = total(tanh(x @ w) * variable(C))
    X += 1.0
    W *= -2.0
    z.backward()
    np.testing.assert_allclose(x.grad, numeric_gradient(lambda X_: np.sum(np.tanh(X_ @ W0) * C), X0),
                               rtol=FD_RTOL, atol=FD_ATOL)
    np.testing.assert_allclose(w.grad, numeric_gradient(lambda W_: np.sum(np.tanh(X0 @ W_) * C), W0),
                               rtol=FD_RTOL, atol=FD_ATOL)
    with pytest.raises(ValueError, match="read-only"):  # nor through the node
        x.value += 1.0


X_SHAPE = (3, 4)
_C, _A, _B = (np.random.default_rng(7).normal(size=s) for s in [X_SHAPE, (2, 3), (4, 2)])
OPERAND_CASES = {  # the engine's expression, the same with autograd's operations
    "2 * x": (lambda x: 2 * x, lambda x: 2 * x),
    "x * 2": (lambda x: x * 2, lambda x: x * 2),
    "np.float64(2) * x": (lambda x: np.float64(2.0) * x, lambda x: 2 * x),
    "C * x": (lambda x: _C * x, lambda x: anp.multiply(_C, x)),
    "x * C": (lambda x: x * _C, lambda x: anp.multiply(x, _C)),
    "1.5 + x": (lambda x: 1.5 + x, lambda x: 1.5 + x),
    "x + 1.5": (lambda x: x + 1.5, lambda x: x + 1.5),
    "C + x": (lambda x: _C + x, lambda x: anp.add(_C, x)),
    "A @ x": (lambda x: _A @ x, lambda x: anp.dot(_A, x)),
    "x @ B": (lambda x: x @ _B, lambda x: anp.dot(x, _B)),
    "-x": (lambda x: -x, lambda x: -x),
    "x - 1": (lambda x: x - 1, lambda x: x - 1),
    "1 - x": (lambda x: 1 - x, lambda x: 1 - x),
    "np.float64(1) - x": (lambda x: np.float64(1.0) - x, lambda x: 1 - x),
    "C - x": (lambda x: _C - x, lambda x: anp.subtract(_C, x)),
    "x - C": (lambda x: x - _C, lambda x: anp.subtract(x, _C)),
    "x - x.T.T": (lambda x: x - 2 * x.T.T, lambda x: x - 2 * x),
    "x / 2": (lambda x: x / 2, lambda x: x / 2),
    "x / C": (lambda x: x / _C, lambda x: anp.divide(x, _C)),
    "2 / (x * x + 1)": (lambda x: 2 / (x * x + 1), lambda x: 2 / (x * x + 1)),
    "C / (x * x + 1)": (lambda x: _C / (x * x + 1), lambda x: anp.divide(_C, x * x + 1)),
}


@pytest.mark.parametrize("case", OPERAND_CASES)
def test_numbers_and_arrays_on_either_side_of_an_operator(rng, case):
    engine, oracle = OPERAND_CASES[case]
    X = rng.normal(size=X_SHAPE)
    assert isinstance(engine(variable(X)), Node)
    C = rng.normal(size=np.shape(oracle(X)))
    _check_against_oracles(lambda x: total(engine(x) * variable(C)),
                           lambda x: anp.sum(oracle(x) * C), [X])


def test_an_operand_that_is_no_number_is_named():
    with pytest.raises(ValueError, match="constant must be a real numeric array; got str"):
        variable(np.ones(2)) * "2"


# --- refusals name the shapes ---------------------------------------------------------------------

def test_backward_needs_a_scalar(rng):
    with pytest.raises(ValueError, match=r"scalar z.*shape \(2, 3\)"):
        (variable(rng.normal(size=(2, 3))) * variable(1.0)).backward()


def test_shapes_that_do_not_broadcast_are_named(rng):
    with pytest.raises(ValueError, match=r"x has shape \(2, 3\) and y has shape \(2,\)"):
        add(variable(np.ones((2, 3))), variable(np.ones(2)))
    with pytest.raises(ValueError, match=r"x has shape \(3,\) and y has shape \(4,\)"):
        multiply(variable(np.ones(3)), variable(np.ones(4)))


def test_matmul_mismatch_names_the_shapes():
    with pytest.raises(ValueError, match=r"A has shape \(2, 3\) and W has shape \(4, 5\)"):
        matmul(variable(np.ones((2, 3))), variable(np.ones((4, 5))))


def test_operands_must_be_nodes_and_leaves_finite():
    with pytest.raises(ValueError, match="y must be a Node"):
        add(variable(np.ones(2)), np.ones(2))
    with pytest.raises(ValueError, match=r"W must be finite; W\[1\] = nan"):
        variable([1.0, np.nan], name="W")
    assert isinstance(variable(1.0), Node)
