"""Softmax, log-softmax and the cross-entropy of logits: the multi-class forms of σ, log σ and
binary cross-entropy with logits. Arrays only; the class axis of the loss is the last."""

from __future__ import annotations

import numpy as np

from ..axes import normal_axis, spelled
from ..engine import Node
from ..function import Function
from . import movement, reduce, unary
from .loss import REDUCED, Loss

__all__ = ["CrossEntropy", "LogSoftmax", "Softmax", "cross_entropy", "log_softmax", "softmax"]


def _max(x, axis: int):
    """max along ``axis``, keeping it. NOTE: numpy reduces a short last axis slowly (73 µs for
    1797x10, against 21 µs for a maximum of its columns taken one by one)."""
    if axis % x.ndim == x.ndim - 1 and x.shape[-1] <= 16:
        top = x[..., 0].copy()
        for k in range(1, x.shape[-1]):
            np.maximum(top, x[..., k], out=top)
        return top[..., None]
    return np.max(x, axis=axis, keepdims=True)


def _sum(x, axis: int):
    """Σ along ``axis``, keeping it: a product with a vector of ones for the last axis (BLAS, 6 µs
    for 1797x10, where numpy's reduction of a short last axis takes 45 µs)."""
    if axis % x.ndim == x.ndim - 1:
        return (x @ np.ones(x.shape[-1], dtype=x.dtype))[..., None]
    return np.add.reduce(x, axis=axis, keepdims=True)


def _log_softmax_reference(x, axis: int):
    """log softmax along ``axis`` computed in long double, the references' common part."""
    x = np.asarray(x, dtype=np.longdouble)
    top = np.max(x, axis=axis, keepdims=True)
    return x - top - np.log(np.sum(np.exp(x - top), axis=axis, keepdims=True))


def _shifted(x, axis: int):
    """x − max(x) along ``axis`` (every entry ≤ 0, the largest exactly 0), e^(x − max), and
    Σ e^(x − max) (a number in [1, n]): nothing overflows for finite x."""
    # NOTE: subtracting the max keeps e^(x − max) in (0, 1]; e^x itself overflows above 709.
    shifted = x - _max(x, axis)
    e = np.exp(shifted)
    return shifted, e, _sum(e, axis)


def _log_total(shifted, e, total, axis: int):
    """log Σ e^(x − max) = log(1 + s), with s the sum of the entries below the max, to full
    relative precision even where the result is tiny (one entry dominating by 30 or more)."""
    # NOTE: log(total) would lose s to the rounding of 1 + s: a loss of 4e-7 came out 1e-11 wrong.
    # The max entries are exactly 1 in e; their count less one is total − 1 − s rounded.
    below = _sum(e - (shifted == 0), axis)  # the max entries become exactly 0
    return np.log1p(below + np.rint(total - 1 - below))


def _target_sum(y, shifted, rows: bool):
    """Σ y·(z − max) per row (``rows``) or over all: the targets' log-probabilities, up to the
    normalizer. A class with y = 0 adds nothing, even one masked out by z = −inf, where the
    product would be 0·(−inf) = nan: a class label picks its own log-probability alone."""
    total = _sum(y * shifted, -1)[..., 0] if rows else np.vdot(y, shifted)
    if not np.isfinite(total).all():  # NOTE: a second pass only where something is not finite
        shifted = np.where(y != 0, shifted, 0)
        total = _sum(y * shifted, -1)[..., 0] if rows else np.vdot(y, shifted)
    return total


class Softmax(Function):
    """f(x)ᵢ = e^xᵢ / Σⱼ e^xⱼ along an axis;  the gradient is out ⊙ (g − Σ g ⊙ out) along it.

    Computed from x − max(x), so finite for every finite x (e^1000 would overflow)."""

    formula = ("out*(g - sum(g*out, axis, True))", "")
    tensor_only = True
    domain = "axis"

    @staticmethod
    def reference(x, axis):
        return np.exp(_log_softmax_reference(x, axis)).astype(np.float64)

    @staticmethod
    def forward(ctx, x, axis):
        ctx.axis = axis
        _, e, total = _shifted(x, axis)
        out = e / total
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
    domain = "axis"

    @staticmethod
    def reference(x, axis):
        return _log_softmax_reference(x, axis).astype(np.float64)

    @staticmethod
    def forward(ctx, x, axis):
        ctx.axis = axis
        shifted, e, total = _shifted(x, axis)
        out = shifted - _log_total(shifted, e, total, axis)
        ctx.save_for_backward(out)
        return out

    @staticmethod
    def backward(ctx, grad):
        (out,) = ctx.saved_tensors
        return grad - unary.exp(out) * reduce.sum(grad, ctx.axis, True), None


class CrossEntropy(Loss):
    """Cross-entropy of logits z against target probabilities y along the last axis (one-hot
    rows for class labels, possibly scaled by class weights), reduced by ``reduction``:

    f(z, y) = Σᵢ yᵢ · (log Σⱼ e^zⱼ − zᵢ) = −Σᵢ yᵢ · log softmax(z)ᵢ per row;
    ∂f/∂z = softmax(z)·Σy − y,  ∂f/∂y = −log softmax(z)   (divided by the rows for "mean").

    For one-hot y (Σy = 1) the gradient is softmax(z) − y: softmax regression's formula, as
    BCE with logits gives σ(z) − y. The loss is finite for every finite z (see forward), and
    for z = −inf in a class whose y is 0 (a class masked out: 0·log 0 counts as 0).
    """

    name = "cross_entropy"
    symbol = "CE"
    formula = ("(softmax(z, -1)*sum(y, -1, True) - y)/n", "-log_softmax(z, -1)/n", "")  # n: rows for a mean
    tensor_only = True
    domain = "cross_entropy"

    @staticmethod
    def reference(z, y, reduction):
        loss = -np.sum(y * _log_softmax_reference(z, -1), axis=-1)
        return REDUCED[reduction](loss).astype(np.float64)

    @staticmethod
    def forward(ctx, z, y, reduction):
        if np.shape(y) != z.shape:  # NOTE: as PyTorch: a target that broadcasts is still a mistake
            raise ValueError(
                f"cross_entropy: target probabilities of shape {np.shape(y)} for logits of shape "
                f"{z.shape}; give the target the logits' shape, one row of probabilities per row"
            )
        shifted, e, total = _shifted(z, -1)
        ctx.probabilities = e / total  # softmax(z), for backward without a graph
        log_total = _log_total(shifted, e, total, -1)[..., 0]
        rows = _sum(y, -1)[..., 0]  # Σy per row: 1 for one-hot rows
        ctx.one_hot = bool(np.all(rows == 1))
        ctx.save_for_backward(z, y)
        ctx.n = 1  # what the sum of the losses is divided by
        # NOTE: each row's loss is Σy·log Σe^(z − max) + Σy·(max − z): two parts that are never
        # negative for y ≥ 0, so nothing cancels however large |z| is
        if reduction == "none":
            return log_total * rows - _target_sum(y, shifted, rows=True)
        loss = np.vdot(rows, log_total) - _target_sum(y, shifted, rows=False)
        if reduction == "mean":
            ctx.n = max(log_total.size, 1)
        return loss / ctx.n

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
            else:  # rows that sum to 1 (one-hot): exactly softmax(z) − y
                p = ctx.probabilities
                grad_z = p - y if ctx.one_hot else p * _sum(y, -1) - y
                grad_z *= grad
        if need_y:
            grad_y = -LogSoftmax.apply(z, -1) * grad
        return grad_z, grad_y, None


def softmax(x, axis: int | None = None, *, dim: int | None = None):
    """e^x / Σ e^x along ``axis`` (or PyTorch's ``dim``; default the last): probabilities that
    sum to 1, stable for every finite x."""
    return Softmax.apply(x, _axis(x, axis, dim, "softmax"))


def log_softmax(x, axis: int | None = None, *, dim: int | None = None):
    """x − log Σ e^x along ``axis`` (or ``dim``; default the last), stable for every finite x
    (the log of softmax, without the log of a rounded probability)."""
    return LogSoftmax.apply(x, _axis(x, axis, dim, "log_softmax"))


def cross_entropy(z, y, reduction: str = "mean"):
    """Cross-entropy of logits ``z`` (..., classes) against target probabilities ``y`` of the
    same shape; ``reduction`` is "mean" (over rows), "sum" or "none"."""
    return CrossEntropy.apply(z, y, CrossEntropy.checked(reduction))


def _axis(x, axis, dim, op: str) -> int:
    """The one axis ``op`` normalizes along (default the last), checked to hold entries."""
    axis, _ = spelled(op, axis, dim)
    axis = -1 if axis is None else axis
    if getattr(x, "ndim", 0) == 0:
        raise ValueError(f"{op}: needs an array of at least one dimension, got a single number")
    if x.shape[normal_axis(axis, x.ndim, op)] == 0:
        raise ValueError(
            f"{op}: axis {axis} of shape {tuple(x.shape)} is empty: no entries to normalize over"
        )
    return int(axis)
