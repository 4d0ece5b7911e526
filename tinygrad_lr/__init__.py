"""tinygrad_lr: reverse-mode autodiff on scalars (Value) and arrays (Tensor), one engine under both.

>>> import tinygrad_lr as tg
>>> x = tg.Value(2.0, label="x")
>>> y = tg.sigmoid(x * 3)
>>> y.backward()
>>> round(x.grad, 6)
0.0074
"""

from . import engine, numeric
from .check import GradcheckError, gradcheck, gradgradcheck, numerical_grad
from .engine import Backprop, grad, no_grad
from .function import REGISTRY, Choice, Context, Domain, Function, Param
from .ops import (
    bce_with_logits,
    broadcast_to,
    div,
    exp,
    linear,
    log,
    matmul,
    maximum,
    mean,
    pow,
    relu,
    reshape,
    sigmoid,
    softplus,
    sum,
    tanh,
    transpose,
)
from .tensor import Tensor
from .value import Value

__all__ = [
    "REGISTRY",
    "Backprop",
    "Choice",
    "Context",
    "Domain",
    "Function",
    "GradcheckError",
    "Param",
    "Tensor",
    "Value",
    "bce_with_logits",
    "broadcast_to",
    "div",
    "engine",
    "exp",
    "grad",
    "gradcheck",
    "gradgradcheck",
    "linear",
    "log",
    "matmul",
    "maximum",
    "mean",
    "no_grad",
    "numeric",
    "numerical_grad",
    "pow",
    "relu",
    "reshape",
    "sigmoid",
    "softplus",
    "sum",
    "tanh",
    "transpose",
]
