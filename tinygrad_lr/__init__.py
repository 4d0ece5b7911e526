"""tinygrad_lr: reverse-mode autodiff on scalars (Value) and arrays (Tensor), one engine under both.

>>> import tinygrad_lr as tg
>>> x = tg.Value(2.0, label="x")
>>> y = tg.sigmoid(x * 3)
>>> y.backward()
>>> round(x.grad, 6)
0.0074
"""

__version__ = "0.1.0"  # the one place the version is written (pyproject.toml reads it)

from . import data, engine, formula, lesson, naming, nn, numeric, optim, plots, show, training, viz
from .check import GradcheckError, gradcheck, gradgradcheck, numerical_grad
from .engine import grad, no_grad
from .expr import ExpressionError, expr
from .function import REGISTRY, Choice, Context, Domain, Function
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
from .serialize import load, save
from .step import Backprop
from .tensor import Tensor
from .value import Value
from .viz import Drawing, draw

__all__ = [
    "REGISTRY",
    "Backprop",
    "Choice",
    "Context",
    "Domain",
    "Drawing",
    "ExpressionError",
    "Function",
    "GradcheckError",
    "Tensor",
    "Value",
    "bce_with_logits",
    "broadcast_to",
    "data",
    "div",
    "draw",
    "engine",
    "exp",
    "expr",
    "formula",
    "grad",
    "gradcheck",
    "gradgradcheck",
    "lesson",
    "linear",
    "load",
    "log",
    "matmul",
    "maximum",
    "mean",
    "naming",
    "nn",
    "no_grad",
    "numeric",
    "numerical_grad",
    "optim",
    "plots",
    "pow",
    "relu",
    "reshape",
    "save",
    "show",
    "sigmoid",
    "softplus",
    "sum",
    "tanh",
    "training",
    "transpose",
    "viz",
]
