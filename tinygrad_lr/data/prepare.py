"""Preparing data for training: split, standardize, batch."""

from __future__ import annotations

from collections.abc import Iterator

import numpy as np


def train_test_split(
    X: np.ndarray, y: np.ndarray, test_size: float = 0.2, seed: int = 0, stratify: bool = False
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Shuffle and split into ``X_train, X_test, y_train, y_test``.

    ``test_size`` is a fraction in (0, 1); the test part has ``round(len(y) * test_size)`` rows.
    With ``stratify=True`` those rows are shared among the classes in proportion to their sizes
    (each class its whole share, the rows left over to the largest remainders, ties to the
    smaller label, as scikit-learn does), so both parts keep the class balance.
    """
    X, y = _check_pair(X, y, "train_test_split")
    if not 0 < test_size < 1:
        raise ValueError(f"train_test_split: test_size must be a fraction in (0, 1), got {test_size}")
    rng, cut = np.random.default_rng(seed), round(len(y) * test_size)
    if stratify:
        test = []
        labels, counts = np.unique(y, return_counts=True)
        for label, share in zip(labels, _shares(counts, cut)):
            members = rng.permutation(np.flatnonzero(y == label))
            test.extend(members[:share])
        test = np.sort(np.asarray(test, dtype=int))
        train = np.setdiff1d(np.arange(len(y)), test)
        train, test = rng.permutation(train), rng.permutation(test)
    else:
        order = rng.permutation(len(y))
        test, train = order[:cut], order[cut:]
    if len(train) == 0 or len(test) == 0:
        raise ValueError(f"train_test_split: {len(y)} rows are too few to split with test_size={test_size}")
    return X[train], X[test], y[train], y[test]


def _shares(counts: np.ndarray, total: int) -> np.ndarray:
    """``total`` split in proportion to ``counts`` into whole numbers that add up to ``total``:
    the largest-remainder method, in exact integer arithmetic."""
    n = int(counts.sum())
    shares, remainders = np.divmod(counts * total, n)
    largest_first = np.argsort(-remainders, kind="stable")
    shares[largest_first[: total - int(shares.sum())]] += 1
    return shares


def standardize(train: np.ndarray, *others: np.ndarray) -> np.ndarray | tuple[np.ndarray, ...]:
    """Scale every column to mean 0 and standard deviation 1, with the mean and deviation of
    ``train`` (fit on train, apply to the rest: the test set must not leak into training).

    Returns the scaled ``train`` followed by the scaled ``others`` (just the scaled array when
    there are no others). A constant column is only centred (its deviation counts as 1): a
    column counts as constant when its deviation is within the rounding error of computing it
    (n·ε·|mean|, as scikit-learn judges), since equal floats need not average to exactly
    themselves and dividing by that rounding error would blow the column up by 1e15.
    """
    train = np.asarray(train, dtype=np.float64)
    if train.ndim != 2:
        raise ValueError(f"standardize: expected a 2-D array (rows, features), got shape {train.shape}")
    mean, std = train.mean(axis=0), train.std(axis=0)
    std[std <= len(train) * np.finfo(np.float64).eps * np.abs(mean)] = 1.0
    scaled = [(train - mean) / std]
    for i, other in enumerate(others):
        other = np.asarray(other, dtype=np.float64)
        if other.ndim != 2 or other.shape[1] != train.shape[1]:
            raise ValueError(
                f"standardize: array {i + 1} has shape {other.shape}, but train has {train.shape[1]} features"
            )
        scaled.append((other - mean) / std)
    return tuple(scaled) if others else scaled[0]


def batches(
    X: np.ndarray, y: np.ndarray, batch_size: int, shuffle: bool = True, seed: int | np.random.Generator = 0
) -> Iterator[tuple[np.ndarray, np.ndarray]]:
    """Mini-batches ``(X_batch, y_batch)`` covering the data once; the last may be smaller.

    With ``shuffle`` the order is drawn from ``seed`` (an int, or a Generator to draw a new
    order every epoch).
    """
    X, y = _check_pair(X, y, "batches")
    if batch_size < 1:
        raise ValueError(f"batches: batch_size must be at least 1, got {batch_size}")
    order = np.random.default_rng(seed).permutation(len(y)) if shuffle else np.arange(len(y))
    for start in range(0, len(y), batch_size):
        chosen = order[start : start + batch_size]
        yield X[chosen], y[chosen]


def _check_pair(X: np.ndarray, y: np.ndarray, where: str) -> tuple[np.ndarray, np.ndarray]:
    X, y = np.asarray(X), np.asarray(y)
    if X.ndim == 0 or y.ndim != 1 or len(X) != len(y):
        raise ValueError(
            f"{where}: X must have one row per label and y must be 1-D; got X {X.shape} and y {y.shape}"
        )
    return X, y
