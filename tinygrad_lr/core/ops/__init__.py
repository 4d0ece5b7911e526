"""The op table: one small ``Function`` per op, grouped by kind.

The lower-case names are the framework's vocabulary: they take Values, Tensors, numbers and
ndarrays alike (the array ops: Tensors and ndarrays), and backward formulas are written with
them.
"""

import numpy as np

from .. import formula
from ..engine import Node
from .arithmetic import *  # noqa: F403
from .linalg import *  # noqa: F403
from .loss import *  # noqa: F403
from .movement import *  # noqa: F403
from .movement import where
from .reduce import *  # noqa: F403
from .reduce import Max, Min
from .softmax import *  # noqa: F403
from .unary import *  # noqa: F403
from .unary import sigmoid


def _sign(x):
    """sign x (nan stays nan), a constant even on the graph: its derivative is 0 where defined."""
    sign = np.sign(x.data if isinstance(x, Node) else x)
    return sign if isinstance(sign, np.ndarray) else float(sign)


def _chosen(cond, x, y):
    """where as a formula writes it: ``cond`` a comparison's 1s and 0s (a constant, also on the
    graph), the gradient chosen rather than multiplied, so an inf or nan not chosen stays out."""
    cond = cond.data if isinstance(cond, Node) else cond
    if not isinstance(cond, np.ndarray):
        if not isinstance(x, Node) and not isinstance(y, Node):  # numbers: no op, no graph
            return x if cond else y
        cond = bool(cond)
    elif cond.dtype != np.bool_:
        cond = np.not_equal(cond, 0)
    return where(cond, x, y)


def _extreme(fn):
    """max or min as an expression writes it: max(x) over all elements, max(x, axis)."""
    return lambda x, axis=None, keepdims=False: fn.apply(x, axis, keepdims)


# Registering an op puts its ``apply`` in the vocabulary; these do more (axis spelling, defaults,
# a plain-number exponent) or are no op.
_VOCABULARY = "sum mean reshape transpose broadcast_to amax amin pow bce_with_logits"
formula.FUNCTIONS.update({name: globals()[name] for name in _VOCABULARY.split()})
formula.FUNCTIONS.update(sign=_sign, where=_chosen, max=_extreme(Max), min=_extreme(Min), σ=sigmoid)
formula.FUNCTIONS.update(slice=slice)  # an index written outside a subscript: slice(0, 1)
