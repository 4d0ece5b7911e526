"""Data: the bundled real data set, synthetic sets, splitting, scaling and batching.

Everything returns plain numpy arrays (``X`` float64 of shape (n, features), ``y`` float64 of
0/1 labels of shape (n,)); wrap them in ``tg.Tensor`` to compute with them.
"""

from .datasets import load_breast_cancer, load_csv, make_blobs, make_moons, make_xor
from .prepare import batches, standardize, train_test_split

__all__ = [
    "batches",
    "load_breast_cancer",
    "load_csv",
    "make_blobs",
    "make_moons",
    "make_xor",
    "standardize",
    "train_test_split",
]
