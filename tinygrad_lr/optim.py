"""Optimisers: SGD, Adam and AdamW update parameters from their gradients, with PyTorch's
formulas, parameter groups and state; Newton takes the Hessian from the engine's second
derivatives (for small, smooth problems such as logistic regression).
"""

from __future__ import annotations

import copy
import math
import numbers
import warnings
from collections.abc import Callable, Iterable, Mapping
from typing import Any

import numpy as np

from .core.engine import Node, grad, no_grad, zero_grad


class Optimizer:
    """Holds the parameters in ``param_groups``; ``step()`` updates them from ``.grad``,
    ``zero_grad()`` clears it.

    As ``torch.optim``: ``params`` is an iterable of parameters, or of dicts each with
    ``'params'`` and any settings of its own (the others are the constructor's). Each group is a
    dict of the settings a step reads, so changing ``group['lr']`` changes the next step (a
    learning-rate schedule). ``opt.lr`` (any setting) reads or writes it in every group.
    ``state`` holds each parameter's running statistics; ``state_dict()`` and
    ``load_state_dict()`` save and restore groups and state, so training resumes exactly.

    Updates are in place, as in PyTorch: each parameter stays the same object, and its version
    counts the change, so a graph recorded before the step refuses to backpropagate through the
    old values (run forward again after each step). ``weight_decay`` λ adds λ·p to the gradient.
    """

    def __init__(
        self, params: Iterable[Node] | Iterable[dict], lr: float, weight_decay: float = 0.0, **defaults: Any
    ):
        self.defaults = {"lr": lr, "weight_decay": weight_decay, **defaults}
        self.param_groups: list[dict[str, Any]] = []
        self.state: dict[Node, dict[str, Any]] = {}
        params = list(params)
        if not params:
            raise ValueError(f"{type(self).__name__}: got no parameters to optimise")
        for group in params if isinstance(params[0], Mapping) else [{"params": params}]:
            self.add_param_group(group)

    @property
    def params(self) -> list[Node]:
        """Every parameter, group after group (the numbering of errors and of ``state_dict``)."""
        return [p for group in self.param_groups for p in group["params"]]

    def add_param_group(self, param_group: Mapping[str, Any]) -> None:
        """Optimise more parameters, with settings of their own (the rest the constructor's)."""
        name = type(self).__name__
        if not isinstance(param_group, Mapping) or "params" not in param_group:
            raise TypeError(f"{name}: a parameter group is a dict with 'params', got {param_group!r}")
        group = self._settings({**self.defaults, **param_group})
        given = param_group["params"]
        group["params"] = [given] if isinstance(given, Node) else list(given)
        if not group["params"]:
            raise ValueError(f"{name}: got no parameters to optimise")
        known = self.params
        for i, p in enumerate(group["params"], start=len(known)):
            if not isinstance(p, Node):  # a frozen one is kept, and skipped while it has no gradient
                raise TypeError(
                    f"{name}: parameter {i} is {type(p).__name__}; "
                    "give Values or Tensors (module.parameters())"
                )
            if not p.is_leaf:  # as PyTorch: backward gives it no .grad, so it would never move
                raise ValueError(
                    f"{name}: parameter {i} ({p.label or np.shape(p.data)}) is not a leaf but the result "
                    f"of an op ({p.op}), so backward leaves its .grad alone and it would never be updated; "
                    "make the parameter first and compute with it, e.g. "
                    "w = tg.randn(3) * 0.5; w.requires_grad = True"
                )
            known.append(p)
            first = next(j for j, q in enumerate(known) if q is p)
            if first != i:
                raise ValueError(
                    f"{name}: parameter {i} is parameter {first} again; each would be stepped twice. "
                    "Give every parameter once (module.parameters() lists shared ones once)"
                )
        self.param_groups.append(group)

    def _settings(self, group: dict[str, Any]) -> dict[str, Any]:
        """``group`` with its settings checked (a subclass checks its own, then calls this)."""
        if unknown := sorted(set(group) - set(self.defaults) - {"params"}):
            raise ValueError(
                f"{type(self).__name__}: unknown setting {unknown[0]!r}; "
                f"the settings are {', '.join(self.defaults)}"
            )
        group["lr"] = self._number(group["lr"], "the learning rate lr", low=0.0, low_open=True)
        group["weight_decay"] = self._number(group["weight_decay"], "weight_decay", 0.0)
        return group

    def __getattr__(self, name: str) -> Any:
        groups = self.__dict__.get("param_groups", [])
        if name == "params" or not groups or name not in groups[0]:
            raise AttributeError(f"{type(self).__name__!r} object has no attribute {name!r}")
        if any(group[name] != groups[0][name] for group in groups):
            raise AttributeError(
                f"{type(self).__name__}.{name} differs between the parameter groups; "
                f"read param_groups[i][{name!r}]"
            )
        return groups[0][name]

    def __setattr__(self, name: str, value: Any) -> None:
        if name in self.__dict__.get("defaults", ()):  # a setting: every group's, checked
            for group in self.param_groups:
                group.update(self._settings({**group, name: value}))
        else:
            object.__setattr__(self, name, value)

    def zero_grad(self) -> None:
        """Forget the parameters' gradients (before the next backward pass)."""
        zero_grad(self.params)

    def step(self, closure: Callable[[], Any] | None = None) -> Any:
        """Update every parameter that has a gradient; returns ``closure()`` if given (it runs first).

        A parameter that the loss did not use (its ``.grad`` None) is skipped, as in PyTorch;
        if no parameter has a gradient, or one is not finite, nothing changes and an error says so.
        """
        loss = closure() if closure is not None else None
        grads = self._grads()
        for group in self.param_groups:
            for p in group["params"]:
                if (g := grads.get(p)) is not None:
                    self._step(p, g, self.state.setdefault(p, {}), group)
        return loss

    def _step(self, p: Node, g: np.ndarray, state: dict[str, Any], group: dict[str, Any]) -> None:
        """Update ``p`` from its gradient ``g``, its ``state`` and its group's settings."""
        raise NotImplementedError(f"{type(self).__name__} defines no step")

    def state_dict(self) -> dict[str, Any]:
        """A copy of the state and the groups, PyTorch's layout: ``{'state': {i: {...}},
        'param_groups': [{settings..., 'params': [i, ...]}]}``, parameters by their number."""
        params = self.params
        number = {id(p): i for i, p in enumerate(params)}
        return {
            "state": {i: copy.deepcopy(self.state[p]) for i, p in enumerate(params) if self.state.get(p)},
            "param_groups": [
                {**_settings_of(group), "params": [number[id(p)] for p in group["params"]]}
                for group in self.param_groups
            ],
        }

    def load_state_dict(self, state_dict: Mapping[str, Any]) -> None:
        """Take the state and the groups' settings from ``state_dict`` (as made by ``state_dict``).

        The groups must hold as many parameters as this optimiser's, and each saved statistic
        must have its parameter's shape; otherwise a ValueError says what differs, and nothing changes.
        """
        name = f"{type(self).__name__}.load_state_dict"
        saved = state_dict["param_groups"]
        sizes = [len(group["params"]) for group in self.param_groups]
        if [len(group["params"]) for group in saved] != sizes:
            raise ValueError(
                f"{name}: the saved groups hold {[len(group['params']) for group in saved]} parameters, "
                f"this optimiser's {sizes}; load into an optimiser made with the same parameters"
            )
        by_number = {
            i: p
            for group, mine in zip(saved, self.param_groups)
            for i, p in zip(group["params"], mine["params"])
        }
        state = {}
        for i, entries in state_dict["state"].items():
            if (p := by_number.get(int(i))) is None:
                raise ValueError(f"{name}: there is state for parameter {i}, which no saved group lists")
            for key, value in entries.items():
                if not isinstance(value, numbers.Real) and np.shape(value) != np.shape(p.data):
                    raise ValueError(
                        f"{name}: state {key!r} of parameter {i} has shape {np.shape(value)}, "
                        f"the parameter {np.shape(p.data)}; the state is of another model"
                    )
            state[p] = copy.deepcopy(dict(entries))
        groups = [
            self._settings({**mine, **_settings_of(group), "params": mine["params"]})
            for group, mine in zip(saved, self.param_groups)
        ]
        self.state, self.param_groups = state, groups

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

    def _flag(self, value: bool, what: str) -> bool:
        """``value`` if it is True or False; else a TypeError that says so."""
        if not isinstance(value, (bool, np.bool_)):
            raise TypeError(f"{type(self).__name__}: {what} must be True or False, got {value!r}")
        return bool(value)

    def _grads(self) -> dict[Node, np.ndarray]:
        """Each parameter's gradient that exists, once all are checked to be finite."""
        grads = {}
        for i, p in enumerate(self.params):
            if p.grad is None:
                continue
            if not np.all(np.isfinite(np.asarray(p.grad, dtype=np.float64))):
                raise FloatingPointError(
                    f"{self._where(i, 'the gradient of ')} is not finite; "
                    "lower the learning rate, or check the loss for log(0) or overflow"
                )
            grads[p] = np.asarray(p.grad)
        if not grads:
            raise RuntimeError(
                f"{type(self).__name__}.step: no parameter has a gradient; "
                "call loss.backward() first (and check that the loss depends on the parameters)"
            )
        return grads

    def _where(self, i: int, what: str = "") -> str:
        """Names parameter i for an error message of step()."""
        p = self.params[i]
        return f"{type(self).__name__}.step: {what}parameter {i} ({p.label or np.shape(p.data)})"

    @staticmethod
    def _update(p: Node, delta: np.ndarray, scale: float = 1.0) -> None:
        """p ← scale·p − delta, in place (the version counts it)."""
        with no_grad():
            if scale != 1.0:
                p *= scale
            p -= delta if np.ndim(delta) else float(delta)


def _settings_of(group: Mapping[str, Any]) -> dict[str, Any]:
    """A copy of a parameter group's settings, without its parameters."""
    return copy.deepcopy({key: value for key, value in group.items() if key != "params"})


class SGD(Optimizer):
    """Gradient descent, PyTorch's formula: d = g + λ·p;  with momentum μ, v ← μ·v + (1 − τ)·d
    (v = d at the first step) and d = v, or d + μ·v with ``nesterov``;  p ← p − lr·d.
    τ is ``dampening``; Nesterov needs μ > 0 and τ = 0.
    """

    def __init__(
        self,
        params: Iterable[Node] | Iterable[dict],
        lr: float,
        momentum: float = 0.0,
        dampening: float = 0.0,
        weight_decay: float = 0.0,
        nesterov: bool = False,
    ):
        super().__init__(params, lr, weight_decay, momentum=momentum, dampening=dampening, nesterov=nesterov)

    def _settings(self, group: dict[str, Any]) -> dict[str, Any]:
        group["momentum"] = self._number(group["momentum"], "momentum", 0.0, 1.0, high_open=True)
        group["dampening"] = self._number(group["dampening"], "dampening", 0.0, 1.0)
        group["nesterov"] = self._flag(group["nesterov"], "nesterov")
        if group["nesterov"] and (group["momentum"] == 0 or group["dampening"] != 0):
            raise ValueError(
                f"SGD: nesterov needs a momentum above 0 and dampening 0, got momentum "
                f"{group['momentum']:g} and dampening {group['dampening']:g}"
            )
        return super()._settings(group)

    def _step(self, p: Node, g: np.ndarray, state: dict[str, Any], group: dict[str, Any]) -> None:
        if group["weight_decay"]:
            g = g + group["weight_decay"] * p.data
        if momentum := group["momentum"]:
            v = state.get("momentum_buffer")
            v = state["momentum_buffer"] = (
                np.array(g, dtype=np.float64) if v is None else momentum * v + (1 - group["dampening"]) * g
            )
            g = g + momentum * v if group["nesterov"] else v
        self._update(p, group["lr"] * g)


class Adam(Optimizer):
    """Adam, PyTorch's formula: g ← g + λ·p (or, ``decoupled_weight_decay``, p ← p·(1 − lr·λ));
    m ← β₁·m + (1 − β₁)·g;  v ← β₂·v + (1 − β₂)·g²;  with ``amsgrad`` v̂ is the largest v so far;
    p ← p − lr / (1 − β₁ᵗ) · m / (√v̂ / √(1 − β₂ᵗ) + ε), t counting this parameter's steps.
    """

    def __init__(
        self,
        params: Iterable[Node] | Iterable[dict],
        lr: float = 1e-3,
        betas: tuple[float, float] = (0.9, 0.999),
        eps: float = 1e-8,
        weight_decay: float = 0.0,
        amsgrad: bool = False,
        *,
        decoupled_weight_decay: bool = False,
    ):
        super().__init__(
            params,
            lr,
            weight_decay,
            betas=betas,
            eps=eps,
            amsgrad=amsgrad,
            decoupled_weight_decay=decoupled_weight_decay,
        )

    def _settings(self, group: dict[str, Any]) -> dict[str, Any]:
        name, betas = type(self).__name__, group["betas"]
        if not isinstance(betas, (tuple, list)) or len(betas) != 2:
            raise TypeError(f"{name}: betas must be a pair (beta1, beta2), got {betas!r}")
        group["betas"] = tuple(
            self._number(b, f"betas[{i}]", 0.0, 1.0, high_open=True) for i, b in enumerate(betas)
        )
        group["eps"] = self._number(group["eps"], "eps", 0.0, low_open=True)
        group["amsgrad"] = self._flag(group["amsgrad"], "amsgrad")
        group["decoupled_weight_decay"] = self._flag(
            group["decoupled_weight_decay"], "decoupled_weight_decay"
        )
        return super()._settings(group)

    def _step(self, p: Node, g: np.ndarray, state: dict[str, Any], group: dict[str, Any]) -> None:
        (b1, b2), lr, decay = group["betas"], group["lr"], group["weight_decay"]
        if not state:
            state.update(step=0, exp_avg=np.zeros(np.shape(p.data)), exp_avg_sq=np.zeros(np.shape(p.data)))
        state["step"] += 1
        if decay and not group["decoupled_weight_decay"]:
            g = g + decay * p.data
        m = state["exp_avg"] = state["exp_avg"] + (1 - b1) * (g - state["exp_avg"])  # PyTorch's lerp
        v = state["exp_avg_sq"] = b2 * state["exp_avg_sq"] + (1 - b2) * (g * g)
        if group["amsgrad"]:
            v = state["max_exp_avg_sq"] = np.maximum(state.get("max_exp_avg_sq", v), v)
        t = state["step"]
        denominator = np.sqrt(v) / (1 - b2**t) ** 0.5 + group["eps"]
        scale = 1 - lr * decay if group["decoupled_weight_decay"] else 1.0
        self._update(p, lr / (1 - b1**t) * (m / denominator), scale)


class AdamW(Adam):
    """Adam with decoupled weight decay (Loshchilov and Hutter): p ← p·(1 − lr·λ) before the
    Adam step, instead of λ·p in the gradient; PyTorch's defaults (λ = 0.01)."""

    def __init__(
        self,
        params: Iterable[Node] | Iterable[dict],
        lr: float = 1e-3,
        betas: tuple[float, float] = (0.9, 0.999),
        eps: float = 1e-8,
        weight_decay: float = 1e-2,
        amsgrad: bool = False,
    ):
        super().__init__(params, lr, betas, eps, weight_decay, amsgrad, decoupled_weight_decay=True)


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
