"""The stepper as a web page: one HTML file that works offline, for a browser or a notebook.

The page holds the graph as inline SVG, laid out once by graphviz with every box sized for every
gradient it will show (as the stepper's frames are), and, as JSON, what each step of a backward
pass changes: the colours of the stepper's pictures, the gradients, and the step's text, the
same strings as ``Step.lines()``. A small script (``assets/stepper.js``, with its template and
style next to it) applies them: buttons, a slider, ← → Home End, and a click on a node shows its
value, its gradient as it stands and the formula of the op that made it. The graph is fitted to
its panel; + and − scale it, and the panel follows the current step. Nothing is fetched from the
network.

The page runs its own pass, which stores no gradient: writing or showing a page changes neither
the stepper it came from nor any ``.grad``.
"""

from __future__ import annotations

import html as html_text
import json
import re
import uuid
import xml.etree.ElementTree as ET
from importlib import resources
from pathlib import Path
from typing import Any

from ..core import show
from ..core.engine import Node, walk
from . import viz
from .naming import _wrapped, derivatives, is_constant

_SVG = "http://www.w3.org/2000/svg"
_INDENT = len("grad ")  # a gradient's later lines start under its numbers (viz._cell)
DEFAULT_MAX_NODES = viz.DEFAULT_MAX_NODES  # graphviz lays out a fan-out of 1,200 nodes in about 40 s


def html(
    source: Any,
    *,
    title: str | None = None,
    standalone: bool = True,
    element_id: str = "backprop",
    **options: Any,
) -> str:
    """The stepper page of the backward pass of ``source`` (a ``tg.Backprop``), as HTML text.

    Parameters
    ----------
    title : shown at the top (default: "Backprop from L").
    standalone : a whole HTML document whose keys work anywhere on the page; False gives the
        fragment a notebook shows, whose keys work once it has the focus (a click).
    element_id : the id of the page's element (unique per notebook output).
    options : for ``tg.draw``: ``rankdir``, ``show_data``, ``max_nodes``, ``clusters``.
    """
    if not hasattr(source, "colors"):
        hint = " (for a node n: tg.Backprop(n))" if isinstance(source, Node) else ""
        raise TypeError(f"html: expected a tg.Backprop, got {type(source).__name__}{hint}")
    root = source.root
    _check(root, element_id, options)
    run = type(source)(root, source.grad, store=False)  # a pass of its own: the given stepper stays put
    states = [(run.colors(), run.gradients()), *run.states()]
    every = [grads for _, grads in states]
    drawing = viz.draw(root, highlight=states[0][0], grads=states[0][1], fit=every, **options)
    ids = drawing.ids
    boxes = {
        node: viz.cell_padding([grads.get(node) for grads in every]) for node in ids if not is_constant(node)
    }
    shown = []  # each state as the page shows it: the fill of every shape, the lines of every gradient
    for colors, grads in states:
        fill = {}
        for node, name in ids.items():
            fill[name] = viz.box_fill(node, colors.get(node))
            if node._ctx is not None:
                fill[f"{name}_op"] = viz.op_fill(colors.get(node))
        shown.append((fill, {ids[node]: pad(grads.get(node)) for node, pad in boxes.items()}))
    changes = [
        {
            "node": ids[step.node],
            "lines": step.lines(),
            "fill": {k: v for k, v in fill.items() if before[0][k] != v},
            "grad": {k: v for k, v in grad.items() if before[1][k] != v},
        }
        for step, before, (fill, grad) in zip(run.steps, shown, shown[1:])
    ]
    title = title or f"Backprop from {run.names[root]}"
    start_fill, start_grad = shown[0]
    data = {
        "title": title,
        "intro": f"{title}: {len(changes)} steps. Press → (or ▶) for the first.",
        "indent": _INDENT,
        "key": [list(pair) for pair in viz.KEY],
        "nodes": {ids[node]: _describe(node, run.names) for node in ids},
        "start": {"fill": start_fill, "grad": start_grad},
        "steps": changes,
    }
    svg = _svg(viz.render_bytes(drawing.source, "svg")[0], run.names, ids, start_grad)
    body = _fill(
        _asset("stepper-body.html"),
        id=element_id,
        title=_escape(title),
        css=_asset("stepper.css"),
        svg=svg,
        data=_json(data),
        script=_asset("stepper.js"),
        standalone="true" if standalone else "false",
    )
    if not standalone:
        return body
    return _fill(_asset("stepper.html"), title=_escape(title), stepper=body)


def write(source: Any, path: str | Path, **options: Any) -> Path:
    """Write the stepper page of ``source`` to ``path`` (see ``html``); returns the path."""
    path = Path(path)
    text = html(source, **options)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8")
    return path


def notebook_html(source: Any, **options: Any) -> str:
    """The page as a notebook shows it: a fragment with an id of its own."""
    return html(source, standalone=False, element_id=f"tglr-{uuid.uuid4().hex[:12]}", **options)


_OPTIONS = ("rankdir", "show_data", "max_nodes", "clusters")


def _check(root: Node, element_id: str, options: dict[str, Any]) -> None:
    """Refuse, before any work, what would make a page that is broken or does not show every step:
    an id that is not a plain HTML id, an option of ``tg.draw`` the page cannot honour (collapse
    hides the nodes the steps go through; colours and gradients are the page's own), or a graph
    above ``max_nodes``, with what to pass instead."""
    if not isinstance(element_id, str) or not re.fullmatch(r"[A-Za-z][\w-]*", element_id):
        raise ValueError(
            f"html: element_id={element_id!r} is not an id the page can use; give a letter followed by "
            "letters, digits, _ or -"
        )
    unknown = [name for name in options if name not in _OPTIONS]
    if unknown:
        raise TypeError(
            f"html: {unknown[0]}= is not an option of the stepper page, which takes "
            f"{', '.join(_OPTIONS)} (every step's node has a box of its own, coloured by the page)"
        )
    limit = options.setdefault("max_nodes", DEFAULT_MAX_NODES)
    count = viz.count_shapes(walk(root))
    if count > limit:
        raise ValueError(
            f"html: the graph has {count} nodes (values and ops), more than max_nodes={limit}; "
            f"its page is slow to lay out and to step through. Pass max_nodes={count} to make it anyway "
            f"(steps.html(path, max_nodes={count}); in a notebook, "
            f"IPython.display.HTML(tg.page.notebook_html(steps, max_nodes={count}))), or step through "
            "a smaller part of the graph (one layer, a smaller batch)."
        )


def _describe(node: Node, names: Any) -> dict[str, Any]:
    """What a click on ``node`` shows, but its gradient (which the page tracks per step)."""
    name = names[node]
    rules = [
        f"{names.d(parent)} += {text}"  # a matrix product's formula is the whole contribution
        if "/d" in text
        else f"∂{_wrapped(name)}/∂{_wrapped(names[parent])} = {text}"
        for _, parent, text in derivatives(node, names)
    ]
    return {
        "name": name,
        "shape": show.shape(node.data),
        "value": [line.rstrip() for line in viz.cell_lines(node.data)],  # as its box shows it
        "made": names.equation(node) if node._ctx is not None else "",
        "rules": rules,
        "constant": is_constant(node),
        "d": names.d(node),
    }


def _svg(svg: bytes, names: Any, ids: dict, start_grad: dict[str, list[str]]) -> str:
    """graphviz's SVG, marked for the script: each node's group carries ``data-node`` (and an
    op's ``data-of``, the node it made), its fills ``data-fill``, its gradient's lines
    ``data-grad-line``; tooltips are the learner's names; no reference to any URL is left."""
    ET.register_namespace("", _SVG)
    tree = ET.fromstring(svg)
    tag = lambda name: f"{{{_SVG}}}{name}"  # noqa: E731
    named = {name: names[node] for node, name in ids.items()}
    for group in tree.iter(tag("g")):
        kind, title = group.get("class"), group.find(tag("title"))
        if kind in ("edge", "graph") and title is not None:  # an edge's name, or the graph's
            group.remove(title)
        if kind != "node" or title is None:
            continue
        drawn = title.text or ""
        box = drawn.removesuffix("_op")
        if box not in named:
            continue  # a collapsed module's box
        title.text = named[box] if drawn == box else f"the op that made {named[box]}"
        group.set("data-node", drawn)
        if drawn != box:
            group.set("data-of", box)
        # NOTE: a box's cells are polygons with a fill (their borders have fill="none"), an op an
        # ellipse; graphviz 2.42 (Debian 12's) writes a cell's stroke as "transparent", later ones "none".
        for shape in group:
            if (shape.tag == tag("polygon") and shape.get("fill") != "none") or shape.tag == tag("ellipse"):
                shape.set("data-fill", "")
        texts = list(group.iter(tag("text")))
        marks = [i for i, text in enumerate(texts) if text.text == "grad "]
        if drawn in start_grad and marks:  # the lines after a box's "grad ", as graphviz wrote them
            for k, text in enumerate(texts[marks[-1] + 1 :]):
                text.set("data-grad-line", str(k))
    text = ET.tostring(tree, encoding="unicode")
    root, rest = text.split(">", 1)  # ElementTree declares every namespace in the <svg> tag
    return _no_urls(re.sub(r'\s+xmlns(:\w+)?="[^"]*"', "", root) + ">" + rest)


def _json(data: Any) -> str:
    """JSON safe inside a <script> element, with no URL in it."""
    text = json.dumps(data, ensure_ascii=False, separators=(",", ":"))
    text = text.replace("<", "\\u003c").replace(">", "\\u003e").replace("&", "\\u0026")
    return _no_urls(text, colon="\\u003a")


def _escape(text: str) -> str:
    return _no_urls(html_text.escape(text))


def _no_urls(text: str, colon: str = "&#58;") -> str:
    """``text`` with the colon of every http: and https: written as ``colon``: no link is left."""
    return re.sub(r"(?i)\b(https?):", lambda match: match.group(1) + colon, text)


def _asset(name: str) -> str:
    return (resources.files("tinygrad_lr.teach") / "assets" / name).read_text(encoding="utf-8")


def _fill(template: str, **values: str) -> str:
    """``template`` with each ``{{name}}`` replaced by its value, in one pass (a value that
    happens to contain ``{{...}}`` stays as it is)."""
    return re.sub(r"\{\{(\w+)\}\}", lambda match: values[match.group(1)], template)
