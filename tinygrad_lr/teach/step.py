"""Stepping through backprop: ``Backprop``, the records its steps return, and their pictures.

A ``Step`` is what the engine did for one node, nothing re-enacted: ``Backprop.step`` calls the
engine's own ``BackwardPass.step``, which ``backward()`` runs to the end. The step shows the
node's gradient, and for each parent the chain rule: the local derivative (the op's formula, in
the operands' names, checked against backward by the tests) and the contribution added::

    dL/dz += dL/dp · p·(1 − p) = -3.4596 · 0.2055 = -0.71095   [done: dL/dz = -0.71095]

For Tensors the same line is a matrix expression with shapes (``dL/dW (2x2) += Xᵀ (2x2) ·
dL/dz (2x2)``), then the numbers; an elementwise local derivative is shown as its values first
(``local derivative p⊙(1 − p) =``, the matrix), as a scalar step shows ``0.2055``.
"""

from __future__ import annotations

import itertools
import tempfile
from pathlib import Path
from typing import Any

import numpy as np

from ..core import formula, numeric, show
from ..core.engine import BackwardPass, Node, store_grads
from . import page
from .naming import Names, arguments, derivatives, is_scalar
from .naming import derivative as derivative
from .viz import CURRENT, DONE, KEY, PARTIAL, READY, draw

FORWARD = "forward pass: values, no gradients yet"  # the caption of the first frame


class Backprop:
    """A backward pass to step through: ``step()`` processes one node (the engine's own step,
    exactly what ``backward()`` runs to the end) and returns a ``Step`` that shows the chain
    rule with its numbers; iterating steps to the end; ``draw()`` pictures the progress.

    Gradients land in ``.grad`` as in ``backward()``, interior Tensors' included (as with
    ``retain_grads=True``), so that every box of a picture shows its gradient; with
    ``store=False`` they land nowhere, and only the steps are recorded (``html()`` and the
    notebook display run such a pass, so showing a stepper changes no gradient).
    """

    def __init__(self, root: Node, grad: Any = None, *, store: bool = True):
        self.root = root
        self.grad = grad
        deliver = store_grads(retain_grads=True) if store else _keep_nothing
        self._pass = BackwardPass(root, grad, deliver=deliver)
        self.names = Names(root)
        self.total = len(self._pass.waiting)
        self.done: list[Node] = []  # the nodes processed, in order
        self.finished: dict[Node, Any] = {}  # the final gradient of each node processed
        self.steps: list[Step] = []

    def step(self) -> Step | None:
        """Process the next node and return its ``Step``: the node's gradient, and what it
        sends to each parent, with the local derivative from the op table and the numbers.
        After the last step it says that backprop is finished, and returns None."""
        state = self._pass
        if not state.ready:
            print(f"backprop is finished: all {self.total} nodes are done and every gradient is final")
            return None
        before = {parent: state.grads.get(parent) for parent in state.ready[-1].parents}  # step() takes it
        sent: list = []
        with numeric.quiet():
            node, grad = state.step(sent)
        self.done.append(node)
        self.finished[node] = grad
        self.steps.append(Step(self, node, grad, sent, before))
        return self.steps[-1]

    def run(self) -> Backprop:
        """Process every remaining node (each step is recorded, as by ``step()``)."""
        for _ in self:
            pass
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

    def colors(self) -> dict[Node, str]:
        """Each node's colour in the pictures now (see ``KEY``)."""
        state = self._pass
        colors = {node: READY if state.waiting[node] == 0 else PARTIAL for node in state.grads}
        colors.update(dict.fromkeys(self.done, DONE))
        if self.current is not None:
            colors[self.current] = CURRENT
        return colors

    def gradients(self) -> dict[Node, Any]:
        """Each node's gradient as it stands (None where nothing has arrived yet)."""
        shown = dict.fromkeys(self.names.nodes)
        shown.update(self._pass.grads)
        shown.update(self.finished)
        return shown

    def states(self) -> list[tuple[dict[Node, str], dict[Node, Any]]]:
        """Step to the end; returns the colours and the gradients after each step."""
        return [(self.colors(), self.gradients()) for _ in self]

    def draw(self, **options: Any):
        """The graph with the current node amber, processed nodes green, nodes whose gradient
        is complete but not passed on yet pale green, and those still waiting for
        contributions red, with a key of the colours (see ``tg.draw`` for the options)."""
        return draw(self.root, highlight=self.colors(), grads=self.gradients(), key=KEY, **options)

    def frames(
        self, folder: Any, suffix: str = ".png", steps: int | None = None, **options: Any
    ) -> list[Path]:
        """Take ``steps`` more steps (default: to the end), writing a picture of the graph as it
        stands first and after every step into ``folder``; returns the paths. Each picture is
        captioned with its step's lines (the first, before any step: the forward pass). All frames
        share one layout and one size: the pictures are made once every gradient is known, each
        box sized for the longest text it ever shows, each caption padded to the longest."""
        folder = Path(folder)
        folder.mkdir(parents=True, exist_ok=True)
        first = self.steps[-1].lines() if self.steps else [FORWARD]
        if self.steps:
            states = [(self.colors(), self.gradients())]
        else:  # the forward pass: values only, nothing coloured
            states = [({}, dict.fromkeys(self.names.nodes))]
        captions = [first]
        for step in itertools.islice(self, steps):
            states.append((self.colors(), self.gradients()))
            captions.append(step.lines())
        every = [grads for _, grads in states]
        height = max(map(len, captions))
        width = max(len(line) for lines in captions for line in lines)
        return [
            draw(
                self.root,
                highlight=colors,
                grads=grads,
                key=KEY,
                fit=every,
                caption=[line.ljust(width, "\u00a0") for line in lines + [""] * (height - len(lines))],
                **options,
            ).render(folder / f"step_{k:03d}{suffix}")
            for k, ((colors, grads), lines) in enumerate(zip(states, captions))
        ]

    def gif(self, path: Any, seconds_per_step: float = 1.2, **options: Any) -> Path:
        """Step to the end and write an animated GIF, one frame per step (Pillow)."""
        with tempfile.TemporaryDirectory() as folder:
            return gif_from_frames(self.frames(folder, **options), path, seconds_per_step)

    def html(self, path: Any, **options: Any) -> Path:
        """Write this backward pass as a web page to ``path``: the graph, and every step to click
        or key through (see ``tinygrad_lr.page``). The page runs a pass of its own, so this
        stepper stays where it is and no ``.grad`` changes."""
        return page.write(self, path, **options)

    def _repr_html_(self) -> str:
        return page.notebook_html(self)

    def __repr__(self) -> str:
        """The stepper at a glance: progress, and the node the last step processed."""
        head = f"Backprop from {self.names[self.root]}: {len(self.done)} of {self.total} nodes done"
        if self.current is not None:
            head += f", last {self.names[self.current]}"
        return head + ("; finished" if not self.remaining else "; call .step() for the next")


class Step:
    """One node of a backward pass: its gradient and what it sent to each parent.

    Attributes
    ----------
    node : the node processed.
    name : the node's name, as shown.
    expression : the node written in its operands' names, in the formula language ('' for a
        leaf): ``tg.expr(step.expression, **{n: v.data for n, v in step.operands.items()})``
        (for scalars) gives the node's value.
    operands : each name the expression uses, with its node.
    grad : dL/d(node), final when the step runs.
    sent : one ``Sent`` per parent that requires grad: the derivative as text and its value
        (a number, or for Tensors the array of its values where the formula is elementwise), the
        amount added to the parent's gradient, the parent's gradient so far,
        and whether it is final.
    """

    def __init__(self, backprop: Backprop, node: Node, grad: Any, sent: list, before: dict):
        self.backprop = backprop
        self.index = len(backprop.done)
        self.node = node
        self.grad = grad
        names = backprop.names
        self.name = names[node]
        self.expression = names.expression(node)
        self.operands = names.operands(node)
        ctx = node._ctx
        scalar = ctx is not None and is_scalar(node)
        locals_ = _local_derivatives(node) if scalar else None
        waiting = backprop._pass.waiting
        totals = dict(before)
        self.sent: list[Sent] = []
        for i, parent, text in derivatives(node, names):
            if sent[i] is not None:  # the same sum, in the same order, as the engine's
                with numeric.quiet():  # inf + (−inf) is nan here as there, without a warning
                    totals[parent] = sent[i] if totals[parent] is None else totals[parent] + sent[i]
            last = all(p is not parent for p in ctx[i + 1 :])  # x·x sends to x twice
            local = locals_[i] if scalar else _local_values(node, i)
            final = last and waiting[parent] == 0
            self.sent.append(Sent(parent, i, text, local, sent[i], totals[parent], final))

    def lines(self) -> list[str]:
        """The step as text: the node and its gradient, then the chain rule for each parent."""
        node, d = self.node, self.backprop.names.d
        head = f"step {self.index} of {self.backprop.total}: {self.backprop.names.equation(node)}"
        head += "" if node._ctx is not None else ", an input"
        scalar = is_scalar(node)
        if scalar:
            out = [f"{head}; {d(node)} = {_number(self.grad)}"]
        else:
            out = [f"{head}{_sized(node)}", *_numbers(f"  {d(node)}{_sized(node)} =", self.grad)]
        if node._ctx is None:
            out.append("  its gradient is final; an input passes nothing on")
        for sent in self.sent:
            out += _scalar_chain(self, sent) if scalar else _tensor_chain(self, sent)
        return out

    def __repr__(self) -> str:
        return "\n".join(self.lines())


class Sent:
    """What one step sent to one parent (see ``Step.sent``)."""

    __slots__ = ("contribution", "final", "formula", "index", "local", "parent", "total")

    def __init__(self, parent, index, formula, local, contribution, total, final):
        self.parent, self.index, self.formula, self.local = parent, index, formula, local
        self.contribution, self.total, self.final = contribution, total, final

    def __iter__(self):  # (parent, formula, local, contribution, total, final), as a tuple unpacks
        return iter((self.parent, self.formula, self.local, self.contribution, self.total, self.final))


def _scalar_chain(step: Step, sent: Sent) -> list[str]:
    """The chain rule for one parent, with its numbers: dL/dz += dL/dp · p·(1 − p) = g · local = c."""
    node, d = step.node, step.backprop.names.d
    # a formula that names a gradient (where(.., dL/dy, 0)) is the whole contribution, no product
    whole = "/d" in sent.formula
    line = f"  {d(sent.parent)} += {sent.formula if whole else f'{d(node)} · {sent.formula}'}"
    if sent.contribution is None:
        line += " (no gradient flows here)"
    elif sent.local is not None and not whole:
        local = _number(sent.local)
        local = f"({local})" if local.startswith("-") else local  # 1.0 · (-0.5), not 1.0 · -0.5
        line += f" = {_number(step.grad)} · {local} = {_number(sent.contribution)}"
    else:
        line += f" = {_number(sent.contribution)}"
    status = f"done: {d(sent.parent)} = {_number(sent.total)}" if sent.final else "more to come"
    return [f"{line}   [{status}]"]


def _tensor_chain(step: Step, sent: Sent) -> list[str]:
    """The chain rule for one parent as a matrix expression with shapes, then the numbers."""
    node, d, parent = step.node, step.backprop.names.d, sent.parent
    target, grad = f"  {d(parent)}{_sized(parent)} +=", f"{d(node)}{_sized(node)}"
    parent_shape = show.shape(parent.data)
    sent_shape = _op_gradient_shape(node, sent)
    whole = "/d" in sent.formula  # a matrix product's formula holds the gradient itself
    reduced = sent_shape is not None and not whole and _reduced(node, parent, sent_shape)
    if sent_shape is not None and not whole:  # the local derivative times the output's gradient
        sent_shape = np.broadcast_shapes(sent_shape, np.shape((parent if reduced else node).data))
    if whole:
        chain = sent.formula
    elif reduced:  # a sum, a max, a loss: the gradient goes back along the axes reduced first
        chain = f"{grad} spread back to {_array(parent_shape)}"
        chain += "" if sent.formula == "1" else f" ⊙ {sent.formula}"
    else:
        times = " ⊙ " if np.ndim(node.data) else " · "
        chain = f"{grad}{times}{sent.formula}" if sent.formula != "1" else grad
    summed = _summed_axes(np.shape(parent.data), sent_shape)
    if summed:
        chain += f", summed over axis {', '.join(map(str, summed))}"
    elif parent_shape != show.shape(node.data) and not reduced and _is_number(sent.formula):  # reshaped
        chain += f", as {_array(parent_shape)}" if parent_shape else ", as a number"
    if sent.contribution is None:
        return [f"{target} {chain} (no gradient flows here)"]
    out = []
    if sent.local is not None and np.ndim(sent.local) and not _is_number(sent.formula):
        out += _numbers(f"  local derivative {sent.formula} =", sent.local)  # as a scalar step's · 0.19661
    out += _numbers(f"{target} {chain} =", sent.contribution)
    if not sent.final:
        out[-1] += "   [more to come]"
    elif sent.total is not sent.contribution:
        out += _numbers(f"    done: {d(parent)} =", sent.total)
    else:
        out[-1] += "   [done]"
    return out


def _reduced(node: Node, parent: Node, local: tuple) -> bool:
    """Whether the op reduced ``parent`` (a sum, a max, a loss): its gradient, of the output's
    shape, is then spread back along the axes reduced to the parent's shape before the local
    derivative (of ``local`` shape) multiplies it; an elementwise op's gradient meets its local
    derivative by broadcasting instead, which for a reduction would pair the wrong axes."""
    out = np.shape(node.data)
    return np.size(node.data) < np.size(parent.data) or not numeric.broadcasts_to(local, out)


def _sized(node: Node) -> str:
    """A node's shape after its name, ' (2x3)', or '' for a number."""
    shape = show.shape(node.data)
    return f" ({shape})" if shape else ""


def _array(shape: str) -> str:
    """'a 2x3 array', 'a (2,) array': a 1-D shape keeps its parentheses, or it reads '2,'."""
    return f"a ({shape}) array" if shape.endswith(",") else f"a {shape} array"


def _is_number(text: str) -> bool:
    try:
        float(text.replace("−", "-"))
    except ValueError:
        return False
    return True


def _numbers(head: str, value: Any) -> list[str]:
    """``head`` followed by the value: on the same line if it is one line, else below."""
    if value is None:
        return [f"{head} 0"]
    lines = show.array(value.data if isinstance(value, Node) else value)
    if len(lines) == 1:
        return [f"{head} {lines[0]}"]
    return [head, *(f"      {line}" for line in lines)]


def _op_gradient_shape(node: Node, sent: Sent) -> tuple | None:
    """The shape of the formula's value for this parent: the local derivative, or where the
    formula names the output's gradient ``g``, what the op sends (None: no formula)."""
    value = _formula_value(node, sent.index, np.zeros(np.shape(node.data)))
    return None if value is None else np.shape(value)


def _local_values(node: Node, index: int) -> Any:
    """The local derivative of a Tensor op with respect to input ``index``, as numbers: its
    formula evaluated on the step's values (None where the formula holds the gradient g)."""
    ctx = node._ctx
    text = ctx.fn.formula[index] if ctx.fn.formula else ""
    return None if not text or "g" in formula.names(text) else _formula_value(node, index)


def _formula_value(node: Node, index: int, g: Any = None) -> Any:
    """The op's formula for input ``index`` on the node's values (None: no formula, or one
    written for matrices and met by a vector)."""
    ctx = node._ctx
    text = ctx.fn.formula[index] if ctx.fn.formula else ""
    if not text:
        return None
    given = {name: value if parent is None else parent.data for name, parent, value in arguments(ctx)}
    values = {**given, **vars(ctx), "out": node.data, "g": g}
    try:
        with numeric.quiet():
            return formula.evaluate(text, values)
    except ValueError:
        return None


def _summed_axes(parent_shape: tuple, sent_shape: tuple | None) -> tuple[int, ...]:
    """The axes along which the engine summed what the op sent a parent of ``parent_shape``
    (the axes the parent was broadcast along), from the shape of what the op sent."""
    if sent_shape is None or len(sent_shape) < len(parent_shape):  # the op spread it out (a sum)
        return ()
    lead = len(sent_shape) - len(parent_shape)
    return (
        *range(lead),
        *(lead + k for k, n in enumerate(parent_shape) if n == 1 and sent_shape[lead + k] != 1),
    )


def _number(value: Any) -> str:
    if value is None:
        return "0"
    return show.number(float(value.data if isinstance(value, Node) else value), 5)


def _keep_nothing(node: Node, grad: Any) -> None:
    """Deliver no gradient: a pass that only records its steps."""


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


def _local_derivatives(node: Node) -> tuple:
    """∂(node)/∂(input) for a scalar op: its backward with an upstream gradient of 1."""
    one = 1.0 if isinstance(node.data, float) else np.ones_like(node.data)  # a 0-d Tensor's: an array
    local = node._ctx.fn.backward(node._ctx, one)
    return local if isinstance(local, tuple) else (local,)
