"""Pictures of computation graphs with graphviz.

``draw(root)`` builds the DOT text of the graph that produced ``root``: one box per Value or
Tensor (its label, data and gradient), one ellipse per op, edges labelled with the operand
names where order matters, nodes made inside an ``nn.Module`` grouped in a labelled box per
module. ``Drawing.render("graph.png")`` lays it out with the system ``dot`` when it is on PATH,
and otherwise with pygraphviz, whose wheels carry the graphviz libraries.
"""

from __future__ import annotations

import contextlib
import html
import io
import os
import shutil
import subprocess
import sys
import tempfile
import threading
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any

import numpy as np

from . import show
from .engine import Node, walk

DEFAULT_MAX_NODES = 1000
BIG = 300  # above this many nodes, trade crossing-minimisation for a layout in seconds
_FAST_LAYOUT = (
    "mclimit=0.01; nslimit=0.1; nslimit1=0.1; searchsize=2; remincross=false; newrank=true; splines=line; "
    'size="60,60";'  # inches: a huge bitmap takes longer to paint than the layout takes
)
FORMATS = ("png", "svg", "pdf", "dot")
HIGHLIGHT = "#ffd54f"
_COLORS = {"node": "#e3f2fd", "constant": "#f5f5f5", "op": "#fff8e1", "border": "#546e7a"}


class GraphvizMissing(RuntimeError):
    """Neither the system ``dot`` nor pygraphviz is available to lay out a picture."""


class GraphvizError(RuntimeError):
    """graphviz could not lay out or render a picture; the message is graphviz's own."""


class Drawing:
    """A graph picture: ``.source`` is its DOT text; ``.render(path)`` writes a file; in
    Jupyter it shows itself (as SVG)."""

    def __init__(self, source: str, n_nodes: int):
        self.source = source
        self.n_nodes = n_nodes

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
        return {"image/svg+xml": self.pipe("svg").decode()}

    def _repr_svg_(self) -> str:
        return self.pipe("svg").decode()

    def __repr__(self) -> str:
        return f"<Drawing of {self.n_nodes} nodes: .render('graph.png'), or .source for the DOT text>"


def draw(
    root: Node,
    *,
    rankdir: str = "LR",
    show_data: bool = True,
    show_grad: bool = True,
    highlight: Iterable[Node] | Mapping[Node, str] = (),
    max_nodes: int = DEFAULT_MAX_NODES,
    clusters: bool = True,
    grads: Mapping[Node, Any] | None = None,
) -> Drawing:
    """The picture of the graph that computed ``root`` (a Value or a Tensor).

    Parameters
    ----------
    rankdir : "LR" (inputs on the left) or "TB" (inputs on top).
    show_data, show_grad : whether boxes show the data and the gradient.
    highlight : nodes to fill in amber, or a mapping from node to a colour.
    max_nodes : refuse larger graphs (boxes plus op ellipses) with an error that says how many
        there are, instead of a layout that takes minutes and a picture nobody can read.
    clusters : group the nodes made inside each ``nn.Module`` call in a labelled box.
    grads : gradients to show instead of ``.grad`` (the stepper shows them as they stand).
    """
    if not isinstance(root, Node):
        raise TypeError(f"draw: expected a Value or Tensor, got {type(root).__name__}")
    if rankdir not in ("LR", "TB"):
        raise ValueError(f"draw: rankdir must be 'LR' or 'TB', got {rankdir!r}")
    nodes = walk(root)
    count = len(nodes) + sum(node._ctx is not None for node in nodes)
    if count > max_nodes:
        raise ValueError(
            f"draw: the graph has {count} nodes (values and ops), more than max_nodes={max_nodes}; a layout "
            f"this big takes long and is hard to read. Pass max_nodes={count} to draw it anyway, or draw "
            "a part of it (the output of one layer, or a smaller batch)."
        )
    colors = dict(highlight) if isinstance(highlight, Mapping) else dict.fromkeys(highlight, HIGHLIGHT)
    ids = {node: f"n{i}" for i, node in enumerate(nodes)}
    lines = [
        "digraph {",
        f"  rankdir={rankdir}; bgcolor=white; nodesep=0.25; ranksep=0.35;",
        f"  {_FAST_LAYOUT}" if count > BIG else "",
        '  node [fontname="Helvetica" fontsize=11 margin=0];',
        '  edge [fontname="Helvetica" fontsize=9 color="#78909c" arrowsize=0.7];',
    ]
    body: dict[tuple, list[str]] = {}
    for node in nodes:
        scope = getattr(node._ctx, "scope", ()) if clusters else ()
        grad = node.grad if grads is None else grads.get(node, node.grad)
        box = _box(node, grad, show_data, show_grad, colors.get(node))
        body.setdefault(scope, []).append(f"  {ids[node]} [shape=plaintext label=<{box}>];")
        if node._ctx is not None:
            op = f"{ids[node]}_op"
            fill = colors.get(node, _COLORS["op"])
            body[scope].append(
                f'  {op} [shape=ellipse style=filled fillcolor="{fill}" color="{_COLORS["border"]}" '
                f'label="{_escape_dot(node.op)}"];'
            )
            lines.append(f"  {op} -> {ids[node]};")
            fn = node._ctx.fn
            parents = [(name, p) for name, p in zip(fn.inputs, node._ctx.parents) if p is not None]
            named = len(parents) > 1 and not fn.commutative
            for name, parent in parents:
                label = f' [label="{name}"]' if named else ""
                lines.append(f"  {ids[parent]} -> {op}{label};")
    lines += _clusters(body)
    lines.append("}")
    return Drawing("\n".join(lines), count)


def _clusters(body: dict[tuple, list[str]]) -> list[str]:
    """Nested ``subgraph cluster`` blocks, one per module scope, around their nodes."""
    out = list(body.get((), []))
    scopes = sorted({scope[:k] for scope in body for k in range(1, len(scope) + 1)})

    def emit(prefix: tuple, depth: int) -> None:
        for scope in (s for s in scopes if len(s) == len(prefix) + 1 and s[:-1] == prefix):
            pad = "  " * depth
            out.append(f'{pad}subgraph "cluster_{"/".join(scope)}" {{')
            out.append(f'{pad}  label="{_escape_dot(scope[-1])}"; style="rounded,dashed"; color="#90a4ae";')
            out.append(f'{pad}  fontname="Helvetica"; fontsize=10; fontcolor="#546e7a";')
            out.extend(pad + line for line in body.get(scope, []))
            emit(scope, depth + 1)
            out.append(f"{pad}}}")

    emit((), 1)
    return out


def _box(node: Node, grad: Any, show_data: bool, show_grad: bool, color: str | None) -> str:
    """The HTML-like label of a Value or Tensor: name (and shape), data, gradient."""
    constant = not node.requires_grad and node._ctx is None
    fill = color or (_COLORS["constant"] if constant else _COLORS["node"])
    cells = []
    title = html.escape(node.label) if node.label else ""
    if isinstance(node.data, np.ndarray):
        title = f"<b>{title}</b> " if title else ""
        title += f"{node.data.shape} {node.data.dtype}"
        cells.append(title)
    elif title:
        cells.append(f"<b>{title}</b>")
    if show_data or constant:
        cells.append(f"data {_values(node.data)}")
    if show_grad and not constant:
        cells.append(f"grad {_values(grad.data if isinstance(grad, Node) else grad)}")
    row = "".join(f'<td bgcolor="{fill}">{cell}</td>' for cell in cells) or f'<td bgcolor="{fill}"> </td>'
    table = f'border="0" cellborder="1" cellspacing="0" cellpadding="4" color="{_COLORS["border"]}"'
    return f"<table {table}><tr>{row}</tr></table>"


def _values(data: Any) -> str:
    if data is None:
        return "—"
    if not isinstance(data, np.ndarray) or data.ndim == 0:
        return html.escape(show.number(float(data), 5))
    if data.size <= 12:
        text = np.array2string(data, precision=4, separator=", ")
        return "<br/>".join(html.escape(line) for line in text.splitlines())
    return html.escape(
        f"mean {show.number(float(data.mean()), 3)}, range [{show.number(float(data.min()), 3)}, "
        f"{show.number(float(data.max()), 3)}]"
    )


def _escape_dot(text: str) -> str:
    return text.replace("\\", "\\\\").replace('"', '\\"')


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
