"""The extension contract: Function, ctx, the registry, errors for op authors."""

import math
import sys
import tracemalloc

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import tinygrad_lr as tg
from tinygrad_lr import Tensor, Value
from tinygrad_lr.core import formula
from tinygrad_lr.core.function import REGISTRY
from tinygrad_lr.teach.step import derivative


class LogCosh(tg.Function, register=False):
    """f(x) = log(cosh x) = x + softplus(−2x) − log 2;  f'(x) = tanh x."""

    formula = "tanh(x)"
    domain = (tg.Domain(),)

    @staticmethod
    def forward(ctx, x):
        ctx.save_for_backward(x)
        return x + tg.softplus(-2 * x) - math.log(2)

    @staticmethod
    def backward(ctx, grad):
        (x,) = ctx.saved_tensors
        return grad * tg.tanh(x)


def test_a_user_op_works_on_values_tensors_raw_data_and_second_derivatives():
    x = Value(0.4)
    y = LogCosh.apply(x)
    assert y.data == pytest.approx(math.log(math.cosh(0.4)))
    assert y.op == "logcosh" and y.parents == (x,)
    y.backward()
    assert x.grad == pytest.approx(math.tanh(0.4))
    assert LogCosh.apply(0.4) == pytest.approx(y.data)  # raw in, raw out
    assert tg.gradgradcheck(LogCosh.apply, [x])
    t = tg.Tensor([[0.4, -1.0], [2.0, 0.0]], requires_grad=True)
    assert np.allclose(LogCosh.apply(t).data, np.log(np.cosh(t.data)))
    assert tg.gradgradcheck(lambda t: LogCosh.apply(t).sum(), [t])


def test_ops_register_themselves_and_can_opt_out():
    class Square(tg.Function):
        name = "test_square"
        formula = "2x"
        domain = (tg.Domain(),)

        @staticmethod
        def forward(ctx, x):
            ctx.save_for_backward(x)
            return x * x

        @staticmethod
        def backward(ctx, grad):
            (x,) = ctx.saved_tensors
            return 2 * x * grad

    try:
        assert REGISTRY["test_square"] is Square
        assert Square.inputs == ("x",) and Square.formula == ("2x",)
    finally:
        del REGISTRY["test_square"]
    assert "logcosh" not in REGISTRY


def test_a_taken_name_registers_the_newcomer_under_its_full_name():
    class Softplus(tg.Function):  # the name of a built-in op, as in the design notes' example
        @staticmethod
        def forward(ctx, x):
            ctx.save_for_backward(x)
            return tg.log(1 + tg.exp(x))

        @staticmethod
        def backward(ctx, grad):
            (x,) = ctx.saved_tensors
            return grad * tg.sigmoid(x)

    try:
        assert REGISTRY["softplus"] is tg.ops.Softplus  # the built-in keeps its name
        assert REGISTRY[Softplus.name] is Softplus and Softplus.name.endswith(".Softplus")
        v, t = Value(0.4), Tensor([0.4, -1.0], requires_grad=True)
        Softplus.apply(v).backward()
        Softplus.apply(t).sum().backward()
        assert v.grad == pytest.approx(1 / (1 + math.exp(-0.4)))
        assert np.allclose(t.grad, 1 / (1 + np.exp(-t.data)))
        assert tg.gradgradcheck(Softplus.apply, [Value(0.3)])
        z = Value(0.3, label="z")
        y = Softplus.apply(z)
        assert derivative(y, 0, {z: "z", y: "y"}) == "∂softplus/∂z"  # no formula given
    finally:
        del REGISTRY[Softplus.name]


@pytest.mark.parametrize("register", [True, False])
def test_formula_count_must_match_the_inputs(register):
    with pytest.raises(TypeError, match="formula has 1 entries but forward takes 2 inputs"):

        class Hypot(tg.Function, register=register):
            formula = "x/h"

            @staticmethod
            def forward(ctx, x, y):
                return math.hypot(x, y)

    class Sum3(tg.Function, register=False):
        formula = ("1", "1", "1")

        @staticmethod
        def forward(ctx, x, y, z):
            return x + y + z

    with pytest.raises(TypeError, match="formula has 2 entries but forward takes 3 inputs"):
        Sum3.formula = ("1", "1")  # assigned later, as a test does
    assert Sum3.formula == ("1", "1", "1")  # refused before anything changed


def test_a_subclass_follows_the_formula_it_inherits_when_that_is_assigned():
    class Scaled(tg.Function, register=False):
        formula = "x"

        @staticmethod
        def forward(ctx, x):
            return x * x / 2

    class Heir(Scaled, register=False):
        pass

    Scaled.formula = "2*x"
    x = Value(3.0)
    Heir.apply(x).backward()
    assert Heir.formula == ("2*x",) and x.grad == 6.0


def test_backward_must_return_one_gradient_per_input():
    class Broken(tg.Function, register=False):
        formula = ("1", "1")

        @staticmethod
        def forward(ctx, x, y):
            return x + y

        @staticmethod
        def backward(ctx, grad):
            return grad

    with pytest.raises(TypeError, match="returned 1 gradients for 2 inputs"):
        Broken.apply(Value(1.0), Value(2.0)).backward()


def test_saving_an_intermediate_is_refused_for_higher_order_gradients():
    class Leaky(tg.Function, register=False):
        formula = "2·exp(2x)"

        @staticmethod
        def forward(ctx, x):
            doubled = 2 * x
            ctx.save_for_backward(doubled)
            return tg.exp(doubled)

        @staticmethod
        def backward(ctx, grad):
            (doubled,) = ctx.saved_tensors
            return grad * 2 * tg.exp(doubled)

    x = Value(0.1)
    y = Leaky.apply(x)
    y.backward()  # first order works on raw data
    assert x.grad == pytest.approx(2 * math.exp(0.2))
    with pytest.raises(ValueError, match="neither an input nor the output"):
        tg.grad(y, [x], create_graph=True)


def test_needs_input_grad_and_constant_arguments():
    seen = {}

    class Scale(tg.Function, register=False):
        formula = ("k", "")

        @staticmethod
        def forward(ctx, x, k):
            ctx.save_for_backward(x, k)
            return x * k

        @staticmethod
        def backward(ctx, grad):
            seen["needs"] = ctx.needs_input_grad
            _, k = ctx.saved_tensors
            seen["k"] = k
            return grad * k, None

    x = Value(2.0)
    (g,) = tg.grad(Scale.apply(x, 3.0), [x], create_graph=True)
    assert g.data == 3.0
    assert seen == {"needs": (True, False), "k": 3.0}  # a constant argument stays raw


def test_a_backward_computes_no_array_gradient_for_an_input_that_needs_none():
    x = Tensor([1.0, 2.0], requires_grad=True)
    chosen = tg.ops.where(np.array([True, False]), x, 0.0)
    for out in (x * Tensor([3.0, 4.0]), tg.maximum(Tensor([0.0, 5.0]), x), x - 1.0, chosen):
        sent = out._ctx.fn.backward(out._ctx, np.ones(2))
        assert [s is None for s in sent] == [not p for p in out._ctx.needs_input_grad]


def test_a_clamps_backward_makes_no_arrays_of_ones_and_zeros_to_choose_with():
    x = Tensor(np.linspace(-1.0, 1.0, 100_000), requires_grad=True)
    out = tg.maximum(x, 0.0)  # where(x < y, 0, where(x == y, 0.5*g, g)): 0.5*g and two choices
    g = np.ones(x.shape)
    out._ctx.fn.backward(out._ctx, g)  # compiled once, before measuring
    tracemalloc.start()
    out._ctx.fn.backward(out._ctx, g)
    peak = tracemalloc.get_traced_memory()[1]
    tracemalloc.stop()
    assert peak < 2.5 * x.data.nbytes  # two float arrays alive at once, and two masks of booleans


def backward_peak(out, g):
    """The most memory that ``out``'s backward holds at once while it computes (tracemalloc)."""
    out._ctx.fn.backward(out._ctx, g)  # compiled once, before measuring
    tracemalloc.start()
    sent = out._ctx.fn.backward(out._ctx, g)
    peak = tracemalloc.get_traced_memory()[1]
    tracemalloc.stop()
    return peak, sent


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
@pytest.mark.parametrize("op", ["tanh", "div"])
def test_a_compiled_backward_on_a_large_array_keeps_one_temporary_alive(op, dtype):
    rng = np.random.default_rng(0)
    x = Tensor(rng.uniform(0.5, 2.0, 100_000).astype(dtype), requires_grad=op == "tanh")
    y = Tensor(rng.uniform(0.5, 2.0, 100_000).astype(dtype), requires_grad=True)
    # 1 - out**2 writes into out**2, and -out/y (only y needs a gradient) into -out
    out = x.tanh() if op == "tanh" else x / y
    g = np.ones(x.shape, dtype)
    peak, sent = backward_peak(out, g)
    assert peak < 1.5 * x.data.nbytes  # the gradient sent, and nothing as large beside it
    text, values = out._ctx.fn.formula[-1], {"x": x.data, "y": y.data, "out": out.data}
    expected = g * formula.evaluate(text, values)  # the plain operators
    sent = sent[-1] if isinstance(sent, tuple) else sent
    assert sent.dtype == expected.dtype and np.array_equal(sent, expected)


class Quotients(tg.Function, register=False):
    """x·w, with texts made of differences and quotients of temporaries in place of its
    derivatives: what the compiled backward computes is compared with the plain operators."""

    formula = ("(x*w)/(w - 2*x) - (w + 1)", "(3 - x)/w - (1 - x*w)")

    @staticmethod
    def forward(ctx, x, w):
        return x * w


SHAPES = [((400, 250), (400, 250)), ((400, 250), (250,)), ((400, 1), (400, 250)), ((100_000,), (1,))]


@pytest.mark.parametrize("shapes", SHAPES)
@pytest.mark.parametrize("dtypes", [("float64",) * 3, ("float32",) * 3, ("float32", "float64", "float32")])
def test_a_compiled_backward_gives_the_plain_operators_numbers_bit_for_bit(shapes, dtypes, monkeypatch):
    rng = np.random.default_rng(1)
    x, w = (rng.uniform(0.5, 2.0, shape).astype(dtype) for shape, dtype in zip(shapes, dtypes))
    out = Quotients.apply(Tensor(x, requires_grad=True), Tensor(w, requires_grad=True))
    g = rng.standard_normal(out.shape).astype(dtypes[2])
    peak, sent = backward_peak(out, g)
    monkeypatch.setattr(formula, "_SMALL", math.inf)  # no array is large enough: the plain operators
    plain_peak, _ = backward_peak(out, g)
    assert peak < plain_peak  # some temporary was written into
    for text, grad in zip(Quotients.formula, sent):
        expected = g * formula.evaluate(text, {"x": x, "w": w})
        assert grad.dtype == expected.dtype and np.array_equal(grad, expected)
    assert np.array_equal(out._ctx.saved[0], x) and np.array_equal(out._ctx.saved[1], w)


def test_a_compiled_backward_writes_into_no_input_saved_array_or_view(monkeypatch):
    monkeypatch.setitem(formula.FUNCTIONS, "same", lambda a: a)  # a function that returns its argument

    class Aliases(tg.Function, register=False):
        formula = ("1 - same(x*1) - (w - x.T)/same(w)", "(1 - out)/(2 - x.T)")

        @staticmethod
        def forward(ctx, x, w):
            return x * w

    x, w = np.random.default_rng(2).uniform(0.5, 2.0, (2, 300, 300))
    kept = x.copy(), w.copy()
    out = Aliases.apply(Tensor(x, requires_grad=True), Tensor(w, requires_grad=True))
    held = out.data  # the output, also referenced here
    g = np.ones(out.shape)
    sent = out._ctx.fn.backward(out._ctx, g)
    values = {"x": kept[0], "w": kept[1], "out": kept[0] * kept[1]}
    for text, grad in zip(Aliases.formula, sent):
        assert np.array_equal(grad, g * formula.evaluate(text, values))
    assert np.array_equal(x, kept[0]) and np.array_equal(w, kept[1]) and np.array_equal(held, values["out"])


def test_a_temporary_is_written_into_only_where_nothing_else_holds_it():
    into = formula._into(np.subtract, lambda a, b: a - b, (1,))  # 1 - y, into y

    def frozen(array: np.ndarray) -> np.ndarray:
        array.flags.writeable = False
        return array

    held, whole = np.ones(100_000), np.ones(100_000)
    # called outside the asserts: pytest's rewritten asserts hold on to the arguments
    results = [into(1.0, held), into(1.0, whole[:]), into(1.0, frozen(np.ones(100_000)))]  # a view, read-only
    assert not any(result.any() for result in results) and (held == 1).all() and (whole == 1).all()
    broadcast = into(np.ones((2, 100_000)), np.ones(100_000))
    assert broadcast.shape == (2, 100_000)  # a new array


def test_integers_divided_in_a_large_backward_give_floats():
    class Halved(tg.Function, register=False):
        formula = ("(k*k)/2", "")  # k*k is a temporary of integers; halved, floats

        @staticmethod
        def forward(ctx, x, k):
            return x * (k * k) / 2

    x = Tensor(np.ones(40_000), requires_grad=True)
    Halved.apply(x, np.full(40_000, 3)).sum().backward()
    assert x.grad.dtype == np.float64 and (x.grad == 4.5).all()


def test_a_large_backward_under_create_graph_builds_the_graph_from_the_same_numbers():
    x = Tensor(np.random.default_rng(3).uniform(-2.0, 2.0, 100_000), requires_grad=True)
    out = x.tanh()
    kept = out.data.copy()
    (grad,) = tg.grad(out.sum(), [x], create_graph=True)
    assert grad._ctx is not None and np.array_equal(grad.data, 1 - kept**2)
    assert np.array_equal(out.data, kept)
    (second,) = tg.grad(grad.sum(), [x])
    assert np.allclose(second.data, -2 * kept * (1 - kept**2))

    class Against(tg.Function, register=False):  # an array of forward's own beside a graph node
        formula = ("w - 2*c", "x")

        @staticmethod
        def forward(ctx, x, w):
            ctx.c = np.full(x.shape, 0.25)
            return x * w

    w = Tensor(np.ones(100_000), requires_grad=True)
    (grad,) = tg.grad(Against.apply(x, w).sum(), [x], create_graph=True)
    assert isinstance(grad, Tensor) and np.array_equal(grad.data, np.full(100_000, 0.5))
    assert np.array_equal(tg.grad(grad.sum(), [w])[0].data, np.ones(100_000))  # w is on its graph


def test_the_logits_loss_backward_holds_one_activation_sized_array_at_a_time():
    z = Tensor(np.linspace(-3.0, 3.0, 100_000), requires_grad=True)
    loss = tg.bce_with_logits(z, Tensor(np.linspace(0.0, 1.0, 100_000)))
    tracemalloc.start()
    loss._ctx.fn.backward(loss._ctx, np.array(1.0))
    peak = tracemalloc.get_traced_memory()[1]
    tracemalloc.stop()
    assert peak < 1.5 * z.data.nbytes  # σ(z); σ(z) − y and the product with g reuse it (numpy elides)


def test_two_values_sharing_one_float_object_stay_distinct_variables():
    data = 1.0
    a, b = Value(data), Value(data)
    assert a.data is b.data
    ga, _ = tg.grad(a * b, [a, b], create_graph=True)
    assert tg.grad(ga, [a, b])[1].data == 1.0  # ∂²(ab)/∂a∂b
    assert tg.grad(ga, [a, b])[0].data == 0.0


class Pick(tg.Function, register=False):
    """x + y + z, saving the items that ``picks`` names (an input's index, or -1 for the output),
    and recording what backward is handed for them."""

    picks: tuple = ()
    handed: tuple = ()

    @staticmethod
    def forward(ctx, x, y, z):
        out = x + y + z
        ctx.save_for_backward(*(out if k == -1 else (x, y, z)[k] for k in Pick.picks))
        return out

    @staticmethod
    def backward(ctx, grad):
        Pick.handed = ctx.saved_tensors
        return grad, grad, grad


@settings(max_examples=60, deadline=None)
@given(st.sampled_from([Value, Tensor]), st.lists(st.integers(-1, 2), min_size=1, max_size=4))
def test_what_forward_saved_is_handed_back_as_the_node_it_is(kind, picks):
    Pick.picks = tuple(picks)
    inputs = [kind(1.0 + k, requires_grad=True) for k in range(3)]
    out = Pick.apply(*inputs)
    tg.grad(out, inputs, create_graph=True)  # backward is handed the graph nodes
    expected = [out if k == -1 else inputs[k] for k in picks]
    assert len(Pick.handed) == len(expected)
    assert all(got is want for got, want in zip(Pick.handed, expected))
    tg.grad(out, inputs)  # and, without create_graph, their data
    assert all(got is want.data for got, want in zip(Pick.handed, expected))


def test_a_one_input_op_may_save_its_input_twice():
    class Square(tg.Function, register=False):
        @staticmethod
        def forward(ctx, x):
            ctx.save_for_backward(x, x)
            return x * x

        @staticmethod
        def backward(ctx, grad):
            a, b = ctx.saved_tensors
            return grad * (a + b)

    x = Value(3.0, requires_grad=True)
    (g,) = tg.grad(Square.apply(x), [x], create_graph=True)
    assert g.data == 6.0 and tg.grad(g, [x])[0].data == 2.0


@pytest.mark.parametrize("kind", [Value, Tensor])
def test_a_subclass_of_a_formula_op_with_its_own_backward_is_handed_what_its_forward_saved(kind):
    class ScaledMul(tg.ops.Mul, register=False):  # inherits Mul's formula ("y", "x")
        @staticmethod
        def forward(ctx, x, y):
            ctx.save_for_backward(y)
            return x * y

        @staticmethod
        def backward(ctx, grad):
            (y,) = ctx.saved_tensors
            return 3 * grad * y, None

    x, y = kind(2.0, requires_grad=True), kind(5.0, requires_grad=True)
    ScaledMul.apply(x, y).backward()
    assert float(x.grad) == 15.0 and float(y.grad or 0.0) == 0.0


def test_mixing_values_and_other_node_types_is_refused():
    class Other(tg.engine.Node):
        __slots__ = ()

    other = object.__new__(Other)
    other.data, other.requires_grad, other._ctx = np.ones(2), True, None
    with pytest.raises(TypeError, match="cannot mix Value and Other"):
        tg.ops.Add.apply(Value(1.0), other)


def test_a_user_op_named_like_a_function_of_the_formulas_does_not_replace_it():
    class Sign(tg.Function):  # "sign" is what abs's formula calls
        formula = "0*x"

        @staticmethod
        def forward(ctx, x):
            return np.sign(x) * 7.0

    try:
        assert Sign.name.endswith(".Sign") and tg.formula.FUNCTIONS["sign"] is not Sign.apply
        x = Tensor([-2.0, 3.0], requires_grad=True)
        abs(x).sum().backward()
        assert x.grad.tolist() == [-1.0, 1.0]
    finally:
        del REGISTRY[Sign.name]


def test_a_unary_plus_in_a_formula_keeps_its_sign_when_compiled_printed_and_written():
    class PlusOne(tg.Function):
        formula = "+1"

        @staticmethod
        def forward(ctx, x):
            return x

    try:
        x = tg.Value(3.0)
        PlusOne.apply(x).backward()
        assert x.grad == 1.0  # not -1
    finally:
        del REGISTRY[PlusOne.name]
        del tg.formula.FUNCTIONS[PlusOne.name]
    assert tg.formula.render("+2*x") == "2·x"
    assert tg.formula.write(tg.formula.parse("+x")) == "+x"
    assert tg.formula.write(tg.formula.parse("sum(W[0, 1:], (0,))")) == "sum(W[0, 1:], (0,))"


@pytest.mark.parametrize("value", [-1.0, 2.0])
def test_a_chosen_gradient_of_a_0d_tensor_keeps_its_dtype_on_the_graph(value):
    # relu's formula chooses with where(out > 0, g, 0); on a 0-d tensor the condition is one
    # number, and the 0 chosen must still become a gradient of the input's dtype
    x = tg.Tensor(np.float32(value), requires_grad=True)
    (g,) = tg.grad(x.relu() * 3, [x], create_graph=True)
    assert g.dtype == np.float32 and g.item() == (3.0 if value > 0 else 0.0)


@pytest.mark.parametrize("op", [tg.relu, lambda x: tg.maximum(x, 0.5), lambda x: tg.clamp(x, -1.0, 1.0)])
@pytest.mark.parametrize("at", [-2.0, 0.5, 2.0])
def test_a_compiled_backward_on_numbers_chooses_and_reads_what_forward_kept_without_calls(op, at):
    out = op(Value(at, requires_grad=True))
    out._ctx.fn.backward(out._ctx, 3.0)  # compiled at the first call
    backward = out._ctx.fn.backward
    calls = []
    sys.setprofile(lambda frame, event, arg: calls.append(frame.f_code.co_name) if event == "call" else None)
    try:
        sent = backward(out._ctx, 3.0)
    finally:
        sys.setprofile(None)
    assert calls == ["backward"]  # where and comparisons inline, saved items read without a property
    on_array = op(Tensor(at, requires_grad=True))
    expected = on_array._ctx.fn.backward(on_array._ctx, np.array(3.0))
    sent, expected = (grads[0] if isinstance(grads, tuple) else grads for grads in (sent, expected))
    assert type(sent) is float and sent == expected  # x's gradient, as on a 0-d tensor
