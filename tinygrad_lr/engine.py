"""The graph core shared by Value and Tensor: grad mode, graph order and backpropagation.

Nothing here knows any op by name: a node holds the ``Function`` that made it, its parents and
what forward saved; backpropagation calls the function's ``backward`` and adds what comes back
into the parents. All traversal is iterative, so a million-node chain backprops.
"""

from __future__ import annotations

import threading
from collections.abc import Sequence
from typing import Any


class _GradMode(threading.local):
    enabled = True
    scope: tuple[str, ...] = ()  # names of the nn.Module calls under way, outermost first


_mode = _GradMode()


def grad_enabled() -> bool:
    """Whether ops record the graph (False inside ``no_grad``)."""
    return _mode.enabled


class no_grad:
    """Context manager (and decorator) under which ops record nothing.

    Results are plain leaves with ``requires_grad=False``: use it for evaluation, metrics and
    parameter updates.
    """

    def __new__(cls, func=None):
        self = super().__new__(cls)
        return self(func) if callable(func) else self  # @no_grad as well as @no_grad()

    def __init__(self, func=None) -> None:
        pass

    def __enter__(self) -> None:
        self._previous = _mode.enabled
        _mode.enabled = False

    def __exit__(self, *exc: object) -> None:
        _mode.enabled = self._previous

    def __call__(self, func):
        import functools

        @functools.wraps(func)
        def wrapper(*args, **kwargs):
            with no_grad():
                return func(*args, **kwargs)

        return wrapper


class Node:
    """A vertex of the computation graph: its data, its gradient, and how it was made.

    A node made by an op keeps the op (``_fn``), its inputs (``_parents``, aligned with the
    op's forward arguments, None for constant arguments), what forward saved (``_saved``) and,
    only if forward set attributes on its ctx, that ctx (``_ctx``). Keeping this on the node,
    rather than in a context object per op, halves the objects the garbage collector has to
    scan in a large graph.

    Subclasses (Value, Tensor) say how data is stored and how a gradient is shaped, through
    the hooks at the end of this class; everything about graph order and backprop lives here.
    """

    __slots__ = ("_ctx", "_fn", "_parents", "_saved", "_scope", "data", "grad", "label", "requires_grad")

    # --- graph structure -------------------------------------------------------------------

    @property
    def parents(self) -> tuple[Node, ...]:
        """The nodes this one was computed from (empty for a leaf)."""
        return tuple(p for p in self._parents if p is not None)

    @property
    def op(self) -> str:
        """Symbol of the op that made this node ('' for a leaf)."""
        return "" if self._fn is None else self._fn.describe(BackwardContext(self))

    @property
    def is_leaf(self) -> bool:
        return self._fn is None

    # --- autodiff --------------------------------------------------------------------------

    def backward(self, grad: Any = None, *, retain_grads: bool = False) -> None:
        """Backpropagate from this node, filling ``.grad`` of the nodes that require grad.

        Leaves accumulate across calls (as in PyTorch); other nodes keep the gradient of the
        latest pass: every Value does, a Tensor only with ``retain_grads=True`` (to look at
        or draw them), so that large activations' gradients can be freed. ``grad`` is the
        upstream gradient dL/dself (default 1 for a scalar).
        """
        Backprop(self, grad, retain_grads=retain_grads, record=False).run()

    def backward_steps(self, grad: Any = None) -> Backprop:
        """A stepper over this node's backward pass: ``.step()`` one node at a time, with the
        chain rule and its numbers; it is exactly what ``backward()`` runs to the end."""
        return Backprop(self, grad, retain_grads=True)

    def draw(self, **options: Any):
        """The picture of the graph that computed this node: see ``tg.draw`` for the options."""
        from .viz import draw

        return draw(self, **options)

    # --- hooks for node types --------------------------------------------------------------

    _keeps_grad = True  # whether non-leaf nodes keep .grad after backward
    _scalar = True  # whether data is a single number (ops marked tensor_only refuse it)

    # Brings an incoming gradient to the node's shape (a Tensor sums out broadcast axes);
    # None where gradients always arrive in the right shape (Value).
    _reduce_grad: Any = None

    # What a node of this type holds: data of type _data_type (anything else goes through
    # _to_data) and, before any backward pass, the gradient _empty_grad.
    _data_type: type = object
    _empty_grad: Any = None

    @staticmethod
    def _to_data(data: Any) -> Any:
        return data

    @classmethod
    def _from_op(cls, data: Any, fn: Any = None, parents: tuple = (), saved: tuple = (), ctx: Any = None):
        """Wrap the raw result of an op (``fn`` None: a leaf, nothing recorded)."""
        node = object.__new__(cls)
        node.data = data if type(data) is cls._data_type else cls._to_data(data)
        node.grad = cls._empty_grad
        node.label = ""
        node.requires_grad = fn is not None
        node._fn = fn
        node._parents = parents
        node._saved = saved
        node._ctx = ctx
        return node

    @staticmethod
    def _copy_data(data: Any) -> Any:
        """An equal data object that is not ``data`` itself."""
        raise NotImplementedError

    def _seed(self, grad: Any) -> Any:
        """The upstream gradient to start backprop with, checked against this node."""
        raise NotImplementedError

    def _zero_grad_data(self) -> Any:
        raise NotImplementedError

    def _accumulate(self, grad: Any) -> None:
        """Add a finished gradient into ``.grad`` of a leaf."""
        self.grad = self._as_grad(self.grad + grad)

    @staticmethod
    def _as_grad(grad: Any) -> Any:
        """A gradient in the form ``.grad`` holds (a Value's is a Python float)."""
        return grad


class BackwardContext:
    """The ``ctx`` that an op's backward receives: what forward saved, ``needs_input_grad``,
    and the attributes forward set on its ctx.

    Under ``create_graph=True``, ``saved_tensors`` gives the graph nodes of the saved inputs
    and output instead of their raw data, so the backward formula is recorded as a graph.
    """

    __slots__ = ("_create_graph", "_node")

    def __init__(self, node: Node, create_graph: bool = False):
        self._node = node
        self._create_graph = create_graph

    @property
    def saved_tensors(self) -> tuple:
        return saved_nodes(self._node) if self._create_graph else self._node._saved

    @property
    def needs_input_grad(self) -> tuple[bool, ...]:
        """For each input of the op, whether backward must compute its gradient."""
        return tuple([p is not None and p.requires_grad for p in self._node._parents])

    def __getattr__(self, name: str) -> Any:
        ctx = self._node._ctx
        if ctx is not None and name in ctx.__dict__:
            return ctx.__dict__[name]
        fn = self._node._fn.__name__
        raise AttributeError(f"{fn}: ctx has no attribute {name!r}; set it in forward (ctx.{name} = ...)")


def saved_nodes(node: Node) -> tuple:
    """``saved_tensors`` of the op that made ``node``, with every input and the output replaced
    by its graph node (what backward sees under ``create_graph=True``); constant arguments
    stay raw data."""
    datas = None if node._ctx is None else node._ctx._datas
    nodes = []
    for k, item in enumerate(node._saved):
        if item is node.data:
            nodes.append(node)
            continue
        for i, parent in enumerate(node._parents):
            if item is (parent.data if datas is None else datas[i]):
                nodes.append(item if parent is None else parent)
                break
        else:
            raise ValueError(
                f"{node._fn.__name__}: save_for_backward item {k} ({type(item).__name__}) is "
                "neither an input nor the output of forward (or its .data was replaced since), so "
                "a higher-order gradient cannot be built from it. Save only inputs and the output, "
                "and keep other values as ctx attributes, e.g. ctx.mask = x > 0."
            )
    return tuple(nodes)


def walk(root: Node) -> list[Node]:
    """Every node reachable from ``root`` (constants included), inputs before the nodes made
    from them; for printing and drawing a graph."""
    order, seen, stack = [], set(), [(root, False)]
    while stack:
        node, expanded = stack.pop()
        if expanded:
            order.append(node)
        elif node not in seen:
            seen.add(node)
            stack.append((node, True))
            stack.extend((parent, False) for parent in reversed(node.parents) if parent not in seen)
    return order


def graph_order(root: Node) -> tuple[list[Node], dict[Node, int]]:
    """Every node that requires grad and is reachable from ``root``, and for each its number of
    consumers inside that graph (how many contributions its gradient will receive)."""
    consumers = {root: 0}
    stack = [root]
    while stack:
        for parent in stack.pop()._parents:
            if parent is None or not parent.requires_grad:
                continue
            if parent in consumers:
                consumers[parent] += 1
            else:
                consumers[parent] = 1
                stack.append(parent)
    return list(consumers), consumers


class Backprop:
    """One backward pass, node by node, in the order the gradients become final: the engine
    and the stepper in one.

    A node is processed once every consumer has sent its contribution: its gradient is then
    complete, and its op's backward turns it into contributions for its parents.
    ``backward()`` is ``Backprop(root).run()``. At a REPL, ``step()`` processes one node and
    returns a ``Step`` that shows the chain rule with its numbers; iterating steps to the end;
    ``draw()`` pictures the progress.

    Parameters
    ----------
    root : the node to differentiate.
    grad : upstream gradient dL/droot (default: 1 for a scalar root).
    create_graph : run backward formulas on graph nodes so the gradients are differentiable.
    write : store gradients in ``.grad`` (``backward``), or else only collect those of the
        ``wanted`` nodes in ``results`` (``grad``).
    retain_grads : with ``write``, store ``.grad`` on interior Tensors too.
    record : keep which nodes were processed and their gradients, for ``draw`` (off in
        ``backward()`` and ``grad()``, which need no record).
    """

    def __init__(
        self,
        root: Node,
        grad: Any = None,
        *,
        create_graph: bool = False,
        write: bool = True,
        wanted: Sequence[Node] = (),
        retain_grads: bool = False,
        record: bool = True,
    ):
        if not root.requires_grad:
            raise RuntimeError(
                f"backward: {root!r} does not require grad (it was computed from constants or "
                "under no_grad), so there is nothing to differentiate"
            )
        seed = root._seed(grad)
        if create_graph and not isinstance(seed, Node):
            seed = type(root)._from_op(seed)
        self.root = root
        self.create_graph = create_graph
        self.write = write
        self.retain_grads = retain_grads
        self.record = record
        nodes, self._waiting = graph_order(root)
        self._waiting[root] = 0
        self._grads: dict[Node, Any] = {root: seed}
        self._ready = [root]
        self._wanted = set(wanted)
        self.results: dict[Node, Any] = {}
        self.done: list[Node] = []  # kept unless record=False (backward() and grad() keep none)
        self.finished: dict[Node, Any] = {}  # the final gradient of each node step() processed
        self.total = len(nodes)

    def run(self) -> Backprop:
        """Process every remaining node."""
        ready, process, record = self._ready, self._process, self.record
        while ready:
            process(ready.pop(), record)
        return self

    def step(self):
        """Process the next node and return its ``Step``: the node's gradient, and what it
        sends to each parent, with the local derivative from the op table and the numbers."""
        if not self._ready:
            raise StopIteration("backprop is finished: every gradient is final")
        return self._process(self._ready.pop(), record=True)

    def __iter__(self):
        while self._ready:
            yield self.step()

    @property
    def current(self) -> Node | None:
        """The node the last step processed (None before the first)."""
        return self.done[-1] if self.done else None

    @property
    def remaining(self) -> int:
        """How many nodes are still to be processed."""
        return self.total - len(self.done) if self._ready else 0

    def draw(self, **options: Any):
        """The graph with processed nodes in green, the current one in amber, nodes whose
        gradient is final but not passed on yet pale green, and those whose gradient is still
        incomplete red (see ``tg.draw`` for the options)."""
        from .step import draw_progress

        return draw_progress(self, **options)

    def frames(self, folder: Any, suffix: str = ".png") -> list:
        """Step to the end, writing a picture after every step; returns the paths."""
        from .step import write_frames

        return write_frames(self, folder, suffix)

    def gif(self, path: Any, seconds_per_step: float = 1.2):
        """Step to the end and write an animated GIF with one frame per step."""
        from .step import write_gif

        return write_gif(self, path, seconds_per_step)

    def __repr__(self) -> str:
        from .step import describe

        return describe(self)

    def _process(self, node: Node, record: bool = False):
        grads, waiting, ready = self._grads, self._waiting, self._ready
        grad = grads.pop(node, None)
        fn = node._fn
        if self.write:
            if fn is None:
                if grad is not None:
                    node._accumulate(grad)
            elif node._keeps_grad or self.retain_grads:
                node.grad = node._zero_grad_data() if grad is None else node._as_grad(_data(grad))
        elif node in self._wanted:
            self.results[node] = grad
        sent = [] if record else None
        parents = () if fn is None else node._parents
        contributions = None
        if grad is not None and fn is not None:
            ctx = node._ctx
            if ctx is None or self.create_graph:
                ctx = BackwardContext(node, self.create_graph)
            contributions = fn.backward(ctx, grad)
            if type(contributions) is not tuple:
                contributions = tuple(contributions) if type(contributions) is list else (contributions,)
            if len(contributions) != len(parents):
                raise TypeError(
                    f"{fn.__name__}.backward returned {len(contributions)} gradients for "
                    f"{len(parents)} inputs; return one per input of forward (None for none)"
                )
        for i, parent in enumerate(parents):
            if parent is None or not parent.requires_grad:
                continue
            g = None
            if contributions is not None and (g := contributions[i]) is not None:
                reduce = type(parent)._reduce_grad
                if reduce is not None:
                    g = reduce(parent, g)
                old = grads.get(parent)
                grads[parent] = g if old is None else old + g
            left = waiting[parent] - 1
            waiting[parent] = left
            if not left:
                ready.append(parent)
            if record:
                sent.append((i, parent, g, grads.get(parent), not left))
        if not record:
            return node
        from .step import Step

        self.done.append(node)
        self.finished[node] = grad
        return Step(self, node, grad, sent)


def _data(grad: Any) -> Any:
    return grad.data if isinstance(grad, Node) else grad


def grad(
    output: Node,
    inputs: Node | Sequence[Node],
    grad_output: Any = None,
    create_graph: bool = False,
) -> tuple[Node, ...]:
    """Gradients of ``output`` with respect to ``inputs``, without touching any ``.grad``.

    Like ``torch.autograd.grad``: returns a tuple with one node per input. With
    ``create_graph=True`` those nodes are part of a graph themselves, so they can be
    differentiated again (second derivatives, Hessian-vector products, Newton's method).
    An input that ``output`` does not depend on gets a zero gradient (also when ``output`` is a
    constant, as the derivative of a linear function is).
    """
    if isinstance(inputs, Node):
        inputs = (inputs,)
    for i, node in enumerate(inputs):
        if not isinstance(node, Node):
            raise TypeError(f"grad: inputs[{i}] is a {type(node).__name__}, not a Value or Tensor")
        if not node.requires_grad:
            raise ValueError(
                f"grad: inputs[{i}] does not require grad, so nothing is recorded for it; "
                "create it with requires_grad=True (e.g. tg.Tensor(data, requires_grad=True))"
            )
    found = {}
    if output.requires_grad:  # else nothing depends on a variable: every gradient is zero
        backprop = Backprop(
            output, grad_output, create_graph=create_graph, write=False, wanted=inputs, record=False
        )
        found = backprop.run().results
    results = []
    for node in inputs:
        g = found.get(node)
        if g is None:
            g = node._zero_grad_data()
        if not isinstance(g, Node):
            g = type(node)._from_op(g)
        results.append(g)
    return tuple(results)
