"""Python operators and op methods, shared by Value and Tensor (each op is still defined once,
in the op table; this only maps ``a + b`` to ``Add.apply(a, b)``)."""

from __future__ import annotations

import numbers
from typing import Any

from . import numeric
from .engine import Node, grad_enabled
from .function import Function
from .ops import Abs, Add, Div, Exp, Log, Mul, Neg, Pow, PowNumber, ReLU, Sigmoid, Sqrt, Sub, Tanh, clamp


class Operators:
    """Mixin: ``+ - * / **`` with nodes or numbers on either side, unary ``-``, and methods
    ``exp log sigmoid tanh relu``. The node type converts the other operand (``_operand``)."""

    __slots__ = ()
    __array_ufunc__ = None  # make numpy defer to our reflected operators: ndarray + node -> node

    def _operand(self, other: Any, op: str) -> Node:
        raise NotImplementedError

    def __add__(self, other):
        return Add.apply(self, other if type(other) is type(self) else self._operand(other, "+"))

    def __radd__(self, other):
        return Add.apply(self._operand(other, "+"), self)

    def __sub__(self, other):
        return Sub.apply(self, other if type(other) is type(self) else self._operand(other, "-"))

    def __rsub__(self, other):
        return Sub.apply(self._operand(other, "-"), self)

    def __mul__(self, other):
        return Mul.apply(self, other if type(other) is type(self) else self._operand(other, "*"))

    def __rmul__(self, other):
        return Mul.apply(self._operand(other, "*"), self)

    def __truediv__(self, other):
        return Div.apply(self, other if type(other) is type(self) else self._operand(other, "/"))

    def __rtruediv__(self, other):
        return Div.apply(self._operand(other, "/"), self)

    def __pow__(self, other):
        if isinstance(other, Node):
            return Pow.apply(self, self._operand(other, "**"))
        return PowNumber.apply(self, self._exponent(other))

    # In place, as in PyTorch: the node keeps its identity and its data changes. Allowed where no
    # recorded gradient depends on it: under no_grad (``w -= lr * w.grad``), or on a node that
    # requires no grad. Anything saved for backward notices the change (see Tensor.version).

    def __iadd__(self, other):
        return self._in_place(Add, other, "+=")

    def __isub__(self, other):
        return self._in_place(Sub, other, "-=")

    def __imul__(self, other):
        return self._in_place(Mul, other, "*=")

    def __itruediv__(self, other):
        return self._in_place(Div, other, "/=")

    def __ipow__(self, other):
        if isinstance(other, Node):
            return self._in_place(Pow, other, "**=")
        return self._in_place(PowNumber, self._exponent(other), "**=")

    def _in_place(self, fn: type[Function], other: Any, op: str):
        if fn is not PowNumber:
            other = self._operand(other, op)
        self._check_in_place(other if isinstance(other, Node) else None, f"x {op} y")
        self._assign(numeric.quietly(fn.apply, self.data, getattr(other, "data", other)), op)
        return self

    def _check_in_place(self, other: Node | None, what: str) -> None:
        """Refuse an in-place change that would make a recorded gradient wrong (as PyTorch)."""
        if not grad_enabled():
            return
        kind = type(self).__name__
        if self.requires_grad and self._ctx is None:
            raise RuntimeError(
                f"{what}: a leaf {kind} that requires grad is being used in an in-place operation; "
                f"update parameters under `with tg.no_grad():` (as an optimiser step does), or write "
                f"x = x + ... for a new {kind}"
            )
        if self.requires_grad or (other is not None and other.requires_grad):
            raise RuntimeError(
                f"{what}: changing a {kind} in place inside a recorded computation would hide the change "
                f"from backward; write x = x + ... (a new {kind}) instead, or do it under tg.no_grad()"
            )

    def _assign(self, result: Any, op: str) -> None:
        raise NotImplementedError

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

    def __abs__(self):
        return Abs.apply(self)

    def abs(self):
        """|x|, elementwise (gradient sign x, and 0 at 0, as PyTorch)."""
        return Abs.apply(self)

    def sqrt(self):
        """√x, elementwise (gradient inf at 0, as PyTorch; √ of a negative is nan)."""
        return Sqrt.apply(self)

    def clamp(self, min: float | None = None, max: float | None = None):
        """x limited to [min, max], elementwise; one bound may be None (see ``tg.clamp``)."""
        return clamp(self, min, max)

    def clip(self, min: float | None = None, max: float | None = None):
        """The same as ``clamp`` (numpy's and PyTorch's other name)."""
        return clamp(self, min, max)

    def _exponent(self, n: Any) -> float:
        if isinstance(n, bool) or not isinstance(n, numbers.Real):
            kind = type(self).__name__
            raise TypeError(
                f"**: the exponent must be a number or a {kind}, not {type(n).__name__} {n!r:.20}"
            )
        return n if type(n) in (int, float) else float(n)  # numpy scalars
