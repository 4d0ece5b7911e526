"""Modules, layers, the logistic-regression models and the losses."""

import math

import numpy as np
import pytest

import tinygrad_lr as tg
from tinygrad_lr import Tensor, Value, nn
from tinygrad_lr.nn import functional as F


def sigmoid(z):
    return np.exp(-np.logaddexp(0, -z))  # a reference that never overflows


def test_parameters_are_found_in_definition_order_with_names():
    model = nn.MLP([3, 4, 1], seed=1)
    names = [name for name, _ in model.named_parameters()]
    assert names == [
        "hidden.layers.0.weight",
        "hidden.layers.0.bias",
        "output.linear.weight",
        "output.linear.bias",
    ]
    assert [p.shape for p in model.parameters()] == [(3, 4), (4,), (4, 1), (1,)]
    assert all(p.requires_grad for p in model.parameters())


def test_linear_initialisation_is_seeded_and_bounded():
    a, b = nn.Linear(9, 5, seed=3), nn.Linear(9, 5, seed=3)
    assert np.array_equal(a.weight.data, b.weight.data)
    assert not np.array_equal(a.weight.data, nn.Linear(9, 5, seed=4).weight.data)
    assert np.abs(a.weight.data).max() <= 1 / 3 and np.abs(a.bias.data).max() <= 1 / 3
    assert nn.Linear(2, 2, bias=False).bias is None
    assert len(nn.Linear(2, 2, bias=False).parameters()) == 1


def test_logistic_regression_is_sigmoid_of_an_affine_map():
    model = nn.LogisticRegression(3, seed=2)
    X = np.random.default_rng(0).standard_normal((5, 3))
    w, b = model.linear.weight.data[:, 0], model.linear.bias.data[0]
    p = model(Tensor(X))
    assert p.shape == (5,) and np.allclose(p.data, sigmoid(X @ w + b))
    assert np.array_equal(model.predict(Tensor(X)), (X @ w + b > 0).astype(float))


def test_a_network_ends_in_logistic_regression_on_learned_features():
    model = nn.MLP([2, 5, 3, 1], activation="relu", seed=0)
    assert isinstance(model.output, nn.LogisticRegression)
    X = Tensor(np.random.default_rng(1).standard_normal((4, 2)))
    features = model.hidden(X)
    assert features.shape == (4, 3) and np.all(features.data >= 0)
    assert np.allclose(model(X).data, model.output(features).data)


@pytest.mark.parametrize(
    ("sizes", "activation", "message"),
    [
        ([3, 2], "tanh", r"sizes must be \[n_in, hidden..., 1\]"),
        ([3], "tanh", "sizes"),
        ([3, 1], "gelu", "activation"),
    ],
)
def test_mlp_refuses_bad_shapes(sizes, activation, message):
    with pytest.raises(ValueError, match=message):
        nn.MLP(sizes, activation)


def test_sequential_and_activation_modules():
    net = nn.Sequential(nn.Linear(2, 2, seed=0), nn.Sigmoid(), nn.Linear(2, 1, seed=1), nn.Tanh())
    assert len(net) == 4 and isinstance(net[1], nn.Sigmoid)
    x = Tensor([[1.0, -1.0]])
    h = tg.sigmoid(tg.linear(x, net[0].weight, net[0].bias))
    assert np.allclose(net(x).data, np.tanh((h @ net[2].weight + net[2].bias).data))
    assert np.array_equal(nn.ReLU()(Tensor([-1.0, 2.0])).data, [0.0, 2.0])


def test_repr_reads_like_pytorch():
    text = repr(nn.MLP([30, 16, 1]))
    assert (
        text.splitlines()[0] == "MLP(" and "(0): Linear(in_features=30, out_features=16, bias=True)" in text
    )
    assert "(output): LogisticRegression(" in text


def test_zero_grad_and_state_dict_round_trip():
    model = nn.LogisticRegression(4, seed=0)
    F.binary_cross_entropy_with_logits(model.logits(Tensor(np.ones((2, 4)))), np.array([1.0, 0.0])).backward()
    assert all(p.grad is not None for p in model.parameters())
    model.zero_grad()
    assert all(p.grad is None for p in model.parameters())
    state = model.state_dict()
    state["linear.weight"][:] = 7  # a copy: the model is untouched
    assert not np.any(model.linear.weight.data == 7)
    other = nn.LogisticRegression(4, seed=9)
    other.load_state_dict(state)
    assert np.array_equal(other.linear.weight.data, np.full((4, 1), 7.0))


def test_load_state_dict_says_what_does_not_match_and_changes_nothing():
    model = nn.LogisticRegression(4, seed=0)
    before = model.linear.weight.data.copy()
    bad = {"linear.weight": np.zeros((3, 1)), "extra": np.zeros(2)}
    with pytest.raises(ValueError) as error:
        model.load_state_dict(bad)
    message = str(error.value)
    assert "missing linear.bias" in message and "unexpected extra" in message
    assert "linear.weight: file (3, 1), model (4, 1)" in message
    assert np.array_equal(model.linear.weight.data, before)


def test_a_scalar_sigmoid_neuron_is_exactly_a_logistic_regression():
    neuron = nn.scalar.Neuron(3, seed=5)
    neuron.b.data = 0.25
    model = nn.LogisticRegression(3)
    model.linear.weight.data = np.array([[w.data] for w in neuron.w])
    model.linear.bias.data = np.array([0.25])
    x = [0.5, -1.5, 2.0]
    p_scalar, p_tensor = neuron(x), model(Tensor([x]))
    assert p_scalar.data == pytest.approx(p_tensor.data[0], rel=1e-15)
    F.binary_cross_entropy(p_scalar, 1.0).backward()
    F.binary_cross_entropy(p_tensor, np.array([1.0])).backward()
    assert [w.grad for w in neuron.w] == pytest.approx(model.linear.weight.grad[:, 0].tolist(), rel=1e-12)
    assert neuron.b.grad == pytest.approx(model.linear.bias.grad[0], rel=1e-12)


def test_scalar_networks_train():
    X, y = tg.data.make_xor(40, noise=0.1, seed=3)
    model = nn.scalar.MLP([2, 4, 1], seed=0)
    opt = tg.optim.SGD(model.parameters(), lr=0.5)
    losses = []
    for _ in range(30):
        opt.zero_grad()
        loss = sum(F.binary_cross_entropy(model(list(x)), t) for x, t in zip(X, y)) / len(y)
        loss.backward()
        opt.step()
        losses.append(loss.data)
    assert losses[-1] < 0.7 * losses[0]
    assert len(model.parameters()) == 2 * 4 + 4 + 4 + 1
    with pytest.raises(ValueError, match="expected 2 inputs, got 3"):
        model.layers[0].neurons[0]([1.0, 2.0, 3.0])


# --- losses ---------------------------------------------------------------------------------


def numpy_bce(p, y):
    with np.errstate(divide="ignore"):  # log(0) = -inf, then clamped, as PyTorch does
        return -(y * np.maximum(np.log(p), -100) + (1 - y) * np.maximum(np.log1p(-p), -100))


def numpy_bce_logits(z, y):
    return np.logaddexp(0, z) - z * y


@pytest.mark.parametrize("reduction", ["mean", "sum", "none"])
def test_bce_matches_numpy_including_p_of_zero_and_one(reduction):
    p = np.array([0.0, 1.0, 0.3, 0.999, 1e-50, 0.5])
    y = np.array([1.0, 0.0, 1.0, 0.0, 1.0, 0.5])
    expected = {"mean": np.mean, "sum": np.sum, "none": lambda a: a}[reduction](numpy_bce(p, y))
    t = Tensor(p, requires_grad=True)
    loss = F.binary_cross_entropy(t, y, reduction=reduction)
    assert np.allclose(loss.data, expected, rtol=1e-12)
    loss.sum().backward() if reduction == "none" else loss.backward()
    assert np.all(np.isfinite(t.grad))  # the clamped logs give 0, not nan
    inside = slice(2, 4)  # p = 0.3 and 0.999, where no log is clamped: dL/dp = (p − y) / (p(1 − p))
    analytic = (p[inside] - y[inside]) / (p[inside] * (1 - p[inside]))
    scale = 1 / len(p) if reduction == "mean" else 1
    assert np.allclose(t.grad[inside], scale * analytic)


@pytest.mark.parametrize("reduction", ["mean", "sum", "none"])
def test_bce_with_logits_is_finite_and_exact_up_to_1e4(reduction):
    z = np.array([-1e4, -40.0, -1.5, 0.0, 2.0, 40.0, 1e4, 1e4])
    y = np.array([1.0, 0.0, 1.0, 0.5, 0.0, 1.0, 0.0, 1.0])
    expected = {"mean": np.mean, "sum": np.sum, "none": lambda a: a}[reduction](numpy_bce_logits(z, y))
    t = Tensor(z, requires_grad=True)
    loss = F.binary_cross_entropy_with_logits(t, y, reduction=reduction)
    assert np.all(np.isfinite(loss.data)) and np.allclose(loss.data, expected, rtol=1e-13)
    loss.sum().backward() if reduction == "none" else loss.backward()
    scale = 1 / len(z) if reduction == "mean" else 1
    assert np.allclose(t.grad, scale * (sigmoid(z) - y), rtol=1e-15, atol=1e-300)


def test_weights_and_values():
    z, y, w = np.array([0.3, -2.0]), np.array([1.0, 0.0]), np.array([2.0, 0.5])
    loss = F.binary_cross_entropy_with_logits(Tensor(z), y, weight=w)
    assert np.isclose(loss.data, np.mean(w * numpy_bce_logits(z, y)))
    loss = F.binary_cross_entropy(Tensor(sigmoid(z)), y, weight=w, reduction="sum")
    assert np.isclose(loss.data, np.sum(w * numpy_bce(sigmoid(z), y)))
    v = Value(0.3)
    lv = F.binary_cross_entropy_with_logits(v, 1.0)
    assert lv.data == pytest.approx(numpy_bce_logits(0.3, 1.0))
    lv.backward()
    assert v.grad == pytest.approx(sigmoid(0.3) - 1)
    assert F.binary_cross_entropy(Value(0.0), 1.0).data == pytest.approx(100.0)


def test_losses_refuse_mismatched_shapes_and_bad_reductions():
    with pytest.raises(ValueError, match=r"predictions of shape \(3, 1\) and targets of shape \(3,\) differ"):
        F.binary_cross_entropy_with_logits(Tensor(np.zeros((3, 1))), np.zeros(3))
    with pytest.raises(ValueError, match="reduction must be 'mean', 'sum' or 'none', not 'avg'"):
        F.binary_cross_entropy(Tensor([0.5]), [1.0], reduction="avg")


def test_bce_on_probabilities_has_the_lesson_gradient():
    p = Value(0.8)
    F.binary_cross_entropy(p, 1.0).backward()
    assert p.grad == pytest.approx(-1 / 0.8)
    assert math.isfinite(p.grad)


def test_bce_refuses_probabilities_outside_zero_one():
    with pytest.raises(ValueError, match=r"must be probabilities in \[0, 1\], got values from 0.2 to 1.5"):
        F.binary_cross_entropy(Tensor([0.2, 1.5]), np.array([1.0, 0.0]))
    with pytest.raises(ValueError, match="pass logits to binary_cross_entropy_with_logits"):
        F.binary_cross_entropy(Value(-0.1), 1.0)
    with pytest.raises(ValueError, match=r"got values from 0\.2 to 0\.2 and nan"):  # PyTorch refuses nan too
        F.binary_cross_entropy(Tensor([0.2, np.nan]), np.array([1.0, 0.0]))
    with pytest.raises(ValueError, match="got values from nan to nan and nan"):
        F.binary_cross_entropy(Value(np.nan), 1.0)


def test_bce_with_logits_stays_finite_at_the_float_limit():
    for z, y in [([1e308], [1.0]), ([1e308, 1e308], [1.0, 1.0]), ([-1e308, 3e307], [0.0, 1.0])]:
        t = Tensor(np.array(z), requires_grad=True)
        loss = F.binary_cross_entropy_with_logits(t, np.array(y))
        assert loss.data == 0.0
        loss.backward()
        assert np.all(np.isfinite(t.grad))
