"""Training never ends silently wrong (issue 16): Newton converges from any start or says why it
cannot, optimiser settings, all-or-nothing loading, CSV files, empty models, stratified sizes,
and loss curves of one epoch."""

import math
from pathlib import Path

import pytest

import tinygrad_lr as tg

DATA = Path(__file__).parent / "data"


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
    ],
)
def test_optimiser_settings_out_of_range_are_refused_naming_the_range(make, message):
    with pytest.raises(ValueError, match=message):
        make()
