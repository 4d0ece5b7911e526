"""Value: a scalar graph node holding a Python float (the micrograd-compatible surface)."""

from __future__ import annotations

import numbers
from typing import Any

from .engine import Node
from .numeric import format_number
from .operators import Operators


class Value(Operators, Node):
    """A scalar that remembers how it was computed, so gradients can flow back to it.

    Parameters
    ----------
    data : a real number, stored as a Python float.
    label : a name shown in reprs, pictures and the stepper.
    requires_grad : whether backward computes ``.grad`` for it. Numbers mixed into
        arithmetic become Values too, and get a grad, as in micrograd.

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
        self.data = _to_float(data, "Value")
        self.grad = 0.0
        self.label = label
        self.requires_grad = requires_grad
        self._fn = self._ctx = None
        self._parents = self._saved = ()

    def __repr__(self) -> str:
        text = f"Value(data={format_number(self.data)}, grad={format_number(self.grad)}"
        if self.label:
            text += f", label={self.label!r}"
        if self._fn is not None:
            text += f", op={self.op!r}"
        return text + ")"

    def item(self) -> float:
        """The value as a Python float."""
        return self.data

    # --- node hooks ------------------------------------------------------------------------

    _data_type = float
    _empty_grad = 0.0
    _to_data = staticmethod(float)

    def _operand(self, other: Any, op: str) -> Value:
        if isinstance(other, Value):
            return other
        return Value(_to_float(other, op))  # as in micrograd, every Value gets a grad

    @staticmethod
    def _copy_data(data: float) -> float:
        return data * 1.0  # a new float object with the same value (sign of zero and nan kept)

    def _seed(self, grad: Any) -> Any:
        return 1.0 if grad is None else grad if isinstance(grad, Value) else _to_float(grad, "backward")

    def _zero_grad_data(self) -> float:
        return 0.0

    @staticmethod
    def _as_grad(grad: Any) -> float:
        return grad if type(grad) is float else float(grad)  # numpy scalars from users' ops


def _to_float(x: Any, where: str) -> float:
    if isinstance(x, numbers.Real):
        return float(x)
    hint = ""
    if isinstance(x, Node):
        hint = "; combine Values with Values, or convert with tg.Tensor(value.data) / tensor.item()"
    elif hasattr(x, "__len__") or hasattr(x, "shape"):
        hint = "; for arrays use tg.Tensor"
    raise TypeError(f"{where}: expected a real number or a Value, got {type(x).__name__} {x!r:.40}{hint}")
