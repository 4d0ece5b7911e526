"""Softmax, log-softmax and the cross-entropy of logits: the multi-class forms of σ, log σ and
binary cross-entropy with logits. Arrays only; the class axis of the loss is the last."""

from __future__ import annotations

import numpy as np

from ..engine import Node
from ..function import Function
from . import movement, reduce, unary


def _shifted(x, axis: int):
    """x − max(x) along ``axis`` (every entry ≤ 0, the largest exactly 0) and log Σ e^(x − max):
    nothing overflows for finite x, and the log is of a number in [1, n]."""
    # NOTE: subtracting the max keeps e^(x − max) in (0, 1]; e^x itself overflows above 709.
    shifted = x - np.max(x, axis=axis, keepdims=True)
    return shifted, np.log(np.add.reduce(np.exp(shifted), axis=axis, keepdims=True))


def _axis_arguments(dtype):
    """An array of at least one dimension and one of its axes (negative ones included)."""
    from ..testing import MAX_SIDE, arrays, hnp, st

    shapes = hnp.array_shapes(min_dims=1, max_dims=3, min_side=1, max_side=MAX_SIDE)
    return arrays(dtype, shapes).flatmap(lambda x: st.tuples(st.just(x), st.integers(-x.ndim, x.ndim - 1)))


class Softmax(Function):
    """f(x)ᵢ = e^xᵢ / Σⱼ e^xⱼ along an axis;  the gradient is out ⊙ (g − Σ g ⊙ out) along it.

    Computed from x − max(x), so finite for every finite x (e^1000 would overflow)."""

    formula = ("out*(g - sum(g*out, axis, True))", "")
    tensor_only = True

    @staticmethod
    def reference(x, axis):
        x = np.asarray(x, dtype=np.longdouble)
        e = np.exp(x - np.max(x, axis=axis, keepdims=True))
        return (e / np.sum(e, axis=axis, keepdims=True)).astype(np.float64)

    @staticmethod
    def arguments(dtype):
        return _axis_arguments(dtype)

    @staticmethod
    def forward(ctx, x, axis):
        ctx.axis = axis
        e = np.exp(x - np.max(x, axis=axis, keepdims=True))
        out = e / np.add.reduce(e, axis=axis, keepdims=True)
        ctx.save_for_backward(out)
        return out

    @staticmethod
    def backward(ctx, grad):
        (out,) = ctx.saved_tensors
        return out * (grad - reduce.sum(grad * out, ctx.axis, True)), None


class LogSoftmax(Function):
    """f(x)ᵢ = xᵢ − log Σⱼ e^xⱼ along an axis;  the gradient is g − softmax(x) ⊙ Σ g along it.

    Computed as (x − max x) − log Σ e^(x − max x): finite for every finite x."""

    name = "log_softmax"
    formula = ("g - exp(out)*sum(g, axis, True)", "")
    tensor_only = True

    @staticmethod
    def reference(x, axis):
        x = np.asarray(x, dtype=np.longdouble)
        top = np.max(x, axis=axis, keepdims=True)
        return (x - top - np.log(np.sum(np.exp(x - top), axis=axis, keepdims=True))).astype(np.float64)

    @staticmethod
    def arguments(dtype):
        return _axis_arguments(dtype)

    @staticmethod
    def forward(ctx, x, axis):
        ctx.axis = axis
        shifted, log_total = _shifted(x, axis)
        out = shifted - log_total
        ctx.save_for_backward(out)
        return out

    @staticmethod
    def backward(ctx, grad):
        (out,) = ctx.saved_tensors
        return grad - unary.exp(out) * reduce.sum(grad, ctx.axis, True), None


class CrossEntropy(Function):
    """Cross-entropy of logits z against target probabilities y along the last axis (one-hot
    rows for class labels, possibly scaled by class weights), reduced by ``reduction``:

    f(z, y) = Σᵢ yᵢ · (log Σⱼ e^zⱼ − zᵢ) = −Σᵢ yᵢ · log softmax(z)ᵢ per row;
    ∂f/∂z = softmax(z)·Σy − y,  ∂f/∂y = −log softmax(z)   (divided by the rows for "mean").

    For one-hot y (Σy = 1) the gradient is softmax(z) − y: softmax regression's formula, as
    BCE with logits gives σ(z) − y. Each row's loss is (max z − zᵢ) + log Σ e^(z − max z),
    two parts that are never negative: finite for every finite z, and nothing cancels.
    """

    name = "cross_entropy"
    symbol = "CE"

    @classmethod
    def write(cls, ctx) -> str:
        return "cross_entropy(z, y)" if ctx.arguments[2] == "mean" else "cross_entropy(z, y, reduction)"

    formula = ("(softmax(z, -1)*sum(y, -1, True) - y)/n", "-log_softmax(z, -1)/n", "")  # n: rows for a mean
    tensor_only = True

    @staticmethod
    def reference(z, y, reduction):
        z = np.asarray(z, dtype=np.longdouble)
        top = np.max(z, axis=-1, keepdims=True)
        log_p = z - top - np.log(np.sum(np.exp(z - top), axis=-1, keepdims=True))
        loss = -np.sum(y * log_p, axis=-1)
        return {"mean": np.mean, "sum": np.sum, "none": np.asarray}[reduction](loss).astype(np.float64)

    @staticmethod
    def arguments(dtype):
        from ..function import Domain
        from ..testing import MAX_SIDE, arrays, hnp, st

        shapes = hnp.array_shapes(min_dims=1, max_dims=3, min_side=1, max_side=MAX_SIDE)
        return shapes.flatmap(
            lambda shape: st.tuples(
                arrays(dtype, shape),
                arrays(dtype, shape, Domain(0.0, 1.0)),
                st.sampled_from(("mean", "sum", "none")),
            )
        )

    @staticmethod
    def forward(ctx, z, y, reduction):
        shifted, log_total = _shifted(z, -1)
        # NOTE: −y·(z − max) ≥ 0 and log_total ≥ 0 for y ≥ 0: a sum of non-negative parts
        loss = np.add.reduce(y * (log_total - shifted), axis=-1)
        ctx.probabilities = np.exp(shifted - log_total)  # softmax(z), for backward without a graph
        ctx.save_for_backward(z, y)
        ctx.n = 1  # what the sum of the losses is divided by
        if reduction == "none":
            return loss
        total = np.add.reduce(loss, axis=None)
        if reduction == "mean":
            ctx.n = max(loss.size, 1)
        return total / ctx.n

    @staticmethod
    def backward(ctx, grad):
        z, y = ctx.saved_tensors
        need_z, need_y = ctx.needs_input_grad[:2]
        if np.ndim(grad) > 0:  # reduction "none": one gradient per row, spread over its classes
            grad = movement.reshape(grad, (*np.shape(grad), 1))
        if ctx.n != 1:
            grad = grad / ctx.n
        grad_z = grad_y = None
        if need_z:
            if isinstance(z, Node):  # create_graph: the gradient as a differentiable graph
                grad_z = (Softmax.apply(z, -1) * reduce.sum(y, -1, True) - y) * grad
            else:  # NOTE: a one-hot row sums to exactly 1, so this is softmax(z) − y exactly
                grad_z = (ctx.probabilities * np.add.reduce(y, axis=-1, keepdims=True) - y) * grad
        if need_y:
            grad_y = -LogSoftmax.apply(z, -1) * grad
        return grad_z, grad_y, None


def softmax(x, axis: int = -1):
    """e^x / Σ e^x along ``axis``: probabilities that sum to 1, stable for every finite x."""
    return Softmax.apply(x, _axis(x, axis, "softmax"))


def log_softmax(x, axis: int = -1):
    """x − log Σ e^x along ``axis``, stable for every finite x (the log of softmax, without
    the log of a rounded probability)."""
    return LogSoftmax.apply(x, _axis(x, axis, "log_softmax"))


def cross_entropy(z, y, reduction: str = "mean"):
    """Cross-entropy of logits ``z`` (..., classes) against target probabilities ``y`` of the
    same shape; ``reduction`` is "mean" (over rows), "sum" or "none"."""
    if reduction not in ("mean", "sum", "none"):
        raise ValueError(f"cross_entropy: reduction must be 'mean', 'sum' or 'none', not {reduction!r}")
    return CrossEntropy.apply(z, y, reduction)


def _axis(x, axis, op: str) -> int:
    ndim = getattr(x, "ndim", 0)
    if isinstance(axis, (bool, np.bool_)) or not isinstance(axis, (int, np.integer)):
        raise TypeError(f"{op}: the axis is one whole number, not {axis!r}")
    if ndim == 0:
        raise ValueError(f"{op}: needs an array of at least one dimension, got a single number")
    if not -ndim <= axis < ndim:
        raise ValueError(f"{op}: axis {axis} is out of range for an array of {ndim} dimensions")
    return int(axis)
