"""Hypothesis strategies and one-call checks for people who add ops.

An op says where it is tested. The common elementwise case declares a ``domain``: one
``Domain`` per differentiable input (where to draw its values) and one ``Choice`` per constant
argument; from it this module draws Python floats for Values and arrays of broadcastable shapes
for Tensors. An op with arguments of another kind (an axis, a shape, an index, matrices that
must align) names an argument pattern of ``PATTERNS`` instead (``domain = "axis"``); a test
file can add patterns of its own there, built from the pieces here (``arrays``, ``axes``, ...).

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

import importlib
import importlib.util
import math
import os
from pathlib import Path
from typing import Any

import numpy as np
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

from .check import gradcheck, gradgradcheck
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
    floats = st.floats(domain.low, domain.high, allow_nan=False, allow_infinity=False)
    points = [a for a in domain.avoid if not isinstance(a, str)]
    if not points:
        return floats
    return floats.filter(lambda x: all(abs(x - a) >= domain.margin for a in points))


_ANYWHERE = Domain()


def arrays(dtype: Any = np.float64, shape: Any = None, domain: Domain = _ANYWHERE) -> st.SearchStrategy:
    """Arrays of ``dtype`` with values from ``domain``, of ``shape`` (a shape, a strategy of
    shapes, or None: any shape of up to 3 dimensions of up to 3 elements)."""
    if shape is None:
        shape = hnp.array_shapes(min_dims=0, max_dims=3, min_side=1, max_side=MAX_SIDE)
    return hnp.arrays(dtype, shape, elements=values(domain).map(dtype))


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


# --- strategies: whole argument lists, named by an op's ``domain`` --------------------------------


def _axis(dtype: Any) -> st.SearchStrategy[tuple]:
    shapes = hnp.array_shapes(min_dims=1, max_dims=3, min_side=1, max_side=MAX_SIDE)
    return arrays(dtype, shapes).flatmap(lambda x: st.tuples(st.just(x), st.integers(-x.ndim, x.ndim - 1)))


def _extremum(dtype: Any) -> st.SearchStrategy[tuple]:
    # distinct values a quarter apart: no ties, where a finite difference is meaningless
    quarters = st.integers(-40, 40).map(lambda k: k / 4)
    shapes = hnp.array_shapes(min_dims=0, max_dims=3, min_side=1, max_side=MAX_SIDE)
    unique = shapes.flatmap(lambda shape: hnp.arrays(dtype, shape, elements=quarters, unique=True))

    def axis_for(x):
        options = [st.none(), axes(x.shape)] + ([st.integers(0, x.ndim - 1)] if x.ndim else [])
        return st.tuples(st.just(x), st.one_of(options), st.booleans())

    return unique.flatmap(axis_for)


def _linear(dtype: Any) -> st.SearchStrategy[tuple]:
    @st.composite
    def draw(draw_from):  # x @ w, and a b that broadcasts to the product's shape
        x_shape, w_shape = draw_from(matmul_shapes(max_dims=3))
        product = (np.zeros(x_shape) @ np.zeros(w_shape)).shape
        suffix = product[len(product) - draw_from(st.integers(0, len(product))) :]
        b_shape = tuple(draw_from(st.sampled_from((1, n))) for n in suffix)
        return tuple(draw_from(arrays(dtype, s)) for s in (x_shape, w_shape, b_shape))

    return draw()


def _scatter_add(dtype: Any) -> st.SearchStrategy[tuple]:
    @st.composite
    def draw(draw_from):  # values for x[index], the index, and x's shape
        shape = draw_from(st.lists(st.integers(1, 3), min_size=1, max_size=3).map(tuple))
        index = draw_from(indices(shape))
        return draw_from(arrays(dtype, np.zeros(shape)[index].shape)), index, shape

    return draw()


def _where(dtype: Any) -> st.SearchStrategy[tuple]:
    if dtype is None:  # on Values
        return st.tuples(st.booleans(), values(_ANYWHERE), values(_ANYWHERE))
    shapes = hnp.mutually_broadcastable_shapes(num_shapes=3, min_dims=0, max_dims=3, max_side=MAX_SIDE)
    return shapes.flatmap(
        lambda found: st.tuples(
            hnp.arrays(np.bool_, found.input_shapes[0]),
            arrays(dtype, found.input_shapes[1]),
            arrays(dtype, found.input_shapes[2]),
        )
    )


def _cat(dtype: Any) -> st.SearchStrategy[tuple]:
    @st.composite
    def draw(draw_from):  # two arrays that differ in length along one axis, and that axis
        shape = draw_from(st.lists(st.integers(1, 3), min_size=1, max_size=3))
        axis = draw_from(st.integers(0, len(shape) - 1))
        other = list(shape)
        other[axis] = draw_from(st.integers(0, 3))
        return draw_from(arrays(dtype, tuple(shape))), draw_from(arrays(dtype, tuple(other))), axis

    return draw()


def _cross_entropy(dtype: Any) -> st.SearchStrategy[tuple]:
    shapes = hnp.array_shapes(min_dims=1, max_dims=3, min_side=1, max_side=MAX_SIDE)
    return shapes.flatmap(
        lambda shape: st.tuples(
            arrays(dtype, shape),
            arrays(dtype, shape, Domain(0.0, 1.0)),
            st.sampled_from(("mean", "sum", "none")),
        )
    )


def _with(part: Any, *more: st.SearchStrategy) -> Any:
    """Arguments (x, part(x.shape), *more) for an array x of any shape."""
    return lambda dtype: arrays(dtype).flatmap(lambda x: st.tuples(st.just(x), part(x.shape), *more))


PATTERNS: dict[str, Any] = {
    "axis": _axis,  # an array of at least one dimension, and one of its axes (negative ones too)
    "reduction": _with(axes, st.booleans()),  # an array, some of its axes, keepdims
    "extremum": _extremum,  # a reduction of distinct values (max, min), axis None, int or tuple
    "reshape": _with(reshapes),
    "transpose": _with(permutations),
    "broadcast": _with(broadcast_targets),
    "index": _with(indices),
    "matmul": lambda dtype: matmul_shapes().flatmap(
        lambda shapes: st.tuples(*(arrays(dtype, s) for s in shapes))
    ),
    "linear": _linear,
    "scatter_add": _scatter_add,
    "where": _where,
    "cat": _cat,
    "cross_entropy": _cross_entropy,
}
"""Argument patterns by name: an op whose arguments are not numbers drawn from ranges (an axis,
a shape, matrices that align) names one as its ``domain`` (``domain = "axis"``). Each entry maps
a dtype to a hypothesis strategy of argument tuples (dtype None: for Values, where the op takes
them); the floats and floating-point arrays among them are the inputs to differentiate. A test
file may add patterns of its own, for ops of a new kind."""


# --- strategies: an op's arguments ----------------------------------------------------------------


def value_arguments(fn: type[Function]) -> st.SearchStrategy[tuple]:
    """One argument per input of ``fn`` as Python numbers, drawn from its ``domain``.

    Raises ValueError if the op declares no domain, or one of the wrong length: an op without a
    domain cannot be property-tested on Values, and the registry-wide tests fail on it.
    """
    if fn.tensor_only:
        raise ValueError(f"op {fn.name!r} works on Tensors only; use tensor_arguments")
    if isinstance(fn.domain, str):
        return _pattern(fn)(None)
    domain = _domain(fn)
    parts = [values(spec) if isinstance(spec, Domain) else st.sampled_from(spec.values) for spec in domain]
    return st.tuples(*parts).filter(lambda args: _apart(fn, args))


def formula_arguments(fn: type[Function]) -> st.SearchStrategy[tuple]:
    """Like ``value_arguments``, but reaching the points a finite difference must avoid (a
    kink, a tie between two inputs): a derivative formula has to be right there too."""
    if isinstance(fn.domain, str):
        return value_arguments(fn)
    domain = _domain(fn)
    parts = []
    for spec in domain:
        if isinstance(spec, Domain):
            points = [a for a in spec.avoid if not isinstance(a, str)]
            # three decimals: a formula is checked where it matters, not at 1e-300 of a pole
            near = st.floats(spec.low, spec.high, allow_nan=False, allow_infinity=False).map(
                lambda v: round(v, 3)
            )
            parts.append(st.one_of(st.sampled_from(points), near) if points else near)
        else:
            parts.append(st.sampled_from(spec.values))

    @st.composite
    def draw(draw_from):
        args = list(draw_from(st.tuples(*parts)))
        for k, spec in enumerate(domain):  # a tie with the input it keeps away from, at times
            for name in (a for a in getattr(spec, "avoid", ()) if isinstance(a, str)):
                if draw_from(st.booleans()):
                    args[k] = args[fn.inputs.index(name)]
        return tuple(args)

    return draw()


def tensor_arguments(fn: type[Function], dtype: Any = np.float64) -> st.SearchStrategy[tuple]:
    """One argument per input of ``fn``: the pattern its ``domain`` names (see ``PATTERNS``); else
    arrays of ``dtype`` of mutually broadcastable shapes for its Domain inputs, and its Choice
    constants."""
    if isinstance(fn.domain, str):
        return _pattern(fn)(dtype)
    domain = _domain(fn)
    n_arrays = sum(isinstance(spec, Domain) for spec in domain)
    shapes = hnp.mutually_broadcastable_shapes(
        num_shapes=n_arrays, min_dims=0, max_dims=3, min_side=1, max_side=MAX_SIDE
    )

    @st.composite
    def draw(draw_from):
        found = list(draw_from(shapes).input_shapes)
        args = []
        for spec in domain:
            if isinstance(spec, Domain):
                args.append(draw_from(arrays(dtype, found.pop(0), spec)))
            else:
                args.append(draw_from(st.sampled_from(spec.values)))
        return tuple(args)

    return draw().filter(lambda args: _apart(fn, args))


def _pattern(fn: type[Function]) -> Any:
    if fn.domain not in PATTERNS:
        raise ValueError(
            f"op {fn.name!r}: domain {fn.domain!r} names no argument pattern; "
            f"tinygrad_lr.testing.PATTERNS has {', '.join(PATTERNS)}"
        )
    return PATTERNS[fn.domain]


def _domain(fn: type[Function]) -> tuple:
    domain = fn.domain
    if domain is None or len(domain) != len(fn.inputs):
        raise ValueError(
            f"op {fn.name!r} ({fn.__qualname__}) needs a test domain: set the class attribute "
            f"domain = (...) with one tg.Domain(low, high, avoid=...) or tg.Choice(values) per input "
            f"of forward {fn.inputs}, or the name of an argument pattern (tinygrad_lr.testing.PATTERNS: "
            f"{', '.join(PATTERNS)}); it has domain {domain!r}"
        )
    for spec in domain:
        if not isinstance(spec, (Domain, Choice)):
            raise TypeError(f"op {fn.name!r}: domain entries must be Domain or Choice, got {spec!r}")
    return domain


def _apart(fn: type[Function], args: tuple) -> bool:
    """Whether inputs keep the distance their domains ask from other inputs (``avoid=("x",)``)."""
    for spec, arg in zip(fn.domain or (), args):
        if isinstance(spec, Domain):
            for name in (a for a in spec.avoid if isinstance(a, str)):
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
    """The arguments with the differentiable ones as nodes that require grad, and those nodes."""
    marks = differentiable(fn, args)
    arrays_given = any(isinstance(a, np.ndarray) for a, m in zip(args, marks) if m)
    mixed, nodes = [], []
    for a, name, m in zip(args, fn.inputs, marks):
        if m:
            node = Tensor(a, requires_grad=True, label=name) if arrays_given else Value(a, label=name)
            nodes.append(node)
            mixed.append(node)
        else:
            mixed.append(a)
    return mixed, nodes


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
        it = iter(xs)
        out = fn.apply(*(next(it) if m else a for a, m in zip(args, marks)))
        return out if upstream is None else (out * upstream).sum()

    gradcheck(call, nodes, **tolerances)
    if second_order:
        gradgradcheck(call, nodes, **tolerances)


def check_reference(fn: type[Function], args: tuple, rtol: float = 1e-10, atol: float = 1e-12) -> None:
    """Check the op's forward against its ``reference``, an independent implementation of the
    same function (numpy's, or a few lines of it): a forward and a backward that are wrong
    together pass every gradient check, but not this one."""
    reference = getattr(fn, "reference", None)
    if reference is None:
        raise AssertionError(
            f"{fn.name}: no reference; set reference = <numpy function of forward's arguments>"
        )
    got = np.asarray(fn.apply(*args), dtype=np.float64)
    with np.errstate(all="ignore"):
        expected = np.asarray(reference(*args), dtype=np.float64)
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
    for i, (text, a) in enumerate(zip(fn.formula, mixed)):
        if not isinstance(a, Node):
            if text:
                raise AssertionError(
                    f"{fn.name}: input {i} ({fn.inputs[i]}) is constant, but has formula {text!r}"
                )
            continue
        uses_g = "g" in formula.names(text)
        g = (random if isinstance(a, Tensor) else 1.3) if uses_g else _ones_like(out.data)
        expected = fn.backward(ctx, g)
        expected = (expected if isinstance(expected, tuple) else (expected,))[i]
        got = formula.evaluate(text, {**raw, **vars(ctx), "out": out.data, "g": g})
        got, expected = np.broadcast_arrays(np.asarray(got, np.float64), np.asarray(expected, np.float64))
        if not np.allclose(got, expected, rtol=rtol, atol=atol, equal_nan=True):
            raise AssertionError(
                f"{fn.name}: the formula {text!r} for input {i} ({fn.inputs[i]}) gives {got!r:.120}, "
                f"but backward sends {expected!r:.120} (at {args!r:.200})"
            )


def _ones_like(data: Any) -> Any:
    return np.ones_like(data) if isinstance(data, np.ndarray) else 1.0


def check_float32(fn: type[Function], args: tuple) -> None:
    """Check that ``fn`` keeps float32 arrays float32: its output and every input's gradient."""
    marks = differentiable(fn, args)
    inputs = [Tensor(np.asarray(a, np.float32), requires_grad=True) if m else a for a, m in zip(args, marks)]
    out = fn.apply(*inputs)
    if out.dtype != np.float32:
        raise AssertionError(f"{fn.name}: float32 inputs gave a {out.dtype} output")
    (out * 1.5).sum().backward()
    for i, x in enumerate(inputs):
        if isinstance(x, Tensor) and (x.grad.dtype != np.float32 or x.grad.shape != x.shape):
            raise AssertionError(f"{fn.name}: input {i} got a gradient of {x.grad.dtype} {x.grad.shape}")


def load_user_ops(spec: str | None = None) -> list[str]:
    """Import the op files or modules named in ``spec`` (default: the ``TINYGRAD_LR_OPS``
    environment variable; separated by commas), so that their Functions register themselves.
    Returns what was loaded."""
    spec = os.environ.get("TINYGRAD_LR_OPS", "") if spec is None else spec
    loaded = []
    for item in filter(None, (part.strip() for part in spec.split(","))):
        path = Path(item)
        if path.suffix == ".py":
            if not path.is_file():
                raise FileNotFoundError(f"TINYGRAD_LR_OPS: no file {path}")
            module_spec = importlib.util.spec_from_file_location(f"tinygrad_lr_user_ops.{path.stem}", path)
            module = importlib.util.module_from_spec(module_spec)
            module_spec.loader.exec_module(module)
        else:
            importlib.import_module(item)
        loaded.append(item)
    return loaded
