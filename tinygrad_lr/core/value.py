"""Value: a scalar graph node holding a Python float (the micrograd-compatible surface)."""

from __future__ import annotations

import numbers
import struct
from typing import Any

from . import show
from .engine import InvalidGradient, Node, grad_enabled
from .operators import Operators


class Value(Operators, Node):
    """A scalar that remembers how it was computed, so gradients can flow back to it.

    Parameters
    ----------
    data : a real number, stored as a Python float.
    label : a name shown in reprs, pictures and the stepper.
    requires_grad : whether backward computes ``.grad`` for it. A number mixed into
        arithmetic (``2 * a``) becomes a constant Value, without a grad, as in PyTorch.

    Examples
    --------
    >>> a = Value(2.0, label="a")
    >>> b = a * a + 1
    >>> b.backward()
    >>> a.grad
    4.0
    """

    __slots__ = ()

    def __init__(self, data: float, label: str = "", *, requires_grad: bool = True):
        Node.__init__(self, _to_float(data, "Value"), label, requires_grad)

    def __repr__(self) -> str:
        text = f"Value(data={show.number(self.data)}, grad={show.number(self.grad)}"
        if self.label:
            text += f", label={self.label!r}"
        if self._ctx is not None:
            text += f", op={self.op!r}"
        return text + ")"

    def item(self) -> float:
        """The value as a Python float."""
        return self.data

    __float__ = item

    def _compare(self, compare: Any, other: Any, op: str) -> bool:
        # ``==`` stays identity, so Values remain usable as dict keys and set members
        return compare(self.data, other.data if isinstance(other, Value) else _to_float(other, op))

    # --- node hooks ------------------------------------------------------------------------

    _data_type = float
    _empty_grad = 0.0

    @staticmethod
    def _to_data(data: Any) -> float:
        if isinstance(data, bool) or not isinstance(data, numbers.Real):
            raise TypeError(f"returned {type(data).__name__} {data!r:.40} for Values; return a real number")
        return float(data)  # numpy scalars from a user's op

    def _operand(self, other: Any, op: str) -> Value:
        if isinstance(other, Value):
            return other
        return Value(_to_float(other, op), requires_grad=False)  # a constant, as in PyTorch

    @staticmethod
    def _copy_data(data: float) -> float:
        return data * 1.0  # a new float object with the same value (sign of zero and nan kept)

    def _seed(self, grad: Any) -> Any:
        return 1.0 if grad is None else grad if isinstance(grad, Value) else _to_float(grad, "backward")

    def _fit_grad(self, grad: Any, out: Node) -> Any:
        if isinstance(grad, Value):
            return grad
        if isinstance(grad, numbers.Real) and not isinstance(grad, bool):
            return float(grad)  # numpy scalars from a user's op
        raise InvalidGradient(f"got {type(grad).__name__} {grad!r:.40}; a Value's gradient is a real number")

    def _holds(self, data: float) -> bool:
        # a float never changes in place (no version counter): a changed Value holds another float.
        # Compared bit for bit: 0.0 == -0.0, yet log and 1/x tell them apart (so do nan payloads)
        return self.data is data or _BITS.pack(self.data) == _BITS.pack(data)

    def _records_change(self, other: Node | None, what: str) -> bool:
        # a Value is a number, as in micrograd: only a leaf under no_grad changes in place
        return grad_enabled() or self._ctx is not None

    def _record_change(self, fn: Any, other: Any, op: str) -> Value:
        return fn.apply(self, other)  # a new node, to which ``x += y`` rebinds the name

    def _assign(self, result: Any, op: str) -> None:
        self.data = _to_float(result, op)

    def _zero_grad_data(self) -> float:
        return 0.0

    def _accumulate(self, grad: float) -> None:
        self.grad += grad  # _fit_grad made every gradient a float

    @staticmethod
    def _as_grad(grad: Any) -> float:
        return grad if type(grad) is float else float(grad)


_BITS = struct.Struct("<d")  # a float's 64 bits


def _to_float(x: Any, where: str) -> float:
    if type(x) is float:
        return x
    if isinstance(x, numbers.Real):
        return float(x)
    hint = ""
    if isinstance(x, Node):
        hint = "; combine Values with Values, or convert with tg.Tensor(value.data) / tensor.item()"
    elif hasattr(x, "__len__") or hasattr(x, "shape"):
        hint = "; for arrays use tg.Tensor"
    raise TypeError(f"{where}: expected a real number or a Value, got {type(x).__name__} {x!r:.40}{hint}")
