"""The command line, run as a user runs it: in the test process (``tinygrad_lr.cli.main``), and in
a process of its own where that is what is tested (the installed command and ``python -m``, a
terminal, a closed pipe, the streams Python sets up from the environment)."""

import importlib.metadata
import math
import os
import re
import shlex
import signal
import subprocess
import sys
import sysconfig
import xml.etree.ElementTree as ET
from pathlib import Path

import matplotlib.image
import pexpect
import pytest
from PIL import Image

import tinygrad_lr as tg

from .inprocess import run

COMMAND = [sys.executable, "-m", "tinygrad_lr"]


def assert_refused(result, *fragments):
    """Exit status 2, nothing done (no stdout), and one line on stderr naming the problem."""
    assert result.returncode == 2, (result.returncode, result.stderr)
    assert "Traceback" not in result.stderr and len(result.stderr.splitlines()) == 1, result.stderr
    assert result.stdout == ""
    for fragment in fragments:
        assert fragment in result.stderr, result.stderr


def test_neuron_prints_the_computation_its_gradients_and_formulas():
    result = run("neuron")
    assert result.returncode == 0, result.stderr
    out = result.stdout
    dw = tg.show.number((1 / (1 + math.exp(0.9)) - 1) * 2)  # (σ(−0.9) − 1)·x
    assert "p = σ(w·x + b)" in out
    assert f"dL/d(w) = {dw}" in out
    assert "d(p)/d(z) = p·(1 − p)" in out
    assert f"by hand: dL/dw = (p − 1)·x = {dw}" in out


def test_neuron_options_change_the_numbers():
    result = run("neuron", "--x", "1", "--w", "0", "--b", "0")
    assert result.returncode == 0
    assert "dL/d(b) = -0.5" in result.stdout


def test_neuron_takes_the_label_y():
    out = run("neuron", "--y", "0").stdout
    p = 1 / (1 + math.exp(0.9))  # σ(w·x + b) at the defaults
    assert "loss L = −log q, q = 1 − p for the label y = 0" in out
    assert f"dL/d(w) = {tg.show.number(p * 2)}" in out  # (p − 0)·x
    assert f"L = {tg.show.number(-math.log(1 - p)):>9}" in out
    assert "label y" in run("neuron", "--help").stdout
    assert_refused(run("neuron", "--y", "2"), "invalid choice: 2")


def test_help_and_unknown_commands():
    assert "demo" in run("--help").stdout
    assert "--batch-size" in run("demo", "--help").stdout
    assert_refused(run("frobnicate"), "invalid choice: 'frobnicate'")
    assert_refused(run(), "the following arguments are required: COMMAND")
    assert "must be a positive whole number" in run("demo", "--epochs", "0").stderr


def test_demo_trains_reports_and_writes_its_files(tmp_path):
    result = run("demo", "--out", str(tmp_path), "--epochs", "40", "--seed", "1")
    assert result.returncode == 0, result.stderr
    lines = result.stdout.splitlines()
    assert any(line.startswith("Breast Cancer Wisconsin: 569 tumours, 30 features") for line in lines)
    rows = {
        line[:22].strip(): line[22:].split() for line in lines if line.startswith(("logistic", "network"))
    }
    assert set(rows) == {"logistic regression", "network 30-16-1"}
    assert float(rows["logistic regression"][1]) >= 0.95  # test accuracy
    assert "epoch" in result.stderr  # the progress bars

    graph = (tmp_path / "logistic_regression_graph.png").read_bytes()
    assert graph[:8] == b"\x89PNG\r\n\x1a\n" and len(graph) > 10_000
    png = (tmp_path / "loss_curves.png").read_bytes()
    assert png[:8] == b"\x89PNG\r\n\x1a\n" and len(png) > 20_000
    image = matplotlib.image.imread(tmp_path / "loss_curves.png")
    assert image.shape[0] > 300 and image.shape[1] > 500 and image.std() > 0.05  # not blank

    X, y = tg.data.load_breast_cancer()
    _, X_test, _, y_test = tg.data.train_test_split(X, y, test_size=0.2, seed=1, stratify=True)
    X_train = tg.data.train_test_split(X, y, test_size=0.2, seed=1, stratify=True)[0]
    _, X_test = tg.data.standardize(X_train, X_test)
    model = tg.nn.LogisticRegression(30)
    model.load_state_dict(tg.load(tmp_path / "logistic_regression.npz"))
    assert f"{tg.training.accuracy(model, X_test, y_test):.3f}" == rows["logistic regression"][1]
    network = tg.nn.MLP([30, 16, 1])
    network.load_state_dict(tg.load(tmp_path / "mlp.npz"))
    assert f"{tg.training.accuracy(network, X_test, y_test):.3f}" == rows["network 30-16-1"][1]


def test_demo_is_quiet_on_request_and_its_report_is_in_a_file(tmp_path, quiet_demo):
    result, quiet = quiet_demo  # demo --out QUIET --epochs 2 --quiet
    loud = run("demo", "--out", str(tmp_path / "loud"), "--epochs", "2")
    assert (result.returncode, result.stdout, result.stderr) == (0, "", "")
    report = (quiet / "report.txt").read_text()
    shown = loud.stdout.replace(str(tmp_path / "loud"), str(quiet))
    assert report.splitlines()[:-1] == shown.splitlines()[:-1]  # all but the timing line
    assert report.splitlines()[-1].startswith("wrote ") and "report.txt" in report.splitlines()[-1]


def test_graph_of_a_formula(tmp_path):
    out = tmp_path / "g.svg"
    result = run("graph", "log(sigmoid(w*x + b))", "--set", "x=2", "w=-0.5", "b=0.1", "-o", str(out))
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == f"wrote {out} (11 nodes)"
    texts = [
        t.text.replace("\xa0", " ").strip() for t in ET.parse(out).getroot().iter() if t.tag.endswith("text")
    ]
    dw = tg.show.number((1 - 1 / (1 + math.exp(0.9))) * 2, 5)  # d log σ(z)/dw = (1 − σ(z))·x
    assert "w" in texts and dw in texts


def test_graph_of_the_lesson_network_and_bad_input(tmp_path):
    out = tmp_path / "lesson.dot"
    result = run("graph", "-o", str(out), "--rankdir", "TB", "--no-data")
    source = out.read_text()
    assert result.returncode == 0 and "rankdir=TB" in source
    assert all(f"<b>{name}</b>" in source for name in ("X", "W", "y", "z", "p", "1 − p", "L"))
    bad = run("graph", "x.__class__", "--set", "x=1")
    assert bad.returncode == 2 and "attribute access is not allowed" in bad.stderr
    missing = run("graph", "x + y", "--set", "x=1")
    assert missing.returncode == 2 and "give a value for y" in missing.stderr


def test_graph_and_demo_refuse_bad_input_clearly(tmp_path):
    moved = run(
        "graph", "--set", "x=2", "w=-0.5", "b=0.1", "log(sigmoid(w*x + b))", "-o", str(tmp_path / "g.dot")
    )
    assert moved.returncode == 0 and moved.stdout.startswith("wrote") and "(11 nodes)" in moved.stdout
    for args, message in [
        (("graph", "x", "--set", "x=abc"), "--set x=abc: 'abc' is not a number"),
        (("graph", "x", "--set", "x=1", "-o", "g.jpg"), "must end in .png, .svg, .pdf or .dot"),
        (("demo", "--lr", "-1"), "--lr: must be a positive number"),
        (("demo", "--lr", "nan"), "--lr: must be a positive number"),
        (("demo", "--epochs", "x"), "--epochs: must be a positive whole number"),
    ]:
        result = run(*args)
        assert result.returncode == 2 and message in result.stderr, result.stderr
    a_file = tmp_path / "file"
    a_file.write_text("")
    result = run("demo", "--out", str(a_file))
    assert result.returncode == 2 and "is a file; give a folder" in result.stderr


UNWRITABLE = "/proc/nope"  # no file can be created under /proc, not even by root


@pytest.mark.parametrize(
    "args, fragments",
    [
        (("demo", "--seed", "-1"), ["--seed", "got -1"]),
        (("demo", "--seed", "1.5"), ["--seed", "got 1.5"]),
        (("demo", "--out", "/proc/x"), ["--out: /proc/x", "cannot create files in /proc"]),
        (
            ("graph", "-o", f"{UNWRITABLE}/g.svg"),
            [f"--output: {UNWRITABLE}/g.svg", "cannot create files in /proc"],
        ),
        (("step", "--frames", UNWRITABLE), [f"--frames: {UNWRITABLE}", "cannot create files in /proc"]),
        (("step", "--all", "--frames", UNWRITABLE), [f"--frames: {UNWRITABLE}"]),
        (("graph", "1+2"), ["'1+2' has no variable"]),
        (("step", "1+2"), ["'1+2' has no variable"]),
        (("step", "1+2", "--all"), ["'1+2' has no variable"]),
    ],
)
def test_every_mistake_is_one_line_and_status_2_before_any_work(args, fragments):
    assert_refused(run(*args), *fragments)


def test_output_paths_that_are_files_or_folders_the_wrong_way_round(tmp_path):
    a_file = tmp_path / "file"
    a_file.write_text("")
    assert_refused(run("demo", "--out", str(a_file / "sub")), f"{a_file} is a file")
    assert_refused(run("step", "--frames", str(a_file)), f"--frames: {a_file} is a file; give a folder")
    assert_refused(run("graph", "-o", str(a_file / "g.svg")), f"{a_file} is a file")
    folder = tmp_path / "looks_like.png"
    folder.mkdir()
    assert_refused(run("graph", "-o", str(folder)), "is a folder; give a file name")
    assert a_file.read_text() == "" and list(folder.iterdir()) == []


def test_a_learning_rate_that_makes_training_diverge_is_one_line(tmp_path):
    out = tmp_path / "out"
    result = run("demo", "--lr", "1e308", "--quiet", "--out", str(out))
    assert result.returncode == 2 and "Traceback" not in result.stderr
    assert len(result.stderr.splitlines()) == 1, result.stderr  # no numpy warnings either
    assert "diverged with --lr 1e+308" in result.stderr and "try a smaller learning rate" in result.stderr
    assert "train acc" not in result.stdout and not out.exists()  # no table, no files


def test_a_hidden_layer_above_the_limit_is_refused_before_any_work(tmp_path):
    result = run("demo", "--hidden", "10001", "--out", str(tmp_path))
    assert_refused(result, "--hidden", "must be at most 10,000 units, got 10001")
    assert not any(tmp_path.iterdir())


def test_a_reader_that_stops_early_ends_the_command_quietly(tmp_path):
    # NOTE: unbuffered, every line is its own write, so the ones after `head` exits hit a closed pipe
    env = {"PATH": os.environ.get("PATH", "/usr/bin:/bin"), "PYTHONUNBUFFERED": "1"}
    command = shlex.join(COMMAND)
    for args, first in [
        ("neuron", "One sigmoid neuron: p = σ(w·x + b)"),
        (f"demo --epochs 2 --out {shlex.quote(str(tmp_path))}", "Breast Cancer Wisconsin: 569"),
    ]:
        result = subprocess.run(
            f"{command} {args} | head -1", shell=True, capture_output=True, text=True, env=env, timeout=120
        )
        assert result.stdout.startswith(first) and len(result.stdout.splitlines()) == 1
        progress = [line for line in result.stderr.splitlines() if "epoch/s" not in line and line.strip()]
        assert progress == []  # the demo's progress bars, and nothing else


def test_version():
    installed = importlib.metadata.version("tinygrad_lr")
    assert re.fullmatch(r"\d+\.\d+\.\d+", tg.__version__) and tg.__version__ == installed
    result = run("--version")
    assert result.returncode == 0 and result.stdout == f"tinygrad-lr {installed}\n"


def test_the_installed_command_and_python_m_run_in_a_process_of_their_own():
    installed = importlib.metadata.version("tinygrad_lr")
    script = Path(sysconfig.get_path("scripts")) / ("tinygrad-lr.exe" if os.name == "nt" else "tinygrad-lr")
    assert script.is_file(), f"{script}: pip install -e . puts the command there"
    for command in ([str(script)], COMMAND):
        result = subprocess.run([*command, "--version"], capture_output=True, text=True, timeout=120)
        assert (result.returncode, result.stdout, result.stderr) == (0, f"tinygrad-lr {installed}\n", "")
    result = subprocess.run([str(script), "neuron"], capture_output=True, text=True, timeout=120)
    assert result.returncode == 0 and result.stderr == "", result.stderr
    assert "p = σ(w·x + b)" in result.stdout and "by hand: dL/dw = (p − 1)·x" in result.stdout


def test_graph_without_o_says_where_it_wrote_and_when_it_replaced_a_different_file(tmp_path):
    assert "default: graph.png in the current folder" in " ".join(run("graph", "--help").stdout.split())
    expected = (tmp_path / "graph.png").resolve()

    def graph(formula):
        result = run("graph", formula, "--set", "x=1", "y=2", cwd=tmp_path)
        assert result.returncode == 0, result.stderr
        match = re.fullmatch(r"wrote (.+) \(\d+ nodes\)(, replacing a different file)?\n", result.stdout)
        assert match and Path(match.group(1)) == expected, result.stdout
        assert expected.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
        return match.group(2) is not None

    assert not graph("x*y")  # a new file
    assert not graph("x*y")  # the same picture again
    assert graph("x+y")  # another picture in its place: said
    expected.write_text("my notes")
    assert graph("x+y")


def _ctrl_c_as_in_a_terminal():
    # NOTE: a test run started in the background (cmd &) ignores SIGINT, and a child would inherit
    # that: Python then never raises KeyboardInterrupt, whatever the terminal sends
    signal.signal(signal.SIGINT, signal.SIG_DFL)


def step_in_a_terminal():
    child = pexpect.spawn(
        sys.executable,
        ["-m", "tinygrad_lr", "step"],
        encoding="utf-8",
        timeout=60,
        preexec_fn=_ctrl_c_as_in_a_terminal,
    )
    child.expect(r"\[Enter\] next step, q to quit > ")
    child.sendline("")
    child.expect(r"step 1 of 15")
    child.expect(r"\[Enter\] next step, q to quit > ")
    return child


def test_ctrl_d_at_the_step_prompt_stops_stepping():
    child = step_in_a_terminal()
    child.sendeof()
    child.expect(pexpect.EOF)
    child.close()
    assert child.exitstatus == 0
    assert child.before.strip() == "stopped after 1 of 15 steps"  # no more steps, no gradients line


def test_ctrl_c_at_the_step_prompt_is_one_short_line():
    child = step_in_a_terminal()
    child.sendintr()
    child.expect(pexpect.EOF)
    child.close()
    assert child.exitstatus == 130
    said = [line for line in child.before.splitlines() if line.strip() not in ("", "^C")]
    assert said == ["tinygrad-lr step: interrupted after 1 of 15 steps"]


def test_the_end_of_piped_input_stops_stepping_and_keeps_the_frames_so_far(tmp_path):
    result = run("step", "--frames", str(tmp_path), stdin="\n\n")
    assert result.returncode == 0, result.stderr
    assert "step 2 of 15" in result.stdout and "step 3 of 15" not in result.stdout
    assert result.stdout.rstrip().endswith(
        f"stopped after 2 of 15 steps\nwrote 3 frames and {tmp_path}/backprop.gif"
    )
    names = ["step_000.png", "step_001.png", "step_002.png"]  # the forward pass, then the steps shown
    assert sorted(p.name for p in tmp_path.glob("step_*.png")) == names
    with Image.open(tmp_path / "backprop.gif") as image:
        assert image.n_frames == 3


@pytest.mark.parametrize("encoding", ["ascii", "latin-1"])
def test_a_terminal_without_greek_letters_gets_escapes_not_a_crash(encoding):
    env = {**os.environ, "PYTHONIOENCODING": encoding}
    result = subprocess.run(
        [*COMMAND, "step", "log(sigmoid(w*x))", "--set", "x=2", "w=1", "--all"],
        capture_output=True,
        timeout=120,
        env=env,
    )
    assert result.returncode == 0, result.stderr
    out = result.stdout.decode(encoding)
    assert "\\u03c3" in out and "Traceback" not in result.stderr.decode(encoding)
    assert "dL/dw = 0.238406" in out  # σ'(2)·x with x = 2: the numbers are unchanged


@pytest.mark.parametrize(
    "args, fragments",
    [
        (("graph", "x", "--set", "x=1e999"), ["--set x=1e999", "finite number"]),
        (("graph", "x", "--set", "x=nan"), ["--set x=nan", "finite number"]),
        (("step", "x", "--set", "x=-inf", "--all"), ["--set x=-inf", "finite number"]),
        (("graph", "x", "--set", "x=1e-999"), ["--set x=1e-999", "round to 0"]),
        (("graph", "x", "--set", "x="), ["--set x=: '' is not a number"]),
        (("graph", "x", "--set", "=1"), ["--set =1: '' is not a variable name"]),
        (("graph", "x", "--set", "x y=1"), ["'x y' is not a variable name"]),
        (("graph", "x", "--set", "x=1", "x=2"), ["--set x=2: x is given twice"]),
        (("step", "x", "--set", "x=1", "--set", "x=2", "--all"), ["x is given twice"]),
        (("graph", ""), ["the formula is empty"]),
        (("graph", "  \t"), ["the formula is empty"]),
        (("step", "", "--all"), ["the formula is empty"]),
    ],
)
def test_set_values_and_formulas_that_cannot_be_used_are_one_line(args, fragments, tmp_path):
    assert_refused(run(*args, cwd=tmp_path), *fragments)
    assert list(tmp_path.iterdir()) == []  # refused before drawing anything


@pytest.mark.parametrize("command", [["neuron"], ["step", "--all"], ["step", "--lesson", "--all"]])
@pytest.mark.parametrize("variables", [{"PYTHONIOENCODING": "ascii"}, {"LC_ALL": "C", "LANG": "C"}])
def test_a_terminal_without_the_formulas_characters_gets_escapes_not_a_crash(command, variables):
    env = {name: value for name, value in os.environ.items() if name not in ("PYTHONIOENCODING", "LC_ALL")}
    env.update(PYTHONUTF8="0", **variables)
    result = subprocess.run([*COMMAND, *command], capture_output=True, timeout=120, env=env)
    assert result.returncode == 0 and result.stderr == b"", result.stderr.decode(errors="replace")
    assert "\\u03c3" in result.stdout.decode("ascii")  # σ, written as an escape a reader can decode


def test_no_stdout_or_stderr_at_all_is_not_a_crash(tmp_path):
    code = (
        "import sys; sys.stdout = sys.stderr = None\n"
        "from tinygrad_lr.cli import main\n"
        "sys.exit(main(['graph', 'x', '--set', 'x=1', '-o', 'g.dot']))"
    )
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, timeout=120, cwd=tmp_path)
    assert result.returncode == 0 and result.stderr == b"", result.stderr
    assert (tmp_path / "g.dot").is_file()


@pytest.mark.parametrize(
    "args",
    [
        ("demo", "--out", ""),
        ("graph", "x", "--set", "x=1", "-o", ""),
        ("step", "--all", "--frames", " "),
        ("step", "--html", ""),
    ],
)
def test_an_empty_output_path_is_refused_not_taken_as_the_current_folder_or_no_output(args, tmp_path):
    result = run(*args, cwd=tmp_path)
    assert result.returncode == 2 and "give a file or folder name" in result.stderr, result.stderr
    assert "Traceback" not in result.stderr and len(result.stderr.splitlines()) == 1
    assert result.stdout == "" and list(tmp_path.iterdir()) == []


def png_ratio(path) -> float:
    """The longer side of a PNG over its shorter side, from the header's width and height."""
    header = Path(path).read_bytes()[:24]
    assert header[:8] == b"\x89PNG\r\n\x1a\n"
    width, height = int.from_bytes(header[16:20], "big"), int.from_bytes(header[20:24], "big")
    return max(width, height) / min(width, height)


SUM = "x*a + x*b + x*c + x*d + x*e + x*f + x*g + x*h"


@pytest.mark.parametrize("rankdir", ["auto", "LR", "TB"])
@pytest.mark.parametrize(
    "formula",
    [
        [],
        ["exp(exp(exp(exp(exp(exp(exp(exp(x*0.1))))))))", "--set", "x=0.5"],
        [SUM, "--set", "x=0.5", *(f"{v}=1" for v in "abcdefgh")],
    ],
    ids=["lesson", "chain", "sum"],
)
def test_every_picture_the_command_writes_fits_a_slide(tmp_path, rankdir, formula):
    """A long chain or a wide sum, either way round: the picture wraps into rows (or columns)
    and stays at most 3.5:1."""
    graph = run("graph", *formula, "--rankdir", rankdir, "-o", str(tmp_path / "g.png"))
    assert graph.returncode == 0, graph.stderr
    assert png_ratio(tmp_path / "g.png") <= 3.5
    if rankdir == "auto":  # the frames: the same layout with a caption on top (the slow part)
        steps = run("step", *formula, "--all", "--frames", str(tmp_path))
        assert steps.returncode == 0, steps.stderr
        assert all(png_ratio(frame) <= 3.5 for frame in tmp_path.glob("step_*.png"))
