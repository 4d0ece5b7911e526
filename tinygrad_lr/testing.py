"""Hypothesis strategies and one-call gradient checks for people who add ops.

Every registered op declares a ``domain`` (one ``Domain`` or ``Choice`` per input); from it this
module draws arguments and checks first and second derivatives against finite differences::

    from hypothesis import given
    from tinygrad_lr import testing

    @given(testing.op_arguments(MyOp))
    def test_my_op(args):
        testing.check_op(MyOp, args)

Needs the ``hypothesis`` package (``pip install tinygrad_lr[dev]``).
"""

from __future__ import annotations

from typing import Any

from hypothesis import strategies as st

from .check import gradcheck, gradgradcheck
from .function import Choice, Domain, Function
from .value import Value


def values(domain: Domain) -> st.SearchStrategy[float]:
    """Floats from ``domain``: inside [low, high], at least ``margin`` from each avoided point."""
    floats = st.floats(domain.low, domain.high, allow_nan=False, allow_infinity=False)
    if not domain.avoid:
        return floats
    return floats.filter(lambda x: all(abs(x - a) >= domain.margin for a in domain.avoid))


def op_arguments(fn: type[Function]) -> st.SearchStrategy[tuple]:
    """One argument per input of ``fn``, drawn from its declared ``domain``.

    Raises ValueError if the op declares no domain, or one of the wrong length: an op without a
    domain cannot be property-tested, and the registry-wide tests fail on it.
    """
    domain = fn.domain
    if domain is None or len(domain) != len(fn.inputs):
        raise ValueError(
            f"op {fn.name!r} ({fn.__qualname__}) needs a test domain: set the class attribute "
            f"domain = (...) with one tg.Domain(low, high, avoid=...) or tg.Choice(values) per "
            f"input of forward {fn.inputs}; it has {domain!r}"
        )
    parts = []
    for spec in domain:
        if isinstance(spec, Domain):
            parts.append(values(spec))
        elif isinstance(spec, Choice):
            parts.append(st.sampled_from(spec.values))
        else:
            raise TypeError(f"op {fn.name!r}: domain entries must be Domain or Choice, got {spec!r}")
    return st.tuples(*parts)


def differentiable(fn: type[Function]) -> tuple[bool, ...]:
    """For each input of ``fn``, whether it is differentiated (a Domain) or a constant (a Choice)."""
    return tuple(isinstance(spec, Domain) for spec in fn.domain)


def check_op(fn: type[Function], args: tuple, *, second_order: bool = True, **tolerances: Any) -> None:
    """Check ``fn``'s gradients at ``args`` against central differences on Values: first
    derivatives (``gradcheck``) and, unless ``second_order=False``, second derivatives through
    ``create_graph=True`` (``gradgradcheck``). Raises ``GradcheckError`` on a mismatch."""
    marks = differentiable(fn)
    nodes = [Value(a, label=name) for a, name, m in zip(args, fn.inputs, marks) if m]

    def call(*xs: Value) -> Value:
        it = iter(xs)
        return fn.apply(*(next(it) if m else a for a, m in zip(args, marks)))

    gradcheck(call, nodes, **tolerances)
    if second_order:
        gradgradcheck(call, nodes, **tolerances)
