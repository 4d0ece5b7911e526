"""What forward keeps for backward stays what forward saw: plain arrays are copied, tensors and
their views are version-checked, an in-place change is counted, and a view that would be a
copy is refused (PyTorch's semantics)."""

import math
import struct

import numpy as np
import pytest

import tinygrad_lr as tg
from tinygrad_lr import Tensor as T
from tinygrad_lr import Value as V
from tinygrad_lr.nn import functional as F


def sigmoid(z):
    return 1 / (1 + np.exp(-z))


def softmax(z):
    e = np.exp(z - z.max(axis=-1, keepdims=True))
    return e / e.sum(axis=-1, keepdims=True)


# --- plain arrays are copied where they enter, as torch.tensor(array) copies -----------------


@pytest.mark.parametrize(
    "loss",
    [
        lambda w, X: (w * X).sum(),
        lambda w, X: (X * w).sum(),  # reflected
        lambda w, X: (X @ w).sum(),
        lambda w, X: tg.matmul(X, w).sum(),
        lambda w, X: tg.linear(X, w, T(0.5)).sum(),  # a plain array straight into an op
        lambda w, X: (w * X.T.T).sum(),  # a view of the array
    ],
)
def test_a_plain_array_operand_changed_after_forward_does_not_move_the_gradient(loss):
    w = T([1.0, -2.0], requires_grad=True)
    X = np.array([[3.0, 4.0], [5.0, 6.0]])
    expected = X.sum(axis=0)  # dL/dw of Σ X·w: the columns' sums of X as forward saw it
    L = loss(w, X)
    X += 100.0
    X[0, 0] = np.nan
    L.backward()
    assert np.array_equal(w.grad, expected), w.grad


def test_a_plain_target_changed_after_forward_does_not_move_the_gradient():
    z0, y0 = np.array([0.5, -1.0]), np.array([1.0, 0.0])
    for loss in (tg.bce_with_logits, F.binary_cross_entropy_with_logits):
        z, y = T(z0, requires_grad=True), y0.copy()
        L = loss(z, y)
        y += 1.0
        L.backward()
        assert np.allclose(z.grad, (sigmoid(z0) - y0) / 2)
    logits0, target0 = np.array([[0.5, -1.0, 2.0]]), np.array([[0.2, 0.3, 0.5]])
    logits, target = T(logits0, requires_grad=True), target0.copy()
    L = F.cross_entropy(logits, target)
    target[:] = [1.0, 0.0, 0.0]
    L.backward()
    assert np.allclose(logits.grad, softmax(logits0) - target0)
    logits, target = logits0.copy(), T(target0, requires_grad=True)  # plain logits this time
    L = F.cross_entropy(logits, target)
    logits[:] = 0.0
    L.backward()
    assert np.allclose(target.grad, -np.log(softmax(logits0)))  # ∂/∂y of −Σ y·log softmax(z)


def test_a_tensor_made_from_an_array_shares_it_as_torch_from_numpy():
    X = np.array([3.0, 4.0])
    t = T(X)  # no copy: the escape hatch, documented
    X[0] = 7.0
    assert t.tolist() == [7.0, 4.0]


# --- saved views of inputs are version-checked -------------------------------------------------


class SquareOfFlat(tg.Function, register=False):
    """f(x) = x², keeping a flattened view of x for backward."""

    @staticmethod
    def forward(ctx, x):
        ctx.save_for_backward(x.reshape(-1))
        ctx.shape = x.shape
        return x * x

    @staticmethod
    def backward(ctx, grad):
        (flat,) = ctx.saved_tensors
        return 2 * flat.reshape(ctx.shape) * grad


def test_a_saved_view_of_an_input_is_version_checked():
    x = T([[1.0, 2.0]], requires_grad=True, label="x")
    loss = SquareOfFlat.apply(x).sum()
    with tg.no_grad():
        x += 1.0
    with pytest.raises(
        RuntimeError,
        match=r"in-place operation: a view of input 0 'x' of shape \(1, 2\) of squareofflat is at version 1",
    ):
        loss.backward()
    x = T([[1.0, 2.0]], requires_grad=True)
    SquareOfFlat.apply(x).sum().backward()
    assert np.array_equal(x.grad, [[2.0, 4.0]])


def test_a_saved_view_of_a_plain_array_or_a_new_array_is_kept_as_forward_saw_it():
    class Scaled(tg.Function, register=False):
        """f(x, c) = x·c with a plain c, keeping views and a new array of it."""

        @staticmethod
        def forward(ctx, x, c):
            ctx.save_for_backward(c[:], [1.0, 1.0])
            return x * c

        @staticmethod
        def backward(ctx, grad):
            c, ones = ctx.saved_tensors
            return grad * c * np.asarray(ones), None

    c, ones = np.array([3.0, 4.0]), [1.0, 1.0]
    x = T([1.0, 1.0], requires_grad=True)
    loss = Scaled.apply(x, c).sum()
    c[:] = -1.0
    ones[0] = 5.0
    loss.backward()
    assert np.array_equal(x.grad, [3.0, 4.0])


# --- a forward that changes its input in place is counted ----------------------------------------


class Bump(tg.Function, register=False):
    """f(x) = 2·(x + 1), written as a forward that adds 1 to its input in place."""

    @staticmethod
    def forward(ctx, x):
        x += 1
        return x * 2

    @staticmethod
    def backward(ctx, grad):
        return 2 * grad


def test_a_forward_that_changes_its_input_in_place_is_counted():
    # PyTorch: an in-place add_ in a custom forward bumps the input's version, so a graph that
    # saved the input before refuses backward; the op itself runs (also on a leaf)
    w = T([1.0, 2.0], requires_grad=True)
    x = w * 1.0
    loss = (x * x).sum()
    Bump.apply(x)
    assert x.version == 1 and x.tolist() == [2.0, 3.0]
    with pytest.raises(RuntimeError, match=r"input 0 of shape \(2,\) of mul is at version 1"):
        loss.backward()
    leaf = T([1.0, 2.0], requires_grad=True)
    Bump.apply(leaf).sum().backward()
    assert leaf.version == 1 and np.array_equal(leaf.grad, [2.0, 2.0])


def test_a_forward_that_changes_only_the_sign_of_a_zero_is_counted():
    class Flip(tg.Function, register=False):
        @staticmethod
        def forward(ctx, x):
            x *= -1
            return x + 0.0

        @staticmethod
        def backward(ctx, grad):
            return -grad

    x = T([0.0, np.nan])
    with tg.no_grad():
        Flip.apply(x)
    assert x.version == 1


# --- view shares or refuses -------------------------------------------------------------------


def test_view_refuses_a_tensor_it_cannot_view_as_pytorch():
    x = T([[1.0, 2.0], [3.0, 4.0]])
    # PyTorch: "view size is not compatible with input tensor's size and stride (at least one
    # dimension spans across two contiguous subspaces). Use .reshape(...) instead."
    with pytest.raises(RuntimeError, match=r"view size is not compatible .*Use .reshape\(...\) instead"):
        x.T.view(-1)
    # as PyTorch, on a (2, 3, 4) transposed to (3, 2, 4): two shapes refused, two viewed
    t = tg.arange(24.0).reshape(2, 3, 4).transpose(1, 0, 2)
    for shape in ((6, 4), (3, 8)):
        with pytest.raises(RuntimeError, match=r"cannot be viewed as"):
            t.view(shape)
    for shape in ((3, 2, 2, 2), (3, 2, 4)):
        assert np.shares_memory(t.view(shape).data, t.data)
    assert x.T.reshape(-1).tolist() == [1.0, 3.0, 2.0, 4.0]  # reshape copies where it must
    v = x.T.view(2, 2)  # a view where the strides allow one
    v[0, 1] = 9.0
    assert x.tolist() == [[1.0, 2.0], [9.0, 4.0]] and x.version == v.version == 1
    flat = x.view(-1)
    flat[0] = 0.0
    assert x.data[0, 0] == 0.0 and x.version == 2
    assert T(np.zeros((0, 3))).T.view(-1).shape == (0,)  # nothing to share


# --- Values: saved data compared bit for bit ---------------------------------------------------


def bits(x: float) -> bytes:
    return struct.pack("<d", x)


def test_a_zero_whose_sign_changed_is_a_changed_value():
    x = V(0.0)
    y = tg.log(x)
    with tg.no_grad():
        x *= -1
    assert bits(x.data) == bits(-0.0)
    # first order: the floats forward saved, 1/(+0) = +inf (what forward differentiated)
    assert tg.grad(y, [x])[0].data == math.inf
    with pytest.raises(RuntimeError, match=r"log: the .data of input 0 changed after forward"):
        tg.grad(y, [x], create_graph=True)


def test_a_nan_whose_payload_changed_is_a_changed_value():
    quiet, other = struct.unpack("<d", struct.pack("<Q", 0x7FF8000000000001))[0], math.nan
    x = V(quiet)
    y = x * x
    x.data = other  # another nan: not what forward saw
    with pytest.raises(RuntimeError, match=r"the .data of input 0 changed after forward"):
        tg.grad(y, [x], create_graph=True)
    x = V(math.nan)
    y = x * x
    assert math.isnan(tg.grad(y, [x], create_graph=True)[0].data)  # unchanged: fine
