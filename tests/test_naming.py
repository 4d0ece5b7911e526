"""Names and expressions of graph nodes: what the stepper and the pictures show must be true."""

import math

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

import tinygrad_lr as tg
from tinygrad_lr import Tensor, Value, nn
from tinygrad_lr.teach.naming import Names

UNARY = {
    "exp": lambda a: tg.exp(a),
    "log": lambda a: tg.log(a),
    "sigmoid": lambda a: a.sigmoid(),
    "tanh": lambda a: a.tanh(),
    "relu": lambda a: a.relu(),
    "softplus": lambda a: tg.softplus(a),
    "neg": lambda a: -a,
    "square": lambda a: a**2,
    "cube": lambda a: a**3,
    "scaled": lambda a: 0.1 * a,
    "shifted": lambda a: a - 2.5,
    "clamped": lambda a: tg.maximum(a, 0.5),
}
BINARY = {
    "+": lambda a, b: a + b,
    "-": lambda a, b: a - b,
    "*": lambda a, b: a * b,
    "/": lambda a, b: a / b,
    "max": lambda a, b: tg.maximum(a, b),
    "pow": lambda a, b: (1 + a * a) ** tg.tanh(b),
}
# labels a user might give, several of them names the stepper would generate itself
LABELS = ["a", "b", "x", "w", "z", "z2", "p", "L", "wx", "log_p", "h", "total", "m"]


@st.composite
def graphs(draw):
    """A random scalar graph: labelled and unlabelled leaves, unary and binary ops on earlier
    nodes (so nodes are shared), some interior nodes labelled too."""
    pool = draw(st.permutations(LABELS))
    labels = iter(pool)
    nodes = []
    for _ in range(draw(st.integers(1, 3))):
        label = next(labels) if draw(st.booleans()) else ""
        nodes.append(Value(draw(st.floats(-2, 2)), label=label))
    return grow(draw, nodes, labels, UNARY, BINARY, draw(st.integers(1, 10)))[-1]


def grow(draw, nodes, labels, unary, binary, count):
    """``nodes`` with ``count`` ops appended, each on earlier nodes (so nodes are shared), one
    in five labelled with the next of ``labels``."""
    for _ in range(count):
        pick = st.integers(0, len(nodes) - 1)
        if draw(st.booleans()):
            node = unary[draw(st.sampled_from(sorted(unary)))](nodes[draw(pick)])
        else:
            node = binary[draw(st.sampled_from(sorted(binary)))](nodes[draw(pick)], nodes[draw(pick)])
        if draw(st.integers(0, 4)) == 0:
            node.label = next(labels, "")
        nodes.append(node)
    return nodes


def same(a, b):
    return a == b or (math.isnan(a) and math.isnan(b))


@given(graphs())
def test_every_step_expression_evaluates_to_the_nodes_value(root):
    labels = {node.label for node in tg.engine.walk(root) if node.label}
    steps = list(tg.Backprop(root)) if root.requires_grad else []
    for step in steps:
        node = step.node
        if node.label:
            assert step.name == node.label
        else:
            assert step.name not in labels, f"a generated name {step.name!r} equals a user's label"
        if step.expression:
            value = tg.expr(step.expression, **{name: n.data for name, n in step.operands.items()})
            assert same(value.data, node.data), (step.expression, value.data, node.data)


@given(graphs())
def test_names_are_unique_and_never_a_users_label(root):
    names = Names(root)
    nodes = tg.engine.walk(root)
    labels = [node.label for node in nodes if node.label]
    generated = [names[node] for node in nodes if not node.label and not node.is_leaf]
    assert len(set(generated)) == len(generated) and not set(generated) & set(labels)


def test_parentheses_are_exactly_the_ones_the_structure_needs():
    a, b, c = (Value(v, label=n) for v, n in ((1.0, "a"), (2.0, "b"), (3.0, "c")))
    cases = [
        (lambda: (a + b) * c, "(a + b)*c"),  # a short sum is named by itself, written out
        (lambda: a * (b + c), "a*(b + c)"),
        (lambda: a - (b - c), "a - (b - c)"),
        (lambda: a - b - c, "a - b - c"),
        (lambda: a / (b * c), "a/(b*c)"),
        (lambda: a * (b * c), "a*(b*c)"),  # floating-point products do not regroup
        (lambda: -(a**2), "-a**2"),
    ]
    for make, expected in cases:
        out = make()
        assert Names(out).expression(out) == expected
    L = Value(1.0, label="L")  # a node the user named L: the output is not called L too
    out = L * a
    assert Names(out)[out] == "L2" and Names(out).d(a) == "d(L2)/da"


def test_expressions_write_constants_and_clamps_as_what_they_are():
    p = Value(0.3, label="p")
    out = tg.log(tg.maximum(p, 1e-44))
    names = Names(out)
    clamp = out.parents[0]
    assert names.expression(clamp) == "maximum(p, 1e-44)" and names[clamp] == "maximum(p, 1e−44)"
    assert tg.expr(names.expression(clamp), p=0.3).data == clamp.data
    w = Tensor(np.ones((3, 2)), requires_grad=True, label="w")
    mean = (w * 2.0).mean()
    assert Names(mean).expression(mean) == "mean(w*2.0)"  # w·2 is short: written out, over w
    assert tg.formula.evaluate("mean(w*2.0)", {"w": w.data}) == mean.data
    partial = w.sum(axis=0)
    assert Names(partial).expression(partial) == "sum(w, (0,))"
    transposed = w.T
    assert Names(transposed).expression(transposed) == "w.T"


def test_targets_and_the_clamped_complement_are_named_for_what_they_are():
    p = Tensor([[0.2, 0.7], [0.9, 0.4]], requires_grad=True, label="p")
    targets = np.array([[1.0, 0.0], [0.0, 1.0]])
    for targets_given, y in ((targets, "y"), (Tensor(targets), "c")):  # an unlabelled Tensor is a constant c
        names = Names(nn.functional.binary_cross_entropy(p, targets_given))
        by_name = {names[node]: node for node in names.nodes}
        assert np.array_equal(by_name[y].data, targets)
        assert np.array_equal(by_name[f"1 − {y}"].data, 1 - targets)
        assert np.array_equal(by_name["q"].data, 1 - p.data) and names.shown(by_name["q"]) == "1 − p"
        clamp = by_name["q_c"]
        assert clamp.parents[0] is by_name["q"] and np.array_equal(clamp.data, 1 - p.data)
        assert names.expression(by_name["log(q_c)"]) == "log(q_c)"


def test_tensor_expressions_evaluate_to_the_nodes_value():
    X = Tensor([[1.0, 2.0], [3.0, 4.0]], label="X")
    model = nn.LogisticRegression(2)
    loss = nn.functional.binary_cross_entropy(model(X), np.array([1.0, 0.0]))
    names = Names(loss)
    assert {model.linear.weight.label, model.linear.bias.label} == {"linear.weight", "linear.bias"}
    for node in tg.engine.walk(loss):
        if node._ctx is None:
            continue
        values = {name: n.data for name, n in names.operands(node).items()}
        got = tg.formula.evaluate(names.expression(node), values)  # the text, as a learner has it
        assert np.array_equal(got, node.data), names.expression(node)


def test_a_negative_right_operand_is_written_in_parentheses():
    x = Value(1.5, label="x")
    for out, shown, code in (
        (x * -0.5, "x·(−0.5)", "x*(-0.5)"),
        (x - (-0.5), "x − (−0.5)", "x - (-0.5)"),
        (-0.5 - x, "−0.5 − x", "-0.5 - x"),
    ):
        names = Names(out)
        assert names.shown(out) == shown and names.expression(out) == code
        assert tg.expr(code, x=1.5).data == out.data


def _evaluates(step) -> bool:
    values = {name: node.data for name, node in step.operands.items()}
    got = tg.formula.evaluate(step.expression, values)
    got = getattr(got, "data", got)
    return np.shape(got) == np.shape(step.node.data) and np.allclose(got, step.node.data)


@pytest.mark.parametrize("make", [tg.lesson.network, tg.lesson.neuron])
def test_expressions_evaluate_whatever_the_labels(make):
    # the lesson's labels ("y·log p", "log(1−p)", "ℓ") are no identifiers: the expression
    # names them by identifiers made from them, the lines keep the labels
    steps = [step for step in tg.Backprop(make()) if step.expression]
    assert steps and all(_evaluates(step) for step in steps), [s.expression for s in steps]
    assert all(name.isidentifier() and name.isascii() for s in steps for name in s.operands)


def test_expressions_of_array_ops_evaluate():
    A = tg.Tensor(np.arange(24.0).reshape(2, 3, 4), requires_grad=True, label="A")
    M = tg.Tensor(np.arange(6.0).reshape(2, 3), requires_grad=True, label="M")
    outs = [
        A.sum(1), A.mean(dim=2), A.reshape(4, 6), A.flatten(), A.unsqueeze(0), A.transpose(),
        M.transpose(), A.amax(0), A.max(1).values, A.min(2).values, A[0], A[:, 1:], A[:, :, ::2],
        A.softmax(1), tg.cat([A, A], 0), A.clamp(0, 5), A.sqrt(), abs(A),
    ]  # fmt: skip
    for out in outs:
        (step,) = [s for s in tg.Backprop(out.sum()) if s.node is out]
        assert _evaluates(step), step.expression


def test_stepping_through_a_sum_of_a_sum():
    A = tg.Tensor(np.arange(6.0).reshape(2, 3), requires_grad=True, label="A")
    steps = list(tg.Backprop(A.sum().sum() * 2))
    np.testing.assert_array_equal(steps[-1].grad, np.full((2, 3), 2.0))


def test_an_unnamed_leaf_that_requires_grad_is_not_named_by_its_value():
    a, b = tg.Value(3.0, requires_grad=True), tg.Value(3.0, requires_grad=True)
    names = Names(a * b)
    assert names[a] != names[b] and "3" not in names[a] + names[b]


def test_two_nodes_with_one_label_get_two_names_and_a_true_expression():
    first, second = Value(2.0, label="a"), Value(3.0, label="a")
    out = first * second
    names = Names(out)
    assert names[first] != names[second]
    value = tg.expr(names.expression(out), **{n: v.data for n, v in names.operands(out).items()})
    assert value.data == 2.0 * 3.0
    steps = list(tg.Backprop(out))
    targets = [names.d(sent.parent) for sent in steps[0].sent]
    assert len(set(targets)) == 2, targets  # two different gradients, two different names


def test_unlabelled_trainable_numbers_are_variables_not_constants():
    u, v = Value(3.0), Value(3.0)  # both require grad: each gets its own gradient
    out = u * v
    names = Names(out)
    assert names[u] != names[v] and "3" not in names[u]
    assert set(names.operands(out).values()) == {u, v}


def test_a_constant_is_not_named_like_a_users_label():
    k = Value(2.0, label="2.0")
    out = k * Value(1.5, label="x") * 2.0
    names = Names(out)
    constant = next(n for n in tg.engine.walk(out) if n is not k and n.label == "" and n.is_leaf)
    assert names[constant] != "2.0"


def test_tensor_expression_texts_evaluate_to_the_nodes_value_and_shape():
    W = Tensor([[0.5, -0.3], [0.2, 0.1]], requires_grad=True, label="W")
    b = Tensor([0.1, -0.2], requires_grad=True, label="b")
    X = Tensor([[1.0, 2.0], [3.0, 4.0]], label="X")
    targets = np.array([[1.0, 0.0], [0.0, 1.0]])
    outputs = [
        W.sum(axis=0, keepdims=True),
        W.sum(keepdims=True),
        W.mean(axis=1, keepdims=True),
        W.max(),
        W.max(axis=1).values,
        W.amax(axis=(0, 1)),
        W.reshape(4),
        W.unsqueeze(0),
        W.transpose(1, 0),
        tg.where(X.data > 2, W, b),
        tg.cat([W, b.reshape(1, 2)], 0),
        W[0],
        W[:, 1:],
        nn.functional.binary_cross_entropy_with_logits(X @ W + b, targets),
    ]
    for out in outputs:
        names = Names(out)
        text = names.expression(out)
        values = {name: n.data for name, n in names.operands(out).items()}
        got = tg.formula.evaluate(text, values)
        got = np.asarray(got.data if isinstance(got, tg.engine.Node) else got)
        assert got.shape == out.data.shape and np.array_equal(got, out.data), text


def test_a_label_that_names_a_function_is_a_variable_in_the_expression():
    x = Value(2.0, requires_grad=True, label="log")
    y = Value(3.0, requires_grad=True, label="exp ")
    step = next(iter(tg.Backprop(x * y)))
    values = {name: node.data for name, node in step.operands.items()}
    assert tg.expr(step.expression, **values).data == 6.0
