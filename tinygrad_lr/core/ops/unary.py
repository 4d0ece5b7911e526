"""Elementwise functions: exp, log and the activations. Each op: its math, forward, backward."""

from __future__ import annotations

import math
import numbers

import numpy as np

from .. import numeric
from ..function import Choice, Domain, Function

__all__ = ["Abs", "Clamp", "Exp", "Log", "ReLU", "Sigmoid", "Softplus", "Sqrt", "Tanh"]
__all__ += ["abs_", "clamp", "exp", "log", "relu", "sigmoid", "softplus", "sqrt", "tanh"]


class Exp(Function):
    """f(x) = eˣ;  f'(x) = eˣ = f(x)."""

    formula = "out"
    domain = (Domain(-5.0, 5.0),)
    reference = np.exp

    @staticmethod
    def forward(ctx, x):
        return numeric.exp(x)


class Log(Function):
    """f(x) = ln x;  f'(x) = 1/x. IEEE: ln 0 = −inf, ln(x < 0) = nan."""

    formula = "1/x"
    domain = (Domain(0.2, 10.0),)
    reference = np.log

    @staticmethod
    def forward(ctx, x):
        return numeric.log(x)


class Sigmoid(Function):
    """f(x) = σ(x) = 1 / (1 + e⁻ˣ);  f'(x) = σ(x)·(1 − σ(x)). Never overflows."""

    symbol = "σ"
    formula = "out*(1 - out)"
    domain = (Domain(-8.0, 8.0),)

    @staticmethod
    def reference(x):
        return 1 / (1 + np.exp(-x))

    @staticmethod
    def forward(ctx, x):
        return numeric.sigmoid(x)


class Tanh(Function):
    """f(x) = tanh x;  f'(x) = 1 − tanh² x."""

    formula = "1 - out**2"
    domain = (Domain(-4.0, 4.0),)
    reference = np.tanh

    @staticmethod
    def forward(ctx, x):
        return numeric.tanh(x)


class ReLU(Function):
    """f(x) = max(x, 0);  f'(x) = 1 if x > 0 else 0."""

    symbol = "ReLU"
    formula = "where(out > 0, g, 0)"  # NOTE: chosen, not multiplied: an inf arriving at 0 stays out
    domain = (Domain(avoid=(0.0,)),)

    @staticmethod
    def reference(x):
        return np.where(x > 0, x, 0.0)

    @staticmethod
    def forward(ctx, x):
        return numeric.relu(x)


class Softplus(Function):
    """f(x) = log(1 + eˣ);  f'(x) = σ(x). The smooth ReLU, and the stable core of the logistic
    loss: −log σ(z) = softplus(−z)."""

    formula = "sigmoid(x)"
    domain = (Domain(-8.0, 8.0),)

    @staticmethod
    def reference(x):
        return np.log1p(np.exp(x))

    @staticmethod
    def forward(ctx, x):
        return numeric.softplus(x)


exp, log, sigmoid, tanh, relu = Exp.apply, Log.apply, Sigmoid.apply, Tanh.apply, ReLU.apply
softplus = Softplus.apply


# --- absolute value, square root, clamping --------------------------------------------------------
# At their non-differentiable points these follow PyTorch: abs'(0) = 0, sqrt'(0) = inf, and a
# clamped input exactly at a bound gets the gradient (the bounds are inclusive).


class Abs(Function):
    """f(x) = |x|;  f'(x) = sign x, and 0 at x = 0 (PyTorch's choice, a subgradient)."""

    formula = "sign(x)"
    domain = (Domain(avoid=(0.0,)),)
    reference = np.abs

    @staticmethod
    def forward(ctx, x):
        return abs(x)


class Sqrt(Function):
    """f(x) = √x;  f'(x) = 1/(2√x): inf at x = 0 (as PyTorch). IEEE: √(x < 0) = nan."""

    symbol = "√"
    formula = "0.5/out"
    domain = (Domain(0.2, 5.0),)
    reference = np.sqrt

    @staticmethod
    def forward(ctx, x):
        # a float: math.sqrt, correctly rounded as np.sqrt, and nan below 0 rather than an error
        return np.sqrt(x) if isinstance(x, np.ndarray) else math.sqrt(x) if x >= 0 or x != x else math.nan


class Clamp(Function):
    """f(x) = min(max(x, low), high) (a bound of None: no bound);  f'(x) = 1 where
    low ≤ x ≤ high, else 0. At a bound the gradient passes, as PyTorch's; with low > high every
    element is ``high`` and no gradient passes (as PyTorch)."""

    formula = ("where((x >= lower)*(x <= upper), g, 0)", "", "")  # NOTE: chosen, as relu's
    domain = (Domain(-3.0, 3.0, avoid=(-1.0, 1.0)), Choice((-1.0, None)), Choice((1.0, None)))

    @staticmethod
    def reference(x, low, high):
        if low is None and high is None:
            return x
        return np.clip(x, low, high)

    @staticmethod
    def forward(ctx, x, low, high):
        ctx.lower = -math.inf if low is None else low
        ctx.upper = math.inf if high is None else high
        if low is None and high is None:
            return x * 1 if isinstance(x, np.ndarray) else x  # a new array: never the input's
        out = np.clip(x, low, high)
        return out if isinstance(x, np.ndarray) else float(out)


abs_, sqrt = Abs.apply, Sqrt.apply


def clamp(x, min: float | None = None, max: float | None = None):
    """``x`` limited to ``[min, max]`` elementwise (PyTorch's ``clamp``, numpy's ``clip``); one
    bound may be None. The gradient passes where min ≤ x ≤ max, bounds included (as PyTorch)."""
    if min is None and max is None:
        raise ValueError("clamp: give min, max or both (at least one must not be None)")
    bounds = []
    for name, bound in (("min", min), ("max", max)):
        if bound is not None and (isinstance(bound, bool) or not isinstance(bound, numbers.Real)):
            raise TypeError(
                f"clamp: {name} must be a number or None, not {type(bound).__name__}; for "
                "elementwise bounds use tg.where(x < low, low, x)"
            )
        if bound is not None and bound != bound:
            raise ValueError(f"clamp: {name} is nan; a bound must be a number")
        bounds.append(bound.item() if isinstance(bound, np.generic) else bound)  # a Python number
    return Clamp.apply(x, *bounds)
