"""What a PyTorch user types next in ``tg.nn``: seeded initialisation, state dicts with frozen
parameters and buffers, PyTorch's weight layout, train/eval, the module walkers, ModuleList,
Dropout and the loss modules.

Reference numbers marked "PyTorch's" were printed by torch 2.13 (CPU, float64) for the same
inputs; the suite does not need torch.
"""

import numpy as np
import pytest

import tinygrad_lr as tg
from tinygrad_lr import Tensor, nn
from tinygrad_lr.nn import functional as F

# --- initialisation follows tg.manual_seed ------------------------------------------------------


def test_initial_weights_follow_manual_seed():
    tg.manual_seed(5)
    a, b = nn.Linear(3, 4), nn.Linear(3, 4)
    assert not np.array_equal(a.weight.data, b.weight.data)  # two layers of one shape differ
    tg.manual_seed(5)
    assert np.array_equal(nn.Linear(3, 4).weight.data, a.weight.data)  # a seeded run repeats
    networks = (lambda: nn.MLP([3, 4, 1]), lambda: nn.SoftmaxMLP([3, 4, 3]), lambda: nn.scalar.MLP([2, 3, 1]))
    for make in networks:
        tg.manual_seed(1)
        first = [np.array(p.data) for p in make().parameters()]
        second = [np.array(p.data) for p in make().parameters()]
        tg.manual_seed(1)
        again = [np.array(p.data) for p in make().parameters()]
        assert all(np.array_equal(x, y) for x, y in zip(first, again, strict=True))
        assert not all(np.array_equal(x, y) for x, y in zip(first, second, strict=True))


def test_an_explicit_seed_still_chooses_the_weights():
    tg.manual_seed(7)
    layer = nn.Linear(9, 5, seed=3)
    rng = np.random.default_rng(3)  # PyTorch's bounds, drawn as documented: weight, then bias
    bound = 1 / 3
    assert np.array_equal(layer.weight.data, rng.uniform(-bound, bound, (9, 5)))
    assert np.array_equal(layer.bias.data, rng.uniform(-bound, bound, 5))
    from_generator = nn.Linear(9, 5, seed=tg.Generator(3))
    assert np.array_equal(from_generator.weight.data, layer.weight.data)


# --- state_dict: frozen parameters, buffers, strict=False -----------------------------------------


class Counted(nn.Module):
    def __init__(self, seed=0):
        self.lin = nn.Linear(2, 2, seed=seed)
        self.register_buffer("count", tg.zeros(2))
        self.scale = nn.Parameter(np.ones(2))

    def forward(self, x):
        return self.lin(x) * self.scale


def test_a_frozen_parameter_stays_in_the_state_dict_and_loads():
    model = Counted()
    model.lin.weight.requires_grad = False
    assert "lin.weight" in model.state_dict()
    assert [name for name, _ in model.named_parameters()] == [
        "scale",
        "lin.weight",
        "lin.bias",
    ]  # PyTorch's order
    fresh = Counted(seed=1)
    fresh.load_state_dict(model.state_dict())
    assert np.array_equal(fresh.lin.weight.data, model.lin.weight.data)


def test_buffers_are_saved_loaded_and_are_not_parameters():
    model = Counted()
    model.count.data[:] = [3.0, 4.0]
    state = model.state_dict()
    assert sorted(state) == ["count", "lin.bias", "lin.weight", "scale"]
    assert [name for name, _ in model.named_buffers()] == ["count"]
    assert all(p is not model.count for p in model.parameters())
    fresh = Counted(seed=1)
    fresh.load_state_dict(state)
    assert np.array_equal(fresh.count.data, [3.0, 4.0])
    model.count = model.count + 1  # a buffer assigned anew stays a buffer, as in PyTorch
    assert np.array_equal(model.state_dict()["count"], [4.0, 5.0])
    model.register_buffer("scratch", tg.ones(1), persistent=False)
    assert "scratch" not in model.state_dict() and len(list(model.buffers())) == 2


def test_load_state_dict_not_strict_returns_missing_and_unexpected_keys():
    model = Counted()
    result = model.load_state_dict({"lin.weight": np.ones((2, 2)), "extra": np.zeros(1)}, strict=False)
    # PyTorch's: _IncompatibleKeys(missing_keys=['count', 'lin.bias'], unexpected_keys=['extra'])
    assert sorted(result.missing_keys) == ["count", "lin.bias", "scale"]
    assert result.unexpected_keys == ["extra"]
    missing, unexpected = result  # a pair, as PyTorch's
    assert missing == result.missing_keys and unexpected == ["extra"]
    assert np.array_equal(model.lin.weight.data, np.ones((2, 2)))
    assert tuple(model.load_state_dict(model.state_dict())) == ([], [])
    with pytest.raises(
        ValueError, match=r"lin.weight: file \(3, 2\), model \(2, 2\)"
    ):  # PyTorch: size mismatch
        model.load_state_dict({"lin.weight": np.ones((3, 2))}, strict=False)


def test_a_parameter_starts_frozen_only_when_registered():
    model = Counted()
    model.register_parameter("offset", nn.Parameter(np.zeros(2)))
    model.offset.requires_grad = False
    assert "offset" in dict(model.named_parameters())
    with pytest.raises(ValueError, match="register_parameter"):
        nn.Parameter(np.zeros(2), requires_grad=False)


# --- PyTorch's layout of Linear.weight ------------------------------------------------------------


def test_a_transposed_weight_is_refused_with_the_reason():
    with pytest.raises(
        ValueError, match=r"weight: file \(3, 2\), model \(2, 3\).*transpose.*layout=\"out_in\""
    ):
        nn.Linear(2, 3).load_state_dict({"weight": np.zeros((3, 2)), "bias": np.zeros(3)})


def test_linear_takes_pytorchs_layout():
    layer = nn.Linear(2, 2, layout="out_in")
    layer.load_state_dict({"weight": np.array([[1.0, 2.0], [3.0, 4.0]]), "bias": np.array([0.5, -0.5])})
    out = layer(Tensor([[1.0, -1.0], [0.25, 2.0]]))
    np.testing.assert_array_equal(out.data, [[-0.5, -1.5], [4.75, 8.25]])  # PyTorch's nn.Linear output
    same = nn.Linear(3, 2, seed=4, layout="out_in"), nn.Linear(3, 2, seed=4)
    assert same[0].weight.shape == (2, 3)
    x = Tensor(np.arange(6.0).reshape(2, 3))
    np.testing.assert_array_equal(same[0](x).data, same[1](x).data)  # one seed, one function
    for layer in same:
        layer(x).sum().backward()
    np.testing.assert_array_equal(same[0].weight.grad, same[1].weight.grad.T)
    assert "layout='out_in'" in repr(same[0])
    with pytest.raises(ValueError, match="layout"):
        nn.Linear(2, 2, layout="torch")


# --- train/eval and the walkers -------------------------------------------------------------------


class Net(nn.Module):
    def __init__(self):
        self.fc1 = nn.Linear(2, 3)
        self.blocks = nn.ModuleList([nn.Linear(3, 3), nn.ReLU()])
        self.drop = nn.Dropout(0.5)
        self.fc2 = nn.Linear(3, 1)

    def forward(self, x):
        x = self.fc1(x)
        for block in self.blocks:
            x = block(x)
        return self.fc2(self.drop(x))


def test_module_walkers_name_as_pytorch():
    net = Net()
    # PyTorch's names for the same module
    assert [name for name, _ in net.named_modules()] == [
        "",
        "fc1",
        "blocks",
        "blocks.0",
        "blocks.1",
        "drop",
        "fc2",
    ]
    assert [name for name, _ in net.named_children()] == ["fc1", "blocks", "drop", "fc2"]
    assert [type(m).__name__ for m in net.children()] == ["Linear", "ModuleList", "Dropout", "Linear"]
    assert next(net.modules()) is net and len(list(net.modules())) == 7
    assert list(net.state_dict()) == [
        "fc1.weight", "fc1.bias", "blocks.0.weight", "blocks.0.bias", "fc2.weight", "fc2.bias"
    ]  # fmt: skip
    assert "(blocks): ModuleList(\n    (0): Linear(in_features=3" in repr(net)
    assert "(drop): Dropout(p=0.5)" in repr(net)


def test_a_module_shared_twice_is_walked_once():
    shared = nn.Linear(2, 2)
    net = nn.Sequential(shared, nn.ReLU(), shared)
    assert [m for m in net.modules()].count(shared) == 1


def test_train_and_eval_set_every_module():
    net = Net()
    assert net.training and net.blocks[0].training
    assert net.eval() is net and not net.training and not net.blocks[0].training and not net.drop.training
    assert net.train() is net and net.drop.training
    net.train(False)
    assert not net.fc2.training
    with pytest.raises(ValueError, match="bool"):  # PyTorch: a ValueError too
        net.train("no")


def test_module_list_is_a_list_of_modules():
    blocks = nn.ModuleList([nn.Linear(2, 2)])
    blocks.append(nn.Tanh()).extend([nn.Linear(2, 1)])
    assert len(blocks) == 3 and isinstance(blocks[-1], nn.Linear) and isinstance(blocks[1:], nn.ModuleList)
    assert [name for name, _ in blocks.named_parameters()] == ["0.weight", "0.bias", "2.weight", "2.bias"]
    with pytest.raises(TypeError, match="not a Module"):
        blocks.append(np.zeros(2))


# --- Dropout --------------------------------------------------------------------------------------


def test_dropout_scales_the_kept_units_in_training_and_is_the_identity_in_eval():
    x = Tensor(np.full((200, 50), 2.0), requires_grad=True)
    drop = nn.Dropout(0.25)
    tg.manual_seed(0)
    out = drop(x)
    kept = out.data != 0
    assert set(np.unique(out.data)) == {0.0, 2.0 / 0.75}  # kept units scaled by 1/(1 - p)
    assert abs(kept.mean() - 0.75) < 0.01
    out.sum().backward()
    np.testing.assert_array_equal(x.grad, kept / 0.75)
    tg.manual_seed(0)
    np.testing.assert_array_equal(drop(x).data, out.data)  # the mask comes from the global generator
    assert drop.eval()(x) is x
    assert F.dropout(x, 0.25, training=False) is x
    assert np.array_equal(F.dropout(x, 1.0).data, np.zeros((200, 50)))  # PyTorch: p = 1 gives zeros
    assert F.dropout(Tensor(np.ones(3, dtype=np.float32)), 0.5).dtype == np.float32
    with pytest.raises(ValueError, match=r"between 0 and 1, but got 1\.5"):
        nn.Dropout(1.5)


# --- losses and functional ------------------------------------------------------------------------

LOGITS = np.array([[1.0, -2.0, 0.5], [0.3, 0.2, -1.0], [2.0, 1.0, 0.0], [-0.5, 0.0, 0.5]])
LABELS = np.array([0, 2, 1, 2])
CLASS_WEIGHTS = np.array([1.0, 2.0, 0.5])
# PyTorch's CrossEntropyLoss(weight=CLASS_WEIGHTS, ignore_index=1) and nll_loss of log_softmax
WEIGHTED = {
    "mean": 0.9418952098660953,
    "sum": 1.8837904197321906,
    "none": [0.5045969023422835, 1.03905868206904, 0.0, 0.3401348353208673],
}


@pytest.mark.parametrize("reduction", ["mean", "sum", "none"])
def test_cross_entropy_and_nll_loss_modules_match_pytorch(reduction):
    loss = nn.CrossEntropyLoss(weight=CLASS_WEIGHTS, ignore_index=1, reduction=reduction)
    np.testing.assert_allclose(loss(Tensor(LOGITS), LABELS).data, WEIGHTED[reduction], rtol=1e-15)
    log_probs = Tensor(LOGITS).log_softmax(-1)
    nll = nn.NLLLoss(weight=CLASS_WEIGHTS, ignore_index=1, reduction=reduction)(log_probs, LABELS)
    np.testing.assert_allclose(nll.data, WEIGHTED[reduction], rtol=1e-15)
    functional = F.nll_loss(log_probs, LABELS, weight=CLASS_WEIGHTS, reduction=reduction, ignore_index=1)
    np.testing.assert_allclose(functional.data, WEIGHTED[reduction], rtol=1e-15)


def test_nll_loss_gradient_and_plain_mean():
    z = Tensor(LOGITS, requires_grad=True)
    loss = F.nll_loss(F.log_softmax(z, -1), LABELS)
    assert loss.item() == pytest.approx(1.1676474753916195, rel=1e-15)  # PyTorch's
    loss.backward()
    pytorch_grad = [  # PyTorch's gradient of CrossEntropyLoss()(z, y)
        [-0.09906277596284355, 0.007514721892393506, 0.09154805407045005],
        [0.11481745894493865, 0.10389113309718807, -0.21870859204212673],
        [0.16631023894370545, -0.18881788223630058, 0.02250764329259511],
        [0.04658093080646189, 0.0767989714296246, -0.1233799022360865],
    ]
    np.testing.assert_allclose(z.grad, pytorch_grad, rtol=1e-13, atol=1e-16)
    masked = Tensor([[-np.inf, 0.0], [0.0, -np.inf]])  # an ignored row's -inf does not leak in
    assert F.nll_loss(masked, np.array([1, -100]), reduction="none").tolist() == [-0.0, 0.0]


PREDICTIONS, TARGETS = np.array([0.5, -1.0, 2.0, 0.0]), np.array([1.0, 0.0, 0.0, 1.0])
MSE = {"mean": 1.5625, "sum": 6.25, "none": [0.25, 1.0, 4.0, 1.0]}  # PyTorch's
BCE_LOGITS = {  # PyTorch's BCEWithLogitsLoss
    "mean": 0.9018534658253119,
    "sum": 3.6074138633012476,
    "none": [0.4740769841801067, 0.3132616875182228, 2.1269280110429727, 0.6931471805599453],
}


@pytest.mark.parametrize("reduction", ["mean", "sum", "none"])
def test_mse_and_bce_with_logits_modules_match_pytorch(reduction):
    x = Tensor(PREDICTIONS)
    np.testing.assert_allclose(nn.MSELoss(reduction=reduction)(x, TARGETS).data, MSE[reduction], rtol=1e-15)
    np.testing.assert_allclose(F.mse_loss(x, TARGETS, reduction=reduction).data, MSE[reduction], rtol=1e-15)
    bce = nn.BCEWithLogitsLoss(reduction=reduction)(x, TARGETS)
    np.testing.assert_allclose(bce.data, BCE_LOGITS[reduction], rtol=1e-15)


def test_loss_modules_take_weights_and_refuse_bad_reductions():
    weighted = nn.BCEWithLogitsLoss(weight=np.array([1.0, 2.0, 3.0, 4.0]))(Tensor(PREDICTIONS), TARGETS)
    assert weighted.item() == pytest.approx(2.563493278646313, rel=1e-15)  # PyTorch's
    p = Tensor([0.2, 0.9])
    assert (
        nn.BCELoss()(p, np.array([0.0, 1.0])).item() == F.binary_cross_entropy(p, np.array([0.0, 1.0])).item()
    )
    assert repr(nn.CrossEntropyLoss()) == "CrossEntropyLoss()" and repr(nn.MSELoss()) == "MSELoss()"
    with pytest.raises(ValueError, match="reduction"):
        nn.MSELoss(reduction="avg")
    with pytest.raises(ValueError, match="shape"):
        F.mse_loss(Tensor([1.0, 2.0]), np.array([[1.0, 2.0]]))
    x = tg.Value(3.0)
    F.mse_loss(x, 1.0).backward()
    assert x.grad == 4.0


def test_functional_activations_are_the_ops():
    x = Tensor([-1.0, 0.0, 2.0])
    for name in ("relu", "tanh", "sigmoid"):
        np.testing.assert_array_equal(getattr(F, name)(x).data, getattr(tg, name)(x).data)
