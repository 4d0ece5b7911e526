"""Elementwise functions: exp, log and the activations. Each op: its math, forward, backward."""

from __future__ import annotations

import numpy as np

from .. import numeric
from ..function import Domain, Function
from . import arithmetic


class Exp(Function):
    """f(x) = eˣ;  f'(x) = eˣ = f(x)."""

    symbol = "exp"
    written = "exp(x)"
    formula = "exp(x)"
    domain = (Domain(-5.0, 5.0),)
    reference = np.exp

    @staticmethod
    def forward(ctx, x):
        out = numeric.exp(x)
        ctx.save_for_backward(out)
        return out

    @staticmethod
    def backward(ctx, grad):
        (out,) = ctx.saved_tensors
        return grad * out


class Log(Function):
    """f(x) = ln x;  f'(x) = 1/x. IEEE: ln 0 = −inf, ln(x < 0) = nan."""

    symbol = "log"
    written = "log(x)"
    formula = "1/x"
    domain = (Domain(0.2, 10.0),)
    reference = np.log

    @staticmethod
    def forward(ctx, x):
        ctx.save_for_backward(x)
        return numeric.log(x)

    @staticmethod
    def backward(ctx, grad):
        (x,) = ctx.saved_tensors
        return arithmetic.div(grad, x)


class Sigmoid(Function):
    """f(x) = σ(x) = 1 / (1 + e⁻ˣ);  f'(x) = σ(x)·(1 − σ(x)). Never overflows."""

    symbol = "σ"
    written = "sigmoid(x)"
    formula = "sigmoid(x)*(1 - sigmoid(x))"
    domain = (Domain(-8.0, 8.0),)

    @staticmethod
    def reference(x):
        return 1 / (1 + np.exp(-x))

    @staticmethod
    def forward(ctx, x):
        out = numeric.sigmoid(x)
        ctx.save_for_backward(out)
        return out

    @staticmethod
    def backward(ctx, grad):
        (out,) = ctx.saved_tensors
        return grad * out * (1 - out)


class Tanh(Function):
    """f(x) = tanh x;  f'(x) = 1 − tanh² x."""

    symbol = "tanh"
    written = "tanh(x)"
    formula = "1 - tanh(x)**2"
    domain = (Domain(-4.0, 4.0),)
    reference = np.tanh

    @staticmethod
    def forward(ctx, x):
        out = numeric.tanh(x)
        ctx.save_for_backward(out)
        return out

    @staticmethod
    def backward(ctx, grad):
        (out,) = ctx.saved_tensors
        return grad * (1 - out * out)


class ReLU(Function):
    """f(x) = max(x, 0);  f'(x) = 1 if x > 0 else 0."""

    name = "relu"
    symbol = "ReLU"
    written = "relu(x)"
    formula = "(x > 0)"
    domain = (Domain(avoid=(0.0,)),)

    @staticmethod
    def reference(x):
        return np.where(x > 0, x, 0.0)

    @staticmethod
    def forward(ctx, x):
        # The step function's own derivative is 0, so the mask is a constant even for
        # higher-order gradients: keep it as an attribute, not a saved tensor.
        ctx.mask = x > 0
        return numeric.relu(x)

    @staticmethod
    def backward(ctx, grad):
        return grad * ctx.mask


exp, log, sigmoid, tanh, relu = Exp.apply, Log.apply, Sigmoid.apply, Tanh.apply, ReLU.apply


class Softplus(Function):
    """f(x) = log(1 + eˣ);  f'(x) = σ(x). The smooth ReLU, and the stable core of the logistic
    loss: −log σ(z) = softplus(−z)."""

    symbol = "softplus"
    written = "softplus(x)"
    formula = "sigmoid(x)"
    domain = (Domain(-8.0, 8.0),)

    @staticmethod
    def reference(x):
        return np.log1p(np.exp(x))

    @staticmethod
    def forward(ctx, x):
        ctx.save_for_backward(x)
        return numeric.softplus(x)

    @staticmethod
    def backward(ctx, grad):
        (x,) = ctx.saved_tensors
        return grad * sigmoid(x)


softplus = Softplus.apply
