"""Value: the micrograd-compatible surface, IEEE edge cases, errors and repr."""

import math
import warnings

import numpy as np
import pytest

import tinygrad_lr as tg
from tinygrad_lr import Value


@pytest.fixture(autouse=True)
def no_warnings():
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        yield


def test_data_is_a_float_and_grad_starts_at_zero():
    a = Value(2)
    assert type(a.data) is float and a.data == 2.0
    assert a.grad == 0.0 and a.label == "" and a.op == "" and a.is_leaf
    assert type(Value(np.float32(1.5)).data) is float


@pytest.mark.parametrize(
    ("expression", "expected", "grad"),
    [
        (lambda a: a + 3, 5.0, 1.0),
        (lambda a: 3 + a, 5.0, 1.0),
        (lambda a: a - 3, -1.0, 1.0),
        (lambda a: 3 - a, 1.0, -1.0),
        (lambda a: a * 3, 6.0, 3.0),
        (lambda a: 3 * a, 6.0, 3.0),
        (lambda a: a / 4, 0.5, 0.25),
        (lambda a: 4 / a, 2.0, -1.0),
        (lambda a: a**3, 8.0, 12.0),
        (lambda a: 3**a, 9.0, 9 * math.log(3)),
        (lambda a: a**a, 4.0, 4 * (math.log(2) + 1)),
        (lambda a: -a, -2.0, -1.0),
        (lambda a: +a, 2.0, 1.0),
        (lambda a: a.exp(), math.exp(2), math.exp(2)),
        (lambda a: a.log(), math.log(2), 0.5),
        (lambda a: a.tanh(), math.tanh(2), 1 - math.tanh(2) ** 2),
        (lambda a: a.relu(), 2.0, 1.0),
        (lambda a: (-a).relu(), 0.0, 0.0),
        (lambda a: a * np.float64(2), 4.0, 2.0),
    ],
)
def test_operators_with_numbers_on_either_side(expression, expected, grad):
    a = Value(2.0)
    out = expression(a)
    assert isinstance(out, Value)
    assert out.data == pytest.approx(expected)
    out.backward()
    assert a.grad == pytest.approx(grad)


def test_ieee_semantics_instead_of_exceptions():
    assert tg.log(Value(0.0)).data == -math.inf
    assert math.isnan(tg.log(Value(-1.0)).data)
    assert tg.exp(Value(1000.0)).data == math.inf
    assert tg.sigmoid(Value(1e308)).data == 1.0
    assert tg.sigmoid(Value(-1e308)).data == 0.0
    assert (Value(1.0) / 0).data == math.inf
    assert (Value(-1.0) / 0).data == -math.inf
    assert (Value(1.0) / -0.0).data == -math.inf
    assert math.isnan((Value(0.0) / 0).data)
    assert math.isnan((Value(-8.0) ** (1 / 3)).data)  # not a complex number
    assert (Value(0.0) ** -1).data == math.inf
    assert (Value(-0.0) ** -1).data == -math.inf
    assert (Value(10.0) ** 1000).data == math.inf
    assert (Value(-10.0) ** 1001).data == -math.inf
    assert math.isnan(tg.relu(Value(math.nan)).data)


def test_ieee_semantics_in_gradients():
    x = Value(0.0)
    x.log().backward()
    assert x.grad == math.inf
    y = Value(0.0)
    (1 / y).backward()
    assert y.grad == -math.inf
    z = Value(-1e308)
    z.sigmoid().backward()
    assert z.grad == 0.0
    w = Value(800.0)
    w.exp().backward()
    assert w.grad == math.inf


def test_raw_numbers_go_through_the_same_functions():
    assert tg.sigmoid(0.0) == 0.5
    assert tg.log(0) == -math.inf and math.isnan(tg.log(-1.0))
    assert tg.exp(1000) == math.inf
    assert tg.div(1.0, 0.0) == math.inf
    assert tg.pow(-8.0, 1 / 3) != tg.pow(-8.0, 1 / 3)  # nan


@pytest.mark.parametrize("bad", ["a", None, [1.0, 2.0], {"x": 1}, 1 + 2j])
@pytest.mark.parametrize(("op", "symbol"), [(lambda a, b: a + b, "+"), (lambda a, b: a * b, "*")])
def test_bad_operands_name_the_op_and_the_type(bad, op, symbol):
    with pytest.raises(TypeError) as error:
        op(Value(1.0), bad)
    assert symbol in str(error.value) and type(bad).__name__ in str(error.value)
    with pytest.raises(TypeError, match=type(bad).__name__):
        op(bad, Value(1.0))


def test_bad_constructor_arguments():
    with pytest.raises(TypeError, match="Value: expected a real number or a Value, got str"):
        Value("2.0")
    with pytest.raises(TypeError, match=r"for arrays use tg\.Tensor"):
        Value(np.array([1.0, 2.0]))
    with pytest.raises(TypeError, match=r"\*\*: the exponent must be a number"):
        Value(2.0) ** "x"


def test_numpy_arrays_are_refused_on_both_sides():
    with pytest.raises(TypeError, match=r"for arrays use tg\.Tensor"):
        Value(1.0) + np.ones(3)
    with pytest.raises(TypeError, match=r"for arrays use tg\.Tensor"):
        np.ones(3) + Value(1.0)


def test_repr_reads_well():
    a = Value(2.0, label="a")
    assert repr(a) == "Value(data=2.0, grad=0.0, label='a')"
    p = a.sigmoid()
    p.backward()
    assert repr(p) == "Value(data=0.880797, grad=1.0, op='σ')"
    assert (a**2).op == "**2" and (a * a).op == "*" and (-a).op == "-"


def test_values_are_hashable_by_identity():
    a, b = Value(1.0), Value(1.0)
    assert len({a, b}) == 2 and a != b and a == a


def test_powers_at_zero_have_zero_gradients_not_nan():
    x = Value(0.0)
    (x**0).backward()
    assert x.grad == 0.0
    base, exponent = Value(0.0), Value(2.0)
    (base**exponent).backward()
    assert (base.grad, exponent.grad) == (0.0, 0.0)  # 2·0¹ and 0²·ln 0 → 0
    base, exponent = Value(0.0), Value(0.0)
    (base**exponent).backward()
    assert (base.grad, exponent.grad) == (0.0, 0.0)
