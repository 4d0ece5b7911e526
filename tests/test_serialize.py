"""tg.save and tg.load: exact round trips, atomic writes, clear errors, never pickle, bounded memory."""

import io
import math
import os
import re
import signal
import struct
import time
import tracemalloc
import warnings
import zipfile

import numpy as np
import pytest
from numpy.lib import format as npy_format

import tinygrad_lr as tg
from tinygrad_lr import nn
from tinygrad_lr.serialize import MAX_BYTES


def npy_bytes(array):
    buffer = io.BytesIO()
    np.save(buffer, array, allow_pickle=False)
    return buffer.getvalue()


def npy_header(shape, descr="<f8"):
    buffer = io.BytesIO()
    npy_format.write_array_header_1_0(buffer, {"descr": descr, "fortran_order": False, "shape": shape})
    return buffer.getvalue()


def write_zip(path, members, compression=zipfile.ZIP_STORED):
    with zipfile.ZipFile(path, "w", compression) as archive:
        for name, data in members:
            archive.writestr(name, data)
    return path


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


def test_every_key_and_array_round_trips_exactly(tmp_path):
    keys = ["allow_pickle", "file", "args", "w", "w.npy", "w.npy.npy", ".npy", "a/b", "/", "..", "é σ", "\n"]
    state = {key: np.full(2, float(i)) for i, key in enumerate(keys)}
    state |= {
        "float32": np.linspace(0, 1, 7, dtype=np.float32),
        "int8": np.array([-128, 127], dtype=np.int8),
        "uint16": np.array([65535], dtype=np.uint16),
        "bool": np.array([True, False]),
        "big-endian": np.arange(4, dtype=">f8"),
        "0-d": np.array(2.5),
        "empty": np.zeros((0, 3)),
        "fortran": np.asfortranarray(np.arange(12.0).reshape(3, 4)),
        "strided": np.arange(20.0)[::3],
    }
    path = tg.save(state, tmp_path / "keys.npz")
    loaded = tg.load(path)
    assert list(loaded) == list(state)
    for key, array in state.items():
        assert loaded[key].dtype == array.dtype and loaded[key].shape == array.shape, key
        assert np.array_equal(loaded[key], array), key
    loaded["w"][0] = 99.0  # a loaded array is the caller's own, writable
    assert state["w"][0] == 3.0
    with np.load(path, allow_pickle=False) as archive:  # numpy reads the file: member = key + ".npy"
        for key, array in state.items():
            assert np.array_equal(archive[key + ".npy"], array), key


def test_files_written_by_np_savez_load_with_their_keys(tmp_path):
    path = tmp_path / "numpy.npz"
    np.savez(path, np.arange(2.0), w=np.ones(2), **{"w.npy": np.zeros(3)})
    state = tg.load(path)
    assert set(state) == {"arr_0", "w", "w.npy"}
    assert np.array_equal(state["w"], np.ones(2)) and np.array_equal(state["w.npy"], np.zeros(3))
    compressed = tmp_path / "compressed.npz"
    np.savez_compressed(compressed, w=np.arange(6.0).reshape(2, 3))
    assert np.array_equal(tg.load(compressed)["w"], np.arange(6.0).reshape(2, 3))


def test_a_module_without_parameters_round_trips(tmp_path):
    path = tg.save(nn.Sequential(nn.Sigmoid()), tmp_path / "empty.npz")
    assert tg.load(path) == {}


def test_a_checkpoint_with_an_optimisers_state_round_trips(tmp_path):
    """``torch.save({"model": ..., "optimizer": opt.state_dict(), ...}, path)``, as PyTorch users
    write it: nested dicts, lists and tuples, int keys and plain values come back as they were."""
    model = nn.Linear(3, 2)
    optimizer = tg.optim.Adam(model.parameters(), lr=0.1, amsgrad=True)
    tg.cross_entropy(model(tg.tensor(np.eye(3))), tg.tensor([0, 1, 1])).backward()
    optimizer.step()
    checkpoint = {
        "model": model.state_dict(),
        "optimizer": optimizer.state_dict(),
        "epoch": 7,
        "history": [0.1, 1 / 3, math.inf, -0.0],
        "note": "é σ",
        "nothing": None,
        "flags": (True, np.float32(0.5), np.int64(2)),
        "": {"": np.ones(2), "a/b": np.zeros(1), "a": {"b": np.full(1, 2.0)}},  # paths that collide
    }
    loaded = tg.load(tg.save(checkpoint, tmp_path / "checkpoint.npz"))
    expected = checkpoint | {"flags": (True, 0.5, 2)}  # numpy scalars come back as Python's

    def same(a, b):
        if isinstance(a, np.ndarray):
            return isinstance(b, np.ndarray) and a.dtype == b.dtype and np.array_equal(a, b)
        if isinstance(a, dict):
            return type(b) is dict and list(a) == list(b) and all(same(a[key], b[key]) for key in a)
        if isinstance(a, (list, tuple)):
            return type(a) is type(b) and len(a) == len(b) and all(map(same, a, b))
        return type(a) is type(b) and str(a) == str(b)

    assert same(expected, loaded)
    again = tg.optim.Adam(nn.Linear(3, 2).parameters())
    again.load_state_dict(loaded["optimizer"])
    assert again.state_dict()["param_groups"] == optimizer.state_dict()["param_groups"]
    with np.load(tmp_path / "checkpoint.npz", allow_pickle=False) as archive:  # arrays by their path
        assert np.array_equal(
            archive["optimizer/state/0/exp_avg.npy"], checkpoint["optimizer"]["state"][0]["exp_avg"]
        )


def test_a_checkpoint_of_what_save_cannot_keep_is_refused(tmp_path):
    with pytest.raises(TypeError, match=r"the key 1\.5 at optimizer is not a string or an int"):
        tg.save({"optimizer": {1.5: np.ones(1)}}, tmp_path / "a.npz")
    with pytest.raises(TypeError, match="'model/w' is not a named numeric array"):
        tg.save({"model": {"w": np.array(["text"])}}, tmp_path / "b.npz")
    assert list(tmp_path.iterdir()) == []


@pytest.mark.parametrize(
    ("structure", "arrays", "reason"),
    [
        (b"{not json", {}, "not readable JSON"),
        (b"\xff", {}, "not readable JSON"),
        (b'{"dict": [["w", {"array": "w"}]]}', {}, "structure holds"),  # names a missing array
        (b'{"dict": []}', {"w": np.ones(1)}, "does not name the array 'w'"),
        (b'{"dict": [["w", {"array": "w"}], ["v", {"array": "w"}]]}', {"w": np.ones(1)}, "structure holds"),
        (b'{"dict": [["w", 1], ["w", 2]]}', {}, "structure holds"),  # a key twice
        (b'{"dict": [[true, 1]]}', {}, "structure holds"),
        (b'{"set": [1]}', {}, "structure holds"),
        (b'{"list": [1]}', {}, "not a dict"),
        (b'{"list": ' * 5000 + b"[]" + b"}" * 5000, {}, "nested too deeply|not readable JSON"),
    ],
)
def test_a_damaged_checkpoint_structure_is_refused(tmp_path, structure, arrays, reason):
    path = tmp_path / "damaged.npz"
    np.savez(path, **{"": np.frombuffer(structure, dtype=np.uint8)}, **arrays)
    with pytest.raises(ValueError, match=f"not a valid .npz file.*({reason})"):
        tg.load(path)


def test_a_checkpoint_structure_that_is_not_bytes_is_refused(tmp_path):
    np.savez(tmp_path / "floats.npz", **{"": np.ones(3)})
    with pytest.raises(ValueError, match=r"its structure \(the member '.npy'\) is float64"):
        tg.load(tmp_path / "floats.npz")


@pytest.mark.parametrize(
    ("key", "reason"),
    [
        ("", "is empty"),
        ("a\x00b", "NUL byte"),
        ("a\\b", "backslash"),
        ("w\udc80", "not valid Unicode"),
        ("k" * 70_000, "longer than a zip"),
    ],
)
def test_keys_a_zip_cannot_keep_are_refused_before_writing(tmp_path, key, reason):
    path = tmp_path / "model.npz"
    with pytest.raises(ValueError, match=reason):
        tg.save({"good": np.ones(1), key: np.ones(1)}, path)
    assert list(tmp_path.iterdir()) == []


def test_the_same_state_gives_the_same_bytes(tmp_path, monkeypatch):
    monkeypatch.setattr(time, "time", lambda: 1_000_000_000.0)
    first = tg.save({"w": np.arange(3.0), "b": np.ones(1)}, tmp_path / "a.npz")
    monkeypatch.setattr(time, "time", lambda: 2_000_000_000.0)  # years later
    second = tg.save({"w": np.arange(3.0), "b": np.ones(1)}, tmp_path / "b.npz")
    assert first.read_bytes() == second.read_bytes()


def test_an_interrupted_save_leaves_the_old_file(tmp_path, monkeypatch):
    path = tg.save({"w": np.ones(2), "b": np.ones(3)}, tmp_path / "model.npz")
    write_array = npy_format.write_array
    written = []

    def write_one_then_stop(stream, array, **kwargs):
        if written:
            raise KeyboardInterrupt
        written.append(array)
        write_array(stream, array, **kwargs)

    monkeypatch.setattr(npy_format, "write_array", write_one_then_stop)
    with pytest.raises(KeyboardInterrupt):
        tg.save({"w": np.zeros(2), "b": np.zeros(3)}, path)
    assert len(written) == 1  # the save stopped half way through the archive
    monkeypatch.undo()
    state = tg.load(path)
    assert np.array_equal(state["w"], np.ones(2)) and np.array_equal(state["b"], np.ones(3))
    assert [p.name for p in tmp_path.iterdir()] == ["model.npz"]  # no temporary left behind


def test_corrupted_and_wrong_files_are_refused_clearly(tmp_path):
    path = tg.save({"w": np.ones(1000)}, tmp_path / "model.npz")
    truncated = tmp_path / "truncated.npz"
    truncated.write_bytes(path.read_bytes()[:300])
    with pytest.raises(ValueError, match=r"is not a valid \.npz file"):
        tg.load(truncated)
    flipped = bytearray(path.read_bytes())
    flipped[flipped.index(np.float64(1.0).tobytes()) + 500] ^= 1
    (tmp_path / "flipped.npz").write_bytes(flipped)
    with pytest.raises(ValueError, match=r"is not a valid \.npz file \(Bad CRC-32"):
        tg.load(tmp_path / "flipped.npz")
    text = tmp_path / "notes.npz"
    text.write_text("hello")
    with pytest.raises(ValueError, match=r"is not a valid \.npz file"):
        tg.load(text)
    with pytest.raises(FileNotFoundError, match="no file at"):
        tg.load(tmp_path / "missing.npz")
    with pytest.raises(FileNotFoundError, match="no file at"):
        tg.load(path / "inside.npz")
    with pytest.raises(ValueError, match=r"must end in \.npz"):
        tg.save({"w": np.ones(1)}, tmp_path / "model.pkl")


def test_a_header_that_disagrees_with_its_data_is_refused(tmp_path):
    longer = write_zip(tmp_path / "longer.npz", [("w.npy", npy_header((2,)) + np.arange(3.0).tobytes())])
    with pytest.raises(ValueError, match=r"'w' of shape \(2,\) and dtype float64 needs 16 bytes"):
        tg.load(longer)
    shorter = write_zip(tmp_path / "shorter.npz", [("w.npy", npy_header((4,)) + np.arange(3.0).tobytes())])
    with pytest.raises(ValueError, match=r"needs 32 bytes of data and the archive holds 24"):
        tg.load(shorter)


def test_a_member_that_is_not_an_npy_array_is_refused(tmp_path):
    path = write_zip(tmp_path / "mixed.npz", [("w.npy", npy_bytes(np.ones(2))), ("notes.txt", b"hello")])
    with pytest.raises(ValueError, match=r"holds 'notes\.txt', which is not a \.npy array"):
        tg.load(path)


def test_a_directory_in_the_archive_is_refused(tmp_path):
    path = write_zip(tmp_path / "folder.npz", [("w.npy", npy_bytes(np.ones(2))), ("w.npy/", b"")])
    with pytest.raises(ValueError, match=r"holds 'w\.npy/', which is not a \.npy array"):
        tg.load(path)


def test_a_member_with_less_data_than_the_zip_directory_declares_is_refused(tmp_path):
    data = npy_header((4,)) + np.arange(3.0).tobytes()
    path = write_zip(tmp_path / "short.npz", [("w.npy", data)], zipfile.ZIP_DEFLATED)
    archive = bytearray(path.read_bytes())
    for size_field in (22, archive.index(b"PK\x01\x02") + 24):  # local header, central directory
        struct.pack_into("<I", archive, size_field, len(data) + 8)
    path.write_bytes(archive)
    assert zipfile.ZipFile(path).getinfo("w.npy").file_size == len(npy_header((4,))) + 32
    with pytest.raises(ValueError, match=rf"{re.escape(str(path))} is not a valid \.npz file \('w'"):
        tg.load(path)


@pytest.mark.parametrize(
    "shape",
    [(-1, -1), (-2,), (0, 2**62), (2**61, 0), (2**70, 0), (True,), (2, False), (0,) * 65],
    ids=lambda shape: str(shape) if len(shape) < 3 else f"{len(shape)} axes",
)
def test_a_shape_numpy_cannot_make_is_refused_naming_the_file_and_the_array(tmp_path, shape):
    data = bytes(8 * max(math.prod(shape), 0))
    path = write_zip(tmp_path / "shape.npz", [("w.npy", npy_header(shape) + data)])
    with pytest.raises(ValueError) as refusal:
        tg.load(path)
    assert f"{path} is not a valid .npz file ('w' declares the shape {shape}" in str(refusal.value)


@pytest.mark.parametrize(
    "header",
    [
        b"{{{{{{{{{",  # numpy's tokenizer: TokenError
        b"-" * 3000 + b"1",  # its literal_eval: RecursionError
        b"{'descr': ',f8', 'fortran_order': False, 'shape': (3,), }",  # its dtype parser: SyntaxError
    ],
    ids=["unclosed", "deep", "descr"],
)
def test_a_header_numpy_cannot_parse_is_refused_naming_the_file_and_the_array(tmp_path, header):
    header += b"\n"
    npy = b"\x93NUMPY\x01\x00" + len(header).to_bytes(2, "little") + header
    path = write_zip(tmp_path / "header.npz", [("w.npy", npy)])
    with pytest.raises(ValueError, match=rf"^load: {re.escape(str(path))} is not a valid \.npz file \('w': "):
        tg.load(path)


def test_two_members_of_one_name_are_refused(tmp_path):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)  # zipfile warns: "Duplicate name"
        path = write_zip(
            tmp_path / "twice.npz", [("w.npy", npy_bytes(np.ones(2))), ("w.npy", npy_bytes(np.zeros(2)))]
        )
    with pytest.raises(ValueError, match="holds two arrays named 'w'"):
        tg.load(path)


def test_loading_never_unpickles(tmp_path):
    path = tmp_path / "evil.npz"
    np.savez(path, w=np.array([{"code": "anything"}], dtype=object))
    with pytest.raises(ValueError, match="refusing to unpickle"):
        tg.load(path)
    with pytest.raises(TypeError, match="not a named numeric array"):
        tg.save({"w": np.array([object()])}, tmp_path / "x.npz")
    text = tmp_path / "text.npz"
    np.savez(text, w=np.array(["one", "two"]))
    with pytest.raises(ValueError, match="holds 'w' of dtype <U3; load reads only numeric arrays"):
        tg.load(text)


def peak_memory_of(function, *args, **kwargs):
    tracemalloc.start()
    try:
        with pytest.raises(ValueError) as refusal:
            function(*args, **kwargs)
        return tracemalloc.get_traced_memory()[1], refusal.value
    finally:
        tracemalloc.stop()


def test_a_huge_declared_shape_is_refused_before_allocating(tmp_path):
    path = write_zip(tmp_path / "huge.npz", [("w.npy", npy_header((10**6, 10**6)))])
    peak, error = peak_memory_of(tg.load, path)
    assert "declares 'w' of shape (1000000, 1000000) and dtype float64: 7.28 TiB" in str(error)
    assert "more than the limit of 256 MiB" in str(error) and "max_bytes" in str(error)
    assert peak < 2**20


def test_a_zip_bomb_is_refused_before_it_expands(tmp_path):
    n_bytes = MAX_BYTES + 2**20
    path = tmp_path / "bomb.npz"
    zeros = bytes(2**20)
    with (
        zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED, compresslevel=1) as archive,
        archive.open("w.npy", "w", force_zip64=True) as member,
    ):
        member.write(npy_header((n_bytes // 8,)))
        for _ in range(n_bytes // len(zeros)):
            member.write(zeros)
    assert path.stat().st_size < n_bytes / 100
    peak, error = peak_memory_of(tg.load, path)
    assert "expands to 257 MiB, more than the limit of 256 MiB" in str(error)
    assert peak < 2**20


def test_max_bytes_raises_or_lowers_the_limit(tmp_path):
    path = tg.save({"a": np.ones(1000), "b": np.ones(1000)}, tmp_path / "two.npz")
    expanded = 2 * (len(npy_header((1000,))) + 8 * 1000)
    assert set(tg.load(path, max_bytes=expanded)) == {"a", "b"}
    with pytest.raises(ValueError, match=r"expands to 15\.9 KiB, more than the limit of 9\.77 KiB"):
        tg.load(path, max_bytes=10_000)
    with pytest.raises(ValueError, match="more than the limit"):
        tg.load(path, max_bytes=expanded - 1)
    huge = write_zip(tmp_path / "huge.npz", [("w.npy", npy_header((10**6, 10**6)))])
    with pytest.raises(ValueError, match=r"needs 8,000,000,000,000 bytes of data and the archive holds 0\)"):
        tg.load(huge, max_bytes=8 * 2**40)  # a limit this high passes the header, still nothing is allocated
    for wrong in (1.5, True, "1"):
        with pytest.raises(TypeError, match="max_bytes must be a whole number of bytes"):
            tg.load(path, max_bytes=wrong)
    with pytest.raises(ValueError, match="max_bytes must be a whole number of bytes, 0 or more"):
        tg.load(path, max_bytes=-1)


def test_paths_that_are_not_regular_files_are_named_for_what_they_are(tmp_path):
    with pytest.raises(IsADirectoryError, match="is a directory"):
        tg.load(tmp_path)
    with pytest.raises(ValueError, match=r"/dev/null is not a regular file \(a character device\)"):
        tg.load("/dev/null")


@pytest.mark.skipif(not hasattr(os, "mkfifo"), reason="this platform has no FIFOs")
def test_a_fifo_is_refused_without_waiting_for_a_writer(tmp_path):
    fifo = tmp_path / "pipe.npz"
    os.mkfifo(fifo)

    def hung(*_):
        raise TimeoutError("load waited on the FIFO")

    previous = signal.signal(signal.SIGALRM, hung)
    signal.alarm(5)
    try:
        with pytest.raises(ValueError, match=r"is not a regular file \(a FIFO\)"):
            tg.load(fifo)
    finally:
        signal.alarm(0)
        signal.signal(signal.SIGALRM, previous)


def test_a_mismatched_file_names_the_difference(tmp_path):
    path = tg.save(nn.LogisticRegression(4), tmp_path / "lr.npz")
    with pytest.raises(ValueError, match=r"linear.weight: file \(4, 1\), model \(3, 1\)"):
        nn.LogisticRegression(3).load_state_dict(tg.load(path))


def test_saved_files_have_the_usual_permissions(tmp_path):
    umask = os.umask(0o022)
    try:
        path = tg.save({"w": np.ones(1)}, tmp_path / "m.npz")
    finally:
        os.umask(umask)
    assert path.stat().st_mode & 0o777 == 0o644
