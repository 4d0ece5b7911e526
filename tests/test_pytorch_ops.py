"""The ops a PyTorch user reaches for (issue 15, point 2), at the points the registry-wide
property tests keep away from: kinks, ties, bounds, empty and 0-d tensors, aliasing. Expected
values come from numpy or by hand, following PyTorch's conventions."""

import math

import numpy as np
import pytest

import tinygrad_lr as tg
from tinygrad_lr import Tensor, Value

INF, NAN = math.inf, math.nan


def grad_of(fn, data, upstream=None):
    x = Tensor(np.array(data, dtype=float), requires_grad=True)
    out = fn(x)
    out.backward(np.ones(out.shape) if upstream is None else np.asarray(upstream, float))
    return out.data, x.grad


# --- abs, sqrt, clamp ----------------------------------------------------------------------------


def test_abs_and_its_gradient_at_zero_as_pytorch():
    out, grad = grad_of(abs, [-2.0, 0.0, 3.0, -0.0])
    assert out.tolist() == [2.0, 0.0, 3.0, 0.0]
    assert grad.tolist() == [-1.0, 0.0, 1.0, 0.0]  # sign x, and 0 at 0
    assert np.array_equal(tg.abs(Tensor([-1.5])).data, [1.5]) and Tensor([-1.5]).abs().tolist() == [1.5]
    _, grad = grad_of(abs, [NAN])
    assert np.isnan(grad[0])  # a nan input gets a nan gradient, not a silent 0
    for x, expected in ((-2.0, -1.0), (0.0, 0.0), (3.0, 1.0)):
        v = Value(x)
        w = abs(v)
        w.backward()
        assert w.data == abs(x) and v.grad == expected
    assert tg.abs(tg.arange(-2, 1)).tolist() == [2, 1, 0]  # integers stay integers


def test_sqrt_and_its_gradient_at_zero_as_pytorch():
    out, grad = grad_of(tg.sqrt, [4.0, 0.25, 0.0])
    assert out.tolist() == [2.0, 0.5, 0.0]
    assert grad.tolist() == [0.25, 1.0, INF]  # 1/(2√x): inf at 0
    out, grad = grad_of(tg.sqrt, [-1.0])
    assert np.isnan(out[0]) and np.isnan(grad[0])  # IEEE, no warning, no exception
    v = Value(9.0)
    r = v.sqrt()
    r.backward()
    assert r.data == 3.0 and v.grad == pytest.approx(1 / 6)
    assert math.isnan(Value(-4.0).sqrt().data)
    assert Tensor(np.array([4.0], np.float32)).sqrt().dtype == np.float32


def test_clamp_passes_the_gradient_at_its_bounds_as_pytorch():
    x = [-2.0, -1.0, 0.0, 1.0, 2.0]
    out, grad = grad_of(lambda t: t.clamp(-1.0, 1.0), x)
    assert out.tolist() == np.clip(x, -1, 1).tolist()
    assert grad.tolist() == [0.0, 1.0, 1.0, 1.0, 0.0]  # bounds inclusive
    out, grad = grad_of(lambda t: t.clamp(min=0.0), x)
    assert out.tolist() == [0.0, 0.0, 0.0, 1.0, 2.0] and grad.tolist() == [0.0, 0.0, 1.0, 1.0, 1.0]
    out, grad = grad_of(lambda t: tg.clip(t, max=0), x)
    assert out.tolist() == [-2.0, -1.0, 0.0, 0.0, 0.0] and grad.tolist() == [1.0, 1.0, 1.0, 0.0, 0.0]
    out, grad = grad_of(lambda t: t.clip(1.0, -1.0), x)  # min > max: everything is max
    assert out.tolist() == [-1.0] * 5 and grad.tolist() == [0.0] * 5
    out, grad = grad_of(lambda t: t.clamp(0.0, 1.0), [NAN])
    assert np.isnan(out[0]) and grad.tolist() == [0.0]  # as PyTorch: nan stays, no gradient
    v = Value(2.0)
    c = v.clamp(max=1.5)
    c.backward()
    assert c.data == 1.5 and v.grad == 0.0
    assert Tensor(np.ones(2, np.float32)).clamp(0.0, 0.5).dtype == np.float32
    assert tg.arange(5).clamp(1, 3).tolist() == [1, 1, 2, 3, 3]


def test_clamp_refuses_what_is_not_a_bound():
    t = Tensor([1.0])
    with pytest.raises(ValueError, match="give min, max or both"):
        t.clamp()
    with pytest.raises(TypeError, match="min must be a number or None, not Tensor"):
        t.clamp(Tensor([0.0]))
    with pytest.raises(ValueError, match="max is nan"):
        t.clamp(0.0, NAN)


# --- max, min, argmax, argmin -------------------------------------------------------------------


def test_full_max_shares_the_gradient_among_ties_as_pytorch():
    out, grad = grad_of(lambda t: t.max(), [[1.0, 3.0], [3.0, 2.0]])
    assert out == 3.0 and grad.tolist() == [[0.0, 0.5], [0.5, 0.0]]
    out, grad = grad_of(lambda t: t.min(), [[1.0, 3.0], [1.0, 1.0]])
    assert out == 1.0 and np.allclose(grad, [[1 / 3, 0.0], [1 / 3, 1 / 3]])
    out, grad = grad_of(lambda t: tg.amax(t, axis=1), [[1.0, 3.0, 3.0], [2.0, 0.0, 2.0]])
    assert out.tolist() == [3.0, 2.0] and grad.tolist() == [[0.0, 0.5, 0.5], [0.5, 0.0, 0.5]]
    out, grad = grad_of(lambda t: t.max(), [1.0, NAN, 2.0])
    assert np.isnan(out) and grad.tolist() == [0.0, 1.0, 0.0]  # nan is the largest


def test_max_along_a_dim_gives_values_and_indices_and_the_gradient_to_one_as_pytorch():
    data = [[1.0, 3.0, 3.0], [2.0, 0.0, 2.0]]
    x = Tensor(data, requires_grad=True)
    values, indices = x.max(dim=1)
    assert values.tolist() == [3.0, 2.0] and indices.tolist() == [1, 0]  # the first of ties
    assert indices.dtype == np.int64 and not indices.requires_grad
    (values * Tensor([10.0, 20.0])).sum().backward()
    assert x.grad.tolist() == [[0.0, 10.0, 0.0], [20.0, 0.0, 0.0]]
    result = tg.min(x, axis=0, keepdims=True)
    assert result.values.tolist() == [[1.0, 0.0, 2.0]] and result.indices.tolist() == [[0, 1, 1]]
    assert x.max(-1).values.tolist() == np.max(data, axis=-1).tolist()
    with pytest.raises(AttributeError, match=r"returns \(values, indices\).*use \.values\.sum"):
        x.max(dim=1).sum()
    with pytest.raises(TypeError, match="along one axis"):
        x.max(dim=(0, 1))


def test_argmax_and_argmin_as_numpy():
    rng = np.random.default_rng(3)
    data = rng.integers(0, 4, (3, 4, 5)).astype(float)  # many ties: the first one wins
    t = Tensor(data)
    for axis in (None, 0, 1, -1):
        assert np.array_equal(t.argmax(axis).data, np.argmax(data, axis))
        assert np.array_equal(tg.argmin(t, dim=axis).data, np.argmin(data, axis))
        assert np.array_equal(t.argmax(dim=axis, keepdim=True).data, np.argmax(data, axis, keepdims=True))
    assert t.argmax().dtype == np.int64 and t.argmax().shape == ()
    assert Tensor(5.0).argmax().item() == 0 and Tensor(5.0).argmax(dim=0).item() == 0


def test_max_on_0d_empty_and_integer_tensors():
    zero_d = Tensor(4.0, requires_grad=True)
    values, indices = zero_d.max(dim=0)
    values.backward()
    assert values.item() == 4.0 and indices.item() == 0 and zero_d.grad == 1.0
    with pytest.raises(ValueError, match="no elements"):
        tg.zeros(0).max()
    with pytest.raises(ValueError, match="no elements"):
        tg.zeros(2, 0).max(dim=1)
    with pytest.raises(ValueError, match="no elements"):
        tg.zeros(0).argmax()
    assert tg.zeros(0, 3).max(dim=1).values.shape == (0,)  # nothing reduced is empty
    assert tg.arange(6).reshape(2, 3).max().item() == 5
    assert tg.arange(6).reshape(2, 3).max(1).values.dtype == np.int64


def test_reductions_take_dim_and_keepdim():
    data = np.arange(24.0).reshape(2, 3, 4)
    t = Tensor(data)
    assert np.array_equal(t.sum(dim=1).data, data.sum(axis=1))
    assert np.array_equal(t.sum(dim=(0, -1), keepdim=True).data, data.sum(axis=(0, 2), keepdims=True))
    assert np.array_equal(tg.mean(t, dim=-1, keepdim=True).data, data.mean(axis=-1, keepdims=True))
    assert np.array_equal(t.amax(dim=(1, 2)).data, data.max(axis=(1, 2)))
    with pytest.raises(TypeError, match="mean of integers"):
        tg.arange(4).mean()


# --- where ----------------------------------------------------------------------------------------


def test_where_selects_values_and_gradients_as_pytorch():
    cond = np.array([[True, False, True]])
    x = Tensor([[1.0, 2.0, 3.0], [4.0, 5.0, 6.0]], requires_grad=True)
    y = Tensor([10.0, 20.0, 30.0], requires_grad=True)  # broadcast
    out = tg.where(Tensor(cond), x, y)
    assert np.array_equal(out.data, np.where(cond, x.data, y.data))
    out.backward(np.array([[1.0, 2.0, 3.0], [4.0, 5.0, 6.0]]))
    assert x.grad.tolist() == [[1.0, 0.0, 3.0], [4.0, 0.0, 6.0]]
    assert y.grad.tolist() == [0.0, 7.0, 0.0]  # summed over the broadcast axis


def test_where_keeps_an_inf_of_the_branch_not_taken_out():
    x, y = Tensor([1.0, 2.0], requires_grad=True), Tensor([3.0, 4.0], requires_grad=True)
    gx, gy = tg.grad(tg.where(np.array([True, False]), x, y), [x, y], grad_output=np.array([1.0, INF]))
    assert gx.tolist() == [1.0, 0.0] and gy.tolist() == [0.0, INF]  # not inf·0 = nan


def test_where_remembers_the_condition_it_chose_with():
    x = Tensor([1.0, 2.0], requires_grad=True)
    cond = x > 1.5
    out = tg.where(cond, x, 0.0)
    cond[0] = True  # a later change of the mask does not move the gradient
    out.sum().backward()
    assert x.grad.tolist() == [0.0, 1.0]
    assert tg.where(x > 1.5, 1.0, 0.0).tolist() == [0.0, 1.0]  # numbers only: still a Tensor
    with pytest.raises(TypeError, match="must be boolean"):
        tg.where(np.array([1.0, 0.0]), x, 0.0)


def test_where_on_values():
    v = Value(-2.0)
    out = tg.where(v > 0, v, v * 0.1)
    out.backward()
    assert out.data == pytest.approx(-0.2) and v.grad == pytest.approx(0.1)


# --- cat, stack, flatten, view, squeeze, unsqueeze ------------------------------------------------


def test_cat_and_stack_as_numpy_with_gradients_to_each_part():
    parts = [np.arange(6.0).reshape(2, 3), np.arange(3.0).reshape(1, 3) + 10, np.zeros((0, 3))]
    tensors = [Tensor(p, requires_grad=True) for p in parts]
    out = tg.cat(tensors)
    assert np.array_equal(out.data, np.concatenate(parts))
    weights = np.arange(9.0).reshape(3, 3)
    (out * weights).sum().backward()
    assert np.array_equal(tensors[0].grad, weights[:2]) and np.array_equal(tensors[1].grad, weights[2:])
    assert tensors[2].grad.shape == (0, 3)
    many = [Tensor([float(k)], requires_grad=True) for k in range(7)]
    joined = tg.concatenate(many, axis=-1)
    (joined * np.arange(7.0)).sum().backward()
    assert joined.tolist() == list(range(7)) and [m.grad.item() for m in many] == list(range(7))
    a, b = Tensor([[1.0, 2.0]], requires_grad=True), Tensor([[3.0, 4.0]], requires_grad=True)
    for axis in (0, 1, 2, -1):
        assert np.array_equal(tg.stack([a, b], dim=axis).data, np.stack([a.data, b.data], axis))
    (tg.stack([a, b], axis=-1) * np.array([[[1.0, 10.0], [2.0, 20.0]]])).sum().backward()
    assert a.grad.tolist() == [[1.0, 2.0]] and b.grad.tolist() == [[10.0, 20.0]]
    assert tg.stack([Tensor(1.0), Tensor(2.0)]).tolist() == [1.0, 2.0]


def test_cat_and_stack_refuse_what_does_not_fit():
    with pytest.raises(ValueError, match="differ outside axis 0"):
        tg.cat([tg.zeros(2, 3), tg.zeros(2, 4)])
    with pytest.raises(ValueError, match="0-d tensor cannot be joined"):
        tg.cat([Tensor(1.0), Tensor(2.0)])
    with pytest.raises(ValueError, match="tensor 1 has 1 dimensions but tensor 0 has 2"):
        tg.cat([tg.zeros(2, 3), tg.zeros(3)])
    with pytest.raises(ValueError, match="same shape"):
        tg.stack([tg.zeros(2), tg.zeros(3)])
    with pytest.raises(IndexError, match="axis 2 is out of range"):
        tg.cat([tg.zeros(2, 3)], axis=2)
    with pytest.raises(ValueError, match="at least one"):
        tg.cat([])


def test_cat_makes_a_copy_never_a_view():
    a = Tensor([1.0, 2.0])
    for joined in (tg.cat([a]), tg.cat([a, a]), tg.stack([a])):
        joined += 100  # allowed (nothing requires grad), and must not reach a
        assert a.tolist() == [1.0, 2.0] and a.version == 0


def test_shape_changes_as_numpy_and_pytorch():
    data = np.arange(24.0).reshape(2, 1, 3, 4)
    t = Tensor(data)
    assert t.flatten().shape == (24,) and t.flatten(1).shape == (2, 12)
    assert t.flatten(start_dim=1, end_dim=2).shape == (2, 3, 4) and t.flatten(-2).shape == (2, 1, 12)
    assert np.array_equal(t.flatten().data, data.ravel()) and Tensor(3.0).flatten().shape == (1,)
    assert t.view(4, 6).shape == (4, 6) and t.view(-1).shape == (24,) and t.view((6, 4)).shape == (6, 4)
    assert t.squeeze().shape == (2, 3, 4) and t.squeeze(1).shape == (2, 3, 4)
    assert t.squeeze(0).shape == (2, 1, 3, 4)  # not of length 1: left alone, as PyTorch
    assert tg.squeeze(t, axis=(1, -1)).shape == (2, 3, 4)
    assert t.unsqueeze(0).shape == (1, 2, 1, 3, 4) and t.unsqueeze(-1).shape == (2, 1, 3, 4, 1)
    assert tg.unsqueeze(Tensor(1.0), 0).shape == (1,)
    with pytest.raises(ValueError, match="start axis 2 comes after end axis 1"):
        t.flatten(2, 1)
    with pytest.raises(IndexError, match="out of range"):
        t.unsqueeze(6)
    with pytest.raises(TypeError, match="say where the new axis goes"):
        tg.unsqueeze(t)


def test_views_share_the_version_so_an_in_place_change_is_caught():
    a = Tensor([1.0, 2.0, 3.0])
    w = Tensor([1.0, 1.0, 1.0], requires_grad=True)
    loss = (w * a).sum()  # saves a for w's gradient
    for alias in (a.view(3, 1), a.flatten(), a.unsqueeze(0), a.view(1, 3).squeeze()):
        assert alias.version == a.version
    view = a.view(3, 1)
    view += 1  # changes a's data
    assert a.tolist() == [2.0, 3.0, 4.0] and a.version == 1
    with pytest.raises(RuntimeError, match="modified by an in-place operation"):
        loss.backward()


def test_gradients_flow_through_shape_changes():
    _, grad = grad_of(lambda t: t.flatten() * np.arange(6.0), np.zeros((2, 3)))
    assert grad.tolist() == [[0.0, 1.0, 2.0], [3.0, 4.0, 5.0]]
    _, grad = grad_of(lambda t: t.unsqueeze(1).squeeze(1).view(3, 2) * 2, np.zeros((2, 3)))
    assert grad.tolist() == [[2.0] * 3] * 2


# --- axes: numpy's and PyTorch's names, negative axes, transpose ----------------------------------

REDUCTIONS = ["sum", "mean", "max", "min", "amax", "amin", "argmax", "argmin", "any", "all"]
ALONG_ONE_AXIS = {
    "softmax": Tensor.softmax,
    "log_softmax": Tensor.log_softmax,
    "cat": lambda t, **kw: tg.cat([t, t], **kw),
    "stack": lambda t, **kw: tg.stack([t, t], **kw),
    "squeeze": tg.squeeze,
    "unsqueeze": tg.unsqueeze,
}


def parts(result):
    return [part.data for part in result] if isinstance(result, tuple) else [result.data]


@pytest.mark.parametrize("name", REDUCTIONS)
def test_every_reduction_reads_numpys_and_pytorchs_names_alike(name):
    reduce = getattr(Tensor(np.arange(6.0).reshape(2, 3)), name)
    for numpy_result, torch_result in zip(
        parts(reduce(axis=-1, keepdims=True)), parts(reduce(dim=-1, keepdim=True))
    ):
        assert np.array_equal(numpy_result, torch_result)
    both = "numpy's and PyTorch's names for the same argument; give one of them, not both$"
    with pytest.raises(TypeError, match=rf"^{name}: got axis=1 and dim=1, {both}"):
        reduce(axis=1, dim=1)
    with pytest.raises(TypeError, match=rf"^{name}: got keepdims=True and keepdim=False, {both}"):
        reduce(keepdims=True, keepdim=False)
    with pytest.raises(TypeError, match=rf"^{name}: keepdims must be True or False, got 1$"):
        reduce(keepdim=1)
    out_of_range = rf"^{name}: axis -3 is out of range for an array of 2 dimensions; give one from -2 to 1"
    with pytest.raises(ValueError, match=out_of_range) as refused:
        reduce(dim=-3)
    assert isinstance(refused.value, IndexError)  # numpy's AxisError: either except clause catches it


@pytest.mark.parametrize("name", ["sum", "mean", "amax", "amin", "any", "all"])
def test_every_reduction_over_several_axes_refuses_one_named_twice(name):
    reduce = getattr(Tensor(np.ones((2, 3))), name)
    with pytest.raises(ValueError, match=rf"^{name}: repeated axis in \(0, -2\): it names axis 0 twice"):
        reduce(dim=(0, -2))


@pytest.mark.parametrize("name", ["sum", "mean", "amax", "amin"])
def test_a_reduction_over_no_axes_is_refused_where_numpy_and_pytorch_disagree(name):
    # numpy's np.sum(a, axis=()) reduces nothing, PyTorch 2.13's t.sum(dim=()) reduces every axis
    t = Tensor(np.arange(6.0).reshape(2, 3), requires_grad=True)
    reduce = getattr(t, name)
    disagree = rf"^{name}: no axes \((\(\)|\[\])\) means no axis to numpy and every axis to PyTorch"
    for call in (
        lambda: reduce(()),
        lambda: reduce(axis=()),
        lambda: reduce(dim=[]),
        lambda: reduce(dim=(), keepdim=True),
    ):
        with pytest.raises(ValueError, match=disagree):
            call()
    with pytest.raises(ValueError, match=disagree):
        getattr(tg, name)(t, dim=())


def test_any_and_all_over_no_axes_reduce_nothing_as_numpy_and_pytorch():
    data = np.array([[0.0, 1.0], [2.0, 0.0]])
    assert np.array_equal(Tensor(data).any(()).data, data != 0)
    assert np.array_equal(Tensor(data).all(dim=()).data, data != 0)


@pytest.mark.parametrize("name", list(ALONG_ONE_AXIS))
def test_every_op_along_an_axis_reads_numpys_and_pytorchs_names_alike(name):
    along, t = ALONG_ONE_AXIS[name], Tensor(np.arange(6.0).reshape(2, 1, 3))
    assert np.array_equal(along(t, axis=-2).data, along(t, dim=-2).data)
    with pytest.raises(TypeError, match=rf"^{name}: got axis=1 and dim=1, numpy's and PyTorch's names"):
        along(t, axis=1, dim=1)
    with pytest.raises(IndexError, match=rf"^{name}: axis 5 is out of range for an array of [34] dimensions"):
        along(t, dim=5)
    with pytest.raises(TypeError, match=rf"^{name}: an axis is a whole number"):
        along(t, dim=True)


@pytest.mark.parametrize(
    ("shape", "axes"),
    [((3, 3), (-1, 0)), ((2, 3), (-1, -2)), ((2, 3, 4), (1, -1, 0)), ((2, 3, 4), (-1, 0, 1))],
)
def test_transpose_with_negative_axes_has_the_right_gradient(shape, axes):
    data = np.arange(float(np.prod(shape))).reshape(shape)
    weights = np.random.default_rng(0).standard_normal(np.transpose(data, axes).shape)
    x = Tensor(data, requires_grad=True)
    y = x.transpose(*axes)
    assert np.array_equal(y.data, np.transpose(data, axes))
    (y * weights).sum().backward()
    # y[j] = x[i] where j[k] = i[axes[k]], so ∂(Σ w ⊙ y)/∂x[i] = w[j]
    expected = np.empty(shape)
    for i in np.ndindex(*shape):
        expected[i] = weights[tuple(i[a] for a in axes)]
    assert np.array_equal(x.grad, expected)
    assert tg.gradcheck(lambda t: (tg.transpose(t, axes) * weights).sum(), [Tensor(data, requires_grad=True)])


def test_transpose_refuses_axes_that_are_not_a_permutation():
    x = tg.zeros(2, 3, 4)
    with pytest.raises(ValueError, match=r"^transpose: axes \(0, 1\) name 2 of the array's 3 axes; give all"):
        x.transpose((0, 1))  # as a tuple: the new order of all axes (two separate ones are swapped)
    with pytest.raises(ValueError, match=r"^transpose: axes \(1,\) name 1 of the array's 3 axes; give all"):
        x.transpose(1)
    with pytest.raises(ValueError, match=r"^transpose: repeated axis in \(0, -3, 1\): it names axis 0 twice"):
        x.transpose(0, -3, 1)
    with pytest.raises(IndexError, match=r"^transpose: axis 3 is out of range for an array of 3 dimensions"):
        x.transpose(0, 1, 3)


# --- comparisons ----------------------------------------------------------------------------------


def test_value_comparisons_are_python_bools_and_equality_is_identity():
    a, b = Value(1.0), Value(2.0)
    assert (a < b) is True and (a <= 1) is True and (b > 3) is False and (b >= 2.0) is True
    assert a != Value(1.0) and a == a and len({a, Value(1.0)}) == 2  # nodes by identity
    assert float(Value(2.5)) == 2.5
    with pytest.raises(TypeError, match="expected a real number or a Value"):
        a < "x"  # noqa: B015


def test_tensor_comparisons_carry_no_gradient():
    x = Tensor([1.0, -1.0], requires_grad=True)
    for compared in (x > 0, x <= 0, x == 1, x != 1):
        assert compared.dtype == np.bool_ and not compared.requires_grad and compared.is_leaf


def test_view_takes_a_shape_not_a_dtype():
    with pytest.raises(TypeError, match=r"view: takes a shape.*tg.Tensor\(t, dtype=...\)"):
        Tensor([1.0, 2.0]).view(tg.float32)


def test_index_functions_refuse_values():
    for fn in (tg.argmax, tg.argmin, tg.max, tg.amax):
        with pytest.raises(TypeError, match=r"works on Tensors.*not on Values"):
            fn(Value(1.0))


def test_any_and_all_as_numpy_give_boolean_tensors():
    data = np.array([[1.0, 0.0, 0.0], [0.0, 0.0, 0.0]])
    t = Tensor(data, requires_grad=True)
    for axis in (None, 0, 1, -1, (0, 1)):
        assert np.array_equal(t.any(axis).data, np.any(data, axis=axis))
        assert np.array_equal(t.all(dim=axis, keepdim=True).data, np.all(data, axis=axis, keepdims=True))
    assert t.any().dtype == np.bool_ and not t.any().requires_grad
    assert bool((t >= 0).all()) is True and bool(t.all()) is False
    with pytest.raises(ValueError, match=r"ambiguous; use t.any\(\) or t.all\(\)"):
        bool(t)


def test_the_new_ops_are_in_the_op_table():
    # registered, so the registry-wide property tests check each one's reference, formula and
    # first and second derivatives (Values too, for the elementwise ones)
    assert {"abs", "sqrt", "clamp", "max", "min", "where", "cat"} <= set(tg.REGISTRY)
    assert not any(tg.REGISTRY[name].tensor_only for name in ("abs", "sqrt", "clamp", "where"))


def test_integer_and_empty_tensors_through_the_new_ops():
    joined = tg.cat([tg.arange(2), tg.arange(3)])
    assert joined.dtype == np.int64 and joined.tolist() == [0, 1, 0, 1, 2]
    assert tg.stack([tg.arange(2), tg.arange(2)], dim=1).tolist() == [[0, 0], [1, 1]]
    assert tg.where(tg.arange(3) > 0, tg.arange(3), -1).tolist() == [-1, 1, 2]
    assert tg.zeros(0, 3).flatten().shape == (0,) and tg.zeros(0, 1).squeeze().shape == (0,)
    assert tg.zeros(2, 0).sum(dim=1).tolist() == [0.0, 0.0]
    empty = Tensor(np.zeros((0, 2)), requires_grad=True)
    tg.cat([empty, Tensor([[1.0, 2.0]])]).sum().backward()
    assert empty.grad.shape == (0, 2)


# --- powers at zero and below --------------------------------------------------------------------

# (x, y, ∂/∂x, ∂/∂y) of x**y with both requiring grad, as PyTorch 2.13 gives them in float64
POWERS_AS_PYTORCH = [
    (0.0, -1.0, -INF, -INF),
    (0.0, -0.5, -INF, -INF),
    (0.0, 0.0, 0.0, 0.0),
    (0.0, 0.5, INF, 0.0),
    (0.0, 2.0, 0.0, 0.0),
    (-0.0, -1.0, -INF, INF),
    (-0.0, -2.0, INF, -INF),
    (-2.0, -1.0, -0.25, NAN),
    (-2.0, -0.5, NAN, NAN),
    (-2.0, 0.0, 0.0, NAN),
    (-2.0, 0.5, NAN, NAN),
    (-2.0, 2.0, -4.0, NAN),
]


@pytest.mark.parametrize(("x", "y", "dx", "dy"), POWERS_AS_PYTORCH)
def test_power_gradients_at_zero_and_below_as_pytorch(x, y, dx, dy):
    def same(a, b):
        return np.array_equal(a, b, equal_nan=True)

    base, exponent = Tensor([x], requires_grad=True), Tensor([y], requires_grad=True)
    (base**exponent).backward(np.ones(1))
    assert same(base.grad, [dx]) and same(exponent.grad, [dy])
    base, exponent = Value(x), Value(y)
    (base**exponent).backward()
    assert same(base.grad, dx) and same(exponent.grad, dy)
    base, exponent = Tensor(x, requires_grad=True), Tensor(y, requires_grad=True)
    grads = tg.grad(base**exponent, (base, exponent), create_graph=True)
    assert same(grads[0].data, dx) and same(grads[1].data, dy)


# (x, y, upstream, ∂/∂x, ∂/∂y) of maximum(x, y), as PyTorch 2.13 gives them: the gradient goes
# to each input not below the other (so to both where one is nan), halved at a tie, and chosen,
# not multiplied, so an inf or nan upstream stays out of the input not taken
MAXIMUM_AS_PYTORCH = [
    (NAN, 1.0, 1.0, 1.0, 1.0),
    (1.0, NAN, 1.0, 1.0, 1.0),
    (NAN, NAN, 1.0, 1.0, 1.0),
    (NAN, 1.0, -INF, -INF, -INF),
    (1.0, 1.0, 1.0, 0.5, 0.5),
    (1.0, 1.0, INF, INF, INF),
    (INF, INF, 1.0, 0.5, 0.5),
    (2.0, 1.0, 1.0, 1.0, 0.0),
    (2.0, 1.0, INF, INF, 0.0),
    (1.0, 2.0, NAN, 0.0, NAN),
    (INF, 1.0, -INF, -INF, 0.0),
]


@pytest.mark.parametrize(("x", "y", "upstream", "dx", "dy"), MAXIMUM_AS_PYTORCH)
def test_maximum_splits_the_gradient_as_pytorch(x, y, upstream, dx, dy):
    def same(a, b):
        return np.array_equal(a, b, equal_nan=True)

    a, b = Tensor([x], requires_grad=True), Tensor([y], requires_grad=True)
    tg.maximum(a, b).backward(np.array([upstream]))
    assert same(a.grad, [dx]) and same(b.grad, [dy])
    a, b = Value(x), Value(y)
    (tg.maximum(a, b) * upstream).backward()
    assert same(a.grad, dx) and same(b.grad, dy)
    a, b = Tensor(x, requires_grad=True), Tensor(y, requires_grad=True)
    grads = tg.grad(tg.maximum(a, b), (a, b), Tensor(upstream), create_graph=True)
    assert same(grads[0].data, dx) and same(grads[1].data, dy)
