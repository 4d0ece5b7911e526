"""The demos/ scripts run and say what they claim."""

import subprocess
import sys
from pathlib import Path

DEMOS = Path(__file__).resolve().parents[1] / "demos"


def run(name, *args):
    result = subprocess.run(
        [sys.executable, str(DEMOS / name), *args], capture_output=True, text=True, timeout=300
    )
    assert result.returncode == 0, result.stderr
    return result.stdout


def test_lesson_network():
    out = run("lesson_network.py")
    assert "after one step of gradient descent" in out and "matches numpy: True" in out


def test_breast_cancer_reaches_the_optimum():
    out = run("breast_cancer.py")
    assert "gradient norm" in out and "test accuracy of the optimal logistic regression: 0.98" in out


def test_newton_uses_the_engines_hessian():
    assert "equals Xᵀ diag(p(1 − p)) X / n + 0.02·I: True" in run("newton.py")


def test_xor_and_moons_show_the_lesson(tmp_path):
    out = run("xor_and_moons.py", str(tmp_path))  # one run does both problems
    for problem in ("xor", "moons"):
        assert f"{problem}, one hidden layer (8 tanh): accuracy 1.00" in out
        png = (tmp_path / f"decision_boundaries_{problem}.png").read_bytes()
        assert png[:8] == b"\x89PNG\r\n\x1a\n" and len(png) > 20_000, problem
