"""Optimisers: SGD and Adam update parameters from their gradients; Newton takes the Hessian
from the engine's second derivatives (for small, smooth problems such as logistic regression).
"""

from __future__ import annotations

import math
import numbers
from collections.abc import Callable, Iterable

import numpy as np

from .core.engine import Node, grad, no_grad, zero_grad


class Optimizer:
    """Holds the parameters; ``step()`` updates them from ``.grad``, ``zero_grad()`` clears it.

    Updates are in place, as in PyTorch: each parameter stays the same object, and its version
    counts the change, so a graph recorded before the step refuses to backpropagate through the
    old values (run forward again after each step). ``weight_decay`` λ adds λ·p to the gradient.
    """

    def __init__(self, params: Iterable[Node], lr: float, weight_decay: float = 0.0):
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
        self.lr = self._number(lr, "the learning rate lr", low=0.0, low_open=True)
        self.weight_decay = self._number(weight_decay, "weight_decay", 0.0)

    def zero_grad(self) -> None:
        """Forget the parameters' gradients (before the next backward pass)."""
        zero_grad(self.params)

    def _number(self, value: float, what: str, low: float, high: float = math.inf, low_open: bool = False,
                high_open: bool = False) -> float:  # fmt: skip
        """``value`` as a float, if it is a real number in the range; else an error that says so."""
        owner = type(self).__name__
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

    def _grads(self) -> list[np.ndarray]:
        """Each parameter's gradient plus its weight decay, once checked to exist and be finite."""
        grads = []
        for i, p in enumerate(self.params):
            if p.grad is None:
                raise RuntimeError(
                    f"{self._where(i)} has no gradient; "
                    "call loss.backward() first (and check that the loss depends on it)"
                )
            if not np.all(np.isfinite(np.asarray(p.grad, dtype=np.float64))):
                raise FloatingPointError(
                    f"{self._where(i, 'the gradient of ')} is not finite; "
                    "lower the learning rate, or check the loss for log(0) or overflow"
                )
            g = np.asarray(p.grad)
            grads.append(g + self.weight_decay * p.data if self.weight_decay else g)
        return grads

    def _where(self, i: int, what: str = "") -> str:
        """Names parameter i for an error message of step()."""
        p = self.params[i]
        return f"{type(self).__name__}.step: {what}parameter {i} ({p.label or np.shape(p.data)})"

    def _zeros(self) -> list[np.ndarray]:
        """A running statistic per parameter, starting at 0."""
        return [np.zeros(np.shape(p.data)) for p in self.params]

    @staticmethod
    def _update(p: Node, delta: np.ndarray) -> None:
        with no_grad():
            p -= delta if np.ndim(delta) else float(delta)  # in place: the version counts it


class SGD(Optimizer):
    """Gradient descent: v ← μ·v + (g + λ·p);  p ← p − lr·v  (PyTorch's momentum form)."""

    def __init__(self, params: Iterable[Node], lr: float, momentum: float = 0.0, weight_decay: float = 0.0):
        super().__init__(params, lr, weight_decay)
        self.momentum = self._number(momentum, "momentum", 0.0, 1.0, high_open=True)
        self.velocity = self._zeros()

    def step(self) -> None:
        for p, g, v in zip(self.params, self._grads(), self.velocity):
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
        super().__init__(params, lr, weight_decay)
        if not isinstance(betas, (tuple, list)) or len(betas) != 2:
            raise TypeError(f"Adam: betas must be a pair (beta1, beta2), got {betas!r}")
        self.betas = tuple(
            self._number(b, f"betas[{i}]", 0.0, 1.0, high_open=True) for i, b in enumerate(betas)
        )
        self.eps = self._number(eps, "eps", 0.0, low_open=True)
        self.m, self.v, self.t = self._zeros(), self._zeros(), 0

    def step(self) -> None:
        self.t += 1
        b1, b2 = self.betas
        for p, g, m, v in zip(self.params, self._grads(), self.m, self.v):
            m *= b1
            m += (1 - b1) * g
            v *= b2
            v += (1 - b2) * g * g
            m_hat, v_hat = m / (1 - b1**self.t), v / (1 - b2**self.t)
            self._update(p, self.lr * m_hat / (np.sqrt(v_hat) + self.eps))


class Newton(Optimizer):
    """Newton's method with a line search: p ← p + t·d, d = −(H + μ·I)⁻¹·g, with the gradient g
    and the Hessian H of ``closure()`` (a function that returns the loss) computed by the engine:
    g with ``create_graph=True``, then each row of H as the gradient of one component of g. No
    hand-written Hessian.

    Globally convergent, as a production Newton solver is: the step length t starts at ``lr``
    and is halved until the loss falls by at least ``ARMIJO`` of what the slope g·d promises
    (the Armijo condition). So no step raises the loss (beyond its rounding error), and Newton
    reaches the optimum of a convex loss from any start, on scaled or raw data. Where
    H + ``damping``·I is not positive definite (singular, or a saddle), μ grows past ``damping``
    (Levenberg) until it is; should that fail, d is the gradient direction −g. A singular
    Hessian is therefore no error. A loss, gradient or Hessian that is not finite (nan in the
    data, overflow) raises FloatingPointError.

    For a handful to a few hundred parameters: each step costs one backward pass per parameter
    element (and one forward pass per halving of t). ``damping`` adds λ·I to H for every step.
    """

    ARMIJO = 1e-4
    """The fraction of the predicted decrease t·g·d that a step must achieve (the usual c₁)."""
    MAX_HALVINGS = 60
    """Halvings of t before giving up on the step (t = lr·2⁻⁶⁰): the loss cannot then be
    lowered along d to within rounding, so the parameters stay as they were."""
    MAX_DAMPINGS = 100
    """Levenberg dampings tried before taking the gradient direction (the last is 2⁹⁹ times a
    thousandth of the Hessian's largest diagonal entry)."""

    def __init__(self, params: Iterable[Node], lr: float = 1.0, damping: float = 0.0):
        super().__init__(params, lr)
        self.damping = self._number(damping, "damping", 0.0)
        self.step_size = 0.0
        """The step length t that the last ``step`` took (0.0: no step lowered the loss)."""

    def step(self, closure: Callable[[], Node] | None = None) -> float:
        """One damped Newton step on the loss ``closure()`` returns; returns that loss (before the step).

        ``closure`` is called once, then once per trial step length, so it must compute the
        loss afresh from the parameters each time; it may call ``backward`` itself, as
        PyTorch's closures do (Newton does not need it: it differentiates the loss itself).
        """
        if closure is None or not callable(closure):
            raise TypeError(
                "Newton.step needs closure, a function that computes the loss from the parameters "
                f"(got {closure!r}): Newton evaluates the loss several times per step, e.g. "
                "newton.step(lambda: loss_of(model))"
            )
        loss = self._loss(closure)
        start = float(loss.data)
        self.step_size = 0.0
        if not loss.requires_grad:  # the loss depends on no parameter: nothing to do
            return start
        g, H = hessian(loss, self.params)
        for what, array in (("gradient", g), ("Hessian", H)):
            if not np.all(np.isfinite(array)):
                raise FloatingPointError(
                    f"Newton.step: the {what} of the loss is not finite at the current parameters "
                    f"(loss {start!r}); check the data and the loss for nan, inf or overflow"
                )
        if not np.any(g):
            return start  # a stationary point: the exact optimum, or no slope to follow
        direction = self._direction(g, H)
        slope = float(g @ direction)
        before = [np.array(p.data, dtype=np.float64, copy=True) for p in self.params]
        t = self.lr
        for _ in range(self.MAX_HALVINGS + 1):
            self._set(before, t * direction)
            trial = self._trial_loss(closure)
            if trial <= start + self.ARMIJO * t * slope or self._within_rounding(trial, start, g, closure):
                self.step_size = t
                return start
            t /= 2
        self._set(before, 0.0 * direction)  # no step lowers the loss: keep the parameters as they were
        return start

    def _loss(self, closure: Callable[[], Node]) -> Node:
        loss = closure()
        if not isinstance(loss, Node) or np.size(loss.data) != 1:
            raise TypeError(
                f"Newton.step: closure() returned {type(loss).__name__}"
                + (f" of shape {np.shape(loss.data)}" if isinstance(loss, Node) else "")
                + "; it must return the loss, one Value or a Tensor of one element"
            )
        if not math.isfinite(float(loss.data)):
            raise FloatingPointError(
                f"Newton.step: the loss is {float(loss.data)} at the current parameters; check the data "
                "for nan or inf and the loss for log(0) or overflow"
            )
        return loss

    def _trial_loss(self, closure: Callable[[], Node]) -> float:
        # NOTE: with gradients recorded, so that a PyTorch-style closure (zero_grad, loss,
        # loss.backward(), return loss) works here too; Newton's own derivatives do not need it
        value = float(closure().data)
        return value if math.isfinite(value) else math.inf  # overflow on the way: too long a step

    def _within_rounding(
        self, trial: float, start: float, g: np.ndarray, closure: Callable[[], Node]
    ) -> bool:
        """Near the optimum the decrease is below the loss's rounding error and Armijo cannot
        see it: accept a step that leaves the loss equal to within rounding if it lowers the
        gradient's norm (as scikit-learn's Newton solvers do)."""
        # NOTE: 16 ulps: a mean over n rows carries a rounding error of a few ulps of the loss.
        if abs(trial - start) > 16 * np.finfo(np.float64).eps * abs(start):
            return False
        new = np.concatenate([np.ravel(h.data) for h in grad(closure(), self.params)])
        return bool(np.linalg.norm(new) < np.linalg.norm(g))

    def _direction(self, g: np.ndarray, H: np.ndarray) -> np.ndarray:
        """−(H + damping·I + μ·I)⁻¹·g for a μ ≥ 0 that makes the matrix positive definite and d
        a descent direction (g·d < 0): μ = 0 if every diagonal entry is positive, else just
        enough to make them so, then doubled until Cholesky succeeds (Nocedal and Wright,
        Numerical Optimization, algorithm 3.3); the gradient direction −g if none does."""
        H = (H + H.T) / 2 + self.damping * np.eye(len(g))  # NOTE: the engine's H is symmetric to rounding
        smallest = float(np.min(np.diag(H)))
        floor = 1e-3 * (float(np.max(np.abs(np.diag(H)))) or 1.0)  # the least added damping
        mu = 0.0 if smallest > 0 else floor - smallest
        for _ in range(self.MAX_DAMPINGS):
            damped = H + mu * np.eye(len(g))
            try:
                np.linalg.cholesky(damped)  # succeeds exactly when the matrix is positive definite
                direction = -np.linalg.solve(damped, g)
            except np.linalg.LinAlgError:
                direction = None
            if direction is not None and np.all(np.isfinite(direction)) and g @ direction < 0:
                return direction
            mu = max(2 * mu, floor)
        return -g

    def _set(self, before: list[np.ndarray], delta: np.ndarray) -> None:
        """Set the parameters to ``before + delta`` (delta flat, in the order of ``params``)."""
        offset = 0
        with no_grad():
            for p, start in zip(self.params, before):
                value = start + delta[offset : offset + start.size].reshape(start.shape)
                offset += start.size
                p._assign(float(value) if isinstance(p.data, float) else value, "Newton.step")


def hessian(loss: Node, params: list[Node]) -> tuple[np.ndarray, np.ndarray]:
    """The gradient (flattened) and the Hessian matrix of the scalar ``loss`` with respect to
    ``params``, from the engine's second derivatives: row i of H is the gradient of gᵢ."""
    grads = grad(loss, params, create_graph=True)
    components = []  # each element of the gradient as a node of its own (a Value's is itself)
    for g in grads:
        components.extend(
            [g] if isinstance(g.data, float) else [g.reshape(-1)[i] for i in range(g.data.size)]
        )
    rows = [np.concatenate([np.ravel(h.data) for h in grad(c, params)]) for c in components]
    flat = np.array([float(c.data) for c in components])
    return flat, np.array(rows).reshape(len(flat), len(flat))
