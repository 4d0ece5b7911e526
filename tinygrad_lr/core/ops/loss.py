"""Losses that are one op each, for exact gradients and no activation-sized temporaries."""

from __future__ import annotations

import numpy as np

from .. import numeric
from ..function import Choice, Domain, Function
from . import movement, unary

__all__ = ["BCEWithLogits", "bce_with_logits"]

REDUCED = {"mean": np.mean, "sum": np.sum, "none": np.asarray}  # each reduction, for the references


class Loss(Function, register=False):
    """What the losses share: a ``reduction`` as the last argument ("mean", "sum" or "none"),
    written in a call when it is not the default "mean"."""

    broadcasts = True  # z against y

    @classmethod
    def write(cls, ctx) -> str:
        return f"{cls.name}(z, y)" if ctx.arguments[2] == "mean" else f"{cls.name}(z, y, reduction)"

    @classmethod
    def checked(cls, reduction: str) -> str:
        if reduction not in REDUCED:
            raise ValueError(f"{cls.name}: reduction must be 'mean', 'sum' or 'none', not {reduction!r}")
        return reduction


class BCEWithLogits(Loss):
    """Binary cross-entropy of logits z against targets y (Values, or Tensors reduced by
    ``reduction``):

    f(z, y) = −y·log σ(z) − (1 − y)·log(1 − σ(z)) = softplus(z) − z·y;
    ∂f/∂z = σ(z) − y,  ∂f/∂y = −z   (divided by the count for "mean").

    softplus never overflows, so the loss is finite for every finite z, and the gradient is
    σ(z) − y up to rounding: the formula of logistic regression, exactly.
    """

    name = "bce_with_logits"
    symbol = "BCE"
    formula = ("(sigmoid(z) - y)/n", "-z/n", "")  # n: the count for a mean, else 1
    domain = (Domain(-6.0, 6.0), Domain(0.0, 1.0), Choice(("mean", "sum", "none")))

    @staticmethod
    def reference(z, y, reduction):
        p = 1 / (1 + np.exp(-np.asarray(z, dtype=np.float64)))
        loss = -(y * np.log(p) + (1 - y) * np.log(1 - p))
        return REDUCED[reduction](loss)

    @staticmethod
    def forward(ctx, z, y, reduction):
        ctx.save_for_backward(z, y)
        ctx.n = 1  # what the sum of the losses is divided by
        same_shape = np.shape(z) == np.shape(y)
        if reduction != "none" and same_shape:
            total = numeric.logistic_loss_sum(z, y)  # no activation-sized array
        else:
            loss = numeric.logistic_loss(z, y)
            if reduction == "none":
                return loss
            total = np.add.reduce(loss, axis=None)
        if reduction == "mean":
            ctx.n = np.size(z) if same_shape else np.size(loss)
        return total / ctx.n

    @staticmethod
    def backward(ctx, grad):
        z, y = ctx.saved_tensors
        if ctx.n != 1:
            grad = grad / ctx.n
        need_z, need_y = ctx.needs_input_grad[:2]
        grad_y = None
        if need_y:
            grad_y = -z * grad
            if np.shape(z) != np.shape(y):  # z was broadcast against y: each y meets its own copy of z
                grad_y = movement.broadcast_to(grad_y, np.broadcast_shapes(np.shape(z), np.shape(y)))
        # NOTE: σ of an array by its kernel (the op's call only wraps it), and left unnamed: numpy
        # then computes − y and · g in its memory, one activation-sized array in all
        sigmoid = numeric.sigmoid if isinstance(z, np.ndarray) else unary.sigmoid
        return (sigmoid(z) - y) * grad if need_z else None, grad_y, None


def bce_with_logits(z, y, reduction: str = "mean"):
    """Binary cross-entropy of logits ``z`` against targets ``y`` in [0, 1], stable for every
    finite z; ``reduction`` is "mean", "sum" or "none"."""
    return BCEWithLogits.apply(z, y, BCEWithLogits.checked(reduction))
