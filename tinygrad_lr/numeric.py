"""IEEE-754 elementwise kernels for Python floats and numpy arrays.

The op table computes forward values with these, so a Value (Python float) and a Tensor
(ndarray) give the same answer, edge cases included: ``log(0) = -inf``, ``log(-1) = nan``,
``exp(1000) = inf``, ``1 / 0 = inf``. Python's ``math`` module raises for those and numpy
warns; here neither happens.
"""

from __future__ import annotations

import math

import numpy as np

_QUIET = {"divide": "ignore", "over": "ignore", "under": "ignore", "invalid": "ignore"}


def exp(x):
    """e**x; overflows to inf."""
    if isinstance(x, np.ndarray):
        with np.errstate(**_QUIET):
            return np.exp(x)
    try:
        return math.exp(x)
    except OverflowError:
        return math.inf


def log(x):
    """Natural log: log(0) = -inf, log(x < 0) = nan."""
    if isinstance(x, np.ndarray):
        with np.errstate(**_QUIET):
            return np.log(x)
    if x > 0:
        return math.log(x)
    return -math.inf if x == 0 else math.nan


def sigmoid(x):
    """1 / (1 + e**-x), computed so that it never overflows: sigmoid(±1e308) is exactly 1 or 0."""
    if isinstance(x, np.ndarray):
        # NOTE: e**-|x| is in (0, 1], so neither branch can overflow.
        e = np.exp(-np.abs(x))
        return np.where(x >= 0, 1 / (1 + e), e / (1 + e))
    if x >= 0:
        return 1 / (1 + math.exp(-x))
    e = math.exp(x)  # nan lands here too and stays nan
    return e / (1 + e)


def tanh(x):
    """Hyperbolic tangent (saturates to ±1, never overflows)."""
    return np.tanh(x) if isinstance(x, np.ndarray) else math.tanh(x)


def relu(x):
    """max(x, 0), with nan propagated."""
    if isinstance(x, np.ndarray):
        return np.maximum(x, 0)
    return 0.0 if x <= 0 else x


def div(x, y):
    """x / y with IEEE results for a zero divisor: ±inf, or nan for 0/0."""
    if isinstance(x, np.ndarray) or isinstance(y, np.ndarray):
        with np.errstate(**_QUIET):
            return np.divide(x, y)
    try:
        return x / y
    except ZeroDivisionError:
        if x == 0 or x != x:
            return math.nan
        return math.copysign(math.inf, x) * math.copysign(1.0, y)


def power(x, y):
    """x ** y as C's pow: nan for a negative base with a fractional exponent, ±inf on overflow
    and for 0 ** negative, never a complex number or an exception."""
    if isinstance(x, np.ndarray) or isinstance(y, np.ndarray):
        with np.errstate(**_QUIET):
            return np.power(x, y)
    try:
        return math.pow(x, y)
    except OverflowError:
        return -math.inf if x < 0 and _is_odd_integer(y) else math.inf
    except ValueError:  # 0 ** negative, or negative ** fraction
        if x == 0:
            return math.copysign(math.inf, x) if _is_odd_integer(y) else math.inf
        return math.nan


def _is_odd_integer(y) -> bool:
    return float(y).is_integer() and abs(y) % 2 == 1


def format_number(x: float, digits: int = 6) -> str:
    """A float for people: ``digits`` significant digits, and always recognisable as a float
    (``2.0``, not ``2``)."""
    text = f"{x:.{digits}g}"
    if text.lstrip("-").isdigit():
        text += ".0"
    return text
