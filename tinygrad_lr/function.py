"""The op-table contract: ``Function`` (forward, backward, derivative formulas), its ``Context``,
and the registry of every op.

An op is a ``Function`` subclass with two static methods, as in PyTorch:

- ``forward(ctx, *inputs)`` computes the output from raw data (Python floats or ndarrays) and
  saves what the backward pass needs with ``ctx.save_for_backward(...)``;
- ``backward(ctx, grad)`` returns one gradient per input (``None`` for none).

Backward formulas are written with operators and the functions of ``tinygrad_lr`` (``tg.exp``,
``tg.log``, ...). The engine calls them with raw data for a plain backward pass, and with graph
nodes under ``create_graph=True``; then ``ctx.saved_tensors`` gives the input and output *nodes*
and the formula builds a differentiable graph, which is where higher derivatives come from.
That is why only inputs and the output may be saved: anything else would be a constant to the
second derivative.
"""

from __future__ import annotations

import inspect
import re
from dataclasses import dataclass
from typing import Any, ClassVar

from .engine import Node, _mode

_NAME = re.compile(r"(?<![A-Za-z0-9_])[A-Za-z_][A-Za-z0-9_]*")  # "y" in "−x/y²", not "x" in "exp"

REGISTRY: dict[str, type[Function]] = {}
"""Every registered op by name: the property tests, the stepper and the docs iterate over it."""


@dataclass(frozen=True)
class Domain:
    """Where an input of an op is tested against finite differences.

    Values are drawn from ``[low, high]`` keeping at least ``margin`` away from each point in
    ``avoid`` (poles and kinks, where a finite difference is meaningless); a name in ``avoid``
    keeps away from the value of that input (``max(x, y)`` has its kink where y = x).
    """

    low: float = -5.0
    high: float = 5.0
    avoid: tuple[float | str, ...] = ()
    margin: float = 0.1


@dataclass(frozen=True)
class Choice:
    """A non-differentiable argument of an op (such as a constant exponent), drawn from ``values``."""

    values: tuple[Any, ...]


@dataclass(frozen=True)
class Param:
    """A non-differentiable argument that the tests derive from the shape of the first input:
    ``"axis"`` (None, an int or a tuple), ``"shape"`` (same size), ``"axes"`` (a permutation),
    ``"index"`` (anything ``x[index]`` takes) or ``"broadcast_shape"`` (a shape x broadcasts to)."""

    kind: str


class Context:
    """The ``ctx`` of an op (PyTorch's): forward keeps inputs and the output for backward with
    ``save_for_backward``, and attributes set on it (``ctx.mask = ...``) are there in backward.

    Only an op whose forward set attributes keeps its Context after forward (on the node, as
    ``_ctx``); the others keep just the saved tuple, and backward gets a ``BackwardContext``.
    """

    __slots__ = ("__dict__", "_datas", "_saved", "parents")

    def __init__(self) -> None:
        self._saved: tuple = ()
        self._datas: list | None = None  # what forward received, where it is not the parents' data

    def save_for_backward(self, *items: Any) -> None:
        """Keep inputs and/or the output of ``forward`` for ``backward``."""
        self._saved = items

    @property
    def saved_tensors(self) -> tuple:
        """What ``save_for_backward`` kept."""
        return self._saved

    @property
    def needs_input_grad(self) -> tuple[bool, ...]:
        """For each input of the op, whether backward must compute its gradient."""
        return tuple([p is not None and p.requires_grad for p in self.parents])


class Function:
    """Base class of every op. Subclasses are registered by name when they are defined.

    Class attributes
    ----------------
    name : registry key (default: the class name in lower case).
    symbol : how the op is shown in reprs and pictures (default: ``name``).
    formula : the local derivative, one text per input (a str for a one-input op), written in
        the names of ``forward``'s parameters and ``out``, e.g. ``"σ(x)·(1−σ(x))"``. Optional,
        but the registry-wide tests ask every registered op for one.
    domain : one ``Domain``, ``Choice`` or ``Param`` per input: where the property tests draw
        inputs and constant arguments.
    commutative : the inputs can be swapped (pictures then do not label the edges).
    tensor_only : the op needs arrays (matmul, reductions, reshaping): not for Values.
    shapes : how the property tests shape the array inputs: ``"broadcast"`` (mutually
        broadcastable, the default), ``"matmul"``, ``"linear"`` or ``"scatter"``.

    Pass ``register=False`` in the class statement to keep an op out of the registry. An op
    whose name is taken is registered under ``module.ClassName``.
    """

    name: ClassVar[str]
    symbol: ClassVar[str]
    formula: ClassVar[tuple[str, ...]] = ()
    domain: ClassVar[tuple[Domain | Choice | Param, ...] | None] = None
    commutative: ClassVar[bool] = False
    tensor_only: ClassVar[bool] = False
    shapes: ClassVar[str] = "broadcast"
    inputs: ClassVar[tuple[str, ...]] = ()

    def __init_subclass__(cls, register: bool = True, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        cls.name = cls.__dict__.get("name", cls.__name__.lower())
        cls.symbol = cls.__dict__.get("symbol", cls.name)
        cls.inputs = tuple(inspect.signature(cls.forward).parameters)[1:]
        if isinstance(cls.formula, str):
            cls.formula = (cls.formula,)
        if register:
            _register(cls)

    @staticmethod
    def forward(ctx: Context, *inputs: Any) -> Any:
        raise NotImplementedError

    @staticmethod
    def backward(ctx: Context, grad: Any) -> Any:
        raise NotImplementedError

    @classmethod
    def derivative(cls, i: int, names: dict[str, str]) -> str:
        """The local derivative with respect to input ``i``, with the variable names of
        ``formula`` replaced by ``names`` (e.g. ``{"x": "w", "y": "x", "out": "z"}``); a name
        that is itself a formula gets parentheses where it needs them: 1/(1 - p), cos(x*x)."""
        if not cls.formula:
            return f"∂{cls.symbol}/∂{names.get(cls.inputs[i], cls.inputs[i])}"  # no formula given
        text = cls.formula[i]

        def replace(match: re.Match) -> str:
            name = names.get(match.group(0), match.group(0))
            enclosed = (
                text[match.start() - 1 : match.start()] == "(" and text[match.end() : match.end() + 1] == ")"
            )
            compound = any(c in name for c in " +-−*/@") and not name.startswith(("(", "dL/d("))
            return f"({name})" if compound and not enclosed else name

        return _NAME.sub(replace, text)

    @classmethod
    def describe(cls, node: Node) -> str:
        """How the op that made ``node`` is shown (override to include constants, e.g. '**2')."""
        return cls.symbol

    @classmethod
    def apply(cls, *args: Any) -> Any:
        """Run the op on Values, Tensors or raw data (floats, ndarrays).

        With graph nodes among ``args`` the result is a node of the same type that records the
        op (unless under ``no_grad``); with raw data only, the raw result.
        """
        kind = None
        datas = []
        requires_grad = plain = False
        for arg in args:
            if isinstance(arg, Node):
                if kind is None:
                    kind = type(arg)
                elif type(arg) is not kind:
                    raise TypeError(
                        f"{cls.name}: cannot mix {kind.__name__} and {type(arg).__name__} operands; "
                        f"convert one side first (tg.Tensor(value.data), or tensor.item() for a Value)"
                    )
                datas.append(arg.data)
                requires_grad = requires_grad or arg.requires_grad
            else:
                datas.append(arg)
                plain = True
        if kind is None:
            return cls.forward(Context(), *args)
        if cls.tensor_only and kind._scalar:
            raise TypeError(f"{cls.name} works on Tensors, not on {kind.__name__}s")
        if len(datas) > 1 and (
            datas[0] is datas[1] if len(datas) == 2 else len(set(map(id, datas))) < len(datas)
        ):
            plain = _make_distinct(args, datas, kind) or plain
        ctx = Context()
        out = cls.forward(ctx, *datas)
        if not (requires_grad and _mode.enabled):
            return kind._from_op(out)
        keep = None
        if plain or ctx.__dict__:  # forward set attributes, or got constants: backward needs ctx
            keep = ctx
            if plain:
                ctx._datas = datas
                args = tuple(arg if isinstance(arg, Node) else None for arg in args)
            ctx.parents = args
        saved = ctx._saved
        node = kind._from_op(out, cls, args, saved, keep)
        if _mode.scope:
            node._scope = _mode.scope
        if saved and node.data is not out:  # the node type converted the result
            node._saved = ctx._saved = tuple(node.data if item is out else item for item in saved)
        return node


def _make_distinct(args: tuple, datas: list, kind: type[Node]) -> bool:
    """Give forward a copy where two different nodes hold the same data object; say if it did.

    Saved items are traced back to their node by identity (``saved_nodes``), and
    ``Value(1.0) * Value(1.0)`` can share one float constant."""
    copied = False
    for j in range(1, len(datas)):
        for i in range(j):
            if datas[i] is datas[j] and args[i] is not args[j]:
                k = j if isinstance(args[j], Node) else i
                datas[k] = kind._copy_data(datas[k])
                copied = True
    return copied


def _register(fn: type[Function]) -> None:
    if fn.formula and len(fn.formula) != len(fn.inputs):
        raise TypeError(
            f"{fn.__qualname__}: formula has {len(fn.formula)} entries but forward takes "
            f"{len(fn.inputs)} inputs {fn.inputs}; give one derivative text per input"
        )
    old = REGISTRY.get(fn.name)
    if old is not None and (old.__module__, old.__qualname__) != (fn.__module__, fn.__qualname__):
        # Another op has this name (a user's Softplus next to the built-in one): both stay
        # usable, and the newcomer is registered under its full name.
        fn.name = f"{fn.__module__}.{fn.__qualname__}"
        if fn.__dict__.get("symbol") is None:
            fn.symbol = old.symbol if old.__name__ == fn.__name__ else fn.__name__.lower()
    REGISTRY[fn.name] = fn
