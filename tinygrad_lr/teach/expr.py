"""A safe parser for formulas typed by people: ``expr("log(sigmoid(w*x + b))", x=2, w=-0.5, b=0.1)``.

The text is parsed with Python's ``ast`` and evaluated over a whitelist: numbers, the given
variables, ``+ - * / **``, unary ``-`` and ``+``, and the functions in ``FUNCTIONS``. Nothing is
ever passed to ``eval``. Anything else (attribute access, subscripts, lambdas, comprehensions,
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

import ast
import math
import numbers
import operator
import re
import unicodedata
import warnings
from collections.abc import Callable
from typing import Any

from ..core import ops
from ..core.engine import Node
from ..core.value import Value

MAX_LENGTH = 2_000
MAX_DEPTH = 100

FUNCTIONS: dict[str, Callable] = {
    "exp": ops.exp,
    "log": ops.log,
    "sigmoid": ops.sigmoid,
    "σ": ops.sigmoid,
    "tanh": ops.tanh,
    "relu": ops.relu,
    "softplus": ops.softplus,
    "maximum": ops.maximum,
}
ARITY = {"maximum": 2}  # how many arguments a function takes, where not one
# each operator: (on Values, as Python arithmetic on Values does it; on two floats, by the op table)
_ARITHMETIC: dict[type, tuple[Callable, Callable]] = {
    ast.Add: (operator.add, ops.add),
    ast.Sub: (operator.sub, ops.sub),
    ast.Mult: (operator.mul, ops.mul),
    ast.Div: (operator.truediv, ops.div),
    ast.Pow: (operator.pow, ops.pow),
}
_REFUSED_OPERATORS = {
    ast.FloorDiv: "//",
    ast.Mod: "%",
    ast.MatMult: "@",
    ast.LShift: "<<",
    ast.RShift: ">>",
    ast.BitOr: "|",
    ast.BitXor: "^",
    ast.BitAnd: "&",
}
_NEWLINE = re.compile(r"\r\n|\r|\n")  # the line breaks of Python's tokenizer
_LARGEST = "the largest is about 1.8e308"


class ExpressionError(ValueError):
    """The text is not a formula this parser accepts, or a variable's value is not a number."""


def expr(text: str, /, **variables: float | Value) -> Value:
    """Evaluate the formula ``text`` on Values and return the output Value.

    Every variable of the formula must be given as a keyword: a number becomes a leaf Value
    labelled with its name; a Value is used as that very node, so gradients reach it
    (``expr("w*w", w=w).backward()`` sets ``w.grad``). Such a Value keeps its label, or is given
    the variable's name if it has none. The result is ready for ``backward()``, ``draw()`` and
    stepping through. Raises ExpressionError (and nothing else) for any text or value it cannot use.
    """
    tree, source = _parse(text)
    uses: dict[str, ast.Name] = {}
    for node in ast.walk(tree):
        if isinstance(node, ast.Name) and node.id not in FUNCTIONS:
            first = uses.setdefault(node.id, node)
            if (node.lineno, node.col_offset) < (first.lineno, first.col_offset):
                uses[node.id] = node
    missing = sorted(uses.keys() - variables.keys(), key=lambda name: source.index(uses[name]))
    if missing:
        where = ", ".join(f"{name} ({source.at(source.index(uses[name]))})" for name in missing)
        raise ExpressionError(f"give a value for {where}, e.g. {missing[0]}=1.0")
    unused = sorted(variables.keys() - uses.keys())
    if unused:
        raise ExpressionError(
            f"{', '.join(unused)} not in the formula; the variables are {', '.join(sorted(uses)) or 'none'}"
        )
    leaves = {
        name: _leaf(name, variables[name], source.at(source.index(uses[name]))) for name in sorted(uses)
    }
    for name, leaf in leaves.items():
        leaf.label = leaf.label or name  # only once every value is known to be good
    return _evaluate(tree, leaves)


def parse(text: str) -> ast.Expression:
    """Parse ``text`` and check it against the whitelist; raise ExpressionError otherwise."""
    return _parse(text)[0]


class _Source:
    """The formula as typed, and where the parts that ``ast`` found in its stripped text are."""

    def __init__(self, text: str):
        self.text = text
        self.body = text.strip()  # NOTE: ast refuses leading blanks ("unexpected indent")
        self.start = len(text) - len(text.lstrip())
        self.line_starts = [0] + [match.end() for match in _NEWLINE.finditer(self.body)]

    def index(self, node: ast.AST) -> int:
        """Where ``node`` starts in the stripped text (ast counts UTF-8 bytes within a line)."""
        return self.locate(node.lineno, node.col_offset, in_bytes=True)

    def end(self, node: ast.AST) -> int:
        return self.locate(node.end_lineno, node.end_col_offset, in_bytes=True)

    def locate(self, line: int, column: int, in_bytes: bool = False) -> int:
        start = self.line_starts[min(max(line, 1), len(self.line_starts)) - 1]
        if in_bytes:
            column = len(self.body[start:].encode()[:column].decode("utf-8", errors="ignore"))
        return min(start + column, len(self.body))

    def at(self, index: int) -> str:
        """'at column C' (1-based, in characters of the text as given), with the line if there
        are several."""
        position = self.start + index
        if position >= len(self.text.rstrip()):
            return f"at the end (column {len(self.text.rstrip()) + 1})"
        before = self.text[:position]
        breaks = list(_NEWLINE.finditer(before))
        column = position - (breaks[-1].end() if breaks else 0) + 1
        if _NEWLINE.search(self.text):
            return f"at line {len(breaks) + 1}, column {column}"
        return f"at column {column}"

    def segment(self, node: ast.AST) -> str:
        return self.body[self.index(node) : self.end(node)]


def _parse(text: str) -> tuple[ast.Expression, _Source]:
    if not isinstance(text, str):
        raise ExpressionError(f"the formula must be text, got {type(text).__name__}")
    if len(text) > MAX_LENGTH:
        raise ExpressionError(f"the formula is {len(text):,} characters long; the limit is {MAX_LENGTH:,}")
    if not text.strip():
        raise ExpressionError("the formula is empty; write one, e.g. 'x*(1+2)'")
    source = _Source(text)
    for position, character in enumerate(text):
        # control, format (invisible), surrogate, private and unassigned characters
        if unicodedata.category(character)[0] == "C" and character not in "\t\n\r\f":
            name = unicodedata.name(character, "a control character")
            raise ExpressionError(
                f"the character U+{ord(character):04X} ({name}) {source.at(position - source.start)} "
                f"is not allowed in a formula; delete it"
            )
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # "invalid escape sequence" and the like: refused below
            tree = ast.parse(source.body, mode="eval")
    except SyntaxError as error:
        where = source.at(
            source.locate(error.lineno or 1, error.offset - 1 if error.offset else len(source.body))
        )
        raise ExpressionError(f"not a formula: {error.msg} {where}") from None
    except (RecursionError, MemoryError, ValueError) as error:
        raise ExpressionError(f"not a formula: {error or type(error).__name__}") from None
    depth = {id(tree): 0}
    called: set[int] = set()
    for node in ast.walk(tree):
        level = depth[id(node)]
        if level > MAX_DEPTH and hasattr(node, "col_offset"):
            raise ExpressionError(
                f"the formula nests more than {MAX_DEPTH} levels deep {source.at(source.index(node))}"
            )
        if isinstance(node, ast.Call) and isinstance(node.func, ast.Name):
            called.add(id(node.func))
        _check(node, source, called)
        for child in ast.iter_child_nodes(node):
            depth[id(child)] = level + 1
    return tree, source


def _check(node: ast.AST, source: _Source, called: set[int]) -> None:
    if isinstance(node, (ast.Expression, ast.Load, ast.operator, ast.USub, ast.UAdd)):
        return
    if isinstance(node, ast.BinOp):
        if type(node.op) not in _ARITHMETIC:
            symbol = _REFUSED_OPERATORS.get(type(node.op), type(node.op).__name__)
            gap = source.body[source.end(node.left) : source.index(node.right)]
            position = source.end(node.left) + max(gap.find(symbol[0]), 0)
            hint = "; use ** for powers" if symbol == "^" else ""
            raise ExpressionError(
                f"the operator {symbol} {source.at(position)} is not allowed; use + - * / **{hint}"
            )
        return
    if isinstance(node, ast.UnaryOp):
        if not isinstance(node.op, (ast.USub, ast.UAdd)):
            symbol = "~" if isinstance(node.op, ast.Invert) else "not"
            raise ExpressionError(
                f"the operator {symbol}{_where(node, source)} is not allowed; use + - * / **"
            )
        return
    if isinstance(node, ast.Constant):
        _check_number(node, source)
        return
    if isinstance(node, ast.Name):
        if node.id in FUNCTIONS and id(node) not in called:
            raise ExpressionError(
                f"{node.id}{_where(node, source)} is a function: call it, e.g. {node.id}(x)"
            )
        if node.id.startswith("_"):
            raise ExpressionError(
                f"the name {node.id}{_where(node, source)} is not allowed (no name may start with _)"
            )
        return
    snippet = " ".join(source.segment(node).split()) if hasattr(node, "col_offset") else ""
    shown = f" ({snippet})" if snippet and len(snippet) < 40 else ""
    if isinstance(node, ast.Call):
        if not isinstance(node.func, ast.Name) or node.func.id not in FUNCTIONS:
            functions = ", ".join(sorted(FUNCTIONS))
            raise ExpressionError(
                f"only the functions {functions} can be called; not{shown}{_where(node, source)}"
            )
        wanted = ARITY.get(node.func.id, 1)
        if node.keywords or len(node.args) != wanted:
            count = "exactly one argument" if wanted == 1 else f"{wanted} arguments"
            raise ExpressionError(f"{node.func.id}() takes {count}{shown}{_where(node, source)}")
        return
    kinds = {
        ast.Attribute: "attribute access is",
        ast.Subscript: "subscripts are",
        ast.Lambda: "lambdas are",
        ast.ListComp: "comprehensions are",
        ast.GeneratorExp: "comprehensions are",
        ast.SetComp: "comprehensions are",
        ast.DictComp: "comprehensions are",
    }
    kind = kinds.get(type(node), f"{type(node).__name__} expressions are")
    allowed = f"numbers, variables, + - * / ** and {', '.join(sorted(FUNCTIONS))}"
    raise ExpressionError(f"{kind} not allowed{shown}{_where(node, source)}; a formula has {allowed}")


def _where(node: ast.AST, source: _Source) -> str:
    return f" {source.at(source.index(node))}" if hasattr(node, "col_offset") else ""


def _check_number(node: ast.Constant, source: _Source) -> None:
    """A number literal must be a real number that a float holds: not inf, not rounded to 0."""
    value = node.value
    if isinstance(value, float) and math.isfinite(value) and value != 0:
        return  # the common case, checked without looking at the text
    written = source.segment(node)
    literal = _shorten(written)
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise ExpressionError(f"only numbers are allowed as constants, not {literal}{_where(node, source)}")
    try:
        number = float(value)
    except OverflowError:
        number = math.inf
    if math.isinf(number):  # Python reads 1e999 as inf; a float holds no 400-digit integer
        raise ExpressionError(
            f"the number {literal}{_where(node, source)} is too large for a float ({_LARGEST})"
        )
    mantissa = written.lower().partition("e")[0]
    if value == 0 and any(digit in mantissa for digit in "123456789"):
        raise ExpressionError(
            f"the number {literal}{_where(node, source)} is too small for a float: it would be 0 "
            f"(the smallest is about 5e-324)"
        )


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
        raise ExpressionError(f"{name}={_shorten(repr(value))}: give a number or a tg.Value")
    try:
        number = float(value)
    except (OverflowError, ValueError, TypeError):
        number = math.inf
    if math.isinf(number) and abs(value) != math.inf:
        shown = f"an integer of {int(math.log10(abs(value))) + 1} digits" if isinstance(value, int) else value
        raise ExpressionError(f"{name} (used {where}) is {shown}, too large for a float ({_LARGEST})")
    return Value(number, label=name)


def _shorten(text: str) -> str:
    text = " ".join(text.split())
    return text if len(text) <= 24 else f"{text[:12]}…({len(text)} characters)"


def _evaluate(tree: ast.Expression, leaves: dict[str, Value]) -> Value:
    """Evaluate without recursion: operands first, on an explicit stack."""
    results: dict[int, Any] = {}
    stack = [(tree.body, False)]
    while stack:
        node, ready = stack.pop()
        children = _operands(node)
        if not ready:
            stack.append((node, True))
            stack.extend((child, False) for child in children)
            continue
        args = [results.pop(id(child)) for child in children]
        if isinstance(node, ast.Constant):
            results[id(node)] = float(node.value)
        elif isinstance(node, ast.Name):
            results[id(node)] = leaves[node.id]
        elif isinstance(node, ast.BinOp):
            results[id(node)] = _arithmetic(node.op, *args)
        elif isinstance(node, ast.UnaryOp):
            results[id(node)] = -args[0] if isinstance(node.op, ast.USub) else args[0]
        else:  # a whitelisted call
            results[id(node)] = _call(FUNCTIONS[node.func.id], args)
    out = results[id(tree.body)]
    return out if isinstance(out, Value) else _constant(out)


def _arithmetic(op: ast.operator, left: Any, right: Any) -> Any:
    on_values, on_floats = _ARITHMETIC[type(op)]
    if not isinstance(left, Value) and not isinstance(right, Value):
        return on_floats(left, right)
    # a number next to a Value becomes a constant leaf, but an exponent stays a number: x**2 is
    # one op, shown as "**2"
    left = left if isinstance(left, Value) else _constant(left)
    if not isinstance(op, ast.Pow) and not isinstance(right, Value):
        right = _constant(right)
    return on_values(left, right)


def _call(function: Callable, args: list) -> Any:
    """A function of the formula on its arguments: numbers next to a Value become constants."""
    if any(isinstance(a, Value) for a in args):
        args = [a if isinstance(a, Value) else _constant(a) for a in args]
    return function(*args)


def _constant(number: float) -> Value:
    """A number of the formula next to a Value: a leaf that needs no gradient, named by its value."""
    return Value(number, requires_grad=False)


def _operands(node: ast.AST) -> list[ast.AST]:
    if isinstance(node, ast.BinOp):
        return [node.left, node.right]
    if isinstance(node, ast.UnaryOp):
        return [node.operand]
    if isinstance(node, ast.Call):
        return list(node.args)
    return []
