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
