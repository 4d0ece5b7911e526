"""Optimisers: SGD and Adam update parameters from their gradients; Newton takes the Hessian
from the engine's second derivatives (for small, smooth problems such as logistic regression).
"""

from __future__ import annotations

import math
import numbers
import warnings
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
    """Newton's method, damped until the step lowers the loss (Levenberg–Marquardt):
    p ← p + lr·d,  d = −(H + μ·I)⁻¹·g, with the gradient g and the Hessian H of ``closure()`` (a
    function that returns the loss) computed by the engine: g with ``create_graph=True``, then
    each row of H as the gradient of one component of g. No hand-written Hessian.

    Each step first tries μ = 0, the Newton step, and takes it if the loss falls by at least
    ``ARMIJO`` of what the slope g·d promises (the Armijo condition); otherwise μ grows tenfold,
    from a tenth of the last step's μ (or a thousandth of H's largest diagonal entry), until a
    step does, so the damping follows the problem's scale from step to step. As μ grows, d turns from
    the Newton step into a short gradient step −g/μ, which lowers any smooth loss: so no step
    raises the loss (beyond its rounding), far from the optimum (raw data, where H's eigenvalues
    may be 1e-27 and the Newton step 1e24 long) as near it, where μ = 0 and the convergence is
    quadratic. Where H is not positive definite (a saddle, a maximum, singular), μ starts where
    it is (Nocedal and Wright, Numerical Optimization, algorithm 3.3).

    Where it cannot go on, it says so with a RuntimeWarning and leaves the parameters as they are:

    - the loss has no minimum at finite parameters: scaled up (2, 4, 8, ... times), the
      parameters lower the loss further, to a limit (checked before each step). This is logistic
      regression on data that a hyperplane separates, without L2: the loss goes to 0 and the
      weights to infinity;
    - no step lowers the loss although its slope says one should (a loss that is not smooth, or
      a closure whose loss changes from call to call).

    At the optimum, where what is left to gain is below the loss's rounding, a step changes
    nothing, silently. A loss, gradient or Hessian that is not finite raises FloatingPointError.

    ``weight_decay`` λ adds λ·p to the gradient, as in SGD and Adam: it minimises the loss plus
    λ‖p‖²/2 over all the parameters (and adds λ·I to H). scikit-learn's ``LogisticRegression(C)``
    minimises C·Σ BCE + ‖w‖²/2, which is n·C times the mean BCE + ‖w‖²/(2nC): λ = 1/(n·C) for
    the mean loss over n rows. scikit-learn does not penalise the intercept, which weight_decay
    would: for its objective put the penalty ‖w‖²/(2nC) into the closure's loss instead.
    ``damping`` adds λ·I to H for every step; unlike weight_decay it does not change the
    optimum, only the steps.

    For a handful to a few hundred parameters: each step costs one backward pass per parameter
    element, and a forward pass per trial step and per scaling checked.
    """

    ARMIJO = 1e-4
    """The fraction of the predicted decrease −g·d that a step must achieve (the usual c₁)."""
    MAX_DAMPINGS = 100
    """Values of μ tried in one step (the last is 10⁹⁸ times the first) before giving up."""
    MAX_SCALINGS = 30
    """Doublings of the parameters (up to 2³⁰ times) in the check for a minimum at infinity."""
    ROUNDING = 16 * np.finfo(np.float64).eps
    """The relative rounding error of a loss (a mean over n rows carries a few ulps of it)."""

    def __init__(
        self, params: Iterable[Node], lr: float = 1.0, damping: float = 0.0, weight_decay: float = 0.0
    ):
        super().__init__(params, lr, weight_decay)
        self.damping = self._number(damping, "damping", 0.0)
        self._mu = 0.0  # the damping of the last step
        self.step_size = 0.0
        """The length ‖Δp‖ of the last step (0.0: the parameters stayed as they were)."""

    def step(self, closure: Callable[[], Node] | None = None) -> float:
        """One damped Newton step on the loss ``closure()`` returns; returns that loss (before the step).

        ``closure`` is called once, then once per scaling checked and per trial step, so it must
        compute the loss afresh from the parameters each time; it may call ``backward`` itself,
        as PyTorch's closures do (Newton does not need it: it differentiates the loss itself).
        """
        if closure is None or not callable(closure):
            raise TypeError(
                "Newton.step needs closure, a function that computes the loss from the parameters "
                f"(got {closure!r}): Newton evaluates the loss several times per step, e.g. "
                "newton.step(lambda: loss_of(model))"
            )
        loss = self._loss(closure)
        value = float(loss.data)
        self.step_size = 0.0
        if not loss.requires_grad:  # the loss depends on no parameter: nothing to do
            return value
        before = [np.array(p.data, dtype=np.float64, copy=True) for p in self.params]
        flat = np.concatenate([b.ravel() for b in before])
        start = value + self._penalty(flat)
        g, H = hessian(loss, self.params)  # before any trial: the trials change the parameters
        for what, array in (("gradient", g), ("Hessian", H)):
            if not np.all(np.isfinite(array)):
                raise FloatingPointError(
                    f"Newton.step: the {what} of the loss is not finite at the current parameters "
                    f"(loss {value!r}); check the data and the loss for nan, inf or overflow"
                )
        if self._minimum_at_infinity(closure, before, flat, start):
            return value
        g = g + self.weight_decay * flat
        # NOTE: the engine's H is symmetric to rounding
        H = (H + H.T) / 2 + (self.weight_decay + self.damping) * np.eye(len(g))
        if not np.any(g):
            return value  # a stationary point: the exact optimum, or no slope to follow
        diagonal = np.diag(H)
        floor = 1e-3 * (float(np.max(np.abs(diagonal))) or 1.0)  # the least μ added
        mu = 0.0 if np.min(diagonal) > 0 else floor - float(np.min(diagonal))
        fallback = self._mu / 10 or floor  # where μ starts growing if the Newton step fails
        stuck = False  # whether a step that promised a decrease above rounding failed to give it
        for _ in range(self.MAX_DAMPINGS):
            with np.errstate(over="ignore", invalid="ignore"):  # too long a step: inf, then rejected
                delta = self.lr * self._direction(g, H, mu)
                gain = -float(g @ delta)  # the decrease the slope promises
            if gain > 0:  # a descent direction: H + μ·I is positive definite
                if np.max(np.abs(delta)) <= self.ROUNDING * np.max(np.abs(flat)):
                    break  # too short to change the parameters
                self._set(before, delta)
                trial = self._objective(closure, flat + delta)
                if trial <= start - self.ARMIJO * gain or self._within_rounding(
                    trial, start, g, closure, flat + delta
                ):
                    self.step_size, self._mu = float(np.hypot.reduce(delta)), mu
                    return value
                if gain <= self.ROUNDING * abs(start):
                    break  # shorter steps promise even less: the optimum, to within rounding
                stuck = True
            mu = max(10 * mu, fallback)
        else:
            stuck = True
        self._set(before, np.zeros_like(flat))
        if stuck:
            warnings.warn(
                f"Newton.step: no step lowers the loss {value!r}, although its slope (gradient norm "
                f"{np.linalg.norm(g):.3g}) says one should: is the loss smooth here, and does the closure "
                "compute the same loss from the same parameters each time? The parameters stay as they were",
                RuntimeWarning,
                stacklevel=2,
            )
        return value

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

    def _objective(self, closure: Callable[[], Node], flat: np.ndarray) -> float:
        """The loss plus the weight decay's penalty at the parameters ``flat`` (already set)."""
        # NOTE: with gradients recorded, so that a PyTorch-style closure (zero_grad, loss,
        # loss.backward(), return loss) works here too; Newton's own derivatives do not need it
        value = float(closure().data) + self._penalty(flat)
        return value if math.isfinite(value) else math.inf  # overflow on the way: too long a step

    def _penalty(self, flat: np.ndarray) -> float:
        """The weight decay's λ‖p‖²/2 at the parameters ``flat`` (inf where ‖p‖² overflows)."""
        if not self.weight_decay:
            return 0.0
        with np.errstate(over="ignore"):
            return self.weight_decay / 2 * float(flat @ flat)

    def _within_rounding(
        self, trial: float, start: float, g: np.ndarray, closure: Callable[[], Node], flat: np.ndarray
    ) -> bool:
        """Near the optimum the decrease is below the loss's rounding error and Armijo cannot
        see it: accept a step that leaves the loss equal to within rounding if it lowers the
        gradient's norm (as scikit-learn's Newton solvers do)."""
        if abs(trial - start) > self.ROUNDING * abs(start):
            return False
        new = np.concatenate([np.ravel(h.data) for h in grad(closure(), self.params)])
        return bool(np.linalg.norm(new + self.weight_decay * flat) < np.linalg.norm(g))

    def _minimum_at_infinity(
        self, closure: Callable[[], Node], before: list[np.ndarray], flat: np.ndarray, start: float
    ) -> bool:
        """Whether the loss falls further as the parameters are scaled up, 2, 4, 8, ... times,
        to a limit (to within rounding); if so, warn: it has no minimum at finite parameters,
        and Newton's steps would creep towards infinity. A loss with a finite minimum (a convex
        one, or one with L2) rises again along every such ray, most often at the first doubling."""
        previous, found = start, False
        for doubling in range(1, self.MAX_SCALINGS + 1):
            self._set(before, (2**doubling - 1) * flat)
            scaled = self._objective(closure, 2**doubling * flat)
            if not scaled < previous:
                break
            found = previous - scaled <= self.ROUNDING * abs(start)
            if found:
                break
            previous = scaled
        self._set(before, np.zeros_like(flat))
        if found:
            warnings.warn(
                f"Newton.step: the loss has no minimum at finite parameters: it keeps falling as the "
                f"parameters are scaled up, from {start!r} to {scaled!r} at {2**doubling} times them. "
                "For logistic regression this means the data are separable (a hyperplane parts the "
                "classes): the loss goes to 0 and the weights to infinity. Newton stops here, where the "
                "model separates the data; for a finite optimum add L2 (weight_decay, or a penalty in "
                "the loss)",
                RuntimeWarning,
                stacklevel=3,
            )
        return found

    @staticmethod
    def _direction(g: np.ndarray, H: np.ndarray, mu: float) -> np.ndarray:
        """−(H + μ·I)⁻¹·g, or nan where H + μ·I is not positive definite."""
        damped = H + mu * np.eye(len(g))
        try:
            np.linalg.cholesky(damped)  # succeeds exactly when the matrix is positive definite
            return -np.linalg.solve(damped, g)
        except np.linalg.LinAlgError:  # NOTE: solve may still find it singular to rounding
            return np.full(len(g), np.nan)

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
