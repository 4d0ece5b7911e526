"""Reductions. Arrays only."""

from __future__ import annotations

import math
from collections.abc import Sequence

import numpy as np

import tinygrad_lr as tg

from ..function import Choice, Domain, Function, Param


class Sum(Function):
    """f(x) = Σ x over some axes;  ∂f/∂x = 1 (the gradient is broadcast back over those axes)."""

    symbol = "sum"
    formula = ("1", "", "")
    domain = (Domain(), Param("axis"), Choice((False, True)))
    tensor_only = True

    @staticmethod
    def forward(ctx, x, axes, keepdims):
        ctx.shape = x.shape
        ctx.kept = tuple(1 if i in axes else n for i, n in enumerate(x.shape))
        return np.add.reduce(x, axis=axes, keepdims=keepdims)

    @staticmethod
    def backward(ctx, grad):
        return tg.broadcast_to(tg.reshape(grad, ctx.kept), ctx.shape), None, None


def sum(x, axis: int | Sequence[int] | None = None, keepdims: bool = False):
    """Sum of the elements over ``axis`` (None: all; an int or a tuple; negative from the end)."""
    return Sum.apply(x, _axes(x, axis, "sum"), bool(keepdims))


def mean(x, axis: int | Sequence[int] | None = None, keepdims: bool = False):
    """Mean over ``axis``: the sum divided by the number of elements summed."""
    axes = _axes(x, axis, "mean")
    count = math.prod(x.shape[a] for a in axes)
    return tg.div(Sum.apply(x, axes, bool(keepdims)), count)


_ALL = [tuple(range(n)) for n in range(8)]


def _axes(x, axis, op: str) -> tuple[int, ...]:
    ndim = getattr(x, "ndim", 0)  # a Value has none, and sum() then refuses it
    if axis is None:
        return _ALL[ndim] if ndim < len(_ALL) else tuple(range(ndim))
    axes = (axis,) if isinstance(axis, (int, np.integer)) else tuple(axis)
    normal = []
    for a in axes:
        if not isinstance(a, (int, np.integer)) or not -ndim <= a < ndim:
            raise ValueError(f"{op}: axis {a!r} is out of range for an array of {ndim} dimensions")
        normal.append(int(a) % ndim)
    if len(set(normal)) != len(normal):
        raise ValueError(f"{op}: repeated axis in {axis!r}")
    return tuple(sorted(normal))
