"""tinygrad_lr: reverse-mode autodiff on scalars (Value) and arrays (Tensor), one engine under both.

>>> import tinygrad_lr as tg
>>> x = tg.Value(2.0, label="x")
>>> y = tg.sigmoid(x * 3)
>>> y.backward()
>>> round(x.grad, 6)
0.0074
"""

# ruff: noqa: F401 (imported to be re-exported: __all__ is computed from the imports)

__version__ = "0.1.0"  # the one place the version is written (pyproject.toml reads it)

from . import data, nn, optim, plots, training
from .check import GradcheckError, gradcheck, gradgradcheck, numerical_grad
from .core import engine, formula, numeric, ops, show
from .core.dtypes import bool as bool
from .core.dtypes import (
    double,
    float16,
    float32,
    float64,
    half,
    int8,
    int16,
    int32,
    int64,
    long,
    short,
    uint8,
)
from .core.dtypes import float as float
from .core.dtypes import int as int
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
    randperm,
    tensor,
    zeros,
    zeros_like,
)
from .nn.functional import cross_entropy
from .serialize import load, save
from .teach import lesson, naming, page, viz
from .teach.expr import expr
from .teach.step import Backprop
from .teach.viz import Drawing, draw

clip, concatenate = clamp, cat  # numpy's names

# The public names are the ones imported above, less the subpackages they come from and the
# dtypes named as builtins (NOTE: `from tinygrad_lr import *` must not replace bool, float, int).
__all__ = sorted(
    name
    for name in globals()
    if not name.startswith("_")
    and name not in {"bool", "float", "int", "check", "core", "creation", "serialize", "teach"}
)
