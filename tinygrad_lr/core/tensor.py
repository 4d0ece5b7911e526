"""Tensor: a graph node holding a numpy array, with numpy's broadcasting."""

from __future__ import annotations

import contextlib
import math
import operator
from collections.abc import Callable, Iterator, Sequence
from typing import Any

import numpy as np

from . import numeric, ops
from .axes import normal_axes, normal_axis, spelled
from .engine import InvalidGradient, Node, grad_enabled
from .function import OUTPUT
from .operators import Operators, _binary, _comparison, _in_place_op, _reflected, _unary


def _truth(reduce: Any, doc: str) -> Any:
    """``any`` or ``all``: numpy's reduction on the data, a boolean Tensor without gradient."""

    def method(
        self: Tensor,
        axis: Any = None,
        keepdims: bool | None = None,
        *,
        dim: Any = None,
        keepdim: bool | None = None,
    ) -> Tensor:
        name = reduce.__name__
        axis, keepdims = spelled(name, axis, dim, keepdims, keepdim)
        result = reduce(self.data, axis=normal_axes(axis, self.ndim, name), keepdims=keepdims)
        return Tensor(np.asarray(result))

    method.__doc__ = doc
    return method


class Size(int):
    """``t.size``: the number of elements, an int (numpy's and the array API's ``size``); called,
    the shape (PyTorch's ``t.size()``), or one axis's length (``t.size(0)``, ``t.size(dim=-1)``).

    Both habits give the right number: ``t.size == 6`` and ``np.zeros(t.size)`` as in numpy,
    ``n, d = t.size()`` as in PyTorch. (A ``size`` that were only PyTorch's method would make
    numpy's ``t.size == 6`` silently False, comparing a method with a number.)"""

    def __new__(cls, shape: tuple[int, ...]) -> Size:
        size = super().__new__(cls, math.prod(shape))
        size.shape = shape
        return size

    def __call__(self, dim: int | None = None) -> Any:
        return self.shape if dim is None else self.shape[normal_axis(dim, len(self.shape), "size")]

    def __reduce__(self) -> tuple:  # a copy or a pickle is the plain number
        return int, (int(self),)


_ONE_ELEMENT = (
    "only a one-element tensor converts to a Python number (reduce it first, e.g. t.sum(), or use t.tolist())"
)


class Tensor(Operators, Node):
    """An array that remembers how it was computed (PyTorch-like surface).

    Parameters
    ----------
    data : array-like of real numbers. Python data becomes float64; float32 (and other float)
        arrays keep their dtype, and their gradients have it too. Integer data is promoted to
        float64, so that gradients exist; boolean data stays boolean (a mask: it indexes, and
        cannot require grad). A float ndarray is used as it is, without a copy (as
        ``torch.from_numpy``): change it through the tensor (``t += 1``, ``t[0] = 2``), or
        directly through ``.data`` at your own risk, as in PyTorch.
    requires_grad : whether backward computes ``.grad`` for it (False by default: data and
        constants; parameters set it). Only floating-point tensors can require grad.
    label : a name shown in reprs, pictures and the stepper.
    dtype : the element type (``tg.float32``, ``np.int64``, ``"float32"``, ``float``, ...):
        the data is converted to it, as ``torch.tensor(data, dtype=...)`` does (floats to
        integers truncate toward zero; nan or inf to an integer is refused). Integer and
        boolean tensors hold indices, counts and masks; they carry no gradient.

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

    __slots__ = ("_born", "_version")
    _rebinds = 0  # in-place changes recorded so far; a node made by an op keeps the count as _born

    def __init__(self, data: Any, requires_grad: bool = False, label: str = "", *, dtype: Any = None):
        array = _to_array(data, "Tensor") if dtype is None else converted(data, as_dtype(dtype, "Tensor"))
        if requires_grad and array.dtype.kind != "f":
            raise ValueError(
                f"Tensor: only floating-point data can require grad, and this is {array.dtype}; "
                "pass dtype=tg.float64 (or float32) for one that can"
            )
        Node.__init__(self, array, label, bool(requires_grad))
        # the same data, the same count of in-place changes (a view of a tensor shares it too)
        shared = isinstance(data, Tensor) and array is data.data
        self._version = data._version if shared else Version()

    # --- array surface ---------------------------------------------------------------------

    shape = property(operator.attrgetter("data.shape"))
    ndim = property(operator.attrgetter("data.ndim"))
    dtype = property(operator.attrgetter("data.dtype"))

    @property
    def size(self) -> Size:
        """The number of elements, an int; ``t.size()`` is the shape, ``t.size(dim)`` one axis's
        length, as PyTorch's (see ``Size``)."""
        return Size(self.data.shape)

    def numel(self) -> int:
        """The number of elements (PyTorch's ``numel``; numpy's ``size``)."""
        return self.data.size

    def __len__(self) -> int:
        if self.data.ndim == 0:
            raise TypeError(
                "a 0-d tensor has no first axis, so no len() and no iteration; use t.item() for its value"
            )
        return len(self.data)

    def __iter__(self):
        """The sub-tensors along the first axis, ``t[0], t[1], ...``: each is ``t[i]`` (an op on
        the graph when ``t`` requires grad, so gradients flow through iteration)."""
        return (self[i] for i in range(len(self)))

    def tolist(self) -> Any:
        """The data as nested Python lists of Python numbers (a 0-d tensor gives a number)."""
        return self.data.tolist()

    # --- one element as a Python number, as PyTorch ----------------------------------------

    def item(self) -> float | int | bool:
        """The value of a one-element tensor as a Python number: a float (an int for integer
        tensors, a bool for boolean ones, as PyTorch)."""
        value = self._one_element("item", "only one-element tensors have an item")
        return float(value) if self.data.dtype.kind == "f" else value

    def _one_element(self, what: str, why: str = _ONE_ELEMENT) -> Any:
        """The element of a one-element tensor, as a Python number; else a ValueError for ``what``."""
        if self.data.size != 1:
            raise ValueError(f"{what}: the tensor has shape {self.shape}; {why}")
        return self.data.reshape(()).item()

    def __float__(self) -> float:
        return float(self._one_element("float()"))

    def __int__(self) -> int:
        value = self._one_element("int()")
        if isinstance(value, float) and not np.isfinite(value):
            raise ValueError(f"int(): cannot convert {value} to an integer")
        return int(value)  # truncates toward zero, as int(2.7) and PyTorch

    def __index__(self) -> int:
        if self.data.dtype.kind not in "iu":
            raise TypeError(
                f"only integer tensors of one element can be used as an index, not {self.dtype} ones"
            )
        return int(self._one_element("index()"))

    def __bool__(self) -> bool:
        # NOTE: as PyTorch: `if t:` on many elements is ambiguous, so it raises
        return bool(self._one_element("bool()", "its truth value is ambiguous; use t.any() or t.all()"))

    def numpy(self) -> np.ndarray:
        """The data as an ndarray (the array itself, not a copy)."""
        return self.data

    def __array__(self, dtype: Any = None, copy: bool | None = None) -> np.ndarray:
        """The data for numpy (``np.asarray(t)`` shares it, ``np.array(t)`` copies it), as
        PyTorch's: refused for a tensor that requires grad, whose gradient numpy would drop."""
        if self.requires_grad:
            raise RuntimeError(
                f"numpy cannot convert a tensor that requires grad (shape {self.shape}): the result "
                "would have no gradient, as in PyTorch; convert t.detach() for its data"
            )
        return np.array(self.data, dtype=dtype, copy=copy)

    def detach(self) -> Tensor:
        """The same data as a new leaf that does not require grad (it shares the data, and so
        its count of in-place changes, as in PyTorch)."""
        return Tensor(self)

    @property
    def version(self) -> int:
        """How many in-place changes this tensor's data has had (PyTorch's ``_version``): ops
        remember it when they save the tensor, and backward refuses to use a changed one."""
        return self._version.count

    def __repr__(self) -> str:
        body = np.array2string(
            self.data, precision=4, threshold=20, edgeitems=2, separator=", ", prefix="Tensor("
        )
        parts = [body]
        if self.data.dtype != np.float64:
            parts.append(f"dtype={self.data.dtype}")
        if self.label:
            parts.append(f"label={self.label!r}")
        if self._ctx is not None:
            parts.append(f"op={self.op!r}")
        elif self.requires_grad:
            parts.append("requires_grad=True")
        return f"Tensor({', '.join(parts)})"

    # --- ops that only arrays have ---------------------------------------------------------

    __matmul__ = matmul = _binary(
        ops.MatMul, "@", "Matrix product with numpy's rules (1-D, 2-D, batched N-D)."
    )
    __rmatmul__ = _reflected(ops.MatMul, "@")
    __imatmul__ = _in_place_op(ops.MatMul, "@=")
    sum = ops.sum
    mean = ops.mean

    def reshape(self, *shape: int | Sequence[int]) -> Tensor:
        """The same elements in a new shape (one dimension may be -1)."""
        return ops.reshape(self, _one_or_many(shape))

    def transpose(self, *axes: int | Sequence[int]) -> Tensor:
        """Two axes swapped, as PyTorch's ``t.transpose(dim0, dim1)``; or all the axes in their new
        order, as ndarray.transpose: ``t.transpose(2, 0, 1)``, ``t.transpose((2, 0, 1))``, and
        none to reverse them."""
        if len(axes) == 2:
            # NOTE: numpy reads a matrix's transpose(0, 1) as "no change", PyTorch as the transpose;
            # a swap agrees with numpy's reading wherever that changes anything, so no user of
            # either gets a silently different matrix
            order = list(range(self.ndim))
            i, j = (normal_axis(a, self.ndim, "transpose") for a in axes)
            order[i], order[j] = j, i
            axes = (order,)
        return ops.transpose(self, tuple(_one_or_many(axes)) or None)

    def permute(self, *dims: int | Sequence[int]) -> Tensor:
        """All the axes in their new order: ``t.permute(2, 0, 1)`` or ``t.permute((2, 0, 1))``
        (PyTorch's; numpy's ``transpose(axes)``)."""
        return ops.transpose(self, tuple(_one_or_many(dims)))

    def t(self) -> Tensor:
        """A matrix transposed; a tensor of 0 or 1 dimensions as it is (PyTorch's ``t``)."""
        if self.ndim > 2:
            raise ValueError(
                f"t(): expects a tensor with at most 2 dimensions, this one has shape {self.shape}; "
                "use t.mT to transpose each matrix of a batch, or t.transpose(dim0, dim1)"
            )
        return self.transpose()

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

    softplus = _unary(ops.Softplus, "log(1 + eˣ), elementwise, without overflow.")

    # --- PyTorch's reductions and shape changes ---------------------------------------------------

    max = ops.max
    min = ops.min
    amax = ops.amax
    amin = ops.amin
    argmax = ops.argmax
    argmin = ops.argmin
    softmax = ops.softmax
    log_softmax = ops.log_softmax
    any = _truth(np.any, "Whether any element (over ``axis``) is nonzero: a boolean tensor.")
    all = _truth(np.all, "Whether every element (over ``axis``) is nonzero: a boolean tensor.")
    squeeze = ops.squeeze
    unsqueeze = ops.unsqueeze

    def view(self, *shape: int | Sequence[int]) -> Tensor:
        """The same elements in a new shape, sharing the data and the count of in-place changes
        (PyTorch's ``view``). Where the strides allow no such view (``t.T.view(-1)``), it raises,
        as PyTorch does; ``reshape`` copies there instead."""
        if len(shape) == 1 and not isinstance(shape[0], (int, np.integer, Sequence)):
            raise TypeError(
                f"view: takes a shape, not {shape[0]!r}; to convert the dtype use tg.Tensor(t, dtype=...)"
            )
        out = self.reshape(*shape)
        if out.data.size and not np.may_share_memory(out.data, self.data):
            raise RuntimeError(
                "view size is not compatible with input tensor's size and stride (at least one dimension "
                f"spans across two contiguous subspaces): a tensor of shape {self.shape} and strides "
                f"{self.data.strides} (a transpose or a strided slice) cannot be viewed as {out.shape}. "
                "Use .reshape(...) instead, which copies where it must"
            )
        return out

    def flatten(self, start_dim: int = 0, end_dim: int = -1) -> Tensor:
        """Axes ``start_dim`` to ``end_dim`` merged into one (all: a 1-d tensor)."""
        return ops.flatten(self, start_dim, end_dim)

    def clone(self) -> Tensor:
        """A copy of the data, with its own count of in-place changes, that gradients flow
        through (PyTorch's ``clone``): changing one in place leaves the other alone."""
        if self.requires_grad and grad_enabled():
            return self * 1  # an op's result is a new array; x·1 is x bit for bit, and so is its gradient
        return Tensor._from_op(self.data.copy())

    # --- dtype conversions, as PyTorch's --------------------------------------------------------

    def to(self, dtype: Any) -> Tensor:
        """The tensor as ``dtype``: itself if it is one already, else a converted copy (PyTorch's
        ``t.to(dtype)``; floats to integers truncate toward zero, nan or inf is a ValueError).
        An integer or boolean result carries no gradient, as in PyTorch; converting a tensor that
        requires grad to another float dtype is refused outside ``tg.no_grad()``, as there is no
        differentiable conversion here to keep its gradient."""
        return self._converted(as_dtype(dtype, "to"), "to()")

    def double(self) -> Tensor:
        """As float64 (``t.to(tg.float64)``): the library's default float."""
        return self._converted(np.dtype(np.float64), "double()")

    def float(self) -> Tensor:
        """As float32 (``t.to(tg.float32)``), as PyTorch's ``float()``."""
        return self._converted(np.dtype(np.float32), "float()")

    def long(self) -> Tensor:
        """As int64 (``t.to(tg.int64)``): class labels, indices, counts."""
        return self._converted(np.dtype(np.int64), "long()")

    def _converted(self, dtype: np.dtype, what: str) -> Tensor:
        if dtype == self.data.dtype:
            return self
        if dtype.kind == "f" and self.requires_grad and grad_enabled():
            raise RuntimeError(
                f"{what}: converting a tensor that requires grad to {dtype} would cut its gradient "
                "(there is no differentiable dtype conversion here); convert the data before it "
                f"requires grad, or under tg.no_grad() (or t.detach().{what}), or leave it: an op "
                "on float32 and float64 tensors computes in float64, as numpy does"
            )
        return Tensor._from_op(converted(self.data, dtype, what))

    # --- comparisons and in-place changes ---------------------------------------------------

    __hash__ = Node.__hash__  # nodes are dict keys by identity; == compares elementwise

    __eq__ = _comparison(operator.eq, "==")  # type: ignore[assignment]
    __ne__ = _comparison(operator.ne, "!=")  # type: ignore[assignment]

    def _compare(self, compare: Any, other: Any, op: str) -> Tensor:
        return Tensor(compare(self.data, other.data if isinstance(other, Tensor) else _to_array(other, op)))

    def __setitem__(self, index: Any, value: Any) -> None:
        """``t[index] = value``, in place: recorded on a computed tensor (as PyTorch's CopySlices),
        refused on a leaf that requires grad outside ``no_grad``."""
        # converted as Tensor(value, dtype=t.dtype) is: a number the dtype cannot hold is refused
        array = converted(value, self.data.dtype, "t[...] = value")
        node = value if isinstance(value, Tensor) else None
        recorded = self._records_change(node, "t[...] = value")
        try:  # recorded: a dry run, so that numpy's rules and errors are the same either way
            (np.empty_like(self.data) if recorded else self.data)[_index(index)] = array
        except (ValueError, TypeError) as error:
            raise type(error)(
                f"t[...] = value: {error} (tensor of shape {self.shape}, {self.dtype})"
            ) from None
        if recorded:
            value = node if node is not None and node.requires_grad else array
            self._rebind(lambda old: _put(old, _index(index), value), node, "t[...] = value")
        else:
            self._version.count += 1

    # --- node hooks ------------------------------------------------------------------------

    _keeps_grad = False  # like PyTorch: only leaves keep .grad, so activations can be freed
    _scalar = False
    _grad_type = None  # every gradient goes through _fit_grad: its shape is checked there

    @classmethod
    def _from_op(cls, data: Any, ctx: Any = None, inputs: tuple = ()) -> Tensor:
        if type(data) is not np.ndarray:
            if not isinstance(data, (np.ndarray, np.generic, float, int)):
                raise TypeError(f"returned {type(data).__name__} {data!r:.40}; return an ndarray")
            data = np.asarray(data)  # numpy returns scalars for 0-d results
        kind = data.dtype.kind
        if kind != "f" and (ctx is not None or kind not in "biu"):
            raise TypeError(
                f"returned an array of {data.dtype}; "
                + ("an op that records a gradient returns floats" if kind in "biu" else "return real numbers")
            )
        node = object.__new__(cls)  # NOTE: Node._from_op, inlined: this runs for every op
        node.data = data
        node.grad = None
        node.label = ""
        node.requires_grad = ctx is not None
        node._ctx = ctx
        node._version = Version() if data.base is None else _shared_version(data, inputs)
        node._born = cls._rebinds
        return node

    def _operand(self, other: Any, op: str) -> Tensor:
        if isinstance(other, Tensor):
            return other
        kind = self.data.dtype.kind
        if not isinstance(other, bool):  # a number takes the tensor's dtype, as in PyTorch:
            if kind == "f" and isinstance(other, (int, float)):  # float32 stays float32
                return Tensor(np.asarray(other, dtype=self.data.dtype))
            if kind in "iu" and isinstance(other, (int, np.integer)):  # integers stay integers
                return Tensor(other, dtype=self.data.dtype)
        array = _to_array(other, op)
        if array is other and self.requires_grad and grad_enabled():
            # a plain array is copied as it enters a recorded op (as torch.tensor(array) copies),
            # so that changing it before backward cannot change what backward reads
            array = array.copy()
        return Tensor(array)

    @staticmethod
    def _copy_data(data: Any) -> Any:
        return data.view() if isinstance(data, np.ndarray) else data

    def _seed(self, grad: Any) -> Any:
        if grad is None:
            if self.data.size != 1:
                raise RuntimeError(
                    f"backward: the output has shape {self.shape}, so say which gradient to start "
                    f"from: pass grad=np.ones({self.shape}) (or any array of that shape), or reduce "
                    "the output to a scalar first, e.g. out.sum().backward()"
                )
            return np.array(1, dtype=self.data.dtype).reshape(self.data.shape)
        if not isinstance(grad, Tensor):
            grad = np.asarray(grad, dtype=self.data.dtype)
        if grad.shape != self.shape:
            raise ValueError(f"backward: grad has shape {grad.shape} but the output has shape {self.shape}")
        return grad

    def _fit_grad(self, grad: Any, out: Node) -> Any:
        """Check a gradient sent by the op that made ``out`` and sum it over the axes along which
        this tensor was broadcast: its shape must be this tensor's own, or one that broadcasting
        this tensor (from the right, as numpy does) against the op's other inputs or to its output
        explains. Unless the op broadcasts as numpy does (``Function.broadcasts``), that must also
        be the only place this tensor's axes fit in the gradient's: forward may have added axes
        anywhere (``x[:, None]``), and a gradient of shape (3, 3) for a (3,) input does not say
        whether to sum over its rows or its columns."""
        olds = self._version.olds
        if olds and olds[-1][0] > out._born and out._version is not self._version:
            name = f" {self.label!r}" if self.label else ""
            raise RuntimeError(
                f"backward: a tensor{name} of shape {self.shape} was changed in place (x += ..., t[i] = ...) "
                f"after an op ({out.op}) read it; the change is recorded on the tensor itself, so that op's "
                "gradient would flow through a change it never saw. Run the op after the change, or write "
                "x = x + ... for a new tensor"
            )
        shape = self.data.shape
        if type(grad) is np.ndarray and grad.dtype.kind == "f":  # the common cases, first
            if grad.shape == shape:
                return grad
            if grad.shape == out.data.shape and numeric.broadcasts_to(shape, grad.shape):
                fn = out._ctx.fn
                if fn.broadcasts or fn._formula_is_code:
                    return self._reduce_grad(grad)  # the input was broadcast to the output
        elif isinstance(grad, Node) and not isinstance(grad, Tensor):
            raise InvalidGradient(f"got a {type(grad).__name__}; a Tensor's gradient is an array")
        data = grad.data if isinstance(grad, Tensor) else grad
        if not isinstance(data, np.ndarray):
            if not isinstance(data, (np.generic, int, float, complex)) or isinstance(data, bool):
                raise InvalidGradient(f"got {type(grad).__name__}; return an array of the input's shape")
            grad = data = np.asarray(data)
        if data.dtype.kind not in "fiu":
            what = "complex" if data.dtype.kind == "c" else "non-numeric"
            raise InvalidGradient(
                f"got a {what} gradient ({data.dtype}); the input is real: return real numbers"
            )
        grad_shape = data.shape
        if grad_shape == shape:
            return grad
        known = [out.data.shape, *(np.shape(p.data) for p in out._ctx if p is not None)]
        if not _broadcast_explains(shape, grad_shape, known):
            raise InvalidGradient(
                f"got shape {grad_shape} but expected a shape compatible with {shape} (the input's own, "
                f"or one it was broadcast to in forward); return its gradient in shape {shape}"
            )
        fn = out._ctx.fn
        if not (fn.broadcasts or fn._formula_is_code or _fits_once(shape, grad_shape)):
            raise InvalidGradient(
                f"got shape {grad_shape} for an input of shape {shape}, whose axes fit that shape in more "
                "than one place, so it does not say which axes forward broadcast the input along; return "
                f"its gradient in shape {shape}, or set broadcasts = True on the op if its forward "
                "broadcasts its inputs as numpy does (from the right)"
            )
        return self._reduce_grad(grad)

    def _keep_saved(self, ctx: Any) -> None:
        """Record the version of each tensor that ``ctx`` saved (this output, an input, or the
        tensor a saved view looks into), for backward to check; what no version counts (a plain
        array or list, or a view of one) is replaced by a copy, so that it stays what forward saw."""
        versions = []
        for k, source in enumerate(ctx.saved_from):
            owner = self if source is OUTPUT else None if source is None else ctx[source]
            if owner is None:
                owner = self._owner_of_saved(ctx, k)
            versions.append((None, 0) if owner is None else (owner._version, owner._version.count))
        ctx.versions = tuple(versions)

    def _owner_of_saved(self, ctx: Any, k: int) -> Tensor | None:
        """The input or output whose data saved item ``k`` shares (a view of it); None for an
        item that is not (a number, or an array now replaced by a copy of it)."""
        item = ctx.saved[k]
        if isinstance(item, np.ndarray):
            for node in (self, *ctx):
                if node is not None and np.may_share_memory(item, node.data):
                    return node
        elif not isinstance(item, list):
            return None
        ctx.saved = (*ctx.saved[:k], np.array(item), *ctx.saved[k + 1 :])
        return None

    @staticmethod
    @contextlib.contextmanager
    def _counting_changes(inputs: tuple) -> Iterator[None]:
        """Count the in-place changes that a user's forward makes to its inputs' data, as
        PyTorch's in-place ops count theirs (compared bit for bit: a zero's sign, a nan's payload)."""
        before = [(node, node.data.copy()) for node in inputs if isinstance(node, Tensor)]
        try:
            yield
        finally:
            changed = {
                id(node._version): node._version for node, old in before if not _same_bits(node.data, old)
            }
            for version in changed.values():  # tensors that share data share one count: once each
                version.count += 1

    def _holds(self, data: np.ndarray) -> bool:
        # in-place changes are counted by the version; this catches .data replaced by another array
        return self.data is data or data.size == 0 or np.may_share_memory(self.data, data)

    def _records_change(self, other: Node | None, what: str) -> bool:
        """Whether an in-place change is recorded (a computed tensor while recording), as in
        PyTorch; refused on a leaf while recording, where PyTorch refuses it (a leaf that requires
        grad) or where this tensor's other users could not see the change (a constant)."""
        if not grad_enabled() or not (self.requires_grad or (other is not None and other.requires_grad)):
            return False
        if self._ctx is None:
            if self.requires_grad:
                raise RuntimeError(
                    f"{what}: a leaf Tensor that requires grad is being used in an in-place operation; "
                    "update parameters under `with tg.no_grad():` (as an optimiser step does), or write "
                    "x = x + ... for a new Tensor"
                )
            raise RuntimeError(
                f"{what}: this constant Tensor would need a gradient after the change; write x = x + ... "
                "(a new Tensor) instead, or do it under tg.no_grad()"
            )
        if any(p is not None and getattr(p, "_version", None) is self._version for p in self._ctx):
            raise RuntimeError(
                f"{what}: this Tensor is a view of another one (t[...], reshape, .T), which the change would "
                "change too, unrecorded; change the tensor itself, or write x = x + ... for a new Tensor"
            )
        return True

    def _record_change(self, fn: Any, other: Any, op: str) -> Tensor:
        operand = other if isinstance(other, Tensor) and other is not self else None
        return self._rebind(lambda old: fn.apply(old, old if other is self else other), operand, f"x {op} y")

    def _rebind(self, change: Callable[[Tensor], Tensor], operand: Tensor | None, what: str) -> Tensor:
        """Record an in-place change of this computed tensor as PyTorch does: ``change(old)`` is
        an op on ``old``, a new node that takes over this tensor's history with a copy of its
        data; this tensor (the same object, its data written in place) becomes that op's result.
        The ops that made ``operand`` from this tensor read it before the change: they are
        pointed at ``old``.

        Every op saved with this tensor's data sees its version change. An op recorded before
        the change that used this tensor without saving it would now send its gradient through
        the change: ``_fit_grad`` refuses that (by ``_born``), except for a view of this tensor,
        which follows the change as a PyTorch view does."""
        old = Tensor._from_op(self.data.copy(), self._ctx)
        old.label, old._born = self.label, self._born
        version = self._version
        version.olds = (*version.olds, (Tensor._rebinds + 1, old, version.count))
        prior = old._ctx
        if getattr(prior, "in_place", False) and all(c is None or c.count == n for c, n in prior.versions):
            _save_output(prior, old)  # an earlier change's result, as PyTorch keeps its inputs
        if operand is not None and operand.requires_grad:
            _redirect(operand, self, what)
        new = change(old)
        self._assign(new.data, what)
        Tensor._rebinds += 1
        ctx = self._ctx = new._ctx
        self._born = Tensor._rebinds
        ctx.in_place = True
        _save_output(ctx, self)
        return self

    def _assign(self, result: Any, op: str) -> None:
        if np.shape(result) != self.data.shape:
            raise ValueError(
                f"{op}: the result has shape {np.shape(result)}, which does not fit this tensor's shape "
                f"{self.shape}; an in-place change cannot change the shape"
            )
        try:
            np.copyto(self.data, result, casting="same_kind")
        except ValueError:
            raise ValueError(
                f"{op}: this tensor's data is read-only (a broadcast view); change a copy"
            ) from None
        except TypeError:
            raise TypeError(
                f"{op}: the result is {np.result_type(result)}, which this {self.dtype} tensor cannot hold"
            ) from None
        self._version.count += 1

    def _zero_grad_data(self) -> np.ndarray:
        return np.zeros_like(self.data)

    def _accumulate(self, grad: Any) -> None:
        if self.grad is None:
            self.grad = np.array(grad, dtype=self.data.dtype)  # a copy: never share a buffer
        else:
            self.grad += grad

    def _reduce_grad(self, grad: Any) -> Any:
        """Sum a gradient over the axes along which this tensor was broadcast (the caller has
        checked that broadcasting explains its shape)."""
        shape = self.data.shape
        grad_shape = grad.shape
        lead = len(grad_shape) - len(shape)
        if lead > 0 and grad_shape[lead:] == shape and not isinstance(grad, Node):
            return np.add.reduce(grad, axis=tuple(range(lead)))  # NOTE: the common case, kept cheap
        axes = (
            *range(lead),
            *(lead + i for i, n in enumerate(shape) if n == 1 and grad_shape[lead + i] != 1),
        )
        if isinstance(grad, Node):
            return ops.Sum.apply(grad, axes, False).reshape(shape)
        return np.add.reduce(grad, axis=axes).reshape(shape)  # NOTE: raw numpy: runs for every broadcast


def _same_bits(a: np.ndarray, b: np.ndarray) -> bool:
    """Whether two arrays hold the same bits (where == says 0.0 is -0.0 and nan is not nan)."""
    if a.shape != b.shape or a.dtype != b.dtype:
        return False
    bits = np.dtype(f"u{a.dtype.itemsize}")
    return np.array_equal(a.view(bits), b.view(bits))


def _redirect(operand: Tensor, node: Tensor, what: str) -> None:
    """Point the ops that made ``operand`` from ``node`` at the node that holds ``node`` as they
    read it (the ``old`` of the first recorded change after them, with what they saved of it),
    before ``node`` changes in place: ``x += f(x)`` reads x before the change, and its graph must
    not lead back to x after it. The search stops at ops made before ``node``'s last recorded
    change: any op they were made from is older still."""
    stack, seen = [operand], set()
    while stack:
        x = stack.pop()
        ctx = x._ctx
        if ctx is None or x in seen:
            continue
        seen.add(x)
        if x._version is node._version:
            raise RuntimeError(
                f"{what}: y is x's data (a view of x, or x itself), or was computed from it, and the change "
                "overwrites it; write x = x + y for a new Tensor, or compute y from a copy (x.clone())"
            )
        older = x._born < node._born
        for i, parent in enumerate(ctx):
            if parent is node:
                _, old, count = next(entry for entry in node._version.olds if entry[0] > x._born)
                ctx[i] = old
                if ctx.saved:  # what it saved of x, unchanged until old's copy, is what old holds
                    then = (node._version, count)
                    kept = [item is node.data and was == then for item, was in zip(ctx.saved, ctx.versions)]
                    ctx.saved = tuple([old.data if k else item for item, k in zip(ctx.saved, kept)])
                    mine = (old._version, old._version.count)
                    ctx.versions = tuple([mine if k else was for was, k in zip(ctx.versions, kept)])
            elif parent is not None and not older and parent._ctx is not None:
                stack.append(parent)


def _save_output(ctx: Any, node: Tensor) -> None:
    """Make ``node``'s data the output that ``ctx`` saved (its op's result, which ``node`` holds),
    at ``node``'s version now; what else it saved keeps the version it was saved at."""
    if ctx.saved:
        now = (node._version, node._version.count)
        sources = ctx.saved_from
        ctx.saved = tuple([node.data if s is OUTPUT else x for x, s in zip(ctx.saved, sources)])
        ctx.versions = tuple([now if s is OUTPUT else v for v, s in zip(ctx.versions, sources)])


def _put(old: Tensor, index: Any, value: Any) -> Tensor:
    """``old`` with ``value`` written at ``index``, as an op on the graph: a constant ``value`` (an
    array) is written into a copy, a Tensor scattered to where it goes."""
    mask = np.zeros(old.shape, dtype=bool)
    mask[index] = True
    if isinstance(value, Tensor):
        counts = np.zeros(old.shape, dtype=np.intp)
        np.add.at(counts, index, 1)
        if counts.max(initial=0) > 1:
            raise IndexError(
                "t[...] = value: the index picks an element twice, so only one of its values would be "
                "written, and no gradient says which; index each element once"
            )
        shape = old.data[index].shape
        if value.ndim > len(shape):  # numpy drops leading axes of length 1 (checked by the dry run)
            value = value.reshape(value.shape[value.ndim - len(shape) :])
        full = ops.scatter_add(ops.broadcast_to(value, shape), index, old.shape)
    else:
        full = old.data.copy()
        full[index] = value
    return ops.where(mask, full, old)


class Version:
    """The count of in-place changes of a tensor's data, shared by the tensors that hold the
    same data or views of it (PyTorch's version counter)."""

    count = 0  # until the first change (a class default: making a Version costs no __init__)
    olds = ()  # per recorded change of a computed tensor holding the data: its number in
    # Tensor._rebinds, the node given the old history, and the count it copied


def _shared_version(data: np.ndarray, inputs: tuple) -> Version:
    """The version counter of an op's result: an input's, if the result is a view of its data
    (reshape, transpose, slicing), so that changing one in place is seen through the other."""
    for tensor in inputs:
        if isinstance(tensor, Tensor) and np.may_share_memory(data, tensor.data):
            return tensor._version
    return Version()


def _broadcast_explains(shape: tuple, grad_shape: tuple, known: list[tuple]) -> bool:
    """Whether a gradient of ``grad_shape`` for an input of ``shape`` is that input broadcast:
    every axis where they differ is one the input had as 1 (or lacked), and has, counted from
    the right, the size of that axis in the op's output or another input (``known``)."""
    if not numeric.broadcasts_to(shape, grad_shape):
        return False
    own = (1,) * (len(grad_shape) - len(shape)) + shape
    return all(
        own[k] == size or any(len(other) >= -k and other[k] == size for other in known)
        for k, size in zip(range(-len(grad_shape), 0), grad_shape)
    )


def _fits_once(shape: tuple, grad_shape: tuple) -> bool:
    """Whether the axes of ``shape`` fit those of ``grad_shape`` (which it broadcasts to from the
    right) in that place only: each axis in order at an axis of the same size, or anywhere if it
    is 1. The leftmost fit found axis by axis is the right-aligned one exactly when no other is."""
    lead = len(grad_shape) - len(shape)
    at = 0
    for i, n in enumerate(shape):
        if n != 1:
            while grad_shape[at] != n:
                at += 1
            if at != lead + i:
                return False
        at += 1
    return True


def as_dtype(dtype: Any, where: str) -> np.dtype:
    """``dtype`` as a numpy dtype of real numbers or booleans (``np.float32``, ``"int64"``,
    ``float``, ``tg.bool``); anything else is a TypeError naming it."""
    try:
        result = np.dtype(dtype)
    except TypeError:
        raise TypeError(
            f"{where}: {dtype!r} is not a dtype; use e.g. tg.float32, tg.float64 or tg.int64"
        ) from None
    if result.kind not in "fiub":
        raise TypeError(f"{where}: dtype {result} is not supported; use real numbers (float, int) or bool")
    return result


def converted(data: Any, dtype: np.dtype | None, where: str = "Tensor") -> np.ndarray:
    """``data`` as an array of ``dtype`` (None: its own), without a copy where it already is one. Floats to
    integers truncate toward zero; a value an integer dtype cannot hold (nan, inf, outside its
    range) is a ValueError naming it, where numpy would wrap it round."""
    array = _as_numpy(data.data if isinstance(data, Tensor) else data, where)
    dtype = array.dtype if dtype is None else dtype
    if dtype.kind in "iub" and array.dtype.kind == "f" and not np.isfinite(array).all():
        bad = array[~np.isfinite(array)].flat[0]
        raise ValueError(f"{where}: cannot convert {bad} to {dtype}: an integer holds no nan or inf")
    if dtype.kind in "iu" and array.dtype.kind in "fiu" and array.size:
        check_fits(array.min().item(), array.max().item(), dtype, where)
    return array.astype(dtype, copy=False)


def check_fits(low: float, high: float, dtype: np.dtype, where: str) -> None:
    """Refuse numbers from ``low`` to ``high`` that the integer ``dtype`` cannot hold once
    truncated toward zero (a ValueError naming the first one found)."""
    info = np.iinfo(dtype)
    # NOTE: compared as Python numbers, which is exact: 2**63 − 1 as a float64 is 2**63, so
    # numpy's comparison with int64's largest value lets 2**63 through (truncated: < max + 1)
    bad = low if low <= info.min - 1 else high if high >= info.max + 1 else None
    if bad is not None:
        raise ValueError(
            f"{where}: {bad} does not fit in {dtype}, which holds whole numbers from {info.min} "
            f"to {info.max}; clip the data or use a wider dtype"
        )


def _as_numpy(data: Any, where: str) -> np.ndarray:
    """``data`` as a plain ndarray of real numbers or booleans (np.matrix would make * a matrix
    product); another node type, ragged nested lists and other elements are refused by name."""
    if isinstance(data, Node):
        raise TypeError(f"{where}: got a {type(data).__name__}; for a scalar use tg.Tensor(value.data)")
    try:
        array = np.asarray(data)
    except ValueError as error:
        raise ValueError(f"{where}: the data is not a rectangular array of numbers ({error})") from None
    if array.dtype.kind not in "fiub":
        raise TypeError(
            f"{where}: expected real numbers, got {type(data).__name__} with dtype {array.dtype} "
            f"({str(data)[:40]!r})"
        )
    return array


def _to_array(data: Any, where: str) -> np.ndarray:
    """``data`` as the array of a new Tensor: integers become float64, so that gradients exist."""
    if isinstance(data, Tensor):
        return data.data
    if type(data) is np.ndarray and data.dtype.kind in "fb":
        return data
    array = _as_numpy(data, where)
    return array.astype(np.float64) if array.dtype.kind in "iu" else array


def _index(index: Any) -> Any:
    """An index as numpy takes it: a Tensor gives its array (booleans: a mask, integers:
    positions), a list an array; floats are refused, as numpy and PyTorch refuse them."""
    if isinstance(index, tuple):
        return tuple(_index(i) for i in index)
    if isinstance(index, Tensor):
        index = index.data
    elif isinstance(index, list):
        index = np.asarray(index)
    if isinstance(index, np.ndarray) and index.dtype.kind not in "biu":
        raise IndexError(
            f"tensors used as indices must be integers or booleans (a mask), not {index.dtype}; "
            "index with a list or an integer array, e.g. t[[0, 2]], or with a mask such as t[t > 0]"
        )
    return index


def _one_or_many(args: tuple) -> Any:
    """The arguments of ``t.reshape(2, 3)`` or ``t.reshape((2, 3))`` as one shape (or axes)."""
    return args[0] if len(args) == 1 and not isinstance(args[0], int) else args
