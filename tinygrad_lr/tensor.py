"""Tensor: a graph node holding a numpy array, with numpy's broadcasting."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np

from . import ops
from .engine import Node
from .operators import Operators


class Tensor(Operators, Node):
    """An array that remembers how it was computed (PyTorch-like surface).

    Parameters
    ----------
    data : array-like of real numbers. Python data becomes float64; float32 (and other float)
        arrays keep their dtype, and their gradients have it too. Integer and boolean data are
        promoted to float64, so that gradients exist. A float ndarray is used as it is, without
        a copy (as ``torch.from_numpy``).
    requires_grad : whether backward computes ``.grad`` for it (False by default: data and
        constants; parameters set it).
    label : a name shown in reprs, pictures and the stepper.

    Examples
    --------
    >>> x = Tensor([[1.0, 2.0], [3.0, 4.0]])
    >>> W = Tensor(np.zeros((2, 1)), requires_grad=True, label="W")
    >>> loss = (x @ W).sigmoid().sum()
    >>> loss.backward()
    >>> W.grad
    array([[1. ],
           [1.5]])
    """

    __slots__ = ()

    def __init__(self, data: Any, requires_grad: bool = False, label: str = ""):
        self.data = _to_array(data, "Tensor")
        self.grad = None
        self.label = label
        self.requires_grad = requires_grad
        self._fn = self._ctx = None
        self._parents = self._saved = ()

    # --- array surface ---------------------------------------------------------------------

    @property
    def shape(self) -> tuple[int, ...]:
        return self.data.shape

    @property
    def ndim(self) -> int:
        return self.data.ndim

    @property
    def dtype(self) -> np.dtype:
        return self.data.dtype

    @property
    def size(self) -> int:
        return self.data.size

    def __len__(self) -> int:
        return len(self.data)

    def item(self) -> float:
        """The value of a one-element tensor as a Python float."""
        if self.data.size != 1:
            raise ValueError(
                f"item: the tensor has shape {self.shape}; only one-element tensors have an item"
            )
        return float(self.data.reshape(()))

    def numpy(self) -> np.ndarray:
        """The data as an ndarray (the array itself, not a copy)."""
        return self.data

    def detach(self) -> Tensor:
        """The same data as a new leaf that does not require grad."""
        return Tensor(self.data)

    def __repr__(self) -> str:
        body = np.array2string(
            self.data, precision=4, threshold=20, edgeitems=2, separator=", ", prefix="Tensor("
        )
        parts = [body]
        if self.data.dtype != np.float64:
            parts.append(f"dtype={self.data.dtype}")
        if self.label:
            parts.append(f"label={self.label!r}")
        if self._fn is not None:
            parts.append(f"op={self.op!r}")
        elif self.requires_grad:
            parts.append("requires_grad=True")
        return f"Tensor({', '.join(parts)})"

    # --- ops that only arrays have ---------------------------------------------------------

    def __matmul__(self, other: Any) -> Tensor:
        return ops.MatMul.apply(self, self._operand(other, "@"))

    def __rmatmul__(self, other: Any) -> Tensor:
        return ops.MatMul.apply(self._operand(other, "@"), self)

    def matmul(self, other: Any) -> Tensor:
        """Matrix product with numpy's rules (1-D, 2-D, batched N-D)."""
        return self @ other

    def sum(self, axis: int | Sequence[int] | None = None, keepdims: bool = False) -> Tensor:
        """Sum over ``axis`` (an int, a tuple of ints, negative counts from the end; None: all)."""
        return ops.sum(self, axis, keepdims)

    def mean(self, axis: int | Sequence[int] | None = None, keepdims: bool = False) -> Tensor:
        """Mean over ``axis``: the sum divided by the number of elements summed."""
        return ops.mean(self, axis, keepdims)

    def reshape(self, *shape: int | Sequence[int]) -> Tensor:
        """The same elements in a new shape (one dimension may be -1)."""
        return ops.reshape(self, shape[0] if len(shape) == 1 and not isinstance(shape[0], int) else shape)

    def transpose(self, *axes: int | Sequence[int]) -> Tensor:
        """Permute the axes (reverse them when none are given): ``t.transpose(1, 0)`` or
        ``t.transpose((1, 0))``, as ndarray.transpose."""
        if len(axes) == 1 and not isinstance(axes[0], int):
            axes = tuple(axes[0])
        return ops.transpose(self, axes or None)

    @property
    def T(self) -> Tensor:
        """The axes reversed (a matrix transposed)."""
        return self.transpose()

    @property
    def mT(self) -> Tensor:
        """The last two axes swapped: each matrix of a batch transposed (as numpy's ``.mT``)."""
        n = self.ndim
        if n < 2:
            raise ValueError(f"mT: needs at least 2 dimensions, the tensor has shape {self.shape}")
        return ops.transpose(self, (*range(n - 2), n - 1, n - 2))

    def __getitem__(self, index: Any) -> Tensor:
        return ops.index(self, _index(index))

    def softplus(self) -> Tensor:
        """log(1 + eˣ), elementwise, without overflow."""
        return ops.softplus(self)

    # --- node hooks ------------------------------------------------------------------------

    _keeps_grad = False  # like PyTorch: only leaves keep .grad, so activations can be freed
    _scalar = False

    _data_type = np.ndarray
    _to_data = staticmethod(np.asarray)  # numpy returns scalars for 0-d results

    def _operand(self, other: Any, op: str) -> Tensor:
        if isinstance(other, Tensor):
            return other
        if isinstance(other, (int, float)) and not isinstance(other, bool) and self.data.dtype.kind == "f":
            # a Python number takes the tensor's dtype, so float32 stays float32
            return Tensor(np.asarray(other, dtype=self.data.dtype))
        return Tensor(_to_array(other, op))

    @staticmethod
    def _copy_data(data: np.ndarray) -> np.ndarray:
        return data.view()

    def _seed(self, grad: Any) -> Any:
        if grad is None:
            if self.data.size != 1:
                raise RuntimeError(
                    f"backward: the output has shape {self.shape}, so say which gradient to start "
                    f"from: pass grad=np.ones({self.shape}) (or any array of that shape), or reduce "
                    "the output to a scalar first, e.g. out.sum().backward()"
                )
            return np.ones(self.data.shape, self.data.dtype)
        if isinstance(grad, Tensor):
            return grad if grad.shape == self.shape else self._wrong_seed(grad.shape)
        grad = np.asarray(grad, dtype=self.data.dtype)
        return grad if grad.shape == self.shape else self._wrong_seed(grad.shape)

    def _wrong_seed(self, shape: tuple) -> Any:
        raise ValueError(f"backward: grad has shape {shape} but the output has shape {self.shape}")

    def _zero_grad_data(self) -> np.ndarray:
        return np.zeros_like(self.data)

    def _accumulate(self, grad: Any) -> None:
        if self.grad is None:
            self.grad = np.array(grad, dtype=self.data.dtype)  # a copy: never share a buffer
        else:
            self.grad += grad

    def _reduce_grad(self, grad: Any) -> Any:
        """Bring an incoming gradient to this tensor's shape: sum it over the axes along which
        the tensor was broadcast, and expand it along axes where it is constant."""
        shape = self.data.shape
        grad_shape = grad.shape
        if grad_shape == shape:
            return grad
        lead = len(grad_shape) - len(shape)
        if lead > 0 and grad_shape[lead:] == shape and not isinstance(grad, Node):
            return np.add.reduce(grad, axis=tuple(range(lead)))  # NOTE: the common case, kept cheap
        if lead < 0:
            grad = ops.reshape(grad, (1,) * -lead + grad_shape)
            grad_shape, lead = grad.shape, 0
        if any(m != n and 1 not in (m, n) for n, m in zip(shape, grad_shape[lead:])):
            raise ValueError(f"a gradient of shape {grad_shape} does not fit a tensor of shape {shape}")
        axes = (
            *range(lead),
            *(lead + i for i, n in enumerate(shape) if n == 1 and grad_shape[lead + i] != 1),
        )
        if axes:
            if isinstance(grad, Node):
                grad = ops.Sum.apply(grad, axes, False)
            else:  # NOTE: raw numpy here: this runs for every broadcast in every backward pass
                grad = np.add.reduce(grad, axis=axes)
            grad = grad.reshape(tuple(n if n == 1 else m for n, m in zip(shape, grad_shape[lead:])))
        return grad if grad.shape == shape else ops.broadcast_to(grad, shape)


def _to_array(data: Any, where: str) -> np.ndarray:
    if isinstance(data, Tensor):
        return data.data
    if isinstance(data, Node):
        raise TypeError(f"{where}: got a {type(data).__name__}; for a scalar use tg.Tensor(value.data)")
    if isinstance(data, np.ndarray) and data.dtype.kind == "f":
        return data
    try:
        array = np.asarray(data)
    except ValueError as error:  # ragged nested lists
        raise ValueError(f"{where}: the data is not a rectangular array of numbers ({error})") from None
    if array.dtype.kind in "biu":
        return array.astype(np.float64)
    if array.dtype.kind != "f":
        raise TypeError(
            f"{where}: expected real numbers, got {type(data).__name__} with dtype {array.dtype} "
            f"({str(data)[:40]!r})"
        )
    return array


def _index(index: Any) -> Any:
    """Make an index hashable-free and explicit: Tensors become their arrays, lists arrays."""
    if isinstance(index, tuple):
        return tuple(_index(i) for i in index)
    if isinstance(index, Tensor):
        return index.data if index.data.dtype.kind == "b" else index.data.astype(np.intp)
    if isinstance(index, list):
        return np.asarray(index)
    return index
