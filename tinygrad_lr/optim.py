"""Optimisers: SGD, Adam and AdamW update parameters from their gradients, with PyTorch's
formulas, parameter groups and state; Newton takes the Hessian from the engine's second
derivatives (for small, smooth problems such as logistic regression).
"""

from __future__ import annotations

import copy
import math
import numbers
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
            if not isinstance(p, Node) or not p.requires_grad:
                raise TypeError(
                    f"{name}: parameter {i} is {type(p).__name__}"
                    + (" that does not require grad" if isinstance(p, Node) else "")
                    + "; give Values or Tensors with requires_grad=True (module.parameters())"
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
