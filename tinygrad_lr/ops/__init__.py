"""The op table: one small ``Function`` per op, grouped by kind.

The lower-case names are the framework's vocabulary: they take Values, Tensors, numbers and
ndarrays alike, and backward formulas are written with them.
"""

from .arithmetic import Add, Div, Mul, Neg, Pow, PowNumber, Sub, add, div, mul, neg, pow, sub
from .unary import Exp, Log, ReLU, Sigmoid, Tanh, exp, log, relu, sigmoid, tanh

__all__ = [
    "Add", "Div", "Exp", "Log", "Mul", "Neg", "Pow", "PowNumber", "ReLU", "Sigmoid", "Sub",
    "Tanh", "add", "div", "exp", "log", "mul", "neg", "pow", "relu", "sigmoid", "sub", "tanh",
]  # fmt: skip
