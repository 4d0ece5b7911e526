"""The command line, run as a user runs it."""

import subprocess
import sys


def run(*args):
    return subprocess.run(
        [sys.executable, "-m", "tinygrad_lr", *args], capture_output=True, text=True, timeout=120
    )


def test_demo_prints_the_computation_its_gradients_and_formulas():
    result = run("demo")
    assert result.returncode == 0, result.stderr
    out = result.stdout
    assert "p = σ(w·x + b)" in out
    assert "dL/d(w) = -1.4219" in out  # (σ(-0.9) - 1)·2, worked by hand below
    assert "d(p)/d(z) = σ(z)·(1−σ(z))" in out
    assert "by hand: dL/dw = (p − 1)·x = -1.4219" in out


def test_demo_options_change_the_numbers():
    result = run("demo", "--x", "1", "--w", "0", "--b", "0")
    assert result.returncode == 0
    assert "dL/d(b) = -0.5" in result.stdout


def test_help_and_unknown_commands():
    assert "demo" in run("--help").stdout
    bad = run("frobnicate")
    assert bad.returncode == 2 and "invalid choice" in bad.stderr
