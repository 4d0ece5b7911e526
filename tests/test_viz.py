"""Graph pictures: the DOT text, and real PNG, SVG and PDF files by both rendering paths."""

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
    return re.findall(r"^\s*(n\d+) \[shape=plaintext label=<(.*)>\];$", source, re.M)


def test_one_box_per_node_and_one_ellipse_per_op():
    loss, _ = neuron()
    nodes = tg.engine.walk(loss)
    source = tg.draw(loss).source
    assert len(boxes(source)) == len(nodes)
    assert source.count("shape=ellipse") == sum(n._ctx is not None for n in nodes)
    assert {label for label in re.findall(r'shape=ellipse.*label="([^"]*)"', source)} == {
        "*",
        "+",
        "σ",
        "log",
        "-",
    }


def test_edges_connect_inputs_ops_and_results():
    x, y = Value(3.0, label="x"), Value(4.0, label="y")
    q = x / y
    source = tg.draw(q).source
    ids = {
        label: node for node, label in re.findall(r"(n\d+) \[shape=plaintext label=<.*?<b>(\w+)</b>", source)
    }
    op = re.search(r"(n\d+_op) \[shape=ellipse", source).group(1)
    assert f'{ids["x"]} -> {op} [label="x"]' in source and f'{ids["y"]} -> {op} [label="y"]' in source
    assert re.search(rf"{op} -> n\d+;", source)
    commutative = tg.draw(x * y).source
    assert not re.search(r"-> n\d+_op \[label=", commutative)


def test_boxes_carry_label_data_and_grad():
    loss, (_, w, _) = neuron()
    source = tg.draw(loss).source
    assert (
        "<b>w</b></td><td" in source
        and "data -0.5" in source
        and f"grad {tg.show.number(w.grad, 5)}" in source
    )
    assert "<b>L</b>" in source and "grad 1.0" in source
    no_grad = tg.draw(loss, show_grad=False).source
    assert "grad" not in no_grad and "data -0.5" in no_grad
    assert "data" not in tg.draw(loss, show_data=False).source.split("<b>w</b>")[1].split("</tr>")[0]


def test_tensor_boxes_show_shape_dtype_values_or_summary():
    small = Tensor([[1.0, 2.0]], requires_grad=True, label="W")
    big = Tensor(np.arange(20.0).reshape(10, 2), label="X")
    out = (big @ small.T).sum()
    out.backward()
    source = tg.draw(out).source
    assert "<b>W</b> (1, 2) float64" in source and "data [[1., 2.]]" in source
    assert "<b>X</b> (10, 2) float64" in source and "mean 9.5, range [0.0, 19.0]" in source
    assert "grad [[ 90., 100.]]" in source
    assert "grad —" in source  # an interior tensor keeps no grad unless retain_grads=True
    out.backward(retain_grads=True)
    assert "grad —" not in tg.draw(out).source
    assert "float32" in tg.draw(Tensor(np.ones(2, np.float32), requires_grad=True) * 2).source


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
    with pytest.raises(ValueError, match="rankdir must be 'LR' or 'TB'"):
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
    path = loss.draw().render(tmp_path / "graph.dot")
    assert path.read_text().startswith("digraph {")
    with pytest.raises(ValueError, match=r"unknown file type '.jpg'"):
        loss.draw().render(tmp_path / "graph.jpg")


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
    check_files(tmp_path, loss.draw())


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
        _, said = viz.render_bytes(root.draw().source, "svg")
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
        loss.draw().render("never.png")


def test_jupyter_display_is_svg():
    loss, _ = neuron()
    bundle = loss.draw()._repr_mimebundle_()
    assert bundle["image/svg+xml"].lstrip().startswith(("<?xml", "<svg", "<!--"))
    nodes = tg.engine.walk(loss)
    count = len(nodes) + sum(n._ctx is not None for n in nodes)
    assert f"<Drawing of {count} nodes" in repr(loss.draw())
