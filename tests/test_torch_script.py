"""A PyTorch training script (``torch_script.py``: an ``nn.Module`` subclass, ``nn.Linear``,
``F.relu``, ``nn.Dropout``, ``nn.CrossEntropyLoss``, Adam, train/eval, ``no_grad`` evaluation, a
checkpoint of model and optimiser saved, loaded and resumed) runs on tinygrad_lr with only its
import block replaced, and ends with PyTorch's weights from the same initial weights.

The weights are compared with dropout off (p = 0): the two frameworks draw different masks, so
with p > 0 only the behaviour is checked (eval is deterministic and the identity, train is not).
What the harness does differently for the two runs is listed in ``torch_script_run.py``.
"""

import json

import numpy as np
import pytest

import tinygrad_lr as tg
from tests.torch_script_run import ORACLE, load_script, problem, run


def test_the_script_on_tinygrad_lr_gives_pytorchs_stored_weights(tmp_path):
    oracle = json.loads(ORACLE.read_text())  # PyTorch's, see its "source"
    weights, loss, accuracy = run("tinygrad_lr", tmp_path)
    assert weights.keys() == oracle["weights"].keys()
    for name, value in weights.items():
        np.testing.assert_allclose(value, oracle["weights"][name], rtol=0, atol=1e-12, err_msg=name)
    assert loss == pytest.approx(oracle["loss"], rel=1e-12)
    assert accuracy == oracle["accuracy"]


def test_the_script_on_tinygrad_lr_equals_live_pytorch(tmp_path):
    pytest.importorskip("torch", reason="PyTorch is not installed; the stored results are checked instead")
    ours, theirs = run("tinygrad_lr", tmp_path / "tg"), run("torch", tmp_path / "torch")
    for name, value in ours[0].items():
        np.testing.assert_allclose(value, theirs[0][name], rtol=0, atol=1e-12, err_msg=name)
    assert ours[1] == pytest.approx(theirs[1], rel=1e-12)
    assert ours[2] == theirs[2]


def test_resuming_from_the_checkpoint_continues_the_same_run(tmp_path):
    """Stopping after 3 or after 6 of 10 epochs gives the same weights: the checkpoint keeps
    Adam's moments and step counts, not only the model."""
    early, late = run("tinygrad_lr", tmp_path / "a", epochs=(3, 7)), run("tinygrad_lr", tmp_path / "b")
    assert all(np.array_equal(early[0][name], late[0][name]) for name in late[0])
    saved = tg.load(tmp_path / "b" / "checkpoint.npz")
    assert saved["epoch"] == 6 and saved["optimizer"]["state"][0]["step"] == 30  # 5 batches an epoch
    assert saved["optimizer"]["param_groups"][0]["betas"] == (0.9, 0.999)


def test_dropout_changes_training_and_not_evaluation(tmp_path):
    script, (X, _, initial) = load_script("tinygrad_lr"), problem()
    tg.manual_seed(0)
    net, plain = script["Net"](4, 16, 3, 0.5), script["Net"](4, 16, 3, 0.0)
    state = {name: tg.tensor(value.T if value.ndim == 2 else value) for name, value in initial.items()}
    net.load_state_dict(state)
    plain.load_state_dict(state)
    x = tg.tensor(X)
    with tg.no_grad():
        expected = plain.eval()(x).numpy()
        net.eval()
        assert np.array_equal(net(x).numpy(), expected) and np.array_equal(net(x).numpy(), expected)
        net.train()
        first, second = net(x).numpy(), net(x).numpy()
    assert not np.allclose(first, expected) and not np.allclose(first, second)
    dropped, kept = run("tinygrad_lr", tmp_path / "p", p=0.5), run("tinygrad_lr", tmp_path / "0")
    assert not np.allclose(dropped[0]["fc1.weight"], kept[0]["fc1.weight"])
