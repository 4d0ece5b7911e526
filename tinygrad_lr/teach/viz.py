"""Pictures of computation graphs with graphviz.

``draw(root)`` builds the DOT text of the graph that produced ``root``: one box per Value or
Tensor (its label, data and gradient), one ellipse per op, edges labelled with the operand
names where order matters, nodes made inside an ``nn.Module`` grouped in a labelled box per
module. ``Drawing.render("graph.png")`` lays it out with the system ``dot`` when it is on PATH,
and otherwise with pygraphviz, whose wheels carry the graphviz libraries.
"""

from __future__ import annotations

import bisect
import contextlib
import graphlib
import html
import io
import os
import re
import shutil
import subprocess
import sys
import tempfile
import threading
from collections.abc import Callable, Iterable, Mapping, Sequence
from pathlib import Path
from typing import Any

import numpy as np

from ..core import show
from ..core.engine import Node
from .naming import Names, is_constant

DEFAULT_MAX_NODES = 1000
BIG = 300  # above this many nodes, trade crossing-minimisation for a layout in seconds
_FAST_LAYOUT = (
    "mclimit=0.01; nslimit=0.1; nslimit1=0.1; searchsize=2; remincross=false; newrank=true; splines=line; "
    'size="60,60";'  # inches: a huge bitmap takes longer to paint than the layout takes
)
FORMATS = ("png", "svg", "pdf", "dot")
DONE, CURRENT, READY, PARTIAL = "#a5d6a7", "#ffd54f", "#e8f5e9", "#ffcdd2"
# the colours of the stepper's pictures, as its pictures explain them
KEY = (
    (CURRENT, "this step"),
    (DONE, "passed on"),
    (READY, "gradient complete"),
    (PARTIAL, "gradient partial"),
)
HIGHLIGHT = CURRENT  # what draw(highlight=...) fills with: amber, as the stepper's current node

_COLORS = {"node": "#e3f2fd", "constant": "#f5f5f5", "op": "#fff8e1", "border": "#546e7a"}
_TABLE = f'border="0" cellborder="1" cellspacing="0" cellpadding="4" color="{_COLORS["border"]}"'


class GraphvizMissing(RuntimeError):
    """Neither the system ``dot`` nor pygraphviz is available to lay out a picture."""


class GraphvizError(RuntimeError):
    """graphviz could not lay out or render a picture; the message is graphviz's own."""


class Drawing:
    """A graph picture: ``.source`` is its DOT text; ``.render(path)`` writes a file; in
    Jupyter it shows itself (as SVG)."""

    def __init__(self, source: str, n_nodes: int, ids: Mapping[Node, str] | None = None):
        self.source = source
        self.n_nodes = n_nodes
        self.ids = dict(ids or {})  # each drawn node's name in the DOT text (its op is name + "_op")

    def render(self, path: str | Path) -> Path:
        """Write the picture to ``path``; the suffix picks the format (.png .svg .pdf .dot).
        Returns the path. A .dot file is the source itself and needs no graphviz."""
        path = Path(path)
        fmt = path.suffix.lstrip(".").lower()
        if fmt not in FORMATS:
            raise ValueError(
                f"render: unknown file type {path.suffix!r}; use one of {', '.join('.' + f for f in FORMATS)}"
            )
        path.parent.mkdir(parents=True, exist_ok=True)
        if fmt == "dot":
            path.write_text(self.source)
        else:
            path.write_bytes(self.pipe(fmt))
        return path

    def pipe(self, fmt: str = "svg") -> bytes:
        """The picture as bytes of format ``fmt`` (png, svg or pdf)."""
        return render_bytes(self.source, fmt)[0]

    def _repr_mimebundle_(self, include: Any = None, exclude: Any = None) -> dict[str, str]:
        """The SVG for a notebook, at its own size but never wider than the cell (its viewBox
        scales it down), so that an HTML export does not clip a wide graph."""
        svg = self.pipe("svg").decode()
        fitted = re.sub(
            r'<svg width="([\d.]+)pt" height="[\d.]+pt"',
            r'<svg width="100%" style="max-width: \1pt; height: auto"',
            svg,
            count=1,
        )
        return {"image/svg+xml": fitted}

    def __repr__(self) -> str:
        return f"<Drawing of {self.n_nodes} nodes: .render('graph.png'), or .source for the DOT text>"


def draw(
    root: Node,
    *,
    rankdir: str = "auto",
    show_data: bool = True,
    show_grad: bool = True,
    highlight: Iterable[Node] | Mapping[Node, str] = (),
    max_nodes: int = DEFAULT_MAX_NODES,
    clusters: bool = True,
    collapse: bool = False,
    grads: Mapping[Node, Any] | None = None,
    key: Sequence[tuple[str, str]] = (),
    fit: Sequence[Mapping[Node, Any]] = (),
    caption: Sequence[str] = (),
) -> Drawing:
    """The picture of the graph that computed ``root`` (a Value or a Tensor).

    Parameters
    ----------
    rankdir : "LR" (inputs on the left), "TB" (inputs on top), or "auto": the one whose picture
        is closer to a slide's shape, judged from the graph's depth and width.
    show_data, show_grad : whether boxes show the data and the gradient.
    highlight : nodes to fill in amber, or a mapping from node to a colour.
    max_nodes : refuse larger graphs (boxes plus op ellipses) with an error that says how many
        there are, instead of a layout that takes minutes and a picture nobody can read.
    clusters : group the nodes made inside each ``nn.Module`` call in a labelled box.
    collapse : draw each ``nn.Module`` call as one box (its inputs in, its output out): the
        picture of a big network, layer by layer.
    grads : gradients to show instead of ``.grad`` (the stepper shows them as they stand).
    key : (colour, meaning) pairs, drawn as a key under the graph.
    fit : other gradients each box must have room for (the frames of one stepping run then
        share one layout and one size).
    caption : lines of text drawn above the graph, in a fixed-width font (a stepper's step).
    """
    if not isinstance(root, Node):
        raise TypeError(f"draw: expected a Value or Tensor, got {type(root).__name__}")
    if rankdir not in ("LR", "TB", "auto"):
        raise ValueError(f"draw: rankdir must be 'LR', 'TB' or 'auto', got {rankdir!r}")
    names = Names(root)
    nodes = names.nodes
    count = count_shapes(nodes)
    if count > max_nodes and not collapse:
        raise ValueError(
            f"draw: the graph has {count} nodes (values and ops), more than max_nodes={max_nodes}; a layout "
            f"this big takes long and is hard to read. Pass max_nodes={count} to draw it anyway, draw it "
            "with collapse=True (one box per module), or draw a part of it (one layer, or a smaller batch)."
        )
    colors = dict(highlight) if isinstance(highlight, Mapping) else dict.fromkeys(highlight, HIGHLIGHT)
    ids = {node: f"n{i}" for i, node in enumerate(nodes)}
    group = _groups(nodes, root) if collapse else {}
    sizes: dict[str, tuple[int, int]] = {}  # each drawn node's size in characters (width, lines)
    body: list[tuple[tuple, str, str]] = []  # (module scope, DOT name, DOT line) of each shape
    edges: list[tuple[str, str, str]] = []
    for node in nodes:
        if node in group:
            continue
        scope = getattr(node._ctx, "scope", ()) if clusters and not collapse else ()
        grad = node.grad if grads is None else grads.get(node, node.grad)
        others = [g.get(node, node.grad) for g in fit]
        box, size = _box(node, names[node], grad, others, show_data, show_grad, colors.get(node))
        body.append((scope, ids[node], f"  {ids[node]} [label=<{box}>];"))
        sizes[ids[node]] = size
        if node._ctx is None:
            continue
        ctx, op, parents = node._ctx, f"{ids[node]}_op", node.parents
        label = _SIGNS.get(node.op, node.op)
        if label == "×" and np.ndim(node.data):
            label = "⊙"  # elementwise, as the stepper writes it
        ordered = len(parents) > 1 and not ctx.fn.commutative
        if ordered and len(names.shown(node)) <= 16:
            label, ordered = names.shown(node), False  # the op in its operands' own names: a − b
        style = f'style=filled fillcolor="{op_fill(colors.get(node))}" color="{_COLORS["border"]}"'
        body.append((scope, op, f'  {op} [shape=ellipse {style} label="{_escape_dot(label)}"];'))
        sizes[op] = (len(label) + 2, 1)
        edges.append((op, ids[node], ""))
        for k, parent in enumerate(parents):
            source = group.get(parent, ids[parent])
            edges.append((source, op, _ORDINALS[k] if ordered and k < len(_ORDINALS) else ""))
    for name, members in _collapsed(group, nodes, names).items():
        body.append(((), name, f"  {name} [label=<{members[0]}>];"))
        sizes[name] = members[1]
    if collapse:  # a module's box: what it reads comes in, its output feeds what uses it
        for node, name in group.items():
            edges += [
                (name, f"{ids[user]}_op", "") for user in nodes if user not in group and _uses(user, node)
            ]
            edges += [(ids[parent], name, "") for parent in node.parents if parent not in group]
        # each edge once, where it last appears (module edges after the rest), with its first label
        edges = list(
            {(source, target): (source, target, label) for source, target, label in reversed(edges)}.values()
        )[::-1]
    direction = rankdir if rankdir != "auto" else _direction(sizes, edges)
    edges, ghosts, band = _wrap(direction, sizes, edges, {ids[node]: names[node] for node in nodes})
    # a wrapped picture's bands are the outermost clusters, written in the order dot stacks them
    # (it lays LR out as TB, turned: the first written comes out at the bottom)
    flip = -1 if direction == "LR" else 1
    scoped: dict[tuple, list[str]] = {}
    for scope, name, line in body + ghosts:
        scoped.setdefault((band[name] * flip, *scope) if name in band else scope, []).append(line)
    lines = [
        "digraph {",
        f"  rankdir={direction}; bgcolor=white; nodesep=0.25; ranksep=0.35;",
        '  fontname="Helvetica"; fontsize=11;',
        f"  {_FAST_LAYOUT}" if count > BIG else "",
        '  node [shape=plain fontname="Helvetica" fontsize=11];',  # plain: edges end on the table
        '  edge [fontname="Helvetica" fontsize=9 color="#78909c" arrowsize=0.7];',
    ]
    if key or caption:
        # NOTE: a cell as wide as the characters count, not as the glyphs measure: a symbol that
        # falls back to another font is narrower, and frames of one size need one width
        cell = f'align="left" fixedsize="true" width="{7 * max(map(len, caption), default=0)}" height="15"'
        rows = [f'<tr><td {cell}><font face="monospace">{_html(line)}</font></td></tr>' for line in caption]
        rows += [f"<tr><td>{_key(key)}</td></tr>"] if key else []
        table = f'<table border="0" cellspacing="0" cellpadding="1">{"".join(rows)}</table>'
        lines.append(f"  labelloc={'t' if caption else 'b'}; label=<{table}>;")
    lines += _clusters(scoped)  # first: dot orders what shares a rank as first written
    lines += [
        f"  {source} -> {target}" + (f' [label="{label}"];' if label else ";")
        for source, target, label in edges
    ]
    lines.append("}")
    return Drawing("\n".join(lines), count, ids)


def count_shapes(nodes: list[Node]) -> int:
    """How many shapes a picture of ``nodes`` has: a box per node and an ellipse per op."""
    return len(nodes) + sum(node._ctx is not None for node in nodes)


_ORDINALS = ("1st", "2nd", "3rd", "4th", "5th")
_SIGNS = {"-": "−", "*": "×", "**": "^"}  # an op's symbol as people write it


def _groups(nodes: list[Node], root: Node) -> dict[Node, str]:
    """For ``collapse``: each node made inside a module call, and each parameter used only
    there, mapped to the id of that call's box (the root stays drawn)."""
    group: dict[Node, str] = {}
    scopes = {}
    for node in nodes:
        scope = getattr(node._ctx, "scope", ()) if node._ctx is not None else ()
        if scope and node is not root:
            group[node] = scopes.setdefault(scope[0], f"m{len(scopes)}")
    for node in nodes:  # parameters: leaves that only nodes of one module use
        if node._ctx is None and node.requires_grad:
            users = {group.get(user) for user in nodes if _uses(user, node)}
            if len(users) == 1 and None not in users:
                group[node] = users.pop()
    return group


def _uses(user: Node, node: Node) -> bool:
    """Whether ``node`` is an input of the op that made ``user`` (by identity: == on Tensors
    compares elementwise)."""
    return user._ctx is not None and any(p is node for p in user._ctx)


def _collapsed(group: dict[Node, str], nodes: list[Node], names: Any) -> dict[str, tuple[str, tuple]]:
    """The box of each collapsed module call: its name, its parameters and its output's shape."""
    boxes: dict[str, list[Node]] = {}
    for node in nodes:
        if node in group:
            boxes.setdefault(group[node], []).append(node)
    result = {}
    for name, members in boxes.items():
        scope = next(getattr(n._ctx, "scope", ("",))[0] for n in members if n._ctx is not None)
        parameters = [n for n in members if n._ctx is None]
        size = sum(int(np.size(p.data)) for p in parameters)
        made = [n for n in members if n._ctx is not None]
        out = made[-1]
        rows = [
            f"<b>{_html(scope)}</b>",
            f"{len(made)} ops, {len(parameters)} parameters ({size} numbers)",
            f"out: ({show.shape(out.data)})" if np.ndim(out.data) else "out: a number",
        ]
        cells = "".join(f'<tr><td bgcolor="{_COLORS["node"]}">{row}</td></tr>' for row in rows)
        result[name] = (f"<table {_TABLE}>{cells}</table>", (max(len(scope), 30), len(rows)))
    return result


def _columns(sizes: dict[str, tuple[int, int]], edges: list[tuple[str, str, str]]) -> list[list[str]]:
    """The graph's ranks, as dot makes them: each node one after the latest thing it reads (the
    longest path from an input), and an input just before its first use."""
    before: dict[str, list[str]] = {name: [] for name in sizes}
    for source, target, _ in edges:
        before[target].append(source)
    rank: dict[str, int] = {}
    for name in graphlib.TopologicalSorter(before).static_order():
        rank[name] = max((rank[source] + 1 for source in before[name]), default=0)
    first_use: dict[str, int] = {}
    for source, target, _ in edges:
        first_use[source] = min(first_use.get(source, rank[target]), rank[target])
    for name in sizes:
        if not before[name] and name in first_use:
            rank[name] = first_use[name] - 1
    columns: list[list[str]] = [[] for _ in range(max(rank.values(), default=0) + 1)]
    for name, r in rank.items():
        columns[r].append(name)
    return columns


_CHAR_W, _LINE_H, _GAP = 7.0, 16.0, 24.0  # points per character and per line, and between nodes


def _extent(sizes: dict[str, tuple[int, int]], bands: list[list[list[str]]], direction: str) -> float:
    """The estimated width over height of a picture whose ranks ``bands`` (each a list of
    columns) run along ``direction``, the bands stacked across it."""
    along = 0 if direction == "LR" else 1
    scale = (_CHAR_W, _LINE_H) if along == 0 else (_LINE_H, _CHAR_W)

    def size(band: list[list[str]]) -> tuple[float, float]:
        long = sum(max(sizes[n][along] * scale[0] for n in column) + _GAP for column in band if column)
        across = max(sum(sizes[n][1 - along] * scale[1] + _GAP for n in column) for column in band if column)
        return long, across

    measured = [size(band) for band in bands]
    long, across = max(m[0] for m in measured), sum(m[1] for m in measured)
    return long / across if along == 0 else across / long


def _direction(sizes: dict[str, tuple[int, int]], edges: list[tuple[str, str, str]]) -> str:
    """LR or TB, whichever gives a picture closer to a slide's shape (16:9), from the graph's
    ranks and the sizes of what is in them."""
    columns = _columns(sizes, edges)
    ratio = {direction: _extent(sizes, [columns], direction) for direction in ("LR", "TB")}
    return min(ratio, key=lambda d: abs(np.log(ratio[d] / (16 / 9))))


def _nearest(ascending: list[int], wanted: float) -> int:
    """The number in ``ascending`` closest to ``wanted`` (the smaller of two as close)."""
    i = bisect.bisect_left(ascending, wanted)
    return min(ascending[max(i - 1, 0) : i + 1], key=lambda k: abs(k - wanted))


def _wrap(
    direction: str,
    sizes: dict[str, tuple[int, int]],
    edges: list[tuple[str, str, str]],
    labels: dict[str, str],
) -> tuple[list[tuple[str, str, str]], list[tuple[tuple, str, str]], dict[str, int]]:
    """Wrap a long picture as text wraps: its ranks cut into bands (rows left to right, or
    columns top down), as many as bring it closest to a slide's shape. An edge into a later band
    starts from a dashed copy of its source there, named as the source ("p, from above").
    Returns the edges, the copies' (scope, name, DOT line) and each name's band ({}: one band,
    not wrapped); cuts fall only between a node and what uses
    it, never between an op and its result."""
    columns = _columns(sizes, edges)
    where = {name: k for k, column in enumerate(columns) for name in column}
    ops_out = {source for source, target, _ in edges if source.endswith("_op")}
    cuts = [
        k
        for k in range(1, len(columns))
        if not any(where[s] < k <= where[t] for s, t, _ in edges if s in ops_out)
    ]
    best, best_bands = None, [columns]
    for count in range(1, len(cuts) + 2):  # bands of about equal length along the direction
        wanted = [i * len(columns) / count for i in range(1, count)]
        chosen = sorted({_nearest(cuts, w) for w in wanted})
        bands = [columns[a:b] for a, b in zip([0, *chosen], [*chosen, len(columns)], strict=True)]
        score = abs(np.log(_extent(sizes, bands, direction) / (16 / 9)))
        if best is None or score < best - 1e-9:
            best, best_bands = score, bands
    if len(best_bands) == 1:
        return edges, [], {}
    band = {name: b for b, columns_ in enumerate(best_bands) for column in columns_ for name in column}
    for source, target, _ in edges:  # an input sits in the band of its first use
        if not any(t == source for _, t, _ in edges) and where[source] + 1 == where[target]:
            band[source] = band[target]
    side = "from above" if direction == "LR" else "from the left"
    ghosts: dict[tuple[str, int], str] = {}
    wrapped = []
    for source, target, label in edges:
        if band[source] != band[target]:
            ghost = ghosts.setdefault((source, band[target]), f"{source}_row{band[target]}")
            source = ghost
        wrapped.append((source, target, label))
    lines = []
    for (source, row), ghost in ghosts.items():
        band[ghost] = row
        style = f'shape=box style="dashed,rounded" color="{_COLORS["border"]}"'
        lines.append(
            ((), ghost, f'  {ghost} [{style} label="{_escape_dot(labels.get(source, source))}, {side}"];')
        )
    return wrapped, lines, band


def _key(key: Sequence[tuple[str, str]]) -> str:
    cells = "".join(
        f'<td bgcolor="{color}" width="14" height="10" border="1"> </td><td align="left">{_html(text)}</td>'
        for color, text in key
    )
    return f'<table border="0" cellspacing="4" cellpadding="1"><tr>{cells}</tr></table>'


def _clusters(body: dict[tuple, list[str]]) -> list[str]:
    """Nested ``subgraph cluster`` blocks, one per module scope, around their nodes."""
    out = list(body.get((), []))
    scopes = sorted({scope[:k] for scope in body for k in range(1, len(scope) + 1)})

    def emit(prefix: tuple, depth: int) -> None:
        for scope in (s for s in scopes if len(s) == len(prefix) + 1 and s[:-1] == prefix):
            pad = "  " * depth
            out.append(f'{pad}subgraph "cluster_{_escape_dot("/".join(map(str, scope)))}" {{')
            if isinstance(scope[-1], int):  # a band of a wrapped picture: no frame
                out.append(f'{pad}  peripheries=0; label="";')  # not the picture's caption again
            else:
                out.append(
                    f'{pad}  label="{_escape_dot(scope[-1])}"; style="rounded,dashed"; color="#90a4ae";'
                )
            out.append(f'{pad}  fontname="Helvetica"; fontsize=10; fontcolor="#546e7a";')
            out.extend(pad + line for line in body.get(scope, []))
            emit(scope, depth + 1)
            out.append(f"{pad}}}")

    emit((), 1)
    return out


def _box(
    node: Node,
    name: str,
    grad: Any,
    others: Sequence[Any],
    show_data: bool,
    show_grad: bool,
    color: str | None,
) -> tuple[str, tuple[int, int]]:
    """The HTML-like label of a Value or Tensor (name and shape, data, gradient), and its size
    in characters. The gradient's cell has room for the longest of ``others`` too."""
    fill = box_fill(node, color)
    cells = []
    title = f"<b>{_html(name)}</b>"
    if isinstance(node.data, np.ndarray) and node.data.ndim:
        title += f" ({show.shape(node.data)})" + (
            "" if node.data.dtype == np.float64 else f" {node.data.dtype}"
        )
    cells.append(([title], len(name) + 8))
    if show_data or is_constant(node):
        cells.append(_cell("data", node.data, ()))
    if show_grad and not is_constant(node):
        cells.append(_cell("grad", grad, others))
    row = "".join(f'<td bgcolor="{fill}">{"<br/>".join(lines)}</td>' for lines, _ in cells)
    extent = (sum(width for _, width in cells) + 2, max(len(lines) for lines, _ in cells))
    return f"<table {_TABLE}><tr>{row}</tr></table>", extent


def box_fill(node: Node, color: str | None = None) -> str:
    """The fill of a node's box: ``color``, or grey for a constant and blue for the rest."""
    return color or (_COLORS["constant"] if is_constant(node) else _COLORS["node"])


def op_fill(color: str | None = None) -> str:
    """The fill of an op's ellipse: ``color`` (the node it made has one), or pale yellow."""
    return color or _COLORS["op"]


def _cell(what: str, value: Any, others: Sequence[Any]) -> tuple[list[str], int]:
    """A cell's lines (``grad`` and the numbers, in a monospace font), padded to the widest and
    tallest of ``others``, and its width in characters."""
    lines = cell_lines(value, others)
    padded = [_html(line).replace(" ", "&#160;") for line in lines]
    first = f'{what} <font face="monospace">{padded[0]}</font>'
    rest = [f'<font face="monospace">{"&#160;" * (len(what) + 1)}{line}</font>' for line in padded[1:]]
    return [first, *rest], len(lines[0]) + len(what) + 1


def cell_lines(value: Any, others: Sequence[Any] = ()) -> list[str]:
    """The numbers a box shows for ``value`` (data or a gradient), one string per line, padded
    with spaces to the widest and tallest of ``others``: boxes keep their size as the values
    change (the stepper's frames and its web page)."""
    return cell_padding(others)(value)


def cell_padding(others: Sequence[Any]) -> Callable[[Any], list[str]]:
    """``cell_lines`` with ``others`` measured once: the function a page calls at every step."""
    distinct = {id(other): other for other in others}.values()  # a gradient stays one object for many steps
    shapes = [_values(other) for other in distinct]
    width = max([len(line) for lines in shapes for line in lines], default=0)
    height = max([len(lines) for lines in shapes], default=1)
    padded: dict[int, tuple[Any, list[str]]] = {}

    def pad(value: Any) -> list[str]:
        known = padded.get(id(value))
        if known is not None and known[0] is value:
            return known[1]
        lines = _values(value)
        wide = max(width, *map(len, lines))
        lines = [line.ljust(wide) for line in lines + [""] * (height - len(lines))]
        padded[id(value)] = (value, lines)  # holding the value keeps its id from being reused
        return lines

    return pad


def _values(data: Any) -> list[str]:
    if isinstance(data, Node):
        data = data.data
    if data is None:
        return ["—"]
    return show.array(data, precision=4, limit=12)


def _escape_dot(text: str) -> str:
    """``text`` in a quoted DOT string."""
    return _readable(text).replace("\\", "\\\\").replace('"', '\\"')


def _html(text: str) -> str:
    """``text`` in an HTML-like DOT label."""
    return html.escape(_readable(text))


# NOTE: graphviz reads labels as XML, which refuses these (controls, lone surrogates, U+FFFE/F)
_UNREADABLE = re.compile("[\x00-\x1f\x7f-\x9f\ud800-\udfff\ufffe\uffff]")


def _readable(text: str) -> str:
    """``text`` with control characters and the rest XML refuses written as Python escapes
    (``\\x01``): a name shows what it holds, and graphviz can read it."""
    return _UNREADABLE.sub(lambda found: found.group().encode("unicode_escape").decode(), text)


def render_bytes(source: str, fmt: str) -> tuple[bytes, list[str]]:
    """Lay out the DOT ``source`` and render it as ``fmt``; returns the bytes and what graphviz
    said on the way (warnings, one per line), without printing any of it.

    graphviz reports problems on stderr and often renders anyway (a malformed label still gives
    a picture): an ``Error`` line raises ``GraphvizError``, and the warnings are returned, not
    printed, as are the font-configuration messages of the libraries in pygraphviz's wheel.
    """
    if shutil.which("dot"):
        data, said = _with_dot(source, fmt)
    else:
        data, said = _with_pygraphviz(source, fmt)
    lines = [line.strip() for line in said.splitlines() if line.strip()]
    errors = [i for i, line in enumerate(lines) if line.startswith("Error")]
    if errors or not data:
        detail = " ".join(lines[errors[0] :] if errors else lines) or "no output and no message"
        raise GraphvizError(f"graphviz could not draw the graph: {detail}")
    return data, lines


def _with_dot(source: str, fmt: str) -> tuple[bytes, str]:
    done = subprocess.run(["dot", f"-T{fmt}"], input=source.encode(), capture_output=True, check=False)
    said = done.stderr.decode(errors="replace")
    if done.returncode:
        said += f"\nError: dot exited with status {done.returncode}"
    return done.stdout, said


def _with_pygraphviz(source: str, fmt: str) -> tuple[bytes, str]:
    try:
        import pygraphviz
    except ImportError:
        raise GraphvizMissing(
            "drawing a picture needs graphviz: install the system package (Debian/Ubuntu: "
            "apt-get install graphviz; macOS: brew install graphviz) or pip install pygraphviz; "
            "writing .dot files needs neither"
        ) from None
    data, failure = b"", ""
    # NOTE: graphviz and the fontconfig bundled with it write to file descriptor 2 directly,
    # past Python's sys.stderr; pygraphviz itself writes a size warning to sys.stderr.
    with _stderr_captured() as said, contextlib.redirect_stderr(io.StringIO()):
        try:
            data = pygraphviz.AGraph(string=source).draw(format=fmt, prog="dot")
        except (pygraphviz.DotError, ValueError) as error:
            failure = f"\nError: {error}"
    return data, said.getvalue() + failure


_FD2 = threading.Lock()


@contextlib.contextmanager
def _stderr_captured():
    """Point file descriptor 2 at a temporary file while the block runs; yields a buffer that
    holds what was written there once the block is over. One block at a time (a process has
    one fd 2)."""
    said = io.StringIO()
    with _FD2, tempfile.TemporaryFile() as sink:
        try:
            saved = os.dup(2)
        except OSError:  # no stderr at all: nothing to capture
            yield said
            return
        sys.stderr.flush()
        os.dup2(sink.fileno(), 2)
        try:
            yield said
        finally:
            os.dup2(saved, 2)
            os.close(saved)
            sink.seek(0)
            said.write(sink.read().decode(errors="replace"))
