"""The lesson's example, built as the tutorial builds it, for the command line and the pictures.

The lesson ("Neural Networks as Logistic Regression Fundamentals") computes, with numpy,
``sigmoid(np.dot(x, weights))`` for x = [[1, 2], [3, 4]] and weights = [[0.5, 0.3], [0.2, 0.1]],
and the binary cross-entropy ``-mean(y·log(p) + (1 − y)·log(1 − p))``. Here the same computation
runs on Tensors (``network``), and its first row and first output as one sigmoid neuron runs on
Values (``neuron``), each node labelled with the name the lesson would give it.
"""

from __future__ import annotations

from ..core.tensor import Tensor
from ..core.value import Value

X = [[1.0, 2.0], [3.0, 4.0]]
W = [[0.5, 0.3], [0.2, 0.1]]
Y = [[1.0, 0.0], [0.0, 1.0]]  # a label per row and output: each output neuron is a logistic regression


def network() -> Tensor:
    """The lesson's 2x2 network and its loss, built as docs/lesson-network.md builds it:
    z = X·W, p = σ(z), L = −mean(y⊙log(p) + (1 − y)⊙log(1 − p)). Only X, W, y, p and L are
    labelled; the stepper and the pictures name the rest from the graph. Returns L (W requires
    grad)."""
    x = Tensor(X, label="X")
    w = Tensor(W, requires_grad=True, label="W")
    y = Tensor(Y, label="y")
    p = (x @ w).sigmoid()
    p.label = "p"
    loss = -(y * p.log() + (1 - y) * (1 - p).log()).mean()
    loss.label = "L"
    return loss


def neuron() -> Value:
    """The lesson's first row and first weight column as one sigmoid neuron on Values, with the
    loss for the label y = 1: L = −ℓ, ℓ = y·log p + (1 − y)·log(1 − p)."""
    x1, x2 = Value(X[0][0], label="x1", requires_grad=False), Value(X[0][1], label="x2", requires_grad=False)
    w1, w2, b = Value(W[0][0], label="w1"), Value(W[1][0], label="w2"), Value(0.1, label="b")
    y, one = Value(1.0, label="y", requires_grad=False), Value(1.0, requires_grad=False)
    z = w1 * x1 + w2 * x2 + b
    p = z.sigmoid()
    q = one - p
    not_y = one - y
    log_p, log_q = p.log(), q.log()
    term_1, term_0 = y * log_p, not_y * log_q
    likelihood = term_1 + term_0
    loss = -likelihood
    labels = ((z, "z"), (p, "p"), (not_y, "1 − y"), (likelihood, "ℓ"), (loss, "L"))
    for node, label in labels:  # the stepper and the pictures name the rest from the graph
        node.label = label
    return loss
