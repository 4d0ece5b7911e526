"""Graph pictures: the DOT text, and real PNG, SVG and PDF files by both rendering paths."""

import html
import math
import os
import re
import shutil
import subprocess
import sys
import xml.etree.ElementTree as ET

import matplotlib.image
import numpy as np
import pytest

import tinygrad_lr as tg
from tinygrad_lr import Tensor, Value, nn, viz


def neuron():
    x, w, b = Value(2.0, label="x"), Value(-0.5, label="w"), Value(0.1, label="b")
    z = w * x + b
    loss = -(z.sigmoid().log())
    loss.label = "L"
    loss.backward()
    return loss, (x, w, b)


def boxes(source):
    """Each box of the DOT text, by id: the plain text of its cells (title, data, grad)."""
    found = {}
    for node_id, label in re.findall(r"^\s*(n\d+) \[label=<(.*)>\];$", source, re.M):
        cells = re.findall(r"<td[^>]*>(.*?)</td>", label)
        texts = [re.sub(r"<[^>]+>", "", cell.replace("<br/>", "\n")) for cell in cells]
        found[node_id] = [html.unescape(text).replace("\xa0", " ").rstrip() for text in texts]
    return found


def by_title(source):
    return {cells[0]: cells for cells in boxes(source).values()}


def ellipses(source):
    return re.findall(r'(n\d+_op) \[shape=ellipse.*label="([^"]*)"', source)


def test_one_box_per_node_and_one_ellipse_per_op():
    loss, _ = neuron()
    nodes = tg.engine.walk(loss)
    source = tg.draw(loss).source
    assert len(boxes(source)) == len(nodes)
    assert len(ellipses(source)) == sum(n._ctx is not None for n in nodes)
    signs = {label for _, label in ellipses(source)}
    assert signs == {"×", "+", "σ", "log", "−"}  # as people write them
    matrix = tg.draw(tg.Tensor([1.0, 2.0], requires_grad=True) * tg.Tensor([3.0, 4.0])).source
    assert [label for _, label in ellipses(matrix)] == ["⊙"]


def test_non_commutative_ops_say_which_operand_is_which():
    x, y = Value(3.0, label="x"), Value(4.0, label="y")
    source = tg.draw(x / y).source
    [(op, label)] = ellipses(source)
    assert label == "x/y"  # the op in its operands' own names, and no edge labels needed
    assert "[label=" not in source.split("\n  n", 1)[0] and not re.search(r"-> n\d+_op \[label=", source)
    long_x, long_y = Value(3.0, label="numerator_value"), Value(4.0, label="denominator")
    source = tg.draw(long_x / long_y).source
    titles = {cells[0]: node_id for node_id, cells in boxes(source).items()}
    [(op, label)] = ellipses(source)
    assert label == "/"  # too long to write in the ellipse: the edges say which is first
    assert f'{titles["numerator_value"]} -> {op} [label="1st"]' in source
    assert f'{titles["denominator"]} -> {op} [label="2nd"]' in source
    assert not re.search(r"-> n\d+_op \[label=", tg.draw(long_x * long_y).source)  # order does not matter


def test_boxes_carry_name_data_and_grad():
    loss, (x, w, b) = neuron()
    shown = by_title(tg.draw(loss).source)
    for node in (x, w, b):
        assert shown[node.label] == [
            node.label,
            f"data {tg.show.number(node.data, 5)}",
            f"grad {tg.show.number(node.grad, 5)}",
        ]
    z = loss.parents[0].parents[0].parents[0]  # the names a learner can follow: z = wx + b
    assert shown["z"][1:] == [f"data {tg.show.number(z.data, 5)}", f"grad {tg.show.number(z.grad, 5)}"]
    assert shown["L"][2] == "grad 1.0"
    assert all(len(cells) == 2 for cells in by_title(tg.draw(loss, show_grad=False).source).values())
    assert by_title(tg.draw(loss, show_data=False).source)["w"][1].startswith("grad")


def test_tensor_boxes_show_shape_dtype_values_or_corners():
    small = Tensor([[1.0, 2.0]], requires_grad=True, label="W")
    big = Tensor(np.arange(20.0).reshape(10, 2), label="X")
    out = (big @ small.T).sum()
    out.backward()
    shown = by_title(tg.draw(out).source)
    assert shown["W (1x2)"][1:] == ["data [[1., 2.]]", f"grad {tg.show.array(small.grad)[0]}"]
    assert small.grad.tolist() == [[90.0, 100.0]]
    data = shown["X (10x2)"][1]
    assert data.startswith("data [[ 0.,  1.],") and data.endswith("(10x2)") and "..." in data
    interior = next(cells for title, cells in shown.items() if title.startswith("Wᵀ"))
    assert interior[2] == "grad —"  # an interior tensor keeps no grad unless retain_grads=True
    out.backward(retain_grads=True)
    assert "grad —" not in [cells[-1] for cells in by_title(tg.draw(out).source).values()]
    assert "t (2,) float32" in by_title(
        tg.draw(Tensor(np.ones(2, np.float32), requires_grad=True) * 2).source
    )


def test_modules_become_labelled_clusters():
    model = nn.MLP([3, 2, 1], seed=0)
    loss = nn.functional.binary_cross_entropy(model(Tensor(np.ones((4, 3)))), np.ones(4))
    source = tg.draw(loss).source
    labels = re.findall(r'subgraph "cluster_[^"]*" \{\s*label="([^"]*)"', source)
    assert labels[0] == "MLP"
    assert {
        "hidden: Sequential",
        "hidden.layers.0: Linear",
        "hidden.layers.1: Tanh",
        "output: LogisticRegression",
    } <= set(labels)
    assert "cluster" not in tg.draw(loss, clusters=False).source


def test_highlight_rankdir_and_errors():
    loss, (_, w, b) = neuron()
    assert tg.draw(loss, highlight=[w]).source.count(viz.HIGHLIGHT) >= 1
    assert "#ff0000" in tg.draw(loss, highlight={b: "#ff0000"}).source
    assert "rankdir=TB" in tg.draw(loss, rankdir="TB").source
    assert "rankdir=LR" in tg.draw(loss, rankdir="LR").source
    with pytest.raises(ValueError, match="rankdir must be 'LR', 'TB' or 'auto'"):
        tg.draw(loss, rankdir="RL")
    with pytest.raises(TypeError, match="expected a Value or Tensor"):
        tg.draw(3.0)


def test_max_nodes_guards_big_graphs_and_says_what_to_do():
    x = Value(1.0)
    y = x
    for _ in range(600):
        y = y.tanh()
    with pytest.raises(ValueError, match=r"has 1201 nodes .* more than max_nodes=1000.*Pass max_nodes=1201"):
        tg.draw(y)
    assert tg.draw(y, max_nodes=1201).n_nodes == 1201


def test_dot_files_need_no_graphviz(tmp_path, monkeypatch):
    monkeypatch.setattr(viz, "_with_dot", None)
    monkeypatch.setattr(viz, "_with_pygraphviz", None)
    loss, _ = neuron()
    path = tg.draw(loss).render(tmp_path / "graph.dot")
    assert path.read_text().startswith("digraph {")
    with pytest.raises(ValueError, match=r"unknown file type '.jpg'"):
        tg.draw(loss).render(tmp_path / "graph.jpg")


def check_files(tmp_path, drawing):
    png = drawing.render(tmp_path / "graph.png")
    assert png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    image = matplotlib.image.imread(png)
    assert image.shape[0] > 100 and image.shape[1] > 300 and image.std() > 0.05
    svg = ET.parse(drawing.render(tmp_path / "graph.svg")).getroot()
    assert svg.tag.endswith("svg")
    texts = [t.text for t in svg.iter() if t.tag.endswith("text")]
    assert "σ" in texts and "w" in texts
    pdf = drawing.render(tmp_path / "sub" / "graph.pdf").read_bytes()
    assert pdf[:5] == b"%PDF-" and len(pdf) > 1000


@pytest.fixture(params=["pygraphviz", pytest.param("system dot", marks=pytest.mark.system_dot)])
def renderer(request, monkeypatch):
    """Each rendering path in turn: pygraphviz alone (no dot on PATH), then the system dot."""
    if request.param == "pygraphviz":
        monkeypatch.setenv("PATH", "")
        assert shutil.which("dot") is None
        monkeypatch.setattr(viz, "_with_dot", None)  # must not be called
    else:
        if shutil.which("dot") is None:
            if os.environ.get("TINYGRAD_LR_REQUIRE_DOT"):
                pytest.fail("the system dot is not on PATH, but TINYGRAD_LR_REQUIRE_DOT is set")
            pytest.skip("no system dot on PATH (apt-get install graphviz); .ci/run installs it")
        monkeypatch.setattr(viz, "_with_pygraphviz", None)  # must not be called
    return request.param


def test_renders_png_svg_and_pdf(tmp_path, renderer):
    loss, _ = neuron()
    check_files(tmp_path, tg.draw(loss))


def test_graphviz_errors_raise_and_its_warnings_are_not_printed(renderer, capfd):
    with pytest.raises(viz.GraphvizError, match=r"could not draw the graph: Error: .*mismatched tag"):
        viz.render_bytes("digraph { a [label=<<b>x</i>>]; }", "svg")
    with pytest.raises(viz.GraphvizError, match=r"syntax error in line 1"):
        viz.Drawing("digraph { a -> ; }", 1).render("never.svg")
    data, said = viz.render_bytes("digraph { a [shape=nonsense]; }", "svg")
    assert data.lstrip().startswith(b"<?xml")
    assert any("unknown shape nonsense" in line for line in said)
    assert capfd.readouterr() == ("", "")


def test_a_big_graph_renders_without_chatter(renderer, capfd):
    source = "digraph {" + "".join(f" n{i};" for i in range(1200)) + " }"  # pygraphviz warns above 1000
    assert viz.render_bytes(source, "svg")[0].count(b'<g id="node') == 1200
    assert capfd.readouterr() == ("", "")


def test_the_projects_own_pictures_make_graphviz_say_nothing(renderer):
    model = nn.MLP([2, 3, 1], seed=0)
    loss = nn.functional.binary_cross_entropy(model(Tensor([[1.0, 2.0], [3.0, 4.0]])), np.array([1.0, 0.0]))
    loss.backward(retain_grads=True)
    for root in (loss, neuron()[0]):
        _, said = viz.render_bytes(tg.draw(root).source, "svg")
        assert not [line for line in said if not line.startswith("Fontconfig")], said


@pytest.mark.parametrize("fmt", ["png", "svg"])
def test_rendering_in_a_fresh_process_prints_nothing(tmp_path, fmt):
    # a new process: the fontconfig bundled with pygraphviz reads its configuration (and used
    # to complain about Debian's) only once, at the first picture
    script = (
        "import tinygrad_lr as tg; l = tg.expr('log(sigmoid(w*x + b))', x=2, w=-0.5, b=0.1); "
        f"l.backward(); tg.draw(l).render({str(tmp_path / ('x.' + fmt))!r})"
    )
    env = {**os.environ, "PATH": ""}
    result = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, env=env)
    assert (result.returncode, result.stdout, result.stderr) == (0, "", "")
    assert (tmp_path / f"x.{fmt}").stat().st_size > 1000


def test_without_any_graphviz_the_error_says_what_to_install(monkeypatch):
    monkeypatch.setenv("PATH", "")
    monkeypatch.setitem(sys.modules, "pygraphviz", None)
    loss, _ = neuron()
    with pytest.raises(
        viz.GraphvizMissing, match=r"apt-get install graphviz.*pip install pygraphviz.*\.dot files"
    ):
        tg.draw(loss).render("never.png")


def test_jupyter_display_is_svg():
    loss, _ = neuron()
    bundle = tg.draw(loss)._repr_mimebundle_()
    assert bundle["image/svg+xml"].lstrip().startswith(("<?xml", "<svg", "<!--"))
    nodes = tg.engine.walk(loss)
    count = len(nodes) + sum(n._ctx is not None for n in nodes)
    assert f"<Drawing of {count} nodes" in repr(tg.draw(loss))


def test_a_notebooks_graph_is_never_wider_than_its_cell():
    # an HTML export gives the cell its width; a graph of a fixed width in pt was clipped
    lesson_loss = tg.lesson.network()
    drawing = tg.draw(lesson_loss)
    root = ET.fromstring(drawing._repr_mimebundle_()["image/svg+xml"])
    drawn = ET.fromstring(drawing.pipe("svg").decode())
    assert root.get("width") == "100%" and "height" not in root.attrib
    assert root.get("style") == f"max-width: {drawn.get('width')}; height: auto"  # never enlarged
    assert root.get("viewBox") == drawn.get("viewBox")  # what scales it, the drawing's own


def svg_geometry(svg: str) -> tuple[dict, list, float]:
    """The nodes of an SVG that graphviz drew (title -> the table's box or the ellipse), its
    edges (target title, where the arrowhead's tip is), and its width/height."""
    root = ET.fromstring(svg)
    nodes, edges = {}, []

    def points(text):
        return [tuple(map(float, pair.split(","))) for pair in text.split()]

    for group in root.iter():
        if not group.tag.endswith("g"):
            continue
        kind = group.get("class")
        title = next((child.text for child in group if child.tag.endswith("title")), None)
        if kind == "node":
            ellipse = next((c for c in group if c.tag.endswith("ellipse")), None)
            if ellipse is not None:
                nodes[title] = ("ellipse", tuple(float(ellipse.get(k)) for k in ("cx", "cy", "rx", "ry")))
            else:
                corners = [p for c in group if c.tag.endswith("polygon") for p in points(c.get("points"))]
                xs, ys = [x for x, _ in corners], [y for _, y in corners]
                nodes[title] = ("box", (min(xs), min(ys), max(xs), max(ys)))
        elif kind == "edge":
            path = next(c for c in group if c.tag.endswith("path")).get("d")
            end = tuple(map(float, re.findall(r"-?[\d.]+,-?[\d.]+", path)[-1].split(",")))
            head = points(next(c for c in group if c.tag.endswith("polygon")).get("points"))
            tip = max(head, key=lambda p: math.dist(p, end))
            edges.append((title.split("->")[1], tip))
    width, height = (float(root.get(k).removesuffix("pt")) for k in ("width", "height"))
    return nodes, edges, width / height


def distance_to_boundary(shape, point) -> float:
    kind, values = shape
    x, y = point
    if kind == "ellipse":
        cx, cy, rx, ry = values
        t = math.hypot((x - cx) / rx, (y - cy) / ry)
        return math.dist(point, (cx + (x - cx) / t, cy + (y - cy) / t))
    x0, y0, x1, y1 = values
    outside = math.hypot(max(x0 - x, 0, x - x1), max(y0 - y, 0, y - y1))
    return outside or min(x - x0, x1 - x, y - y0, y1 - y)


@pytest.mark.parametrize("graph", ["lesson", "neuron", "logistic regression"])
def test_edges_meet_their_boxes_and_the_default_picture_fits_a_slide(graph, renderer):
    if graph == "lesson":
        root = tg.lesson.network()
    elif graph == "neuron":
        root = neuron()[0]
    else:  # the Tensor logistic regression whose picture was 6335x213 px
        model = nn.LogisticRegression(2)
        root = nn.functional.binary_cross_entropy(
            model(Tensor([[1.0, 2.0], [3.0, 4.0]])), np.array([1.0, 0.0])
        )
    root.backward(retain_grads=True)
    nodes, edges, aspect = svg_geometry(tg.draw(root).pipe("svg").decode())
    assert len(edges) > 5
    for target, tip in edges:
        assert distance_to_boundary(nodes[target], tip) <= 2.0, (target, tip, nodes[target])
    assert 1 / 3.5 <= aspect <= 3.5, aspect


# every character XML 1.0 refuses (graphviz's labels are XML), and the other controls
UNREADABLE = "".join(map(chr, range(32))) + "\x7f\x85\ud800\ufffe\uffff"


def test_control_characters_in_names_are_drawn_as_python_escapes(renderer):
    class Odd(nn.Module):
        def __init__(self):
            super().__init__()
            setattr(self, "layer\x01", nn.Linear(2, 1, seed=0))

        def forward(self, x):
            return getattr(self, "layer\x01")(x)

    Odd.__name__ = "Odd\x02"
    a, b = Value(1.0, label="a\x01"), Value(2.0, label="\x00b")
    everything = Value(3.0, label="c" + UNREADABLE)
    value_graph = (a - b) * everything
    tensor_graph = Odd()(Tensor(np.ones((1, 2)))).sum()
    escaped = "c" + UNREADABLE.encode("unicode_escape").decode()
    for drawing, shown in (
        (tg.draw(value_graph), [r"a\x01", r"\x00b", escaped, r"a\x01 − \x00b"]),
        (tg.draw(tensor_graph), [r"Odd\x02", r"layer\x01: Linear", r"layer\x01.weight"]),
        (tg.draw(tensor_graph, collapse=True), [r"Odd\x02"]),
    ):
        svg = ET.fromstring(drawing.pipe("svg"))
        texts = [t.text.replace("\xa0", " ") for t in svg.iter() if t.tag.endswith("text") and t.text]
        for text in shown:
            assert text in texts, (text, texts)
