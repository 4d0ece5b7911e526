"""How numbers are shown to people: in reprs, stepper lines, pictures and the command line."""

from __future__ import annotations


def number(x: float, digits: int = 6) -> str:
    """A float for people: ``digits`` significant digits, always recognisable as a float
    (``2.0``, not ``2``), and no ``-0.0`` (a zero is a zero, whatever its sign bit)."""
    if x == 0:
        return "0.0"
    text = f"{x:.{digits}g}"
    if text.lstrip("-").isdigit():
        text += ".0"
    return text
