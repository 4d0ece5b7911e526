"""The bundled data set, synthetic sets, splitting, scaling, batching."""

import re

import numpy as np
import pytest

import tinygrad_lr as tg
from tinygrad_lr import data


def test_breast_cancer_is_bundled_and_intact():
    X, y = data.load_breast_cancer()
    assert X.shape == (569, 30) and y.shape == (569,)
    assert y.sum() == 357 and set(np.unique(y)) == {0.0, 1.0}  # 357 benign, 212 malignant
    assert X[0, 0] == 17.99 and X[-1, -1] == 0.07039


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("", "the file is empty"),
        ("a,b\n1,0\n", "no column 'label'"),
        ("a,label\n", "a header but no data rows"),
        ("a,label\n1,0\n2\n", "line 3: 1 values for 2 columns"),
        ("a,label\n1,0\nx,1\n", "line 3: 'x' is not a number"),
        ("a,label\n1,0\n2,2\n", "must hold 0 and 1 only"),
        ("a,label\n1,0\n" + "7" * 1000 + ",1\n", r"line 3: '7{40}'\.\.\. \(1000 characters\) is a missing"),
    ],
)
def test_bad_csv_files_get_clear_errors(tmp_path, text, message):
    path = tmp_path / "d.csv"
    path.write_text(text)
    with pytest.raises(ValueError, match=message):
        data.load_csv(path, target="label")


@pytest.mark.parametrize(
    ("content", "message"),
    [
        (
            b"a,label,label\n1,0,1\n",
            r"line 1: column 'label' is named twice \(columns 2 'label' and 3 'label'\)",
        ),
        (b"a,b,a,label\n1,2,3,0\n", r"line 1: column 'a' is named twice \(columns 1 'a' and 3 'a'\)"),
        # names are compared without surrounding spaces, so ' label' cannot stay behind as a feature
        (
            b"label,a, label\n0,1,1\n",
            r"line 1: column 'label' is named twice \(columns 1 'label' and 3 ' label'\)",
        ),
        (
            b"a,label\n1,0\n" + b"7" * 200_000 + b",1\n",
            r"line 3: not readable as CSV: field larger than field limit",
        ),
        ("a,label\n1,0\n2,1\n# café\n".encode("latin-1"), r"line 4: .*not UTF-8.*save it as UTF-8"),
        (b"\xef\xbb\xbfa,label\n1,0\n\xe9,1\n", r"line 3: byte 0xe9 is not UTF-8"),  # after a BOM
    ],
)
def test_unreadable_csv_files_name_the_file_and_the_line(tmp_path, content, message):
    path = tmp_path / "d.csv"
    path.write_bytes(content)
    with pytest.raises(ValueError, match=rf"^{re.escape(str(path))}, {message}"):
        data.load_csv(path, target="label")


def test_load_csv_reads_names_and_moves_the_target_out(tmp_path):
    path = tmp_path / "d.csv"
    path.write_text("a,label,b\n1,0,2\n3,1,4\n")
    X, y, names = data.load_csv(path, target="label")
    assert names == ["a", "b"] and np.array_equal(X, [[1, 2], [3, 4]]) and np.array_equal(y, [0, 1])
    path.write_text(" a , label\n1,0\n")
    assert data.load_csv(path, target="label")[2] == ["a"]  # spaces around a name are not part of it
    with pytest.raises(FileNotFoundError):
        data.load_csv(tmp_path / "missing.csv", target="label")


@pytest.mark.parametrize("make", [data.make_moons, data.make_xor, data.make_blobs])
def test_synthetic_sets_are_seeded_and_binary(make):
    X1, y1 = make(50, seed=3)
    X2, y2 = make(50, seed=3)
    assert np.array_equal(X1, X2) and np.array_equal(y1, y2)
    assert not np.array_equal(X1, make(50, seed=4)[0])
    assert X1.shape == (50, 2) and set(np.unique(y1)) <= {0.0, 1.0}


def test_split_is_seeded_disjoint_and_stratified():
    X = np.arange(100.0).reshape(50, 2)
    y = np.r_[np.zeros(40), np.ones(10)]
    X_train, X_test, y_train, y_test = data.train_test_split(X, y, test_size=0.2, seed=1, stratify=True)
    assert len(y_test) == 10 and y_test.sum() == 2  # the class balance is kept
    assert set(X_train[:, 0]).isdisjoint(X_test[:, 0]) and len(y_train) + len(y_test) == 50
    again = data.train_test_split(X, y, test_size=0.2, seed=1, stratify=True)
    assert np.array_equal(again[1], X_test)
    with pytest.raises(ValueError, match="test_size must be a fraction"):
        data.train_test_split(X, y, test_size=2)
    with pytest.raises(ValueError, match="one row per label"):
        data.train_test_split(X, y[:-1])


def test_standardize_fits_on_train_only():
    train, test = np.array([[1.0, 5.0], [3.0, 5.0]]), np.array([[5.0, 6.0]])
    s_train, s_test = data.standardize(train, test)
    assert np.allclose(s_train, [[-1, 0], [1, 0]]) and np.allclose(s_test, [[3, 1]])
    with pytest.raises(ValueError, match="has shape"):
        data.standardize(train, np.ones((1, 3)))
    alone = data.standardize(train)  # one array in, one array out
    assert isinstance(alone, np.ndarray) and np.allclose(alone, s_train)


def test_batches_cover_every_row_once():
    X, y = np.arange(10.0)[:, None], np.arange(10.0)
    got = list(data.batches(X, y, batch_size=4, seed=0))
    assert [len(b) for _, b in got] == [4, 4, 2]
    assert sorted(np.concatenate([b for _, b in got])) == list(range(10))
    assert np.array_equal(np.concatenate([b for _, b in data.batches(X, y, 3, shuffle=False)]), y)
    with pytest.raises(ValueError, match="batch_size must be at least 1"):
        next(data.batches(X, y, 0))
    assert tg.data is data
