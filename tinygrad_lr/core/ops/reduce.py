"""Reductions. Arrays only."""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any, NamedTuple

import numpy as np

from .. import numeric
from ..axes import normal_axes, normal_axis, spelled
from ..function import Function
from . import arithmetic, movement

__all__ = ["Max", "MaxResult", "Mean", "Min", "Sum"]
__all__ += ["amax", "amin", "argmax", "argmin", "max", "mean", "min", "sum"]


class Sum(Function):
    """f(x) = Σ x over some axes;  ∂f/∂x = 1 (the gradient is broadcast back over those axes)."""

    formula = ("1", "", "")
    tensor_only = True
    domain = "reduction"
    numpy = staticmethod(np.sum)  # the reference

    @classmethod
    def write(cls, ctx) -> str:
        return f"{cls.name}(x)" if len(ctx.arguments[1]) == len(ctx.shape) else f"{cls.name}(x, axes)"

    @classmethod
    def reference(cls, x, axes, keepdims):
        return cls.numpy(x, axis=axes, keepdims=keepdims)

    @staticmethod
    def forward(ctx, x, axes, keepdims):
        ctx.shape, ctx.kept = x.shape, _kept(x.shape, axes)
        return np.add.reduce(x, axis=axes, keepdims=keepdims)

    @staticmethod
    def backward(ctx, grad):
        return _spread(grad, ctx), None, None


class Mean(Sum):
    """f(x) = (Σ x) / n over some axes of n elements;  ∂f/∂x = 1/n (broadcast back over them).

    As numpy's mean: float16 is summed in float32, so 70,000 ones average to 1, not inf.
    """

    formula = ("1/n", "", "")
    numpy = staticmethod(np.mean)

    @staticmethod
    def forward(ctx, x, axes, keepdims):
        ctx.shape, ctx.kept = x.shape, _kept(x.shape, axes)
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
        return _spread(share, ctx), None, None


class Max(Function):
    """f(x) = the largest element over an axis, or over all (``axis`` None or a tuple);
    ∂f/∂x = ``share``: 1 at the element chosen, 0 elsewhere.

    Ties as PyTorch: along one axis (an int, ``torch.max(x, dim)``) the whole gradient goes to
    the element ``argmax`` returns, the first of the tied ones; over all elements or several
    axes (``torch.max(x)``, ``torch.amax``) it is shared evenly among the tied elements (a nan
    is the largest, as in numpy and PyTorch)."""

    formula = ("share", "", "")
    tensor_only = True
    domain = "extremum"
    pick = staticmethod(np.argmax)
    numpy = staticmethod(np.max)

    @classmethod
    def write(cls, ctx) -> str:
        return f"{cls.name}(x)" if ctx.axis is None else f"a{cls.name}(x, axis)"  # its values: amax

    @classmethod
    def reference(cls, x, axis, keepdims):
        return cls.numpy(x, axis=axis, keepdims=keepdims)

    @classmethod
    def forward(cls, ctx, x, axis, keepdims):
        reduced = range(x.ndim) if axis is None else (axis,) if isinstance(axis, int) else axis
        ctx.axis, ctx.shape, ctx.kept = axis, x.shape, _kept(x.shape, reduced)
        if any(x.shape[a] == 0 for a in reduced) or (axis is None and x.size == 0):
            raise ValueError(
                f"{cls.name}: the tensor of shape {x.shape} has no elements to take the {cls.name} of "
                f"along axis {axis}"
            )
        dtype = np.result_type(x.dtype, np.float16)
        if isinstance(axis, int):  # one axis: the gradient goes to the index argmax/argmin gives
            chosen = np.expand_dims(cls.pick(x, axis=axis), axis)
            out = np.take_along_axis(x, chosen, axis)
            ctx.share = np.zeros(x.shape, dtype=dtype)
            np.put_along_axis(ctx.share, chosen, 1, axis)
        else:
            out = cls.numpy(x, axis=axis, keepdims=True)
            tied = (x == out) | (np.isnan(x) & np.isnan(out)) if x.dtype.kind == "f" else x == out
            ctx.share = tied / np.sum(tied, axis=axis, keepdims=True, dtype=dtype)
        return out if keepdims else out.reshape(tuple(n for i, n in enumerate(x.shape) if i not in reduced))

    @staticmethod
    def backward(ctx, grad):
        spread = _spread(grad, ctx)
        return arithmetic.mul(movement.where(ctx.share > 0, spread, 0.0), ctx.share), None, None


class Min(Max):
    """f(x) = the smallest element over an axis, or over all;  ∂f/∂x = ``share``: 1 at the
    element chosen (ties as ``max``'s, with ``argmin``)."""

    pick = staticmethod(np.argmin)
    numpy = staticmethod(np.min)


def _kept(shape: tuple[int, ...], axes) -> tuple[int, ...]:
    """``shape`` with the reduced ``axes`` kept as length 1: the reduction's keepdims shape."""
    return tuple(1 if i in axes else n for i, n in enumerate(shape))


def _spread(grad, ctx):
    """The gradient of the reduced output, broadcast back over the axes reduced (a view)."""
    if isinstance(grad, (np.ndarray, np.generic)):  # NOTE: raw data: the ops' kernels, not their calls
        return numeric.broadcast_to(grad.reshape(ctx.kept), ctx.shape)
    return movement.broadcast_to(movement.reshape(grad, ctx.kept), ctx.shape)


def sum(x, axis: int | Sequence[int] | None = None, keepdims: bool | None = None, *, dim=None, keepdim=None):
    """Sum of the elements over ``axis`` (None: all; an int or a tuple; negative from the end).
    ``dim`` and ``keepdim`` are PyTorch's names for ``axis`` and ``keepdims``."""
    axis, keepdims = spelled("sum", axis, dim, keepdims, keepdim)
    return Sum.apply(x, _axes(x, axis, "sum"), keepdims)


def mean(x, axis: int | Sequence[int] | None = None, keepdims: bool | None = None, *, dim=None, keepdim=None):
    """Mean over ``axis``: the sum divided by the number of elements summed (floating-point
    tensors only, as PyTorch: convert an integer one with ``dtype=``)."""
    axis, keepdims = spelled("mean", axis, dim, keepdims, keepdim)
    dtype = np.asarray(getattr(x, "data", x)).dtype
    if dtype.kind not in "fc":
        raise TypeError(
            f"mean: the tensor is {dtype}; the mean of integers or booleans is not one of them (as "
            "PyTorch): convert first, e.g. tg.Tensor(t, dtype=tg.float64)"
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
    return _values(Max, x, axis, keepdims, dim, keepdim)


def amin(x, axis=None, keepdims: bool | None = None, *, dim=None, keepdim=None):
    """The smallest elements over ``axis``, values only: see ``amax``."""
    return _values(Min, x, axis, keepdims, dim, keepdim)


def argmax(x, axis: int | None = None, keepdims: bool | None = None, *, dim=None, keepdim=None):
    """The index of the largest element along ``axis`` (None: in the flattened array), the first
    of tied ones; an int64 tensor, without a gradient."""
    return _index_of(Max, x, axis, keepdims, dim, keepdim)


def argmin(x, axis: int | None = None, keepdims: bool | None = None, *, dim=None, keepdim=None):
    """The index of the smallest element along ``axis``: see ``argmax``."""
    return _index_of(Min, x, axis, keepdims, dim, keepdim)


def _extreme(fn, x, axis, keepdims, dim, keepdim):
    axis, keepdims = spelled(fn.name, axis, dim, keepdims, keepdim)
    if axis is None:
        return fn.apply(x, None, keepdims)
    if isinstance(axis, (tuple, list)):
        raise TypeError(
            f"{fn.name}: along one axis (an int), as torch.{fn.name}(x, dim); for several axes use "
            f"a{fn.name}(x, axis), not {axis!r}"
        )
    ndim = _data(x, fn.name).ndim
    normal = normal_axis(axis, ndim or 1, fn.name)
    if not ndim:  # a 0-d tensor has one element, at index 0 along "axis 0", as in PyTorch
        return MaxResult(fn.apply(x, None, False), _like(x, np.zeros((), np.int64)))
    values = fn.apply(x, normal, keepdims)  # first: it names an empty axis
    return MaxResult(values, _like(x, fn.pick(_data(x, fn.name), axis=normal, keepdims=keepdims)))


def _values(fn, x, axis, keepdims, dim, keepdim):
    op = f"a{fn.name}"
    axis, keepdims = spelled(op, axis, dim, keepdims, keepdim)
    _data(x, op)
    return fn.apply(x, None if axis is None else _axes(x, axis, op), keepdims)


def _index_of(fn, x, axis, keepdims, dim, keepdim):
    op = f"arg{fn.name}"
    axis, keepdims = spelled(op, axis, dim, keepdims, keepdim)
    data = _data(x, op)
    if axis is not None:
        data = data if data.ndim else data.reshape(1)
        axis = normal_axis(axis, data.ndim, op)
    if data.size == 0 and (axis is None or data.shape[axis] == 0):
        raise ValueError(f"{op}: the tensor of shape {data.shape} has no elements to choose from")
    indices = fn.pick(data, axis=axis, keepdims=keepdims)
    return _like(x, np.asarray(indices, dtype=np.int64).reshape(np.shape(indices)))


def _data(x, op: str) -> np.ndarray:
    """The array of a Tensor or an ndarray; a TypeError for anything else."""
    data = getattr(x, "data", x)
    if not hasattr(data, "ndim"):
        raise TypeError(f"{op} works on Tensors and arrays, not on {type(x).__name__}s")
    return np.asarray(data)


def _like(x, data: np.ndarray):
    """``data`` as a node of ``x``'s type (no gradient), or raw for raw ``x``."""
    return type(x)._from_op(np.asarray(data)) if hasattr(x, "_ctx") else data


def _axes(x, axis, op: str) -> tuple[int, ...]:
    """``axis`` (None: all) as a sorted tuple of axes; a Value has no ndim, and sum() then refuses it.
    An empty tuple is refused: numpy reduces no axis over it, PyTorch every axis."""
    axes = tuple(sorted(normal_axes(axis, getattr(x, "ndim", 0), op)))
    if axis is not None and not axes:
        raise ValueError(
            f"{op}: no axes ({axis!r}) means no axis to numpy and every axis to PyTorch; for every "
            f"axis give none (axis=None), and for no axis leave the {op} out"
        )
    return axes
