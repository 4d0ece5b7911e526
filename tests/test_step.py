"""The backprop stepper: the same order and arithmetic as backward(), and what it shows."""

import html
import math
import re
import sys

import numpy as np
import pexpect
import pytest
from hypothesis import given
from PIL import Image

import tinygrad_lr as tg
from tinygrad_lr import Tensor, Value
from tinygrad_lr.teach.step import KEY

from . import inprocess
from .test_dag_property import programs, run


def neuron():
    x, w, b = Value(2.0, label="x", requires_grad=False), Value(-0.5, label="w"), Value(0.1, label="b")
    z = w * x + b
    z.label = "z"
    p = z.sigmoid()
    p.label = "p"
    loss = -p.log()
    loss.label = "L"
    return loss, (x, w, b, z, p)


@given(programs())
def test_stepping_to_the_end_gives_backwards_gradients_and_contributions_add_up(program):
    leaves, steps = program
    stepped = [Value(x) for x in leaves]
    plain = [Value(x) for x in leaves]
    run(steps, *plain).backward()
    out = run(steps, *stepped)
    stepper = tg.Backprop(out)
    received: dict = {}
    for step in stepper:
        for parent, _, _, contribution, total, final in step.sent:
            received[parent] = contribution if parent not in received else received[parent] + contribution
            assert (total == received[parent]) or (math.isnan(total) and math.isnan(received[parent]))
            if final:
                assert stepper._pass.waiting[parent] == 0
    for a, b in zip(stepped, plain):
        assert a.grad == b.grad or (math.isnan(a.grad) and math.isnan(b.grad))
    for node, grad in stepper.finished.items():  # every node's gradient is what it received
        if node is not out and node in received:
            assert grad == received[node] or (math.isnan(grad) and math.isnan(received[node]))


def test_backward_is_the_stepper_run_to_the_end(monkeypatch):
    calls = []
    original = tg.engine.BackwardPass.step

    def counting(self, sent=None, *, to_end=False):
        calls.append((self, to_end, len(self.waiting)))
        return original(self, sent, to_end=to_end)

    monkeypatch.setattr(tg.engine.BackwardPass, "step", counting)
    loss, _ = neuron()
    loss.backward()
    assert [(to_end, nodes) for _, to_end, nodes in calls] == [(True, 7)]  # the one step, to the end
    calls.clear()
    list(tg.Backprop(neuron()[0]))
    assert [to_end for _, to_end, _ in calls] == [False] * 7 and len({s for s, _, _ in calls}) == 1


def test_a_step_reads_as_the_chain_rule_with_numbers():
    loss, (_, w, b, z, p) = neuron()
    steps = tg.Backprop(loss)
    assert repr(steps) == "Backprop from L: 0 of 7 nodes done; call .step() for the next"
    first, _, third, fourth = steps.step(), steps.step(), steps.step(), steps.step()
    assert first.node is loss and third.node is p and fourth.node is z
    s = 1 / (1 + math.exp(0.9))
    text = repr(fourth)
    assert text.splitlines()[0] == f"step 4 of 7: z = w·x + b; dL/dz = {tg.show.number(s - 1, 5)}"
    assert "dL/db += dL/dz · 1 = -0.71095 · 1.0 = -0.71095   [done: dL/db = -0.71095]" in text
    assert "dL/dz += dL/dp · p·(1 − p)" in repr(third)
    assert f"= -3.4596 · {tg.show.number(s * (1 - s), 5)} = -0.71095" in repr(third)
    assert steps.current is z and steps.done[-2:] == [p, z] and steps.remaining == 3
    assert "4 of 7 nodes done, last z" in repr(steps)
    rest = list(steps)
    assert {st.node for st in rest} >= {w, b} and steps.remaining == 0
    assert "7 of 7 nodes done" in repr(steps) and "finished" in repr(steps)
    assert steps.step() is None  # and it says that backprop is finished
    assert w.grad == pytest.approx((s - 1) * 2.0) and b.grad == pytest.approx(s - 1)


def test_the_formula_text_comes_from_the_op_table(monkeypatch):
    monkeypatch.setattr(tg.REGISTRY["sigmoid"], "formula", ("2*tanh(x)",))
    loss, _ = neuron()
    assert "dL/dp · 2·tanh(z)" in "\n".join(repr(step) for step in tg.Backprop(loss))


def test_the_step_shows_what_the_numbers_are_at_a_tie_and_for_a_power():
    a, b = Value(1.5, label="a"), Value(1.5, label="b")
    m = tg.maximum(a, b)
    m.label = "m"
    first = tg.Backprop(m).step().lines()
    # ½ each at a tie: the text says so, and evaluates to the number shown
    assert first[1].startswith("  dm/da += where([a < b], 0, where([a = b], 0.5·dm/dm, dm/dm)) = 0.5")
    assert first[2].startswith("  dm/db += where([b < a], 0, where([a = b], 0.5·dm/dm, dm/dm)) = 0.5")
    x = Value(1.5, label="x")
    for power, text, local in ((2, "2·x", 3.0), (3, "3·x²", 6.75), (0.5, "0.5·x^(−0.5)", 0.5 * 1.5**-0.5)):
        y = x**power
        y.label = "y"
        line = tg.Backprop(y).step().lines()[1]
        assert line.startswith(f"  dy/dx += dy/dy · {text} = 1.0 · {tg.show.number(local, 5)}")


def test_partial_gradients_say_more_to_come():
    a = Value(3.0, label="a")
    loss = a * a + a
    loss.label = "L"
    lines = "\n".join(repr(step) for step in tg.Backprop(loss))
    assert "[more to come]" in lines and "[done: dL/da = 7.0]" in lines


def test_tensor_graphs_step_in_matrix_form():
    x = Tensor([[1.0, 2.0], [3.0, 4.0]], label="X")
    W = Tensor([[0.5], [0.3]], requires_grad=True, label="W")
    b = Tensor([0.1], requires_grad=True, label="b")
    z = x @ W + b
    loss = tg.bce_with_logits(z.reshape(-1), [1.0, 0.0])
    text = "\n".join(repr(step) for step in tg.Backprop(loss))
    grad_z = (1 / (1 + np.exp(-(x.data @ W.data + b.data))) - [[1.0], [0.0]]) / 2
    grad_w = x.data.T @ grad_z
    assert np.allclose(W.grad, grad_w)
    assert "step 5 of 6: z = X·W (2x1)" in text  # unnamed nodes get short names: z, then z2
    expected_w = "\n".join(f"      {row}" for row in tg.show.array(grad_w))
    assert "dL/dW (2x1) += Xᵀ (2x2) · dL/dz (2x1) =\n" + expected_w in text
    assert (
        "dL/db (1,) += dL/d(z2) (2x1), summed over axis 0 = " + tg.show.array(grad_z.sum(axis=0))[0] in text
    )
    assert not re.search(r"\bv\d+\b", text) and not re.search(r"-0\.0*(?![0-9])", text)  # no v14, no -0.


def test_draw_colours_the_progress():
    loss, _ = neuron()
    steps = tg.Backprop(loss)
    for _ in range(4):
        steps.step()
    source = steps.draw().source
    from tinygrad_lr.teach import step as stepmod

    box = {label: line for line in source.splitlines() for label in "wbpz" if f"<b>{label}</b>" in line}
    assert stepmod.CURRENT in box["z"] and stepmod.DONE in box["p"]
    assert stepmod.READY in box["b"] and ">—<" in box["w"]  # w has not been reached
    key = source.split("label=<<table", 1)[1].split("</table>", 1)[0]  # the key says what each colour is
    for color, meaning in stepmod.KEY:
        assert f'bgcolor="{color}"' in key and meaning in key


def test_frames_and_gif_have_one_picture_per_step(tmp_path):
    loss, _ = neuron()
    paths = tg.Backprop(loss).frames(tmp_path / "frames")
    assert len(paths) == 8 and all(p.read_bytes()[:4] == b"\x89PNG" for p in paths)  # forward + 7 steps
    gif = tg.Backprop(neuron()[0]).gif(tmp_path / "backprop.gif")
    with Image.open(gif) as image:
        assert image.format == "GIF" and image.n_frames == 8


def _caption(source: str) -> list[str]:
    """The caption lines of a frame's DOT text, as text (the padding taken off)."""
    label = next(line for line in source.splitlines() if line.startswith("  labelloc=t; label="))
    rows = re.findall(r'<font face="monospace">(.*?)</font>', label)
    return [html.unescape(row).rstrip("\u00a0") for row in rows if row.strip("\u00a0")]


@pytest.mark.parametrize("build", [lambda: neuron()[0], tg.lesson.network], ids=["neuron", "lesson"])
def test_each_frame_is_captioned_with_its_step_and_the_first_shows_the_forward_pass(tmp_path, build):
    frames = tg.Backprop(build()).frames(tmp_path, suffix=".dot")
    steps = list(tg.Backprop(build(), store=False))  # the same pass, stepped on its own
    assert len(frames) == len(steps) + 1
    assert _caption(frames[0].read_text()) == ["forward pass: values, no gradients yet"]
    shown = re.findall(r'>grad <font face="monospace">(.)', frames[0].read_text())
    assert shown and set(shown) == {"—"}  # no gradient yet
    for k, (frame, step) in enumerate(zip(frames[1:], steps), start=1):
        assert _caption(frame.read_text()) == step.lines()
        assert step.lines()[0].startswith(f"step {k} of {len(steps)}: ")


def test_a_wrapped_frame_shows_its_caption_and_key_once(tmp_path):
    frames = tg.Backprop(tg.lesson.network()).frames(tmp_path, suffix=".svg", steps=1, rankdir="LR")
    svg = frames[-1].read_text()
    assert svg.count('class="cluster"') >= 2  # drawn in bands
    assert svg.count("step 1 of ") == 1 and svg.count(html.escape(KEY[0][1])) == 1


def cli(*args, stdin=""):
    return inprocess.run("step", *args, stdin=stdin)


def test_cli_with_piped_input_steps_then_quits():
    result = cli(stdin="\n\nq\n")
    assert result.returncode == 0
    assert "step 2 of 15" in result.stdout and "step 3 of 15" not in result.stdout
    assert "stopped after 2 of 15 steps" in result.stdout


def test_cli_all_shows_every_step():
    result = cli("sigmoid(w*x + b)", "--set", "x=2", "w=-0.5", "b=0.1", "--all")
    assert result.returncode == 0
    assert re.search(r"step 6 of 6: \w, an input", result.stdout)
    s = 1 / (1 + math.exp(0.9))
    slope = s * (1 - s)  # dL/dw = σ'·x, dL/dx = σ'·w, dL/db = σ'
    shown = [tg.show.number(v) for v in (slope * 2, slope * -0.5, slope)]
    assert f"gradients: dL/dw = {shown[0]}, dL/dx = {shown[1]}, dL/db = {shown[2]}" in result.stdout
    assert cli("x.y", "--set", "x=1").returncode == 2


@pytest.mark.parametrize(
    "args, count",
    [(("--all",), 16), (("--lesson", "--all"), 12), (("--lesson", "--all", "--rankdir", "LR"), 12)],
    ids=["neuron", "lesson", "lesson-LR"],
)
def test_cli_all_and_frames_of_one_size(tmp_path, args, count):
    folder = tmp_path / "_".join(args)
    result = cli(*args, "--frames", str(folder))
    assert result.returncode == 0 and "[Enter]" not in result.stdout
    frames = sorted(folder.glob("step_*.png"))
    assert len(frames) == count
    sizes = set()
    for frame in frames:
        with Image.open(frame) as image:
            sizes.add(image.size)
    assert len(sizes) == 1, sizes  # one layout, recoloured: the GIF does not jitter
    with Image.open(folder / "backprop.gif") as image:
        assert image.n_frames == count and image.size == sizes.pop()


def test_cli_in_a_real_terminal():
    child = pexpect.spawn(sys.executable, ["-m", "tinygrad_lr", "step"], encoding="utf-8", timeout=60)
    child.expect(r"\[Enter\] next step, q to quit > ")
    child.sendline("")
    child.expect(r"step 1 of 15: L = −ℓ; dL/dL = 1.0")
    child.expect(r"\[Enter\] next step")
    child.sendline("")
    child.expect(r"step 2 of 15")
    child.expect(r"\[Enter\] next step")
    child.sendline("q")
    child.expect("stopped after 2 of 15 steps")
    child.expect(pexpect.EOF)
    child.close()
    assert child.exitstatus == 0


def test_a_negative_number_after_an_operator_is_in_parentheses():
    x = Value(0.7, label="x")
    cases = [(x * -0.5, "L = x·(−0.5)"), (x - (-0.5), "L = x − (−0.5)"), (x * -Value(2.0, label="y"), "")]
    for out, head in cases:
        lines = [line for step in tg.Backprop(out) for line in step.lines()]
        assert head in lines[0], lines[0]
        for line in lines:  # no sign right after another operator: x·−0.5, · -0.5, − −0.5
            for sign in ("·−", "· -", "· −", "− −", "− -", "+ -", "+ −", "·-"):
                assert sign not in line, line


def test_a_name_with_a_superscript_is_bracketed_as_a_base():
    square = Value(1.5, label="x²")
    lines = [line for step in tg.Backprop(square**3) for line in step.lines()]
    assert "L = (x²)³" in lines[0] and "3·(x²)²" in lines[1], lines  # x²³ would read x to the 23


def test_a_reduction_along_an_axis_says_its_gradient_is_spread_back_before_the_share():
    # a (2,) gradient against the 2x2 share would broadcast along the wrong axis: the line
    # must say it is spread back first, and the numbers are that
    W = tg.Tensor([[1.0, 5.0], [7.0, 2.0]], requires_grad=True, label="W")
    weights = np.array([1.0, 10.0])
    loss = (W.max(1).values * tg.Tensor(weights)).sum()
    (step,) = [s for s in tg.Backprop(loss) if s.name == "amax(W, 1)"]
    line = next(line for line in step.lines() if line.startswith("  dL/dW"))
    assert "dL/d(amax(W, 1)) (2,) spread back to a 2x2 array ⊙ share" in line
    share = np.array([[0.0, 1.0], [1.0, 0.0]])  # where each row's max is
    np.testing.assert_array_equal(step.sent[0].contribution, weights[:, None] * share)
    assert not any(", 2, " in text or " 2, array" in text for s in tg.Backprop(loss) for text in s.lines())


def test_a_contribution_chosen_by_where_is_not_written_as_a_product():
    x = Value(-0.5, label="x")
    r = x.relu()
    r.label = "r"
    y = r**0.5  # dy/dr = inf at r = 0, which relu's where keeps out of dy/dx
    y.label = "y"
    lines = [line for step in tg.Backprop(y) for line in step.lines()]
    assert "  dy/dx += where([r > 0], dy/dr, 0) = 0.0   [done: dy/dx = 0.0]" in lines
    y.backward()
    assert x.grad == 0.0


REDUCTIONS = {  # a reduction of a 2x3 (or 2x1) tensor x, and the axes it reduces
    "amax(1)": (lambda x: x.amax(1), (2, 3), (1,)),
    "max(1).values": (lambda x: x.max(1).values, (2, 3), (1,)),
    "amax(-1)": (lambda x: x.amax(-1), (2, 3), (1,)),
    "amax(1) of one column": (lambda x: x.amax(1), (2, 1), (1,)),
    "amin(0, keepdims)": (lambda x: x.amin(0, keepdims=True), (2, 3), (0,)),
    "amax()": (lambda x: x.amax(), (2, 3), (0, 1)),
    "mean(1)": (lambda x: x.mean(1), (2, 3), (1,)),
    "cross_entropy none": (
        lambda x: tg.nn.functional.cross_entropy(x, np.array([2, 0]), reduction="none"),
        (2, 3),
        (1,),
    ),
    "cross_entropy mean": (lambda x: tg.nn.functional.cross_entropy(x, np.array([2, 0])), (2, 3), (0, 1)),
}


@pytest.mark.parametrize("case", REDUCTIONS)
def test_a_reduction_step_shows_the_numbers_backward_computes(case):
    reduce, shape, axes = REDUCTIONS[case]
    data = np.array([[0.5, -1.0, 2.0], [3.0, 0.25, -2.0]])[:, : shape[1]]

    def graph():
        x = Tensor(data, requires_grad=True, label="x")
        out = reduce(x)
        return x, (out * Tensor(np.arange(1.0, out.size + 1).reshape(out.shape))).sum()

    x, loss = graph()
    loss.backward()
    stepped, root = graph()
    steps = tg.Backprop(root).run()
    assert all(step.lines() for step in steps.steps)  # every step prints
    (step,) = [s for s in steps.steps if any(sent.parent is stepped for sent in s.sent)]
    sent = next(s for s in step.sent if s.parent is stepped)
    line = "\n".join(step.lines()[next(i for i, t in enumerate(step.lines()) if t.startswith("  dL/dx")) :])
    # what the line claims, derived from the graph: the output's gradient spread back along the
    # reduced axes (never broadcast against the local derivative), times the local derivative
    ctx = step.node._ctx
    values = {name: p.data if p is not None else v for name, p, v in tg.naming.arguments(ctx)}
    local = tg.formula.evaluate(ctx.fn.formula[0], {**values, **vars(ctx), "out": step.node.data})
    kept = [1 if k in axes else n for k, n in enumerate(shape)]
    spread = np.broadcast_to(np.reshape(step.grad, kept), shape)
    np.testing.assert_allclose(spread * local, x.grad, rtol=1e-12)
    assert f"spread back to a {shape[0]}x{shape[1]} array" in line and "summed over" not in line
    np.testing.assert_array_equal(sent.contribution, x.grad)  # what it printed is backward's gradient
    printed = [t.strip() for t in line.splitlines()]
    assert "\n".join(t.strip() for t in tg.show.array(x.grad)) in "\n".join(printed)
    assert "spread back" in tg.Backprop(graph()[1])._repr_html_()  # the page shows the same lines


MIXED_INDEXES = {  # indexes that mix slices, integers and arrays, one element picked twice
    "x[:, [0, 0, 2]]": (slice(None), [0, 0, 2]),
    "x[0, [1, 2]]": (0, [1, 2]),
    "x[..., [0, 0]]": (Ellipsis, [0, 0]),
}


@pytest.mark.parametrize("case", MIXED_INDEXES)
def test_a_mixed_index_step_shows_the_numbers_backward_computes(case):
    index = MIXED_INDEXES[case]

    def graph():
        x = Tensor(np.arange(12.0).reshape(3, 4), requires_grad=True, label="x")
        out = x[index]
        return x, (out * Tensor(np.arange(1.0, out.size + 1).reshape(out.shape))).sum()

    x, loss = graph()
    loss.backward()
    stepped, root = graph()
    steps = tg.Backprop(root).run()
    text = "\n".join(str(step) for step in steps.steps)
    (step,) = [s for s in steps.steps if any(sent.parent is stepped for sent in s.sent)]
    sent = next(s for s in step.sent if s.parent is stepped)
    # derived from the graph: the output's gradient added back where the index picked it
    expected = np.zeros(stepped.shape)
    np.add.at(expected, tuple(np.asarray(i) if isinstance(i, list) else i for i in index), step.grad)
    np.testing.assert_array_equal(expected, x.grad)
    np.testing.assert_array_equal(sent.contribution, x.grad)
    assert "\n".join(t.strip() for t in tg.show.array(x.grad)) in "\n".join(
        t.strip() for t in text.splitlines()
    )
    assert "scatter_add" in tg.Backprop(graph()[1])._repr_html_()  # the page shows the same step
