"""Tensor: construction, the array surface, broadcasting gradients, array ops, errors."""

import math
import re
import warnings

import numpy as np
import pytest
from hypothesis import given

import tinygrad_lr as tg
from tinygrad_lr import Tensor, Value
from tinygrad_lr.core import numeric

from .test_dag_property import programs, run


@pytest.fixture(autouse=True)
def no_warnings():
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        yield


def test_construction_and_dtypes():
    t = Tensor([[1.0, 2.0], [3.0, 4.0]])
    assert t.dtype == np.float64 and t.shape == (2, 2) and t.ndim == 2 and t.size == 4
    assert not t.requires_grad and t.grad is None and t.is_leaf
    assert Tensor(np.ones(3, dtype=np.float32)).dtype == np.float32
    assert Tensor([1, 2, 3]).dtype == np.float64  # integers are promoted so gradients exist
    assert Tensor([True, False]).dtype == np.bool_  # a mask stays a mask
    assert Tensor(2.5).shape == ()
    array = np.zeros(3)
    assert Tensor(array).data is array  # a float ndarray is used without a copy


@pytest.mark.parametrize(
    ("data", "error", "message"),
    [
        ([[1.0, 2.0], [3.0]], ValueError, "not a rectangular array"),
        (["a", "b"], TypeError, "expected real numbers"),
        (None, TypeError, "expected real numbers"),
        ([1 + 2j], TypeError, "expected real numbers"),
        (Value(1.0), TypeError, r"for a scalar use tg.Tensor\(value.data\)"),
    ],
)
def test_bad_data_is_refused_with_a_reason(data, error, message):
    with pytest.raises(error, match=message):
        Tensor(data)


def test_array_surface():
    t = Tensor([[1.0, 2.0, 3.0], [4.0, 5.0, 6.0]], requires_grad=True, label="t")
    assert t.T.shape == (3, 2) and np.array_equal(t.T.data, t.data.T)
    assert Tensor([[7.0]]).item() == 7.0
    with pytest.raises(ValueError, match=r"shape \(2, 3\); only one-element tensors have an item"):
        t.item()
    assert t.numpy() is t.data
    d = t.detach()
    assert d.data is t.data and not d.requires_grad and d.is_leaf
    assert len(t) == 2


def test_repr_shows_values_label_and_op():
    t = Tensor([[1.0, 2.0]], requires_grad=True, label="w")
    assert repr(t) == "Tensor([[1., 2.]], label='w', requires_grad=True)"
    assert repr(t.sigmoid()) == "Tensor([[0.7311, 0.8808]], op='σ')"
    assert "dtype=float32" in repr(Tensor(np.ones(2, np.float32)))
    big = repr(Tensor(np.arange(1000.0)))
    assert "..." in big and len(big) < 120


def test_broadcast_gradients_are_summed_to_each_shape():
    x = Tensor(np.arange(12.0).reshape(3, 4), requires_grad=True)
    b = Tensor(np.ones(4), requires_grad=True)
    c = Tensor(np.ones((3, 1)), requires_grad=True)
    s = Tensor(2.0, requires_grad=True)
    ((x + b) * c * s).sum().backward()
    assert b.grad.shape == (4,) and np.allclose(b.grad, 6.0)
    assert c.grad.shape == (3, 1) and np.allclose(c.grad[:, 0], 2 * (x.data.sum(1) + 4))
    assert s.grad.shape == () and np.isclose(s.grad, (x.data + 1).sum())
    assert np.allclose(x.grad, 2.0)


def test_leaves_accumulate_and_never_share_a_buffer():
    a = Tensor(np.ones(3), requires_grad=True)
    b = Tensor(np.ones(3), requires_grad=True)
    out = (a + b).sum()
    out.backward()
    a.grad += 100  # must not leak into b.grad
    assert np.array_equal(b.grad, np.ones(3))
    out.backward()
    assert np.array_equal(b.grad, 2 * np.ones(3)) and np.array_equal(a.grad, 102 * np.ones(3))


def test_interior_tensors_do_not_keep_grad_leaves_do():
    w = Tensor(np.ones(2), requires_grad=True)
    h = w * 3
    h.sum().backward()
    assert h.grad is None and np.array_equal(w.grad, [3.0, 3.0])


def test_backward_of_a_non_scalar_explains_what_to_pass():
    y = Tensor(np.ones((2, 3)), requires_grad=True) * 2
    with pytest.raises(RuntimeError, match=r"pass grad=np.ones\(\(2, 3\)\).*out.sum\(\).backward\(\)"):
        y.backward()
    with pytest.raises(ValueError, match=r"grad has shape \(3,\) but the output has shape \(2, 3\)"):
        y.backward(np.ones(3))
    y.backward(np.full((2, 3), 0.5))
    assert np.array_equal(y.parents[0].grad, np.ones((2, 3)))


MATMUL_SHAPES = [
    ((3,), (3,), ()),
    ((2, 3), (3,), (2,)),
    ((3,), (3, 4), (4,)),
    ((2, 3), (3, 4), (2, 4)),
    ((5, 2, 3), (3, 4), (5, 2, 4)),
    ((2, 3), (5, 3, 4), (5, 2, 4)),
    ((5, 1, 2, 3), (4, 3, 2), (5, 4, 2, 2)),
]


@pytest.mark.parametrize(("a", "b", "expected"), MATMUL_SHAPES)
def test_matmul_follows_numpy_and_its_gradients_check(a, b, expected):
    rng = np.random.default_rng(1)
    x = Tensor(rng.standard_normal(a), requires_grad=True)
    y = Tensor(rng.standard_normal(b), requires_grad=True)
    assert (x @ y).shape == expected and np.allclose((x @ y).data, x.data @ y.data)
    assert tg.matmul(x, y).shape == expected
    assert tg.gradcheck(lambda x, y: ((x @ y) * 1.7).sum(), [x, y])


def test_matmul_shape_errors_name_both_shapes():
    with pytest.raises(ValueError, match=r"matmul: shapes \(3, 4\) and \(5, 2\) do not align: 4 != 5"):
        Tensor(np.ones((3, 4))) @ Tensor(np.ones((5, 2)))
    with pytest.raises(ValueError, match="at least 1 dimension"):
        Tensor(2.0) @ Tensor(np.ones(2))


def test_sum_and_mean_with_axes():
    x = Tensor(np.arange(24.0).reshape(2, 3, 4), requires_grad=True)
    assert np.array_equal(x.sum().data, x.data.sum())
    assert np.array_equal(x.sum(axis=-1).data, x.data.sum(-1))
    assert x.sum(axis=(0, 2), keepdims=True).shape == (1, 3, 1)
    assert np.allclose(x.mean(axis=1).data, x.data.mean(1))
    x.mean(axis=(0, -1)).sum().backward()
    assert np.allclose(x.grad, 1 / 8)
    with pytest.raises(ValueError, match="sum: axis 3 is out of range for an array of 3 dimensions"):
        x.sum(axis=3)
    with pytest.raises(ValueError, match="repeated axis"):
        x.sum(axis=(1, -2))


def test_the_gradients_of_sum_and_mean_are_spread_as_views_not_arrays_of_the_input_size():
    # backward through a reduction of an activation must not hold another activation-sized array
    for reduce in (Tensor.sum, Tensor.mean):
        x = Tensor(np.ones((1000, 3)), requires_grad=True)
        out = reduce(x, axis=0)
        ctx = out._ctx
        spread = ctx.fn.backward(ctx, np.full(3, 6.0))[0]
        assert spread.shape == (1000, 3) and np.allclose(spread, 6.0 if reduce is Tensor.sum else 6.0 / 1000)
        assert spread.base is not None and spread.base.size == 3, reduce.__name__


def test_reshape_and_transpose():
    x = Tensor(np.arange(6.0), requires_grad=True)
    y = x.reshape(2, 3).transpose(1, 0)
    assert y.shape == (3, 2) and np.array_equal(y.data, x.data.reshape(2, 3).T)
    (y * Tensor(np.arange(6.0).reshape(3, 2))).sum().backward()
    assert np.array_equal(x.grad, np.arange(6.0).reshape(3, 2).T.ravel())
    assert x.reshape((3, -1)).shape == (3, 2)
    assert x.reshape(2, 3).transpose((1, 0)).shape == (3, 2)
    with pytest.raises(ValueError, match=r"reshape: cannot reshape shape \(6,\) \(size 6\) into \(4,\)"):
        x.reshape(4)


def test_indexing_slices_arrays_and_masks():
    x = Tensor(np.arange(5.0), requires_grad=True)
    x[[0, 0, 3]].sum().backward()  # a repeated index receives both contributions
    assert np.array_equal(x.grad, [2.0, 0, 0, 1.0, 0])
    m = Tensor(np.arange(6.0).reshape(2, 3), requires_grad=True)
    (m[m.data > 2] * 2).sum().backward()
    assert np.array_equal(m.grad, [[0, 0, 0], [2.0, 2.0, 2.0]])
    m.grad = None
    m[:, 1:].sum().backward()
    assert np.array_equal(m.grad, [[0, 1.0, 1.0], [0, 1.0, 1.0]])
    assert m[1, 2].item() == 5.0
    with pytest.raises(IndexError, match=r"index: .*tensor of shape \(2, 3\)"):
        m[5]


def test_numbers_and_arrays_on_either_side():
    t = Tensor([1.0, 2.0], requires_grad=True)
    for out, expected in [
        (t + 1, [2, 3]), (1 + t, [2, 3]), (t - np.ones(2), [0, 1]), (np.ones(2) - t, [0, -1]),
        (2 * t, [2, 4]), (t / 2, [0.5, 1]), (2 / t, [2, 1]), (t**2, [1, 4]), (2**t, [2, 4]),
        (np.array([[1.0], [2.0]]) * t, [[1, 2], [2, 4]]), (t @ np.ones(2), 3.0),
    ]:  # fmt: skip
        assert isinstance(out, Tensor) and np.allclose(out.data, expected)


def test_values_and_tensors_do_not_mix():
    with pytest.raises(TypeError, match=r"for a scalar use tg\.Tensor"):
        Tensor([1.0]) + Value(1.0)
    with pytest.raises(TypeError, match=r"convert with tg.Tensor\(value.data\)"):
        Value(1.0) * Tensor([1.0])
    with pytest.raises(TypeError, match="cannot mix Tensor and Value"):
        tg.maximum(Tensor([1.0]), Value(1.0))
    with pytest.raises(TypeError, match="sum works on Tensors, not on Values"):
        tg.sum(Value(1.0))


def test_ieee_edge_cases_match_values_without_warnings():
    x = Tensor([0.0, -1.0, 1000.0, 1e308, -1e308])
    assert np.array_equal(tg.log(x).data[:2], [-np.inf, np.nan], equal_nan=True)
    assert tg.exp(x).data[2] == np.inf
    assert np.array_equal(tg.sigmoid(x).data[3:], [1.0, 0.0])
    assert np.array_equal((Tensor([1.0, -1.0, 0.0]) / 0).data, [np.inf, -np.inf, np.nan], equal_nan=True)
    assert np.isnan((Tensor([-8.0]) ** (1 / 3)).data[0])


def test_float32_survives_a_whole_network():
    rng = np.random.default_rng(0)
    X = Tensor(rng.standard_normal((8, 3)).astype(np.float32))
    W1 = Tensor(rng.standard_normal((3, 4)).astype(np.float32), requires_grad=True)
    W2 = Tensor(rng.standard_normal((4, 1)).astype(np.float32), requires_grad=True)
    y = Tensor((rng.random((8, 1)) > 0.5).astype(np.float32))
    z = (X @ W1).tanh() @ W2 + 0.5
    loss = (tg.softplus(z) - z * y).mean()
    assert loss.dtype == np.float32
    loss.backward()
    assert W1.grad.dtype == np.float32 and W2.grad.dtype == np.float32


def test_hessian_of_the_mean_logistic_loss():
    rng = np.random.default_rng(3)
    n, d = 20, 4
    X = rng.standard_normal((n, d))
    y = (rng.random(n) > 0.5).astype(float)
    w = Tensor(rng.standard_normal(d) * 0.5, requires_grad=True)
    z = Tensor(X) @ w
    loss = (tg.softplus(z) - z * y).mean()
    (g,) = tg.grad(loss, [w], create_graph=True)
    hessian = np.stack([tg.grad(g[i], [w])[0].data for i in range(d)])
    p = 1 / (1 + np.exp(-X @ w.data))
    assert np.allclose(g.data, X.T @ (p - y) / n)
    assert np.allclose(hessian, X.T @ np.diag(p * (1 - p)) @ X / n)


def test_hessian_vector_product_through_grad_output():
    x = Tensor([0.3, -0.7], requires_grad=True)
    (g,) = tg.grad((x**3).sum(), [x], create_graph=True)
    v = np.array([1.0, 2.0])
    (hv,) = tg.grad(g, [x], grad_output=v)
    assert np.allclose(hv.data, 6 * x.data * v)


def test_no_grad_with_tensors():
    w = Tensor(np.ones(2), requires_grad=True)
    with tg.no_grad():
        y = (w * 2).sum()
    assert not y.requires_grad and y.is_leaf


@given(programs())
def test_values_and_zero_dim_tensors_agree_on_random_expressions(program):
    leaves, steps = program
    values = [Value(x) for x in leaves]
    tensors = [Tensor(x, requires_grad=True) for x in leaves]
    v, t = run(steps, *values), run(steps, *tensors)
    assert isinstance(t, Tensor) and t.shape == ()
    assert np.array_equal(v.data, t.data, equal_nan=True)
    v.backward()
    t.backward()
    for a, b in zip(values, tensors):
        assert np.array_equal(a.grad, b.grad, equal_nan=True)


def test_operator_methods_carry_their_names():
    for cls in (tg.Tensor, tg.Value):
        for name in ("__add__", "__rsub__", "__iadd__", "__neg__", "exp", "sigmoid"):
            assert getattr(cls, name).__name__ == name, (cls, name)
    assert tg.Tensor.__lt__.__name__ == "__lt__" and tg.Tensor.any.__name__ == "any"


def test_numpy_converts_a_tensor_to_its_data_as_pytorch():
    t = Tensor([[1.0, 2.0], [3.0, 4.0]])
    shared = np.asarray(t)
    assert type(shared) is np.ndarray and shared.dtype == np.float64 and np.shares_memory(shared, t.data)
    assert np.shares_memory(np.asarray(t, copy=False), t.data)
    copied = np.array(t)  # numpy's copy=True
    assert not np.shares_memory(copied, t.data) and copied.tolist() == t.tolist()
    narrow = np.asarray(t, dtype=np.float32)
    assert narrow.dtype == np.float32 and narrow.tolist() == t.tolist()
    with pytest.raises(ValueError, match="copy"):
        np.asarray(t, dtype=np.float32, copy=False)  # numpy's refusal: the dtype needs a copy
    assert np.stack([t, t]).shape == (2, 2, 2) and np.stack([t, t]).dtype == np.float64
    X, y = Tensor(np.arange(20.0).reshape(10, 2)), np.arange(10) % 2
    X_train, X_test, _, _ = tg.data.train_test_split(X, y)
    assert X_train.dtype == X_test.dtype == np.float64 and X_train.shape == (8, 2)


def test_numpy_refuses_a_tensor_that_requires_grad_as_pytorch():
    # PyTorch 2.13: np.asarray(torch.ones(2, requires_grad=True)) raises "Can't call numpy() on
    # Tensor that requires grad. Use tensor.detach().numpy() instead."
    w = Tensor([1.0, 2.0], requires_grad=True)
    for convert in (np.asarray, np.array, lambda t: np.stack([t, t]), lambda t: np.asarray(t * 2)):
        with pytest.raises(RuntimeError, match=r"requires grad.*t\.detach\(\)"):
            convert(w)
    assert np.asarray(w.detach()).tolist() == [1.0, 2.0]
    with tg.no_grad():
        assert np.asarray(w * 2).tolist() == [2.0, 4.0]


@pytest.mark.parametrize("dtype", [np.float64, np.float32, np.int64, bool])
@pytest.mark.parametrize("shape", [(), (1,), (3,), (2, 1), (1, 3), (2, 3), (2, 1, 3)])
@pytest.mark.parametrize("target", [(3,), (2, 3), (4, 2, 3), (2, 1), (0, 3), (-1, 3), (), [2, 3]])
def test_broadcast_to_is_numpys_read_only_view_and_error(shape, target, dtype):
    a = np.arange(math.prod(shape)).astype(dtype).reshape(shape)
    for data in (a, a.T):  # C-contiguous, and (for 2 axes or more) not
        try:
            want = np.broadcast_to(data, target)
        except ValueError as error:
            with pytest.raises(ValueError, match=re.escape(str(error))):
                numeric.broadcast_to(data, target)
            continue
        got = numeric.broadcast_to(data, target)
        assert (got.shape, got.dtype, got.strides) == (want.shape, want.dtype, want.strides)
        assert np.array_equal(got, want) and np.shares_memory(got, data) == np.shares_memory(want, data)
        assert not got.flags.writeable
