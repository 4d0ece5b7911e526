"""Losses, activations and dropout, built from the op table (PyTorch's ``nn.functional``).

``binary_cross_entropy`` is the lesson's formula written with log and arithmetic;
``binary_cross_entropy_with_logits`` is the stable form, one op whose gradient is σ(z) − y.
Both take Values or Tensors, and PyTorch's ``weight`` and ``reduction`` arguments.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np

from ..core import numeric, ops
from ..core.engine import Node
from ..core.ops import relu, sigmoid, tanh  # noqa: F401 (PyTorch's F.relu, F.sigmoid, F.tanh)
from ..core.tensor import Tensor
from ..core.value import Value
from ..creation import default_generator

_LOG_FLOOR = math.exp(-100)  # log is clamped at −100, as in PyTorch, so the loss stays finite


def binary_cross_entropy(p: Any, y: Any, weight: Any = None, reduction: str = "mean") -> Any:
    """−[y·log p + (1 − y)·log(1 − p)], reduced by ``reduction`` ("mean", "sum" or "none").

    As in PyTorch, each log is clamped at −100, so p exactly 0 or 1 gives a finite loss (and a
    zero gradient through the clamped log, not nan). Prefer ``binary_cross_entropy_with_logits``
    for training: p = σ(z) rounds to 1 for z > 37, where this loss can no longer tell.
    """
    p, y = _check(p, y, reduction, "binary_cross_entropy")
    data = np.asarray(p.data if isinstance(p, Node) else p)
    if data.size and not (
        np.minimum.reduce(data, axis=None) >= 0 and np.maximum.reduce(data, axis=None) <= 1
    ):
        nan = " and nan" if np.isnan(data).any() else ""  # as PyTorch, nan is no probability
        raise ValueError(
            f"binary_cross_entropy: predictions must be probabilities in [0, 1], got values from "
            f"{np.fmin.reduce(data, axis=None):.4g} to {np.fmax.reduce(data, axis=None):.4g}{nan}; "
            "pass logits to binary_cross_entropy_with_logits"
        )
    q = 1 - p
    if isinstance(q, Node):
        q.label = "q"  # the stepper and the pictures show q = 1 − p, log(q_c), ...
    log_p = ops.log(ops.maximum(p, _LOG_FLOOR))
    log_q = ops.log(ops.maximum(q, _LOG_FLOOR))
    return _reduce(-(y * log_p + (1 - y) * log_q), weight, reduction)


def binary_cross_entropy_with_logits(z: Any, y: Any, weight: Any = None, reduction: str = "mean") -> Any:
    """Binary cross-entropy of logits z: softplus(z) − z·y = −[y·log σ(z) + (1 − y)·log(1 − σ(z))].

    Finite for every finite z (no inf or nan even at |z| = 1e4), and its gradient is σ(z) − y
    up to rounding. On Tensors without a weight it is the single op ``bce_with_logits``.
    """
    z, y = _check(z, y, reduction, "binary_cross_entropy_with_logits")
    if weight is None and isinstance(z, Tensor):
        return ops.bce_with_logits(z, y, reduction)
    return _reduce(ops.bce_with_logits(z, y, "none"), weight, reduction)


def mse_loss(input: Any, target: Any, *, reduction: str = "mean") -> Any:
    """(input − target)², reduced by ``reduction`` ("mean", "sum" or "none"); on Values or
    Tensors of one shape (PyTorch broadcasts different shapes with a warning: here an error)."""
    input, target = _check(input, target, reduction, "mse_loss")
    return _reduce((input - target) ** 2, None, reduction)


def dropout(input: Tensor, p: float = 0.5, training: bool = True) -> Tensor:
    """In training, each element zeroed with probability ``p`` and the others scaled by 1/(1 − p)
    (a multiply by a mask from the global generator, so ``tg.manual_seed`` repeats it); else
    ``input`` itself, as PyTorch's."""
    p = _dropout_probability(p, "dropout")
    if not training or p == 0:
        return input
    x = _as_tensor(input, "dropout")
    mask = (default_generator.numpy.random(x.shape) >= p).astype(x.dtype)
    if p < 1:  # p = 1 keeps nothing: zeros, as PyTorch
        mask /= 1 - p
    return x * mask


def _dropout_probability(p: float, where: str) -> float:
    if isinstance(p, bool) or not isinstance(p, (int, float, np.floating)) or not 0 <= p <= 1:
        raise ValueError(f"{where}: dropout probability has to be between 0 and 1, but got {p!r}")
    return float(p)


def _check_reduction(reduction: str, where: str) -> None:
    if reduction not in ("mean", "sum", "none"):
        raise ValueError(f"{where}: reduction must be 'mean', 'sum' or 'none', not {reduction!r}")


def _check(prediction: Any, target: Any, reduction: str, where: str) -> tuple[Any, Any]:
    _check_reduction(reduction, where)
    if isinstance(prediction, Tensor) and not isinstance(target, Node):
        target = prediction._operand(target, where)  # a plain array is copied where it must be
        target.label = "y"  # a new Tensor: the stepper and the pictures call the targets y
    shapes = [getattr(v, "shape", ()) for v in (prediction, target)]
    if isinstance(prediction, Tensor) and shapes[0] != shapes[1]:
        raise ValueError(
            f"{where}: predictions of shape {shapes[0]} and targets of shape {shapes[1]} differ; "
            "they must match element for element (for a (n, 1) output use .reshape(-1))"
        )
    if isinstance(prediction, Value) and isinstance(target, Tensor):
        raise TypeError(f"{where}: a Value prediction needs a number or Value target, not a Tensor")
    return prediction, target


def _reduce(loss: Any, weight: Any, reduction: str) -> Any:
    if weight is not None:
        shape, weight_shape = np.shape(loss.data), np.shape(getattr(weight, "data", weight))
        if not numeric.broadcasts_to(weight_shape, shape):
            raise ValueError(
                f"weight of shape {weight_shape} does not fit losses of shape {shape}: it must have their "
                "shape, or one that broadcasts to it without growing it (a (n, 1) weight: .reshape(-1))"
            )
        loss = loss * weight
    if reduction == "none" or not isinstance(loss, Tensor):
        return loss
    return loss.mean() if reduction == "mean" else loss.sum()


# --- many classes: softmax and cross-entropy ------------------------------------------------------


def softmax(x: Tensor, axis: int | None = None, *, dim: int | None = None) -> Tensor:
    """e^x / Σ e^x along ``axis`` (or PyTorch's ``dim=``; default the last), stable for any finite x."""
    return _as_tensor(x, "softmax").softmax(axis, dim=dim)


def log_softmax(x: Tensor, axis: int | None = None, *, dim: int | None = None) -> Tensor:
    """x − log Σ e^x along ``axis`` (or ``dim=``; default the last), stable for any finite x."""
    return _as_tensor(x, "log_softmax").log_softmax(axis, dim=dim)


def cross_entropy(
    logits: Tensor,
    target: Any,
    weight: Any = None,
    reduction: str = "mean",
    ignore_index: int = -100,
) -> Tensor:
    """Cross-entropy of ``logits`` (rows, classes) against class labels or class probabilities,
    with PyTorch's semantics: −log softmax(z)[y] per row.

    ``target`` is either class labels of shape (rows,) (whole numbers in [0, classes), of any
    dtype; a label equal to ``ignore_index`` leaves its row out), or probabilities of the logits'
    shape. ``weight`` (classes,) scales each class's loss; with labels the "mean" then divides by
    the summed weights of the rows' labels, as PyTorch does (with probabilities: by the rows).
    ``reduction`` is "mean", "sum" or "none". Logits may also be one row of shape (classes,)
    with one label.

    One op (``ops.cross_entropy``): finite for every finite z, and its gradient is exactly
    softmax(z) − onehot(y) (scaled by the reduction), as BCE with logits gives σ(z) − y.
    """
    _check_reduction(reduction, "cross_entropy")
    logits = _as_tensor(logits, "cross_entropy")
    if logits.ndim not in (1, 2):
        raise ValueError(
            f"cross_entropy: logits must have shape (rows, classes) or (classes,), got {logits.shape}; "
            "move the class axis last and reshape to (rows, classes)"
        )
    classes = logits.shape[-1]
    if classes == 0 or (logits.size == 0 and reduction == "mean"):
        raise ValueError(
            f"cross_entropy: logits of shape {logits.shape} hold no {'classes' if classes == 0 else 'rows'}; "
            "a mean over nothing is undefined (pass at least one row and one class)"
        )
    if np.shape(getattr(target, "data", target)) == logits.shape and _is_float(target):
        probabilities = target if isinstance(target, Tensor) else np.asarray(target, dtype=logits.dtype)
        if weight is not None:
            probabilities = probabilities * _class_weights(weight, classes, "cross_entropy").astype(
                logits.dtype
            )
        return ops.cross_entropy(logits, probabilities, reduction)
    labels, per_row, kept = _label_weights("cross_entropy", logits.shape, target, weight, ignore_index)
    rows = np.flatnonzero(kept)
    one_hot = np.zeros((rows.size, classes), dtype=logits.dtype)
    one_hot[np.arange(rows.size), labels[rows]] = per_row[rows]
    if rows.size == labels.size:
        z, one_hot = logits, one_hot.reshape(logits.shape)
    else:  # ignored rows are left out, not weighted 0: 0 times a nan or inf logit's loss is nan
        z = logits.reshape(labels.size, classes)[rows]
        if reduction == "none":
            losses = ops.scatter_add(ops.cross_entropy(z, one_hot, "none"), rows, (labels.size,))
            return losses.reshape(logits.shape[:-1])
    if reduction != "mean" or (weight is None and rows.size):  # the op's mean: over the rows kept
        return ops.cross_entropy(z, one_hot, reduction)
    return ops.cross_entropy(z, one_hot, "sum") / _total(per_row, "cross_entropy")


def nll_loss(
    input: Tensor, target: Any, weight: Any = None, *, ignore_index: int = -100, reduction: str = "mean"
) -> Tensor:
    """Negative log-likelihood of log-probabilities ``input`` (rows, classes), such as
    ``log_softmax``'s: −input[y] per row, with PyTorch's semantics. ``target`` holds class
    labels; ``weight``, ``ignore_index`` and ``reduction`` are as in ``cross_entropy``, so that
    ``nll_loss(log_softmax(z), y)`` is ``cross_entropy(z, y)``."""
    _check_reduction(reduction, "nll_loss")
    x = _as_tensor(input, "nll_loss")
    if x.ndim not in (1, 2) or x.shape[-1] == 0:
        raise ValueError(f"nll_loss: input must have shape (rows, classes) or (classes,), got {x.shape}")
    labels, per_row, _ = _label_weights("nll_loss", x.shape, target, weight, ignore_index)
    picked = x.reshape(-1, x.shape[-1])[np.arange(labels.size), labels]
    # selected, not multiplied: an ignored row's -inf stays out, as in PyTorch
    losses = ops.where(per_row != 0, -picked * per_row.astype(x.dtype), 0.0).reshape(x.shape[:-1])
    if reduction == "none":
        return losses
    return losses.sum() if reduction == "sum" else losses.sum() / _total(per_row, "nll_loss")


def _label_weights(where: str, shape: tuple, target: Any, weight: Any, ignore_index: int) -> tuple:
    """The class labels of ``target`` for scores of ``shape`` (flat, an ignored label made 0),
    the weight of each row (its class's weight, 1 without ``weight``; 0 where ignored), and
    which rows are kept (not ignored)."""
    classes = shape[-1]
    labels = _class_labels(target, shape[:-1], classes, ignore_index, where).reshape(-1)
    kept = labels != ignore_index
    labels = np.where(kept, labels, 0)
    weights = np.ones(classes) if weight is None else _class_weights(weight, classes, where)
    return labels, np.where(kept, weights[labels], 0.0), kept


def _total(per_row: np.ndarray, where: str) -> float:
    """What a weighted mean divides by: the rows' summed weights."""
    total = float(np.sum(per_row))
    if total == 0:
        raise ValueError(
            f"{where}: the mean divides by the summed weights of the targets, which are 0 here "
            "(every label ignored, or weighted 0); use reduction='sum' or change weight/ignore_index"
        )
    return total


def _as_tensor(x: Any, where: str) -> Tensor:
    if isinstance(x, Value):
        raise TypeError(f"{where}: works on Tensors, not on a Value; use tg.Tensor([...])")
    return x if isinstance(x, Tensor) else Tensor(np.array(x))  # a copy, as the operators make


def _is_float(target: Any) -> bool:
    data = getattr(target, "data", target)
    return np.asarray(data).dtype.kind == "f"


def _class_weights(weight: Any, classes: int, where: str) -> np.ndarray:
    if getattr(weight, "requires_grad", False):  # as PyTorch: no derivative for the weights
        raise ValueError(
            f"{where}: weight requires grad, but no gradient is computed for class weights; "
            "pass weight.detach() (or a plain array)"
        )
    weights = np.asarray(getattr(weight, "data", weight), dtype=np.float64)
    if weights.shape != (classes,):
        raise ValueError(
            f"{where}: weight must have one entry per class, shape ({classes},), got {weights.shape}"
        )
    good = np.isfinite(weights) & (weights >= 0)
    if not np.all(good):
        bad = int(np.flatnonzero(~good)[0])
        raise ValueError(
            f"{where}: weight[{bad}] is {weights[bad].item()!r}; class weights must be finite and >= 0"
        )
    return weights


def _class_labels(target: Any, shape: tuple, classes: int, ignore_index: int, where: str) -> np.ndarray:
    """The targets as integer labels, checked: the right shape, whole numbers, in range."""
    data = np.asarray(getattr(target, "data", target))
    if data.shape != shape:
        raise ValueError(
            f"{where}: targets must be class labels of shape {shape} (one per row of logits) or "
            f"float probabilities of the logits' shape {(*shape, classes)}; got shape {data.shape}"
        )
    if data.dtype.kind not in "iub":
        if data.dtype.kind != "f":
            raise TypeError(f"{where}: class labels must be numbers, not {data.dtype}")
        whole = np.isfinite(data) & (data == np.round(data))
        if not np.all(whole):
            at = _first(~whole)
            raise ValueError(
                f"{where}: target {data[at].item()!r} at position {at} is not a class label "
                f"(a whole number in [0, {classes})); for class probabilities pass an array of shape "
                f"{(*shape, classes)}"
            )
    labels = data.astype(np.int64, copy=False)
    if labels.size and labels.min() >= 0 and labels.max() < classes:
        return labels
    wrong = ((labels < 0) | (labels >= classes)) & (labels != ignore_index)
    if np.any(wrong):
        at = _first(wrong)
        raise ValueError(
            f"{where}: target {labels[at]} at position {at} is out of range for "
            f"{classes} classes; labels must be in [0, {classes - 1}] (or ignore_index={ignore_index})"
        )
    return labels


def _first(mask: np.ndarray) -> tuple[int, ...]:
    """The position of the first True in ``mask``."""
    return tuple(int(i) for i in np.argwhere(mask)[0])
