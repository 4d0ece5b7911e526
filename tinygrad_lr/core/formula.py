"""The one formula language: parse, evaluate, compile to a backward, and print for people.

The op table writes each input's local derivative in it: numbers, names, ``+ - * / ** @``,
unary ``-``, comparisons (1 where true and 0 where not), ``.T`` (a matrix transposed), tuples,
indexing, and calls of the vocabulary in ``FUNCTIONS`` (``exp``, ``sigmoid``, ``where``,
``sum``, ..., and every registered op by its name, so a user's ``sin`` can say ``cos(x)``). Its
names are forward's arguments, ``out`` for the output, the attributes forward set on its
context (``n``), and ``g`` for the gradient arriving at the output; a formula without ``g`` is
the derivative of the output with respect to the input, one with ``g`` the whole contribution
(a matrix product's ``g @ y.T``).

For an elementwise op the text is compiled into its backward (``compile``), so what the stepper
prints is what the engine runs; a fused op's hand-written backward is checked against its text
by the registry-wide tests. The same parser reads the formulas people type (``tg.expr``, the
command line) in a scalar form: numbers, variables, ``+ - * / **`` and the ops that work on
numbers, with ``ExpressionError`` naming what is wrong and at which column. Printing renames
the variables (the learner's names for the operands), folds constants (``n*x**(n - 1)`` with
n = 2 prints ``2·x``), and uses mathematical signs: ``σ``, ``·``, ``−``, ``²``, ``ᵀ``, ``[x > 0]``.
"""

from __future__ import annotations

import ast
import copy
import functools
import math
import operator
import re
import unicodedata
import warnings
from collections.abc import Callable, Mapping
from typing import Any

import numpy as np

from .engine import Node

FUNCTIONS: dict[str, Callable] = {}
"""The functions a formula may call, by name: every registered op (its ``apply``), and the op
table's vocabulary (``sum(x, axis, keepdims)``, ``div``, ...), which ``tinygrad_lr.core.ops``
puts here. Each takes floats, ndarrays, Values and Tensors alike."""


def _called(name: str, on_nodes: Callable) -> Callable:
    """``/``, ``**`` or ``@`` in a formula: the operator on graph nodes (a number beside a node is
    a constant node, an exponent stays a number), the op on raw data (IEEE: 1/0 = inf)."""
    return lambda x, y: (
        on_nodes(x, y) if isinstance(x, Node) or isinstance(y, Node) else FUNCTIONS[name](x, y)
    )


_BINARY = {
    ast.Add: operator.add,
    ast.Sub: operator.sub,
    ast.Mult: operator.mul,
    ast.Div: _called("div", operator.truediv),
    ast.Pow: _called("pow", operator.pow),
    ast.MatMult: _called("matmul", operator.matmul),
}
_CALLED = {ast.Div: "div", ast.Pow: "pow", ast.MatMult: "matmul"}  # operators that are ops
_COMPARE = {ast.Gt: np.greater, ast.GtE: np.greater_equal, ast.Lt: np.less, ast.LtE: np.less_equal}
_COMPARE[ast.Eq] = np.equal


def _comparison(compare: Callable) -> Callable:
    """A comparison as a formula uses it: 1 where true and 0 where not, in the operands' float
    type. On graph nodes it compares their data: a step's derivative is 0, so it is a constant."""

    def compared(x: Any, y: Any) -> Any:
        x, y = (x.data if isinstance(x, Node) else x), (y.data if isinstance(y, Node) else y)
        truth = compare(x, y)
        if isinstance(truth, np.ndarray):
            return truth.astype(np.result_type(x, y, np.float16))
        return float(truth)

    return compared


_COMPARED = {op: _comparison(compare) for op, compare in _COMPARE.items()}


# The formula language: numbers, names, + - * / ** and unary - +, calls by name. Formulas of
# the op table and expressions of graph nodes may also use @, comparisons, .T (a transpose),
# tuples, lists, indexing and slices; text typed by people (scalar=True) may not.
_ARRAYS = (ast.Compare, ast.Attribute, ast.Tuple, ast.List, ast.Subscript, ast.Slice, ast.cmpop)
_SCALAR = (ast.Expression, ast.expr_context, ast.operator, ast.USub, ast.UAdd, ast.Constant, ast.Name)
_REFUSED_OPERATORS = {
    ast.FloorDiv: "//", ast.Mod: "%", ast.MatMult: "@", ast.LShift: "<<", ast.RShift: ">>",
    ast.BitOr: "|", ast.BitXor: "^", ast.BitAnd: "&",
}  # fmt: skip
_KINDS = {
    ast.Attribute: "attribute access is", ast.Subscript: "subscripts are", ast.Lambda: "lambdas are",
    ast.Compare: "comparisons are",
    ast.ListComp: "comprehensions are", ast.GeneratorExp: "comprehensions are",
    ast.SetComp: "comprehensions are", ast.DictComp: "comprehensions are",
}  # fmt: skip
_NEWLINE = re.compile(r"\r\n|\r|\n")  # the line breaks of Python's tokenizer
_LARGEST = "the largest is about 1.8e308"
MAX_LENGTH = 2_000
MAX_DEPTH = 100


class ExpressionError(ValueError):
    """A text that is not in the formula language, names what it was not given, or a value a
    formula cannot use; the message says what is wrong and at which column."""


def parse(text: str, scalar: dict[str, int] | None = None) -> ast.expr:
    """``text`` as a checked syntax tree, or ExpressionError saying what is wrong and where.

    With ``scalar`` (function name: number of arguments) the text is one typed by a person for
    numbers: only those functions, and none of the array forms. Without it, any function name
    is accepted here and looked up when the formula runs.
    """
    return _parse(text, None if scalar is None else tuple(scalar.items()))[0]


@functools.lru_cache(maxsize=1024)
def _parse(text: str, scalar: tuple | None) -> tuple[ast.expr, _Source]:
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
    functions = None if scalar is None else dict(scalar)
    depth = {id(tree): 0}
    called = {id(node.func) for node in ast.walk(tree) if isinstance(node, ast.Call)}
    for node in ast.walk(tree):
        level = depth[id(node)]
        if level > MAX_DEPTH and hasattr(node, "col_offset"):
            raise ExpressionError(
                f"the formula nests more than {MAX_DEPTH} levels deep {source.at(source.index(node))}"
            )
        _check(node, source, called, functions)
        for child in ast.iter_child_nodes(node):
            depth[id(child)] = level + 1
    return tree.body, source


def _check(node: ast.AST, source: _Source, called: set[int], functions: dict[str, int] | None) -> None:
    """Refuse ``node`` if it is not in the language (``functions``: the scalar language's)."""
    arrays = functions is None
    if isinstance(node, _SCALAR) or (arrays and isinstance(node, _ARRAYS)):
        if isinstance(node, ast.Constant):
            _check_number(node, source, arrays)
        elif isinstance(node, ast.Name) and node.id.startswith("_"):
            raise ExpressionError(
                f"the name {node.id}{_where(node, source)} is not allowed (no name may start with _)"
            )
        elif isinstance(node, ast.Name) and not arrays and node.id in functions and id(node) not in called:
            raise ExpressionError(
                f"{node.id}{_where(node, source)} is a function: call it, e.g. {node.id}(x)"
            )
        elif isinstance(node, ast.Attribute) and node.attr != "T":
            raise ExpressionError(
                f"the only attribute is .T (a transpose), not .{node.attr}{_where(node, source)}"
            )
        elif isinstance(node, ast.Compare) and (len(node.ops) != 1 or type(node.ops[0]) not in _COMPARE):
            raise ExpressionError(f"one comparison at a time, of < <= > >= =={_where(node, source)}")
        return
    if isinstance(node, ast.BinOp):
        if type(node.op) not in _BINARY or (not arrays and isinstance(node.op, ast.MatMult)):
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
    snippet = " ".join(source.segment(node).split()) if hasattr(node, "col_offset") else ""
    shown = f" ({snippet})" if snippet and len(snippet) < 40 else ""
    if isinstance(node, ast.Call):
        if not isinstance(node.func, ast.Name) or (not arrays and node.func.id not in functions):
            known = "by their names" if arrays else ", ".join(sorted(functions))
            raise ExpressionError(
                f"only the functions {known} can be called; not{shown}{_where(node, source)}"
            )
        if node.keywords or (not arrays and len(node.args) != functions[node.func.id]):
            wanted = 1 if arrays else functions[node.func.id]
            count = "exactly one argument" if wanted == 1 else f"{wanted} arguments"
            what = "arguments without keywords" if arrays else count
            raise ExpressionError(f"{node.func.id}() takes {what}{shown}{_where(node, source)}")
        return
    kind = _KINDS.get(type(node), f"{type(node).__name__} expressions are")
    allowed = "numbers, variables, + - * / ** and " + ("calls" if arrays else ", ".join(sorted(functions)))
    raise ExpressionError(f"{kind} not allowed{shown}{_where(node, source)}; a formula has {allowed}")


def _where(node: ast.AST, source: _Source) -> str:
    return f" {source.at(source.index(node))}" if hasattr(node, "col_offset") else ""


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


def _check_number(node: ast.Constant, source: _Source, arrays: bool) -> None:
    """A number literal must be a real number that a float holds: not inf, not rounded to 0.
    In the array language a constant may also be True, False, None, text or ``...``."""
    value = node.value
    if arrays and (isinstance(value, (bool, str)) or value is None or value is Ellipsis):
        return
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


def _shorten(text: str) -> str:
    text = " ".join(text.split())
    return text if len(text) <= 24 else f"{text[:12]}…({len(text)} characters)"


def names(text: str) -> set[str]:
    """The variables a formula uses (not the functions it calls)."""
    tree = parse(text)
    called = {id(node.func) for node in ast.walk(tree) if isinstance(node, ast.Call)}
    return {node.id for node in ast.walk(tree) if isinstance(node, ast.Name) and id(node) not in called}


def evaluate(text: str | ast.expr, values: Mapping[str, Any]) -> Any:
    """The formula's value for ``values`` of its variables (floats, ndarrays, or graph nodes);
    ``text`` may also be a tree (``Names.tree``, whose names need not be identifiers, or a
    tree from ``parse``)."""
    if isinstance(text, ast.expr):
        return _value(text, values)
    missing = names(text) - values.keys()
    if missing:
        raise ExpressionError(f"formula {text!r} uses {', '.join(sorted(missing))}, which it was not given")
    return _value(parse(text), values)


def _value(node: ast.expr, values: Mapping[str, Any]) -> Any:
    if isinstance(node, ast.Constant):
        return node.value
    if isinstance(node, ast.Name):
        return values[node.id]
    if isinstance(node, ast.BinOp):
        return _BINARY[type(node.op)](_value(node.left, values), _value(node.right, values))
    if isinstance(node, ast.UnaryOp):
        operand = _value(node.operand, values)
        return -operand if isinstance(node.op, ast.USub) else operand
    if isinstance(node, ast.Compare):
        return _COMPARED[type(node.ops[0])](_value(node.left, values), _value(node.comparators[0], values))
    if isinstance(node, ast.Attribute):  # .T: the last two axes swapped (a 1-D array stays)
        array = _value(node.value, values)
        return array.mT if np.ndim(array) > 1 else array
    if isinstance(node, ast.Tuple):  # an op's axes or shape: sum(W, (0,))
        return tuple(_value(item, values) for item in node.elts)
    if isinstance(node, ast.List):  # a constant array written out: where([True, False], x, y)
        return np.array([_value(item, values) for item in node.elts])
    if isinstance(node, ast.Subscript):  # an index: W[0], W[:, 1:]
        return _value(node.value, values)[_value(node.slice, values)]
    if isinstance(node, ast.Slice):
        ends = (node.lower, node.upper, node.step)
        return slice(*(None if end is None else _value(end, values) for end in ends))
    args = [_value(arg, values) for arg in node.args]
    kind = next((type(a) for a in args if isinstance(a, Node) and a._scalar), None)
    if kind is not None:  # a number beside a Value is a constant Value, drawn and named as one
        args = [kind._from_op(a) if type(a) is float else a for a in args]
    return _function(node.func.id)(*args)


def _function(name: str) -> Callable:
    if name not in FUNCTIONS:
        raise ExpressionError(
            f"a formula calls {name}, which is no function of the formula language "
            f"({', '.join(sorted(FUNCTIONS))}) nor a registered op"
        )
    return FUNCTIONS[name]


# --- compiling -----------------------------------------------------------------------------------


def compile(texts: tuple[str, ...], inputs: tuple[str, ...], saved_from: tuple | None = None) -> Callable:
    """An op's backward, compiled from its derivative ``texts`` (one per input of forward, ""
    for a constant argument); it reads ``reads(texts, inputs)`` from ``ctx.saved_tensors``.

    The backward returns, per input, ``g`` times the text (a text that uses ``g`` is the whole
    contribution; "" gives None). Other names are the context's attributes. ``+ - *`` stay
    Python's operators and the rest calls the ops, so one function runs on floats and arrays
    (first derivatives) and on graph nodes (``create_graph=True``: higher ones). Given the
    ``saved_from`` pattern that forward records for these texts, it refuses a context recorded
    under another formula (one assigned since), whose saved items would bind to the wrong names.
    """
    saved = reads(texts, inputs)
    namespace: dict[str, Any] = {}
    code = _Python(saved, namespace)
    results = [
        ast.unparse(code.visit(_contribution(copy.deepcopy(parse(text))))) if text else "None"
        for text in texts
    ]
    body = ""
    if saved_from is not None:
        namespace.update(_expected=saved_from, _stale=_stale)
        body += "    if ctx.saved_from is not _expected:\n        _stale(ctx)\n"
    body += f"    {', '.join(saved)}, = ctx.saved_tensors\n" if saved else ""
    body += f"    return {results[0]}\n" if len(results) == 1 else f"    return {', '.join(results)}\n"
    exec(f"def backward(ctx, g):\n{body}", namespace)  # the text was parsed and checked
    return namespace["backward"]


def _stale(ctx: Any) -> None:
    raise RuntimeError(
        f"{ctx.fn.name}: its formula was changed after forward recorded this node, so what forward "
        "kept is not what the formula reads; run forward again"
    )


def reads(texts: tuple[str, ...], inputs: tuple[str, ...]) -> tuple[str, ...]:
    """The names among ``inputs`` and ``out`` that the ``texts`` use, in that order."""
    used = set().union(*(names(text) for text in texts if text))
    return tuple(name for name in (*inputs, "out") if name in used)


def _contribution(tree: ast.expr) -> ast.expr:
    """What backward sends for the derivative ``tree``: g·tree, as simply as it can be written."""
    g = ast.Name("g", ast.Load())
    if any(isinstance(node, ast.Name) and node.id == "g" for node in ast.walk(tree)):
        return tree
    if isinstance(tree, ast.Constant) and tree.value == 1:
        return g
    if isinstance(tree, ast.Constant) and tree.value == -1:
        return ast.UnaryOp(ast.USub(), g)
    if isinstance(tree, ast.UnaryOp) and isinstance(tree.operand, ast.Constant) and tree.operand.value == 1:
        return ast.UnaryOp(ast.USub(), g)
    if isinstance(tree, ast.BinOp) and isinstance(tree.op, ast.Div) and _is_one(tree.left):
        return ast.BinOp(g, ast.Div(), tree.right)  # g/y, not g·(1/y)
    return ast.BinOp(g, ast.Mult(), tree)


def _is_one(node: ast.expr) -> bool:
    return isinstance(node, ast.Constant) and node.value == 1


class _Python(ast.NodeTransformer):
    """A formula tree as Python: names of forward's inputs and ``out`` stay (backward unpacks
    them), others are ``ctx`` attributes; ``/ ** @``, comparisons and calls go to the ops
    (``.T`` stays Python's, which arrays and Tensors have)."""

    def __init__(self, saved: tuple[str, ...], namespace: dict) -> None:
        self.saved, self.namespace = saved, namespace

    def function(self, name: str, args: list[ast.expr]) -> ast.Call:
        self.namespace[f"_{name}"] = _function(name)
        return ast.Call(ast.Name(f"_{name}", ast.Load()), args, [])

    def visit_Name(self, node: ast.Name) -> ast.expr:
        if node.id in self.saved or node.id == "g":
            return node
        return ast.Attribute(ast.Name("ctx", ast.Load()), node.id, ast.Load())

    def visit_BinOp(self, node: ast.BinOp) -> ast.expr:
        self.generic_visit(node)
        name = _CALLED.get(type(node.op))
        return node if name is None else self.function(name, [node.left, node.right])

    def visit_Compare(self, node: ast.Compare) -> ast.expr:
        self.generic_visit(node)
        name = f"_{type(node.ops[0]).__name__.lower()}"
        self.namespace[name] = _COMPARED[type(node.ops[0])]
        return ast.Call(ast.Name(name, ast.Load()), [node.left, node.comparators[0]], [])

    def visit_Call(self, node: ast.Call) -> ast.expr:
        return self.function(node.func.id, [self.visit(arg) for arg in node.args])


# --- printing -----------------------------------------------------------------------------------

_PRECEDENCE = {ast.Add: 1, ast.Sub: 1, ast.Mult: 2, ast.Div: 2, ast.MatMult: 2, ast.Pow: 4}
_SUPERSCRIPT = str.maketrans("−0123456789", "⁻⁰¹²³⁴⁵⁶⁷⁸⁹")
_POWERS = "⁻⁰¹²³⁴⁵⁶⁷⁸⁹ᵀ"  # a name ending in one binds like a power


class _Style:
    """How a tree is written: for people (``MATH``, ``ELEMENTWISE``) or in the formula language
    (``CODE``)."""

    def __init__(self, signs: dict, compare: dict, functions: dict, math: bool):
        self.signs, self.compare, self.functions, self.math = signs, compare, functions, math


MATH = _Style(
    {ast.Add: " + ", ast.Sub: " − ", ast.Mult: "·", ast.Div: "/", ast.MatMult: "·"},
    {ast.Gt: ">", ast.GtE: "≥", ast.Lt: "<", ast.LtE: "≤", ast.Eq: "="},
    {"sigmoid": "σ"},
    math=True,
)
ELEMENTWISE = _Style({**MATH.signs, ast.Mult: "⊙"}, MATH.compare, MATH.functions, math=True)
CODE = _Style(
    {ast.Add: " + ", ast.Sub: " - ", ast.Mult: "*", ast.Div: "/", ast.MatMult: "@"},
    {ast.Gt: ">", ast.GtE: ">=", ast.Lt: "<", ast.LtE: "<=", ast.Eq: "=="},
    {},
    math=False,
)


def render(
    text: str,
    shown: Mapping[str, str] | None = None,
    numbers: Mapping[str, float] | None = None,
    factor: bool = False,
    elementwise: bool = False,
    shapes: Mapping[str, str] | None = None,
) -> str:
    """The formula for people: each variable written as ``shown`` says (a name shown as an
    expression gets parentheses where it needs them), the ``numbers`` put in and folded; as a
    ``factor`` of a product, in parentheses if it needs them (a sum); with ``elementwise``,
    products of arrays written ⊙ (matrix products ·); each variable in ``shapes`` followed by
    its shape (``Xᵀ (2x2)``)."""
    tree = _fold(parse(text), numbers or {})
    written = write(tree, ELEMENTWISE if elementwise else MATH, shown, 2 if factor else 0, shapes)
    return _unsigned(written) if factor else written


def _unsigned(text: str) -> str:
    """``text`` as an operand after a sign: in parentheses if it starts with one (x·(−0.5),
    x − (−y)), never x·−0.5 or x − −y."""
    return f"({text})" if text[:1] in ("-", "−") else text


def _fold(node: ast.expr, numbers: Mapping[str, float]) -> ast.expr:
    """The tree with ``numbers`` put in, constant parts computed, and x¹, 1·x, x/1, 0+x gone."""
    if isinstance(node, ast.Name) and node.id in numbers:
        return ast.Constant(numbers[node.id])
    if isinstance(node, ast.BinOp):
        left, right = _fold(node.left, numbers), _fold(node.right, numbers)
        op = type(node.op)
        if isinstance(left, ast.Constant) and isinstance(right, ast.Constant) and op is not ast.MatMult:
            return ast.Constant(_BINARY[op](left.value, right.value))
        one = lambda n: isinstance(n, ast.Constant) and n.value == 1  # noqa: E731
        zero = lambda n: isinstance(n, ast.Constant) and n.value == 0  # noqa: E731
        if (op is ast.Pow and one(right)) or (op in (ast.Mult, ast.Div) and one(right)):
            return left
        if op is ast.Mult and one(left):
            return right
        if (op is ast.Add and zero(left)) or (op in (ast.Add, ast.Sub) and zero(right)):
            return right if zero(left) else left
        return ast.BinOp(left, node.op, right)
    if isinstance(node, ast.UnaryOp):
        operand = _fold(node.operand, numbers)
        if isinstance(operand, ast.Constant):
            return ast.Constant(-operand.value)
        return ast.UnaryOp(node.op, operand)
    if isinstance(node, ast.Call):
        return ast.Call(node.func, [_fold(arg, numbers) for arg in node.args], [])
    if isinstance(node, ast.Compare):
        return ast.Compare(_fold(node.left, numbers), node.ops, [_fold(node.comparators[0], numbers)])
    if isinstance(node, ast.Attribute):
        return ast.Attribute(_fold(node.value, numbers), node.attr, node.ctx)
    return node


def write(
    node: ast.expr,
    style: _Style = CODE,
    shown: Mapping[str, str] | None = None,
    outer: int = 0,
    shapes: Mapping[str, str] | None = None,
) -> str:
    """``node`` as text in ``style``, in parentheses if its precedence is below ``outer`` (0:
    never); a name is written as ``shown`` says, and followed by its shape if ``shapes`` has
    one."""
    shown, shapes = shown or {}, shapes or {}

    def inner(child: ast.expr, level: int) -> str:
        return write(child, style, shown, level, shapes)

    if isinstance(node, ast.Constant):
        text = _constant(node.value, style)
        negative = isinstance(node.value, (int, float)) and node.value < 0
        return f"({text})" if negative and outer >= 3 else text
    if isinstance(node, ast.Name):
        text = shown.get(node.id, node.id)
        if node.id in shapes:
            return f"{text} ({shapes[node.id]})"
        return text if _binding(text) >= outer else f"({text})"
    if isinstance(node, ast.BinOp):
        op = type(node.op)
        level = _PRECEDENCE[op]
        if op is ast.Pow:
            base = inner(node.left, 5)
            if style.math and isinstance(node.right, ast.Constant) and float(node.right.value).is_integer():
                return base + _constant(node.right.value, style).translate(_SUPERSCRIPT)
            text = f"{base}{'^' if style.math else '**'}{inner(node.right, 5)}"
            return text if outer <= level else f"({text})"
        right_level = level + 1 if op in (ast.Sub, ast.Div, ast.MatMult) else level
        sign = style.signs[op]
        sign = f" {sign} " if shapes and sign in ("·", "⊙") else sign  # Xᵀ (3x2) · dL/dz (2x2)
        text = f"{inner(node.left, level)}{sign}{_unsigned(inner(node.right, right_level))}"
        return text if outer <= level else f"({text})"
    if isinstance(node, ast.UnaryOp):
        text = f"{'−' if style.math else '-'}{inner(node.operand, 3)}"
        return text if outer < 3 else f"({text})"
    if isinstance(node, ast.Compare):
        inside = f"{inner(node.left, 1)} {style.compare[type(node.ops[0])]} {inner(node.comparators[0], 1)}"
        return f"[{inside}]" if style.math else f"({inside})"
    if isinstance(node, ast.Attribute):  # .T
        mark = "ᵀ" if style.math else ".T"
        value = node.value
        if isinstance(value, ast.Name) and value.id in shapes:  # Xᵀ (3x2): the shape transposed
            flipped = "x".join(reversed(shapes[value.id].split("x")))
            return f"{shown.get(value.id, value.id)}{mark} ({flipped})"
        return f"{inner(value, 5)}{mark}"
    if isinstance(node, ast.Subscript):
        return f"{inner(node.value, 5)}[{_index(node.slice, style)}]"
    arguments = ", ".join(inner(arg, 0) for arg in node.args)
    return f"{style.functions.get(node.func.id, node.func.id)}({arguments})"


def _binding(text: str) -> float:
    """How tightly a name binds as an operand, on the scale of ``_PRECEDENCE``: the weakest
    operator at its top level (``1−p`` binds like a sum, ``y·log p`` like a product, ``log p``
    like a function call, so ``(log p)²``); a plain name, number or call binds tightest."""
    depth, level = 0, 9.0
    for position, character in enumerate(text):
        depth += character in "([{"
        depth -= character in ")]}"
        if depth == 0:
            if character in "=<>":
                level = min(level, 0)
            elif character in "+-−" and position > 0 and not _exponent(text, position):
                level = min(level, 1)
            elif character in "*/@·⊙":
                level = min(level, 2)
            elif character in "+-−" or character == " ":
                level = min(level, 3)  # a sign or a function applied without brackets
            elif character == "^" or character in _POWERS:  # x², Xᵀ: (x²)³, not x²³
                level = min(level, 4)
    return level


def _exponent(text: str, position: int) -> bool:
    """Whether the sign at ``position`` is a number's exponent, as in 1e-05."""
    return position > 1 and text[position - 1] in "eE" and text[position - 2].isdigit()


def _constant(value: Any, style: _Style) -> str:
    if isinstance(value, (np.ndarray, list)):
        return _array(np.asarray(value))
    if isinstance(value, tuple):
        inside = ", ".join(_constant(v, style) for v in value)
        return f"({inside},)" if len(value) == 1 else f"({inside})"
    if isinstance(value, (bool, str)) or value is None or not isinstance(value, (int, float, np.number)):
        return repr(value)
    if not style.math:
        return repr(float(value)) if isinstance(value, float) else str(value)
    if isinstance(value, (int, np.integer)) or (math.isfinite(value) and float(value).is_integer()):
        return str(int(value)).replace("-", "−")
    return f"{value:.5g}".replace("-", "−")


def _array(value: np.ndarray) -> str:
    return str(value.tolist()) if value.size <= 6 else f"<{'x'.join(map(str, value.shape))} {value.dtype}>"


def _index(part: Any, style: _Style) -> str:
    if isinstance(part, ast.Constant):
        value = part.value
        if isinstance(value, tuple):
            return ", ".join(_index(ast.Constant(v), style) for v in value) or "()"
        if isinstance(value, slice):
            ends = ["" if v is None else str(v) for v in (value.start, value.stop)]
            return ":".join(ends) + (f":{value.step}" if value.step is not None else "")
        if value is Ellipsis:
            return "..."
        if value is None:
            return "None"
        return _constant(value, style)
    return write(part, style)
