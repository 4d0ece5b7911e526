"""tinygrad_lr: reverse-mode autodiff on scalars (Value) and arrays (Tensor), one engine under both.

>>> import tinygrad_lr as tg
>>> x = tg.Value(2.0, label="x")
>>> y = tg.sigmoid(x * 3)
>>> y.backward()
>>> round(x.grad, 6)
0.0074
"""

__version__ = "0.1.0"  # the one place the version is written (pyproject.toml reads it)

from . import data, nn, optim, plots, training
from .check import GradcheckError, gradcheck, gradgradcheck, numerical_grad
from .core import engine, formula, numeric, ops, show
from .core.dtypes import bool as bool
from .core.dtypes import float16, float32, float64, int8, int16, int32, int64, uint8
from .core.engine import grad, no_grad
from .core.formula import ExpressionError
from .core.function import REGISTRY, Choice, Context, Domain, Function
from .core.ops import abs_ as abs
from .core.ops import (
    amax,
    amin,
    argmax,
    argmin,
    bce_with_logits,
    broadcast_to,
    cat,
    clamp,
    div,
    exp,
    flatten,
    linear,
    log,
    log_softmax,
    matmul,
    max,
    maximum,
    mean,
    min,
    pow,
    relu,
    reshape,
    sigmoid,
    softmax,
    softplus,
    sqrt,
    squeeze,
    stack,
    sum,
    tanh,
    transpose,
    unsqueeze,
    where,
)
from .core.tensor import Tensor
from .core.value import Value
from .creation import (
    Generator,
    arange,
    eye,
    full,
    manual_seed,
    ones,
    ones_like,
    rand,
    randn,
    zeros,
    zeros_like,
)
from .serialize import load, save
from .teach import lesson, naming, page, viz
from .teach.expr import expr
from .teach.step import Backprop
from .teach.viz import Drawing, draw

clip, concatenate = clamp, cat  # numpy's names
# NOTE: tg.bool is left out of __all__: `from tinygrad_lr import *` must not replace the builtin

__all__ = [
    "REGISTRY",
    "Backprop",
    "Choice",
    "Context",
    "Domain",
    "Drawing",
    "ExpressionError",
    "Function",
    "Generator",
    "GradcheckError",
    "Tensor",
    "Value",
    "abs",
    "amax",
    "amin",
    "arange",
    "argmax",
    "argmin",
    "bce_with_logits",
    "broadcast_to",
    "cat",
    "clamp",
    "clip",
    "concatenate",
    "data",
    "div",
    "draw",
    "engine",
    "exp",
    "expr",
    "eye",
    "flatten",
    "float16",
    "float32",
    "float64",
    "formula",
    "full",
    "grad",
    "gradcheck",
    "gradgradcheck",
    "int8",
    "int16",
    "int32",
    "int64",
    "lesson",
    "linear",
    "load",
    "log",
    "log_softmax",
    "manual_seed",
    "matmul",
    "max",
    "maximum",
    "mean",
    "min",
    "naming",
    "nn",
    "no_grad",
    "numeric",
    "numerical_grad",
    "ones",
    "ones_like",
    "ops",
    "optim",
    "page",
    "plots",
    "pow",
    "rand",
    "randn",
    "relu",
    "reshape",
    "save",
    "show",
    "sigmoid",
    "softmax",
    "softplus",
    "sqrt",
    "squeeze",
    "stack",
    "sum",
    "tanh",
    "training",
    "transpose",
    "uint8",
    "unsqueeze",
    "viz",
    "where",
    "zeros",
    "zeros_like",
]
