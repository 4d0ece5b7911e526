"""Stepping through backprop: the records a ``Backprop`` step returns, and their pictures.

A ``Step`` is what the engine did for one node, nothing re-enacted: the node's gradient
dL/d(node), and for each parent the local derivative (its formula from the op table, with the
operands' names) and the contribution added to the parent's gradient::

    dL/d(z) += dL/d(p) · σ(z)·(1 − σ(z)) = -3.4596 · 0.2055 = -0.71095   (z is done)
"""

from __future__ import annotations

import numbers
import tempfile
from pathlib import Path
from typing import Any

import numpy as np

from . import formula, numeric, show
from .engine import BackwardPass, Node, store_grads, walk

DONE, CURRENT, READY, PARTIAL = "#a5d6a7", "#ffd54f", "#e8f5e9", "#ffcdd2"
_INFIX = {"+", "-", "*", "/", "**", "@"}


class Backprop:
    """A backward pass to step through: ``step()`` processes one node (the engine's own step,
    exactly what ``backward()`` runs to the end) and returns a ``Step`` that shows the chain
    rule with its numbers; iterating steps to the end; ``draw()`` pictures the progress.

    Gradients land in ``.grad`` as in ``backward()``, interior Tensors' included (as with
    ``retain_grads=True``), so that every box of a picture shows its gradient.
    """

    def __init__(self, root: Node, grad: Any = None):
        self.root = root
        self._pass = BackwardPass(root, grad, deliver=store_grads(retain_grads=True))
        self.total = len(self._pass.waiting)
        self.done: list[Node] = []  # the nodes processed, in order
        self.finished: dict[Node, Any] = {}  # the final gradient of each node processed

    def step(self) -> Step:
        """Process the next node and return its ``Step``: the node's gradient, and what it
        sends to each parent, with the local derivative from the op table and the numbers."""
        state = self._pass
        if not state.ready:
            raise StopIteration("backprop is finished: every gradient is final")
        before = {parent: state.grads.get(parent) for parent in state.ready[-1].parents}  # step() takes it
        sent: list = []
        with numeric.quiet():
            node, grad = state.step(sent)
        self.done.append(node)
        self.finished[node] = grad
        return Step(self, node, grad, sent, before)

    def run(self) -> Backprop:
        """Process every remaining node (each step is recorded, as by ``step()``)."""
        while self._pass.ready:
            self.step()
        return self

    def __iter__(self):
        while self._pass.ready:
            yield self.step()

    @property
    def current(self) -> Node | None:
        """The node the last step processed (None before the first)."""
        return self.done[-1] if self.done else None

    @property
    def remaining(self) -> int:
        """How many nodes are still to be processed."""
        return self.total - len(self.done) if self._pass.ready else 0

    def draw(self, **options: Any):
        """The graph with processed nodes in green, the current one in amber, nodes whose
        gradient is final but not passed on yet pale green, and those whose gradient is still
        incomplete red (see ``tg.draw`` for the options)."""
        return draw_progress(self, **options)

    def frames(self, folder: Any, suffix: str = ".png") -> list:
        """Step to the end, writing a picture after every step; returns the paths."""
        return write_frames(self, folder, suffix)

    def gif(self, path: Any, seconds_per_step: float = 1.2):
        """Step to the end and write an animated GIF with one frame per step."""
        return write_gif(self, path, seconds_per_step)

    def __repr__(self) -> str:
        return describe(self)


class Step:
    """One node of a backward pass: its gradient and what it sent to each parent.

    Attributes
    ----------
    node : the node processed.
    grad : dL/d(node), final when the step runs.
    sent : one ``(parent, formula, local, contribution, total, final)`` tuple per parent that
        requires grad: the local derivative as text and (for scalars) its value, the amount
        added to the parent's gradient, the parent's gradient so far, and whether it is final.
    """

    def __init__(self, backprop: Backprop, node: Node, grad: Any, sent: list, before: dict):
        self.backprop = backprop
        self.index = len(backprop.done)
        self.node = node
        self.grad = grad
        names = _names(backprop)
        ctx = node._ctx
        locals_ = (
            _local_derivatives(node) if ctx is not None and not isinstance(node.data, np.ndarray) else None
        )
        self.sent = []
        waiting = backprop._pass.waiting
        parents = () if ctx is None else ctx.parents
        totals = dict(before)
        for i, parent in enumerate(parents):
            if parent is None or not parent.requires_grad:
                continue
            local = None if locals_ is None else locals_[i]
            if sent[i] is not None:  # the same sum, in the same order, as the engine's
                totals[parent] = sent[i] if totals[parent] is None else totals[parent] + sent[i]
            last = all(p is not parent for p in parents[i + 1 :])  # x·x sends to x twice
            final = last and waiting[parent] == 0
            text = derivative(node, i, names, factor=True)
            self.sent.append((parent, text, local, sent[i], totals[parent], final))

    def lines(self) -> list[str]:
        """The step as text: the node, then one chain-rule line per parent."""
        names = _names(self.backprop)
        node, ctx = self.node, self.node._ctx
        formula = _formula(node, names) if ctx is not None else ""
        what = names[node] if formula in ("", names[node]) else f"{names[node]} = {formula}"
        kind = "" if ctx is not None else ", an input"
        gradient = f"dL/d({names[node]}) = {_show(self.grad)}"
        out = [f"step {self.index} of {self.backprop.total}: {what}{kind}; {gradient}"]
        if ctx is None:
            out.append("  its gradient is final; an input passes nothing on")
        for parent, formula, local, contribution, total, final in self.sent:
            # a formula in terms of g (matmul's xᵀ·g) is the whole product already
            chain = formula if "dL/d(" in formula else f"dL/d({names[node]}) · {formula}"
            line = f"  dL/d({names[parent]}) += {chain}"
            if local is not None and contribution is not None:
                line += f" = {_show(self.grad)} · {_show(local)} = {_show(contribution)}"
            elif contribution is not None:
                line += f" = {_show(contribution)}"
            else:
                line += " (no gradient flows here)"
            status = f"done: dL/d({names[parent]}) = {_show(total)}" if final else "more to come"
            out.append(f"{line}   [{status}]")
        return out

    def __repr__(self) -> str:
        return "\n".join(self.lines())


def describe(backprop: Backprop) -> str:
    """The stepper at a glance: progress, and the node the last step processed."""
    names = _names(backprop)
    head = f"Backprop from {names[backprop.root]}: {len(backprop.done)} of {backprop.total} nodes done"
    if backprop.current is not None:
        head += f", last {names[backprop.current]}"
    return head + ("; finished" if not backprop.remaining else "; call .step() for the next")


def draw_progress(backprop: Backprop, **options: Any):
    """The graph with the stepper's progress: processed nodes green, the current one amber,
    nodes whose gradient is final but not yet passed on pale green, nodes still waiting for
    contributions red; boxes show the gradients as they stand."""
    from .viz import draw

    state = backprop._pass
    colors = {node: READY if state.waiting[node] == 0 else PARTIAL for node in state.grads}
    colors.update(dict.fromkeys(backprop.done, DONE))
    if backprop.current is not None:
        colors[backprop.current] = CURRENT
    shown = {node: None for node in walk(backprop.root)}
    shown.update(state.grads)
    shown.update(backprop.finished)
    return draw(backprop.root, highlight=colors, grads=shown, **options)


def write_frames(backprop: Backprop, folder: Any, suffix: str = ".png") -> list[Path]:
    """Step to the end, rendering the graph after each step into ``folder``."""
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    paths = []
    while backprop.remaining:
        backprop.step()
        paths.append(backprop.draw().render(folder / f"step_{len(backprop.done):03d}{suffix}"))
    return paths


def write_gif(backprop: Backprop, path: Any, seconds_per_step: float = 1.2) -> Path:
    """Step to the end and write an animated GIF, one frame per step (Pillow)."""
    with tempfile.TemporaryDirectory() as folder:
        return gif_from_frames(write_frames(backprop, folder), path, seconds_per_step)


def gif_from_frames(frames: list[Path], path: Any, seconds_per_step: float = 1.2) -> Path:
    """An animated GIF of the pictures ``frames``, centred on a canvas of the largest size."""
    from PIL import Image

    images = [Image.open(p).convert("RGB") for p in frames]
    if not images:
        raise ValueError("gif: there are no steps left to show")
    width, height = max(i.width for i in images), max(i.height for i in images)
    frames = []
    for image in images:
        canvas = Image.new("RGB", (width, height), "white")
        canvas.paste(image, ((width - image.width) // 2, (height - image.height) // 2))
        frames.append(canvas)
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    frames[0].save(
        path, save_all=True, append_images=frames[1:], duration=int(seconds_per_step * 1000), loop=0
    )
    return path


def derivative(node: Node, i: int, names: dict[Node, str], factor: bool = False) -> str:
    """The local derivative of ``node`` with respect to input ``i`` of the op that made it, for
    people: the op's formula in the names shown for its operands (``g`` as dL/d(node)), with the
    numbers its context holds put in (``x**2`` shows 2·x, not n·x^(n−1))."""
    ctx = node._ctx
    fn = ctx.fn
    text = fn.formula[i] if fn.formula else ""
    if not text:
        return f"∂{fn.symbol}/∂{names.get(ctx[i], fn.inputs[i])}"  # an op that gives no formula
    shown = {name: names[p] for name, p in zip(fn.inputs, ctx) if p is not None}
    shown.update(out=names[node], g=f"dL/d({names[node]})")
    constants = {
        k: v for k, v in vars(ctx).items() if isinstance(v, numbers.Real) and not isinstance(v, bool)
    }
    return formula.render(text, shown, constants, factor)


def _local_derivatives(node: Node) -> tuple:
    """∂(node)/∂(input) for a scalar op: its backward with an upstream gradient of 1."""
    local = node._ctx.fn.backward(node._ctx, 1.0)
    return local if isinstance(local, tuple) else (local,)


def _names(backprop: Backprop) -> dict[Node, str]:
    cached = getattr(backprop, "_names", None)
    if cached is None:
        cached = backprop._names = names(backprop.root)
    return cached


def names(root: Node) -> dict[Node, str]:
    """A readable name for every node: its label, else the formula that made it from named
    nodes (``w*x``), else a short number; unnamed scalar inputs are their value."""
    result: dict[Node, str] = {}
    for count, node in enumerate(walk(root)):
        if node.label:
            name = node.label
        elif node._ctx is None:  # an unnamed input: a number mixed into the arithmetic, say
            name = _show(node.data) if np.size(node.data) == 1 else f"v{count}"
        else:
            name = _formula(node, result)
            if len(name) > 18:
                name = f"v{count}"
        result[node] = name
    if not root.label and root._ctx is not None:
        result[root] = "L"
    return result


def _formula(node: Node, names: dict[Node, str]) -> str:
    operands = [names.get(p, "?") for p in node._ctx.parents if p is not None]
    op = node.op
    if node._ctx.fn.symbol in _INFIX and len(operands) == 2:
        space = " " if op in ("+", "-", "@") else ""
        return f"{operands[0]}{space}{op}{space}{operands[1]}"
    if op.startswith("**") and len(operands) == 1:
        return f"{operands[0]}{op}"
    if op == "-" and len(operands) == 1:
        return f"-{operands[0]}"
    return f"{op}({', '.join(operands)})"


def _show(value: Any) -> str:
    if value is None:
        return "0"
    if isinstance(value, Node):
        value = value.data
    if isinstance(value, np.ndarray) and value.ndim > 0:
        if value.size <= 6:
            return np.array2string(value, precision=4, separator=", ").replace("\n", "")
        return f"{value.shape} array, mean {show.number(float(value.mean()), 4)}"
    return show.number(float(value), 5)
