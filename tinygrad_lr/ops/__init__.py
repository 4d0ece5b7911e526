"""The op table: one small ``Function`` per op, grouped by kind.

The lower-case names are the framework's vocabulary: they take Values, Tensors, numbers and
ndarrays alike (the array ops: Tensors and ndarrays), and backward formulas are written with
them.
"""

from .arithmetic import (
    Add,
    Div,
    Maximum,
    Mul,
    Neg,
    Pow,
    PowNumber,
    Sub,
    add,
    div,
    maximum,
    mul,
    neg,
    pow,
    sub,
)  # fmt: skip
from .linalg import Linear, MatMul, linear, matmul
from .loss import BCEWithLogits, bce_with_logits
from .movement import (
    BroadcastTo,
    Index,
    Reshape,
    ScatterAdd,
    Transpose,
    broadcast_to,
    index,
    reshape,
    scatter_add,
    transpose,
)  # fmt: skip
from .reduce import Mean, Sum, mean, sum
from .softmax import CrossEntropy, LogSoftmax, Softmax, cross_entropy, log_softmax, softmax
from .unary import Exp, Log, ReLU, Sigmoid, Softplus, Tanh, exp, log, relu, sigmoid, softplus, tanh

__all__ = [
    "Add",
    "BCEWithLogits",
    "BroadcastTo",
    "CrossEntropy",
    "Div",
    "Exp",
    "Index",
    "Linear",
    "Log",
    "LogSoftmax",
    "MatMul",
    "Maximum",
    "Mean",
    "Mul",
    "Neg",
    "Pow",
    "PowNumber",
    "ReLU",
    "Reshape",
    "ScatterAdd",
    "Sigmoid",
    "Softmax",
    "Softplus",
    "Sub",
    "Sum",
    "Tanh",
    "Transpose",
    "add",
    "bce_with_logits",
    "broadcast_to",
    "cross_entropy",
    "div",
    "exp",
    "index",
    "linear",
    "log",
    "log_softmax",
    "matmul",
    "maximum",
    "mean",
    "mul",
    "neg",
    "pow",
    "relu",
    "reshape",
    "scatter_add",
    "sigmoid",
    "softmax",
    "softplus",
    "sub",
    "sum",
    "tanh",
    "transpose",
]
