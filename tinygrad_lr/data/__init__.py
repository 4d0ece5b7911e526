"""Data: the bundled real data sets, synthetic sets, splitting, scaling and batching.

Everything returns plain numpy arrays (``X`` float64 of shape (n, features), ``y`` float64 of
0/1 labels of shape (n,), or for the multi-class iris and digits int64 labels 0, 1, ...); wrap
them in ``tg.Tensor`` to compute with them.
"""

# ruff: noqa: F401 (imported to be re-exported: __all__ is computed from the imports)

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

# the public names: the ones imported above, less the modules they come from
__all__ = [name for name in dir() if not name.startswith("_") and name not in ("datasets", "prepare")]
