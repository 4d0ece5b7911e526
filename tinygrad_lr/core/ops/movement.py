"""Shape changes and indexing: no arithmetic, only where the numbers go. Arrays only."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from .. import numeric
from ..axes import normal_axes, normal_axis, spelled
from ..function import Function

__all__ = ["BroadcastTo", "Cat", "Index", "Reshape", "ScatterAdd", "Transpose", "Where"]
__all__ += ["broadcast_to", "cat", "flatten", "index", "reshape", "scatter_add", "squeeze", "stack"]
__all__ += ["transpose", "unsqueeze", "where"]


class Reshape(Function):
    """f(x) = x in a new shape;  the gradient is reshaped back."""

    formula = ("1", "")
    tensor_only = True
    domain = "reshape"
    reference = staticmethod(np.reshape)

    @staticmethod
    def forward(ctx, x, shape):
        ctx.input_shape = x.shape
        try:
            return x.reshape(shape)
        except ValueError:
            raise ValueError(
                f"reshape: cannot reshape shape {x.shape} (size {x.size}) into {shape}"
            ) from None

    @staticmethod
    def backward(ctx, grad):
        return reshape(grad, ctx.input_shape), None


class Transpose(Function):
    """f(x) = x with its axes permuted;  the gradient is permuted back."""

    formula = ("1", "")
    tensor_only = True
    domain = "transpose"
    reference = staticmethod(np.transpose)

    @classmethod
    def write(cls, ctx) -> str:
        # .T swaps the last two axes: it is the reversal only up to two dimensions
        return "x.T" if ctx.axes is None and ctx.ndim <= 2 else "transpose(x, axes)"

    @staticmethod
    def forward(ctx, x, axes):
        ctx.axes, ctx.ndim = None if axes is None else normal_axes(axes, x.ndim, "transpose"), x.ndim
        if ctx.axes is not None and len(ctx.axes) != x.ndim:
            raise ValueError(
                f"transpose: axes {axes!r} name {len(ctx.axes)} of the array's {x.ndim} axes; give all "
                "of them in their new order, or none to reverse them"
            )
        return x.transpose(ctx.axes)

    @staticmethod
    def backward(ctx, grad):
        axes = ctx.axes
        return transpose(grad, None if axes is None else tuple(np.argsort(axes))), None


class BroadcastTo(Function):
    """f(x) = x repeated along broadcast axes;  the gradient is summed back over them (which the
    engine does for every broadcast, so backward passes it through)."""

    name = "broadcast_to"
    symbol = "broadcast"
    formula = ("1", "")
    tensor_only = True
    broadcasts = True
    domain = "broadcast"
    reference = staticmethod(np.broadcast_to)

    @staticmethod
    def forward(ctx, x, shape):
        return numeric.broadcast_to(x, shape)

    @staticmethod
    def backward(ctx, grad):
        return grad, None


class Index(Function):
    """f(x) = x[index] (slices, integer arrays, boolean masks);  the gradient is scattered back,
    and an element picked twice receives both contributions."""

    symbol = "[]"
    written = "x[index]"
    formula = ("scatter_add(g, index, shape)", "")
    tensor_only = True
    domain = "index"

    @staticmethod
    def reference(x, index):
        return x[index]

    @staticmethod
    def forward(ctx, x, index):
        ctx.shape, ctx.index = x.shape, _own_copy(index)
        try:
            return x[index]
        except IndexError as error:
            raise IndexError(f"index: {error} (tensor of shape {x.shape})") from None

    @staticmethod
    def backward(ctx, grad):
        return scatter_add(grad, ctx.index, ctx.shape), None


class ScatterAdd(Function):
    """f(x) = zeros(shape) with x added at ``index`` (Index's gradient);  ∂f/∂x = 1, read back
    with the same index."""

    name = "scatter_add"
    symbol = "scatter"
    formula = ("index(g, index)", "", "")
    tensor_only = True
    domain = "scatter_add"

    @staticmethod
    def forward(ctx, x, index, shape):
        ctx.index = _own_copy(index)
        out = np.zeros(shape, dtype=np.result_type(x, np.float32))
        np.add.at(out, index, x)
        return out

    @staticmethod
    def reference(x, index, shape):
        out = np.zeros(shape)
        flat = np.arange(out.size).reshape(shape)[index]  # where each element of x lands
        for position, value in zip(np.broadcast_to(flat, np.shape(x)).ravel(), np.ravel(x)):
            out.flat[position] += value
        return out

    @staticmethod
    def backward(ctx, grad):
        return index(grad, ctx.index), None, None


def _own_copy(index):
    """The index with its arrays copied: backward must scatter to the positions forward read,
    even if the caller changes its index array in between."""
    if isinstance(index, tuple):
        return tuple(_own_copy(part) for part in index)
    return index.copy() if isinstance(index, np.ndarray) else index


def reshape(x, shape: Sequence[int]):
    """``x`` in a new shape (one dimension may be -1)."""
    return Reshape.apply(x, (shape,) if isinstance(shape, (int, np.integer)) else tuple(shape))


def transpose(x, axes: Sequence[int] | None = None):
    """``x`` with its axes permuted (reversed when ``axes`` is None; negative ones from the end)."""
    return Transpose.apply(x, None if axes is None else tuple(axes))


def broadcast_to(x, shape: Sequence[int]):
    """``x`` broadcast to ``shape`` (numpy's rules)."""
    return BroadcastTo.apply(x, tuple(shape))


index, scatter_add = Index.apply, ScatterAdd.apply


# --- choosing and joining -------------------------------------------------------------------------


class Where(Function):
    """f(cond, x, y) = x where cond, else y (elementwise, broadcasting as numpy);  the gradient
    goes to x where cond holds and to y elsewhere. It is selected, not multiplied by a mask, as
    in PyTorch: an inf or nan arriving for an element that was not chosen stays out."""

    formula = ("", "where(cond, g, 0)", "where(cond, 0, g)")
    broadcasts = True
    domain = "where"
    reference = staticmethod(np.where)

    @staticmethod
    def forward(ctx, cond, x, y):
        if isinstance(cond, np.ndarray):
            if cond.dtype != np.bool_:
                raise TypeError(f"where: the condition must be boolean, not {cond.dtype}")
            ctx.cond = cond = cond.copy()  # backward must choose what forward chose
            return np.where(cond, x, y)
        if not isinstance(cond, (bool, np.bool_)):
            raise TypeError(f"where: the condition must be boolean, not {type(cond).__name__}")
        ctx.cond = cond = bool(cond)
        if isinstance(x, np.ndarray) or isinstance(y, np.ndarray):
            return np.where(cond, x, y)
        return x if cond else y

    @staticmethod
    def backward(ctx, grad):
        cond, (_, need_x, need_y) = ctx.cond, ctx.needs_input_grad
        return None, where(cond, grad, 0.0) if need_x else None, where(cond, 0.0, grad) if need_y else None


class Cat(Function):
    """f(x, y) = x and y joined along ``axis``;  each gets its part of the gradient back
    (``left`` and ``right``: the index of each part). ``cat`` of many tensors joins them two at
    a time, as a balanced tree."""

    formula = ("index(g, left)", "index(g, right)", "")
    tensor_only = True
    domain = "cat"

    @staticmethod
    def reference(x, y, axis):
        return np.concatenate([x, y], axis=axis)

    @staticmethod
    def forward(ctx, x, y, axis):
        try:
            out = np.concatenate([x, y], axis=axis)
        except ValueError:
            raise ValueError(
                f"cat: shapes {x.shape} and {y.shape} differ outside axis {axis}; only the size "
                "along the joining axis may differ"
            ) from None
        before = (slice(None),) * axis
        ctx.left = (*before, slice(0, x.shape[axis]))
        ctx.right = (*before, slice(x.shape[axis], None))
        return out

    @staticmethod
    def backward(ctx, grad):
        return index(grad, ctx.left), index(grad, ctx.right), None


def where(cond, x, y):
    """``x`` where ``cond`` is true, else ``y``, elementwise (PyTorch's and numpy's ``where``);
    ``cond`` is a boolean Tensor, ndarray or bool, and carries no gradient."""
    kind = None
    if hasattr(cond, "_ctx"):  # a graph node: a boolean Tensor from a comparison
        kind, cond = type(cond), cond.data
    out = Where.apply(cond, x, y)
    if kind is not None and not hasattr(out, "_ctx"):  # where(mask, 1.0, 0.0): a Tensor, as PyTorch
        return kind._from_op(np.asarray(out))
    return out


def cat(xs: Sequence, axis: int | None = None, *, dim: int | None = None):
    """The arrays of ``xs`` (Tensors or ndarrays) joined along ``axis`` (or ``dim``; default 0),
    which must exist in each (negative counts from the end); a new array, never a view of an
    input."""
    axis, _ = spelled("cat", axis, dim)
    xs = list(xs)
    shapes = _shapes(xs, "cat")
    ndim = len(shapes[0])
    if ndim == 0:
        raise ValueError("cat: a 0-d tensor cannot be joined; use stack, or reshape it to 1-d first")
    for k, shape in enumerate(shapes):
        if len(shape) != ndim:
            raise ValueError(
                f"cat: tensor {k} has {len(shape)} dimensions but tensor 0 has {ndim}; all must have "
                "the same number"
            )
    axis = normal_axis(0 if axis is None else axis, ndim, "cat")
    if len(xs) == 1:  # a copy, as PyTorch's: picking every position along the axis
        return index(xs[0], (slice(None),) * axis + (np.arange(shapes[0][axis]),))
    while len(xs) > 1:
        pairs = [Cat.apply(xs[i], xs[i + 1], axis) for i in range(0, len(xs) - 1, 2)]
        xs = pairs + xs[len(pairs) * 2 :]
    return xs[0]


def stack(xs: Sequence, axis: int | None = None, *, dim: int | None = None):
    """The arrays of ``xs``, all of one shape, stacked along a new ``axis`` (or ``dim``;
    default 0)."""
    axis, _ = spelled("stack", axis, dim)
    xs = list(xs)
    shapes = _shapes(xs, "stack")
    for k, shape in enumerate(shapes):
        if shape != shapes[0]:
            raise ValueError(
                f"stack: tensor {k} has shape {shape} but tensor 0 has {shapes[0]}; all must have the "
                "same shape"
            )
    axis = normal_axis(0 if axis is None else axis, len(shapes[0]) + 1, "stack")
    return cat([unsqueeze(x, axis) for x in xs], axis)


def flatten(x, start: int = 0, end: int = -1):
    """``x`` with axes ``start`` to ``end`` (inclusive) merged into one; a 0-d array becomes
    1-d (as PyTorch)."""
    shape = _shape(x)
    if not shape:
        return reshape(x, (1,))
    first, last = normal_axis(start, len(shape), "flatten"), normal_axis(end, len(shape), "flatten")
    if first > last:
        raise ValueError(f"flatten: start axis {start} comes after end axis {end}")
    merged = int(np.prod(shape[first : last + 1]))
    return reshape(x, (*shape[:first], merged, *shape[last + 1 :]))


def squeeze(x, axis: int | Sequence[int] | None = None, *, dim: int | Sequence[int] | None = None):
    """``x`` without axes of length 1: all of them, or those of ``axis`` (or ``dim``; an axis
    whose length is not 1 is left alone, as PyTorch)."""
    axis, _ = spelled("squeeze", axis, dim)
    shape = _shape(x)
    chosen = normal_axes(axis, len(shape) or 1, "squeeze")
    return reshape(x, tuple(n for i, n in enumerate(shape) if not (i in chosen and n == 1)))


def unsqueeze(x, axis: int | None = None, *, dim: int | None = None):
    """``x`` with a new axis of length 1 at ``axis`` (or ``dim``; -1: at the end)."""
    axis, _ = spelled("unsqueeze", axis, dim)
    if axis is None:
        raise TypeError("unsqueeze: say where the new axis goes, e.g. unsqueeze(x, 0)")
    shape = _shape(x)
    position = normal_axis(axis, len(shape) + 1, "unsqueeze")
    return reshape(x, (*shape[:position], 1, *shape[position:]))


def _shape(x) -> tuple[int, ...]:
    """The shape of a Tensor, an ndarray or a number (())."""
    return np.shape(x.data if hasattr(x, "_ctx") else x)


def _shapes(xs: list, op: str) -> list[tuple[int, ...]]:
    """The shape of each of ``xs``, of which there must be at least one."""
    shapes = [_shape(x) for x in xs]
    if not shapes:
        raise ValueError(f"{op}: needs at least one tensor")
    return shapes
