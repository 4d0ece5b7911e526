"""Random expression DAGs, with shared sub-expressions, against finite differences."""

import math

import numpy as np
from hypothesis import given
from hypothesis import strategies as st

import tinygrad_lr as tg

# Compositions that stay smooth and moderate however they are chained (products and powers of
# unbounded nodes compound to steep functions, where a finite difference is no reference).
UNARY = {
    "sigmoid": tg.sigmoid,
    "tanh": tg.tanh,
    "exp∘tanh": lambda a: tg.exp(tg.tanh(a)),
    "log(1+a²)": lambda a: tg.log(1 + a * a),
    "neg": lambda a: -a,
    "tanh²": lambda a: tg.tanh(a) ** 2,
    "relu(1+a²)+a": lambda a: tg.relu(1 + a * a) + a,  # never at the kink, however a is made
}
BINARY = {
    "+": lambda a, b: a + b,
    "-": lambda a, b: a - b,
    "a·tanh b": lambda a, b: a * tg.tanh(b),
    "a/(1+b²)": lambda a, b: a / (1 + b * b),
    "(1+tanh²a)**tanh b": lambda a, b: (1 + tg.tanh(a) * tg.tanh(a)) ** tg.tanh(b),
    "2**σ(a)·b": lambda a, b: 2 ** tg.sigmoid(a) * b,
}


@st.composite
def programs(draw):
    """A list of leaves and a list of steps; each step reads any earlier node, so nodes are
    reused and the graph is a DAG, not a tree."""
    leaves = draw(st.lists(st.floats(-2, 2), min_size=1, max_size=4))
    steps = []
    for k in range(draw(st.integers(1, 12))):
        available = len(leaves) + k
        if draw(st.booleans()):
            steps.append((draw(st.sampled_from(sorted(UNARY))), draw(st.integers(0, available - 1))))
        else:
            pick = st.integers(0, available - 1)
            steps.append((draw(st.sampled_from(sorted(BINARY))), draw(pick), draw(pick)))
    return leaves, steps


def run(steps, *leaves):
    nodes = list(leaves)
    for name, *operands in steps:
        fn = UNARY.get(name) or BINARY[name]
        nodes.append(fn(*(nodes[i] for i in operands)))
    # sum everything so that every node matters, squashed to keep magnitudes moderate
    total = nodes[0]
    for node in nodes[1:]:
        total = total + tg.tanh(node)
    return total


@given(programs())
def test_random_dags_match_finite_differences(program):
    leaves, steps = program
    inputs = [tg.Value(x, label=f"x{i}") for i, x in enumerate(leaves)]
    assert tg.gradcheck(lambda *xs: run(steps, *xs), inputs)


@given(programs())
def test_backward_and_grad_agree_and_leave_each_other_alone(program):
    leaves, steps = program
    inputs = [tg.Value(x) for x in leaves]
    out = run(steps, *inputs)
    grads = tg.grad(out, inputs)
    assert all(x.grad == 0.0 for x in inputs)  # grad() does not write .grad
    out.backward()
    for x, g in zip(inputs, grads):
        assert x.grad == g.data or (math.isnan(x.grad) and math.isnan(g.data))


@given(programs())
def test_second_derivatives_of_random_dags(program):
    leaves, steps = program
    inputs = [tg.Value(x) for x in leaves]
    assert tg.gradgradcheck(lambda *xs: run(steps, *xs), inputs)


# --- tensors: negative axes, views of non-contiguous tensors, plain arrays as operands -----------

# Each keeps the shape (2, 3); `c()` hands out a plain array, which is changed after forward
TENSOR_UNARY = {
    "tanh(aᵀ) via axes -1, 0": lambda a, c: tg.tanh(a.transpose(-1, 0)).transpose(1, -2),
    "softmax(-1)": lambda a, c: tg.softmax(a, -1),
    "a − mean(-1)": lambda a, c: a - a.mean(-1, keepdims=True),
    "a·tanh(sum(-2))": lambda a, c: a * tg.tanh(a.sum(-2)),
    "σ(a[:, ::-1])[:, ::-1]": lambda a, c: tg.sigmoid(a[:, ::-1])[:, ::-1],
    "tanh(aᵀ.view(3, 2))ᵀ": lambda a, c: tg.tanh(a.T.view(3, 2)).T,
    "aᵀ[:, 0] ⊙ a": lambda a, c: a.T[:, 0] * a[0] + a,  # a view of a view, broadcast
    "a·c": lambda a, c: a * c(),
}
TENSOR_BINARY = {
    "+": lambda a, b, c: a + b,
    "a·tanh b": lambda a, b, c: a * tg.tanh(b),
    "a·c + b": lambda a, b, c: a * c() + b,
    "c·a − b·cᵀᵀ": lambda a, b, c: c() * a - b * c().T.T,  # c().T.T: a view of a plain array
    "tanh(a @ bᵀ) @ a / 2": lambda a, b, c: tg.tanh(a @ b.mT) @ a / 2,
    "tanh(cᵀ @ a[:, -1:])ᵀ·b": lambda a, b, c: tg.tanh(c().T @ a[:, -1:]).T * b,
}


@st.composite
def tensor_programs(draw):
    """Leaves of shape (2, 3) and steps that each read earlier nodes, as ``programs``."""
    leaves = [
        np.array(draw(st.lists(st.floats(-2, 2), min_size=6, max_size=6))).reshape(2, 3)
        for _ in range(draw(st.integers(1, 3)))
    ]
    steps = []
    for k in range(draw(st.integers(1, 8))):
        pick = st.integers(0, len(leaves) + k - 1)
        if draw(st.booleans()):
            steps.append((draw(st.sampled_from(sorted(TENSOR_UNARY))), draw(pick)))
        else:
            steps.append((draw(st.sampled_from(sorted(TENSOR_BINARY))), draw(pick), draw(pick)))
    return leaves, steps


def run_tensors(steps, leaves, plain):
    """The program on ``leaves``; every plain array it uses is appended to ``plain``."""

    def c():
        plain.append(np.linspace(-1.5, 1.5, 6).reshape(2, 3))
        return plain[-1]

    nodes = list(leaves)
    for name, *operands in steps:
        fn = TENSOR_UNARY.get(name) or TENSOR_BINARY[name]
        nodes.append(fn(*(nodes[i] for i in operands), c))
    return sum((tg.tanh(node).sum() for node in nodes[1:]), nodes[0].sum())


@given(tensor_programs())
def test_random_tensor_dags_with_axes_views_and_plain_arrays_changed_before_backward(program):
    leaves, steps = program
    inputs = [tg.Tensor(x.copy(), requires_grad=True) for x in leaves]
    plain = []
    out = run_tensors(steps, inputs, plain)
    for array in plain:  # forward kept copies: backward must not see these changes
        array += 100.0
        array[0, 0] = np.nan
    out.backward()
    expected = tg.numerical_grad(lambda *xs: run_tensors(steps, xs, []), [tg.Tensor(x) for x in leaves])
    for x, e in zip(inputs, expected):
        assert np.allclose(x.grad, e, rtol=1e-4, atol=1e-6), (x.grad, e)
