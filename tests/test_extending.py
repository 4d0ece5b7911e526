"""docs/extending.md, followed as a user would: an op in a file of one's own is covered by the
registry-wide property tests and by the stepper, with no change to the package."""

import math
import os
import re
import subprocess
import sys
from pathlib import Path

from tinygrad_lr import cli

ROOT = Path(__file__).resolve().parents[1]


def user_file(tmp_path: Path) -> Path:
    text = (ROOT / "docs" / "extending.md").read_text()
    code = re.search(r"```python\n(# my_ops\.py\n.*?)```", text, re.S).group(1)
    path = tmp_path / "my_ops.py"
    path.write_text(code)
    return path


def test_the_registry_wide_property_tests_cover_a_users_op(tmp_path):
    user_file(tmp_path)
    tests_file = str(ROOT / "tests" / "test_ops_property.py")
    command = [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", tests_file]
    env = {**os.environ, "TINYGRAD_LR_OPS": "my_ops.py"}  # read from the folder it is run in
    # with a worker of pytest-xdist (as make test runs them): the ops reach the workers too
    result = subprocess.run(
        [*command, "-n", "1", "-k", "sin or cos", "-rA"],
        cwd=tmp_path,
        env=env,
        capture_output=True,
        text=True,
    )
    assert result.returncode == 0, result.stdout[-2000:]
    tests = (
        "test_every_op_says_where_it_is_tested",
        "test_forward_matches_the_reference",
        "test_the_formula_is_what_backward_computes",
        "test_values_first_and_second_derivatives",
        "test_tensors_first_and_second_derivatives",
        "test_float32_stays_float32_forward_and_backward",
    )
    passed = {line.rpartition("/")[2] for line in result.stdout.splitlines() if line.startswith("PASSED ")}
    for test in tests:
        assert {f"test_ops_property.py::{test}[sin]", f"test_ops_property.py::{test}[cos]"} <= passed
    without = subprocess.run(
        [*command, "-n", "0", "-k", "sin or cos"], cwd=ROOT, capture_output=True, text=True
    )
    assert (
        "deselected" in without.stdout and " passed" not in without.stdout
    )  # nothing to run: the ops came from the file


def test_the_stepper_and_pictures_cover_a_users_op(tmp_path):
    path = user_file(tmp_path)
    script = (
        f"import runpy, tinygrad_lr as tg; ops = runpy.run_path({str(path)!r}); "
        "x = tg.Value(0.3, label='x'); y = ops['Sin'].apply(x); y.label = 'y'; "
        "print(next(iter(tg.Backprop(y)))); print(tg.draw(y).source.count('label=\"sin\"'))"
    )
    result = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    assert "dy/dx += dy/dy · cos(x) = 1.0 · 0.95534 = 0.95534" in result.stdout  # cos 0.3 = 0.955336
    assert result.stdout.strip().endswith("1")
    command = [sys.executable, "-m", "tinygrad_lr", "step", "x*sin(x)", "--set", "x=0.3", "--all"]
    env = {**os.environ, "TINYGRAD_LR_OPS": "my_ops.py"}
    result = subprocess.run(command, capture_output=True, text=True, cwd=tmp_path, env=env)
    assert result.returncode == 0, result.stderr
    assert f"dL/dx = {0.3 * math.cos(0.3) + math.sin(0.3):.6}" in result.stdout  # x cos x + sin x


def test_the_command_line_names_an_op_file_it_cannot_load(tmp_path, monkeypatch, capsys):
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("TINYGRAD_LR_OPS", "missing.py")
    assert cli.main(["step", "x", "--set", "x=1", "--all"]) == 2
    assert f"no file {tmp_path / 'missing.py'}" in capsys.readouterr().err
    (tmp_path / "broken.py").write_text("1/0\n")
    monkeypatch.setenv("TINYGRAD_LR_OPS", "broken.py")
    assert cli.main(["graph", "x", "--set", "x=1"]) == 2
    assert "broken.py: ZeroDivisionError: division by zero" in capsys.readouterr().err
    monkeypatch.setenv("TINYGRAD_LR_OPS", "no_such_ops_module")
    assert cli.main(["step", "x", "--set", "x=1", "--all"]) == 2
    err = capsys.readouterr().err
    assert "No module named 'no_such_ops_module' (a module must be installed or on PYTHONPATH" in err


def test_the_op_authors_test_from_the_docs_runs(tmp_path):
    user_file(tmp_path)
    text = (ROOT / "docs" / "extending.md").read_text()
    code = re.search(r"```python\n(from hypothesis import given\n.*?)```", text, re.S).group(1)
    (tmp_path / "test_my_ops.py").write_text(code)
    result = subprocess.run(
        [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", "test_my_ops.py"],
        cwd=tmp_path, capture_output=True, text=True,
    )  # fmt: skip
    assert result.returncode == 0, result.stdout[-2000:]
    assert "2 passed" in result.stdout


def test_the_docs_and_the_demo_show_the_same_ops():
    import ast

    def classes(text):
        return {n.name: ast.dump(n) for n in ast.parse(text).body if isinstance(n, ast.ClassDef)}

    text = (ROOT / "docs" / "extending.md").read_text()
    listings = re.findall(r"```python\n(# \w+\.py\n.*?)```", text, re.S)
    shown = {name: dump for listing in listings for name, dump in classes(listing).items()}
    demo = classes((ROOT / "demos" / "custom_ops.py").read_text())
    assert set(shown) == {"Sin", "Cos", "LogSumExp"}
    assert shown == {name: demo[name] for name in shown}
