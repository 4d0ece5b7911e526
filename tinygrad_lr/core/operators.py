"""Python operators and op methods, shared by Value and Tensor (each op is still defined once,
in the op table; this only maps ``a + b`` to ``Add.apply(a, b)``)."""

from __future__ import annotations

import numbers
import operator
from collections.abc import Callable
from typing import Any

from . import numeric, ops
from .engine import Node
from .function import Function
from .ops import Abs, Add, Div, Exp, Log, Mul, Neg, Pow, PowNumber, ReLU, Sigmoid, Sqrt, Sub, Tanh

# Each factory returns the method itself (no extra call per operator): ``fn`` is the op, ``op``
# the symbol that error messages name.


def _binary(fn: type[Function], op: str, doc: str | None = None) -> Callable:
    def method(self, other):
        return fn.apply(self, other if type(other) is type(self) else self._operand(other, op))

    method.__doc__ = doc
    return method


def _reflected(fn: type[Function], op: str) -> Callable:
    def method(self, other):
        return fn.apply(self._operand(other, op), self)

    return method


def _in_place_op(fn: type[Function], op: str) -> Callable:
    def method(self, other):
        return self._in_place(fn, self._operand(other, op), op)

    return method


def _unary(fn: type[Function], doc: str | None = None) -> Callable:
    def method(self):
        return fn.apply(self)

    method.__doc__ = doc
    return method


def _comparison(compare: Callable, op: str) -> Callable:
    def method(self, other):
        return self._compare(compare, other, op)

    return method


def _name_methods(cls: type) -> None:
    """Give the methods that the factories made their names, for tracebacks and ``help``."""
    for name, attr in vars(cls).items():
        if getattr(attr, "__name__", None) == "method":
            attr.__name__, attr.__qualname__ = name, f"{cls.__name__}.{name}"


class Operators:
    """Mixin: ``+ - * / **`` with nodes or numbers on either side, unary ``-``, ``< <= > >=``,
    and methods ``exp log sigmoid tanh relu``. The node type converts the other operand
    (``_operand``) and says what a comparison gives (``_compare``)."""

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        _name_methods(cls)

    __slots__ = ()
    __array_ufunc__ = None  # make numpy defer to our reflected operators: ndarray + node -> node

    def _operand(self, other: Any, op: str) -> Node:
        raise NotImplementedError

    __add__ = _binary(Add, "+")
    __radd__ = _reflected(Add, "+")
    __sub__ = _binary(Sub, "-")
    __rsub__ = _reflected(Sub, "-")
    __mul__ = _binary(Mul, "*")
    __rmul__ = _reflected(Mul, "*")
    __truediv__ = _binary(Div, "/")
    __rtruediv__ = _reflected(Div, "/")
    __rpow__ = _reflected(Pow, "**")

    def __pow__(self, other):
        fn, other = self._power(other, "**")
        return fn.apply(self, other)

    def pow(self, exponent):
        """``self ** exponent`` (PyTorch's ``pow``): a number is a constant exponent, a node is
        differentiated too."""
        fn, exponent = self._power(exponent, "pow")
        return fn.apply(self, exponent)

    # In place: ``x += y`` under no_grad (``w -= lr * w.grad``) changes the node itself, with
    # the change counted (see Tensor.version). While recording, each node type records the change
    # its own way (``_record_change``): a Value as micrograd, a Tensor as PyTorch.

    __iadd__ = _in_place_op(Add, "+=")
    __isub__ = _in_place_op(Sub, "-=")
    __imul__ = _in_place_op(Mul, "*=")
    __itruediv__ = _in_place_op(Div, "/=")

    def __ipow__(self, other):
        fn, other = self._power(other, "**=")
        return self._in_place(fn, other, "**=")

    def _in_place(self, fn: type[Function], other: Any, op: str):
        if self._records_change(other if isinstance(other, Node) else None, f"x {op} y"):
            return self._record_change(fn, other, op)
        self._assign(numeric.quietly(fn.apply, self.data, getattr(other, "data", other)), op)
        return self

    def _records_change(self, other: Node | None, what: str) -> bool:
        """Whether an in-place change must be recorded as an op (else it changes the data);
        raises where it must be refused."""
        raise NotImplementedError

    def _record_change(self, fn: type[Function], other: Any, op: str):
        raise NotImplementedError

    def _assign(self, result: Any, op: str) -> None:
        raise NotImplementedError

    __neg__ = _unary(Neg)
    exp = _unary(Exp, "eˣ, elementwise.")
    log = _unary(Log, "Natural log, elementwise (log 0 = −inf, log of a negative = nan).")
    sigmoid = _unary(Sigmoid, "σ(x) = 1 / (1 + e⁻ˣ), elementwise, without overflow.")
    tanh = _unary(Tanh, "Hyperbolic tangent, elementwise.")
    relu = _unary(ReLU, "max(x, 0), elementwise.")
    __abs__ = abs = _unary(Abs, "|x|, elementwise (gradient sign x, and 0 at 0, as PyTorch).")
    sqrt = _unary(Sqrt, "√x, elementwise (gradient inf at 0, as PyTorch; √ of a negative is nan).")
    clamp = clip = ops.clamp  # clip: numpy's name for PyTorch's clamp

    def __pos__(self):
        return self

    def _power(self, n: Any, op: str) -> tuple[type[Function], Any]:
        """The op and the operand of ``self ** n``: Pow for a node, PowNumber (a constant exponent,
        which needs no gradient of its own) for a number."""
        if isinstance(n, Node):
            return Pow, self._operand(n, op)
        if isinstance(n, bool) or not isinstance(n, numbers.Real):
            kind = type(self).__name__
            raise TypeError(
                f"{op}: the exponent must be a number or a {kind}, not {type(n).__name__} {n!r:.20}"
            )
        return PowNumber, n if type(n) in (int, float) else float(n)  # numpy scalars

    # Comparisons work on the data and carry no gradient: a Value gives a Python bool
    # (``if v > 0:``), a Tensor a boolean Tensor (a mask), each by its ``_compare``.

    __lt__ = _comparison(operator.lt, "<")
    __le__ = _comparison(operator.le, "<=")
    __gt__ = _comparison(operator.gt, ">")
    __ge__ = _comparison(operator.ge, ">=")

    def _compare(self, compare: Callable, other: Any, op: str) -> Any:
        raise NotImplementedError


_name_methods(Operators)
