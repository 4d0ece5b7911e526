"""Data: the bundled real data sets, synthetic sets, splitting, scaling and batching.

Everything returns plain numpy arrays (``X`` float64 of shape (n, features), ``y`` float64 of
0/1 labels of shape (n,), or for the multi-class iris and digits int64 labels 0, 1, ...); wrap
them in ``tg.Tensor`` to compute with them.
"""

from .datasets import (
    IRIS_SPECIES,
    load_breast_cancer,
    load_csv,
    load_digits,
    load_iris,
    make_blobs,
    make_moons,
    make_xor,
)
from .prepare import batches, standardize, train_test_split

__all__ = [
    "IRIS_SPECIES",
    "batches",
    "load_breast_cancer",
    "load_csv",
    "load_digits",
    "load_iris",
    "make_blobs",
    "make_moons",
    "make_xor",
    "standardize",
    "train_test_split",
]
