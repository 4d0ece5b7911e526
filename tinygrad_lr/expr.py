"""A safe parser for formulas typed by people: ``expr("log(sigmoid(w*x + b))", x=2, w=-0.5)``.

The text is parsed with Python's ``ast`` and evaluated over a whitelist: numbers, the given
variables, ``+ - * / **`` and unary minus, and the functions in ``FUNCTIONS``. Nothing is ever
passed to ``eval``; anything else (attribute access, subscripts, lambdas, comprehensions,
unknown names, keyword arguments, huge exponents, very long or deeply nested text) is refused
with a message that says what and where.
"""

from __future__ import annotations

import ast
from collections.abc import Callable

from . import ops
from .value import Value

MAX_LENGTH = 2_000
MAX_DEPTH = 100
MAX_EXPONENT = 1_000

FUNCTIONS: dict[str, Callable] = {
    "exp": ops.exp,
    "log": ops.log,
    "sigmoid": ops.sigmoid,
    "σ": ops.sigmoid,
    "tanh": ops.tanh,
    "relu": ops.relu,
    "softplus": ops.softplus,
}
_OPERATORS = {
    ast.Add: lambda a, b: a + b,
    ast.Sub: lambda a, b: a - b,
    ast.Mult: lambda a, b: a * b,
    ast.Div: lambda a, b: a / b,
    ast.Pow: lambda a, b: a**b,
}


class ExpressionError(ValueError):
    """The text is not a formula this parser accepts."""


def expr(text: str, **variables: float) -> Value:
    """Evaluate the formula ``text`` on Values and return the output Value.

    Every variable of the formula must be given as a keyword; each becomes a Value labelled
    with its name (``out.parents`` lead back to them), ready for ``backward()``, ``draw()`` and
    stepping through.
    """
    tree = parse(text)
    names = {node.id for node in ast.walk(tree) if isinstance(node, ast.Name)} - FUNCTIONS.keys()
    missing = sorted(names - variables.keys())
    if missing:
        raise ExpressionError(f"give a value for {', '.join(missing)}, e.g. {missing[0]}=1.0")
    unused = sorted(variables.keys() - names)
    if unused:
        raise ExpressionError(
            f"{', '.join(unused)} not in the formula; the variables are {', '.join(sorted(names))}"
        )
    leaves = {}
    for name in sorted(names):
        value = variables[name]
        value = value.data if isinstance(value, Value) else value
        try:
            leaves[name] = Value(float(value), label=name)
        except (TypeError, ValueError):
            raise ExpressionError(f"{name}={value!r}: give a number") from None
    return _evaluate(tree, leaves)


def parse(text: str) -> ast.Expression:
    """Parse ``text`` and check it against the whitelist; raise ExpressionError otherwise."""
    if not isinstance(text, str):
        raise ExpressionError(f"the formula must be text, got {type(text).__name__}")
    if len(text) > MAX_LENGTH:
        raise ExpressionError(f"the formula is {len(text):,} characters long; the limit is {MAX_LENGTH:,}")
    try:
        tree = ast.parse(text.strip(), mode="eval")
    except (SyntaxError, RecursionError, MemoryError) as error:
        raise ExpressionError(f"not a formula: {getattr(error, 'msg', error)}") from None
    depth = {id(tree.body): 1}
    for node in ast.walk(tree):
        level = depth.get(id(node), 1)
        if level > MAX_DEPTH:
            raise ExpressionError(f"the formula nests more than {MAX_DEPTH} levels deep")
        _check(node, text)
        for child in ast.iter_child_nodes(node):
            depth[id(child)] = level + 1
    return tree


def _check(node: ast.AST, text: str) -> None:
    where = f" at column {node.col_offset + 1}" if hasattr(node, "col_offset") else ""
    snippet = ast.get_source_segment(text.strip(), node) if hasattr(node, "col_offset") else None
    shown = f" ({snippet})" if snippet and len(snippet) < 40 else ""
    if isinstance(node, (ast.Expression, ast.Load, ast.operator, ast.USub, ast.UAdd)):
        if isinstance(node, ast.operator) and type(node) not in _OPERATORS:
            raise ExpressionError(f"the operator {type(node).__name__} is not allowed; use + - * / **")
        return
    if isinstance(node, ast.BinOp):
        exponent = (
            node.right.value if isinstance(node.op, ast.Pow) and isinstance(node.right, ast.Constant) else 0
        )
        if isinstance(exponent, (int, float)) and abs(exponent) > MAX_EXPONENT:
            raise ExpressionError(
                f"the exponent {exponent}{where} is too large (the limit is {MAX_EXPONENT})"
            )
        return
    if isinstance(node, ast.UnaryOp):
        if not isinstance(node.op, (ast.USub, ast.UAdd)):
            raise ExpressionError(f"{type(node.op).__name__}{where} is not allowed")
        return
    if isinstance(node, ast.Constant):
        if isinstance(node.value, bool) or not isinstance(node.value, (int, float)):
            raise ExpressionError(f"only numbers are allowed as constants, not {node.value!r}{where}")
        return
    if isinstance(node, ast.Name):
        if not node.id.isidentifier() or node.id.startswith("_"):
            raise ExpressionError(f"the name {node.id!r}{where} is not allowed")
        return
    if isinstance(node, ast.Call):
        if not isinstance(node.func, ast.Name) or node.func.id not in FUNCTIONS:
            raise ExpressionError(
                f"only the functions {', '.join(sorted(FUNCTIONS))} can be called; not{shown}{where}"
            )
        if node.keywords or len(node.args) != 1:
            raise ExpressionError(f"{node.func.id}() takes exactly one argument{where}")
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
    raise ExpressionError(f"{kind} not allowed{shown}{where}; a formula has {allowed}")


def _evaluate(tree: ast.Expression, leaves: dict[str, Value]) -> Value:
    """Evaluate without recursion: operands first, on an explicit stack."""
    results: dict[int, object] = {}
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
            results[id(node)] = _OPERATORS[type(node.op)](*args)
        elif isinstance(node, ast.UnaryOp):
            results[id(node)] = -args[0] if isinstance(node.op, ast.USub) else args[0]
        else:  # a whitelisted call
            results[id(node)] = FUNCTIONS[node.func.id](args[0])
    out = results[id(tree.body)]
    return out if isinstance(out, Value) else Value(out, requires_grad=False)


def _operands(node: ast.AST) -> list[ast.AST]:
    if isinstance(node, ast.BinOp):
        return [node.left, node.right]
    if isinstance(node, ast.UnaryOp):
        return [node.operand]
    if isinstance(node, ast.Call):
        return list(node.args)
    return []
