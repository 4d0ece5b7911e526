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
import sys
import unicodedata
import warnings
from collections.abc import Callable, Mapping
from typing import Any

import numpy as np

from . import numeric
from .engine import Node

FUNCTIONS: dict[str, Callable] = {}
"""The functions a formula may call, by name: every registered op (its ``apply``), and the op
table's vocabulary (``sum(x, axis, keepdims)``, ``div``, ...), which ``tinygrad_lr.core.ops``
puts here. Each takes floats, ndarrays, Values and Tensors alike."""

# The binary operators of the language, by precedence. ``+ - *`` run as Python's operators (IEEE
# on floats, numpy and nodes alike); ``/ ** @`` call the op named in _OPS, since a float 1/0 must
# be inf, not a ZeroDivisionError.
_PRECEDENCE = {ast.Add: 1, ast.Sub: 1, ast.Mult: 2, ast.Div: 2, ast.MatMult: 2, ast.Pow: 4}
_OPS = {ast.Div: "div", ast.Pow: "pow", ast.MatMult: "matmul"}
_ON_NODES = {ast.Add: operator.add, ast.Sub: operator.sub, ast.Mult: operator.mul}
_ON_NODES.update({ast.Div: operator.truediv, ast.Pow: operator.pow, ast.MatMult: operator.matmul})
_COMPARE = {ast.Gt: np.greater, ast.GtE: np.greater_equal, ast.Lt: np.less, ast.LtE: np.less_equal}
_COMPARE[ast.Eq] = np.equal
_REFUSED_OPERATORS = {
    ast.FloorDiv: "//", ast.Mod: "%", ast.MatMult: "@", ast.LShift: "<<", ast.RShift: ">>",
    ast.BitOr: "|", ast.BitXor: "^", ast.BitAnd: "&",
}  # fmt: skip
# Text typed by people (scalar) has numbers, names, the operators and calls; formulas of the op
# table and expressions of graph nodes may also use @, comparisons, .T (a transpose), tuples,
# lists, indexing and slices.
_SCALAR = (ast.Expression, ast.expr_context, ast.operator, ast.unaryop, ast.Constant, ast.Name)
_ARRAYS = (*_SCALAR, ast.Tuple, ast.List, ast.Subscript, ast.Slice, ast.cmpop)
_KINDS = {ast.Attribute: "attribute access is", ast.Subscript: "subscripts are", ast.Lambda: "lambdas are"}
_KINDS.update({ast.Compare: "comparisons are", ast.GeneratorExp: "comprehensions are"})
_KINDS.update(dict.fromkeys((ast.ListComp, ast.SetComp, ast.DictComp), "comprehensions are"))
_NEWLINE = re.compile(r"\r\n|\r|\n")  # the line breaks of Python's tokenizer
MAX_LENGTH = 2_000
MAX_DEPTH = 100


class ExpressionError(ValueError):
    """A text that is not in the formula language, names what it was not given, or a value a
    formula cannot use; the message says what is wrong and at which column."""


def parse(text: str, scalar: Mapping[str, int] | None = None) -> ast.expr:
    """``text`` as a checked syntax tree, or ExpressionError saying what is wrong and where.

    With ``scalar`` (function name: number of arguments) the text is one typed by a person for
    numbers: only those functions, none of the array forms, and every number a float (9**1000
    is inf, as for Values). Without it, any function name is accepted here and looked up when
    the formula runs.
    """
    return _parse(text, None if scalar is None else tuple(scalar.items()))


@functools.lru_cache(maxsize=1024)
def _parse(text: str, scalar: tuple | None) -> ast.expr:
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
    called = _called(tree)
    for node in ast.walk(tree):
        level = depth[id(node)]
        if level > MAX_DEPTH and hasattr(node, "col_offset"):
            raise ExpressionError(f"the formula nests more than {MAX_DEPTH} levels deep{source.where(node)}")
        _check(node, source, called, functions)
        for child in ast.iter_child_nodes(node):
            depth[id(child)] = level + 1
        if functions is not None and isinstance(node, ast.Constant):
            node.value = float(node.value)
    return tree.body


def _check(node: ast.AST, source: _Source, called: set[int], functions: dict[str, int] | None) -> None:
    """Refuse ``node`` if it is not in the language (``functions``: the scalar language's)."""
    arrays, at, quoted = functions is None, source.where(node), source.quoted(node)
    if isinstance(node, ast.Constant):
        _check_number(node, source, arrays)
    elif isinstance(node, ast.Name) and node.id.startswith("_"):
        raise ExpressionError(f"the name {node.id}{at} is not allowed (no name may start with _)")
    elif isinstance(node, ast.Name) and not arrays and node.id in functions and id(node) not in called:
        raise ExpressionError(f"{node.id}{at} is a function: call it, e.g. {node.id}(x)")
    elif isinstance(node, ast.BinOp):
        if type(node.op) not in _PRECEDENCE or (not arrays and isinstance(node.op, ast.MatMult)):
            symbol = _REFUSED_OPERATORS.get(type(node.op), type(node.op).__name__)
            gap = source.body[source.end(node.left) : source.index(node.right)]
            position = source.end(node.left) + max(gap.find(symbol[0]), 0)
            hint = "; use ** for powers" if symbol == "^" else ""
            raise ExpressionError(
                f"the operator {symbol} {source.at(position)} is not allowed; use + - * / **{hint}"
            )
    elif isinstance(node, ast.UnaryOp):
        if not isinstance(node.op, (ast.USub, ast.UAdd)):
            symbol = "~" if isinstance(node.op, ast.Invert) else "not"
            raise ExpressionError(f"the operator {symbol}{at} is not allowed; use + - * / **")
    elif isinstance(node, ast.Call):
        if not isinstance(node.func, ast.Name) or (not arrays and node.func.id not in functions):
            known = "by their names" if arrays else ", ".join(sorted(functions))
            raise ExpressionError(f"only the functions {known} can be called; not{quoted}{at}")
        if node.keywords or (not arrays and len(node.args) != functions[node.func.id]):
            wanted = 1 if arrays else functions[node.func.id]
            count = "exactly one argument" if wanted == 1 else f"{wanted} arguments"
            what = "arguments without keywords" if arrays else count
            raise ExpressionError(f"{node.func.id}() takes {what}{quoted}{at}")
    elif arrays and isinstance(node, ast.Attribute):
        if node.attr != "T":
            raise ExpressionError(f"the only attribute is .T (a transpose), not .{node.attr}{at}")
    elif arrays and isinstance(node, ast.Compare):
        if len(node.ops) != 1 or type(node.ops[0]) not in _COMPARE:
            raise ExpressionError(f"one comparison at a time, of < <= > >= =={at}")
    elif not isinstance(node, _ARRAYS if arrays else _SCALAR):
        kind = _KINDS.get(type(node), f"{type(node).__name__} expressions are")
        allowed = "calls" if arrays else ", ".join(sorted(functions))
        raise ExpressionError(
            f"{kind} not allowed{quoted}{at}; a formula has numbers, variables, + - * / ** and {allowed}"
        )


def _called(tree: ast.AST) -> set[int]:
    """The ids of the names that ``tree`` calls: functions, not variables."""
    return {id(node.func) for node in ast.walk(tree) if isinstance(node, ast.Call)}


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

    def where(self, node: ast.AST) -> str:
        """' at column C' for a node of the tree, '' for a part that has no place (an operator)."""
        return f" {self.at(self.index(node))}" if hasattr(node, "col_offset") else ""

    def segment(self, node: ast.AST) -> str:
        return self.body[self.index(node) : self.end(node)]

    def quoted(self, node: ast.AST) -> str:
        """' (the node's text)' if it is short, for a message."""
        snippet = " ".join(self.segment(node).split()) if hasattr(node, "col_offset") else ""
        return f" ({snippet})" if snippet and len(snippet) < 40 else ""


def where(text: str, node: ast.AST) -> str:
    """Where ``node`` of ``parse(text)`` is in ``text``, as messages say it: 'at column C'."""
    return _Source(text).where(node).lstrip()


def _check_number(node: ast.Constant, source: _Source, arrays: bool) -> None:
    """A number literal must be a real number that a float holds: not inf, not rounded to 0.
    In the array language a constant may also be True, False, None, text or ``...``."""
    value = node.value
    if arrays and (isinstance(value, (bool, str)) or value is None or value is Ellipsis):
        return
    if isinstance(value, float) and math.isfinite(value) and value != 0:
        return  # the common case, checked without looking at the text
    written = source.segment(node)
    literal = f"{shorten(written)}{source.where(node)}"
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise ExpressionError(f"only numbers are allowed as constants, not {literal}")
    try:
        number = float(value)
    except OverflowError:
        number = math.inf
    if math.isinf(number):  # Python reads 1e999 as inf; a float holds no 400-digit integer
        raise too_large(f"the number {literal} is")
    mantissa = written.lower().partition("e")[0]
    if value == 0 and any(digit in mantissa for digit in "123456789"):
        raise ExpressionError(
            f"the number {literal} is too small for a float: it would be 0 (the smallest is about 5e-324)"
        )


def too_large(what: str) -> ExpressionError:
    """The error for a number that no float holds; ``what`` says which, ending in 'is'."""
    return ExpressionError(f"{what} too large for a float (the largest is about 1.8e308)")


def shorten(text: str) -> str:
    """``text`` on one line, and cut short if it is long, as a message quotes it."""
    text = " ".join(text.split())
    return text if len(text) <= 24 else f"{text[:12]}…({len(text)} characters)"


# --- evaluating ----------------------------------------------------------------------------------


def variables(tree: ast.expr) -> dict[str, ast.Name]:
    """The variables of a parsed tree (not the functions it calls), each with its first use."""
    called, first = _called(tree), {}
    uses = [node for node in ast.walk(tree) if isinstance(node, ast.Name) and id(node) not in called]
    for node in sorted(uses, key=lambda node: (node.lineno, node.col_offset)):
        first.setdefault(node.id, node)
    return first


def names(text: str) -> set[str]:
    """The variables a formula uses (not the functions it calls)."""
    return set(_names(text))


@functools.lru_cache(maxsize=1024)
def _names(text: str) -> frozenset[str]:
    return frozenset(variables(parse(text)))


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
        x, y = _value(node.left, values), _value(node.right, values)
        name = _OPS.get(type(node.op))
        if name is None or isinstance(x, Node) or isinstance(y, Node):
            return _ON_NODES[type(node.op)](x, y)  # a number beside a node is a constant node
        return _function(name)(x, y)
    if isinstance(node, ast.UnaryOp):
        operand = _value(node.operand, values)
        return -operand if isinstance(node.op, ast.USub) else operand
    if isinstance(node, ast.Compare):
        return _compared(type(node.ops[0]), _value(node.left, values), _value(node.comparators[0], values))
    if isinstance(node, ast.Attribute):  # .T
        return _transposed(_value(node.value, values))
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


def _compared(comparison: type[ast.cmpop], x: Any, y: Any) -> Any:
    """A comparison as a formula uses it: 1 where true and 0 where not, in the operands' float
    type. On graph nodes it compares their data: a step's derivative is 0, so it is a constant."""
    x, y = (x.data if isinstance(x, Node) else x), (y.data if isinstance(y, Node) else y)
    truth = _COMPARE[comparison](x, y)
    return truth.astype(np.result_type(x, y, np.float16)) if isinstance(truth, np.ndarray) else float(truth)


def _truth(comparison: type[ast.cmpop], x: Any, y: Any) -> Any:
    """A comparison as the condition of ``where``: booleans, compared on graph nodes' data."""
    return _COMPARE[comparison](x.data if isinstance(x, Node) else x, y.data if isinstance(y, Node) else y)


def _transposed(x: Any) -> Any:
    """``x.T`` in a formula: the last two axes swapped, each matrix of a batch transposed (a 1-D
    array or a number stays)."""
    return x.mT if np.ndim(x) > 1 else x


_INTO = {ast.Sub: np.subtract, ast.Div: np.divide}  # the ufuncs of - and / on arrays
_SIDES = {(0,): "left", (1,): "right", (0, 1): "either"}
_SMALL = 256 * 1024  # bytes: below this a fresh array costs less than the checks (numpy's own limit)


def _into(ufunc: np.ufunc, plain: Callable, sides: tuple[int, ...]) -> Callable:
    """``plain(x, y)``, computed by ``ufunc`` into the operand on one of ``sides`` (0: x, 1: y)
    where that operand is an array that the compiled code has just made (its caller passes only
    an operation's result there, never a name's or a call's, which may be an input, a saved
    array or a view) and that ``_free`` finds free: the same numbers, one array fewer alive."""
    left, right = 0 in sides, 1 in sides

    def into(x: Any, y: Any) -> Any:
        if left and type(x) is np.ndarray and x.nbytes >= _SMALL and _free(sys.getrefcount(x), x, y):
            with numeric.quiet():  # IEEE results without warnings, as numeric's kernels give
                return ufunc(x, y, out=x)
        if right and type(y) is np.ndarray and y.nbytes >= _SMALL and _free(sys.getrefcount(y), y, x):
            with numeric.quiet():
                return ufunc(x, y, out=y)
        return plain(x, y)

    return into


def _references(x: Any) -> int:
    """What ``into`` reads as ``sys.getrefcount`` of its argument."""
    return sys.getrefcount(x)


# What that count is for an array that nothing but the evaluation of an expression holds (as
# numpy's own rule for its temporaries): measured as into() is called, for it differs between
# interpreters (2 on CPython 3.11-3.13: the argument and getrefcount's own; 3 on 3.10, where the
# caller's stack keeps one too).
_ALONE = _references(np.empty(0))


def _free(references: int, made: np.ndarray, other: Any) -> bool:
    """Whether an elementwise operation of ``made`` and ``other`` may write into ``made``: nothing
    else holds it (``references``, its count as ``into`` read it), it is floats, no view, and may
    be written, and the result has its shape and dtype (no graph node, no broadcasting to a larger
    shape, no dtype promoted; integers divide into floats)."""
    return (
        references <= _ALONE
        and made.dtype.kind == "f"
        and made.base is None
        and made.flags.writeable
        and isinstance(other, (np.ndarray, float, int))
        and np.result_type(made, other) == made.dtype
        and numeric.broadcasts_to(np.shape(other), made.shape)
    )


def _made(node: ast.expr) -> bool:
    """Whether the compiled code computes ``node`` into a new array of its own: an operation's
    result (a name or a call's result may be an input, a saved array or a view)."""
    if isinstance(node, ast.UnaryOp):
        return isinstance(node.op, ast.USub)
    return isinstance(node, ast.BinOp) and not isinstance(node.op, ast.MatMult)


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
    for a constant argument); it reads ``reads(texts, inputs)`` from what forward saved, and
    raises as ``ctx.saved_tensors`` does if a saved tensor was changed in place since.

    The backward returns, per input, ``g`` times the text (a text that uses ``g`` is the whole
    contribution; "" gives None). Other names are the context's attributes. ``+ - *`` stay
    Python's operators and the rest calls the ops, so one function runs on floats and arrays
    (first derivatives) and on graph nodes (``create_graph=True``: higher ones); off floats it
    computes nothing for an input that needs no gradient (None), and on floats ``where`` and
    comparisons are Python's own (``g if out > 0 else 0.0``). Given the ``saved_from`` pattern
    that forward records for these texts, it refuses a context recorded under another formula
    (one assigned since), whose saved items would bind to the wrong names.
    """
    saved = reads(texts, inputs)
    code = _Python(saved)
    results, on_floats = code.written(texts, floats=False), code.written(texts, floats=True)
    # __: no clash with a function of the formula, _ and its name
    code.namespace.update(__expected=saved_from, __check=_checker(saved_from))
    check = "ctx.versions" if saved_from is None else "ctx.saved_from is not __expected or ctx.versions"
    body = f"    if {check}:\n        __check(ctx)\n"
    body += f"    {', '.join(saved)}, = ctx.saved\n" if saved else ""
    several = sum(text != "" for text in texts) > 1
    if several or on_floats != results:
        body += "    if type(g) is not float:\n"
        if several:  # arrays: no pass for an input that needs no gradient (ctx.needs_input_grad)
            results = [
                f"{r} if __{i} is not None and __{i}.requires_grad else None" if text else r
                for i, (text, r) in enumerate(zip(texts, results))
            ]
            body += f"        {', '.join(f'__{i}' for i in range(len(texts)))}, = ctx\n"
        body += f"        return {', '.join(results)}\n"
    exec(f"def backward(ctx, g):\n{body}    return {', '.join(on_floats)}\n", code.namespace)  # checked text
    return code.namespace["backward"]


def _checker(expected: tuple | None) -> Callable[[Any], None]:
    """The check of a compiled backward: it raises if ``ctx`` was recorded under another formula
    than the one ``expected`` (the pattern forward records for it) describes, or if a tensor it
    saved was changed in place."""

    def check(ctx: Any) -> None:
        if expected is not None and ctx.saved_from is not expected:
            raise RuntimeError(
                f"{ctx.fn.name}: its formula was changed after forward recorded this node, so what "
                "forward kept is not what the formula reads; run forward again"
            )
        ctx._check_versions()

    return check


def reads(texts: tuple[str, ...], inputs: tuple[str, ...]) -> tuple[str, ...]:
    """The names among ``inputs`` and ``out`` that the ``texts`` use, in that order."""
    used = set().union(*(names(text) for text in texts if text))
    return tuple(name for name in (*inputs, "out") if name in used)


def _contribution(tree: ast.expr) -> ast.expr:
    """What backward sends for the derivative ``tree``: g·tree, as simply as it can be written."""
    g = ast.Name("g", ast.Load())
    if "g" in variables(tree):
        return tree
    if _is(tree, 1):
        return g
    if isinstance(tree, ast.UnaryOp) and isinstance(tree.op, ast.USub) and _is(tree.operand, 1):
        return ast.UnaryOp(ast.USub(), g)
    if isinstance(tree, ast.BinOp) and isinstance(tree.op, ast.Div) and _is(tree.left, 1):
        return ast.BinOp(g, ast.Div(), tree.right)  # g/y, not g·(1/y)
    return ast.BinOp(g, ast.Mult(), tree)


def _float(node: ast.expr) -> ast.expr:
    """``node``, a whole number written as a float: a gradient chosen on floats is a float."""
    if isinstance(node, ast.Constant) and type(node.value) is int:
        return ast.Constant(float(node.value))
    return node


def _is(node: ast.expr, number: float) -> bool:
    return isinstance(node, ast.Constant) and type(node.value) in (int, float) and node.value == number


class _Python(ast.NodeTransformer):
    """A formula tree as Python: names of forward's inputs and ``out`` stay (backward unpacks
    them), others are ``ctx`` attributes; ``/ ** @``, comparisons, ``.T`` and calls go to the
    functions that ``evaluate`` calls on raw data. With ``floats`` (the code for numbers),
    comparisons are Python's and ``where`` is Python's ``x if cond else y``; without, a
    subtraction or division with an operand that the code itself just made (an operation's
    result) may write into it (``_into``), where numpy would make another array beside it."""

    def __init__(self, saved: tuple[str, ...]) -> None:
        self.saved, self.namespace, self.floats = saved, {}, False

    def written(self, texts: tuple[str, ...], floats: bool) -> list[str]:
        """What backward returns per input, as Python ("None" for a constant argument)."""
        self.floats = floats
        return [
            ast.unparse(self.visit(_contribution(copy.deepcopy(parse(text))))) if text else "None"
            for text in texts
        ]

    def call(self, name: str, function: Callable, args: list[ast.expr]) -> ast.Call:
        self.namespace[f"_{name}"] = function
        return ast.Call(ast.Name(f"_{name}", ast.Load()), args, [])

    def visit_Name(self, node: ast.Name) -> ast.expr:
        if node.id in self.saved or node.id == "g":
            return node
        return ast.Attribute(ast.Name("ctx", ast.Load()), node.id, ast.Load())

    def visit_BinOp(self, node: ast.BinOp) -> ast.expr:
        op = type(node.op)
        # numpy itself writes x - y into a temporary x, and x + y, x*y into either
        made = (0,) * (op is not ast.Sub and _made(node.left)) + (1,) * _made(node.right)
        self.generic_visit(node)
        name = _OPS.get(op)
        if not self.floats and op in _INTO and made:
            plain = operator.sub if name is None else _function(name)
            into = _into(_INTO[op], plain, made)
            return self.call(f"{name or 'sub'}_into_{_SIDES[made]}", into, [node.left, node.right])
        return node if name is None else self.call(name, _function(name), [node.left, node.right])

    def visit_Compare(self, node: ast.Compare) -> ast.expr:
        self.generic_visit(node)
        if self.floats:  # 1.0 where true and 0.0 where not, as _compared gives
            return ast.Call(ast.Name("float", ast.Load()), [node], [])
        op = type(node.ops[0])
        compared = functools.partial(_compared, op)
        return self.call(f"_{op.__name__.lower()}", compared, [node.left, node.comparators[0]])

    def visit_Attribute(self, node: ast.Attribute) -> ast.expr:
        return self.call("_transposed", _transposed, [self.visit(node.value)])

    def visit_Call(self, node: ast.Call) -> ast.expr:
        args = [self.visit(arg) for arg in node.args[1:]]
        first = node.args[0] if node.args else None
        if self.floats and node.func.id == "where" and len(args) == 2:
            test = self.generic_visit(first) if isinstance(first, ast.Compare) else self.visit(first)
            return ast.IfExp(test, *map(_float, args))
        if node.func.id == "where" and isinstance(first, ast.Compare):  # a choice: no 1s and 0s made
            op, test = type(first.ops[0]), self.generic_visit(first)
            truth = functools.partial(_truth, op)
            args.insert(
                0, self.call(f"_{op.__name__.lower()}_truth", truth, [test.left, test.comparators[0]])
            )
        elif first is not None:
            args.insert(0, self.visit(first))
        return self.call(node.func.id, _function(node.func.id), args)


# --- printing -----------------------------------------------------------------------------------

_SUPERSCRIPT = str.maketrans("−0123456789", "⁻⁰¹²³⁴⁵⁶⁷⁸⁹")
_POWERS = "⁻⁰¹²³⁴⁵⁶⁷⁸⁹ᵀ"  # a name ending in one binds like a power


class _Style(dict):
    """How ``write`` writes a tree: each operator's sign (by its class), and the functions it
    renames (σ); ``math`` for people (x², [x > 0], 2 for 2.0), else in the formula language."""

    def __init__(self, signs: dict, math: bool) -> None:
        super().__init__(signs)
        self.math = math


CODE = _Style({
    ast.Add: " + ", ast.Sub: " - ", ast.Mult: "*", ast.Div: "/", ast.MatMult: "@", ast.Pow: "**",
    ast.USub: "-", ast.UAdd: "+", ast.Attribute: ".T",
    ast.Gt: ">", ast.GtE: ">=", ast.Lt: "<", ast.LtE: "<=", ast.Eq: "==",
}, math=False)  # fmt: skip
MATH = _Style({
    **CODE, ast.Sub: " − ", ast.Mult: "·", ast.MatMult: "·", ast.Pow: "^", ast.USub: "−",
    ast.Attribute: "ᵀ", ast.GtE: "≥", ast.LtE: "≤", ast.Eq: "=", "sigmoid": "σ",
}, math=True)  # fmt: skip
ELEMENTWISE = _Style({**MATH, ast.Mult: "⊙"}, math=True)  # a product of arrays: elementwise


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
    tree = _Fold(numbers or {}).visit(copy.deepcopy(parse(text)))
    written = write(tree, ELEMENTWISE if elementwise else MATH, shown, 2 if factor else 0, shapes)
    return _unsigned(written) if factor else written


def _unsigned(text: str) -> str:
    """``text`` as an operand after a sign: in parentheses if it starts with one (x·(−0.5),
    x − (−y)), never x·−0.5 or x − −y."""
    return f"({text})" if text[:1] in ("-", "−") else text


class _Fold(ast.NodeTransformer):
    """A tree with ``numbers`` put in for their names, constant parts computed, and x¹, 1·x,
    x/1, 0+x and +x gone."""

    def __init__(self, numbers: Mapping[str, float]) -> None:
        self.numbers = numbers

    def visit_Name(self, node: ast.Name) -> ast.expr:
        return ast.Constant(self.numbers[node.id]) if node.id in self.numbers else node

    def visit_Call(self, node: ast.Call) -> ast.expr:
        node.args = [self.visit(arg) for arg in node.args]  # the function's name stays
        return node

    def visit_UnaryOp(self, node: ast.UnaryOp) -> ast.expr:
        operand = self.visit(node.operand)
        if isinstance(node.op, ast.UAdd):
            return operand
        if isinstance(operand, ast.Constant):
            return ast.Constant(-operand.value)
        return ast.UnaryOp(node.op, operand)

    def visit_BinOp(self, node: ast.BinOp) -> ast.expr:
        left, op, right = self.visit(node.left), type(node.op), self.visit(node.right)
        if isinstance(left, ast.Constant) and isinstance(right, ast.Constant) and op is not ast.MatMult:
            return ast.Constant(_value(ast.BinOp(left, node.op, right), {}))
        if _is(right, 1) and op in (ast.Pow, ast.Mult, ast.Div):
            return left
        if _is(right, 0) and op in (ast.Add, ast.Sub):
            return left
        if (_is(left, 1) and op is ast.Mult) or (_is(left, 0) and op is ast.Add):
            return right
        return ast.BinOp(left, node.op, right)


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

    def inner(child: ast.expr, level: int = 0) -> str:
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
        op, right = type(node.op), node.right
        level = _PRECEDENCE[op]
        if (
            op is ast.Pow
            and style.math
            and isinstance(right, ast.Constant)
            and float(right.value).is_integer()
        ):
            return inner(node.left, 5) + _constant(right.value, style).translate(_SUPERSCRIPT)
        # in code a*(b*c) keeps its parentheses: floating-point products and sums do not regroup
        grouped = op in (ast.Sub, ast.Div, ast.MatMult) or not style.math
        sides = (5, 5) if op is ast.Pow else (level, level + grouped)
        sign = f" {style[op]} " if shapes and style[op] in ("·", "⊙") else style[op]  # Xᵀ (3x2) · dL/dz
        text = f"{inner(node.left, sides[0])}{sign}{_unsigned(inner(right, sides[1]))}"
        return text if outer <= level else f"({text})"
    if isinstance(node, ast.UnaryOp):
        text = f"{style[type(node.op)]}{inner(node.operand, 3)}"
        return text if outer < 3 else f"({text})"
    if isinstance(node, ast.Compare):
        inside = f"{inner(node.left, 1)} {style[type(node.ops[0])]} {inner(node.comparators[0], 1)}"
        return f"[{inside}]" if style.math else f"({inside})"
    if isinstance(node, ast.Attribute):  # .T
        value = node.value
        if isinstance(value, ast.Name) and value.id in shapes:  # Xᵀ (3x2): the shape transposed
            flipped = "x".join(reversed(shapes[value.id].split("x")))
            return f"{shown.get(value.id, value.id)}{style[ast.Attribute]} ({flipped})"
        return f"{inner(value, 5)}{style[ast.Attribute]}"
    if isinstance(node, ast.Subscript):  # W[0, 1:]: the index's tuple without its parentheses
        index = node.slice
        if isinstance(index, ast.Constant) and isinstance(index.value, tuple):
            index = ast.Tuple([ast.Constant(item) for item in index.value])
        items = index.elts if isinstance(index, ast.Tuple) else [index]
        written = [_colons(item.value) if _is_slice(item) else inner(item) for item in items]
        return f"{inner(node.value, 5)}[{', '.join(written) or '()'}]"
    if isinstance(node, ast.Slice):
        ends = ["" if end is None else inner(end) for end in (node.lower, node.upper)]
        return ":".join(ends) + ("" if node.step is None else f":{inner(node.step)}")
    if isinstance(node, (ast.Tuple, ast.List)):
        inside = ", ".join(map(inner, node.elts))
        if isinstance(node, ast.List):
            return f"[{inside}]"
        return f"({inside},)" if len(node.elts) == 1 else f"({inside})"
    return f"{style.get(node.func.id, node.func.id)}({', '.join(map(inner, node.args))})"


def _is_slice(node: ast.expr) -> bool:
    return isinstance(node, ast.Constant) and isinstance(node.value, slice)


def _colons(value: slice) -> str:
    """A slice as a subscript writes it: 1:, ::2."""
    ends = ["" if end is None else str(end) for end in (value.start, value.stop)]
    return ":".join(ends) + ("" if value.step is None else f":{value.step}")


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
        value = np.asarray(value)
        return (
            str(value.tolist()) if value.size <= 6 else f"<{'x'.join(map(str, value.shape))} {value.dtype}>"
        )
    if isinstance(value, tuple):
        return write(ast.Tuple([ast.Constant(item) for item in value]), style)
    if isinstance(value, slice):  # an index that forward was given, outside a subscript
        return f"slice({value.start}, {value.stop}{'' if value.step is None else f', {value.step}'})"
    if value is Ellipsis:
        return "..."
    if isinstance(value, (bool, str)) or value is None or not isinstance(value, (int, float, np.number)):
        return repr(value)
    if not style.math:
        return repr(float(value)) if isinstance(value, float) else str(value)
    if isinstance(value, (int, np.integer)) or (math.isfinite(value) and float(value).is_integer()):
        return str(int(value)).replace("-", "−")
    return f"{value:.5g}".replace("-", "−")
