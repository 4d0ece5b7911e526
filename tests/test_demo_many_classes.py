"""The multi-class part of ``tinygrad-lr demo``: softmax regression on iris and digits."""

from pathlib import Path

import matplotlib.image
import numpy as np

import tinygrad_lr as tg

from . import inprocess


def run(*args):
    return inprocess.run("demo", *args)


def table(lines):
    """The softmax-regression table: data set name -> [train acc, test acc, train loss, test loss]."""
    start = next(i for i, line in enumerate(lines) if line.startswith("softmax regression"))
    rows = {}
    for line in lines[start + 1 :]:
        if not line.strip():
            break
        rows[line[:22].strip()] = [float(v) for v in line[22:].split()]
    return rows


def test_demo_on_iris_and_digits_reaches_095_and_its_numbers_are_the_models(tmp_path):
    for name, load, classes in (("iris", tg.data.load_iris, 3), ("digits", tg.data.load_digits, 10)):
        out = tmp_path / name
        result = run("--data", name, "--out", str(out))
        assert result.returncode == 0, result.stderr
        rows = table(result.stdout.splitlines())
        assert list(rows) == [name]
        assert rows[name][1] >= 0.95  # test accuracy on the bundled split
        X_train, X_test, _, y_test = load(split=True)
        X_train, X_test = tg.data.standardize(X_train, X_test)
        model = tg.nn.SoftmaxRegression(X_train.shape[1], classes)
        model.load_state_dict(tg.load(out / f"softmax_regression_{name}.npz"))
        W, b = model.linear.weight.data, model.linear.bias.data
        z = X_test @ W + b
        assert f"{np.mean(np.argmax(z, axis=1) == y_test):.3f}" == f"{rows[name][1]:.3f}"
        log_p = (
            z - z.max(1, keepdims=True) - np.log(np.exp(z - z.max(1, keepdims=True)).sum(1, keepdims=True))
        )
        assert f"{-log_p[np.arange(len(y_test)), y_test].mean():.4f}" == f"{rows[name][3]:.4f}"
        assert "Breast Cancer" not in result.stdout
    image = matplotlib.image.imread(tmp_path / "digits" / "digits_weights.png")
    assert image.shape[0] > 300 and image.shape[1] > 600 and image.std() > 0.05  # not blank


def test_the_default_demo_reports_all_three_data_sets(tmp_path, quiet_demo):
    result, out = quiet_demo  # demo --out OUT --epochs 2 --quiet
    assert (result.returncode, result.stdout, result.stderr) == (0, "", "")
    report = (out / "report.txt").read_text().splitlines()
    assert report[0].startswith("Breast Cancer Wisconsin")
    assert set(table(report)) == {"iris", "digits"}
    assert all(row[1] >= 0.95 for row in table(report).values())
    assert (out / "digits_weights.png").exists() and (out / "logistic_regression.npz").exists()
    readme = (Path(__file__).resolve().parents[1] / "README.md").read_text()
    start = report.index(next(line for line in report if line.startswith("softmax regression")))
    assert "\n".join(report[start : start + 3]) in readme  # the README shows what the demo prints
    only = run("--data", "breast_cancer", "--epochs", "2", "--quiet", "--out", str(tmp_path / "bc"))
    assert only.returncode == 0 and "softmax regression" not in (tmp_path / "bc" / "report.txt").read_text()
