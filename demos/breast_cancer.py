"""Logistic regression on the bundled Breast Cancer Wisconsin data, trained three ways.

Newton's method (Hessian from the engine's second derivatives) finds the optimum of the
regularised loss; Adam and SGD with momentum then reach the same loss; the certificate is the
full-batch gradient norm, computed with the framework itself. Run: python demos/breast_cancer.py
"""

import numpy as np

import tinygrad_lr as tg
from tinygrad_lr import nn
from tinygrad_lr.nn import functional as F

X, y = tg.data.load_breast_cancer()
X_train, X_test, y_train, y_test = tg.data.train_test_split(X, y, test_size=0.2, seed=0, stratify=True)
X_train, X_test = tg.data.standardize(X_train, X_test)
inputs, targets, n = tg.Tensor(X_train), tg.Tensor(y_train), len(y_train)


def objective(model: nn.LogisticRegression) -> tg.Tensor:
    """Mean binary cross-entropy plus the L2 term 0.5·‖w‖²/n."""
    w = model.linear.weight
    return F.binary_cross_entropy_with_logits(model.logits(inputs), targets) + (w * w).sum() * (0.5 / n)


def gradient_norm(model: nn.LogisticRegression) -> float:
    grads = tg.grad(objective(model), model.parameters())
    return float(np.sqrt(sum((g.data**2).sum() for g in grads)))


newton_model = nn.LogisticRegression(X.shape[1], seed=0)
newton = tg.optim.Newton(newton_model.parameters())
for step in range(20):
    loss = newton.step(lambda: objective(newton_model))
    print(f"Newton step {step}: loss {loss:.12f}, gradient norm {gradient_norm(newton_model):.2e}")
    if gradient_norm(newton_model) < 1e-10:
        break
optimum = objective(newton_model).item()

for name, make in [
    ("Adam", lambda p: tg.optim.Adam(p, lr=0.05)),
    ("SGD, momentum 0.9", lambda p: tg.optim.SGD(p, lr=1.0, momentum=0.9)),
]:
    model = nn.LogisticRegression(X.shape[1], seed=0)
    optimizer = make(model.parameters())
    for _ in range(2000):
        optimizer.zero_grad()
        objective(model).backward()
        optimizer.step()
    print(f"{name}: loss − optimum = {objective(model).item() - optimum:.2e}")

accuracy = tg.training.accuracy(newton_model, X_test, y_test)
print(f"test accuracy of the optimal logistic regression: {accuracy:.3f}")
