"""Matrix products. Arrays only."""

from __future__ import annotations

import numpy as np

from .. import numeric
from ..function import Function

__all__ = ["Linear", "MatMul", "linear", "matmul"]


class MatMul(Function):
    """f(x, y) = x @ y (numpy's rules: 1-D, 2-D, batched);  ∂L/∂x = g @ yᵀ, ∂L/∂y = xᵀ @ g.

    A 1-D x is a row (1, k) and a 1-D y a column (k, 1) for the formulas; broadcast batch
    axes are summed back by the engine like any broadcast.
    """

    symbol = "@"
    written = "x@y"
    formula = ("g @ y.T", "x.T @ g")
    tensor_only = True
    broadcasts = True
    domain = "matmul"
    reference = np.matmul

    @staticmethod
    def forward(ctx, x, y):
        ctx.save_for_backward(x, y)
        return _product("matmul", x, y)

    @staticmethod
    def backward(ctx, grad):
        x, y = ctx.saved_tensors
        return matmul_grads(x, y, grad, *ctx.needs_input_grad)


class Linear(Function):
    """f(x, w, b) = x @ w + b, an affine layer in one op (as PyTorch's addmm): the product's
    gradients as for matmul, and ∂f/∂b = 1 (summed over the broadcast rows by the engine).
    One op instead of two keeps one activation fewer alive for backward."""

    written = "x@w + b"
    formula = ("g @ w.T", "x.T @ g", "g")
    tensor_only = True
    broadcasts = True
    domain = "linear"

    @staticmethod
    def reference(x, w, b):
        return np.matmul(x, w) + b

    @staticmethod
    def forward(ctx, x, w, b):
        ctx.save_for_backward(x, w)
        product = _product("linear", x, w)
        if not numeric.broadcasts_to(np.shape(b), product.shape):
            raise ValueError(
                f"linear: b of shape {np.shape(b)} does not broadcast to x @ w's shape {np.shape(product)}"
            )
        return numeric.add_into(product, b)

    @staticmethod
    def backward(ctx, grad):
        x, w = ctx.saved_tensors
        need_x, need_w, need_b = ctx.needs_input_grad
        return (*matmul_grads(x, w, grad, need_x, need_w), grad if need_b else None)


def _product(op: str, x, y):
    """x @ y, with an error that names the op and both shapes."""
    try:
        return np.matmul(x, y)
    except ValueError:
        if np.ndim(x) == 0 or np.ndim(y) == 0:
            raise ValueError(
                f"{op}: needs arrays of at least 1 dimension, got shapes {np.shape(x)} and {np.shape(y)}"
            ) from None
        k = y.shape[-2 if y.ndim > 1 else 0]
        raise ValueError(f"{op}: shapes {x.shape} and {y.shape} do not align: {x.shape[-1]} != {k}") from None


def matmul_grads(x, y, grad, need_x: bool = True, need_y: bool = True):
    """Gradients of x @ y for the upstream gradient ``grad``: (g @ yᵀ, xᵀ @ g), with 1-D operands
    treated as a row (x) and a column (y) and the result brought back to 1-D.

    Written with ``@``, ``.mT`` and ``.reshape``, which ndarrays and Tensors share: on arrays
    they cost one numpy call each."""
    x2 = x if x.ndim > 1 else x.reshape((1, x.shape[0]))
    y2 = y if y.ndim > 1 else y.reshape((y.shape[0], 1))
    if x.ndim == 1 or y.ndim == 1:
        batch = np.broadcast_shapes(x2.shape[:-2], y2.shape[:-2]) if x2.ndim > 2 or y2.ndim > 2 else ()
        grad = grad.reshape((*batch, x2.shape[-2], y2.shape[-1]))
    grad_x = grad_y = None
    if need_x:
        grad_x = grad @ y2.mT
        if x.ndim == 1:
            grad_x = grad_x.reshape((*grad_x.shape[:-2], x.shape[0]))
    if need_y:
        grad_y = x2.mT @ grad
        if y.ndim == 1:
            grad_y = grad_y.reshape((*grad_y.shape[:-2], y.shape[0]))
    return grad_x, grad_y


matmul, linear = MatMul.apply, Linear.apply
