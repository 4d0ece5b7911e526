"""Training never ends silently wrong (issue 16): Newton converges from any start or says why it
cannot, optimiser settings, all-or-nothing loading, CSV files, empty models, stratified sizes,
and loss curves of one epoch."""

import csv
import math
import re
import warnings
from pathlib import Path

import matplotlib.figure
import numpy as np
import pytest

import tinygrad_lr as tg
from tinygrad_lr import nn, plots
from tinygrad_lr.nn import functional as F
from tinygrad_lr.training import History

DATA = Path(__file__).parent / "data"


# --- a reference optimum, computed without the framework ------------------------------------


def reference_objective(X: np.ndarray, y: np.ndarray, theta: np.ndarray, l2: float) -> float:
    """mean(log(1 + e^z) − y·z) + l2·‖w‖²/2 with z = X·w + b and theta = (w, b)."""
    z = X @ theta[:-1] + theta[-1]
    return float(np.mean(np.logaddexp(0.0, z) - y * z) + 0.5 * l2 * theta[:-1] @ theta[:-1])


def reference_optimum(X: np.ndarray, y: np.ndarray, l2: float) -> float:
    """The minimum of ``reference_objective`` by Newton's method with the textbook gradient and
    Hessian (Aᵀ(p − y)/n and Aᵀ diag(p(1 − p)) A/n with A = [X 1]), from zero weights, with a
    backtracking line search, until the gradient norm is below 1e-12 or rounding stops it."""
    n, d = X.shape
    A = np.hstack([X, np.ones((n, 1))])
    penalty = np.r_[np.full(d, l2), 0.0]  # the intercept is not penalised
    theta = np.zeros(d + 1)
    for _ in range(100):
        p = 0.5 * (1.0 + np.tanh(0.5 * (A @ theta)))  # σ(z) without overflow
        g = A.T @ (p - y) / n + penalty * theta
        if np.linalg.norm(g) < 1e-12:
            break
        H = (A.T * (p * (1 - p))) @ A / n + np.diag(penalty)
        direction = -np.linalg.solve(H, g)
        f0, t = reference_objective(X, y, theta, l2), 1.0
        while reference_objective(X, y, theta + t * direction, l2) > f0 + 1e-4 * t * (g @ direction):
            t /= 2
            if t < 1e-20:
                return f0  # rounding: no step lowers the objective any more
        theta = theta + t * direction
    return reference_objective(X, y, theta, l2)


def iris_one_vs_rest(species: str) -> tuple[np.ndarray, np.ndarray]:
    with (DATA / "iris.csv").open(newline="") as file:
        rows = list(csv.reader(file))[1:]
    X = np.array([[float(v) for v in row[:4]] for row in rows])
    return X, np.array([row[4] == species for row in rows], dtype=np.float64)


def wine_one_vs_rest(cultivar: int) -> tuple[np.ndarray, np.ndarray]:
    data = np.loadtxt(DATA / "wine.csv", delimiter=",", skiprows=1)
    return data[:, :-1], (data[:, -1] == cultivar).astype(np.float64)


RAW_PROBLEMS = {
    "breast cancer": tg.data.load_breast_cancer,
    "iris setosa vs rest": lambda: iris_one_vs_rest("setosa"),
    "iris versicolor vs rest": lambda: iris_one_vs_rest("versicolor"),
    "iris virginica vs rest": lambda: iris_one_vs_rest("virginica"),
    "wine 0 vs rest": lambda: wine_one_vs_rest(0),
    "wine 1 vs rest": lambda: wine_one_vs_rest(1),
    "wine 2 vs rest": lambda: wine_one_vs_rest(2),
}

# scikit-learn 1.9.1's optimum of mean BCE + ‖w‖²/(2n) on the raw data (C = 1, the intercept not
# penalised): for X, y of each problem,
#   m = sklearn.linear_model.LogisticRegression(
#       C=1.0, solver="newton-cg", tol=1e-14, max_iter=10000).fit(X, y)
#   w = m.coef_.ravel();  z = X @ w + m.intercept_[0]
#   np.mean(np.logaddexp(0, z) - y * z) + w @ w / (2 * len(y))
# (its gradient norm there is below 2e-14; reference_optimum agrees to 2e-15).
SKLEARN_OPTIMUM = {
    "breast cancer": 0.09454237474601623,
    "iris setosa vs rest": 0.0394699806175155,
    "iris versicolor vs rest": 0.5175730027296193,
    "iris virginica vs rest": 0.16036510564836057,
    "wine 0 vs rest": 0.048310126399200654,
    "wine 1 vs rest": 0.07170132548523991,
    "wine 2 vs rest": 0.05150118543592661,
}


def regularised_loss(model: nn.LogisticRegression, X: np.ndarray, y: np.ndarray) -> tg.Tensor:
    """What the project's Newton demo minimises: mean BCE + ‖w‖²/(2n) (scikit-learn's C = 1, over n)."""
    w = model.linear.weight
    return F.binary_cross_entropy_with_logits(model.logits(tg.Tensor(X)), y) + (w * w).sum() * (0.5 / len(y))


# --- 1. Newton ---------------------------------------------------------------------------------


@pytest.mark.parametrize("damping", [0.0, 1e-6])
@pytest.mark.parametrize("problem", list(RAW_PROBLEMS))
def test_newton_reaches_the_optimum_of_raw_data_from_the_default_weights(problem, damping):
    X, y = RAW_PROBLEMS[problem]()
    model = nn.LogisticRegression(X.shape[1])  # the default initial weights, unscaled data
    newton = tg.optim.Newton(model.parameters(), damping=damping)
    losses = [newton.step(lambda: regularised_loss(model, X, y)) for _ in range(30)]
    final = float(regularised_loss(model, X, y).data)
    assert abs(final - SKLEARN_OPTIMUM[problem]) <= 1e-10 * SKLEARN_OPTIMUM[problem], (problem, final)
    rises = np.diff([*losses, final])
    assert np.all(rises <= 16 * np.finfo(float).eps * np.abs([*losses[1:], final])), "a step raised the loss"


@pytest.mark.parametrize("problem", ["breast cancer", "wine 0 vs rest", "iris setosa vs rest"])
def test_newton_on_separable_data_without_l2_stops_and_says_so(problem):
    X, y = RAW_PROBLEMS[problem]()  # a hyperplane separates the classes: no finite optimum

    def loss():
        return F.binary_cross_entropy_with_logits(model.logits(tg.Tensor(X)), y)

    model = nn.LogisticRegression(X.shape[1])
    newton = tg.optim.Newton(model.parameters())
    losses = []
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        while not caught and len(losses) < 40:
            losses.append(newton.step(loss))
    assert len(caught) == 1, f"no message after {len(losses)} steps, loss {losses[-1]}"
    assert caught[0].category is RuntimeWarning
    assert re.search(
        r"the data are separable .*: the loss goes to 0 and the weights to infinity", str(caught[0].message)
    )
    assert newton.step_size == 0.0
    assert np.all(np.diff(losses) <= 0), "a step raised the loss"
    assert np.array_equal(model.logits(tg.Tensor(X)).data > 0, y == 1)  # where it stopped, it separates
    stopped = [p.data.copy() for p in model.parameters()]
    with pytest.warns(RuntimeWarning, match="the data are separable"):
        newton.step(loss)  # and it stays stopped
    assert all(np.array_equal(p.data, q) for p, q in zip(model.parameters(), stopped))


# scikit-learn 1.9.1's optimum of mean BCE + ‖w‖²/(2nC) without an intercept on raw wine, 1 vs rest:
#   m = LogisticRegression(C=C, solver="newton-cg", tol=1e-14, max_iter=10000, fit_intercept=False)
#   w = m.fit(X, y).coef_.ravel();  z = X @ w
#   np.mean(np.logaddexp(0, z) - y * z) + w @ w / (2 * len(y) * C)
@pytest.mark.parametrize(("C", "optimum"), [(1.0, 0.11199809257300056), (0.01, 0.3259382432653666)])
def test_newton_weight_decay_is_l2_and_one_over_n_c_is_scikit_learns_c(C, optimum):
    X, y = wine_one_vs_rest(1)
    layer = nn.Linear(
        X.shape[1], 1, bias=False
    )  # every parameter decays, as in scikit-learn without intercept
    newton = tg.optim.Newton(layer.parameters(), weight_decay=1 / (len(y) * C))
    for _ in range(30):
        newton.step(lambda: F.binary_cross_entropy_with_logits(layer(tg.Tensor(X)).reshape(-1), y))
    w = layer.weight.data.ravel()
    z = X @ w
    assert abs(np.mean(np.logaddexp(0, z) - y * z) + w @ w / (2 * len(y) * C) - optimum) <= 1e-10 * optimum
    assert newton.damping == 0.0  # damping is another thing: it shapes the steps, not the optimum


def test_newton_says_when_no_step_lowers_a_loss_whose_slope_says_one_should():
    w = tg.Tensor([1.0], requires_grad=True)
    newton = tg.optim.Newton([w])
    with pytest.warns(
        RuntimeWarning, match=r"no step lowers the loss 0.0, although its slope .* says one should"
    ):
        newton.step(lambda: (w - w.detach()).sum())  # always 0, with gradient 1: they disagree
    assert w.data.tolist() == [1.0] and newton.step_size == 0.0


def test_newton_goes_to_a_minimum_not_to_the_maximum_next_to_it():
    x = tg.Value(0.1, requires_grad=True)  # f'' < 0 here: a full Newton step heads for the maximum at 0
    newton = tg.optim.Newton([x])
    for _ in range(30):
        newton.step(lambda: x**4 - x**2)
    assert x.data == pytest.approx(1 / math.sqrt(2), rel=1e-12)  # f'(x) = 4x³ − 2x = 0, f'' > 0


def test_newton_handles_a_singular_hessian():
    w = tg.Tensor([3.0, -1.0], requires_grad=True)  # (w₀ + w₁ − 1)²: H = 2·[[1, 1], [1, 1]], singular
    newton = tg.optim.Newton([w])
    for _ in range(5):
        newton.step(lambda: (w.sum() - 1.0) ** 2)
    assert abs(w.data.sum() - 1.0) < 1e-12


def test_newton_on_values_reaches_the_minimum_of_rosenbrock():
    x, y = tg.Value(-1.2, requires_grad=True), tg.Value(1.0, requires_grad=True)
    newton = tg.optim.Newton([x, y])
    for _ in range(100):
        newton.step(lambda: (1 - x) ** 2 + 100 * (y - x * x) ** 2)
    assert (x.data, y.data) == pytest.approx((1.0, 1.0), abs=1e-10)  # the minimum, by hand


def test_newton_inside_fit_reaches_the_optimum_of_the_mean_cross_entropy():
    X, y = tg.data.make_blobs(200, distance=1.0, seed=3)  # overlapping clouds: a finite optimum
    model = nn.LogisticRegression(2)
    history = tg.training.fit(model, tg.optim.Newton(model.parameters()), X, y, epochs=12)
    optimum = reference_optimum(X, y, l2=0.0)
    assert abs(history.train_loss[-1] - optimum) <= 1e-10 * optimum


def test_newton_refuses_nan_data_and_leaves_the_weights():
    X, y = tg.data.make_blobs(50, seed=0)
    X[7, 1] = np.nan
    model = nn.LogisticRegression(2)
    before = model.state_dict()
    with pytest.raises(FloatingPointError, match="loss is nan"):
        tg.optim.Newton(model.parameters()).step(lambda: regularised_loss(model, X, y))
    for name, value in model.state_dict().items():
        assert np.array_equal(value, before[name])


def test_newton_step_without_a_closure_says_what_to_give():
    newton = tg.optim.Newton([tg.Tensor([1.0], requires_grad=True)])
    with pytest.raises(TypeError, match=r"Newton.step needs closure, a function that computes the loss"):
        newton.step()


# --- 2. optimiser settings ---------------------------------------------------------------------


def params():
    return [tg.Tensor([1.0, 2.0], requires_grad=True)]


@pytest.mark.parametrize(
    "make, message",
    [
        (
            lambda: tg.optim.SGD(params(), lr="0.1"),
            r"SGD: the learning rate lr must be a real number, got str",
        ),
        (
            lambda: tg.optim.SGD(params(), lr=True),
            r"SGD: the learning rate lr must be a real number, got bool",
        ),
        (lambda: tg.optim.Adam(params(), betas=("0.9", 0.999)), r"Adam: betas\[0\] must be a real number"),
        (lambda: tg.optim.Newton(params(), damping=False), r"Newton: damping must be a real number"),
    ],
)
def test_optimiser_settings_must_be_real_numbers(make, message):
    with pytest.raises(TypeError, match=message):
        make()


@pytest.mark.parametrize(
    "make, message",
    [
        (lambda: tg.optim.SGD(params(), lr=math.nan), r"SGD: the learning rate lr .* above 0, got nan"),
        (lambda: tg.optim.Adam(params(), lr=math.inf), r"Adam: the learning rate lr .* above 0, got inf"),
        (lambda: tg.optim.Newton(params(), lr=-1.0), r"Newton: the learning rate lr .* above 0, got -1.0"),
        (lambda: tg.optim.Adam(params(), betas=(0.9, 1.0)), r"Adam: betas\[1\] .* in \[0, 1\), got 1.0"),
        (lambda: tg.optim.Adam(params(), eps=0.0), r"Adam: eps .* above 0, got 0.0"),
        (lambda: tg.optim.Adam(params(), weight_decay=-0.1), r"Adam: weight_decay .* at least 0, got -0.1"),
        (lambda: tg.optim.SGD(params(), lr=0.1, momentum=1.0), r"SGD: momentum .* in \[0, 1\), got 1.0"),
        (lambda: tg.optim.Newton(params(), damping=-1e-6), r"Newton: damping .* at least 0, got -1e-06"),
        (
            lambda: tg.optim.Newton(params(), weight_decay=-1.0),
            r"Newton: weight_decay .* at least 0, got -1.0",
        ),
    ],
)
def test_optimiser_settings_out_of_range_are_refused_naming_the_range(make, message):
    with pytest.raises(ValueError, match=message):
        make()


# --- 3. load_state_dict ------------------------------------------------------------------------


@pytest.mark.parametrize(
    "bad, problem",
    [
        (lambda shape: np.full(shape, "x"), "not real numbers"),
        (lambda shape: np.ones(shape, dtype=complex), "not real numbers"),
        (lambda shape: np.full(shape, None, dtype=object), "not real numbers"),
        (lambda shape: np.ones((*shape, 2)), "wrong shape"),
    ],
)
def test_load_state_dict_checks_every_key_before_changing_any(bad, problem):
    model = nn.MLP([3, 4, 1], seed=0)
    before = model.state_dict()
    names = list(before)
    state = {name: value + 1.0 for name, value in before.items()}  # all valid but the last
    state[names[-1]] = bad(before[names[-1]].shape)
    with pytest.raises(ValueError, match=rf"{problem} {names[-1]}.*nothing was changed"):
        model.load_state_dict(state)
    for name, value in model.state_dict().items():
        assert np.array_equal(value, before[name]), f"{name} was overwritten"


# --- 4. load_csv -------------------------------------------------------------------------------


@pytest.mark.parametrize("cell", ["nan", "NaN", "inf", "-Infinity", "1e999"])
def test_load_csv_refuses_missing_and_infinite_values(tmp_path, cell):
    path = tmp_path / "data.csv"
    path.write_text(f"a,b,label\n1,2,0\n3,{cell},1\n")
    with pytest.raises(ValueError, match=rf"line 3: '{cell}' is a missing or infinite value \(column 'b'\)"):
        tg.data.load_csv(path, "label")


def test_load_csv_counts_blank_lines_in_the_line_number(tmp_path):
    path = tmp_path / "data.csv"
    path.write_text("a,label\n\n1,0\n\n2,1\nx,1\n")  # 'x' is on line 6 of the file
    with pytest.raises(ValueError, match=r"line 6: 'x' is not a number"):
        tg.data.load_csv(path, "label")


def test_load_csv_reads_a_utf8_byte_order_mark(tmp_path):
    path = tmp_path / "data.csv"
    path.write_bytes(b"\xef\xbb\xbfname,label\n1.5,0\n2.5,1\n")  # as spreadsheet programs write
    X, y, names = tg.data.load_csv(path, "label")
    assert names == ["name"]  # the first column's name, without the mark before it
    assert X.ravel().tolist() == [1.5, 2.5] and y.tolist() == [0.0, 1.0]


# --- 5. empty models, stratified sizes, one epoch -----------------------------------------------


def test_a_model_without_parameters_saves_and_loads_back(tmp_path):
    model = nn.Sequential(nn.Tanh(), nn.ReLU())
    state = tg.load(tg.save(model, tmp_path / "empty.npz"))
    assert state == {}
    model.load_state_dict(state)


def test_stratified_split_has_the_requested_test_size():
    X, y = tg.data.load_breast_cancer()  # 357 benign, 212 malignant
    _, _, _, y_test = tg.data.train_test_split(X, y, test_size=0.2, seed=0, stratify=True)
    # By hand: round(569 · 0.2) = 114 rows; 357·114/569 = 71.53 and 212·114/569 = 42.47, so 71
    # and 42 whole, and the row left over goes to the larger remainder (benign): 72 and 42.
    assert len(y_test) == 114
    assert (y_test.sum(), len(y_test) - y_test.sum()) == (72, 42)


@pytest.mark.parametrize("test_size", [0.1, 0.15, 0.25, 0.3, 0.45])
@pytest.mark.parametrize("counts", [(10, 7, 3), (50, 50, 50), (357, 212), (1, 9, 90)])
def test_stratified_split_sizes_round_the_total_and_keep_each_class_within_one_row(counts, test_size):
    y = np.repeat(np.arange(len(counts)), counts).astype(np.float64)
    X = np.arange(len(y), dtype=np.float64)[:, None]
    _, X_test, _, y_test = tg.data.train_test_split(X, y, test_size=test_size, seed=1, stratify=True)
    assert len(y_test) == round(len(y) * test_size)
    for label, count in enumerate(counts):
        assert abs(np.sum(y_test == label) - count * len(y_test) / len(y)) < 1
    assert np.array_equal(y[X_test[:, 0].astype(int)], y_test)  # rows stay with their labels


def test_loss_curves_of_one_epoch_draw_visible_points(tmp_path, monkeypatch):
    drawn = []
    save = matplotlib.figure.Figure.savefig

    def keep(figure, *args, **kwargs):
        drawn.append(figure)
        return save(figure, *args, **kwargs)

    monkeypatch.setattr(matplotlib.figure.Figure, "savefig", keep)
    histories = {"a": History([0.5], [0.6]), "b": History([0.3], [0.4])}
    plots.loss_curves(histories, tmp_path / "curves.png")
    (ax,) = drawn[0].axes
    assert len(ax.lines) == 4
    for line in ax.lines:  # one point each: a line through it alone draws nothing
        assert len(line.get_xdata()) == 1
        assert line.get_marker() not in (None, "", " ", "None") and line.get_markersize() > 0


def test_newton_takes_a_pytorch_style_closure_that_calls_backward():
    X = np.array([[0.5, 1.0], [1.5, -0.5], [-1.0, 0.3], [0.2, 0.1], [0.2, 0.1]])
    y = np.array([1.0, 0.0, 1.0, 0.0, 1.0])  # a point of both classes: not separable, a finite optimum
    plain, backward_too = tg.nn.LogisticRegression(2), tg.nn.LogisticRegression(2)
    plain.load_state_dict(backward_too.state_dict())

    def loss_of(model):
        return tg.nn.functional.binary_cross_entropy(model(tg.Tensor(X)), tg.Tensor(y))

    newton = tg.optim.Newton(backward_too.parameters())

    def closure():
        newton.zero_grad()
        loss = loss_of(backward_too)
        loss.backward()
        return loss

    reference = tg.optim.Newton(plain.parameters())
    for _ in range(3):
        reference.step(lambda: loss_of(plain))
        newton.step(closure)
    for a, b in zip(plain.parameters(), backward_too.parameters()):
        np.testing.assert_array_equal(a.data, b.data)
    assert float(loss_of(backward_too).data) < float(loss_of(tg.nn.LogisticRegression(2)).data)
