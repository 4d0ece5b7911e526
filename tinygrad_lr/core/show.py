"""How numbers are shown to people: in reprs, stepper lines, pictures and the command line."""

from __future__ import annotations

from typing import Any

import numpy as np


def number(x: float, digits: int = 6) -> str:
    """A float for people: ``digits`` significant digits, always recognisable as a float
    (``2.0``, not ``2``), and no ``-0.0`` (a zero is a zero, whatever its sign bit)."""
    if x == 0:
        return "0.0"
    text = f"{x:.{digits}g}"
    if text.lstrip("-").isdigit():
        text += ".0"
    return text


def shape(data: Any) -> str:
    """An array's shape for people: ``2x3``, ``5,`` for a vector ('' for a number)."""
    dims = np.shape(data)
    if not dims:
        return ""
    return f"{dims[0]}," if len(dims) == 1 else "x".join(map(str, dims))  # (2,) in parentheses


def array(data: Any, precision: int = 4, limit: int = 12) -> list[str]:
    """An array for people, as lines: aligned columns, ``precision`` decimals, no ``-0.``, and
    above ``limit`` elements only its corners, with its shape."""
    values = np.asarray(data, dtype=np.float64)
    if values.ndim == 0:
        return [number(float(values), 5)]
    rounded = np.round(values, precision)
    rounded[rounded == 0] = 0.0  # -0.0, and a small negative rounded to it, is shown as 0
    text = np.array2string(
        rounded, precision=precision, separator=", ", threshold=limit, edgeitems=2, suppress_small=True
    )
    lines = text.splitlines()
    if values.size > limit:
        lines[-1] += f"  ({shape(values)})"
    return lines
