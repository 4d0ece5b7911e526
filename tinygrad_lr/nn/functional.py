"""Losses, built from the op table.

``binary_cross_entropy`` is the lesson's formula written with log and arithmetic;
``binary_cross_entropy_with_logits`` is the stable form, one op whose gradient is σ(z) − y.
Both take Values or Tensors, and PyTorch's ``weight`` and ``reduction`` arguments.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np

from .. import numeric, ops
from ..engine import Node
from ..tensor import Tensor
from ..value import Value

_REDUCTIONS = ("mean", "sum", "none")
_LOG_FLOOR = math.exp(-100)  # log is clamped at −100, as in PyTorch, so the loss stays finite


def binary_cross_entropy(p: Any, y: Any, weight: Any = None, reduction: str = "mean") -> Any:
    """−[y·log p + (1 − y)·log(1 − p)], reduced by ``reduction`` ("mean", "sum" or "none").

    As in PyTorch, each log is clamped at −100, so p exactly 0 or 1 gives a finite loss (and a
    zero gradient through the clamped log, not nan). Prefer ``binary_cross_entropy_with_logits``
    for training: p = σ(z) rounds to 1 for z > 37, where this loss can no longer tell.
    """
    p, y = _check(p, y, reduction, "binary_cross_entropy")
    data = np.asarray(p.data if isinstance(p, Node) else p)
    if np.any((data < 0) | (data > 1)):
        raise ValueError(
            f"binary_cross_entropy: predictions must be probabilities in [0, 1], got values from "
            f"{np.nanmin(data):.4g} to {np.nanmax(data):.4g}; pass logits to binary_cross_entropy_with_logits"
        )
    log_p = ops.log(ops.maximum(p, _LOG_FLOOR))
    log_q = ops.log(ops.maximum(1 - p, _LOG_FLOOR))
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


def _check(prediction: Any, target: Any, reduction: str, where: str) -> tuple[Any, Any]:
    if reduction not in _REDUCTIONS:
        raise ValueError(f"{where}: reduction must be 'mean', 'sum' or 'none', not {reduction!r}")
    if isinstance(prediction, Tensor) and not isinstance(target, Node):
        target = Tensor(target)
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
