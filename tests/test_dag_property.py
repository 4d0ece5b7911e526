"""Random expression DAGs, with shared sub-expressions, against finite differences."""

import math

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
