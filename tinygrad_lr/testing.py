"""Hypothesis strategies and one-call checks for people who add ops.

An op says where it is tested. The common elementwise case declares a ``domain``: one
``Domain`` per differentiable input (where to draw its values) and one ``Choice`` per constant
argument; from it this module draws Python floats for Values and arrays of broadcastable shapes
for Tensors. An op with arguments of another kind (an axis, a shape, an index, matrices that
must align) names an argument pattern of ``PATTERNS`` instead (``domain = "axis"``).

Then ``check_op`` compares first and second derivatives with finite differences,
``check_reference`` the forward with the op's independent ``reference``, ``check_formula`` the
derivative formula with backward, and ``check_float32`` that float32 stays float32::

    from hypothesis import given
    from tinygrad_lr import testing

    @given(testing.value_arguments(MyOp))
    def test_my_op_on_values(args):
        testing.check_op(MyOp, args)

To have the project's own registry-wide property tests cover ops defined in your files, name
those files (or modules) in ``TINYGRAD_LR_OPS`` when you run them: ``load_user_ops`` imports
them before the tests read the registry::

    TINYGRAD_LR_OPS=my_ops.py make test

Needs the ``hypothesis`` package (``pip install -e '.[dev]'``).
"""

from __future__ import annotations

import functools
import math
from typing import Any

import numpy as np
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

from .check import gradcheck, gradgradcheck, load_user_ops
from .core import formula
from .core.engine import Node
from .core.function import Choice, Domain, Function
from .core.tensor import Tensor
from .core.value import Value

__all__ = [
    "PATTERNS",
    "arrays",
    "axes",
    "broadcast_targets",
    "check_float32",
    "check_formula",
    "check_op",
    "check_reference",
    "differentiable",
    "formula_arguments",
    "indices",
    "load_user_ops",
    "matmul_shapes",
    "permutations",
    "reshapes",
    "st",
    "tensor_arguments",
    "value_arguments",
    "values",
]

MAX_SIDE = 3  # small arrays: gradients are checked one element at a time


# --- strategies: the pieces ---------------------------------------------------------------------


def values(domain: Domain) -> st.SearchStrategy[float]:
    """Floats from ``domain``: inside [low, high], at least ``margin`` from each avoided point."""
    points = _points(domain)
    floats = _floats(domain)
    if not points:
        return floats
    return floats.filter(lambda x: all(abs(x - a) >= domain.margin for a in points))


_ANYWHERE = Domain()


def arrays(dtype: Any = np.float64, shape: Any = None, domain: Domain = _ANYWHERE) -> st.SearchStrategy:
    """Arrays of ``dtype`` with values from ``domain``, of ``shape`` (a shape, a strategy of
    shapes, or None: any shape of up to 3 dimensions of up to 3 elements)."""
    return hnp.arrays(dtype, _shapes() if shape is None else shape, elements=values(domain).map(dtype))


def axes(shape: tuple) -> st.SearchStrategy[tuple[int, ...]]:
    """Some axes of an array of ``shape``, sorted (none, some or all)."""
    ndim = len(shape)
    return st.sets(st.integers(0, max(ndim - 1, 0)), max_size=ndim).map(lambda s: tuple(sorted(s)))


def reshapes(shape: tuple) -> st.SearchStrategy[tuple[int, ...]]:
    """Shapes with the same number of elements as ``shape`` (one may be -1)."""
    size = math.prod(shape)
    return st.sampled_from([(size,), (-1,), shape[::-1], (1, size), (*shape, 1), (size, 1, 1)])


def permutations(shape: tuple) -> st.SearchStrategy[tuple[int, ...] | None]:
    """An order of the axes of ``shape`` (None: reversed)."""
    return st.one_of(st.none(), st.permutations(range(len(shape))).map(tuple))


def broadcast_targets(shape: tuple) -> st.SearchStrategy[tuple[int, ...]]:
    """Shapes that an array of ``shape`` broadcasts to: axes added in front, 1s grown."""
    return st.tuples(
        st.lists(st.integers(1, MAX_SIDE), max_size=2),
        st.tuples(*(st.integers(1, MAX_SIDE) if n == 1 else st.just(n) for n in shape)),
    ).map(lambda parts: (*parts[0], *parts[1]))


def indices(shape: tuple) -> st.SearchStrategy:
    """Anything ``x[index]`` takes for an array of ``shape``: slices, integers, ellipsis and new
    axes, integer arrays, boolean masks."""
    options = [hnp.basic_indices(shape, min_dims=0, allow_newaxis=True, allow_ellipsis=True)]
    if shape:
        options += [hnp.integer_array_indices(shape), hnp.arrays(np.bool_, shape)]
    return st.one_of(*options)


def matmul_shapes(max_dims: int = 4) -> st.SearchStrategy[list[tuple[int, ...]]]:
    """Two shapes that ``x @ y`` takes (1-D, 2-D, batched with broadcasting)."""
    return hnp.mutually_broadcastable_shapes(
        signature=np.matmul.signature, max_dims=max_dims, min_side=1, max_side=MAX_SIDE
    ).map(lambda found: list(found.input_shapes))


def _shapes(min_dims: int = 0) -> st.SearchStrategy[tuple[int, ...]]:
    """A shape of ``min_dims`` to 3 dimensions of 1 to ``MAX_SIDE`` elements each."""
    return hnp.array_shapes(min_dims=min_dims, max_dims=3, min_side=1, max_side=MAX_SIDE)


def _broadcastable(n: int) -> st.SearchStrategy[list[tuple[int, ...]]]:
    """``n`` such shapes that broadcast together."""
    found = hnp.mutually_broadcastable_shapes(num_shapes=n, max_dims=3, max_side=MAX_SIDE)
    return found.map(lambda found: list(found.input_shapes))


def _floats(domain: Domain) -> st.SearchStrategy[float]:
    return st.floats(domain.low, domain.high, allow_nan=False, allow_infinity=False)


def _points(spec: Domain | Choice) -> list[float]:
    """The points (poles, kinks) that ``spec`` keeps its values away from."""
    return [a for a in getattr(spec, "avoid", ()) if not isinstance(a, str)]


def _ties(spec: Domain | Choice) -> list[str]:
    """The inputs, by name, that ``spec`` keeps its values away from."""
    return [a for a in getattr(spec, "avoid", ()) if isinstance(a, str)]


# --- argument patterns, named by an op's ``domain`` -----------------------------------------------


def _with(part: Any, *more: st.SearchStrategy, min_dims: int = 0) -> Any:
    """The pattern of arguments (x, part(x.shape), *more) for an array x."""
    return lambda dtype: arrays(dtype, _shapes(min_dims)).flatmap(
        lambda x: st.tuples(st.just(x), part(x.shape), *more)
    )


def _one_axis(shape: tuple) -> st.SearchStrategy[int]:
    return st.integers(-len(shape), len(shape) - 1)


@st.composite
def _extremum(draw: Any, dtype: Any) -> tuple:
    # distinct values a quarter apart: no ties, where a finite difference is meaningless
    quarters = st.integers(-40, 40).map(lambda k: k / 4)
    x = draw(hnp.arrays(dtype, _shapes(), elements=quarters, unique=True))
    axis = [st.none(), axes(x.shape)] + ([st.integers(0, x.ndim - 1)] if x.ndim else [])
    return x, draw(st.one_of(axis)), draw(st.booleans())


@st.composite
def _matmul(draw: Any, dtype: Any, bias: bool = False) -> tuple:
    """x @ w, and with ``bias`` a b that broadcasts to the product's shape."""
    shapes = draw(matmul_shapes(max_dims=3 if bias else 4))
    if bias:
        product = (np.zeros(shapes[0]) @ np.zeros(shapes[1])).shape
        suffix = product[len(product) - draw(st.integers(0, len(product))) :]
        shapes.append(tuple(draw(st.sampled_from((1, n))) for n in suffix))
    return tuple(draw(arrays(dtype, shape)) for shape in shapes)


@st.composite
def _scatter_add(draw: Any, dtype: Any) -> tuple:
    """Values for x[index], the index, and x's shape."""
    shape = draw(_shapes(min_dims=1))
    index = draw(indices(shape))
    return draw(arrays(dtype, np.zeros(shape)[index].shape)), index, shape


@st.composite
def _where(draw: Any, dtype: Any) -> tuple:
    """A condition, and the values taken where it holds and where it does not."""
    if dtype is None:  # on Values
        return draw(st.booleans()), draw(values(_ANYWHERE)), draw(values(_ANYWHERE))
    condition, *shapes = draw(_broadcastable(3))
    return draw(hnp.arrays(np.bool_, condition)), *(draw(arrays(dtype, shape)) for shape in shapes)


@st.composite
def _cat(draw: Any, dtype: Any) -> tuple:
    """Two arrays that differ in length along one axis, and that axis."""
    shape = draw(_shapes(min_dims=1))
    axis = draw(st.integers(0, len(shape) - 1))
    other = (*shape[:axis], draw(st.integers(0, MAX_SIDE)), *shape[axis + 1 :])
    return draw(arrays(dtype, shape)), draw(arrays(dtype, other)), axis


@st.composite
def _cross_entropy(draw: Any, dtype: Any) -> tuple:
    """Logits, target probabilities of the same shape, and a reduction."""
    shape = draw(_shapes(min_dims=1))
    target = draw(arrays(dtype, shape, Domain(0.0, 1.0)))
    return draw(arrays(dtype, shape)), target, draw(st.sampled_from(("mean", "sum", "none")))


PATTERNS: dict[str, Any] = {
    "axis": _with(_one_axis, min_dims=1),  # an array, and one of its axes (negative ones too)
    "reduction": _with(axes, st.booleans()),  # an array, some of its axes, keepdims
    "extremum": _extremum,  # a reduction of distinct values (max, min), axis None, int or tuple
    "reshape": _with(reshapes),
    "transpose": _with(permutations),
    "broadcast": _with(broadcast_targets),
    "index": _with(indices),
    "matmul": _matmul,
    "linear": functools.partial(_matmul, bias=True),
    "scatter_add": _scatter_add,
    "where": _where,
    "cat": _cat,
    "cross_entropy": _cross_entropy,
}
"""Argument patterns by name, for the ops whose ``domain`` names one: each maps a dtype to a
hypothesis strategy of argument tuples (dtype None: for Values, where the op takes them); the
floats and floating-point arrays among them are the inputs to differentiate. A test file may
add patterns of its own, for ops of a new kind."""


# --- strategies: an op's arguments ----------------------------------------------------------------


def value_arguments(fn: type[Function]) -> st.SearchStrategy[tuple]:
    """One argument per input of ``fn`` as Python numbers, drawn from its ``domain``.

    Raises ValueError if the op declares no domain, or one of the wrong length: an op without a
    domain cannot be property-tested on Values, and the registry-wide tests fail on it.
    """
    if fn.tensor_only:
        raise ValueError(f"op {fn.name!r} works on Tensors only; use tensor_arguments")
    return _arguments(fn, None)


def formula_arguments(fn: type[Function]) -> st.SearchStrategy[tuple]:
    """Like ``value_arguments``, but reaching the points a finite difference must avoid (a
    kink, a tie between two inputs): a derivative formula has to be right there too."""
    if fn.tensor_only:
        return value_arguments(fn)
    return _arguments(fn, None, at_kinks=True)


def tensor_arguments(fn: type[Function], dtype: Any = np.float64) -> st.SearchStrategy[tuple]:
    """One argument per input of ``fn``: the pattern its ``domain`` names (see ``PATTERNS``); else
    arrays of ``dtype`` of mutually broadcastable shapes for its Domain inputs, and its Choice
    constants."""
    return _arguments(fn, dtype)


def _arguments(fn: type[Function], dtype: Any, at_kinks: bool = False) -> st.SearchStrategy[tuple]:
    """``fn``'s arguments (``dtype`` None: numbers), checking its ``domain`` before any is drawn."""
    if isinstance(fn.domain, str):
        if fn.domain not in PATTERNS:
            raise ValueError(
                f"op {fn.name!r}: domain {fn.domain!r} names no argument pattern; "
                f"tinygrad_lr.testing.PATTERNS has {', '.join(PATTERNS)}"
            )
        return PATTERNS[fn.domain](dtype)
    if fn.domain is None or len(fn.domain) != len(fn.inputs):
        raise ValueError(
            f"op {fn.name!r} ({fn.__qualname__}) needs a test domain: set the class attribute "
            f"domain = (...) with one tg.Domain(low, high, avoid=...) or tg.Choice(values) per input "
            f"of forward {fn.inputs}, or the name of an argument pattern (tinygrad_lr.testing.PATTERNS: "
            f"{', '.join(PATTERNS)}); it has domain {fn.domain!r}"
        )
    for spec in fn.domain:
        if not isinstance(spec, (Domain, Choice)):
            raise TypeError(f"op {fn.name!r}: domain entries must be Domain or Choice, got {spec!r}")
    drawn = _by_domain(fn, dtype, at_kinks)
    return drawn if at_kinks else drawn.filter(lambda args: _apart(fn, args))


@st.composite
def _by_domain(draw: Any, fn: type[Function], dtype: Any, at_kinks: bool) -> tuple:
    """An argument per entry of ``fn.domain``: a Choice's constant; for a Domain an array of
    ``dtype`` (the arrays' shapes broadcast together), or a number, ``at_kinks`` one that may be
    an avoided point, or a tie with an avoided input."""
    n_arrays = sum(isinstance(spec, Domain) for spec in fn.domain)
    shapes = iter(draw(_broadcastable(n_arrays))) if dtype is not None else None
    args = []
    for spec in fn.domain:
        if isinstance(spec, Choice):
            args.append(draw(st.sampled_from(spec.values)))
        elif shapes is not None:
            args.append(draw(arrays(dtype, next(shapes), spec)))
        elif at_kinks:
            # three decimals: a formula is checked where it matters, not at 1e-300 of a pole
            near = _floats(spec).map(lambda v: round(v, 3))
            points = _points(spec)
            args.append(draw(st.one_of(st.sampled_from(points), near) if points else near))
        else:
            args.append(draw(values(spec)))
    for k, spec in enumerate(fn.domain if at_kinks else ()):  # a tie with the input it keeps away from
        for name in _ties(spec):
            if draw(st.booleans()):
                args[k] = args[fn.inputs.index(name)]
    return tuple(args)


def _apart(fn: type[Function], args: tuple) -> bool:
    """Whether inputs keep the distance their domains ask from other inputs (``avoid=("x",)``)."""
    for spec, arg in zip(fn.domain, args):
        for name in _ties(spec):
            other = args[fn.inputs.index(name)]
            if np.any(np.abs(np.subtract(arg, other, dtype=np.float64)) < spec.margin):
                return False
    return True


# --- checks ---------------------------------------------------------------------------------------


def differentiable(fn: type[Function], args: tuple) -> list[bool]:
    """Which arguments are inputs to differentiate: the Domain ones, or (for an op whose domain
    names a pattern) the floating-point arrays."""
    if not isinstance(fn.domain, str):
        return [isinstance(spec, Domain) for spec in fn.domain]
    return [type(a) is float or (isinstance(a, np.ndarray) and a.dtype.kind == "f") for a in args]


def _nodes(fn: type[Function], args: tuple) -> tuple[list, list]:
    """The arguments with the differentiable ones as nodes that require grad (Tensors if any of
    them is an array, else Values), and those nodes."""
    marks = differentiable(fn, args)
    tensors = any(isinstance(a, np.ndarray) for a, m in zip(args, marks) if m)
    node = Tensor if tensors else Value
    nodes = [node(a, requires_grad=True, label=name) for a, name, m in zip(args, fn.inputs, marks) if m]
    return _placed(args, marks, nodes), nodes


def _placed(args: tuple, marks: list[bool], nodes: Any) -> list:
    """``args`` with the marked ones replaced by ``nodes``, in order."""
    nodes = iter(nodes)
    return [next(nodes) if m else a for a, m in zip(args, marks)]


def check_op(fn: type[Function], args: tuple, *, second_order: bool = True, **tolerances: Any) -> None:
    """Check ``fn``'s gradients at ``args`` against central differences: first derivatives
    (``gradcheck``) and, unless ``second_order=False``, second derivatives through
    ``create_graph=True`` (``gradgradcheck``). Float arguments become Values; arrays become
    Tensors, and the output is reduced with a fixed random upstream gradient. Raises
    ``GradcheckError`` on a mismatch."""
    marks = differentiable(fn, args)
    mixed, nodes = _nodes(fn, args)
    upstream = None
    if isinstance(nodes[0], Tensor):
        upstream = np.random.default_rng(0).uniform(0.5, 1.5, np.shape(fn.apply(*mixed).data))

    def call(*xs: Node) -> Node:
        out = fn.apply(*_placed(args, marks, xs))
        return out if upstream is None else (out * upstream).sum()

    gradcheck(call, nodes, **tolerances)
    if second_order:
        gradgradcheck(call, nodes, **tolerances)


def check_reference(fn: type[Function], args: tuple, rtol: float = 1e-10, atol: float = 1e-12) -> None:
    """Check the op's forward against its ``reference``, an independent implementation of the
    same function (numpy's, or a few lines of it): a forward and a backward that are wrong
    together pass every gradient check, but not this one."""
    if fn.reference is None:
        raise AssertionError(
            f"{fn.name}: no reference; set reference = <numpy function of forward's arguments>"
        )
    got = np.asarray(fn.apply(*args), dtype=np.float64)
    with np.errstate(all="ignore"):
        expected = np.asarray(fn.reference(*args), dtype=np.float64)
    if got.shape != expected.shape or not np.allclose(got, expected, rtol=rtol, atol=atol, equal_nan=True):
        raise AssertionError(
            f"{fn.name}: forward disagrees with the reference at {args!r:.200}: got {got!r:.120}, "
            f"expected {expected!r:.120}"
        )


def check_formula(fn: type[Function], args: tuple, rtol: float = 1e-9, atol: float = 1e-12) -> None:
    """Check the op's derivative ``formula`` against its backward at ``args``: each input's text,
    evaluated with forward's arguments, ``out``, the context's attributes and ``g``, must give
    what backward sends that input (for a formula without ``g``: for a gradient of ones)."""
    if not fn.formula:
        raise AssertionError(f"{fn.name}: no formula; set formula = (one text per input of forward)")
    mixed, _ = _nodes(fn, args)
    out = fn.apply(*mixed)
    ctx = out._ctx
    raw = {name: getattr(a, "data", a) for name, a in zip(fn.inputs, mixed)}
    random = np.random.default_rng(1).uniform(0.5, 1.5, np.shape(out.data))
    ones = np.ones_like(out.data) if isinstance(out.data, np.ndarray) else 1.0
    for i, (text, a) in enumerate(zip(fn.formula, mixed)):
        if not isinstance(a, Node):
            if text:
                raise AssertionError(
                    f"{fn.name}: input {i} ({fn.inputs[i]}) is constant, but has formula {text!r}"
                )
            continue
        g = (random if isinstance(a, Tensor) else 1.3) if "g" in formula.names(text) else ones
        expected = fn.backward(ctx, g)
        expected = (expected if isinstance(expected, tuple) else (expected,))[i]
        got = formula.evaluate(text, {**raw, **vars(ctx), "out": out.data, "g": g})
        got, expected = np.broadcast_arrays(np.asarray(got, np.float64), np.asarray(expected, np.float64))
        if not np.allclose(got, expected, rtol=rtol, atol=atol, equal_nan=True):
            raise AssertionError(
                f"{fn.name}: the formula {text!r} for input {i} ({fn.inputs[i]}) gives {got!r:.120}, "
                f"but backward sends {expected!r:.120} (at {args!r:.200})"
            )


def check_float32(fn: type[Function], args: tuple) -> None:
    """Check that ``fn`` keeps float32 arrays float32: its output and every input's gradient."""
    marks = differentiable(fn, args)
    inputs, nodes = _nodes(fn, [np.asarray(a, np.float32) if m else a for a, m in zip(args, marks)])
    out = fn.apply(*inputs)
    if out.dtype != np.float32:
        raise AssertionError(f"{fn.name}: float32 inputs gave a {out.dtype} output")
    (out * 1.5).sum().backward()
    for i, x in enumerate(nodes):
        if x.grad.dtype != np.float32 or x.grad.shape != x.shape:
            raise AssertionError(f"{fn.name}: input {i} got a gradient of {x.grad.dtype} {x.grad.shape}")
