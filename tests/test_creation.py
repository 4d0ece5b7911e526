"""Creation, conversion and dtypes as PyTorch users type them (issue 15, point 1). Expected
values come from numpy or by hand."""

import re

import numpy as np
import pytest

import tinygrad_lr as tg
from tinygrad_lr import Tensor


def test_version_is_a_string():
    assert isinstance(tg.__version__, str) and tg.__version__.count(".") == 2


@pytest.mark.parametrize("make", [tg.zeros, tg.ones])
def test_zeros_and_ones_take_sizes_as_pytorch(make):
    value = 0.0 if make is tg.zeros else 1.0
    for t in (make(2, 3), make((2, 3)), make([2, 3])):
        assert t.shape == (2, 3) and t.dtype == np.float64 and np.all(t.data == value)
    assert make(()).shape == () and make(0).shape == (0,)
    assert make(2, dtype=tg.float32).dtype == np.float32
    assert make(2, dtype=tg.int64).data.tolist() == [int(value)] * 2
    w = make(2, requires_grad=True)
    assert w.requires_grad and w.is_leaf


@pytest.mark.parametrize("size", [(-1,), (2.0,), ("3",), (True,)])
def test_bad_sizes_are_refused(size):
    with pytest.raises((TypeError, ValueError), match="size"):
        tg.zeros(*size)


def test_full_infers_its_dtype_as_pytorch():
    assert tg.full((2,), 7).dtype == np.int64 and tg.full((2,), 7).tolist() == [7, 7]
    assert tg.full((2,), 0.5).dtype == np.float64
    assert tg.full((2,), True).dtype == np.bool_
    assert tg.full(3, 2.0, dtype=tg.float32).tolist() == [2.0, 2.0, 2.0]
    assert tg.full((2,), 2, dtype=tg.float64, requires_grad=True).requires_grad
    with pytest.raises(TypeError, match="fill_value must be a number"):
        tg.full((2,), [1, 2])


def test_arange_counts_as_pytorch():
    assert tg.arange(4).tolist() == [0, 1, 2, 3] and tg.arange(4).dtype == np.int64
    assert tg.arange(1, 7, 2).tolist() == [1, 3, 5]
    assert tg.arange(3, 0, -1).tolist() == [3, 2, 1]
    assert tg.arange(0, 1, 0.25).tolist() == [0.0, 0.25, 0.5, 0.75]
    assert tg.arange(0, 1, 0.25).dtype == np.float64
    assert tg.arange(3, dtype=tg.float32).dtype == np.float32
    assert tg.arange(0).shape == (0,)
    with pytest.raises(ValueError, match="step must not be 0"):
        tg.arange(0, 3, 0)
    with pytest.raises(ValueError, match="goes away from end"):
        tg.arange(3, 0)
    with pytest.raises(TypeError, match="finite number"):
        tg.arange(float("inf"))


def test_integer_tensors_cannot_require_grad():
    for make in (lambda: tg.arange(3, requires_grad=True), lambda: tg.full((2,), 1, requires_grad=True)):
        with pytest.raises(ValueError, match=r"only floating-point data can require grad.*int64"):
            make()
    with pytest.raises(ValueError, match="bool"):
        Tensor([True], requires_grad=True)
    assert tg.arange(3.0, requires_grad=True).requires_grad


def test_eye():
    assert np.array_equal(tg.eye(3).data, np.eye(3))
    assert np.array_equal(tg.eye(2, 3).data, [[1, 0, 0], [0, 1, 0]])
    assert tg.eye(2, dtype=tg.int64).dtype == np.int64


def test_like_keeps_shape_and_dtype():
    t = Tensor(np.ones((2, 3), np.float32) * 5)
    z, o = tg.zeros_like(t), tg.ones_like(t)
    assert z.shape == o.shape == (2, 3) and z.dtype == o.dtype == np.float32
    assert np.all(z.data == 0) and np.all(o.data == 1) and z.data is not t.data
    assert tg.zeros_like(t, dtype=tg.float64).dtype == np.float64
    assert tg.ones_like(np.zeros(2, np.int64)).tolist() == [1, 1]
    assert tg.ones_like(t, requires_grad=True).requires_grad
    with pytest.raises(TypeError, match="expected a Tensor or an ndarray"):
        tg.zeros_like([1, 2])


@pytest.mark.parametrize("draw", [tg.rand, tg.randn])
def test_random_numbers_are_reproducible(draw):
    tg.manual_seed(123)
    a = draw(4, 5)
    b = draw(4, 5)
    tg.manual_seed(123)
    assert np.array_equal(draw((4, 5)).data, a.data) and not np.array_equal(a.data, b.data)
    g = tg.Generator().manual_seed(7)
    c = draw(3, generator=g)
    assert np.array_equal(draw(3, generator=tg.Generator(7)).data, c.data)
    assert g.initial_seed() == 7
    # the same stream as numpy's PCG64 from the same seed: an independent definition
    rng = np.random.default_rng(7)
    expected = rng.random(3) if draw is tg.rand else rng.standard_normal(3)
    assert np.array_equal(c.data, expected)
    assert draw(2, generator=np.random.default_rng(1)).shape == (2,)
    assert draw(2, dtype=tg.float32).dtype == np.float32
    assert draw(2, requires_grad=True).requires_grad
    with pytest.raises(TypeError, match="draws floating-point numbers"):
        draw(2, dtype=tg.int64)
    with pytest.raises(TypeError, match="generator must be"):
        draw(2, generator=5)


def test_rand_is_in_the_unit_interval_and_randn_is_standard():
    tg.manual_seed(0)
    u = tg.rand(100_000).data
    assert u.min() >= 0 and u.max() < 1 and abs(u.mean() - 0.5) < 0.01
    assert tg.rand(10_000, dtype=tg.float16).data.max() < 1  # float16 rounding never gives 1
    n = tg.randn(100_000).data
    assert abs(n.mean()) < 0.02 and abs(n.std() - 1) < 0.02


def test_manual_seed_refuses_what_is_not_a_seed():
    for seed in (-1, 1.5, "3"):
        with pytest.raises(ValueError, match="non-negative whole number"):
            tg.manual_seed(seed)


def test_tensor_takes_dtype_as_pytorch():
    assert Tensor([1.7, -1.7], dtype=tg.int64).tolist() == [1, -1]  # truncates toward zero
    assert Tensor([1, 2], dtype="float32").dtype == np.float32
    assert Tensor([1, 2], dtype=float).dtype == np.float64
    assert Tensor([0, 2], dtype=tg.bool).tolist() == [False, True]
    assert Tensor([1, 2], dtype=tg.float32, requires_grad=True).requires_grad
    array = np.zeros(3)
    assert Tensor(array, dtype=np.float64).data is array  # no copy when nothing changes
    with pytest.raises(ValueError, match="cannot convert nan to int64"):
        Tensor([float("nan")], dtype=tg.int64)
    with pytest.raises(ValueError, match="300 does not fit in uint8"):
        Tensor([300], dtype=tg.uint8)
    with pytest.raises(TypeError, match="not supported"):
        Tensor([1], dtype=np.complex128)
    with pytest.raises(TypeError, match="is not a dtype"):
        Tensor([1], dtype="nonsense")
    with pytest.raises(ValueError, match="require grad"):
        Tensor([1, 2], dtype=tg.int64, requires_grad=True)


def test_a_converted_tensor_does_not_share_the_version_counter():
    t = Tensor([1.0, 2.0])
    same, other = Tensor(t), Tensor(t, dtype=tg.float32)
    t += 1
    assert same.version == 1 and other.version == 0
    assert other.tolist() == [1.0, 2.0]


def test_integer_arithmetic_stays_integer():
    t = tg.arange(3)
    assert (t + 1).dtype == np.int64 and (t + 1).tolist() == [1, 2, 3]
    assert (t * 0.5).tolist() == [0.0, 0.5, 1.0]
    with pytest.raises(ValueError, match="1000 does not fit in uint8"):
        Tensor([1], dtype=tg.uint8) + 1000


def test_python_number_conversions():
    assert float(Tensor([[2.5]])) == 2.5 and int(Tensor(-2.7)) == -2 and int(tg.arange(5)[3]) == 3
    assert bool(Tensor([1.0])) is True and bool(Tensor(0.0)) is False
    assert Tensor([0.25]).item() == 0.25 and tg.arange(3)[1].item() == 1
    assert isinstance(tg.arange(3)[1].item(), int) and Tensor([True]).item() is True
    assert [10, 20, 30][tg.arange(3)[2]] == 30  # an integer tensor of one element indexes
    for convert in (float, int, bool):
        with pytest.raises(ValueError, match=r"shape \(2,\)"):
            convert(Tensor([1.0, 2.0]))
    with pytest.raises(ValueError, match="bool"):
        bool(tg.zeros(0))
    with pytest.raises(ValueError, match="cannot convert nan"):
        int(Tensor(float("nan")))
    with pytest.raises(TypeError, match="only integer tensors"):
        [1, 2][Tensor(1.0)]


def test_len_tolist_and_iteration():
    t = Tensor([[1.0, 2.0], [3.0, 4.0], [5.0, 6.0]], requires_grad=True)
    assert len(t) == 3 and t.tolist() == [[1.0, 2.0], [3.0, 4.0], [5.0, 6.0]]
    assert Tensor(3.0).tolist() == 3.0 and tg.zeros(0, 2).tolist() == []
    rows = list(t)
    assert [r.tolist() for r in rows] == [[1.0, 2.0], [3.0, 4.0], [5.0, 6.0]]
    (rows[0].sum() + 2 * rows[2].sum()).backward()  # iteration is indexing: gradients flow
    assert t.grad.tolist() == [[1.0, 1.0], [0.0, 0.0], [2.0, 2.0]]
    assert list(tg.zeros(0, 2)) == []
    for use in (len, list):
        with pytest.raises(TypeError, match="0-d tensor"):
            use(Tensor(1.0))


def test_dtype_names_are_numpys():
    assert tg.float32 == np.float32 and tg.float64 == np.float64 and tg.int64 == np.int64
    assert tg.bool == np.bool_ and tg.float16 == np.float16 and tg.uint8 == np.uint8


def test_a_star_import_keeps_the_builtin_bool():
    namespace: dict = {}
    exec("from tinygrad_lr import *\nresult = bool(0)", namespace)
    assert namespace["result"] is False and "bool" not in namespace and namespace["float32"] == np.float32


@pytest.mark.parametrize(
    "make, value",
    [
        (lambda: Tensor([2.0**63], dtype=tg.int64), "9.223372036854776e+18"),  # int64 ends at 2**63 - 1
        (lambda: Tensor([-(2.0**63) - 2048], dtype=tg.int64), "-9.223372036854778e+18"),
        (lambda: Tensor([2.0**64], dtype=np.uint64), "1.8446744073709552e+19"),
        (lambda: Tensor([1.0, 128.0], dtype=tg.int8), "128.0"),
        (lambda: Tensor([-1.0], dtype=tg.uint8), "-1.0"),
        (lambda: Tensor(np.array([2**63], dtype=np.uint64), dtype=tg.int64), "9223372036854775808"),
        (lambda: tg.full((2,), 2.0**63, dtype=tg.int64), "9.223372036854776e+18"),
        (lambda: tg.full((2,), 256, dtype=tg.uint8), "256"),
    ],
)
def test_an_integer_dtype_refuses_a_value_out_of_its_range(make, value):
    with pytest.raises(ValueError, match=rf"{re.escape(value)} .*(int|uint)\d+.* from -?\d+ to \d+"):
        make()


@pytest.mark.parametrize("fill", [float("nan"), float("inf"), -float("inf")])
def test_an_integer_dtype_refuses_nan_and_inf(fill):
    for make in (lambda: Tensor([1.0, fill], dtype=tg.int64), lambda: tg.full((2,), fill, dtype=tg.int64)):
        with pytest.raises(ValueError, match=rf"{fill} .*int64"):
            make()


def test_an_integer_dtype_takes_the_ends_of_its_range():
    # the largest float64 below 2**63 and -2**63 itself fit int64; 255.9 truncates to 255
    below = np.nextafter(2.0**63, 0)
    assert Tensor([below, -(2.0**63)], dtype=tg.int64).tolist() == [int(below), -(2**63)]
    assert Tensor([255.9, -0.9], dtype=tg.uint8).tolist() == [255, 0]
    assert tg.full((1,), -128, dtype=tg.int8).tolist() == [-128]


def test_setitem_refuses_a_value_the_integer_dtype_cannot_hold():
    # PyTorch: "value cannot be converted to type int8_t without overflow" (and for nan)
    t = Tensor([100], dtype=tg.int8)
    with pytest.raises(ValueError, match=r"t\[...\] = value: 10000000000.0 does not fit in int8"):
        t[0] = 1e10
    with pytest.raises(ValueError, match=r"t\[...\] = value: cannot convert nan to int64"):
        Tensor([1], dtype=tg.int64)[0] = float("nan")
    with pytest.raises(ValueError, match=r"300\.0 does not fit in int8"):
        t[0] = Tensor([300.0])
    assert t.tolist() == [100] and t.version == 0
    t[0] = -2.7  # truncates toward zero, as PyTorch
    assert t.tolist() == [-2] and t.version == 1


def test_arange_refuses_values_the_dtype_cannot_hold():
    # PyTorch: "value cannot be converted to type int64_t without overflow"
    with pytest.raises(ValueError, match=r"arange: .*9223372036854775808 does not fit in int64"):
        tg.arange(2**63 - 3, 2**63 + 1, dtype=tg.int64)
    with pytest.raises(ValueError, match="does not fit in uint8"):
        tg.arange(-1.5, 2, dtype=tg.uint8)
    with pytest.raises(ValueError, match="200 does not fit in int8"):
        tg.arange(0, 300, 100, dtype=tg.int8)
    assert tg.arange(2**63 - 3, 2**63 - 1, dtype=tg.int64).tolist() == [2**63 - 3, 2**63 - 2]
    assert tg.arange(0, 128, dtype=tg.int8).tolist()[-1] == 127  # end itself need not fit
