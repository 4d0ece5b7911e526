"""The names a PyTorch user types next: ``tg.tensor``, ``tg.long``, ``tg.randperm``,
``tg.cross_entropy``; ``t.size()``, ``numel``, ``float``/``double``/``long``, ``clone``, ``t``,
``permute``, ``pow``. Expected values come from numpy or by hand, following PyTorch's semantics
(checked against PyTorch 2 on CPU where a behaviour is PyTorch's own)."""

import builtins
import copy
import math
import pickle

import numpy as np
import pytest

import tinygrad_lr as tg
from tinygrad_lr import Tensor, Value

# --- tg.tensor and the dtype names ----------------------------------------------------------------


def test_tensor_function_infers_the_dtype_as_pytorch_and_copies():
    assert tg.tensor([1, 2]).dtype == np.int64  # labels, as torch.tensor([1, 2])
    assert tg.tensor([True, False]).dtype == np.bool_
    assert tg.tensor([1, 2.5]).dtype == np.float64  # the library's default float (PyTorch's: float32)
    assert tg.tensor(3.0).shape == () and tg.tensor(3.0).item() == 3.0
    assert tg.tensor(np.zeros(2, np.float32)).dtype == np.float32
    assert tg.tensor(np.arange(3, dtype=np.int32)).dtype == np.int32
    assert tg.tensor([1, 2], dtype=tg.float32).dtype == np.float32
    source = np.array([1.0, 2.0])
    t = tg.tensor(source)
    source[0] = 9.0  # torch.tensor copies its data: the tensor keeps what it was given
    assert t.tolist() == [1.0, 2.0]
    w = tg.tensor([0.5, 1.5], requires_grad=True)
    assert w.requires_grad and w.is_leaf
    (w * w).sum().backward()
    assert w.grad.tolist() == [1.0, 3.0]
    copy = tg.tensor(w)  # a copy of the data, without the graph
    assert not copy.requires_grad and not np.may_share_memory(copy.data, w.data)
    with pytest.raises(ValueError, match="only floating-point data can require grad"):
        tg.tensor([1, 2], requires_grad=True)
    assert callable(tg.tensor) and "tensor" in tg.__all__


def test_dtype_names_as_pytorch_spells_them():
    assert tg.long == np.int64 and tg.int == np.int32 and tg.short == np.int16
    assert tg.double == np.float64 and tg.float == np.float32 and tg.half == np.float16
    assert tg.zeros(2, dtype=tg.long).dtype == np.int64
    namespace = {}
    exec("from tinygrad_lr import *", namespace)
    # a star import must not replace the builtins int, float and bool
    assert all(name not in namespace for name in ("int", "float", "bool"))
    assert builtins.float(1) == 1.0


def test_randperm_draws_from_the_default_generator():
    tg.manual_seed(3)
    p = tg.randperm(10)
    assert p.dtype == np.int64 and sorted(p.tolist()) == list(range(10))
    tg.manual_seed(3)
    assert tg.randperm(10).tolist() == p.tolist()  # seeded: repeatable
    assert tg.randperm(10, generator=tg.Generator(3)).tolist() == p.tolist()
    assert tg.randperm(0).shape == (0,)
    q = tg.randperm(4, dtype=tg.float64, requires_grad=True)
    assert q.dtype == np.float64 and q.requires_grad and sorted(q.tolist()) == [0.0, 1.0, 2.0, 3.0]
    with pytest.raises(ValueError, match="randperm: sizes cannot be negative"):
        tg.randperm(-1)
    with pytest.raises(TypeError, match="randperm: a size is whole numbers"):
        tg.randperm(2.0)


def test_cross_entropy_at_the_top_level_is_the_functional_one():
    assert tg.cross_entropy is tg.nn.functional.cross_entropy
    loss = tg.cross_entropy(Tensor([[0.0, 0.0]]), tg.tensor([1]))
    assert math.isclose(loss.item(), math.log(2))


# --- size, numel ----------------------------------------------------------------------------------


def test_size_is_the_element_count_and_called_the_shape():
    t = tg.zeros(2, 3)
    assert t.size == 6 and isinstance(t.size, int)  # numpy's (and the array API's) attribute
    assert t.size() == (2, 3) and t.size(0) == 2 and t.size(-1) == 3 and t.size(dim=1) == 3  # PyTorch's
    n, d = t.size()
    assert (n, d) == (2, 3) and t.numel() == 6 and repr(t.size) == "6"
    assert np.zeros(t.size).shape == (6,) and t.size * 2 == 12 and type(t.size * 2) is int
    assert copy.deepcopy(t.size) == 6 and pickle.loads(pickle.dumps(t.size)) == 6
    assert tg.zeros(()).size == 1 and tg.zeros(()).size() == () and tg.zeros(0, 4).numel() == 0
    with pytest.raises(IndexError, match="size: axis 2 is out of range for an array of 2 dimensions"):
        t.size(2)
    with pytest.raises(TypeError, match=r"size: an axis is a whole number, not 1\.0"):
        t.size(1.0)


# --- conversions ----------------------------------------------------------------------------------


def test_float_double_long_convert_as_pytorch():
    x = Tensor([1.7, -1.7, 2.5])
    assert x.float().dtype == np.float32 and x.float().tolist() == np.float32([1.7, -1.7, 2.5]).tolist()
    assert x.long().dtype == np.int64 and x.long().tolist() == [1, -1, 2]  # toward zero, as PyTorch
    assert x.double() is x  # already float64: the tensor itself, as PyTorch's
    assert x.to(tg.int32).dtype == np.int32 and tg.tensor([0, 2]).double().tolist() == [0.0, 2.0]
    assert not np.may_share_memory(x.float().data, x.data)
    with pytest.raises(ValueError, match="cannot convert nan to int64"):
        Tensor([math.nan]).long()
    with pytest.raises(TypeError, match="'cpu' is not a dtype"):
        x.to("cpu")


def test_a_conversion_never_cuts_a_gradient_silently():
    w = Tensor([1.5, -0.5], requires_grad=True)
    labels = w.long()  # integers carry no gradient (PyTorch's result does not require grad either)
    assert labels.tolist() == [1, 0] and not labels.requires_grad
    with pytest.raises(RuntimeError, match=r"float\(\): converting a tensor that requires grad to float32"):
        w.float()
    with tg.no_grad():
        assert w.float().dtype == np.float32
    assert w.double() is w


# --- clone, t, permute, transpose, pow -------------------------------------------------------------


def test_clone_is_a_copy_that_gradients_flow_through():
    w = Tensor([1.0, -0.0, 3.0], requires_grad=True)
    c = w.clone()
    assert c.requires_grad and not c.is_leaf and not np.may_share_memory(c.data, w.data)
    assert np.array_equal(np.signbit(c.data), np.signbit(w.data))  # bit for bit: -0.0 stays -0.0
    (c * Tensor([2.0, 3.0, 4.0])).sum().backward()
    assert w.grad.tolist() == [2.0, 3.0, 4.0]
    labels = tg.tensor([1, 2])
    copy = labels.clone()
    copy[0] = 5
    assert copy.dtype == np.int64 and labels.tolist() == [1, 2] and copy.version == 1 and labels.version == 0
    with tg.no_grad():
        assert not w.clone().requires_grad


def test_t_transposes_up_to_two_dimensions():
    x = Tensor(np.arange(6.0).reshape(2, 3), requires_grad=True)
    assert np.array_equal(x.t().data, np.arange(6.0).reshape(2, 3).T)
    (x.t() * Tensor(np.arange(6.0).reshape(3, 2))).sum().backward()
    assert np.array_equal(x.grad, np.arange(6.0).reshape(3, 2).T)
    assert Tensor([1.0, 2.0]).t().tolist() == [1.0, 2.0] and Tensor(3.0).t().shape == ()
    with pytest.raises(
        ValueError, match=r"t\(\): expects a tensor with at most 2 dimensions, this one has shape"
    ):
        tg.zeros(2, 3, 4).t()


def test_permute_and_transpose_of_two_dims_as_pytorch():
    data = np.arange(24.0).reshape(2, 3, 4)
    x = Tensor(data, requires_grad=True)
    assert np.array_equal(x.permute(2, 0, 1).data, np.transpose(data, (2, 0, 1)))
    assert np.array_equal(x.permute((2, 0, 1)).data, np.transpose(data, (2, 0, 1)))
    assert np.array_equal(x.permute(-1, 0, 1).data, np.transpose(data, (2, 0, 1)))
    # two dims are swapped, as PyTorch's transpose(dim0, dim1) (numpy: a permutation of all axes)
    assert np.array_equal(x.transpose(0, 2).data, np.swapaxes(data, 0, 2))
    assert np.array_equal(x.transpose(-1, 1).data, np.swapaxes(data, 2, 1))
    matrix = Tensor(np.arange(6.0).reshape(2, 3))
    assert matrix.transpose(0, 1).shape == (3, 2) and matrix.transpose(1, 0).shape == (3, 2)
    assert x.transpose(2, 0, 1).shape == (4, 2, 3)  # all axes: numpy's permutation, as before
    x.transpose(0, 2).sum().backward()
    assert np.array_equal(x.grad, np.ones((2, 3, 4)))
    with pytest.raises(ValueError, match=r"^transpose: axes \(2, 0\) name 2 of the array's 3 axes"):
        x.permute(2, 0)


def test_pow_method_on_tensors_and_values():
    x = Tensor([2.0, 3.0], requires_grad=True)
    x.pow(2).sum().backward()
    assert x.pow(2).tolist() == [4.0, 9.0] and x.grad.tolist() == [4.0, 6.0]
    assert x.pow(Tensor([3.0, 0.5])).tolist() == [8.0, 3.0**0.5]
    v = Value(2.0)
    v.pow(3).backward()
    assert v.grad == 12.0
