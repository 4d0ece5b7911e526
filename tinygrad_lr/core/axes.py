"""Axis arguments, read in one place: numpy's names (``axis=``, ``keepdims=``) or PyTorch's
(``dim=``, ``keepdim=``), and axes checked and counted from 0 (negative ones from the end)."""

from __future__ import annotations

from typing import Any

import numpy as np
from numpy.exceptions import AxisError

_ALL = [tuple(range(n)) for n in range(8)]


def spelled(op: str, axis: Any, dim: Any, keepdims: Any = None, keepdim: Any = None) -> tuple[Any, bool]:
    """``(axis, keepdims)`` of ``op`` from numpy's names or PyTorch's (``dim``, ``keepdim``).

    At most one name of each pair may be given; ``axis`` is None when neither is, ``keepdims``
    True or False (False when neither is).
    """
    for numpy_name, numpy_value, torch_name, torch_value in (
        ("axis", axis, "dim", dim),
        ("keepdims", keepdims, "keepdim", keepdim),
    ):
        if numpy_value is not None and torch_value is not None:
            raise TypeError(
                f"{op}: got {numpy_name}={numpy_value!r} and {torch_name}={torch_value!r}, numpy's and "
                "PyTorch's names for the same argument; give one of them, not both"
            )
    keep = False if keepdims is None and keepdim is None else keepdim if keepdims is None else keepdims
    if not isinstance(keep, (bool, np.bool_)):
        raise TypeError(f"{op}: keepdims must be True or False, got {keep!r}")
    return dim if axis is None else axis, bool(keep)


def normal_axes(axis: Any, ndim: int, op: str) -> tuple[int, ...]:
    """``axis`` of ``op`` (None: every axis; a whole number or a sequence of them, negative ones
    counting from the end) as axes in ``range(ndim)``, in the order given.

    Raises TypeError for an axis that is not a whole number, and numpy's AxisError (a ValueError
    and an IndexError) for one out of range or named twice.
    """
    if axis is None:
        return _ALL[ndim] if ndim < len(_ALL) else tuple(range(ndim))
    normal = []
    for a in tuple(axis) if hasattr(axis, "__iter__") else (axis,):
        if not _whole(a):
            raise TypeError(f"{op}: an axis is a whole number (or a tuple of them), not {a!r}")
        if not -ndim <= a < ndim:
            valid = f"give one from {-ndim} to {ndim - 1}" if ndim else "a 0-d array has none"
            raise AxisError(f"{op}: axis {a} is out of range for an array of {ndim} dimensions; {valid}")
        normal.append(int(a) % ndim)
    twice = [a for a in normal if normal.count(a) > 1]
    if twice:
        raise AxisError(
            f"{op}: repeated axis in {axis!r}: it names axis {twice[0]} twice (negative axes count from "
            "the end); name each axis once"
        )
    return tuple(normal)


def normal_axis(axis: Any, ndim: int, op: str) -> int:
    """One ``axis`` of ``op`` (a whole number) in ``range(ndim)``, as ``normal_axes``."""
    if not _whole(axis):
        raise TypeError(f"{op}: an axis is a whole number, not {axis!r}")
    return normal_axes(axis, ndim, op)[0]


def _whole(a: Any) -> bool:
    return isinstance(a, (int, np.integer)) and not isinstance(a, (bool, np.bool_))
