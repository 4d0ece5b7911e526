"""Hypothesis strategies and one-call gradient checks for people who add ops.

Every registered op declares a ``domain`` (one ``Domain``, ``Choice`` or ``Param`` per input);
from it this module draws arguments, as Python floats for Values and as arrays of broadcastable
shapes for Tensors, and checks first and second derivatives against finite differences::

    from hypothesis import given
    from tinygrad_lr import testing

    @given(testing.value_arguments(MyOp))
    def test_my_op_on_values(args):
        testing.check_op(MyOp, args)

    @given(testing.tensor_arguments(MyOp))
    def test_my_op_on_tensors(args):
        testing.check_op(MyOp, args)

To have the project's own registry-wide property tests cover ops defined in your files, name
those files (or modules) in ``TINYGRAD_LR_OPS`` when you run them: ``load_user_ops`` imports
them before the tests read the registry::

    TINYGRAD_LR_OPS=my_ops.py make test

Needs the ``hypothesis`` package (``pip install tinygrad_lr[dev]``).
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
from .engine import Node
from .function import Choice, Domain, Function, Param
from .tensor import Tensor
from .value import Value

MAX_SIDE = 3  # small arrays: gradients are checked one element at a time


def values(domain: Domain) -> st.SearchStrategy[float]:
    """Floats from ``domain``: inside [low, high], at least ``margin`` from each avoided point."""
    floats = st.floats(domain.low, domain.high, allow_nan=False, allow_infinity=False)
    points = [a for a in domain.avoid if not isinstance(a, str)]
    if not points:
        return floats
    return floats.filter(lambda x: all(abs(x - a) >= domain.margin for a in points))


def _apart(fn: type[Function], args: tuple) -> bool:
    """Whether inputs keep the distance their domains ask from other inputs (``avoid=("x",)``)."""
    for spec, arg in zip(fn.domain, args):
        if isinstance(spec, Domain):
            for name in (a for a in spec.avoid if isinstance(a, str)):
                other = args[fn.inputs.index(name)]
                if np.any(np.abs(np.subtract(arg, other, dtype=np.float64)) < spec.margin):
                    return False
    return True


def _check_domain(fn: type[Function]) -> tuple:
    domain = fn.domain
    if domain is None or len(domain) != len(fn.inputs):
        raise ValueError(
            f"op {fn.name!r} ({fn.__qualname__}) needs a test domain: set the class attribute "
            f"domain = (...) with one tg.Domain(low, high, avoid=...), tg.Choice(values) or "
            f"tg.Param(kind) per input of forward {fn.inputs}; it has {domain!r}"
        )
    for spec in domain:
        if not isinstance(spec, (Domain, Choice, Param)):
            raise TypeError(f"op {fn.name!r}: domain entries must be Domain, Choice or Param, got {spec!r}")
    return domain


def value_arguments(fn: type[Function]) -> st.SearchStrategy[tuple]:
    """One argument per input of ``fn`` as Python numbers, drawn from its ``domain``.

    Raises ValueError if the op declares no domain, or one of the wrong length: an op without a
    domain cannot be property-tested, and the registry-wide tests fail on it.
    """
    domain = _check_domain(fn)
    if fn.tensor_only:
        raise ValueError(f"op {fn.name!r} works on Tensors only; use tensor_arguments")
    parts = []
    for spec in domain:
        if isinstance(spec, Param):
            raise ValueError(
                f"op {fn.name!r}: Param({spec.kind!r}) needs an array input; mark it tensor_only"
            )
        parts.append(values(spec) if isinstance(spec, Domain) else st.sampled_from(spec.values))
    return st.tuples(*parts).filter(lambda args: _apart(fn, args))


def tensor_arguments(fn: type[Function], dtype: Any = np.float64) -> st.SearchStrategy[tuple]:
    """One argument per input of ``fn``: arrays of ``dtype`` (shaped by ``fn.shapes``) for its
    Domain inputs, and constants or shape-derived parameters for the others."""
    domain = _check_domain(fn)

    @st.composite
    def draw_arguments(draw):
        shapes = draw(_shapes(fn, domain))
        args = []
        for spec, shape in zip(domain, shapes):
            if isinstance(spec, Domain):
                args.append(draw(hnp.arrays(dtype, shape, elements=values(spec).map(dtype))))
            elif isinstance(spec, Choice):
                args.append(draw(st.sampled_from(spec.values)))
            else:
                args.append(shape if shape is not None else draw(_param(spec.kind, shapes[0])))
        return tuple(args)

    return draw_arguments().filter(lambda args: _apart(fn, args))


def _shapes(fn: type[Function], domain: tuple) -> st.SearchStrategy[list]:
    n_arrays = sum(isinstance(spec, Domain) for spec in domain)
    if fn.shapes == "matmul":
        shapes = hnp.mutually_broadcastable_shapes(
            signature=np.matmul.signature, max_dims=4, min_side=1, max_side=MAX_SIDE
        ).map(lambda bs: list(bs.input_shapes))
    elif fn.shapes == "linear":
        shapes = _linear_shapes()
    elif fn.shapes == "scatter":
        return _scatter_shapes()
    else:
        shapes = hnp.mutually_broadcastable_shapes(
            num_shapes=n_arrays, min_dims=0, max_dims=3, min_side=1, max_side=MAX_SIDE
        ).map(lambda bs: list(bs.input_shapes))
    return shapes.map(lambda found: [found.pop(0) if isinstance(s, Domain) else None for s in domain])


@st.composite
def _linear_shapes(draw):
    """For linear(x, w, b): matmul shapes for x and w, and a shape that broadcasts to their
    product's for b."""
    found = draw(
        hnp.mutually_broadcastable_shapes(
            signature=np.matmul.signature, max_dims=3, min_side=1, max_side=MAX_SIDE
        )
    )
    out = found.result_shape
    suffix = out[len(out) - draw(st.integers(0, len(out))) :]
    b = tuple(draw(st.sampled_from((1, n))) for n in suffix)
    return [*found.input_shapes, b]


@st.composite
def _scatter_shapes(draw):
    """For scatter_add(g, index, shape): the target shape, an index into it, and g's shape."""
    target = draw(hnp.array_shapes(min_dims=1, max_dims=3, max_side=MAX_SIDE))
    index = draw(_param("index", target))
    return [np.zeros(target)[index].shape, index, target]


def _param(kind: str, shape: tuple) -> st.SearchStrategy:
    ndim = len(shape)
    if kind == "axis":
        return st.sets(st.integers(0, max(ndim - 1, 0)), max_size=ndim).map(lambda s: tuple(sorted(s)))
    if kind == "axes":
        return st.one_of(st.none(), st.permutations(range(ndim)).map(tuple))
    if kind == "shape":
        size = math.prod(shape)
        return st.sampled_from([(size,), (-1,), shape[::-1], (1, size), (*shape, 1), (size, 1, 1)])
    if kind == "broadcast_shape":
        return st.tuples(
            st.lists(st.integers(1, MAX_SIDE), max_size=2),
            st.tuples(*(st.integers(1, MAX_SIDE) if n == 1 else st.just(n) for n in shape)),
        ).map(lambda parts: (*parts[0], *parts[1]))
    if kind == "index":
        options = [hnp.basic_indices(shape, min_dims=0, allow_newaxis=True, allow_ellipsis=True)]
        if ndim:
            options += [hnp.integer_array_indices(shape), hnp.arrays(np.bool_, shape)]
        return st.one_of(*options)
    raise ValueError(f"unknown Param kind {kind!r}: expected axis, axes, shape, broadcast_shape or index")


def check_op(fn: type[Function], args: tuple, *, second_order: bool = True, **tolerances: Any) -> None:
    """Check ``fn``'s gradients at ``args`` against central differences: first derivatives
    (``gradcheck``) and, unless ``second_order=False``, second derivatives through
    ``create_graph=True`` (``gradgradcheck``). Float arguments become Values; arrays become
    Tensors, and the output is reduced with a fixed random upstream gradient. Raises
    ``GradcheckError`` on a mismatch."""
    marks = tuple(isinstance(spec, Domain) for spec in fn.domain)
    arrays = any(isinstance(a, np.ndarray) for a, m in zip(args, marks) if m)
    make = (lambda a, name: Tensor(a, requires_grad=True, label=name)) if arrays else Value
    nodes = [make(a, name) for a, name, m in zip(args, fn.inputs, marks) if m]
    upstream = None
    if arrays:
        with_shape = fn.apply(*args)
        upstream = np.random.default_rng(0).uniform(0.5, 1.5, np.shape(with_shape))

    def call(*xs: Node) -> Node:
        it = iter(xs)
        out = fn.apply(*(next(it) if m else a for a, m in zip(args, marks)))
        return out if upstream is None else (out * upstream).sum()

    gradcheck(call, nodes, **tolerances)
    if second_order:
        gradgradcheck(call, nodes, **tolerances)


def check_float32(fn: type[Function], args: tuple) -> None:
    """Check that ``fn`` keeps float32 arrays float32: its output and every input's gradient."""
    marks = [isinstance(spec, Domain) for spec in fn.domain]
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
