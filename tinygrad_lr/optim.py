"""Optimisers: SGD and Adam update parameters from their gradients; Newton takes the Hessian
from the engine's second derivatives (for small, smooth problems such as logistic regression).
"""

from __future__ import annotations

import math
import numbers
from collections.abc import Callable, Iterable

import numpy as np

from .engine import Node, grad, no_grad, zero_grad


class Optimizer:
    """Holds the parameters; ``step()`` updates them from ``.grad``, ``zero_grad()`` clears it.

    Updates are in place, as in PyTorch: each parameter stays the same object, and its version
    counts the change, so a graph recorded before the step refuses to backpropagate through the
    old values (run forward again after each step).
    """

    def __init__(self, params: Iterable[Node], lr: float):
        self.params = list(params)
        name = type(self).__name__
        if not self.params:
            raise ValueError(f"{name}: got no parameters to optimise")
        for i, p in enumerate(self.params):
            if not isinstance(p, Node) or not p.requires_grad:
                raise TypeError(
                    f"{name}: parameter {i} is {type(p).__name__}"
                    + (" that does not require grad" if isinstance(p, Node) else "")
                    + "; give Values or Tensors with requires_grad=True (module.parameters())"
                )
            first = next(j for j, q in enumerate(self.params) if q is p)
            if first != i:
                raise ValueError(
                    f"{name}: parameter {i} is parameter {first} again; each would be stepped twice. "
                    "Give every parameter once (module.parameters() lists shared ones once)"
                )
        self.lr = _check(lr, name, "the learning rate lr", low=0.0, low_open=True)

    def zero_grad(self) -> None:
        """Forget the parameters' gradients (before the next backward pass)."""
        zero_grad(self.params)

    def _grads(self) -> list[np.ndarray]:
        grads = []
        for i, p in enumerate(self.params):
            if p.grad is None:
                raise RuntimeError(
                    f"{type(self).__name__}.step: parameter {i} ({p.label or p.shape}) has no gradient; "
                    "call loss.backward() first (and check that the loss depends on it)"
                )
            g = np.asarray(p.grad, dtype=np.float64)
            if not np.all(np.isfinite(g)):
                raise FloatingPointError(
                    f"{type(self).__name__}.step: the gradient of parameter {i} ({p.label or p.shape}) "
                    "is not finite; lower the learning rate, or check the loss for log(0) or overflow"
                )
            grads.append(np.asarray(p.grad))
        return grads

    @staticmethod
    def _update(p: Node, delta: np.ndarray) -> None:
        with no_grad():
            p -= delta if np.ndim(delta) else float(delta)  # in place: the version counts it


def _check(value: float, owner: str, what: str, low: float, high: float = math.inf, low_open: bool = False,
           high_open: bool = False) -> float:  # fmt: skip
    """``value`` as a float, if it is a real number in the range; else a ValueError that says so."""
    if isinstance(value, (bool, np.bool_)) or not isinstance(value, numbers.Real):  # not "0.1", not True
        raise TypeError(f"{owner}: {what} must be a real number, got {type(value).__name__} {value!r}")
    number = float(value)
    below = number < low or (low_open and number == low)
    above = number > high or (high_open and number == high)
    if not math.isfinite(number) or below or above:
        if high == math.inf:
            where = f"{'above' if low_open else 'at least'} {low:g}"
        else:
            where = f"in {'(' if low_open else '['}{low:g}, {high:g}{')' if high_open else ']'}"
        raise ValueError(f"{owner}: {what} must be a finite number {where}, got {value!r}")
    return number


class SGD(Optimizer):
    """Gradient descent: v ← μ·v + (g + λ·p);  p ← p − lr·v  (PyTorch's momentum form)."""

    def __init__(self, params: Iterable[Node], lr: float, momentum: float = 0.0, weight_decay: float = 0.0):
        super().__init__(params, lr)
        self.momentum = _check(momentum, "SGD", "momentum", 0.0, 1.0, high_open=True)
        self.weight_decay = _check(weight_decay, "SGD", "weight_decay", 0.0)
        self.velocity = [np.zeros(np.shape(p.data)) for p in self.params]

    def step(self) -> None:
        for p, g, v in zip(self.params, self._grads(), self.velocity):
            g = g + self.weight_decay * p.data if self.weight_decay else g
            if self.momentum:
                v *= self.momentum
                v += g
                g = v
            self._update(p, self.lr * g)


class Adam(Optimizer):
    """Adam: running means of g and g², bias-corrected;  p ← p − lr·m̂ / (√v̂ + ε)."""

    def __init__(
        self,
        params: Iterable[Node],
        lr: float = 1e-3,
        betas: tuple[float, float] = (0.9, 0.999),
        eps: float = 1e-8,
        weight_decay: float = 0.0,
    ):
        super().__init__(params, lr)
        if not isinstance(betas, (tuple, list)) or len(betas) != 2:
            raise TypeError(f"Adam: betas must be a pair (beta1, beta2), got {betas!r}")
        self.betas = tuple(
            _check(b, "Adam", f"betas[{i}]", 0.0, 1.0, high_open=True) for i, b in enumerate(betas)
        )
        self.eps = _check(eps, "Adam", "eps", 0.0, low_open=True)
        self.weight_decay = _check(weight_decay, "Adam", "weight_decay", 0.0)
        self.m = [np.zeros(np.shape(p.data)) for p in self.params]
        self.v = [np.zeros(np.shape(p.data)) for p in self.params]
        self.t = 0

    def step(self) -> None:
        self.t += 1
        b1, b2 = self.betas
        for p, g, m, v in zip(self.params, self._grads(), self.m, self.v):
            g = g + self.weight_decay * p.data if self.weight_decay else g
            m *= b1
            m += (1 - b1) * g
            v *= b2
            v += (1 - b2) * g * g
            m_hat, v_hat = m / (1 - b1**self.t), v / (1 - b2**self.t)
            self._update(p, self.lr * m_hat / (np.sqrt(v_hat) + self.eps))


class Newton(Optimizer):
    """Newton's method: p ← p − H⁻¹·g, with the gradient g and the Hessian H of ``closure()``
    (a function that returns the loss) computed by the engine: g with ``create_graph=True``,
    then each row of H as the gradient of one component of g. No hand-written Hessian.

    For a handful to a few hundred parameters: each step costs one backward pass per parameter
    element. ``damping`` adds λ·I to H, for problems that are not strictly convex.
    """

    def __init__(self, params: Iterable[Node], lr: float = 1.0, damping: float = 0.0):
        super().__init__(params, lr)
        self.damping = _check(damping, "Newton", "damping", 0.0)

    def step(self, closure: Callable[[], Node]) -> float:
        """One Newton step on the loss ``closure()`` returns; returns that loss (before the step)."""
        loss = closure()
        g, H = hessian(loss, self.params)
        H[np.diag_indices_from(H)] += self.damping
        try:
            delta = np.linalg.solve(H, g)
        except np.linalg.LinAlgError:
            raise np.linalg.LinAlgError(
                "Newton.step: the Hessian is singular here; pass damping > 0 (e.g. 1e-6)"
            ) from None
        offset = 0
        for p in self.params:
            size = np.size(p.data)
            self._update(p, self.lr * delta[offset : offset + size].reshape(np.shape(p.data)))
            offset += size
        return float(loss.data)


def hessian(loss: Node, params: list[Node]) -> tuple[np.ndarray, np.ndarray]:
    """The gradient (flattened) and the Hessian matrix of the scalar ``loss`` with respect to
    ``params``, from the engine's second derivatives: row i of H is the gradient of gᵢ."""
    grads = grad(loss, params, create_graph=True)
    flat = [g.reshape(-1) for g in grads]
    rows = []
    for g in flat:
        for i in range(g.shape[0]):
            rows.append(np.concatenate([np.ravel(h.data) for h in grad(g[i], params)]))
    return np.concatenate([np.ravel(g.data) for g in flat]), np.array(rows)
