"""Formulas typed by people, on Values: ``expr("log(sigmoid(w*x + b))", x=2, w=-0.5, b=0.1)``.

The text goes through the one formula language (``tinygrad_lr.core.formula``), in its scalar
form: numbers, the given variables, ``+ - * / **``, unary ``-`` and ``+``, and the functions of
``functions()`` (the registered ops that work on numbers, a user's included). Nothing is ever
passed to ``eval``. Anything else (attribute access, subscripts, lambdas, comprehensions,
unknown names, a function named but not called, keyword arguments, numbers that do not fit a
float, very long or deeply nested text) raises ``ExpressionError``, a ``ValueError`` whose message
says what is wrong and at which column: it is the only exception ``expr`` raises, whatever the
text and the values.

Numbers follow the same IEEE rules as Values. The constant parts of a formula are computed by
the op table's own kernels on floats, so ``1/0`` is inf, ``(-1)**0.5`` is nan and ``9**1000`` is
inf, as for Values, and a picture shows them folded into one number (``exp(0)*x`` shows ``1*x``).
A number next to a Value is a constant: a leaf Value with ``requires_grad=False``, shown as its
number (``3*x``), except an exponent, which stays a number so that ``x**2`` is one op, ``**2``.
A literal that does not fit a float (``1e999``, a 400-digit integer, ``1e-999`` that would round
to 0) is refused rather than changed.
"""

from __future__ import annotations

import math
import numbers
from typing import Any

from ..core import formula
from ..core.engine import Node
from ..core.formula import ExpressionError
from ..core.function import REGISTRY
from ..core.value import Value

__all__ = ["ExpressionError", "expr", "functions"]


def functions() -> dict[str, int]:
    """The functions a typed formula may call, with how many arguments each takes: every
    registered op that works on numbers and differentiates all its inputs (exp, log, σ,
    maximum, abs, sqrt, a user's sin, ...)."""
    found = {
        name: len(fn.inputs)
        for name, fn in REGISTRY.items()
        if name.isidentifier() and not fn.tensor_only and fn.formula and all(fn.formula)
    }
    return {**found, "σ": 1}


def expr(text: str, /, **variables: float | Value) -> Value:
    """Evaluate the formula ``text`` on Values and return the output Value.

    Every variable of the formula must be given as a keyword: a number becomes a leaf Value
    labelled with its name; a Value is used as that very node, so gradients reach it
    (``expr("w*w", w=w).backward()`` sets ``w.grad``). Such a Value keeps its label, or is given
    the variable's name if it has none. The result is ready for ``backward()``, ``tg.draw`` and
    stepping through. Raises ExpressionError (and nothing else) for any text or value it cannot use.
    """
    tree = formula.parse(text, functions())
    uses = formula.variables(tree)  # each with its first use, in the order of the text
    missing = [name for name in uses if name not in variables]
    if missing:
        where = ", ".join(f"{name} ({formula.where(text, uses[name])})" for name in missing)
        raise ExpressionError(f"give a value for {where}, e.g. {missing[0]}=1.0")
    unused = sorted(variables.keys() - uses.keys())
    if unused:
        raise ExpressionError(
            f"{', '.join(unused)} not in the formula; the variables are {', '.join(sorted(uses)) or 'none'}"
        )
    leaves = {name: _leaf(name, variables[name], formula.where(text, uses[name])) for name in sorted(uses)}
    for name, leaf in leaves.items():
        leaf.label = leaf.label or name  # only once every value is known to be good
    out = formula.evaluate(tree, leaves)
    return out if isinstance(out, Value) else Value(out, requires_grad=False)


def _leaf(name: str, value: Any, where: str) -> Value:
    """The node a variable stands for: the Value itself, or a new leaf Value for a number."""
    if isinstance(value, Value):
        return value
    if isinstance(value, Node):
        raise ExpressionError(
            f"{name} is a {type(value).__name__}: a formula works on scalars; give a number "
            f"or a tg.Value ({type(value).__name__.lower()}.item() is its number, if it has one)"
        )
    if isinstance(value, bool) or not isinstance(value, numbers.Real):
        raise ExpressionError(f"{name}={formula.shorten(repr(value))}: give a number or a tg.Value")
    try:
        number = float(value)
    except (OverflowError, ValueError, TypeError):
        number = math.inf
    if math.isinf(number) and abs(value) != math.inf:
        shown = f"an integer of {int(math.log10(abs(value))) + 1} digits" if isinstance(value, int) else value
        raise formula.too_large(f"{name} (used {where}) is {shown},")
    return Value(number, label=name)
