"""Matrix product. Arrays only."""

from __future__ import annotations

import numpy as np

import tinygrad_lr as tg

from ..function import Domain, Function


class MatMul(Function):
    """f(x, y) = x @ y (numpy's rules: 1-D, 2-D, batched);  ∂L/∂x = g @ yᵀ, ∂L/∂y = xᵀ @ g.

    A 1-D x is a row (1, k) and a 1-D y a column (k, 1) for the formulas; broadcast batch
    axes are summed back by the engine like any broadcast.
    """

    symbol = "@"
    formula = ("g·yᵀ", "xᵀ·g")
    domain = (Domain(), Domain())
    tensor_only = True
    shapes = "matmul"

    @staticmethod
    def forward(ctx, x, y):
        if np.ndim(x) == 0 or np.ndim(y) == 0:
            raise ValueError(
                f"matmul: needs arrays of at least 1 dimension, got shapes {np.shape(x)} and {np.shape(y)}"
            )
        if x.shape[-1] != y.shape[-2 if y.ndim > 1 else 0]:
            k = y.shape[-2 if y.ndim > 1 else 0]
            raise ValueError(f"matmul: shapes {x.shape} and {y.shape} do not align: {x.shape[-1]} != {k}")
        ctx.save_for_backward(x, y)
        return np.matmul(x, y)

    @staticmethod
    def backward(ctx, grad):
        x, y = ctx.saved_tensors
        need_x, need_y = ctx.needs_input_grad
        x2 = x if x.ndim > 1 else tg.reshape(x, (1, x.shape[0]))
        y2 = y if y.ndim > 1 else tg.reshape(y, (y.shape[0], 1))
        batch = np.broadcast_shapes(x2.shape[:-2], y2.shape[:-2])
        g2 = tg.reshape(grad, (*batch, x2.shape[-2], y2.shape[-1]))
        grad_x = grad_y = None
        if need_x:
            grad_x = tg.matmul(g2, _swap_last(y2))
            if x.ndim == 1:
                grad_x = tg.reshape(grad_x, (*grad_x.shape[:-2], x.shape[0]))
        if need_y:
            grad_y = tg.matmul(_swap_last(x2), g2)
            if y.ndim == 1:
                grad_y = tg.reshape(grad_y, (*grad_y.shape[:-2], y.shape[0]))
        return grad_x, grad_y


def _swap_last(a):
    return tg.transpose(a, (*range(a.ndim - 2), a.ndim - 1, a.ndim - 2))


matmul = MatMul.apply
