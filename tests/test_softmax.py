"""Many classes: softmax, log-softmax, cross-entropy, softmax regression and its data sets.

Expected values come from numpy written out here, or from decimal arithmetic at 50 digits."""

import decimal
import re

import numpy as np
import pytest

import tinygrad_lr as tg
from tinygrad_lr import Tensor, nn
from tinygrad_lr.nn import functional as F


def exact_cross_entropy(z: np.ndarray, y: np.ndarray) -> list[decimal.Decimal]:
    """−log softmax(z)[y] = log(1 + Σ_{j≠y} e^(z_j − z_y)) per row, in 50-digit decimal arithmetic:
    the mathematical definition (with the series of log(1 + s) where 1 + s would round s away)."""
    with decimal.localcontext() as ctx:
        ctx.prec = 50
        losses = []
        for row, label in zip(z, y):
            top = decimal.Decimal(float(row[label]))
            s = sum((decimal.Decimal(float(v)) - top).exp() for j, v in enumerate(row) if j != label)
            losses.append(s - s * s / 2 if s < decimal.Decimal("1e-20") else (1 + s).ln())
        return losses


def softmax_np(z: np.ndarray) -> np.ndarray:
    e = np.exp(z - z.max(axis=-1, keepdims=True))
    return e / e.sum(axis=-1, keepdims=True)


# --- softmax and log-softmax ---------------------------------------------------------------------


def test_softmax_and_log_softmax_are_stable_at_huge_inputs():
    x = np.array([[1e4, -1e4, 0.0], [1000.0, 1000.0, 999.0], [-1e4, -1e4 + 1, -1e4 + 2]])
    p = Tensor(x).softmax(dim=1).data
    log_p = Tensor(x).log_softmax(axis=1).data
    assert np.isfinite(p).all() and np.isfinite(log_p).all()
    np.testing.assert_allclose(p.sum(axis=1), 1, rtol=1e-15)
    np.testing.assert_allclose(p[1], [np.e / (2 * np.e + 1), np.e / (2 * np.e + 1), 1 / (2 * np.e + 1)])
    np.testing.assert_allclose(
        log_p[2],
        [
            -2 - np.log1p(np.exp(-1) + np.exp(-2)),
            -1 - np.log1p(np.exp(-1) + np.exp(-2)),
            -np.log1p(np.exp(-1) + np.exp(-2)),
        ],
    )
    assert log_p[0, 1] == -2e4  # −log of a probability far below the smallest float


def test_softmax_axis_spellings():
    x = np.random.default_rng(0).standard_normal((2, 3, 4))
    for axis in (0, 1, -1):
        expected = np.exp(x) / np.exp(x).sum(axis=axis, keepdims=True)
        np.testing.assert_allclose(Tensor(x).softmax(axis).data, expected, rtol=1e-13)
        np.testing.assert_allclose(F.softmax(Tensor(x), dim=axis).data, expected, rtol=1e-13)
        np.testing.assert_allclose(Tensor(x).log_softmax(dim=axis).data, np.log(expected), rtol=1e-12)
    np.testing.assert_allclose(Tensor(x).softmax().data, np.exp(x) / np.exp(x).sum(-1, keepdims=True))
    with pytest.raises(TypeError, match="not both"):
        Tensor(x).softmax(1, dim=1)
    with pytest.raises(ValueError, match="axis 3 is out of range for an array of 3 dimensions"):
        Tensor(x).softmax(3)
    with pytest.raises(ValueError, match="at least one dimension"):
        Tensor(2.0).softmax()


def test_two_class_softmax_is_the_sigmoid_of_the_logit_difference():
    z = np.random.default_rng(1).standard_normal((5, 2)) * 3
    p = Tensor(z).softmax(1).data
    np.testing.assert_allclose(p[:, 1], 1 / (1 + np.exp(-(z[:, 1] - z[:, 0]))), rtol=1e-14)


# --- cross-entropy --------------------------------------------------------------------------------


@pytest.mark.parametrize("scale", [1.0, 30.0, 1e3, 1e4])
def test_cross_entropy_agrees_with_the_definition_to_1e12(scale):
    rng = np.random.default_rng(int(scale))
    z = rng.standard_normal((40, 7)) * scale
    y = rng.integers(0, 7, 40)
    exact = exact_cross_entropy(z, y)
    none = F.cross_entropy(Tensor(z), y, reduction="none").data
    assert np.isfinite(none).all()
    tiny = decimal.Decimal("5e-324")  # NOTE: a loss below the smallest float can only be 0
    for got, want in zip(none, exact):
        assert abs(decimal.Decimal(float(got)) - want) <= decimal.Decimal("1e-12") * abs(want) + tiny
    mean = F.cross_entropy(Tensor(z), y).item()
    want = sum(exact) / 40
    assert abs(decimal.Decimal(mean) - want) <= decimal.Decimal("1e-12") * abs(want)


def test_cross_entropy_gradient_is_softmax_minus_one_hot():
    rng = np.random.default_rng(2)
    z = rng.standard_normal((6, 4)) * 5
    z[0] = [1e4, -1e4, 3.0, 0.0]
    y = np.array([1, 0, 3, 2, 2, 0])
    one_hot = np.eye(4)[y]
    for reduction, scale in (("mean", 1 / 6), ("sum", 1.0)):
        logits = Tensor(z, requires_grad=True)
        F.cross_entropy(logits, y, reduction=reduction).backward()
        np.testing.assert_allclose(logits.grad, (softmax_np(z) - one_hot) * scale, rtol=1e-13, atol=1e-300)
    logits = Tensor(z, requires_grad=True)
    upstream = np.arange(1.0, 7.0)
    (F.cross_entropy(logits, y, reduction="none") * upstream).sum().backward()
    np.testing.assert_allclose(logits.grad, (softmax_np(z) - one_hot) * upstream[:, None], rtol=1e-13)


def test_cross_entropy_weights_divide_the_mean_by_the_targets_weights():
    rng = np.random.default_rng(3)
    z, y = rng.standard_normal((8, 3)), rng.integers(0, 3, 8)
    weight = np.array([0.2, 1.0, 3.0])
    log_p = z - np.log(np.exp(z).sum(axis=1, keepdims=True))
    per_row = -weight[y] * log_p[np.arange(8), y]
    np.testing.assert_allclose(
        F.cross_entropy(Tensor(z), y, weight=weight).item(), per_row.sum() / weight[y].sum()
    )
    np.testing.assert_allclose(
        F.cross_entropy(Tensor(z), y, weight=weight, reduction="sum").item(), per_row.sum()
    )
    np.testing.assert_allclose(F.cross_entropy(Tensor(z), y, weight=weight, reduction="none").data, per_row)
    logits = Tensor(z, requires_grad=True)
    F.cross_entropy(logits, y, weight=weight).backward()
    expected = weight[y][:, None] * (softmax_np(z) - np.eye(3)[y]) / weight[y].sum()
    np.testing.assert_allclose(logits.grad, expected, rtol=1e-13)


def test_cross_entropy_ignore_index_leaves_rows_out():
    rng = np.random.default_rng(4)
    z = rng.standard_normal((5, 3))
    y = np.array([0, -100, 2, 1, -100])
    kept = y != -100
    log_p = z - np.log(np.exp(z).sum(axis=1, keepdims=True))
    expected = -log_p[np.flatnonzero(kept), y[kept]].mean()
    np.testing.assert_allclose(F.cross_entropy(Tensor(z), y).item(), expected)
    np.testing.assert_allclose(F.cross_entropy(Tensor(z), y, reduction="none").data[~kept], 0)
    with pytest.raises(ValueError, match="every label ignored"):
        F.cross_entropy(Tensor(z), np.full(5, -100))


INF = float("inf")
MASKED = np.array([[0.0, 1.0, -INF], [2.0, -INF, 0.5]])  # a class masked out of each row by -inf
V = np.array([[0.3, -0.7, 1.1], [0.3, -0.7, 1.1]])  # the direction of a Hessian-vector product

# PyTorch 2's F.cross_entropy on MASKED (float64): the loss, its gradient, and the Hessian-vector
# product with V (the gradient of Σ grad·V, from create_graph=True)
MASKED_CASES = {
    "labels": (
        {"target": [1, 0], "reduction": "none"},
        [0.3132616875, 0.2014132780],
        [[0.2689414214, -0.2689414214, 0.0], [-0.1824255238, 0.0, 0.1824255238]],
        [[0.1966119332, -0.1966119332, 0.0], [-0.1193171617, 0.0, 0.1193171617]],
    ),
    "weighted mean": (
        {"target": [1, 0], "weight": [1.0, 2.0, 3.0]},
        0.2759788843,
        [[0.1792942809, -0.1792942809, 0.0], [-0.0608085079, 0.0, 0.0608085079]],
        [[0.1310746222, -0.1310746222, 0.0], [-0.0397723872, 0.0, 0.0397723872]],
    ),
    "weighted sum": (
        {"target": [1, 0], "weight": [1.0, 2.0, 3.0], "reduction": "sum"},
        0.8279366530,
        [[0.5378828427, -0.5378828427, 0.0], [-0.1824255238, 0.0, 0.1824255238]],
        [[0.3932238665, -0.3932238665, 0.0], [-0.1193171617, 0.0, 0.1193171617]],
    ),
    "ignored row": (
        {"target": [1, -100]},
        0.3132616875,
        [[0.2689414214, -0.2689414214, 0.0], [0.0, 0.0, 0.0]],
        [[0.1966119332, -0.1966119332, 0.0], [0.0, 0.0, 0.0]],
    ),
    "the target masked": (  # −log 0 = inf, and the gradient stays softmax − onehot
        {"target": [2, 0], "reduction": "none"},
        [INF, 0.2014132780],
        [[0.2689414214, 0.7310585786, -1.0], [-0.1824255238, 0.0, 0.1824255238]],
        [[0.1966119332, -0.1966119332, 0.0], [-0.1193171617, 0.0, 0.1193171617]],
    ),
    "the target masked, mean": (
        {"target": [2, 0]},
        INF,
        [[0.1344707107, 0.3655292893, -0.5], [-0.0912127619, 0.0, 0.0912127619]],
        [[0.0983059666, -0.0983059666, 0.0], [-0.0596585808, 0.0, 0.0596585808]],
    ),
}


@pytest.mark.parametrize("case", MASKED_CASES)
def test_cross_entropy_with_a_class_masked_by_minus_inf_is_pytorchs(case):
    arguments, loss, grad, hvp = MASKED_CASES[case]
    z = Tensor(MASKED, requires_grad=True)
    target = np.array(arguments.pop("target"))
    out = F.cross_entropy(z, target, **arguments)
    np.testing.assert_allclose(out.data, loss, rtol=1e-9)
    (g,) = tg.grad(out.sum(), [z], create_graph=True)
    np.testing.assert_allclose(g.data, grad, rtol=1e-9, atol=1e-12)
    (h,) = tg.grad((g * Tensor(V)).sum(), [z])
    np.testing.assert_allclose(h.data, hvp, rtol=1e-8, atol=1e-12)
    out.sum().backward()
    np.testing.assert_allclose(z.grad, grad, rtol=1e-9, atol=1e-12)


def test_cross_entropy_with_one_hot_probabilities_and_a_masked_class_is_finite():
    # 0·log 0 counts as 0, as for labels: PyTorch gives nan here (0·(−inf) in its product)
    z = Tensor(MASKED, requires_grad=True)
    one_hot = np.array([[0.0, 1.0, 0.0], [1.0, 0.0, 0.0]])
    out = F.cross_entropy(z, one_hot, reduction="none")
    np.testing.assert_allclose(out.data, MASKED_CASES["labels"][1], rtol=1e-9)
    out.sum().backward()
    np.testing.assert_allclose(z.grad, MASKED_CASES["labels"][2], rtol=1e-9, atol=1e-12)


def test_cross_entropy_with_class_probabilities():
    rng = np.random.default_rng(5)
    z = rng.standard_normal((4, 3))
    target = rng.dirichlet(np.ones(3), 4)
    log_p = z - np.log(np.exp(z).sum(axis=1, keepdims=True))
    np.testing.assert_allclose(F.cross_entropy(Tensor(z), target).item(), -(target * log_p).sum(1).mean())
    weight = np.array([1.0, 2.0, 0.5])
    np.testing.assert_allclose(
        F.cross_entropy(Tensor(z), target, weight=weight).item(), -(weight * target * log_p).sum(1).mean()
    )
    logits = Tensor(z, requires_grad=True)
    F.cross_entropy(logits, target).backward()
    np.testing.assert_allclose(logits.grad, (softmax_np(z) - target) / 4, rtol=1e-12)


def test_cross_entropy_of_one_row():
    z = np.array([2.0, -1.0, 0.5])
    expected = np.log(np.exp(z).sum()) - z[2]
    np.testing.assert_allclose(F.cross_entropy(Tensor(z), 2).item(), expected)


def test_two_class_cross_entropy_is_bce_with_logits_on_the_difference():
    rng = np.random.default_rng(6)
    z, y = rng.standard_normal((6, 2)) * 4, rng.integers(0, 2, 6)
    bce = F.binary_cross_entropy_with_logits(Tensor(z[:, 1] - z[:, 0]), y.astype(float)).item()
    np.testing.assert_allclose(F.cross_entropy(Tensor(z), y).item(), bce, rtol=1e-13)


@pytest.mark.parametrize(
    ("target", "message"),
    [
        (np.array([0, 3, 1]), r"target 3 at position \(1,\) is out of range for 3 classes"),
        (np.array([0, 1, -1]), r"target -1 at position \(2,\) is out of range"),
        (np.array([0.0, 1.5, 1.0]), r"target 1\.5 at position \(1,\) is not a class label"),
        (np.array([0.0, np.nan, 1.0]), r"target nan at position \(1,\) is not a class label"),
        (np.array([0, 1]), r"class labels of shape \(3,\) .* got shape \(2,\)"),
        (np.zeros((3, 2)), r"got shape \(3, 2\)"),
    ],
)
def test_cross_entropy_bad_targets_are_named(target, message):
    with pytest.raises(ValueError, match=message):
        F.cross_entropy(Tensor(np.zeros((3, 3))), target)


@pytest.mark.parametrize("reduction", ["none", "sum", "mean"])
@pytest.mark.parametrize("shape", [(1, 3), (3,), (4, 1), (2, 4, 3)])
def test_cross_entropy_refuses_probabilities_that_only_broadcast_to_the_logits(shape, reduction):
    # PyTorch's F.cross_entropy raises for each of these shapes against (4, 3) logits
    z = Tensor(np.zeros((4, 3)), requires_grad=True)
    message = (
        rf"^cross_entropy: target probabilities of shape {re.escape(str(shape))} for logits of shape \(4, 3\)"
    )
    for target in (np.full(shape, 0.25), Tensor(np.full(shape, 0.25), requires_grad=True)):
        with pytest.raises(ValueError, match=message):
            tg.ops.cross_entropy(z, target, reduction)
        with pytest.raises(ValueError, match=r"shape \(4, 3\)"):
            F.cross_entropy(z, target, reduction=reduction)


def test_cross_entropy_bad_arguments():
    z = Tensor(np.zeros((3, 3)))
    with pytest.raises(ValueError, match="reduction must be"):
        F.cross_entropy(z, [0, 1, 2], reduction="avg")
    with pytest.raises(ValueError, match=r"one entry per class, shape \(3,\)"):
        F.cross_entropy(z, [0, 1, 2], weight=[1.0, 2.0])
    with pytest.raises(ValueError, match=r"weight\[1\] is -1\.0"):
        F.cross_entropy(z, [0, 1, 2], weight=[1.0, -1.0, 1.0])
    with pytest.raises(ValueError, match="move the class axis last"):
        F.cross_entropy(Tensor(np.zeros((2, 3, 4))), np.zeros((2, 4), dtype=int))
    with pytest.raises(ValueError, match="hold no classes"):
        F.cross_entropy(Tensor(np.zeros((3, 0))), [0, 0, 0])
    with pytest.raises(ValueError, match="hold no rows"):
        F.cross_entropy(Tensor(np.zeros((0, 3))), np.zeros(0, dtype=int))
    with pytest.raises(ValueError, match="is empty"):
        Tensor(np.zeros((2, 0))).softmax(1)
    with pytest.raises(TypeError, match="not on a Value"):
        F.cross_entropy(tg.Value(1.0), 0)


# --- softmax regression and the data -------------------------------------------------------------


def test_softmax_regression_is_softmax_of_an_affine_map():
    model = nn.SoftmaxRegression(4, 3, seed=1)
    x = np.random.default_rng(7).standard_normal((5, 4))
    W, b = model.linear.weight.data, model.linear.bias.data
    np.testing.assert_allclose(model(Tensor(x)).data, softmax_np(x @ W + b), rtol=1e-14)
    np.testing.assert_allclose(model.predict_proba(Tensor(x)).sum(axis=1), 1)
    assert np.array_equal(model.predict(Tensor(x)), np.argmax(x @ W + b, axis=1))
    with pytest.raises(ValueError, match="at least 2"):
        nn.SoftmaxRegression(4, 1)


def test_softmax_mlp_ends_in_softmax_regression():
    model = nn.SoftmaxMLP([4, 5, 3], seed=0)
    assert isinstance(model.output, nn.SoftmaxRegression)
    x = np.random.default_rng(8).standard_normal((2, 4))
    hidden = np.tanh(x @ model.hidden[0].weight.data + model.hidden[0].bias.data)
    expected = hidden @ model.output.linear.weight.data + model.output.linear.bias.data
    np.testing.assert_allclose(model.logits(Tensor(x)).data, expected, rtol=1e-14)
    with pytest.raises(ValueError, match="n_classes >= 2"):
        nn.SoftmaxMLP([4, 1])
    with pytest.raises(ValueError, match="SoftmaxMLP"):
        nn.MLP([4, 5, 3])


def fit(model, X, y, steps, lr):
    optimizer = tg.optim.SGD(model.parameters(), lr=lr)
    inputs = Tensor(X)
    for _ in range(steps):
        optimizer.zero_grad()
        F.cross_entropy(model.logits(inputs), y).backward()
        optimizer.step()
    return model


@pytest.mark.parametrize(("load", "steps"), [(tg.data.load_iris, 500), (tg.data.load_digits, 300)])
def test_softmax_regression_reaches_095_on_the_bundled_splits(load, steps):
    X_train, X_test, y_train, y_test = load(split=True)
    X_train, X_test = tg.data.standardize(X_train, X_test)
    model = fit(nn.SoftmaxRegression(X_train.shape[1], int(y_train.max()) + 1), X_train, y_train, steps, 0.5)
    assert np.mean(model.predict(Tensor(X_test)) == y_test) >= 0.95


def test_iris_is_bundled_and_intact():
    X, y = tg.data.load_iris()
    assert X.shape == (150, 4) and y.dtype == np.int64
    assert np.array_equal(np.bincount(y), [50, 50, 50])
    assert X[0].tolist() == [5.1, 3.5, 1.4, 0.2] and y[0] == 0  # Fisher's first setosa
    assert tg.data.IRIS_SPECIES == ("setosa", "versicolor", "virginica")
    assert X.min() == 0.1 and X.max() == 7.9


def test_digits_are_bundled_and_intact():
    X, y = tg.data.load_digits()
    assert X.shape == (1797, 64) and y.dtype == np.int64
    counts = np.bincount(y)
    assert len(counts) == 10 and counts.min() == 174 and counts.max() == 183
    assert set(np.unique(X)) <= set(range(17)) and X.max() == 16
    assert X[0].reshape(8, 8)[:, 0].tolist() == [0] * 8  # a zero: no ink in the first column


@pytest.mark.parametrize(
    ("load", "rows", "test"), [(tg.data.load_iris, 150, 30), (tg.data.load_digits, 1797, 359)]
)
def test_the_fixed_split_is_stratified_and_stable(load, rows, test):
    X, y = load()
    X_train, X_test, y_train, y_test = load(split=True)
    assert len(y_test) in (test - 1, test, test + 1) and len(y_train) + len(y_test) == rows
    np.testing.assert_allclose(np.bincount(y_test) / len(y_test), np.bincount(y) / rows, atol=0.01)
    again = load(split=True)
    assert all(np.array_equal(a, b) for a, b in zip((X_train, X_test, y_train, y_test), again))
    rows_of = {(*tuple(r), c) for r, c in zip(X, y)}
    assert {(*tuple(r), c) for r, c in zip(X_test, y_test)} <= rows_of


@pytest.mark.parametrize("bad", [[np.nan, 0, 0], [-np.inf] * 3, [np.inf, 0, 0]])
@pytest.mark.parametrize("weighted", [False, True])
@pytest.mark.parametrize("reduction", ["mean", "sum", "none"])
def test_cross_entropy_ignored_row_counts_nothing_whatever_its_logits(bad, weighted, reduction):
    z = Tensor([[0.0, 1.0, 2.0], bad], requires_grad=True)
    weight = np.array([1.0, 2.0, 3.0]) if weighted else None
    loss = F.cross_entropy(z, [1, -100], weight=weight, reduction=reduction)
    # PyTorch's loss: 1.4076059644443804 ('mean', weighted or not; 'sum' unweighted); 0 when ignored
    first = 1.4076059644443804 * (2.0 if weighted and reduction != "mean" else 1.0)
    expected = [first, 0.0] if reduction == "none" else first
    assert np.allclose(loss.data, expected, rtol=1e-12)
    loss.sum().backward()
    # PyTorch's gradient of the first row; the ignored row gets 0 (PyTorch: 0 for finite logits)
    row = np.array([0.09003057317038043, -0.7552715289452023, 0.6652409557748218])
    assert np.allclose(z.grad[0], row * (2.0 if weighted and reduction != "mean" else 1.0), rtol=1e-12)
    assert np.array_equal(z.grad[1], [0.0, 0.0, 0.0])


def test_cross_entropy_refuses_a_weight_that_requires_grad():
    # PyTorch: "not differentiable with respect to argument 'weight'"
    w = Tensor([1.0, 2.0, 3.0], requires_grad=True)
    with pytest.raises(ValueError, match=r"weight.*requires grad.*detach"):
        F.cross_entropy(Tensor([[0.0, 1.0, 2.0]], requires_grad=True), [1], weight=w)
