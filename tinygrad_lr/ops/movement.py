"""Shape changes and indexing: no arithmetic, only where the numbers go. Arrays only."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from ..function import Function


class Reshape(Function):
    """f(x) = x in a new shape;  the gradient is reshaped back."""

    symbol = "reshape"
    written = "reshape(x, shape)"
    formula = ("1", "")
    tensor_only = True
    reference = staticmethod(np.reshape)

    @staticmethod
    def arguments(dtype):
        from ..testing import arrays, reshapes, st

        return arrays(dtype).flatmap(lambda x: st.tuples(st.just(x), reshapes(x.shape)))

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

    symbol = "transpose"

    @classmethod
    def write(cls, ctx) -> str:
        return "x.T" if ctx.axes is None else "transpose(x, axes)"

    formula = ("1", "")
    tensor_only = True
    reference = staticmethod(np.transpose)

    @staticmethod
    def arguments(dtype):
        from ..testing import arrays, permutations, st

        return arrays(dtype).flatmap(lambda x: st.tuples(st.just(x), permutations(x.shape)))

    @staticmethod
    def forward(ctx, x, axes):
        ctx.axes = axes
        return x.transpose(axes)

    @staticmethod
    def backward(ctx, grad):
        axes = ctx.axes
        return transpose(grad, None if axes is None else tuple(np.argsort(axes))), None


class BroadcastTo(Function):
    """f(x) = x repeated along broadcast axes;  the gradient is summed back over them (which the
    engine does for every broadcast, so backward passes it through)."""

    name = "broadcast_to"
    symbol = "broadcast"
    written = "broadcast_to(x, shape)"
    formula = ("1", "")
    tensor_only = True
    reference = staticmethod(np.broadcast_to)

    @staticmethod
    def arguments(dtype):
        from ..testing import arrays, broadcast_targets, st

        return arrays(dtype).flatmap(lambda x: st.tuples(st.just(x), broadcast_targets(x.shape)))

    @staticmethod
    def forward(ctx, x, shape):
        return np.broadcast_to(x, shape)

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

    @staticmethod
    def reference(x, index):
        return x[index]

    @staticmethod
    def arguments(dtype):
        from ..testing import arrays, indices, st

        return arrays(dtype).flatmap(lambda x: st.tuples(st.just(x), indices(x.shape)))

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
    written = "scatter_add(x, index, shape)"
    formula = ("index(g, index)", "", "")
    tensor_only = True

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
    def arguments(dtype):
        from ..testing import arrays, indices, st

        @st.composite
        def draw(draw_from):
            shape = draw_from(st.lists(st.integers(1, 3), min_size=1, max_size=3).map(tuple))
            index = draw_from(indices(shape))
            return draw_from(arrays(dtype, np.zeros(shape)[index].shape)), index, shape

        return draw()

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
    """``x`` with its axes permuted (reversed when ``axes`` is None)."""
    return Transpose.apply(x, None if axes is None else tuple(axes))


def broadcast_to(x, shape: Sequence[int]):
    """``x`` broadcast to ``shape`` (numpy's rules)."""
    return BroadcastTo.apply(x, tuple(shape))


index = Index.apply
scatter_add = ScatterAdd.apply
