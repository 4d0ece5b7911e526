"""The stepper's web page: what it holds (always), and what a browser shows (marked ``browser``)."""

import json
import re
import shutil
import subprocess
import sys
import xml.etree.ElementTree as ET
from pathlib import Path

import numpy as np
import pytest

import tinygrad_lr as tg
from tinygrad_lr.teach import page
from tinygrad_lr.teach.step import CURRENT

from . import inprocess

NEURON = ["log(sigmoid(w*x + b))", "--set", "x=2", "w=-0.5", "b=0.1"]


def data_of(text):
    return json.loads(
        re.search(r'<script type="application/json" class="tglr-data">(.*?)</script>', text, re.S)[1]
    )


def neuron():
    return tg.expr(NEURON[0], x=2, w=-0.5, b=0.1)


def test_the_command_writes_a_page_with_no_reference_to_the_network(tmp_path):
    out = tmp_path / "out.html"
    result = inprocess.run("step", *NEURON, "--html", str(out))
    assert result.returncode == 0, result.stderr
    text = out.read_text(encoding="utf-8")
    assert "http://" not in text and "https://" not in text
    assert not re.search(r"<(link|img|iframe)\b|\bsrc=|@import|url\(", text)  # nothing to fetch
    assert text.count("<script") == 2  # the data and the hand-written script, inline
    steps = [step.lines() for step in tg.Backprop(neuron())]
    assert [step["lines"] for step in data_of(text)["steps"]] == steps


def test_the_page_records_what_each_step_changes():
    loss = tg.lesson.network()
    stepper = tg.Backprop(loss)
    data = data_of(page.html(stepper))
    ids = tg.draw(loss).ids
    names = {ids[node]: stepper.names[node] for node in ids}
    fill, grad = dict(data["start"]["fill"]), dict(data["start"]["grad"])
    for recorded, step in zip(data["steps"], stepper, strict=True):
        fill.update(recorded["fill"])
        grad.update(recorded["grad"])
        assert recorded["lines"] == step.lines()
        assert names[recorded["node"]] == step.name and fill[recorded["node"]] == CURRENT
        for sent in step.sent:  # the parents' boxes show the gradient as it stands
            shown = [line.rstrip() for line in grad[ids[sent.parent]] if line.strip()]
            assert shown == tg.show.array(sent.total, precision=4, limit=12)
    W = next(node for node in ids if names[ids[node]] == "W")
    np.testing.assert_allclose(W.grad, _lesson_gradient())  # the stepper stored what backward would


def _lesson_gradient():
    X, W, Y = (np.array(a) for a in (tg.lesson.X, tg.lesson.W, tg.lesson.Y))
    p = 1 / (1 + np.exp(-X @ W))
    return X.T @ (p - Y) / Y.size


def test_writing_or_showing_a_page_changes_no_gradient_and_not_the_stepper(tmp_path):
    loss = neuron()
    stepper = tg.Backprop(loss)
    stepper.step()
    leaves = [node for node in tg.engine.walk(loss) if node._ctx is None]
    before = [node.grad for node in leaves]
    stepper.html(tmp_path / "page.html")
    html = stepper._repr_html_()
    assert [node.grad for node in leaves] == before and len(stepper.done) == 1
    assert html.startswith('<div class="tglr"') and "<html" not in html
    assert re.search(r'id="(tglr-\w+)"', html)[1] != re.search(r'id="(tglr-\w+)"', stepper._repr_html_())[1]


@pytest.fixture(params=["pygraphviz", "system dot"])
def renderer(request, monkeypatch):
    """Each of graphviz's ways in: pygraphviz's own graphviz, and the system's dot (whose older
    versions, Debian 12's 2.42 among them, write a cell's fill with stroke="transparent")."""
    if request.param == "pygraphviz":
        monkeypatch.setenv("PATH", "")
        monkeypatch.setattr(tg.viz, "_with_dot", None)  # must not be called
    elif shutil.which("dot") is None:
        pytest.skip("no system dot on PATH (apt-get install graphviz); .ci/run installs it")
    else:
        monkeypatch.setattr(tg.viz, "_with_pygraphviz", None)  # must not be called
    return request.param


def test_every_filled_shape_of_a_node_follows_the_steps(renderer):
    text = page.html(tg.Backprop(tg.lesson.network()))
    svg = ET.fromstring(re.search(r"<svg.*</svg>", text, re.S)[0])
    groups = [group for group in svg.iter("g") if group.get("data-node")]
    nodes = tg.engine.walk(tg.lesson.network())
    assert len(groups) == len(nodes) + sum(node._ctx is not None for node in nodes)  # boxes and ops
    for group in groups:
        filled = [
            shape for shape in group if shape.tag in ("polygon", "ellipse") and shape.get("fill") != "none"
        ]
        assert filled and all(shape.get("data-fill") == "" for shape in filled), group.get("data-node")


def test_labels_cannot_break_out_of_the_page():
    x = tg.Value(2.0, label='</script><script>alert("x")</script>')
    y = x * tg.Value(3.0, label="https://example.com")
    y.label = "<b>&amp;"
    text = page.html(tg.Backprop(y))
    assert text.count("<script") == 2 and "https://" not in text
    names = {node["name"] for node in data_of(text)["nodes"].values()}
    assert names == {'</script><script>alert("x")</script>', "https://example.com", "<b>&amp;"}


def test_a_label_shows_as_it_is_written_in_its_box_and_tooltip():
    a, b = tg.Value(2.0, label='p xmlns="z" q'), tg.Value(3.0, label="r xmlns:x='y' s")
    svg = ET.fromstring(re.search(r"<svg.*</svg>", page.html(tg.Backprop(a * b)), re.S)[0])
    for label in (a.label, b.label):
        group = next(g for g in svg.iter("g") if g.findtext("title") == label)
        assert label in [text.text for text in group.iter("text")]


def test_bad_input_is_refused_clearly(tmp_path):
    with pytest.raises(TypeError, match=r"expected a tg\.Backprop, got list"):
        page.html([1.0])
    with pytest.raises(TypeError, match=r"got Value \(for a node n: tg.Backprop\(n\)\)"):
        page.html(tg.Value(1.0))
    result = inprocess.run("step", "--html", str(tmp_path / "page.png"))
    assert result.returncode == 2 and "ending in .html" in result.stderr
    for given in ("", " ", str(tmp_path / "page.html") + "/"):  # not a file name: refused, not ignored
        result = inprocess.run("step", "--all", "--html", given)
        assert result.returncode == 2 and result.stdout == "", given
        assert len(result.stderr.splitlines()) == 1 and "--html" in result.stderr, result.stderr
        assert (
            "ending in .html" in result.stderr
            or f"give a file or folder name, got {given!r}" in result.stderr
        )
    assert list(tmp_path.iterdir()) == []


@pytest.mark.parametrize("element_id", ['x"); alert("y', "1st", "", "a b", None])
def test_an_id_that_would_break_the_page_is_refused(element_id):
    with pytest.raises(ValueError, match=r"html: element_id=.* is not an id the page can use; give a letter"):
        page.html(tg.Backprop(neuron()), element_id=element_id)


@pytest.mark.parametrize("option", ["collapse", "show_grad", "highlight", "grads"])
def test_an_option_the_page_cannot_honour_is_refused(option):
    with pytest.raises(
        TypeError, match=rf"html: {option}= is not an option of the stepper page, which takes rankdir"
    ):
        tg.Backprop(neuron()).html("never.html", **{option: False})
    assert not Path("never.html").exists()


def test_a_graph_above_max_nodes_is_refused_with_what_to_pass(tmp_path):
    x = tg.Value(1.0, label="x")
    loss = x
    for _ in range(10):
        loss = loss * 1.5
    steps = tg.Backprop(loss)  # x, 10 constants, 10 products and their 10 ops
    with pytest.raises(ValueError, match=r"html: the graph has 31 nodes .* than max_nodes=30") as refused:
        tg.page.notebook_html(steps, max_nodes=30)
    calls = re.findall(r"(?:steps\.html|tg\.page\.notebook_html)\([^()]*\)", str(refused.value))
    assert len(calls) == 2
    for call in calls:
        shown = eval(call, {"tg": tg, "steps": steps, "path": tmp_path / "page.html"})  # the advice works
        assert shown == tmp_path / "page.html" or shown.startswith('<div class="tglr"')
    assert (tmp_path / "page.html").exists()
    big = x
    for _ in range(1600):
        big = big * 1.5
    with pytest.raises(
        ValueError, match=rf"the graph has 4801 nodes .* more than max_nodes={tg.page.DEFAULT_MAX_NODES}"
    ):
        tg.Backprop(big)._repr_html_()


def test_the_lesson_page_is_small():
    assert len(page.html(tg.Backprop(tg.lesson.network())).encode()) < 200_000


def open_page(browser, path):
    view = browser.new_page(viewport={"width": 1400, "height": 1000})
    errors = []
    view.on("console", lambda message: errors.append(message.text) if message.type == "error" else None)
    view.on("pageerror", lambda error: errors.append(str(error)))
    asked = []

    def answer(route):  # the page itself, then nothing: no network, no second file
        if asked:
            errors.append(f"the page asked for {route.request.url}")
        asked.append(route.request.url)
        route.abort() if len(asked) > 1 else route.continue_()

    view.route("**/*", answer)
    view.goto(path.as_uri())
    view.wait_for_load_state("networkidle")
    return view, errors


def shown_lines(value):
    return [line.rstrip() for line in tg.viz.cell_lines(value)]


@pytest.mark.browser
@pytest.mark.parametrize("which", ["neuron", "lesson"])
def test_a_browser_steps_through_the_page(browser, tmp_path, which):
    path = tmp_path / f"{which}.html"
    if which == "neuron":
        subprocess.run(
            [sys.executable, "-m", "tinygrad_lr", "step", *NEURON, "--html", str(path)], check=True
        )
        loss = neuron()
    else:
        loss = tg.lesson.network()
        tg.Backprop(loss).html(path)
    expected = list(tg.Backprop(loss))  # a pass of its own: the steps and what backward stores
    ids = tg.draw(loss).ids
    view, errors = open_page(browser, path)
    text = lambda: view.text_content(".tglr-text")  # noqa: E731
    assert "Press →" in text() and view.locator(".tglr-current").count() == 0

    for k, step in enumerate(expected, 1):
        view.keyboard.press("ArrowRight")
        assert text() == "\n".join(step.lines())
        assert view.text_content(".tglr-counter") == f"step {k} of {len(expected)}"
        current = view.locator("g.node.tglr-current:not([data-of])")
        assert current.count() == 1 and current.get_attribute("data-node") == ids[step.node]
        assert current.locator("title").text_content() == step.name
        assert {cell.get_attribute("fill") for cell in current.locator("[data-fill]").all()} == {CURRENT}
    view.keyboard.press("ArrowRight")  # past the end: stays at the end
    assert text() == "\n".join(expected[-1].lines())

    view.keyboard.press("Home")
    assert "Press →" in text() and view.locator(".tglr-current").count() == 0
    view.keyboard.press("End")
    assert text() == "\n".join(expected[-1].lines())
    view.locator(".tglr-slider").evaluate(
        "slider => { slider.value = 2; slider.dispatchEvent(new Event('input')); }"
    )
    assert text() == "\n".join(expected[1].lines())
    view.keyboard.press("ArrowLeft")
    assert text() == "\n".join(expected[0].lines())

    view.keyboard.press("End")
    leaf = next(n for n in ids if n._ctx is None and n.requires_grad)
    view.click(f"g.node[data-node='{ids[leaf]}']")
    info = view.text_content(".tglr-info")
    assert expected[0].backprop.names[leaf] in info
    for line in shown_lines(leaf.grad):  # what backward stored, as the box shows it
        assert line in info
    op = next(n for n in ids if n._ctx is not None and n is not loss)
    view.click(f"g.node[data-node='{ids[op]}_op']")
    names = expected[0].backprop.names  # a name that is its expression (w·x) is the whole line
    assert f"made by{names.equation(op)}" in view.text_content(".tglr-info") and names.shown(op)
    view.screenshot(path=tmp_path / f"{which}.png", full_page=True)
    assert (tmp_path / f"{which}.png").stat().st_size > 10_000
    assert errors == []


def _value_used_twice():
    a, b = tg.Value(2.0, label="a"), tg.Value(-3.0, label="b")
    c = a * b
    return c + c * a


def _broadcast():
    x = tg.Tensor(np.arange(6.0).reshape(2, 3), requires_grad=True, label="x")
    bias = tg.Tensor(np.array([1.0, -2.0, 0.5]), requires_grad=True, label="bias")
    shifted = x + bias
    return (shifted * shifted).sum()


def _odd_labels():
    a = tg.Value(2.0, label="</script><!--")
    b = tg.Value(3.0, label="&amp; \"q\" 'ü' σ")
    c = a * b
    c.label = 'p xmlns="z" q'
    out = c + tg.Value(0.5, label="{{svg}}")
    out.label = "<b>L</b>"
    return out


GRAPHS = {  # odd graphs: each call builds a new one
    "neuron": neuron,
    "lesson": tg.lesson.network,
    "a value used twice": _value_used_twice,
    "a leaf used twice": lambda: tg.Value(3.0, label="x") * tg.Value(3.0, label="x"),
    "x·x": lambda: (lambda x: x * x)(tg.Value(3.0, label="x")),
    "one node": lambda: tg.Value(5.0, label="w"),
    "broadcasting": _broadcast,
    "constants": lambda: (lambda x: 3 * x + 2 - x / 4)(tg.Value(2.0, label="x")),
    "huge and tiny": lambda: (lambda x, y: x * y * x)(tg.Value(1e300, label="x"), tg.Value(1e-300)),
    "nan and inf": lambda: tg.Value(float("inf"), label="x") * tg.Value(0.0, label="z") + tg.Value(1.0),
    "odd labels": _odd_labels,
}


def boxes(view):
    """What each node's group shows: its tooltip, its fills, its gradient's lines (spaces as spaces)."""
    return view.evaluate(
        """root => Object.fromEntries([...root.querySelectorAll("g.node[data-node]")].map(group => [
            group.dataset.node, {
              title: group.querySelector("title").textContent,
              fill: [...new Set([...group.querySelectorAll("[data-fill]")].map(c => c.getAttribute("fill")))],
              grad: [...group.querySelectorAll("[data-grad-line]")]
                .map(c => c.textContent.replace(/\\u00a0/g, " ")),
            }]))""",
        view.query_selector(".tglr"),
    )


def numbers_in(lines):
    found = re.findall(r"nan|-?inf|[-+]?\d+\.?\d*(?:e[-+]?\d+)?", " ".join(lines))
    return np.array([float(number) for number in found])


@pytest.mark.browser
@pytest.mark.parametrize("which", list(GRAPHS))
def test_every_box_shows_what_backprop_has_at_every_step(browser, tmp_path, which):
    root = GRAPHS[which]()
    page.write(tg.Backprop(root), tmp_path / "page.html")
    run = tg.Backprop(root, store=False)
    states = [(None, run.colors(), run.gradients())]
    for step in run:
        states.append((step, run.colors(), run.gradients()))
    ids = tg.draw(root).ids
    graded = [node for node in ids if node.requires_grad or node._ctx is not None]
    leaf = next((node for node in graded if node._ctx is None), root)
    view, errors = open_page(browser, tmp_path / "page.html")
    view.click(f"g.node[data-node='{ids[leaf]}']")  # the panel follows the steps
    start = view.inner_html(".tglr")
    for k, (step, colors, grads) in enumerate(states):
        if k:
            view.keyboard.press("ArrowRight")
            assert view.text_content(".tglr-text") == "\n".join(step.lines())
        shown = boxes(view)
        assert set(shown) == set(ids.values()) | {f"{ids[node]}_op" for node in ids if node._ctx is not None}
        for node in ids:
            assert shown[ids[node]]["title"] == run.names[node]
            assert shown[ids[node]]["fill"] == [tg.viz.box_fill(node, colors.get(node))], (k, run.names[node])
            if node._ctx is not None:
                assert shown[f"{ids[node]}_op"]["fill"] == [tg.viz.op_fill(colors.get(node))]
        for node in graded:
            want = ["—"] if grads[node] is None else tg.show.array(grads[node], precision=4, limit=12)
            indented = [" " * len("grad ") * bool(i) + line for i, line in enumerate(want)]  # as in a box
            assert [line.rstrip() for line in shown[ids[node]]["grad"] if line.strip()] == indented, (k, node)
        info = view.text_content(".tglr-info")
        if grads[leaf] is None:
            assert "nothing has reached it yet" in info
        else:
            assert "\n".join(tg.show.array(grads[leaf], precision=4, limit=12)) in info
    again = GRAPHS[which]()  # the same graph, differentiated by backward()
    again.backward(**({"retain_grads": True} if isinstance(again, tg.Tensor) else {}))
    for node, twin in zip(ids, tg.engine.walk(again), strict=True):
        if node.requires_grad or node._ctx is not None:
            np.testing.assert_allclose(
                numbers_in(shown[ids[node]]["grad"]), np.ravel(twin.grad), rtol=1e-4, atol=6e-5
            )
    for _ in states[1:]:
        view.keyboard.press("ArrowLeft")
    assert view.inner_html(".tglr") == start  # back where it started, exactly
    assert errors == []


@pytest.mark.browser
def test_notebook_pages_work_side_by_side(browser, tmp_path):
    stepper = tg.Backprop(tg.lesson.network())
    fragments = stepper._repr_html_() + tg.Backprop(neuron())._repr_html_()
    both = f"<!DOCTYPE html><meta charset='utf-8'>{fragments}"
    path = tmp_path / "notebook.html"
    path.write_text(both, encoding="utf-8")
    view, errors = open_page(browser, path)
    first, second = view.locator(".tglr").all()
    first.locator(".tglr-counter").click()  # a click gives the page the keys
    view.keyboard.press("ArrowRight")
    view.keyboard.press("ArrowRight")
    assert first.locator(".tglr-counter").text_content() == f"step 2 of {stepper.total}"
    assert second.locator(".tglr-counter").text_content().startswith("step 0 of ")
    second.locator("button[data-action='last']").click()
    assert second.locator(".tglr-text").text_content().startswith("step 7 of 7")
    assert errors == []


@pytest.mark.browser
def test_the_screenshot_in_the_docs_is_made_by_a_script(browser, tmp_path):
    script = Path(__file__).resolve().parents[1] / "docs" / "make_screenshot.py"
    subprocess.run([sys.executable, str(script), str(tmp_path)], check=True, capture_output=True)
    assert (tmp_path / "stepper_page.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    committed = script.parent / "screenshots" / "stepper_page.png"
    assert committed.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


SIZES = [(1024, 768), (1280, 800), (1920, 1080)]  # projectors


def in_view(view, selector):
    """Whether the box of ``selector``'s element lies inside the viewport, and the box."""
    box = view.locator(selector).bounding_box()
    size = view.viewport_size
    right, bottom = box["x"] + box["width"], box["y"] + box["height"]
    return min(box["x"], box["y"]) >= 0 and right <= size["width"] and bottom <= size["height"], box


def overflowing_text(view):
    """The step text's horizontal overflow of its panel, in px (0: every line fits)."""
    return view.evaluate("text => text.scrollWidth - text.clientWidth", view.query_selector(".tglr-text"))


@pytest.mark.browser
@pytest.mark.parametrize("which", ["neuron", "lesson"])
@pytest.mark.parametrize("size", SIZES, ids=lambda size: "x".join(map(str, size)))
def test_on_a_projector_the_current_node_and_the_step_text_are_in_view(browser, tmp_path, which, size):
    loss = neuron() if which == "neuron" else tg.lesson.network()
    path = tg.Backprop(loss).html(tmp_path / f"{which}.html")
    view, errors = open_page(browser, path)
    view.set_viewport_size({"width": size[0], "height": size[1]})
    problems = []
    for k in range(1, tg.Backprop(loss).total + 1):
        view.keyboard.press("ArrowRight")
        if k == 3:  # for a person to look at
            view.screenshot(path=tmp_path / f"{which}-{size[0]}x{size[1]}.png")
        inside, box = in_view(view, "g.node.tglr-current:not([data-of])")
        if not inside:
            problems.append(f"step {k}: the current node's box {box} is not in view")
        if not in_view(view, ".tglr-text")[0]:
            problems.append(f"step {k}: the step text is not in view")
        if overflowing_text(view) > 0:
            problems.append(f"step {k}: the step text overflows its panel by {overflowing_text(view)} px")
    print(f"screenshots: {tmp_path}")
    assert problems == []
    assert errors == []


def text_px(view):
    """The height in px of the graph's smallest text as the page draws it (font size × the SVG's scale)."""
    return view.evaluate(
        """svg => Math.min(...[...svg.querySelectorAll("text")].map(t => Number(t.getAttribute("font-size"))))
            * svg.getBoundingClientRect().width / svg.viewBox.baseVal.width""",
        view.query_selector(".tglr-graph svg"),
    )


@pytest.mark.browser
def test_a_teacher_can_enlarge_the_graph_and_still_see_every_step(browser, tmp_path):
    loss = tg.lesson.network()
    path = tg.Backprop(loss).html(tmp_path / "lesson.html")
    view, errors = open_page(browser, path)
    view.set_viewport_size({"width": 1024, "height": 768})
    fitted = text_px(view)
    assert in_view(view, ".tglr-graph svg")[0]  # fitted: the whole graph is on the screen
    for _ in range(3):
        view.keyboard.press("+")
    assert text_px(view) == pytest.approx(fitted * 1.25**3, rel=0.02) and text_px(view) >= 12
    for k in range(1, tg.Backprop(loss).total + 1):
        view.keyboard.press("ArrowRight")
        assert in_view(view, "g.node.tglr-current:not([data-of])")[0], k
        if k == 5:
            view.screenshot(path=tmp_path / "lesson-1024x768-larger.png")
    view.keyboard.press("-")
    assert text_px(view) == pytest.approx(fitted * 1.25**2, rel=0.02)
    view.keyboard.press("0")
    assert text_px(view) == pytest.approx(fitted, rel=0.02)
    view.keyboard.press("-")  # fitted is the smallest
    assert text_px(view) == pytest.approx(fitted, rel=0.02)
    for button in ("larger", "larger", "smaller"):
        view.click(f"button[data-action='{button}']")
    assert text_px(view) == pytest.approx(fitted * 1.25, rel=0.02)
    assert "+ and − make the graph larger and smaller" in " ".join(view.text_content(".tglr-info").split())
    print(f"screenshot: {tmp_path}")
    assert errors == []


def test_the_docs_tell_how_to_enlarge_the_graph():
    docs = (Path(__file__).resolve().parents[1] / "docs" / "stepping.md").read_text(encoding="utf-8")
    assert "+ and − make the graph larger and smaller" in " ".join(docs.split())
