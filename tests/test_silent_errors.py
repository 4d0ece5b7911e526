"""Ways a gradient could come out wrong with no error: each must give the right number or a
clear error (PyTorch's semantics where it has one)."""

import asyncio
import math
import warnings

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

import tinygrad_lr as tg
from tinygrad_lr import Tensor as T
from tinygrad_lr import Value as V
from tinygrad_lr.nn import functional as F

VERSION_ERROR = (
    r"modified by an in-place operation: input 0 of pow_number is at version 1; forward saw version 0"
)

# --- 1. data changed in place between forward and backward --------------------------------------


@pytest.mark.parametrize("make", [lambda w: tg.optim.SGD([w], lr=0.1), lambda w: tg.optim.Adam([w], lr=0.1)])
def test_an_optimiser_step_between_forward_and_backward_is_refused(make):
    w = T([1.0, 2.0, 3.0], requires_grad=True, label="w")
    opt = make(w)
    l1, l2 = (w**3).sum(), (w**3).sum()
    l1.backward()
    opt.step()
    opt.zero_grad()
    with pytest.raises(RuntimeError, match=VERSION_ERROR.replace("input 0", r"input 0 'w' of shape \(3,\)")):
        l2.backward()
    assert w.grad is None  # nothing half-written
    (w**3).sum().backward()  # forward again: the gradient at the new values
    assert np.allclose(w.grad, 3 * w.data**2)


def test_values_give_the_gradient_of_what_forward_computed():
    w = V(2.0)
    opt = tg.optim.SGD([w], lr=0.1)
    l1, l2 = w**3, w**3
    l1.backward()
    opt.step()
    opt.zero_grad()
    l2.backward()
    assert w.grad == 12.0  # 3·2², the floats forward saved
    (first,) = tg.grad(w**3, [w], create_graph=True)
    with tg.no_grad():
        w -= 0.5
    assert tg.grad(first, [w])[0].data == pytest.approx(
        6 * 0.8
    )  # first-order: the floats forward saved (w = 0.8)
    with pytest.raises(RuntimeError, match=r"pow_number: the .data of input 0 changed after forward"):
        tg.grad(first, [w], create_graph=True)  # a graph of the gradient would read w as it is now


def test_in_place_operators_and_setitem_bump_the_version_and_backward_refuses():
    x = T([1.0, 2.0], requires_grad=True)
    for change in (
        lambda t: t.__iadd__(1.0),
        lambda t: t.__imul__(2.0),
        lambda t: t.__isub__(T([1.0, 1.0])),
        lambda t: t.__itruediv__(2.0),
        lambda t: t.__ipow__(2),
        lambda t: t.__setitem__(0, 5.0),
    ):
        loss = (x * x).sum()
        before = x.version
        with tg.no_grad():
            change(x)
        assert x.version == before + 1 and x.requires_grad and x.is_leaf
        with pytest.raises(RuntimeError, match="modified by an in-place operation: input 0"):
            loss.backward()


def test_a_change_through_a_view_or_a_detached_tensor_is_seen():
    w = T([[1.0, 2.0], [3.0, 4.0]], requires_grad=True)
    for view in (lambda: w.detach(), lambda: w.T, lambda: w.reshape(4), lambda: w[0]):
        loss = (w * w).sum()
        with tg.no_grad():
            v = view()
            v += 1.0
        with pytest.raises(RuntimeError, match="modified by an in-place operation"):
            loss.backward()


def test_a_saved_output_changed_in_place_is_refused():
    x = T([0.5, 1.0], requires_grad=True)
    y = x.exp()  # exp saves its output
    loss = y.sum()
    z = y * 1.0  # noqa: F841 - y is used, and changed below
    with tg.no_grad():
        y += 1.0
    with pytest.raises(RuntimeError, match=r"the output of exp .* version 1; forward saw version 0"):
        loss.backward()


def test_forward_returning_its_input_as_given_shares_the_inputs_version():
    class Same(tg.Function, register=False):
        """f(x) = x, returned as it was given; backward uses the saved x (as f = x²/2 would)."""

        @staticmethod
        def forward(ctx, x):
            ctx.save_for_backward(x)
            return x

        @staticmethod
        def backward(ctx, grad):
            (x,) = ctx.saved_tensors
            return grad * x

    for changed in ("input", "output"):
        x = T([1.0, 2.0], requires_grad=True)
        y = Same.apply(x)
        assert np.shares_memory(y.data, x.data) and y.version == x.version == 0
        with tg.no_grad():
            (x if changed == "input" else y).__iadd__(1.0)  # changes the data both hold
        assert x.version == y.version == 1, changed
        with pytest.raises(RuntimeError, match=r"input 0 of shape \(2,\) of same is at version 1"):
            y.sum().backward()
    x = T([1.0, 2.0], requires_grad=True)
    Same.apply(x).sum().backward()
    assert np.array_equal(x.grad, [1.0, 2.0])


def test_an_index_array_changed_after_forward_does_not_move_the_gradient():
    x = T([10.0, 20.0, 30.0], requires_grad=True)
    idx = np.array([0, 1])
    y = x[idx]
    idx[:] = 2
    y.sum().backward()
    assert np.array_equal(x.grad, [1.0, 1.0, 0.0])


def test_writing_data_directly_is_the_escape_hatch():
    w = T([1.0, 2.0], requires_grad=True)
    loss = (w * w).sum()
    w.data[0] = 10.0  # not through the framework: no version change, as PyTorch's .data
    assert w.version == 0
    loss.backward()
    assert np.array_equal(w.grad, [20.0, 4.0])  # the saved array was changed: the user's risk


PROGRAMS = {  # of w (2, 2) that requires grad and c (2, 2), a plain array
    "x*x": lambda w, c: (w * w).sum(),
    "exp": lambda w, c: w.exp().sum(),
    "sigmoid": lambda w, c: w.sigmoid().sum(),
    "x+1": lambda w, c: (w + 1.0).sum(),  # saves nothing: an in-place change cannot hurt it
    "matmul": lambda w, c: (w @ T([1.0, -2.0])).sum(),
    "index": lambda w, c: (w[[1, 1, 0]] ** 2).sum(),
    "x*c": lambda w, c: (w * c).sum(),
    "c@x": lambda w, c: (c @ w).sum(),
    "bce(x, c)": lambda w, c: tg.bce_with_logits(w, c),
    "transpose(-1, 0)**2": lambda w, c: (w.transpose(-1, 0) ** 2 * T([[1.0, 2.0], [3.0, 4.0]])).sum(),
    "sum(-1)**2": lambda w, c: (w.sum(-1) ** 2).sum(),
    "softmax(-2)": lambda w, c: (tg.softmax(w, -2) * c).sum(),
    "xᵀ[::-1]**3": lambda w, c: (w.T[::-1] ** 3).sum(),  # a view of a non-contiguous view
    "xᵀ.view(2, 2)*xᵀ": lambda w, c: (w.T.view(2, 2) * w.T).sum(),
}


def refused_view(w):
    """w.T.view(4) would have to copy: refused, and nothing changes."""
    with pytest.raises(RuntimeError, match="view size is not compatible"):
        w.T.view(4)


UPDATES = {
    "sgd": lambda w, c: tg.optim.SGD([w], lr=0.1).step(),
    "adam": lambda w, c: tg.optim.Adam([w], lr=0.1).step(),
    "+=": lambda w, c: w.__iadd__(0.5),
    "*=": lambda w, c: w.__imul__(1.5),
    "[]=": lambda w, c: w.__setitem__((1, -1), 0.25),
    "view": lambda w, c: w[:1].__isub__(1.0),
    "xᵀ[-1] +=": lambda w, c: w.T[-1].__iadd__(1.0),  # through views of a non-contiguous view
    "xᵀ.view(2, 2)[0] *=": lambda w, c: w.T.view(2, 2)[0].__imul__(-1.0),
    "xᵀ.view(4)": lambda w, c: refused_view(w),
    "c +=": lambda w, c: c.__iadd__(1.0),  # the plain array: forward kept a copy
    "c[0] = nan": lambda w, c: c.__setitem__(0, np.nan),
    "nothing": lambda w, c: None,
}
CHANGE_NOTHING_SAVED = {"xᵀ.view(4)", "c +=", "c[0] = nan", "nothing"}


@given(
    st.lists(st.floats(-2, 2), min_size=4, max_size=4),
    st.lists(st.sampled_from(sorted(UPDATES)), min_size=1, max_size=3),
    st.sampled_from(sorted(PROGRAMS)),
)
def test_updates_between_forward_and_backward_raise_or_change_nothing(start, updates, program):
    w = T(np.reshape(start, (2, 2)), requires_grad=True)
    c = np.array([[0.25, 0.5], [0.75, 1.0]])
    loss = PROGRAMS[program](w, c)
    at_forward, c_at_forward = w.data.copy(), c.copy()
    w.grad = np.ones((2, 2))
    with tg.no_grad():
        for update in updates:
            UPDATES[update](w, c)
    w.grad = None
    try:
        loss.backward()
    except RuntimeError as error:
        assert "modified by an in-place operation" in str(error)
        assert not set(updates) <= CHANGE_NOTHING_SAVED
        return
    fresh = T(at_forward, requires_grad=True)  # forward again, at the values the loss saw
    PROGRAMS[program](fresh, c_at_forward).backward()
    assert np.array_equal(w.grad, fresh.grad)


# --- 2. the manual update idiom ------------------------------------------------------------------


def test_the_manual_update_idiom_changes_the_parameter_in_place():
    W = T([[0.5], [0.3]], requires_grad=True, label="W")
    X, y = T([[1.0, 2.0], [3.0, 4.0]]), np.array([1.0, 0.0])
    lr, losses = 0.5, []
    for _ in range(3):
        W.grad = None
        loss = F.binary_cross_entropy_with_logits((X @ W).reshape(-1), y)
        loss.backward()
        losses.append(loss.item())
        same = W
        with tg.no_grad():
            W -= lr * W.grad
        assert W is same and W.requires_grad and W.is_leaf
    assert losses[2] < losses[1] < losses[0]
    assert W.version == 3


def test_in_place_on_a_leaf_that_requires_grad_is_refused_outside_no_grad():
    w = T([1.0], requires_grad=True)
    with pytest.raises(RuntimeError, match="a leaf Tensor that requires grad is being used in an in-place"):
        w -= 0.1
    with pytest.raises(RuntimeError, match="a leaf Tensor that requires grad"):
        w[0] = 2.0
    assert w.data[0] == 1.0  # refused before anything changed


def test_in_place_on_a_constant_that_would_need_a_gradient_is_refused():
    w = T([1.0, 2.0], requires_grad=True)
    x = T([1.0, 2.0])  # a constant that would need a gradient after += w
    with pytest.raises(RuntimeError, match="this constant Tensor would need a gradient after the change"):
        x += w
    with tg.no_grad():
        x += w  # fine without recording: x is data
    assert np.array_equal(x.data, [2.0, 4.0]) and not x.requires_grad


def test_values_follow_the_same_in_place_rules():
    w = V(3.0)
    same = w
    with tg.no_grad():
        w -= 0.5
        w *= 2.0
    assert w is same and w.data == 5.0 and w.requires_grad


def test_in_place_keeps_shape_and_dtype_or_says_why_not():
    x = T(np.zeros(3, dtype=np.float32))
    x += 1.0
    assert x.dtype == np.float32 and np.array_equal(x.data, [1.0, 1.0, 1.0])
    with pytest.raises(ValueError, match=r"the result has shape \(2, 3\), which does not fit .* \(3,\)"):
        x += T(np.ones((2, 3)))
    mask = T([True, False])
    with pytest.raises(TypeError, match="cannot hold"):
        mask += 1.5


# --- 3. boolean masks, float indices and comparisons --------------------------------------------


def test_a_boolean_tensor_is_a_mask():
    x = T([-1.0, 5.0, -2.0, 7.0], requires_grad=True)
    picked = x[T(x.data > 0)]
    assert np.array_equal(picked.data, [5.0, 7.0])
    picked.sum().backward()
    assert np.array_equal(x.grad, [0.0, 1.0, 0.0, 1.0])
    assert T([True, False]).dtype == np.bool_
    with pytest.raises(ValueError, match="only floating-point data can require grad"):
        T([True, False], requires_grad=True)


def test_comparisons_give_boolean_tensors_that_mask_as_in_pytorch():
    x = T([-1.0, 5.0, -2.0, 7.0], requires_grad=True)
    positive = x > 0
    assert positive.dtype == np.bool_ and not positive.requires_grad
    assert np.array_equal(x[x > 0].data, [5.0, 7.0])
    for compare, expected in [
        (x < 0, [True, False, True, False]),
        (x <= -1, [True, False, True, False]),
        (x >= 5, [False, True, False, True]),
        (x == 5, [False, True, False, False]),
        (x != 5, [True, False, True, True]),
        (x > T([0.0, 6.0, -3.0, 7.0]), [False, False, True, False]),
    ]:
        assert np.array_equal(compare.data, expected)
    assert len({x, T([1.0])}) == 2  # tensors are still hashable by identity


def test_float_indices_are_refused():
    x = T([1.0, 2.0, 3.0])
    with pytest.raises(IndexError, match="must be integers or booleans"):
        x[T([0.9, 1.9])]
    with pytest.raises(IndexError, match="must be integers or booleans"):
        x[np.array([0.0, 1.0])]
    assert np.array_equal(x[[0, 2]].data, [1.0, 3.0])
    assert np.array_equal(x[np.array([2, 0])].data, [3.0, 1.0])


# --- 4. shared parameters -------------------------------------------------------------------------


def test_a_layer_used_twice_is_one_set_of_parameters():
    layer = tg.nn.Linear(2, 2)
    model = tg.nn.Sequential(layer, tg.nn.Tanh(), layer)
    assert len(model.parameters()) == 2
    assert [name for name, _ in model.named_parameters()] == ["layers.0.weight", "layers.0.bias"]
    out = model(T([[1.0, 2.0]])).sum()
    out.backward()
    (gw,) = tg.grad(model(T([[1.0, 2.0]])).sum(), [layer.weight])
    assert np.allclose(layer.weight.grad, gw.data)  # both uses' contributions, once


def test_an_optimiser_refuses_a_parameter_given_twice():
    w = T([1.0], requires_grad=True)
    with pytest.raises(ValueError, match="parameter 1 is parameter 0 again"):
        tg.optim.SGD([w, w], lr=0.1)
    with pytest.raises(TypeError, match="parameter 0 is ndarray"):
        tg.optim.SGD([np.ones(1)], lr=0.1)


def test_an_optimiser_keeps_a_frozen_parameter_and_leaves_it_alone():
    # as torch.optim: model.parameters() lists frozen ones too; having no gradient, they are skipped
    model = tg.nn.Linear(2, 1, seed=0)
    model.bias.requires_grad = False
    bias, weight = model.bias.data.copy(), model.weight.data.copy()
    optimizer = tg.optim.SGD(model.parameters(), lr=0.5, weight_decay=0.1)
    model(T([[1.0, 2.0]])).sum().backward()
    optimizer.step()
    assert np.array_equal(model.bias.data, bias) and not np.array_equal(model.weight.data, weight)


# --- 5. gradients of the wrong shape from a user's op ---------------------------------------------


def returning(make_grad, forward=lambda x: x * 2):
    class Op(tg.Function, register=False):
        @staticmethod
        def forward(ctx, x):
            return forward(x)

        @staticmethod
        def backward(ctx, grad):
            return make_grad(grad)

    return Op


@pytest.mark.parametrize(
    ("shape", "make_grad", "message"),
    [
        ((1, 3), lambda g: g.T, r"got shape \(3, 1\) but expected a shape compatible with \(1, 3\)"),
        ((3,), lambda g: g[:1], r"got shape \(1,\) but expected a shape compatible with \(3,\)"),
        ((3,), lambda g: np.broadcast_to(g, (4, 1, 3)), r"got shape \(4, 1, 3\) but expected .* \(3,\)"),
        ((3,), lambda g: g * 1j, r"got a complex gradient \(complex128\); the input is real"),
        ((3,), lambda g: 2.0, r"got shape \(\) but expected a shape compatible with \(3,\)"),
        ((3,), lambda g: "2", r"got str; return an array"),
        ((3,), lambda g: V(1.0), r"got a Value; a Tensor's gradient is an array"),
    ],
)
def test_a_gradient_that_cannot_be_the_inputs_is_refused(shape, make_grad, message):
    x = T(np.ones(shape), requires_grad=True)
    y = returning(make_grad).apply(x)
    with pytest.raises(
        tg.engine.InvalidGradient, match=r"Op.backward returned an invalid gradient for input 0 \(x\): "
    ):
        y.sum().backward()
    with pytest.raises(tg.engine.InvalidGradient, match=message):
        returning(make_grad).apply(x).sum().backward()
    assert x.grad is None


def test_broadcasting_explained_by_the_op_is_summed():
    a, b = T(np.ones((1, 3)), requires_grad=True), T(np.ones((4, 1)), requires_grad=True)
    (a + b).sum().backward()
    assert np.array_equal(a.grad, [[4.0, 4.0, 4.0]]) and np.array_equal(b.grad, [[3.0]] * 4)


def test_a_value_gradient_must_be_a_real_number():
    x = V(1.0)
    with pytest.raises(
        tg.engine.InvalidGradient, match=r"got complex 1j; a Value's gradient is a real number"
    ):
        returning(lambda g: 1j).apply(x).backward()
    returning(lambda g: np.float32(3.0)).apply(x).backward()
    assert x.grad == 3.0 and type(x.grad) is float


@pytest.mark.parametrize(
    ("result", "message"),
    [
        (None, r"Op.forward returned NoneType None; return an ndarray"),
        ("abc", r"Op.forward returned str 'abc'; return an ndarray"),
        (
            np.array([1, 2, 3]),
            r"Op.forward returned an array of int64; an op that records a gradient returns floats",
        ),
        (np.array(["a"]), r"Op.forward returned an array of <U1; return real numbers"),
    ],
)
def test_forward_must_return_real_floats(result, message):
    op = returning(lambda g: g, forward=lambda x: result)
    with pytest.raises(TypeError, match=message):
        op.apply(T([1.0, 2.0, 3.0], requires_grad=True))


def test_forward_on_values_must_return_a_real_number():
    for result in (None, "3", True, 1j):
        op = returning(lambda g: g, forward=lambda x, r=result: r)
        with pytest.raises(TypeError, match=r"Op.forward returned .* for Values; return a real number"):
            op.apply(V(1.0))


# --- 6. smaller silent errors ---------------------------------------------------------------------


def test_a_node_as_the_upstream_gradient():
    x = T([1.0, 2.0], requires_grad=True)
    (x * 3).backward(T([1.0, 0.5]))
    assert np.array_equal(x.grad, [3.0, 1.5])
    v = V(2.0)
    (v * v).backward(V(0.5))
    assert v.grad == 2.0


def test_no_grad_on_generators_async_functions_and_reused_objects():
    x = T([1.0], requires_grad=True)

    @tg.no_grad
    def generator():
        yield x * 2
        yield x * 3
        return "done"

    outs = list(generator())
    assert [o.requires_grad for o in outs] == [False, False]
    assert tg.engine.grad_enabled()

    @tg.no_grad()
    async def coroutine():
        await asyncio.sleep(0)
        return x * 2

    assert not asyncio.run(coroutine()).requires_grad

    quiet = tg.no_grad()
    with quiet:
        with quiet:
            assert not tg.engine.grad_enabled()
        assert not tg.engine.grad_enabled()
    assert tg.engine.grad_enabled() and (x * 2).requires_grad


def test_grad_mode_of_one_task_does_not_leak_into_another():
    async def main():
        seen = {}

        async def without():
            with tg.no_grad():
                await asyncio.sleep(0.01)

        async def with_grad():
            await asyncio.sleep(0.005)
            seen["enabled"] = tg.engine.grad_enabled()

        await asyncio.gather(without(), with_grad())
        return seen["enabled"]

    assert asyncio.run(main()) is True


def test_standardize_treats_a_column_of_equal_floats_as_constant():
    train = np.column_stack([np.full(7, 0.1), np.arange(7.0)])
    assert 0 < train[:, 0].std() < 1e-16  # equal floats, a rounding-error deviation
    _, test = tg.data.standardize(train, np.array([[0.2, 3.0]]))
    assert test[0, 0] == pytest.approx(0.1)  # centred only, not divided by 1e-17


def test_the_logistic_loss_on_values_is_as_exact_as_on_tensors():
    for z in (40.0, 30.0, 5.0, -3.0, -40.0, 1e4):
        value = F.binary_cross_entropy_with_logits(V(z), 1.0).data
        tensor = F.binary_cross_entropy_with_logits(T([z]), np.array([1.0])).item()
        assert value == tensor
        assert value == pytest.approx(math.log1p(math.exp(-z)) if z < 700 else 0.0, rel=1e-15, abs=0)


def test_a_weight_that_does_not_fit_the_losses_is_refused():
    z, y = T(np.zeros(3)), np.ones(3)
    with pytest.raises(ValueError, match=r"weight of shape \(3, 1\) does not fit losses of shape \(3,\)"):
        F.binary_cross_entropy_with_logits(z, y, weight=np.ones((3, 1)))
    with pytest.raises(ValueError, match=r"weight of shape \(3, 1\)"):
        F.binary_cross_entropy(T(np.full(3, 0.5)), y, weight=np.ones((3, 1)))
    weighted = F.binary_cross_entropy_with_logits(z, y, weight=np.array([1.0, 2.0, 3.0]), reduction="sum")
    assert weighted.item() == pytest.approx(6 * math.log(2))


def test_np_matrix_data_is_a_plain_array():
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", PendingDeprecationWarning)  # numpy's, for making a matrix
        matrix = np.matrix([[1.0, 2.0], [3.0, 4.0]])
    m = T(matrix)
    assert type(m.data) is np.ndarray
    assert np.array_equal((m * m).data, [[1.0, 4.0], [9.0, 16.0]])  # elementwise, not a matrix product


def test_float16_reductions_accumulate_as_numpys_do():
    ones = np.ones(70_000, dtype=np.float16)
    x = T(ones, requires_grad=True)
    m = x.mean()
    assert m.dtype == np.float16 and m.item() == np.mean(ones) == 1.0
    m.backward()
    assert x.grad.dtype == np.float16 and x.grad[0] == np.float16(1 / 70_000) > 0
    with np.errstate(over="ignore"):
        assert x.sum().item() == np.sum(ones) == np.inf  # as numpy's float16 sum


def test_an_integer_gradient_passes_through_mean_as_through_sum():
    class Twice(tg.Function, register=False):
        """f(x) = 2x, whose backward sends an integer array (accepted, as a real gradient)."""

        @staticmethod
        def forward(ctx, x):
            return x * 2.0

        @staticmethod
        def backward(ctx, grad):
            return np.full(np.shape(grad), 2, dtype=np.int64)

    for reduce, n in ((T.sum, 1), (T.mean, 2)):
        x = T(np.ones((2, 3)), requires_grad=True)
        Twice.apply(reduce(x, axis=0)).sum().backward()
        assert np.array_equal(x.grad, np.full((2, 3), 2.0 / n)), reduce.__name__


def test_odd_arguments_are_refused():
    with pytest.raises(TypeError, match=r"the exponent must be a number or a Value, not str '2'"):
        V(1.0) ** "2"
    with pytest.raises(TypeError, match=r"expected a real number or a Value, got str"):
        V(1.0) + "3"
    with pytest.raises(TypeError, match="an axis is a whole number"):
        T(np.ones((2, 2))).sum(axis=True)
    for bad in (float("nan"), float("inf"), -0.1, 0):
        with pytest.raises(ValueError, match="learning rate"):
            tg.optim.SGD([T([1.0], requires_grad=True)], lr=bad)
    for betas in ((1.0, 0.999), (0.9, -0.1), (0.9, float("nan"))):
        with pytest.raises(ValueError, match=r"betas\[\d\] must be a finite number in \[0, 1\)"):
            tg.optim.Adam([T([1.0], requires_grad=True)], betas=betas)


def test_tensor_arithmetic_gives_ieee_results_without_warnings():
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        a = T([np.inf, 1e308, 1.0, 0.0], requires_grad=True)
        out = a * T([0.0, 10.0, 0.0, 0.0]) + a * a - a / T([1.0, 1.0, 1.0, 0.0])
        assert np.isnan(out.data[0]) and np.isinf(out.data[1]) and np.isnan(out.data[3])
        out.sum().backward()
        assert np.array_equal(a.grad, [np.inf, np.inf, 1.0, -np.inf])  # 0·… + 2a − 1/b
        big = T([1e308, 1e308])
        assert np.isinf(big.sum().item()) and np.isinf((big @ big).item())


def test_div_gradient_of_the_denominator_where_its_square_would_overflow_or_underflow():
    for big in (np.float32(1e20), np.float32(1e-23), 1e-170, 1e170):
        a, b = T(np.array([big]), requires_grad=True), T(np.array([big]), requires_grad=True)
        (a / b).sum().backward()
        assert b.grad[0] == pytest.approx(-1 / big, rel=1e-6)  # −x/y² = −1/y here, finite


def test_a_gradient_that_is_not_chosen_stays_out_of_relu_and_clamp():
    for cut in (lambda x: x.clamp(min=0.0), tg.relu):  # sqrt'(0) = inf must not become inf·0 = nan
        x = T(np.array([-1.0, 4.0]), requires_grad=True)
        tg.sqrt(cut(x)).sum().backward()
        assert x.grad.tolist() == [0.0, 0.25]  # PyTorch's


def test_a_formula_changed_after_forward_is_refused_not_misread(monkeypatch):
    x = T(np.array([1.0, 2.0]), requires_grad=True)
    y = tg.exp(x)  # kept its output for the formula "out"
    monkeypatch.setattr(tg.ops.Exp, "formula", "exp(x)")  # reads its input instead
    with pytest.raises(RuntimeError, match="exp: its formula was changed after forward"):
        y.backward(np.ones(2))
    tg.exp(x).backward(np.ones(2))  # recorded under the new formula: fine
    assert np.allclose(x.grad, np.exp([1.0, 2.0]))


def test_an_op_that_inherits_a_formula_follows_it_when_it_changes(monkeypatch):
    class MyTanh(tg.ops.Tanh, register=False):
        pass

    monkeypatch.setattr(tg.ops.Tanh, "formula", "1 - tanh(x)**2")  # reads x, where "1 - out**2" read out
    x = T(np.array([0.5]), requires_grad=True)
    MyTanh.apply(x).sum().backward()
    assert x.grad[0] == pytest.approx(1 - np.tanh(0.5) ** 2)


def test_a_forward_argument_may_not_shadow_g_or_out():
    for name in ("g", "out"):
        with pytest.raises(TypeError, match=f"an argument may not be called {name}"):
            exec(
                f"class Square(tg.Function, register=False):\n    formula = '2*{name}'\n"
                f"    @staticmethod\n    def forward(ctx, {name}):\n        return {name}**2",
                {"tg": tg},
            )


def test_a_power_of_minus_infinity_is_quiet_and_agrees_with_arrays():
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        v = tg.numeric.power(-math.inf, 0.5)
        t = tg.numeric.power(np.array(-math.inf), 0.5)
    assert np.array_equal(v, t, equal_nan=True)


def test_tg_pow_and_the_operator_check_the_exponent_alike():
    w = T([2.0, 3.0], requires_grad=True)
    for power, op in ((lambda e: w**e, r"\*\*"), (lambda e: tg.pow(w, e), "pow")):
        with pytest.raises(
            TypeError, match=rf"^{op}: the exponent must be a number or a Tensor, not ndarray"
        ):
            power(np.array([2.0, 3.0]))
    tg.pow(w, np.float32(2.0)).sum().backward()  # a numpy number is a constant exponent
    assert w.grad.tolist() == [4.0, 6.0]


# Recorded in-place changes of a computed tensor h, each with the same step written without one;
# and ops that use h between them (recorded before a later change: PyTorch sends their gradient
# through h as it was, which here is that number or an error, never another number).
CHANGES = {
    "+= 0.5": (lambda h, w: h.__iadd__(0.5), lambda h, w: h + 0.5),
    "*= w": (lambda h, w: h.__imul__(w), lambda h, w: h * w),
    "-= w²": (lambda h, w: h.__isub__(w * w), lambda h, w: h - w * w),
    "/= 2": (lambda h, w: h.__itruediv__(2.0), lambda h, w: h / 2.0),
    "**= 2": (lambda h, w: h.__ipow__(2), lambda h, w: h**2),
    "*= h": (lambda h, w: h.__imul__(h), lambda h, w: h * h),
    "+= h/2": (lambda h, w: h.__iadd__(h / 2), lambda h, w: h + h / 2),  # y from h: a cycle
    "[1] = 0.25": (
        lambda h, w: h.__setitem__((1, slice(None)), 0.25) or h,
        lambda h, w: tg.where(T([[False, False], [True, True]]), 0.25, h),
    ),
    "[0, 1] = 3w₀₀": (
        lambda h, w: h.__setitem__((0, 1), w[0, 0] * 3) or h,
        lambda h, w: tg.where(T([[False, True], [False, False]]), w[0, 0] * 3, h),
    ),
    "[0, 0] = 2h₁₁": (  # the value read h before the change
        lambda h, w: h.__setitem__((0, 0), h[1, 1] * 2) or h,
        lambda h, w: tg.where(T([[True, False], [False, False]]), h[1, 1] * 2, h),
    ),
}
USES = {
    "sum": lambda h: h.sum(),
    "exp": lambda h: h.exp().sum(),  # saves its output, not h
    "h·h": lambda h: (h * h).sum(),  # saves h
    "tanh(h)·w": lambda h: (h.tanh() * T([[1.0, -2.0], [0.5, 3.0]])).sum(),
}
STARTS = {"2w": lambda w: w * 2, "sigmoid": lambda w: w.sigmoid(), "w + 1": lambda w: w + 1}
ALLOWED = ("modified by an in-place operation", "after an op (", "the graph has a cycle")


@given(
    st.lists(st.floats(-2, 2), min_size=4, max_size=4),
    st.sampled_from(sorted(STARTS)),
    st.lists(st.sampled_from(sorted(CHANGES) + [f"use {u}" for u in sorted(USES)]), min_size=1, max_size=5),
)
def test_in_place_changes_of_computed_tensors_give_the_functional_gradient_or_an_error(start, first, steps):
    def program(w, in_place):
        h = STARTS[first](w)
        losses = []
        for step in steps:
            if step.startswith("use "):
                losses.append(USES[step[4:]](h))
            else:
                h = CHANGES[step][0 if in_place else 1](h, w)
        return sum(losses, h.sum())

    data = np.reshape(start, (2, 2))
    w, fresh = T(data, requires_grad=True), T(data, requires_grad=True)
    expected = program(fresh, in_place=False)
    expected.backward()
    try:
        loss = program(w, in_place=True)
        assert loss.item() == pytest.approx(expected.item(), rel=1e-12, nan_ok=True)
        loss.backward()
    except RuntimeError as error:
        assert any(reason in str(error) for reason in ALLOWED), error
        return
    np.testing.assert_allclose(w.grad, fresh.grad, rtol=1e-12, atol=1e-300, equal_nan=True)
