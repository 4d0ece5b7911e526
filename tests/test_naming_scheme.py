"""One naming scheme, and text that is true: every name a step or a picture shows, and every
expression a step gives, is derived from the graph and checked against the computation."""

import ast
import re

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st

import tinygrad_lr as tg
from tinygrad_lr import Tensor, Value
from tinygrad_lr.teach.naming import Names, spelling

from .test_naming import grow

INTERNAL = ("x", "y", "m")  # argument names of the ops' formulas, never an operand's name


def _lesson_as_the_docs_build_it():
    X = Tensor(tg.lesson.X, label="X")
    W = Tensor(tg.lesson.W, requires_grad=True, label="W")
    y = Tensor(tg.lesson.Y, label="y")
    p = (X @ W).sigmoid()
    p.label = "p"
    loss = -(y * p.log() + (1 - y) * (1 - p).log()).mean()
    loss.label = "L"
    return loss


def _functional_bce(targets="y"):
    W = Tensor(tg.lesson.W, requires_grad=True, label="W")
    p = (Tensor(tg.lesson.X, label="X") @ W).sigmoid()
    p.label = "p"
    return tg.nn.functional.binary_cross_entropy(p, Tensor(tg.lesson.Y, label=targets))


def _check_steps(root):
    """Every step's expression gives the node's value; each of its names is a spelling of a
    name shown in the step's lines or the picture; no op's argument name stands for an operand."""
    picture = tg.draw(root).source
    names = Names(root)
    shown = {names[node] for node in names.nodes}
    for step in tg.Backprop(root, store=False):
        lines = "\n".join(step.lines())
        if step.expression:
            values = {name: node.data for name, node in step.operands.items()}
            got = tg.formula.evaluate(step.expression, values)
            got = getattr(got, "data", got)
            assert np.shape(got) == np.shape(step.node.data), step.expression
            np.testing.assert_allclose(got, step.node.data, rtol=1e-12, equal_nan=True)
            used = tg.formula.names(step.expression)
            assert used == set(step.operands), (step.expression, step.operands)
            for code, node in step.operands.items():
                name = names[node]
                assert code == spelling(name), (code, name)
                assert name in lines or tg.viz._html(name) in picture, (name, lines)
        words = set(re.findall(r"(?<![\w.])[A-Za-z_]\w*(?![\w(])", lines))
        for word in words & set(INTERNAL):  # as an operand's name, or a part of one (1−y)
            assert any(re.search(rf"(?<!\w){word}(?!\w)", name) for name in shown), f"{word!r} in {lines}"


UNARY = {
    "exp": tg.exp, "log": tg.log, "sigmoid": tg.sigmoid, "tanh": tg.tanh, "relu": tg.relu,
    "neg": lambda a: -a, "square": lambda a: a**2, "scaled": lambda a: 0.1 * a,
    "clamped": lambda a: tg.maximum(a, 0.5), "one_minus": lambda a: 1 - a,
}  # fmt: skip
BINARY = {
    "+": lambda a, b: a + b, "-": lambda a, b: a - b, "*": lambda a, b: a * b,
    "/": lambda a, b: a / b, "max": tg.maximum,
}  # fmt: skip
LABELS = ["a", "b", "w", "z", "p", "ℓ", "log p", "1−y", "(1−y)⊙log q", "q"]


@st.composite
def graphs(draw):
    """A random graph of Values or of Tensors: labelled and unlabelled leaves, some constant,
    unary and binary ops on earlier nodes, some interior nodes labelled."""
    tensors = draw(st.booleans())
    labels = iter(draw(st.permutations(LABELS)))
    nodes = []
    for k in range(draw(st.integers(1, 3))):
        label = next(labels) if draw(st.booleans()) else ""
        grad = k == 0 or draw(st.booleans())
        data = draw(st.floats(0.1, 0.9))
        if tensors:
            node = Tensor(data + np.arange(4.0).reshape(2, 2) / 10, requires_grad=grad, label=label)
        else:
            node = Value(data, label=label, requires_grad=grad)
        nodes.append(node)
    grow(draw, nodes, labels, UNARY, BINARY, draw(st.integers(1, 8)))
    root = nodes[-1] if nodes[-1].requires_grad else nodes[-1] * nodes[0]
    if tensors:
        root = (
            root.mean()
            if draw(st.booleans()) or not np.isfinite(root.data).all()  # nan is no probability
            else tg.nn.functional.binary_cross_entropy(
                root.sigmoid(),  # targets as an array (named y) or as an unlabelled Tensor (c)
                Tensor(nodes[-1].data > 0.5) if draw(st.booleans()) else nodes[-1].data > 0.5,
            )
        )
    return root


@settings(max_examples=60, deadline=None)
@given(graphs())
def test_every_step_is_true_in_the_names_shown(root):
    _check_steps(root)


def test_the_lesson_both_ways_and_the_functional_loss_are_true_in_the_names_shown():
    for make in (_lesson_as_the_docs_build_it, tg.lesson.network, tg.lesson.neuron, _functional_bce):
        _check_steps(make())
    _check_steps(_functional_bce("t"))  # no label y: a y in the text would be an argument's name


def test_the_lesson_built_either_way_shows_the_same_names():
    docs, lesson = _lesson_as_the_docs_build_it(), tg.lesson.network()
    assert [s.lines() for s in tg.Backprop(docs)] == [s.lines() for s in tg.Backprop(lesson)]
    assert tg.draw(docs).source == tg.draw(lesson).source


def test_one_minus_p_and_one_minus_y_are_named_for_what_they_are():
    names = [step.name for step in tg.Backprop(_lesson_as_the_docs_build_it())]
    assert "1 − p" in names and "log(1 − p)" in names and not any(n.startswith("z2") for n in names)
    assert "(1 − y)⊙log(1 − p)" in names  # 1 − y is a constant: its values are 1 − y's


def test_a_constant_operand_shows_its_value_not_the_ops_argument_name():
    t = Value(1.0, label="t")
    lines = "\n".join(line for s in tg.Backprop(tg.maximum(t, 1.5) * 2) for line in s.lines())
    assert "[t < 1.5]" in lines and "[t = 1.5]" in lines and "y" not in lines
    lines = "\n".join(line for s in tg.Backprop(_functional_bce()) for line in s.lines())
    assert "[p (2x2) < 3.7201e−44]" in lines and "< y" not in lines


def test_a_matrix_step_shows_the_values_of_its_local_derivative():
    steps = {s.name: s for s in tg.Backprop(tg.lesson.network())}
    p = 1 / (1 + np.exp(-(np.array(tg.lesson.X) @ np.array(tg.lesson.W))))
    text = "\n".join(steps["p"].lines())
    assert "p⊙(1 − p) =" in text
    for row in tg.show.array(p * (1 - p)):  # σ'(z), computed here with numpy
        assert row in text
    text = "\n".join(steps["log(1 − p)"].lines())
    assert "1/(1 − p) =" in text and tg.show.array(1 / (1 - p))[0] in text


def test_stepping_past_the_end_says_backprop_is_finished(capsys):
    steps = tg.Backprop(Value(2.0, label="a") * 3)
    assert len(list(steps)) == 2 and list(steps) == []
    assert steps.step() is None
    assert "finished" in capsys.readouterr().out


def test_a_label_that_is_no_identifier_is_spelled_readably():
    assert spelling("ℓ") == "ell" and spelling("log p") == "log_p" and spelling("z") == "z"
    for name in ("σ", "(1−y)⊙log q", "linear.weight"):
        assert ast.parse(spelling(name), mode="eval") and spelling(name).isascii()


def test_an_in_place_change_is_a_node_of_its_own_with_its_own_name():
    a = Tensor([1.0, 2.0], requires_grad=True, label="a")
    c = a * 3
    c.label = "c"
    c += 1
    c[0] = 5.0
    c *= a
    loss = c.sum()
    names = Names(loss)
    named = [names[node] for node in names.nodes]
    assert len(set(named)) == len(named), named  # never one name for two values
    steps = {step.name: step.expression for step in tg.Backprop(loss, store=False)}
    assert steps["c"] == "a*3.0" and steps["c2"] == "c + 1.0" and steps["L"] == "sum(c4)"
    assert names[c] == "c4" and steps["c4"] == "c3*a"
    _check_steps(loss)
    v = Value(2.0, label="v")
    w = v * 3
    w.label = "w"
    w += 1  # a new node: v, w and the sum are three names
    assert [Names(w)[node] for node in Names(w).nodes] == ["v", "3.0", "w", "1.0", "L"]
    _check_steps(w)


def test_steps_of_in_place_changes_are_true_in_the_names_shown():
    a = Tensor([1.0, 2.0, 3.0], requires_grad=True, label="a")
    b = Tensor([4.0, 5.0, 6.0], requires_grad=True, label="b")
    c = a * 2
    c.label = "c"
    c[0:1] = b[0:1] * 2  # scattered with its index outside a subscript: slice(0, 1)
    c += 1
    c[(slice(1, 3),)] = b[1:] * a[1:]
    _check_steps(c.sum())
