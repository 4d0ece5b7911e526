"""The command line, run as a user runs it."""

import math
import subprocess
import sys

import matplotlib.image

import tinygrad_lr as tg


def run(*args):
    return subprocess.run(
        [sys.executable, "-m", "tinygrad_lr", *args], capture_output=True, text=True, timeout=120
    )


def test_neuron_prints_the_computation_its_gradients_and_formulas():
    result = run("neuron")
    assert result.returncode == 0, result.stderr
    out = result.stdout
    dw = tg.show.number((1 / (1 + math.exp(0.9)) - 1) * 2)  # (σ(−0.9) − 1)·x
    assert "p = σ(w·x + b)" in out
    assert f"dL/d(w) = {dw}" in out
    assert "d(p)/d(z) = σ(z)·(1 − σ(z))" in out
    assert f"by hand: dL/dw = (p − 1)·x = {dw}" in out


def test_neuron_options_change_the_numbers():
    result = run("neuron", "--x", "1", "--w", "0", "--b", "0")
    assert result.returncode == 0
    assert "dL/d(b) = -0.5" in result.stdout


def test_help_and_unknown_commands():
    assert "demo" in run("--help").stdout
    assert "--batch-size" in run("demo", "--help").stdout
    bad = run("frobnicate")
    assert bad.returncode == 2 and "invalid choice" in bad.stderr
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


def test_demo_is_quiet_on_request(tmp_path):
    result = run("demo", "--out", str(tmp_path), "--epochs", "2", "--quiet")
    assert result.returncode == 0 and result.stderr == ""


def test_graph_of_a_formula(tmp_path):
    out = tmp_path / "g.svg"
    result = run("graph", "log(sigmoid(w*x + b))", "--set", "x=2", "w=-0.5", "b=0.1", "-o", str(out))
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == f"wrote {out} (11 nodes)"
    svg = out.read_text()
    assert "grad 1.4219" in svg and ">w<" in svg  # dL/dw = (σ(−0.9) − 1)·2 · (−1/σ) ... as drawn


def test_graph_of_the_lesson_network_and_bad_input(tmp_path):
    out = tmp_path / "lesson.dot"
    result = run("graph", "-o", str(out), "--rankdir", "TB", "--no-data")
    assert result.returncode == 0 and "LogisticRegression" in out.read_text()
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
