"""Reductions. Arrays only."""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any, NamedTuple

import numpy as np

from ..axes import normal_axes, normal_axis, spelled
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

    domain = "reduction"

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

    domain = "reduction"

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
        # NOTE: float16 holds no count above 65504, but 1/n (an integer gradient has no finfo: divide)
        if grad.dtype.kind == "f" and ctx.n > np.finfo(grad.dtype).max:
            share = arithmetic.mul(grad, 1.0 / ctx.n)
        else:
            share = arithmetic.div(grad, ctx.n)
        # divided before it is spread: a broadcast view, not an array of the input's size
        return movement.broadcast_to(movement.reshape(share, ctx.kept), ctx.shape), None, None


class Max(Function):
    """f(x) = the largest element over an axis, or over all (``axis`` None or a tuple);
    ∂f/∂x = ``share``: 1 at the element chosen, 0 elsewhere.

    Ties as PyTorch: along one axis (an int, ``torch.max(x, dim)``) the whole gradient goes to
    the element ``argmax`` returns, the first of the tied ones; over all elements or several
    axes (``torch.max(x)``, ``torch.amax``) it is shared evenly among the tied elements (a nan
    is the largest, as in numpy and PyTorch)."""

    symbol = "max"
    pick = staticmethod(np.argmax)
    reduce = staticmethod(np.max)

    @classmethod
    def write(cls, ctx) -> str:
        return f"{cls.name}(x)" if ctx.axis is None else f"a{cls.name}(x, axis)"  # its values: amax

    formula = ("share", "", "")
    tensor_only = True

    @classmethod
    def reference(cls, x, axis, keepdims):
        return cls.reduce(x, axis=axis, keepdims=keepdims)

    domain = "extremum"

    @classmethod
    def forward(cls, ctx, x, axis, keepdims):
        ctx.axis, ctx.shape = axis, x.shape
        reduced = range(x.ndim) if axis is None else (axis,) if isinstance(axis, int) else axis
        if any(x.shape[a] == 0 for a in reduced) or (axis is None and x.size == 0):
            raise ValueError(
                f"{cls.name}: the tensor of shape {x.shape} has no elements to take the {cls.name} of "
                f"along axis {axis}"
            )
        if isinstance(axis, int):  # one axis: the gradient goes to the index argmax/argmin gives
            chosen = np.expand_dims(cls.pick(x, axis=axis), axis)
            out = np.take_along_axis(x, chosen, axis)
            share = np.zeros(x.shape, dtype=np.result_type(x.dtype, np.float16))
            np.put_along_axis(share, chosen, 1, axis)
            ctx.share = share
            return out if keepdims else np.squeeze(out, axis)
        out = cls.reduce(x, axis=axis, keepdims=True)
        tied = (x == out) | (np.isnan(x) & np.isnan(out)) if x.dtype.kind == "f" else x == out
        dtype = np.result_type(x.dtype, np.float16)
        ctx.share = tied / np.sum(tied, axis=axis, keepdims=True, dtype=dtype)
        if keepdims:
            return out
        reduced = range(x.ndim) if axis is None else axis
        return out.reshape(tuple(n for i, n in enumerate(x.shape) if i not in reduced))

    @staticmethod
    def backward(ctx, grad):
        axis, shape = ctx.axis, ctx.shape
        kept = tuple(
            1 if axis is None or i == axis or (isinstance(axis, tuple) and i in axis) else n
            for i, n in enumerate(shape)
        )
        spread = movement.broadcast_to(movement.reshape(grad, kept), shape)
        return arithmetic.mul(movement.where(ctx.share > 0, spread, 0.0), ctx.share), None, None


class Min(Max):
    """f(x) = the smallest element over an axis, or over all;  ∂f/∂x = ``share``: 1 at the
    element chosen (ties as ``max``'s, with ``argmin``)."""

    symbol = "min"
    pick = staticmethod(np.argmin)
    reduce = staticmethod(np.min)


def sum(
    x,
    axis: int | Sequence[int] | None = None,
    keepdims: bool | None = None,
    *,
    dim: int | Sequence[int] | None = None,
    keepdim: bool | None = None,
):
    """Sum of the elements over ``axis`` (None: all; an int or a tuple; negative from the end).
    ``dim`` and ``keepdim`` are PyTorch's names for ``axis`` and ``keepdims``."""
    axis, keepdims = spelled("sum", axis, dim, keepdims, keepdim)
    return Sum.apply(x, _axes(x, axis, "sum"), keepdims)


def mean(
    x,
    axis: int | Sequence[int] | None = None,
    keepdims: bool | None = None,
    *,
    dim: int | Sequence[int] | None = None,
    keepdim: bool | None = None,
):
    """Mean over ``axis``: the sum divided by the number of elements summed (floating-point
    tensors only, as PyTorch: convert an integer one with ``dtype=``)."""
    axis, keepdims = spelled("mean", axis, dim, keepdims, keepdim)
    if np.asarray(getattr(x, "data", x)).dtype.kind not in "fc":
        raise TypeError(
            f"mean: the tensor is {np.asarray(getattr(x, 'data', x)).dtype}; the mean of integers or "
            "booleans is not one of them (as PyTorch): convert first, e.g. tg.Tensor(t, dtype=tg.float64)"
        )
    return Mean.apply(x, _axes(x, axis, "mean"), keepdims)


class MaxResult(NamedTuple):
    """What ``max``/``min`` along an axis return, as ``torch.max(x, dim)``: the extreme ``values``
    and their ``indices`` (int64, no gradient)."""

    values: Any
    indices: Any

    def __getattr__(self, name: str) -> Any:
        raise AttributeError(
            f"max/min along an axis returns (values, indices), as torch.max(x, dim); use "
            f".values.{name} (or t.amax(axis) for the values alone, as numpy's max)"
        )


def max(x, axis: int | None = None, keepdims: bool | None = None, *, dim=None, keepdim=None):
    """The largest element, as ``torch.max``: over all elements a tensor (the gradient shared
    evenly among tied elements); along one ``axis`` the pair ``(values, indices)`` (the gradient
    to the element ``indices`` names, the first of tied ones)."""
    return _extreme(Max, x, axis, keepdims, dim, keepdim)


def min(x, axis: int | None = None, keepdims: bool | None = None, *, dim=None, keepdim=None):
    """The smallest element, as ``torch.min``: see ``max``."""
    return _extreme(Min, x, axis, keepdims, dim, keepdim)


def amax(x, axis=None, keepdims: bool | None = None, *, dim=None, keepdim=None):
    """The largest elements over ``axis`` (None: all; an int or a tuple), values only, as
    ``torch.amax`` and numpy's ``max``: the gradient is shared evenly among tied elements."""
    axis, keepdims = spelled("amax", axis, dim, keepdims, keepdim)
    return Max.apply(x, _reduced(x, axis, "amax"), keepdims)


def amin(x, axis=None, keepdims: bool | None = None, *, dim=None, keepdim=None):
    """The smallest elements over ``axis``, values only: see ``amax``."""
    axis, keepdims = spelled("amin", axis, dim, keepdims, keepdim)
    return Min.apply(x, _reduced(x, axis, "amin"), keepdims)


def argmax(x, axis: int | None = None, keepdims: bool | None = None, *, dim=None, keepdim=None):
    """The index of the largest element along ``axis`` (None: in the flattened array), the first
    of tied ones; an int64 tensor, without a gradient."""
    return _index_of(np.argmax, x, axis, keepdims, dim, keepdim, "argmax")


def argmin(x, axis: int | None = None, keepdims: bool | None = None, *, dim=None, keepdim=None):
    """The index of the smallest element along ``axis``: see ``argmax``."""
    return _index_of(np.argmin, x, axis, keepdims, dim, keepdim, "argmin")


def _extreme(fn, x, axis, keepdims, dim, keepdim):
    axis, keepdims = spelled(fn.name, axis, dim, keepdims, keepdim)
    if axis is None:
        return fn.apply(x, None, keepdims)
    if isinstance(axis, (tuple, list)):
        raise TypeError(
            f"{fn.name}: along one axis (an int), as torch.{fn.name}(x, dim); for several axes use "
            f"a{fn.name}(x, axis), not {axis!r}"
        )
    ndim = _ndim(x, fn.name)
    normal = normal_axis(axis, ndim or 1, fn.name)
    if not ndim:  # a 0-d tensor has one element, at index 0 along "axis 0", as in PyTorch
        values = fn.apply(x, None, False)
        return MaxResult(values, _like(x, np.zeros((), np.int64)))
    values = fn.apply(x, normal, keepdims)
    data = np.asarray(getattr(x, "data", x))
    indices = fn.pick(data, axis=normal, keepdims=keepdims)
    return MaxResult(values, _like(x, indices))


def _index_of(pick, x, axis, keepdims, dim, keepdim, op: str):
    axis, keepdims = spelled(op, axis, dim, keepdims, keepdim)
    _ndim(x, op)
    data = np.asarray(getattr(x, "data", x))
    if axis is not None:
        data = data if data.ndim else data.reshape(1)
        axis = normal_axis(axis, data.ndim, op)
    if data.size == 0 and (axis is None or data.shape[axis] == 0):
        raise ValueError(f"{op}: the tensor of shape {data.shape} has no elements to choose from")
    indices = pick(data, axis=axis, keepdims=keepdims)
    return _like(x, np.asarray(indices, dtype=np.int64).reshape(np.shape(indices)))


def _like(x, data: np.ndarray):
    """``data`` as a node of ``x``'s type (no gradient), or raw for raw ``x``."""
    kind = type(x)
    return kind._from_op(np.asarray(data)) if hasattr(x, "_ctx") else data


def _ndim(x, op: str) -> int:
    if not hasattr(getattr(x, "data", x), "ndim"):
        raise TypeError(f"{op} works on Tensors and arrays, not on {type(x).__name__}s")
    return getattr(x, "data", x).ndim


def _reduced(x, axis, op: str):
    """None (all axes) or a sorted tuple of axes."""
    _ndim(x, op)
    return None if axis is None else _axes(x, axis, op)


def _axes(x, axis, op: str) -> tuple[int, ...]:
    # a Value has no ndim, and sum() then refuses it
    return tuple(sorted(normal_axes(axis, getattr(x, "ndim", 0), op)))
