"""The op table: one small ``Function`` per op, grouped by kind.

The lower-case names are the framework's vocabulary: they take Values, Tensors, numbers and
ndarrays alike (the array ops: Tensors and ndarrays), and backward formulas are written with
them.
"""

import numpy as np

from .. import formula
from ..engine import Node
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
)
from .linalg import Linear, MatMul, linear, matmul
from .loss import BCEWithLogits, bce_with_logits
from .movement import (
    BroadcastTo,
    Cat,
    Index,
    Reshape,
    ScatterAdd,
    Transpose,
    Where,
    broadcast_to,
    cat,
    flatten,
    index,
    reshape,
    scatter_add,
    squeeze,
    stack,
    transpose,
    unsqueeze,
    where,
)
from .reduce import Max, MaxResult, Mean, Min, Sum, amax, amin, argmax, argmin, max, mean, min, sum
from .softmax import CrossEntropy, LogSoftmax, Softmax, cross_entropy, log_softmax, softmax
from .unary import (
    Abs,
    Clamp,
    Exp,
    Log,
    ReLU,
    Sigmoid,
    Softplus,
    Sqrt,
    Tanh,
    abs_,
    clamp,
    exp,
    log,
    relu,
    sigmoid,
    softplus,
    sqrt,
    tanh,
)

__all__ = [
    "Abs",
    "Add",
    "BCEWithLogits",
    "BroadcastTo",
    "Cat",
    "Clamp",
    "CrossEntropy",
    "Div",
    "Exp",
    "Index",
    "Linear",
    "Log",
    "LogSoftmax",
    "MatMul",
    "Max",
    "MaxResult",
    "Maximum",
    "Mean",
    "Min",
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
    "Sqrt",
    "Sub",
    "Sum",
    "Tanh",
    "Transpose",
    "Where",
    "abs_",
    "add",
    "amax",
    "amin",
    "argmax",
    "argmin",
    "bce_with_logits",
    "broadcast_to",
    "cat",
    "clamp",
    "cross_entropy",
    "div",
    "exp",
    "flatten",
    "index",
    "linear",
    "log",
    "log_softmax",
    "matmul",
    "max",
    "maximum",
    "mean",
    "min",
    "mul",
    "neg",
    "pow",
    "relu",
    "reshape",
    "scatter_add",
    "sigmoid",
    "softmax",
    "softplus",
    "sqrt",
    "squeeze",
    "stack",
    "sub",
    "sum",
    "tanh",
    "transpose",
    "unsqueeze",
    "where",
]


def _sign(x):
    """sign x (nan stays nan), a constant even on the graph: its derivative is 0 where defined."""
    sign = np.sign(x.data if isinstance(x, Node) else x)
    return sign if isinstance(sign, np.ndarray) else float(sign)


def _chosen(cond, x, y):
    """where as a formula writes it: ``cond`` a comparison's 1s and 0s (a constant, also on the
    graph), the gradient chosen rather than multiplied, so an inf or nan not chosen stays out."""
    cond = cond.data if isinstance(cond, Node) else cond
    return where(np.not_equal(cond, 0) if isinstance(cond, np.ndarray) else bool(cond), x, y)


def _extreme(fn):
    """max or min as an expression writes it: max(x) over all elements, max(x, axis)."""
    return lambda x, axis=None, keepdims=False: fn.apply(x, axis, keepdims)


_VOCABULARY = (
    "exp log sigmoid tanh relu softplus sqrt maximum matmul sum mean reshape transpose broadcast_to "
    "index scatter_add amax amin div pow bce_with_logits"
)
formula.FUNCTIONS.update({name: globals()[name] for name in _VOCABULARY.split()})
formula.FUNCTIONS.update(abs=abs_, sign=_sign, where=_chosen, max=_extreme(Max), min=_extreme(Min), σ=sigmoid)
