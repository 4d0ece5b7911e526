"""The graph core shared by Value and Tensor: grad mode, graph order and the backward pass.

Nothing here knows an op by name or how anything is shown. A node made by an op holds that
op's context (``ctx``: the op, its inputs, what forward saved). The backward pass takes the
nodes one at a time, each once its gradient is complete: it calls the op's backward with that
gradient and adds what comes back into the parents' gradients. All traversal is iterative, so a
million-node chain backprops.
"""

from __future__ import annotations

import contextvars
import functools
import inspect
from collections.abc import Callable, Iterable
from typing import Any

from . import numeric

_recording = contextvars.ContextVar("tinygrad_lr.recording", default=True)
_outer = contextvars.ContextVar("tinygrad_lr.outer", default=())  # (mode before no_grad, outer ones)
_scope = contextvars.ContextVar("tinygrad_lr.scope", default=())  # the nn.Module calls under way


def grad_enabled() -> bool:
    """Whether ops record the graph (False inside ``no_grad``)."""
    return _recording.get()


class no_grad:
    """Context manager and decorator under which ops record nothing (``torch.no_grad``).

    Results are plain leaves with ``requires_grad=False``: use it for evaluation, metrics and
    parameter updates. ``with tg.no_grad():``, ``@tg.no_grad`` and ``@tg.no_grad()`` all work,
    on functions, generator functions (every step of the generator runs without recording),
    ``async`` functions and async generator functions (where ``torch.no_grad`` leaves the body
    recording). Grad mode belongs to the thread, or to the asyncio task.
    """

    def __new__(cls, func: Callable | None = None):
        self = super().__new__(cls)
        return self(func) if callable(func) else self

    def __init__(self, func: Callable | None = None) -> None:
        pass

    # The mode to restore is kept in the context, not in the object: one object may be entered
    # by several threads or tasks at once, and again inside itself.
    def __enter__(self) -> None:
        _outer.set((_recording.get(), _outer.get()))
        _recording.set(False)

    def __exit__(self, *exc: object) -> None:
        outer = _outer.get()
        if not outer:
            raise RuntimeError("no_grad: left in another thread or asyncio task than the one that entered it")
        mode, rest = outer
        _outer.set(rest)
        _recording.set(mode)

    def __call__(self, func: Callable) -> Callable:
        if inspect.isgeneratorfunction(func):

            @functools.wraps(func)
            def generator(*args, **kwargs):
                inner = func(*args, **kwargs)
                resume, value = inner.send, None
                while True:  # each resumption of the body runs without recording
                    try:
                        with no_grad():
                            reply = resume(value)
                    except StopIteration as stop:
                        return stop.value
                    try:
                        value = yield reply
                    except GeneratorExit:
                        inner.close()
                        raise
                    except BaseException as error:
                        resume, value = inner.throw, error
                    else:
                        resume = inner.send

            return generator
        if inspect.isasyncgenfunction(func):  # as a generator, awaiting each resumption

            @functools.wraps(func)
            async def async_generator(*args, **kwargs):
                inner = func(*args, **kwargs)
                resume, value = inner.asend, None
                while True:
                    try:
                        with no_grad():
                            reply = await resume(value)
                    except StopAsyncIteration:
                        return
                    try:
                        value = yield reply
                    except GeneratorExit:
                        await inner.aclose()
                        raise
                    except BaseException as error:
                        resume, value = inner.athrow, error
                    else:
                        resume = inner.asend

            return async_generator
        if inspect.iscoroutinefunction(func):

            @functools.wraps(func)
            async def coroutine(*args, **kwargs):
                with no_grad():
                    return await func(*args, **kwargs)

            return coroutine

        @functools.wraps(func)
        def function(*args, **kwargs):
            with no_grad():
                return func(*args, **kwargs)

        return function


class Node:
    """A vertex of the computation graph: its data, its gradient, and the context of the op
    that made it (``None`` for a leaf).

    Subclasses (Value, Tensor) say how data is stored and how a gradient fits the node, through
    the class attributes and defaults at the end of this class and these methods; graph order
    and backprop live here.

    - ``_seed(grad)``: the upstream gradient to start backprop with, checked against this node.
    - ``_fit_grad(grad, out)``: a gradient that the op which made ``out`` sent to this node,
      brought to this node's shape; raises ``InvalidGradient`` for one that cannot be this node's.
    - ``_zero_grad_data()``: a zero gradient for this node.
    - ``_copy_data(data)``: new data equal to ``data`` (a view of an array), for two nodes that
      must not share one data object.
    - ``_keep_saved(ctx)``: record the version of each tensor ``ctx`` saved, to check in
      backward, and copy what no version counts (a plain array).
    - ``_counting_changes(inputs)``: a context in which a user's forward runs; it counts the
      in-place changes that forward makes to the inputs' data.
    - ``_holds(data)``: whether this node's data is still what an op saved as ``data`` in forward.
    """

    __slots__ = ("_ctx", "data", "grad", "label", "requires_grad")

    def __init__(self, data: Any, label: str, requires_grad: bool, ctx: Any = None) -> None:
        """Set up a node holding ``data`` (already of the node type's form)."""
        self.data = data
        self.grad = self._empty_grad
        self.label = label
        self.requires_grad = requires_grad
        self._ctx = ctx

    @property
    def parents(self) -> tuple[Node, ...]:
        """The nodes this one was computed from (empty for a leaf)."""
        return () if self._ctx is None else tuple(p for p in self._ctx if p is not None)

    @property
    def op(self) -> str:
        """Symbol of the op that made this node ('' for a leaf)."""
        return "" if self._ctx is None else self._ctx.fn.describe(self._ctx)

    @property
    def is_leaf(self) -> bool:
        return self._ctx is None

    def backward(self, grad: Any = None, *, retain_grads: bool = False) -> None:
        """Backpropagate from this node, filling ``.grad`` of the nodes that require grad.

        Leaves accumulate across calls (as in PyTorch); other nodes keep the gradient of the
        latest pass: every Value does, a Tensor only with ``retain_grads=True`` (to look at
        or draw them), so that large activations' gradients can be freed. ``grad`` is the
        upstream gradient dL/dself (default 1 for a scalar).
        """
        BackwardPass(self, grad, retain_grads=retain_grads).run()

    # --- hooks for node types (and the methods listed above) --------------------------------

    _keeps_grad = True  # whether non-leaf nodes keep .grad after backward
    _scalar = True  # whether data is a single number (ops marked tensor_only refuse it)
    _grad_type: type = float  # gradients of this exact type need no _fit_grad
    _data_type: type = object  # data of this exact type needs no _to_data
    _empty_grad: Any = None  # .grad before any backward pass

    @staticmethod
    def _to_data(data: Any) -> Any:
        return data

    @classmethod
    def _from_op(cls, data: Any, ctx: Any = None, inputs: tuple = ()):
        """Wrap the raw result of an op: a recorded node when ``ctx`` is given, else a leaf."""
        if type(data) is not cls._data_type:
            data = cls._to_data(data)
        node = object.__new__(cls)  # NOTE: Node.__init__, inlined: this runs for every op
        node.data = data
        node.grad = cls._empty_grad
        node.label = ""
        node.requires_grad = ctx is not None
        node._ctx = ctx
        return node

    def _accumulate(self, grad: Any) -> None:
        """Add a finished gradient into ``.grad`` of a leaf."""
        self.grad = self._as_grad(self.grad + grad)

    @staticmethod
    def _as_grad(grad: Any) -> Any:
        """A gradient in the form ``.grad`` holds (a Value's is a Python float)."""
        return grad


class InvalidGradient(ValueError):
    """An op's backward returned something that cannot be the gradient of its input."""


def consumers(root: Node) -> dict[Node, int]:
    """Every node that requires grad and is reachable from ``root``, with its number of
    consumers inside that graph: how many contributions its gradient will receive."""
    counts = {root: 0}
    found = [root]
    for node in found:  # the list grows while it is read: each node found is visited once
        inputs = node._ctx  # the context of an op is the list of its input nodes
        if inputs is None:
            continue
        for parent in inputs:
            if parent in counts:
                counts[parent] += 1
            elif parent is not None and parent.requires_grad:
                counts[parent] = 1
                found.append(parent)
    return counts


_CYCLE = (
    "the graph has a cycle, so some gradients never arrive: a tensor was changed in place (x += y) "
    "by a y computed from x before an earlier change of x; write x = x + y for a new tensor"
)


def walk(root: Node) -> list[Node]:
    """Every node reachable from ``root`` (constants included), inputs before the nodes made
    from them; for printing and drawing a graph."""
    order, seen, done, stack = [], set(), set(), [(root, False)]
    while stack:
        node, expanded = stack.pop()
        if expanded:
            order.append(node)
            done.add(node)
        elif node not in seen:
            seen.add(node)
            stack.append((node, True))
            for parent in reversed(node.parents):
                if parent not in seen:
                    stack.append((parent, False))
                elif parent not in done:  # seen, not done: a node on the path to this one
                    raise RuntimeError(f"cannot walk the graph: {_CYCLE}")
    return order


class BackwardPass:
    """One backward pass from ``root``, a node at a time.

    ``step()`` takes a node whose gradient is complete (every consumer has sent its share),
    hands that gradient to ``deliver(node, grad)``, calls the backward of the op that made the
    node, and adds each returned gradient into the parent's. ``backward()`` is ``run()``: steps
    until nothing is ``ready``; the stepper (``tg.Backprop``) calls the same ``step()`` one node
    at a time.

    Parameters
    ----------
    root : the node to differentiate.
    grad : upstream gradient dL/droot (default: 1 for a scalar root); a node or raw data.
    create_graph : run backward formulas on graph nodes, so the gradients are differentiable.
    deliver : what to do with each node's final gradient (default: ``store_grads(retain_grads)``,
        which writes ``.grad``).
    """

    def __init__(
        self,
        root: Node,
        grad: Any = None,
        *,
        create_graph: bool = False,
        deliver: Callable[[Node, Any], None] | None = None,
        retain_grads: bool = False,
    ):
        if not isinstance(root, Node):
            raise TypeError(f"backward: expected a Value or Tensor, got {type(root).__name__}")
        if not root.requires_grad:
            raise RuntimeError(
                f"backward: {root!r} does not require grad (it was computed from constants or "
                "under no_grad), so there is nothing to differentiate"
            )
        if isinstance(grad, Node) and not create_graph:
            grad = grad.data
        seed = root._seed(grad)
        if create_graph and not isinstance(seed, Node):
            seed = type(root)._from_op(seed)
        self.root = root
        self.create_graph = create_graph
        self.deliver = deliver or store_grads(retain_grads)
        # Every node of the graph has the root's type (an op refuses to mix types). Where its
        # non-leaf nodes keep .grad and deliver is store_grads, step() writes them itself.
        self.grad_type = type(root)._grad_type
        self.writes = deliver is None and type(root)._keeps_grad
        self.waiting = consumers(root)  # contributions each node still waits for
        self.grads: dict[Node, Any] = {root: seed}  # gradients received so far
        self.ready = [root]  # nodes whose gradient is complete, not yet processed

    def run(self) -> None:
        """Step until every gradient is delivered."""
        with numeric.quiet():  # IEEE results, no warnings: inf·0 in a backward formula is nan
            if self.ready:
                self.step(to_end=True)
        self.check_finished()

    def check_finished(self) -> None:
        """Raise if nothing is ready but gradients wait undelivered: a node waits for one from a
        node that waits for it (a cycle, which only an in-place change can make)."""
        if self.grads:
            raise RuntimeError(f"backward: {_CYCLE}")

    def step(self, sent: list | None = None, *, to_end: bool = False) -> tuple[Node, Any]:
        """Process the next ready node; return it and its final gradient (None if nothing
        reached it). With a list ``sent``, append to it, per input of the node's op, the
        gradient added to that input's (None for none). With ``to_end``, go on with the next
        ready node until none is (``run()``), and return the last one's."""
        grads, waiting, ready, deliver = self.grads, self.waiting, self.ready, self.deliver
        writes, grad_type, on_graph = self.writes, self.grad_type, self.create_graph
        while True:
            node = ready.pop()
            grad = grads.pop(node, None)
            ctx = node._ctx
            if writes and ctx is not None and type(grad) is grad_type:
                node.grad = grad  # NOTE: store_grads' commonest case, inlined: this runs per node
            else:
                deliver(node, grad)
            if ctx is None:
                if to_end and ready:
                    continue
                return node, grad
            if grad is None:  # nothing reached this node: its inputs get nothing from it
                contributions = (None,) * len(ctx)
            else:
                contributions = ctx.fn.backward(ctx.on_graph(node) if on_graph else ctx, grad)
                if type(contributions) is not tuple:
                    contributions = tuple(contributions) if type(contributions) is list else (contributions,)
                if len(contributions) != len(ctx):
                    raise TypeError(
                        f"{ctx.fn.__name__}.backward returned {len(contributions)} gradients for "
                        f"{len(ctx)} inputs; return one per input of forward (None for none)"
                    )
            if sent is not None:
                sent.extend([None] * len(ctx))
            i = -1  # NOTE: counted here, as enumerate's (i, parent) tuples cost more per input
            for parent in ctx:  # the context is the list of the op's input nodes
                i += 1
                if parent is None or not parent.requires_grad:
                    continue
                g = contributions[i]
                if g is not None:
                    if type(g) is not grad_type:
                        try:
                            g = parent._fit_grad(g, node)
                        except InvalidGradient as error:
                            raise InvalidGradient(
                                f"{ctx.fn.__name__}.backward returned an invalid gradient for input {i} "
                                f"({ctx.fn.inputs[i]}): {error}"
                            ) from None
                    if parent in grads:
                        grads[parent] = grads[parent] + g
                    else:
                        grads[parent] = g
                    if sent is not None:
                        sent[i] = g
                left = waiting[parent] - 1
                waiting[parent] = left
                if not left:
                    ready.append(parent)
            if not (to_end and ready):
                return node, grad


def store_grads(retain_grads: bool = False) -> Callable[[Node, Any], None]:
    """How ``backward()`` delivers gradients: leaves accumulate into ``.grad``; other nodes keep
    the latest gradient if their type keeps one (Values) or ``retain_grads`` asks (Tensors)."""

    def deliver(node: Node, grad: Any) -> None:
        if node._ctx is None:
            if grad is not None:
                node._accumulate(grad)
        elif node._keeps_grad or retain_grads:
            if type(grad) is node._grad_type:  # already in the form .grad holds
                node.grad = grad
            elif grad is None:
                node.grad = node._zero_grad_data()
            else:
                node.grad = node._as_grad(grad.data if isinstance(grad, Node) else grad)

    return deliver


def zero_grad(nodes: Iterable[Node]) -> None:
    """Forget the gradients of ``nodes``: ``.grad`` as before any backward pass (a Value's 0.0,
    a Tensor's None), so that the next pass does not add to the last one's."""
    for node in nodes:
        node.grad = node._empty_grad


def grad(
    output: Node | Iterable[Node],
    inputs: Node | Iterable[Node],
    grad_output: Any = None,
    create_graph: bool = False,
) -> tuple[Node, ...]:
    """Gradients of ``output`` with respect to ``inputs``, without touching any ``.grad``.

    Like ``torch.autograd.grad``: returns a tuple with one node per input. ``output`` may be a
    sequence of outputs, with ``grad_output`` a matching sequence (None entries for scalar
    outputs): the result is then the sum of their gradients. With ``create_graph=True`` the
    gradients are part of a graph themselves, so they can be differentiated again (second
    derivatives, Hessian-vector products, Newton's method). An input that no output depends on
    gets a zero gradient (also when the outputs are constants, as a linear function's is).
    """
    if isinstance(output, Node):
        outputs, seeds = (output,), (grad_output,)
    else:
        outputs = tuple(output)  # read a generator once
        seeds = (None,) * len(outputs) if grad_output is None else tuple(grad_output)
        if len(seeds) != len(outputs):
            raise ValueError(
                f"grad: {len(outputs)} outputs but {len(seeds)} grad_output entries; give one per output "
                "(None for a scalar output)"
            )
    for i, node in enumerate(outputs):
        if not isinstance(node, Node):
            raise TypeError(f"grad: outputs[{i}] is a {type(node).__name__}, not a Value or Tensor")
    inputs = (inputs,) if isinstance(inputs, Node) else tuple(inputs)  # read a generator once
    for i, node in enumerate(inputs):
        if not isinstance(node, Node):
            raise TypeError(f"grad: inputs[{i}] is a {type(node).__name__}, not a Value or Tensor")
        if not node.requires_grad:
            raise ValueError(
                f"grad: inputs[{i}] does not require grad, so nothing is recorded for it; "
                "create it with requires_grad=True (e.g. tg.Tensor(data, requires_grad=True))"
            )
    found: dict[Node, Any] = {}
    wanted = set(inputs)

    def collect(node: Node, gradient: Any) -> None:
        if node in wanted and gradient is not None:
            old = found.get(node)
            found[node] = gradient if old is None else old + gradient

    for out, seed in zip(outputs, seeds):  # the gradient of a sum of outputs: one pass each
        if out.requires_grad:  # else nothing depends on a variable: its gradient is zero
            BackwardPass(out, seed, create_graph=create_graph, deliver=collect).run()
    results = []
    for node in inputs:
        g = found.get(node)
        if g is None:
            g = node._zero_grad_data()
        if not isinstance(g, Node):
            g = type(node)._from_op(g)
        results.append(g)
    return tuple(results)
