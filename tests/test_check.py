"""numerical_grad and gradcheck, the public gradient-checking tools."""

import math

import numpy as np
import pytest

import tinygrad_lr as tg
from tinygrad_lr import Value


def test_numerical_grad_of_known_functions():
    x, y = Value(0.5), Value(-2.0)
    gx, gy = tg.numerical_grad(lambda a, b: a * a * b + b.exp(), [x, y])
    assert gx == pytest.approx(2 * 0.5 * -2.0, abs=1e-8)
    assert gy == pytest.approx(0.25 + math.exp(-2.0), abs=1e-8)
    assert (x.data, y.data) == (0.5, -2.0)  # restored


def test_numerical_grad_restores_inputs_when_fn_raises():
    x = Value(1.0)

    def explode(a):
        raise RuntimeError("boom")

    with pytest.raises(RuntimeError):
        tg.numerical_grad(explode, [x])
    assert x.data == 1.0


def test_gradcheck_passes_for_correct_gradients():
    x = Value(0.7, label="x")
    assert tg.gradcheck(lambda a: (a.sigmoid() * a.tanh()).log(), [x])
    assert tg.gradcheck(lambda a: a**3, x)  # a single input needs no list


class WrongSigmoid(tg.Function, register=False):
    formula = "σ(x)"

    @staticmethod
    def forward(ctx, x):
        out = tg.numeric.sigmoid(x)
        ctx.save_for_backward(out)
        return out

    @staticmethod
    def backward(ctx, grad):
        (out,) = ctx.saved_tensors
        return grad * out  # missing the factor (1 - out)


def test_gradcheck_names_input_values_and_tolerance():
    x, w = Value(0.3, label="x"), Value(1.5, label="w")
    with pytest.raises(tg.GradcheckError) as error:
        tg.gradcheck(lambda a, b: WrongSigmoid.apply(a * b), [x, w], atol=1e-6, rtol=1e-5)
    message = str(error.value)
    assert "input 0 ('x')" in message
    s = 1 / (1 + math.exp(-0.45))
    assert f"analytic {s * 1.5:.10g}" in message
    assert f"numeric {s * (1 - s) * 1.5:.6g}" in message
    assert "atol 1e-06 + rtol 1e-05" in message


def test_gradcheck_rejects_nan_gradients():
    x = Value(0.0)
    with pytest.raises(tg.GradcheckError, match="disagrees"):
        tg.gradcheck(lambda a: (a * 0).log() * 0 + a, [x])


def test_gradgradcheck_catches_a_backward_that_is_not_differentiable():
    class Detached(tg.Function, register=False):
        """x², whose backward uses raw data: right first derivative, zero second derivative."""

        formula = "2x"

        @staticmethod
        def forward(ctx, x):
            ctx.x = x
            return x * x

        @staticmethod
        def backward(ctx, grad):
            return grad * 2 * ctx.x

    x = Value(1.3)
    assert tg.gradcheck(lambda a: Detached.apply(a), [x])
    with pytest.raises(tg.GradcheckError, match="second derivative"):
        tg.gradgradcheck(lambda a: Detached.apply(a), [x])


def test_gradcheck_needs_a_scalar_output_node():
    with pytest.raises(TypeError, match="must return a Value or Tensor"):
        tg.gradcheck(lambda a: 1.0, [Value(1.0)])


def test_gradcheck_on_float32_says_to_use_float64():
    t = tg.Tensor(np.array([1.0, 2.0], np.float32), requires_grad=True)
    with pytest.raises(tg.GradcheckError, match="the input is float32: check gradients in float64"):
        tg.gradcheck(lambda t: (t * t * t).sum(), [t])
