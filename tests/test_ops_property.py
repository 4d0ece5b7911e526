"""Every registered op: its forward against an independent reference, its derivative formula
against its backward, first and second derivatives against finite differences (on Values and
on Tensors of drawn shapes), and float32 kept as float32.

The tests iterate over the registry, so a new op is tested by being registered; an op that does
not say where it is tested fails ``test_every_op_says_where_it_is_tested``."""

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

import tinygrad_lr as tg
from tinygrad_lr import testing
from tinygrad_lr.core.function import Domain

# NOTE: matrix-product formulas (g @ y.T) are written for matrices; for a 1-D operand numpy's
# promotion to a row or a column is left out of the text, so those draws are not checked.
MATRIX_PRODUCT = "@"

OPS = sorted(tg.REGISTRY.values(), key=lambda fn: fn.name)
SCALAR_OPS = [fn for fn in OPS if not fn.tensor_only]
ids = {"ids": lambda fn: fn.name}


def test_registry_holds_the_ops():
    expected = {"add", "sub", "neg", "mul", "div", "pow", "pow_number", "exp", "log", "sigmoid"}
    expected |= {"tanh", "relu", "softplus", "maximum", "matmul", "sum", "reshape", "transpose"}
    assert expected | {"broadcast_to", "index", "scatter_add"} <= set(tg.REGISTRY)


@pytest.mark.parametrize("fn", OPS, **ids)
def test_every_op_says_where_it_is_tested(fn):
    testing.tensor_arguments(fn)  # raises for a missing or mis-sized domain, without arguments()
    if not fn.tensor_only:
        testing.value_arguments(fn)


@pytest.mark.parametrize("fn", OPS, **ids)
def test_every_op_has_a_formula_per_input(fn):
    assert len(fn.formula) == len(fn.inputs), f"{fn.name}: one formula text per input"
    for text in filter(None, fn.formula):
        tg.formula.parse(text)  # in the formula language


@pytest.mark.parametrize("fn", [fn for fn in OPS if fn.__module__.startswith("tinygrad_lr.")], **ids)
def test_every_built_in_op_has_a_reference(fn):
    assert callable(fn.reference), f"{fn.name}: no reference implementation of forward"


@pytest.mark.parametrize("fn", OPS, **ids)
def test_forward_matches_the_reference(fn):
    if fn.reference is None:
        pytest.skip(f"{fn.name} declares no reference (optional for an op of your own)")
    strategy = testing.tensor_arguments(fn) if fn.tensor_only else testing.value_arguments(fn)

    @given(strategy)
    def check(args):
        testing.check_reference(fn, args)

    check()
    if not fn.tensor_only:
        given(testing.tensor_arguments(fn))(lambda args: testing.check_reference(fn, args))()


@pytest.mark.parametrize("fn", OPS, **ids)
def test_the_formula_is_what_backward_computes(fn):
    strategy = testing.tensor_arguments(fn) if fn.tensor_only else testing.formula_arguments(fn)

    @given(strategy)
    def check(args):
        if any(MATRIX_PRODUCT in text for text in fn.formula) and min(np.ndim(a) for a in args[:2]) < 2:
            return
        testing.check_formula(fn, args)

    check()


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
        marks = testing.differentiable(fn, args)
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


def test_an_elementwise_op_is_tested_on_the_default_domain_unless_it_says_otherwise():
    class Cube(tg.Function, register=False):
        formula = "3*x**2"

        @staticmethod
        def forward(ctx, x):
            return x**3

    class Shifted(tg.Function, register=False):
        formula = ("1", "")  # a constant argument: no default can say where to draw it

        @staticmethod
        def forward(ctx, x, c):
            return x + c

    assert Cube.domain == (Domain(),)
    given(testing.value_arguments(Cube))(lambda args: testing.check_op(Cube, args))()
    assert Shifted.domain is None
    with pytest.raises(ValueError, match=r"op 'shifted' .* needs a test domain"):
        testing.value_arguments(Shifted)


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


def test_a_forward_wrong_together_with_its_backward_fails_only_the_reference_check(monkeypatch):
    # exp computed as 2·eˣ, saving that output: backward's grad·out is still its derivative
    def doubled(ctx, x):
        out = 2 * tg.numeric.exp(x)
        ctx.save_for_backward(out)
        return out

    monkeypatch.setattr(tg.ops.Exp, "forward", staticmethod(doubled))
    args = (0.7,)
    testing.check_op(tg.ops.Exp, args)  # first and second derivatives still match
    testing.check_op(tg.ops.Exp, (np.array([[0.7, -1.2]]),))
    with pytest.raises(AssertionError, match="exp: forward disagrees with the reference"):
        testing.check_reference(tg.ops.Exp, args)


def test_an_elementwise_ops_formula_is_its_backward(monkeypatch):
    """Change the text, and the gradient the engine computes and the line the stepper prints
    change with it: there is no second copy of the derivative."""
    monkeypatch.setattr(tg.ops.Sigmoid, "formula", "2*out")  # not sigmoid's derivative
    x = tg.Value(0.3, label="x")
    p = tg.sigmoid(x)
    p.label = "p"
    shown = f"{tg.show.number(2 * p.data, 5)}"
    assert f"dp/dx += dp/dp · 2·p = 1.0 · {shown} = {shown}" in repr(next(iter(tg.Backprop(p))))
    p.backward()
    assert x.grad == 2 * p.data
    t = tg.Tensor([0.3, -1.0], requires_grad=True)
    tg.sigmoid(t).sum().backward()
    assert np.array_equal(t.grad, 2 * tg.sigmoid(t.data))
    with pytest.raises(tg.GradcheckError):
        testing.check_op(tg.ops.Sigmoid, (0.3,))
    monkeypatch.undo()
    x.grad = 0.0
    tg.sigmoid(x).backward()
    assert x.grad == pytest.approx(p.data * (1 - p.data), rel=1e-15)
    testing.check_op(tg.ops.Sigmoid, (0.3,))


def test_a_fused_ops_formula_that_is_not_its_backward_fails_the_formula_check(monkeypatch):
    args = (np.array([[0.5, -1.0, 2.0]]), -1)
    testing.check_formula(tg.ops.Softmax, args)
    monkeypatch.setattr(tg.ops.Softmax, "formula", ("out*g", ""))  # the sum term left out
    testing.check_op(tg.ops.Softmax, args)  # backward itself is right
    with pytest.raises(AssertionError, match=r"softmax: the formula 'out\*g' for input 0 \(x\)"):
        testing.check_formula(tg.ops.Softmax, args)
