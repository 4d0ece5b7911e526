"""The op-table contract: ``Function`` (forward and derivative formulas), its ``Context``, and
the registry of every op.

An op is a ``Function`` subclass, as in PyTorch: ``forward(ctx, *inputs)`` computes the output
from raw data (Python floats or ndarrays). An elementwise op gives its derivative as a
``formula`` per input, which is compiled into its backward, and the names the formula reads
(inputs, ``out``) are what the op keeps. A fused op writes ``backward(ctx, grad)`` instead,
returning one gradient per input (``None`` for none), and keeps what it needs with
``ctx.save_for_backward(...)``.

Backward code is written with operators and the functions of ``tinygrad_lr`` (``tg.exp``,
``tg.log``, ...). The engine calls it with raw data for a plain backward pass, and with graph
nodes under ``create_graph=True``; then ``ctx.saved_tensors`` gives the input and output *nodes*
and the same code builds a differentiable graph, which is where higher derivatives come from.
That is why only inputs and the output may be saved: anything else would be a constant to the
second derivative.
"""

from __future__ import annotations

import inspect
import operator
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, ClassVar

import numpy as np

from . import formula, numeric
from .engine import Node, _recording, _scope

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


class Context(list):
    """The record of one op in the graph, and the ``ctx`` its forward and backward receive (as in
    PyTorch): the list of the op's input nodes (``None`` for a constant argument), with the op
    as ``fn``, the inputs and output forward kept with ``save_for_backward``, and anything else
    forward set as an attribute (``ctx.mask = x > 0``) for backward to read back.

    What was saved is traced once, when forward returns, to the input it is (or the output),
    with the version of each saved Tensor: backward through a tensor changed in place since then
    raises, and under ``create_graph=True`` backward is handed the graph nodes themselves
    (``on_graph``), so its formula builds the graph of the gradient.

    NOTE: the context *is* the list of inputs, rather than holding a tuple of them, so that a
    recorded op costs two objects (its node and this) for Python's garbage collector to track,
    not three: on a scalar graph the collector's work is much of the time.
    """

    __slots__ = ("__dict__", "arguments", "fn", "saved", "saved_from", "scope", "versions")

    # Set where needed, to keep a recorded op cheap (a slot read before it is set raises
    # AttributeError): saved_from where something was saved or the formula is the backward,
    # scope inside an nn.Module call, arguments (forward's arguments, for showing the constants
    # among them) where there are some.

    @classmethod
    def of(cls, fn: type[Function], inputs: Any = ()) -> Context:
        """A new context for a call of ``fn`` on ``inputs`` (nodes, None for constants)."""
        ctx = cls(inputs)
        ctx.fn, ctx.saved, ctx.versions = fn, (), ()
        return ctx

    def save_for_backward(self, *items: Any) -> None:
        """Keep inputs and/or the output of ``forward`` for ``backward``."""
        self.saved = items

    @property
    def saved_tensors(self) -> tuple:
        """What ``save_for_backward`` kept; raises if a saved tensor was changed in place since."""
        if self.versions:
            self._check_versions()
        return self.saved

    @property
    def needs_input_grad(self) -> tuple[bool, ...]:
        """For each input of the op, whether backward must compute its gradient."""
        return tuple([p is not None and p.requires_grad for p in self])

    def on_graph(self, node: Node) -> Context:
        """This context as backward sees it under ``create_graph=True``: ``saved_tensors`` gives
        the graph nodes of the saved inputs and output (``node``), constants stay raw."""
        if not self.saved:
            return self
        self._check_versions()
        nodes = []
        for k, (item, source) in enumerate(zip(self.saved, self.saved_from)):
            if source is None:
                raise ValueError(
                    f"{self.fn.name}: save_for_backward item {k} ({type(item).__name__}) is neither "
                    "an input nor the output of forward, so a higher-order gradient cannot be built from "
                    "it. Save only inputs and the output, and keep other values as ctx attributes, "
                    "e.g. ctx.mask = x > 0."
                )
            owner = node if source is OUTPUT else self[source]
            if owner is None:
                nodes.append(item)  # a constant argument stays raw data
            elif not owner._holds(item):
                raise RuntimeError(
                    f"{self.fn.name}: the .data of {self._describe(source)} changed after forward, "
                    "so this graph no longer computes what backward would differentiate; run forward again"
                )
            else:
                nodes.append(owner)
        view = Context.of(self.fn, self)
        view.__dict__.update(self.__dict__)
        view.saved, view.saved_from, view.versions = tuple(nodes), self.saved_from, ()
        return view

    def _check_versions(self) -> None:
        """Raise if a saved tensor was changed in place since forward, naming it."""
        for k, (counter, seen) in enumerate(self.versions):
            if counter is not None and counter.count != seen:
                source = self.saved_from[k]
                view = source is None  # of an input or of the output: the one that shares its count
                if view:
                    inputs = [i for i, node in enumerate(self) if getattr(node, "_version", None) is counter]
                    source = inputs[0] if inputs else OUTPUT
                what = ("a view of " if view else "") + self._describe(source)
                raise RuntimeError(
                    "one of the tensors needed for gradient computation has been modified by an in-place "
                    f"operation: {what} of {self.fn.name} is at version {counter.count}; "
                    f"forward saw version {seen}. Run forward again after changing it (an optimiser step "
                    "changes the parameters in place), or change a copy (x = x + 1 instead of x += 1)."
                )

    def _describe(self, source: int) -> str:
        """How an error names a saved item: "the output", or "input 1 'w' of shape (3, 2)"."""
        if source is OUTPUT:
            return "the output"
        node = self[source]
        name = f" {node.label!r}" if node.label else ""
        shape = f" of shape {node.data.shape}" if hasattr(node.data, "shape") else ""
        return f"input {source}{name}{shape}"


OUTPUT = -1  # in Context.saved_from: the item is the op's output
_OPS = f"{__package__}.ops."  # the modules of the op table


class _OpClass(type):
    """The type of ops: assigning an op's ``formula`` (as a test does) takes effect at once."""

    def __setattr__(cls, name: str, value: Any) -> None:
        if name == "formula":
            value = cls._texts(value)  # refused before anything changes
        super().__setattr__(name, value)
        if name == "formula":
            cls._use_formula()


class Function(metaclass=_OpClass):
    """Base class of every op. Subclasses are registered by name when they are defined.

    Class attributes
    ----------------
    name : registry key (default: the class name in lower case).
    symbol : how the op is shown in reprs and pictures (default: ``name``).
    formula : the local derivative, one text per input ("" for a constant argument; a str for a
        one-input op) in the language of ``tinygrad_lr.formula``, written in the names of
        ``forward``'s parameters, ``out``, the context's attributes and ``g`` (the gradient
        at the output), e.g. ``"sigmoid(x)*(1 - sigmoid(x))"`` or ``"g @ y.T"``. The stepper
        prints it; the registry-wide tests check it against ``backward``. An op without a
        ``backward`` of its own must be elementwise, its forward broadcasting as numpy does:
        apply refuses an output of another shape.
    reference : an independent implementation of forward on raw data (``np.exp``, or a few
        lines of numpy), which the registry-wide tests compare forward with.
    domain : where the property tests draw the arguments: one ``Domain`` (differentiable input)
        or ``Choice`` (constant argument) per input, or the name of an argument pattern of
        ``tinygrad_lr.testing.PATTERNS`` for arguments of another kind ("axis", "matmul", ...).
        An op whose backward is its formula, with every input differentiable, is tested on
        ``Domain()`` (values in (-5, 5)) unless it says otherwise.
    written : how a call is written in the formula language, in forward's argument names
        (``"x + y"``, ``"x@w + b"``); the default is ``name(x, ...)``. The stepper and the
        pictures write each node this way in its operands' names (override ``write`` to choose
        by the call, as ``sum`` does).
    commutative : the inputs can be swapped (pictures then do not label the edges).
    tensor_only : the op needs arrays (matmul, reductions, reshaping): not for Values.
    broadcasts : forward broadcasts its inputs against each other as numpy does (from the right),
        so backward may return an input's gradient in the broadcast shape, which the engine sums
        back. So for an op whose backward is its formula; an op with a hand-written backward that
        does not say so has such a gradient summed back only where the shapes leave one way to.

    Pass ``register=False`` in the class statement to keep an op out of the registry. An op
    whose name is taken is registered under ``module.ClassName``.
    """

    name: ClassVar[str]
    symbol: ClassVar[str]
    formula: ClassVar[tuple[str, ...]] = ()
    reference: ClassVar[Any] = None
    written: ClassVar[str] = ""
    domain: ClassVar[tuple[Domain | Choice, ...] | str | None] = None
    commutative: ClassVar[bool] = False
    tensor_only: ClassVar[bool] = False
    broadcasts: ClassVar[bool] = False
    inputs: ClassVar[tuple[str, ...]] = ()
    _formula_is_code: ClassVar[bool] = True  # no backward written by hand: the formula is compiled
    _saves: ClassVar[tuple | None] = None  # what the compiled backward reads (see saved_from)
    _pick: ClassVar[Callable[[list], tuple]]  # those items of [*inputs, output], as a tuple
    _forward_is_ours: ClassVar[bool] = False  # forward is one of the op table's (never changes its inputs)

    def __init_subclass__(cls, register: bool = True, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        cls.name = cls.__dict__.get("name", cls.__name__.lower())
        cls.symbol = cls.__dict__.get("symbol", cls.name)
        cls.inputs = tuple(inspect.signature(cls.forward).parameters)[1:]
        if "backward" in cls.__dict__:  # it keeps what its forward saves, not what a formula reads
            cls._formula_is_code, cls._saves = False, None
        cls._forward_is_ours = (getattr(cls.forward, "__module__", None) or "").startswith(_OPS)
        texts = cls._texts(cls.formula)  # an inherited formula too must fit this forward
        if "formula" in cls.__dict__:  # an inherited one stays inherited: it follows the parent's
            type.__setattr__(cls, "formula", texts)
        cls._use_formula()
        if register:
            _register(cls)

    @classmethod
    def _use_formula(cls) -> None:
        """Read ``formula``: for an op without a hand-written backward, its backward becomes the
        formula compiled (at the first backward pass, when every op it calls exists), and
        forward's inputs and output that the formula names are what the op keeps for it."""
        if not (cls._formula_is_code and cls.formula):
            return
        taken = {"g", "out"} & set(cls.inputs)
        if taken:
            raise TypeError(
                f"{cls.__qualname__}.forward: an argument may not be called {' or '.join(sorted(taken))}; "
                "in a formula g is the gradient at the output and out is the output: rename it"
            )
        if cls.domain is None and all(cls.formula):  # an elementwise op: tested on (-5, 5) by default
            cls.domain = (Domain(),) * len(cls.inputs)
        saved = formula.reads(cls.formula, cls.inputs)
        sources = tuple(OUTPUT if name == "out" else cls.inputs.index(name) for name in saved)
        cls._saves = saves = _PATTERNS.setdefault(sources, sources)
        if saves:
            cls._pick = _picker(saves)

        def backward(ctx: Context, grad: Any) -> Any:
            compiled = formula.compile(cls.formula, cls.inputs, saves)
            cls.backward = staticmethod(compiled)
            return compiled(ctx, grad)

        cls.backward = staticmethod(backward)
        for subclass in cls.__subclasses__():  # ops that inherit this formula follow it
            if "formula" not in subclass.__dict__:
                subclass._use_formula()

    @classmethod
    def _texts(cls, formula: str | tuple[str, ...]) -> tuple[str, ...]:
        """``formula`` as a tuple of texts, one per input of forward (a str is a one-input op's)."""
        texts = (formula,) if isinstance(formula, str) else tuple(formula)
        if texts and len(texts) != len(cls.inputs):
            raise TypeError(
                f"{cls.__qualname__}: formula has {len(texts)} entries but forward takes "
                f"{len(cls.inputs)} inputs {cls.inputs}; give one derivative text per input"
            )
        return texts

    @staticmethod
    def forward(ctx: Context, *inputs: Any) -> Any:
        raise NotImplementedError

    @staticmethod
    def backward(ctx: Context, grad: Any) -> Any:
        raise NotImplementedError

    @classmethod
    def write(cls, ctx: Context) -> str:
        """How the call recorded in ``ctx`` is written, in forward's argument names."""
        return cls.written or f"{cls.name}({', '.join(cls.inputs)})"

    @classmethod
    def describe(cls, ctx: Context) -> str:
        """How the op recorded in ``ctx`` is shown (override to include constants, e.g. '**2')."""
        return cls.symbol

    @classmethod
    def apply(cls, *args: Any) -> Any:
        """Run the op on Values, Tensors or raw data (floats, ndarrays).

        With graph nodes among ``args`` the result is a node of the same type that records the
        op (unless under ``no_grad`` or no input requires grad); with raw data only, the raw
        result.
        """
        kind = None
        datas = []
        requires_grad = constants = False
        for arg in args:
            if isinstance(arg, Node):
                if type(arg) is not kind:
                    if kind is not None:
                        raise TypeError(
                            f"{cls.name}: cannot mix {kind.__name__} and {type(arg).__name__} operands; "
                            "convert one side first (tg.Tensor(value.data), or tensor.item() for a Value)"
                        )
                    kind = type(arg)
                datas.append(arg.data)
                if arg.requires_grad:
                    requires_grad = True
            else:
                datas.append(arg)
                constants = True
        if kind is None:
            return cls.forward(Context.of(cls), *args)
        scalar = kind._scalar
        if scalar and cls.tensor_only:
            raise TypeError(f"{cls.name} works on Tensors, not on {kind.__name__}s")
        recording = requires_grad and _recording.get()
        parents = args
        if recording:
            if constants:
                parents = [arg if isinstance(arg, Node) else None for arg in args]
            n = len(datas)
            if n > 1 and (datas[0] is datas[1] if n == 2 else len(set(map(id, datas))) < n):
                _distinct(parents, datas, kind)
        ctx = Context(parents if recording else ())  # NOTE: Context.of, inlined: this runs for every op
        ctx.fn, ctx.saved, ctx.versions = cls, (), ()
        if recording and constants:
            ctx.arguments = args
        if scalar:
            out = cls.forward(ctx, *datas)
        else:  # NOTE: numpy warns on inf·0 or overflow; an op gives the IEEE result silently, as on floats
            if cls._forward_is_ours:  # NOTE: numeric.quietly, inlined: this runs for every op
                quiet = numeric.enter_quiet()
                try:
                    out = cls.forward(ctx, *datas)
                finally:
                    numeric.leave_quiet(quiet)
            else:  # a user's forward may change an input in place: counted, as in PyTorch
                with kind._counting_changes(args):
                    out = numeric.quietly(cls.forward, ctx, *datas)
                if cls._saves is not None:  # the backward is the formula compiled
                    _check_broadcasts(cls, datas, out)
            for data in datas:  # an input returned as given becomes a view of it (as in PyTorch), so
                if out is data:  # that the two share one version counter
                    out = kind._copy_data(out)
        try:
            node = kind._from_op(out, ctx if recording else None, args)
        except TypeError as error:  # what forward returned is no data for this node type
            raise TypeError(f"{cls.__name__}.forward {error}") from None
        if not recording:
            return node
        saves = cls._saves
        if saves is not None:  # the formula is the backward: keep what it reads
            ctx.saved_from = saves
            if saves:
                datas.append(node.data)  # NOTE: the output last, where OUTPUT (-1) indexes it
                ctx.saved = cls._pick(datas)
        elif ctx.saved:
            saved = ctx.saved
            ctx.saved_from = sources = _sources(saved, datas, out)
            if node.data is not out:  # the node type converted the result: save what it holds
                ctx.saved = tuple([node.data if s is OUTPUT else x for x, s in zip(saved, sources)])
        if not scalar and ctx.saved:
            node._keep_saved(ctx)
        scope = _scope.get()
        if scope:
            ctx.scope = scope
        return node


def _check_broadcasts(cls: type[Function], datas: list, out: Any) -> None:
    """Raise unless ``out`` has the shape numpy's broadcasting gives the differentiated inputs:
    the compiled formula is an elementwise derivative, and the engine sums its gradient back over
    the broadcast axes, which is the gradient only of a forward that broadcasts as numpy does."""
    shapes = [np.shape(data) for data, text in zip(datas, cls.formula) if text]
    try:
        expected = np.broadcast_shapes(*shapes)
    except ValueError:
        expected = None
    if np.shape(out) != expected:
        raise ValueError(
            f"{cls.__name__}: forward returned shape {np.shape(out)} for inputs of shapes "
            f"{', '.join(map(str, shapes))}, which broadcast (as numpy does) to "
            f"{expected if expected is not None else 'nothing'}; a formula is compiled into a backward only "
            "for an elementwise op that broadcasts as numpy does. Write a backward(ctx, grad) for this op"
        )


def _sources(saved: tuple, datas: list, out: Any) -> tuple:
    """Where each item that forward saved came from: the index of the input it is (by
    identity), ``OUTPUT``, or None for neither.

    NOTE: one shared tuple per pattern ((0, 1), (OUTPUT,), ...): a new one per op would be one
    more object per node for the garbage collector to count. And this runs for every op that
    saves: the commonest patterns are answered before the loop."""
    n = len(saved)
    first = saved[0]
    if first is out:
        if n == 1:
            return _OUT
    elif first is datas[0]:
        if n == 1:
            return _FIRST
        if n == 2 and len(datas) > 1 and saved[1] is datas[1] and saved[1] is not out:
            return _FIRST_TWO
    sources = tuple([OUTPUT if item is out else _source(item, datas) for item in saved])
    return _PATTERNS.setdefault(sources, sources)


_OUT, _FIRST, _FIRST_TWO = (OUTPUT,), (0,), (0, 1)
_PATTERNS: dict[tuple, tuple] = {_OUT: _OUT, _FIRST: _FIRST, _FIRST_TWO: _FIRST_TWO}


def _picker(indices: tuple) -> Callable[[list], tuple]:
    """A function that picks ``indices`` of a list into a tuple (``operator.itemgetter`` returns
    a lone item bare)."""
    if len(indices) == 1:
        (index,) = indices
        return lambda items: (items[index],)
    return operator.itemgetter(*indices)


def _source(item: Any, datas: list) -> int | None:
    """Which input ``item`` is (by identity), or None if none is."""
    for i, data in enumerate(datas):
        if item is data:
            return i
    return None


def _distinct(parents: tuple, datas: list, kind: type[Node]) -> None:
    """Give forward a view or copy where two different nodes hold the very same data object
    (``Value(1.0) * Value(1.0)`` can share one float, ``x * x.detach()`` one array), so that
    what it saves traces back to one input."""
    for j in range(1, len(datas)):
        for i in range(j):
            if datas[i] is datas[j] and parents[i] is not parents[j]:
                datas[j] = kind._copy_data(datas[j])


def _register(fn: type[Function]) -> None:
    found = formula.FUNCTIONS.get(fn.name)
    owner = getattr(found, "__self__", found)  # the op whose apply it is, or a function of the language
    if owner is not None and (owner.__module__, owner.__qualname__) != (fn.__module__, fn.__qualname__):
        # Another op, or a function formulas call (sign, amax), has this name (a user's Softplus
        # next to the built-in one): both stay usable, and the newcomer is registered under its
        # full name, so that no formula calls it in the other's place.
        fn.name = f"{fn.__module__}.{fn.__qualname__}"
        if fn.__dict__.get("symbol") is None:
            fn.symbol = (
                getattr(owner, "symbol", fn.__name__.lower())
                if owner.__name__ == fn.__name__
                else fn.__name__.lower()
            )
    REGISTRY[fn.name] = fn
    formula.FUNCTIONS[fn.name] = fn.apply
