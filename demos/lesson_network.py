"""The lesson's network, written with tinygrad_lr.

The lesson ("Neural Networks as Logistic Regression Fundamentals") computes, in numpy:

    x = np.array([[1, 2], [3, 4]])
    weights = np.array([[0.5, 0.3], [0.2, 0.1]])
    hidden_layer = np.dot(x, weights)
    output = sigmoid(hidden_layer)

and the binary cross-entropy of the output. Here the same numbers flow through Tensors, so
backward() gives the gradient of that loss with respect to the weights; a step of gradient
descent then lowers it. Run: python demos/lesson_network.py
"""

import numpy as np

import tinygrad_lr as tg
from tinygrad_lr.nn import functional as F

x = tg.Tensor([[1.0, 2.0], [3.0, 4.0]], label="x")
weights = tg.Tensor([[0.5, 0.3], [0.2, 0.1]], requires_grad=True, label="weights")
y = tg.Tensor([[1.0, 0.0], [0.0, 1.0]], label="y")  # a target for each output

hidden_layer = x @ weights
output = hidden_layer.sigmoid()
loss = F.binary_cross_entropy(output, y)  # the lesson's formula: −mean(y·log p + (1 − y)·log(1 − p))
loss.backward()

print("output (as in the lesson):\n", output.data)
print("loss:", round(loss.item(), 6))
print("dloss/dweights:\n", weights.grad)

# the gradient checked against finite differences, and one step of gradient descent
assert tg.gradcheck(lambda w: F.binary_cross_entropy((x @ w).sigmoid(), y), [weights])
with tg.no_grad():
    weights.data -= 0.5 * weights.grad
after = F.binary_cross_entropy((x @ weights).sigmoid(), y).item()
print(f"after one step of gradient descent (lr 0.5): loss {after:.6f} < {loss.item():.6f}")
assert after < loss.item()
print("matches numpy:", np.allclose(output.data, 1 / (1 + np.exp(-np.dot(x.data, [[0.5, 0.3], [0.2, 0.1]])))))
