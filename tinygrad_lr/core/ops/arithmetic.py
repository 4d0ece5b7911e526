"""Arithmetic: + − × ÷ and powers. Each op: its math in the docstring, forward, backward."""

from __future__ import annotations

import numpy as np

from .. import numeric
from ..engine import Node
from ..function import Choice, Domain, Function

__all__ = ["Add", "Div", "Maximum", "Mul", "Neg", "Pow", "PowNumber", "Sub"]
__all__ += ["add", "div", "maximum", "mul", "neg", "pow", "sub"]

POSITIVE = Domain(0.2, 3.0)


class Add(Function):
    """f(x, y) = x + y;  ∂f/∂x = 1, ∂f/∂y = 1."""

    commutative = True
    symbol = "+"
    written = "x + y"
    formula = ("1", "1")
    reference = np.add

    @staticmethod
    def forward(ctx, x, y):
        return x + y


class Sub(Function):
    """f(x, y) = x − y;  ∂f/∂x = 1, ∂f/∂y = −1."""

    symbol = "-"
    written = "x - y"
    formula = ("1", "-1")
    reference = np.subtract

    @staticmethod
    def forward(ctx, x, y):
        return x - y


class Neg(Function):
    """f(x) = −x;  f'(x) = −1."""

    symbol = "-"
    written = "-x"
    formula = "-1"
    reference = np.negative

    @staticmethod
    def forward(ctx, x):
        return -x


class Mul(Function):
    """f(x, y) = x·y;  ∂f/∂x = y, ∂f/∂y = x."""

    commutative = True
    symbol = "*"
    written = "x*y"
    formula = ("y", "x")
    reference = np.multiply

    @staticmethod
    def forward(ctx, x, y):
        return x * y


class Div(Function):
    """f(x, y) = x / y;  ∂f/∂x = 1/y, ∂f/∂y = −x/y² = −f/y."""

    symbol = "/"
    written = "x/y"
    formula = ("1/y", "-out/y")  # NOTE: not −x/y², whose y² overflows or underflows first
    domain = (Domain(), Domain(avoid=(0.0,), margin=0.2))
    reference = np.divide

    @staticmethod
    def forward(ctx, x, y):
        return numeric.div(x, y)


class Pow(Function):
    """f(x, y) = x^y;  ∂f/∂x = y·x^(y−1), ∂f/∂y = x^y·ln x."""

    symbol = "**"
    written = "x**y"
    formula = ("y*x**(y - 1 + for_pow)", "out*log(x + for_log)")
    domain = (POSITIVE, Domain(-2.0, 2.0))
    reference = np.power

    @staticmethod
    def forward(ctx, x, y):
        out = numeric.power(x, y)
        # NOTE: at x = 0 the textbook formulas y·x^(y−1) and x^y·ln x meet 0·∞ where the
        # derivatives are 0: ln 0 = −∞ against 0^y = 0 for y ≥ 0, and x^(y−1) = ∞ against y = 0.
        # Adding 1 to x in the log there, and to the exponent where y = 0, keeps the factors
        # finite and changes nothing else (constants, so higher derivatives are unaffected).
        # For y < 0 the log stays: ∞·(−∞) = −∞, PyTorch's ∂/∂y there.
        zero = np.equal(x, 0)
        ctx.for_log, ctx.for_pow = (
            mask.astype(np.result_type(out)) if isinstance(mask, np.ndarray) else float(mask)
            for mask in (zero & np.greater_equal(y, 0), zero & np.equal(y, 0))
        )
        return out


class PowNumber(Function):
    """f(x) = x^n for a constant number n;  f'(x) = n·x^(n−1)."""

    name = "pow_number"
    symbol = "**"
    written = "x**n"
    formula = ("n*x**(n - 1 + for_pow)", "")
    domain = (POSITIVE, Choice((-2, -1, 0, 0.5, 1, 2, 3)))
    reference = np.power

    @staticmethod
    def forward(ctx, x, n):
        ctx.n = n
        ctx.for_pow = float(n == 0)  # NOTE: x^0 is constant: its derivative 0·x^0, not 0·0^(−1) = nan
        return numeric.power(x, n)

    @classmethod
    def describe(cls, ctx) -> str:
        return f"**{ctx.n:g}"


class Maximum(Function):
    """f(x, y) = max(x, y);  ∂f/∂x = 1 where x > y, ∂f/∂y = 1 where y > x, and ½ each at a tie
    (the central difference there). As PyTorch's: an input below the other gets none of the
    gradient (chosen, not multiplied by 0, so an inf or nan arriving stays out of it), and where
    one is nan neither is below, so both get all of it."""

    commutative = True
    symbol = "max"
    formula = ("where(x < y, 0, where(x == y, 0.5*g, g))", "where(y < x, 0, where(x == y, 0.5*g, g))")
    domain = (Domain(), Domain(avoid=("x",)))
    reference = np.maximum

    @staticmethod
    def forward(ctx, x, y):
        return numeric.maximum(x, y)


add, sub, neg, mul, maximum = Add.apply, Sub.apply, Neg.apply, Mul.apply, Maximum.apply


def div(x, y):
    """x / y for Values, Tensors, numbers and ndarrays (IEEE: 1/0 = inf, never an exception)."""
    return Div.apply(x, y)


def pow(x, y):
    """x ** y; a plain-number exponent is a constant, a Value/Tensor exponent is differentiated."""
    if isinstance(x, Node):  # the operator's path: it checks the exponent and picks the op
        fn, y = x._power(y, "pow")
        return fn.apply(x, y)
    if isinstance(y, Node):
        return Pow.apply(x, y)
    return numeric.power(x, y)  # raw data (a backward formula's): raw data back
