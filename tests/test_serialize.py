"""tg.save and tg.load: exact round trips, atomic writes, clear errors, never pickle."""

import numpy as np
import pytest

import tinygrad_lr as tg
from tinygrad_lr import nn


def test_round_trip_is_exact(tmp_path):
    model = nn.MLP([5, 3, 1], seed=4)
    path = tg.save(model, tmp_path / "model.npz")
    state = tg.load(path)
    assert set(state) == {name for name, _ in model.named_parameters()}
    fresh = nn.MLP([5, 3, 1], seed=99)
    fresh.load_state_dict(state)
    for (_, a), (_, b) in zip(model.named_parameters(), fresh.named_parameters()):
        assert np.array_equal(a.data, b.data) and a.data.dtype == b.data.dtype
    tg.save({"w": np.arange(3.0)}, tmp_path / "dict.npz")
    assert np.array_equal(tg.load(tmp_path / "dict.npz")["w"], np.arange(3.0))


def test_an_interrupted_save_leaves_the_old_file(tmp_path, monkeypatch):
    path = tg.save({"w": np.ones(2)}, tmp_path / "model.npz")

    def explode(*args, **kwargs):
        raise KeyboardInterrupt

    monkeypatch.setattr(np, "savez", explode)
    with pytest.raises(KeyboardInterrupt):
        tg.save({"w": np.zeros(2)}, path)
    assert np.array_equal(tg.load(path)["w"], np.ones(2))
    assert [p.name for p in tmp_path.iterdir()] == ["model.npz"]  # no temporary left behind


def test_corrupted_and_wrong_files_are_refused_clearly(tmp_path):
    path = tg.save({"w": np.ones(1000)}, tmp_path / "model.npz")
    truncated = tmp_path / "truncated.npz"
    truncated.write_bytes(path.read_bytes()[:300])
    with pytest.raises(ValueError, match=r"is not a valid \.npz file"):
        tg.load(truncated)
    text = tmp_path / "notes.npz"
    text.write_text("hello")
    with pytest.raises(ValueError, match=r"is not a valid \.npz file"):
        tg.load(text)
    with pytest.raises(FileNotFoundError, match="no file at"):
        tg.load(tmp_path / "missing.npz")
    with pytest.raises(ValueError, match=r"must end in \.npz"):
        tg.save({"w": np.ones(1)}, tmp_path / "model.pkl")


def test_loading_never_unpickles(tmp_path):
    path = tmp_path / "evil.npz"
    np.savez(path, w=np.array([{"code": "anything"}], dtype=object))
    with pytest.raises(ValueError, match="refusing to unpickle"):
        tg.load(path)
    with pytest.raises(TypeError, match="not a named numeric array"):
        tg.save({"w": np.array([object()])}, tmp_path / "x.npz")


def test_a_mismatched_file_names_the_difference(tmp_path):
    path = tg.save(nn.LogisticRegression(4), tmp_path / "lr.npz")
    with pytest.raises(ValueError, match=r"linear.weight: file \(4, 1\), model \(3, 1\)"):
        nn.LogisticRegression(3).load_state_dict(tg.load(path))


def test_saved_files_have_the_usual_permissions(tmp_path):
    import os

    umask = os.umask(0o022)
    try:
        path = tg.save({"w": np.ones(1)}, tmp_path / "m.npz")
    finally:
        os.umask(umask)
    assert path.stat().st_mode & 0o777 == 0o644
