"""Reductions. Arrays only."""

from __future__ import annotations

import math
from collections.abc import Sequence

import numpy as np

from ..function import Function
from . import arithmetic, movement


class Sum(Function):
    """f(x) = Σ x over some axes;  ∂f/∂x = 1 (the gradient is broadcast back over those axes)."""

    symbol = "sum"

    @classmethod
    def write(cls, ctx) -> str:
        return "sum(x)" if len(ctx.arguments[1]) == len(ctx.shape) else "sum(x, axes)"

    formula = ("1", "", "")
    tensor_only = True

    @staticmethod
    def reference(x, axes, keepdims):
        return np.sum(x, axis=axes, keepdims=keepdims)

    @staticmethod
    def arguments(dtype):
        return _reduction_arguments(dtype)

    @staticmethod
    def forward(ctx, x, axes, keepdims):
        ctx.shape = x.shape
        ctx.kept = tuple(1 if i in axes else n for i, n in enumerate(x.shape))
        return np.add.reduce(x, axis=axes, keepdims=keepdims)

    @staticmethod
    def backward(ctx, grad):
        return movement.broadcast_to(movement.reshape(grad, ctx.kept), ctx.shape), None, None


class Mean(Function):
    """f(x) = (Σ x) / n over some axes of n elements;  ∂f/∂x = 1/n (broadcast back over them).

    As numpy's mean: float16 is summed in float32, so 70,000 ones average to 1, not inf.
    """

    symbol = "mean"

    @classmethod
    def write(cls, ctx) -> str:
        return "mean(x)" if len(ctx.arguments[1]) == len(ctx.shape) else "mean(x, axes)"

    formula = ("1/n", "", "")
    tensor_only = True

    @staticmethod
    def reference(x, axes, keepdims):
        return np.mean(x, axis=axes, keepdims=keepdims)

    @staticmethod
    def arguments(dtype):
        return _reduction_arguments(dtype)

    @staticmethod
    def forward(ctx, x, axes, keepdims):
        ctx.shape = x.shape
        ctx.kept = tuple(1 if i in axes else n for i, n in enumerate(x.shape))
        ctx.n = math.prod(x.shape[a] for a in axes)
        wide = np.float32 if x.dtype == np.float16 else None
        total = np.add.reduce(x, axis=axes, keepdims=keepdims, dtype=wide)
        return np.asarray(total / ctx.n).astype(x.dtype, copy=False)

    @staticmethod
    def backward(ctx, grad):
        spread = movement.broadcast_to(movement.reshape(grad, ctx.kept), ctx.shape)
        if ctx.n > np.finfo(spread.dtype).max:  # NOTE: float16 holds no count above 65504, but 1/n
            return arithmetic.mul(spread, 1.0 / ctx.n), None, None
        return arithmetic.div(spread, ctx.n), None, None


def _reduction_arguments(dtype):
    """An array, some of its axes, and keepdims: how the property tests call a reduction."""
    from ..testing import arrays, axes, st

    return arrays(dtype).flatmap(lambda x: st.tuples(st.just(x), axes(x.shape), st.booleans()))


def sum(x, axis: int | Sequence[int] | None = None, keepdims: bool = False):
    """Sum of the elements over ``axis`` (None: all; an int or a tuple; negative from the end)."""
    return Sum.apply(x, _axes(x, axis, "sum"), _flag(keepdims, "sum"))


def mean(x, axis: int | Sequence[int] | None = None, keepdims: bool = False):
    """Mean over ``axis``: the sum divided by the number of elements summed."""
    return Mean.apply(x, _axes(x, axis, "mean"), _flag(keepdims, "mean"))


def _flag(value, op: str) -> bool:
    if not isinstance(value, (bool, np.bool_)):
        raise TypeError(f"{op}: keepdims must be True or False, got {value!r}")
    return bool(value)


_ALL = [tuple(range(n)) for n in range(8)]


def _axes(x, axis, op: str) -> tuple[int, ...]:
    ndim = getattr(x, "ndim", 0)  # a Value has none, and sum() then refuses it
    if axis is None:
        return _ALL[ndim] if ndim < len(_ALL) else tuple(range(ndim))
    axes = (axis,) if isinstance(axis, (int, np.integer)) else tuple(axis)
    normal = []
    for a in axes:
        if isinstance(a, (bool, np.bool_)) or not isinstance(a, (int, np.integer)):
            raise TypeError(f"{op}: an axis is a whole number (or a tuple of them), not {a!r}")
        if not -ndim <= a < ndim:
            raise ValueError(f"{op}: axis {a!r} is out of range for an array of {ndim} dimensions")
        normal.append(int(a) % ndim)
    if len(set(normal)) != len(normal):
        raise ValueError(f"{op}: repeated axis in {axis!r}")
    return tuple(sorted(normal))
