"""IEEE-754 elementwise kernels for Python floats and numpy arrays.

The op table computes forward values with these, so a Value (Python float) and a Tensor
(ndarray) give the same answer, edge cases included: ``log(0) = -inf``, ``log(-1) = nan``,
``exp(1000) = inf``, ``1 / 0 = inf``. Python's ``math`` module raises for those and numpy
warns; here neither happens.

Transcendental functions of a float go through numpy's own kernels too: ``math.exp`` and
``np.exp`` differ in the last bit or two for a few percent of inputs, and a Value must agree
with a 0-d Tensor bit for bit. Float paths check the exceptional cases first, so numpy never
has anything to warn about.
"""

from __future__ import annotations

import functools
import math

import numpy as np

# enter_quiet() turns numpy's floating-point warnings off and returns a token; leave_quiet(token)
# restores them. numpy >= 2 keeps that state in a context variable, which is the cheap way.
try:
    from numpy._core.umath import _extobj_contextvar, _make_extobj

    enter_quiet = functools.partial(_extobj_contextvar.set, _make_extobj(all="ignore"))
    leave_quiet = _extobj_contextvar.reset
except ImportError:  # pragma: no cover - other numpy builds: the public, slower errstate

    def enter_quiet():
        state = np.errstate(all="ignore")
        state.__enter__()
        return state

    def leave_quiet(state):
        state.__exit__(None, None, None)


class quiet:
    """numpy's floating-point warnings off while the block runs: IEEE results (inf, nan), no
    ``RuntimeWarning``, as for Python floats here. ``np.errstate(all="ignore")`` does the same
    at several times the cost, and the engine enters this per op."""

    __slots__ = ("_token",)

    def __enter__(self) -> None:
        self._token = enter_quiet()

    def __exit__(self, *exc: object) -> None:
        leave_quiet(self._token)


def quietly(function, *args):
    """``function(*args)`` with numpy's floating-point warnings off (see ``quiet``)."""
    token = enter_quiet()
    try:
        return function(*args)
    finally:
        leave_quiet(token)


def exp(x):
    """e**x; overflows to inf."""
    if isinstance(x, np.ndarray):
        return quietly(np.exp, x)
    if x > _EXP_MAX:
        return math.inf
    return float(np.exp(x))


_EXP_MAX = 709.782712893384  # the largest float whose exponential is finite


def log(x):
    """Natural log: log(0) = -inf, log(x < 0) = nan."""
    if isinstance(x, np.ndarray):
        return quietly(np.log, x)
    if x > 0:
        return float(np.log(x))
    return -math.inf if x == 0 else math.nan


def sigmoid(x):
    """1 / (1 + e**-x). For x < -709, e**-x overflows to inf and the result is exactly 0, the
    correctly rounded answer; numpy's overflow warning for it is silenced."""
    if isinstance(x, np.ndarray):
        out = np.negative(x, out=_fresh(x))
        quietly(np.exp, out, out)  # into out
        out += 1
        return np.divide(1.0, out, out=out)
    return 1 / (1 + exp(-x))


def tanh(x):
    """Hyperbolic tangent (saturates to ±1, never overflows)."""
    return np.tanh(x) if isinstance(x, np.ndarray) else float(np.tanh(x))


def relu(x):
    """max(x, 0), with nan propagated."""
    if isinstance(x, np.ndarray):
        return np.maximum(x, 0)
    return 0.0 if x <= 0 else x


def div(x, y):
    """x / y with IEEE results for a zero divisor: ±inf, or nan for 0/0."""
    if isinstance(x, np.ndarray) or isinstance(y, np.ndarray):
        return quietly(np.divide, x, y)
    try:
        return x / y
    except ZeroDivisionError:  # Python raises where numpy gives the IEEE result
        with quiet():
            return float(np.divide(x, y))


def power(x, y):
    """x ** y as C's pow: nan for a negative base with a fractional exponent, ±inf on overflow
    and for 0 ** negative, never a complex number or an exception (numpy's pow is C's)."""
    with quiet():
        if isinstance(x, np.ndarray) or isinstance(y, np.ndarray):
            return np.power(x, y)
        return float(np.power(float(x), float(y)))  # floats: numpy refuses 0 ** -1 on integers


def softplus(x):
    """log(1 + eˣ), as numpy's logaddexp(0, x) computes it: max(x, 0) + log1p(e^−|x|), which
    never overflows and keeps full precision."""
    with quiet():  # a nan gives nan, without numpy's warning
        if isinstance(x, np.ndarray):
            return np.logaddexp(0, x, out=_fresh(x))
        return float(np.logaddexp(0, x))


def logistic_loss(z, y):
    """softplus(z) − z·y elementwise, as (max(z, 0) − z·y) + log1p(e^−|z|): two parts that are
    never negative for y in [0, 1], so nothing cancels, and no step overflows for finite z."""
    loss = np.maximum(z, 0) - z * y
    e = np.exp(-np.abs(z))
    return loss + np.log1p(e)


def logistic_loss_sum(z, y, block: int = 65_536) -> float:
    """Σ logistic_loss(z, y) over arrays of one shape, a block at a time, so that the
    temporaries stay small however long z is."""
    if np.size(z) <= block:
        return np.add.reduce(logistic_loss(z, y), axis=None)
    z, y = np.ravel(z), np.ravel(y)
    total = 0.0
    for start in range(0, z.size, block):
        total += np.add.reduce(logistic_loss(z[start : start + block], y[start : start + block]))
    return total


def maximum(x, y):
    """The larger of x and y, elementwise; nan if either is nan."""
    if isinstance(x, np.ndarray) or isinstance(y, np.ndarray):
        return np.maximum(x, y)
    if x != x or y != y:
        return math.nan
    return x if x >= y else y


def _fresh(x: np.ndarray) -> np.ndarray:
    """An uninitialised float array shaped like ``x`` (0-d included) for in-place kernels."""
    return np.empty(x.shape, dtype=x.dtype if x.dtype.kind == "f" else np.float64)


def add_into(a, b):
    """a + b, written into ``a`` when the result has a's dtype (``a`` must be a fresh array of
    the caller's own, and b must broadcast to its shape): one activation-sized array, not two."""
    if isinstance(a, np.ndarray) and np.result_type(a, b) == a.dtype:
        a += b
        return a
    return a + b


def broadcast_to(a, shape):
    """``np.broadcast_to(a, shape)``: a read-only view of ``a`` repeated along the axes it lacks
    or has as 1. For a C-contiguous array of numbers and a shape tuple it is made directly on
    a's memory, with stride 0 along the repeated axes: numpy's own builds an iterator per call,
    several times the cost of the whole view on a small array."""
    lead = len(shape) - a.ndim if type(a) is np.ndarray and type(shape) is tuple else -1
    if lead >= 0 and a.size and a.dtype.kind in "biuf" and a.flags.c_contiguous:
        strides = []
        for n, m, stride in zip((1,) * lead + a.shape, shape, (0,) * lead + a.strides):
            if m < 0 or (n != m and n != 1):
                return np.broadcast_to(a, shape)  # numpy's error
            strides.append(0 if n == 1 else stride)
        view = np.ndarray(shape, a.dtype, a, 0, tuple(strides))
        view.setflags(write=False)
        return view
    return np.broadcast_to(a, shape)


def broadcasts_to(shape: tuple, target: tuple) -> bool:
    """Whether an array of ``shape`` broadcasts to ``target`` without growing it."""
    lead = len(target) - len(shape)
    if lead < 0:
        return False
    return target[lead:] == shape or all(n == 1 or n == m for n, m in zip(shape, target[lead:]))
