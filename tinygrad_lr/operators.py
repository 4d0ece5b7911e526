"""Python operators and op methods, shared by Value and Tensor (each op is still defined once,
in the op table; this only maps ``a + b`` to ``Add.apply(a, b)``)."""

from __future__ import annotations

from typing import Any

from .engine import Node
from .ops import Add, Div, Exp, Log, Mul, Neg, Pow, PowNumber, ReLU, Sigmoid, Sub, Tanh


class Operators:
    """Mixin: ``+ - * / **`` with nodes or numbers on either side, unary ``-``, and methods
    ``exp log sigmoid tanh relu``. The node type converts the other operand (``_operand``)."""

    __slots__ = ()
    __array_ufunc__ = None  # make numpy defer to our reflected operators: ndarray + node -> node

    def _operand(self, other: Any, op: str) -> Node:
        raise NotImplementedError

    def __add__(self, other):
        return Add.apply(self, self._operand(other, "+"))

    def __radd__(self, other):
        return Add.apply(self._operand(other, "+"), self)

    def __sub__(self, other):
        return Sub.apply(self, self._operand(other, "-"))

    def __rsub__(self, other):
        return Sub.apply(self._operand(other, "-"), self)

    def __mul__(self, other):
        return Mul.apply(self, self._operand(other, "*"))

    def __rmul__(self, other):
        return Mul.apply(self._operand(other, "*"), self)

    def __truediv__(self, other):
        return Div.apply(self, self._operand(other, "/"))

    def __rtruediv__(self, other):
        return Div.apply(self._operand(other, "/"), self)

    def __pow__(self, other):
        if isinstance(other, Node):
            return Pow.apply(self, self._operand(other, "**"))
        return PowNumber.apply(self, self._exponent(other))

    def __rpow__(self, other):
        return Pow.apply(self._operand(other, "**"), self)

    def __neg__(self):
        return Neg.apply(self)

    def __pos__(self):
        return self

    def exp(self):
        """eˣ, elementwise."""
        return Exp.apply(self)

    def log(self):
        """Natural log, elementwise (log 0 = −inf, log of a negative = nan)."""
        return Log.apply(self)

    def sigmoid(self):
        """σ(x) = 1 / (1 + e⁻ˣ), elementwise, without overflow."""
        return Sigmoid.apply(self)

    def tanh(self):
        """Hyperbolic tangent, elementwise."""
        return Tanh.apply(self)

    def relu(self):
        """max(x, 0), elementwise."""
        return ReLU.apply(self)

    def _exponent(self, n: Any) -> float:
        if isinstance(n, bool) or not isinstance(n, (int, float)):
            try:
                return float(n)  # numpy scalars
            except (TypeError, ValueError):
                raise TypeError(
                    f"**: the exponent must be a number or a {type(self).__name__}, not {type(n).__name__}"
                ) from None
        return n
