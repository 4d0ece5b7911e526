"""Every registered op, against finite differences: first and second derivatives, on Values
and on Tensors of drawn (broadcast) shapes, and float32 kept as float32.

The tests iterate over the registry, so a new op is tested by being registered; an op without a
test domain fails ``test_every_op_declares_a_domain``."""

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

import tinygrad_lr as tg
from tinygrad_lr import testing
from tinygrad_lr.function import Domain

OPS = sorted(tg.REGISTRY.values(), key=lambda fn: fn.name)
SCALAR_OPS = [fn for fn in OPS if not fn.tensor_only]
ids = {"ids": lambda fn: fn.name}


def test_registry_holds_the_ops():
    expected = {"add", "sub", "neg", "mul", "div", "pow", "pow_number", "exp", "log", "sigmoid"}
    expected |= {"tanh", "relu", "softplus", "maximum", "matmul", "sum", "reshape", "transpose"}
    assert expected | {"broadcast_to", "index", "scatter_add"} <= set(tg.REGISTRY)


@pytest.mark.parametrize("fn", OPS, **ids)
def test_every_op_declares_a_domain(fn):
    testing.tensor_arguments(fn)  # raises for a missing or mis-sized domain
    if not fn.tensor_only:
        testing.value_arguments(fn)


@pytest.mark.parametrize("fn", OPS, **ids)
def test_every_op_has_one_derivative_formula_per_input(fn):
    assert len(fn.formula) == len(fn.inputs)
    for text, spec in zip(fn.formula, fn.domain):
        assert bool(text) == isinstance(spec, Domain), f"{fn.name}: formula {text!r} for {spec!r}"


@pytest.mark.parametrize("fn", SCALAR_OPS, **ids)
def test_values_first_and_second_derivatives(fn):
    @given(testing.value_arguments(fn))
    def check(args):
        testing.check_op(fn, args)

    check()


@pytest.mark.parametrize("fn", OPS, **ids)
def test_tensors_first_and_second_derivatives(fn):
    @given(testing.tensor_arguments(fn))
    def check(args):
        testing.check_op(fn, args)

    check()


@pytest.mark.parametrize("fn", OPS, **ids)
def test_float32_stays_float32_forward_and_backward(fn):
    @given(testing.tensor_arguments(fn, dtype=np.float32))
    def check(args):
        testing.check_float32(fn, args)

    check()


@pytest.mark.parametrize("fn", SCALAR_OPS, **ids)
def test_values_and_zero_dim_tensors_agree_bit_for_bit(fn):
    @given(testing.value_arguments(fn))
    def check(args):
        marks = [isinstance(spec, Domain) for spec in fn.domain]
        values = [tg.Value(a) if m else a for a, m in zip(args, marks)]
        tensors = [tg.Tensor(a, requires_grad=True) if m else a for a, m in zip(args, marks)]
        v, t = fn.apply(*values), fn.apply(*tensors)
        assert np.array_equal(v.data, t.data, equal_nan=True)
        v.backward()
        t.backward()
        for a, b in zip(values, tensors):
            if isinstance(a, tg.Value):
                assert np.array_equal(a.grad, b.grad, equal_nan=True)

    check()


def test_an_op_without_a_domain_is_reported():
    class Cube(tg.Function, register=False):
        formula = "3·x²"

        @staticmethod
        def forward(ctx, x):
            ctx.save_for_backward(x)
            return x**3

        @staticmethod
        def backward(ctx, grad):
            (x,) = ctx.saved_tensors
            return grad * 3 * x * x

    with pytest.raises(ValueError, match=r"op 'cube' .* needs a test domain"):
        testing.value_arguments(Cube)
    with pytest.raises(ValueError, match=r"op 'cube' .* needs a test domain"):
        testing.tensor_arguments(Cube)
    Cube.domain = (Domain(), Domain())
    with pytest.raises(ValueError, match="needs a test domain"):
        testing.value_arguments(Cube)


def test_a_wrong_backward_is_caught_by_the_op_check():
    class BadSquare(tg.Function, register=False):
        formula = "2·x"
        domain = (Domain(0.5, 2.0),)

        @staticmethod
        def forward(ctx, x):
            ctx.save_for_backward(x)
            return x * x

        @staticmethod
        def backward(ctx, grad):
            (x,) = ctx.saved_tensors
            return grad * x  # should be 2·x

    with pytest.raises(tg.GradcheckError, match="input 0"):
        testing.check_op(BadSquare, (1.5,))
    with pytest.raises(tg.GradcheckError, match="input 0"):
        testing.check_op(BadSquare, (np.array([[1.5, 0.7]]),))


@given(st.data())
def test_domains_keep_away_from_avoided_points(data):
    domain = Domain(-1.0, 1.0, avoid=(0.0, 0.5), margin=0.1)
    x = data.draw(testing.values(domain))
    assert -1.0 <= x <= 1.0 and abs(x) >= 0.1 and abs(x - 0.5) >= 0.1
