"""Names and expressions for the nodes of a graph, as the stepper, the pictures and the command
line show them.

One scheme, however the graph was built. Every node gets a name a learner can follow: the label
the user gave it; for a parameter of an ``nn.Module``, its path (``linear.weight``, which the
module labels it with when it is called); for an unnamed scalar constant, the number itself; for
an unnamed constant array whose values are 1 − y for a labelled constant y of the graph,
``1 − y``; and for a node made by an op, what made it: its expression in its operands' names
where that is short (``w·x``, ``1 − p``, ``log(p)``, ``maximum(t, 1.5)``), ``z`` for a longer
affine map (``X·W``, ``w·x + b``), ``p`` for a sigmoid, ``h`` for tanh and relu, ``L`` for the
output, and for any other longer expression a letter by its op (``s`` for a sum). Generated
names are numbered where two would clash and never equal a label the user gave; where two nodes
carry the same label, the second is ``x2`` (an expression ``x - x`` for two different nodes
would be false).

Every node made by an op also has an expression: the op in its operands' names, in the formula
language, with exactly the parentheses its structure needs (``X@W + b``, ``sigmoid(z)``,
``(a + b)*c``). A name that is itself a formula (``1 − p``, or a label such as ``(1−y)·log(1−p)``
that gives its node's value) is written out there (``log(1 - p)``, over p); a label that is no
identifier by its ``spelling`` (ℓ is ``ell``). Evaluated with the operands' values (``tg.expr``
for scalars, ``tg.formula.evaluate`` for arrays), the expression gives the node's value: the
property tests check exactly that.
"""

from __future__ import annotations

import ast
import copy
import numbers
import re
import unicodedata
from typing import Any

import numpy as np

from ..core import formula, numeric, show
from ..core.engine import Node, walk

# An unnamed node made by an op is called by its expression in its operands' names where that
# is short (log(p), 1 − p, y⊙log(p)); an affine map (X·W, w·x + b) is z and an activation by its
# letter, as the lesson writes them; a longer expression by the op's letter below ({x}: the first
# operand's name, where it is a short identifier), an op not listed by its own name.
_LETTERS = {"matmul": "z", "linear": "z", "sigmoid": "p", "tanh": "h", "relu": "h", "bce_with_logits": "L"}
_BASES = {
    "add": "s", "sub": "s", "mul": "prod", "div": "r", "neg": "neg_{x}", "pow": "u",
    "pow_number": "u", "exp": "e", "log": "log_{x}", "softplus": "s", "maximum": "{x}_c",
    "sum": "total", "mean": "avg", "reshape": "{x}_r", "transpose": "{x}T", "broadcast_to": "{x}_b",
    "index": "{x}_i", "scatter_add": "g",
}  # fmt: skip
_LONGEST = 20  # characters of an expression that is a node's name
_IDENTIFIER = re.compile(r"[A-Za-z][A-Za-z0-9_]*\Z")
_SPELLED = {"ℓ": "ell", "·": "_", "⊙": "_", "−": "_minus_", "-": "_minus_"}
_ASCII = str.maketrans({"−": "-", "·": "*", "⊙": "*"})  # a label as the formula language writes it


class Names:
    """The name and the expression of every node of the graph that made ``root``.

    ``names[node]`` is the name; ``expression(node)`` the node in its operands' names (formula
    language); ``operands(node)`` the names used there, with their nodes; ``shown(node)`` the
    expression for people (σ, ·, −); ``nodes`` the graph in order (``walk(root)``).

    A name that is an expression (``1 − p``) is written out in other nodes' expressions
    (``log(1 - p)``, over p); a label that is no identifier by its ``spelling`` (ℓ is ``ell``).
    """

    def __init__(self, root: Node):
        self.root = root
        self.nodes = walk(root)
        labels = [node for node in self.nodes if node.label]
        # a user's label, and the identifier that spells it, is never generated
        self._used = {node.label for node in labels} | {spelling(node.label) for node in labels}
        self._name: dict[Node, str] = {}
        self._atom: dict[Node, ast.expr] = {}  # how the node stands in other nodes' expressions
        self._code_atom: dict[Node, ast.expr] = {}  # the same in the formula language
        self._code: dict[str, Node] = {}  # the node of each identifier of the expressions
        self._affine: set[Node] = set()
        named: set[str] = set()
        for node in labels:  # labels first: a constant may be named after one (1 − y)
            # NOTE: two nodes with one label are two names (a, a2): a·a would claim a square
            name = node.label if node.label not in named else self._fresh(node.label)
            named.add(node.label)
            self._set(node, name, ast.Name(name), self._written(node, name))  # 2·(1−p): parenthesised
        for node in self.nodes:
            if node.label:
                continue
            if is_constant(node) and np.ndim(node.data) == 0:
                number = float(node.data)  # an unnamed number in the arithmetic: its value
                name = show.number(number)
                if name in self._used or not np.isfinite(number):  # a user's label "2.0"; nan
                    name = name if name not in self._used else self._fresh("c")  # is no literal
                    self._set(node, name, ast.Name(name))
                else:
                    self._set(node, name, ast.Constant(number))
            elif is_constant(node):
                self._constant(node)
            else:
                self._made(node)

    def _set(self, node: Node, name: str, atom: ast.expr, code: ast.expr | None = None) -> None:
        """Name ``node``; ``code`` is how its expression stands for it where the name is one."""
        self._name[node], self._atom[node] = name, atom
        if code is None and isinstance(atom, ast.Name):
            identifier = spelling(name)
            if identifier in self._code:
                identifier = self._fresh(identifier)
            self._code[identifier] = node
            code = ast.Name(identifier)
        self._code_atom[node] = atom if code is None else code

    def _written(self, node: Node, label: str) -> ast.expr | None:
        """A label that is a formula in the names before it (1−p, (1−y)·log(1−p)) and gives the
        node's value: that formula, as the node's expressions write it (None: it is none)."""
        text = label.translate(_ASCII)
        if _is_variable(label) or not text.isascii():  # NOTE: Python would read ℓ as l
            return None
        try:
            tree = formula.parse(text)
        except formula.ExpressionError:
            return None
        known = {name: other for other, name in self._name.items()}
        used = formula.names(text)
        if not used or not used <= known.keys():
            return None
        try:
            with numeric.quiet():
                value = formula.evaluate(tree, {name: known[name].data for name in used})
        except (formula.ExpressionError, ValueError, TypeError):
            return None
        if not np.array_equal(value, node.data, equal_nan=True) or np.shape(value) != np.shape(node.data):
            return None
        return _substitute(tree, {name: self._code_atom[known[name]] for name in used})

    def _constant(self, node: Node) -> None:
        """An unnamed constant array: 1 − y where its values are those of 1 − y for a constant
        y of the graph named before it (a label, or c), else c."""
        for other in self.nodes:
            if (
                _is_variable(self._name.get(other, ""))
                and is_constant(other)
                and np.shape(other.data) == np.shape(node.data)
            ):
                with np.errstate(all="ignore"):
                    complement = np.array_equal(node.data, 1 - other.data)
                name = f"1 − {self._name[other]}"
                if complement and name not in self._used:
                    self._used.add(name)
                    one_minus = ast.BinOp(ast.Constant(1.0), ast.Sub(), self._code_atom[other])
                    return self._set(node, name, ast.Name(name), one_minus)
        name = self._fresh("c")
        self._set(node, name, ast.Name(name))

    def _made(self, node: Node) -> None:
        """An unnamed node made by an op (see _LETTERS and _BASES)."""
        op = node._ctx.fn.name if node._ctx is not None else ""
        params = any(p._ctx is None and p.requires_grad for p in node.parents)
        if (
            op in ("matmul", "linear")
            or (op == "mul" and params)
            or (op in ("add", "sub") and any(p in self._affine for p in node.parents))
        ):  # linear in the parameters: w·x, X·W, w·x + b
            self._affine.add(node)
        if node is self.root:
            base = "L"
        elif node._ctx is None:
            base = "t" if node.requires_grad else "c"
        elif node in self._affine and op != "mul":
            base = "z"
        else:
            base = _LETTERS.get(op, "")
        if not base:
            shown = self.shown(node)
            if len(shown) <= _LONGEST and "\n" not in shown and shown not in self._used:
                self._used.add(shown)
                return self._set(node, shown, ast.Name(shown), self.tree(node, code=True))
            base = self._base(node)
        name = self._fresh(base)
        self._set(node, name, ast.Name(name))

    def __getitem__(self, node: Node) -> str:
        return self._name[node]

    def get(self, node: Node, default: str = "?") -> str:
        return self._name.get(node, default)

    def _base(self, node: Node) -> str:
        first = next((self._name[p] for p in node.parents), "x")
        short = first if _IDENTIFIER.match(first) and len(first) <= 6 else "v"
        return _BASES.get(node._ctx.fn.name, node._ctx.fn.name).format(x=short)

    def _fresh(self, base: str) -> str:
        name, count = base, 1
        while name in self._used:
            count += 1
            name = f"{base}{count}"
        self._used.add(name)
        return name

    def tree(self, node: Node, code: bool = False) -> ast.expr | None:
        """The expression of ``node`` as a syntax tree (None for a leaf), in the names shown,
        or with ``code`` in the identifiers that ``expression`` and ``operands`` use."""
        ctx = node._ctx
        if ctx is None:
            return None
        atoms = self._code_atom if code else self._atom
        fn = ctx.fn
        values = {
            name: atoms[parent] if parent is not None else ast.Constant(value)
            for name, parent, value in arguments(ctx)
        }
        text = fn.write(ctx)
        keeps = "keepdims" in fn.inputs and getattr(values["keepdims"], "value", None) is True
        if keeps and "keepdims" not in formula.names(text):  # sum(W) would claim a number, not [[s]]
            text = f"{fn.name}({', '.join(fn.inputs)})"
        return _substitute(formula.parse(text), values)

    def expression(self, node: Node) -> str:
        """The node in its operands' names, in the formula language ('' for a leaf); a name
        that is no identifier (``log p``) is written as one made from it (``log_p``)."""
        tree = self.tree(node, code=True)
        return "" if tree is None else formula.write(tree, formula.CODE)

    def shown(self, node: Node) -> str:
        """The expression for people: σ(z), X·W + b, −x (and y ⊙ log_p for arrays)."""
        tree = self.tree(node)
        if tree is None:
            return ""
        return formula.write(tree, formula.ELEMENTWISE if np.ndim(node.data) else formula.MATH)

    def operands(self, node: Node) -> dict[str, Node]:
        """Each name the expression uses, with its node."""
        tree = self.tree(node, code=True)
        if tree is None:
            return {}
        called = {id(call.func) for call in ast.walk(tree) if isinstance(call, ast.Call)}
        used = [n.id for n in ast.walk(tree) if isinstance(n, ast.Name) and id(n) not in called]
        return {name: self._code[name] for name in dict.fromkeys(used)}

    def equation(self, node: Node) -> str:
        """The node's name, followed by its expression for people where that says more: ``p = σ(z)``."""
        shown = self.shown(node)
        return self._name[node] if not shown or shown == self._name[node] else f"{self._name[node]} = {shown}"

    def d(self, node: Node) -> str:
        """The derivative of the output with respect to ``node``, written dL/dz or dL/d(w*x)."""
        return f"d{_wrapped(self._name[self.root])}/d{_wrapped(self._name[node])}"


def _is_variable(name: str) -> bool:
    """Whether ``name`` can stand for a variable in the formula language: an ASCII identifier
    (Python folds others: ℓ is read as l) that names no function of the language."""
    return bool(_IDENTIFIER.match(name)) and name not in formula.FUNCTIONS


def spelling(name: str) -> str:
    """The identifier that stands for the name ``name`` in an expression: the name itself where
    it is one, else a readable spelling of it (ℓ is ell, σ sigma, log p log_p, −inf minus_inf)."""
    if _is_variable(name):
        return name
    letters = []
    for character in name:
        if character in _SPELLED:
            character = _SPELLED[character]
        elif not character.isascii():  # σ: GREEK SMALL LETTER SIGMA, ²: SUPERSCRIPT TWO
            character = f"_{unicodedata.name(character, '').split(' ')[-1].lower()}_"
        letters.append(character)
    token = re.sub(r"[^A-Za-z0-9]+", "_", "".join(letters)).strip("_")
    return token if _is_variable(token) else f"v_{token}".rstrip("_")


def _wrapped(name: str) -> str:
    return name if len(name) == 1 else f"({name})"


def _substitute(tree: ast.expr, values: dict[str, ast.expr]) -> ast.expr:
    """The template with each of forward's argument names replaced by its operand."""
    tree = copy.deepcopy(tree)
    called = {id(node.func) for node in ast.walk(tree) if isinstance(node, ast.Call)}

    class Replace(ast.NodeTransformer):
        def visit_Name(self, node: ast.Name) -> Any:
            if id(node) in called or node.id not in values:
                return node
            return copy.deepcopy(values[node.id])

    return Replace().visit(tree)


def is_constant(node: Node) -> bool:
    """Whether ``node`` is a leaf that needs no gradient: a number or an array given as data."""
    return node._ctx is None and not node.requires_grad


def arguments(ctx: Any) -> list[tuple[str, Node | None, Any]]:
    """Each argument of the op of ``ctx``: its name, its node, and for a constant argument (an
    index, a target) its value, which ctx keeps under the argument's name or in ``arguments``."""
    given = getattr(ctx, "arguments", None)
    out = []
    for i, name in enumerate(ctx.fn.inputs):
        parent = ctx[i] if i < len(ctx) else None
        value = None if parent is not None else vars(ctx).get(name, given[i] if given is not None else None)
        out.append((name, parent, value))
    return out


def derivatives(node: Node, names: Names) -> list[tuple[int, Node, str]]:
    """For each input of the op that made ``node`` that needs a gradient: its position, its node
    and the local derivative for people (``derivative``, as a factor)."""
    if node._ctx is None:
        return []
    elementwise = not is_scalar(node)
    return [
        (i, parent, derivative(node, i, names, factor=True, elementwise=elementwise))
        for i, parent in enumerate(node._ctx)
        if parent is not None and parent.requires_grad
    ]


def is_scalar(node: Node) -> bool:
    """Whether a step is about numbers only: the node and every input of its op one number."""
    return all(np.ndim(n.data) == 0 for n in (node, *node.parents))


def derivative(
    node: Node, i: int, names: Names | dict, factor: bool = False, elementwise: bool = False
) -> str:
    """The local derivative of ``node`` with respect to input ``i`` of the op that made it, for
    people: the op's formula in the names shown for its operands (``g`` as dL/d(node)), with the
    numbers its context holds put in (``x**2`` shows 2·x, not n·x^(n−1)). For Tensors, matrix
    products carry the shapes (``Xᵀ (2x3) · dL/dz (3x2)``)."""
    ctx = node._ctx
    fn = ctx.fn
    text = fn.formula[i] if fn.formula else ""
    if not text:
        return f"∂{fn.symbol}/∂{names.get(ctx[i], fn.inputs[i])}"  # an op that gives no formula
    shown = {name: names[p] for name, p in zip(fn.inputs, ctx) if p is not None}
    given = getattr(ctx, "arguments", None)
    # a constant array argument (a target, an index) is shown as its values; an index tuple may
    # mix slices and arrays, which numpy cannot make one array of
    if given is not None:
        shown.update(
            {name: formula.write(formula.ast.Constant(a)) for name, a in zip(fn.inputs, given)
             if not isinstance(a, Node) and (isinstance(a, tuple) or np.ndim(a) > 0)}
        )  # fmt: skip
    gradient = names.d(node) if isinstance(names, Names) else f"dL/d({names[node]})"
    shown.update(out=names[node], g=gradient)
    constants = {
        k: v for k, v in vars(ctx).items() if isinstance(v, numbers.Real) and not isinstance(v, bool)
    }
    for name, parent, value in arguments(ctx):  # a number given to the op: [t < 1.5], not [t < y]
        if parent is None and isinstance(value, numbers.Real) and not isinstance(value, bool):
            constants[name] = float(value)
    shapes = None
    if elementwise and "g" in formula.names(text):
        shapes = {name: show.shape(p.data) for name, p in zip(fn.inputs, ctx) if p is not None}
        shapes["g"] = show.shape(node.data)
    return formula.render(text, shown, constants, factor, elementwise, shapes)
