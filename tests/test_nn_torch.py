"""What a PyTorch user types next in ``tg.nn``: seeded initialisation, state dicts with frozen
parameters and buffers, PyTorch's weight layout, train/eval, the module walkers, ModuleList,
Dropout and the loss modules.

Reference numbers marked "PyTorch's" were printed by torch 2.13 (CPU, float64) for the same
inputs; the suite does not need torch.
"""

import numpy as np

import tinygrad_lr as tg
from tinygrad_lr import nn

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
