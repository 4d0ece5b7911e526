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
from .function import REGISTRY, Choice, Context, Domain, Function
from .ops import div, exp, log, pow, relu, sigmoid, tanh
from .value import Value

__all__ = [
    "REGISTRY", "Backprop", "Choice", "Context", "Domain", "Function", "GradcheckError", "Value",
    "div", "engine", "exp", "grad", "gradcheck", "gradgradcheck", "log", "no_grad", "numeric",
    "numerical_grad", "pow", "relu", "sigmoid", "tanh",
]  # fmt: skip
