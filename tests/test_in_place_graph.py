"""In-place changes of computed nodes while recording: a Value gives a new node (micrograd), a
Tensor records the change on its graph (PyTorch); every number is PyTorch 2.13's or an error.

The stored results are PyTorch 2.13's, from ``test_the_stored_results_are_pytorchs`` below (which
runs the same code on torch where it is installed)."""

import numpy as np
import pytest

import tinygrad_lr as tg
from tinygrad_lr import Tensor as T
from tinygrad_lr import Value as V

STALE = "after an op"  # an op recorded before the change, which it would send gradient through
SAVED = "modified by an in-place operation"
# code on a = [1, 2] and b = 4 (both require grad) that sets out: PyTorch's a.grad and b.grad after
# out.sum().backward(), or the start of its error; then ours where it is not the same (an error)
CASES = [
    ("c = a * 3; c += 1; out = c", ([3.0, 3.0], None), None),
    ("c = a * 3; d = c; c *= 2; out = d", ([6.0, 6.0], None), None),  # d is c: its new value
    ("c = a * 3; c += c; out = c", ([6.0, 6.0], None), None),
    ("c = a * 3; c += b; out = c", ([3.0, 3.0], 2.0), None),  # b broadcast
    ("c = a * 3; c -= b; c /= b; out = c", ([0.75, 0.75], -0.5625), None),
    ("c = a * a; c /= a; c **= 2; c -= a; out = c", ([1.0, 3.0], None), None),
    ("c = a * 3; c[0] = 5; out = c", ([0.0, 3.0], None), None),
    ("c = a * 3; c[0] = b * 2; out = c * c", ([0.0, 36.0], 32.0), None),
    ("c = a * 3; e = c * 5; c += e; out = c", ([18.0, 18.0], None), None),  # e read c before
    ("c = a * 3; v = c[0:1]; c *= 2; out = v", ([6.0, 0.0], None), None),  # a view follows the change
    ("d = a.exp(); d += 1; out = d", "one of the variables needed for gradient computation", SAVED),
    ("c = a.sigmoid(); c *= 2; out = c", "one of the variables needed for gradient computation", SAVED),
    ("c = a * 2; c /= c.detach(); out = c", "one of the variables needed for gradient computation", SAVED),
    ("c = a * 2; c *= c.detach(); out = c", "one of the variables needed for gradient computation", SAVED),
    # PyTorch's number, our error: e and w were recorded before the change and saved nothing
    ("c = a * 3; e = c + 5; c *= 2; out = e", ([3.0, 3.0], None), STALE),
    ("c = a * 3; v = c[0:1]; w = v + 5; c *= 2; out = w", ([3.0, 0.0], None), STALE),
    ("c = a * 3; v = c[0:1]; w = v * 5; c *= 2; out = w", ([15.0, 0.0], None), SAVED),  # w saved v
    ("c = a * 3; v = c[0]; c += 1; out = v * v", ([24.0, 0.0], None), STALE),  # our c[0] is a copy
    ("c = a * 3; v = c[0:1]; v *= 2; out = c", ([6.0, 3.0], None), "is a view of another one"),
    # our number, PyTorch's error: it keeps c for the product, which the change overwrites
    ("c = a * 3; c *= c; out = c", "one of the variables needed for gradient computation", [18.0, 36.0]),
]


def run(code, tensor):
    a, b = tensor([1.0, 2.0]), tensor(4.0)
    namespace = {"a": a, "b": b}
    exec(code, namespace)
    namespace["out"].sum().backward()
    return tuple(None if t.grad is None else np.asarray(t.grad).tolist() for t in (a, b))


@pytest.mark.parametrize(("code", "torch_result", "ours"), CASES)
def test_in_place_on_computed_tensors_gives_pytorchs_number_or_an_error(code, torch_result, ours):
    def tensor(x):
        return T(x, requires_grad=True)

    if isinstance(ours, str):
        with pytest.raises(RuntimeError, match=ours):
            run(code, tensor)
    else:
        assert run(code, tensor) == (torch_result if ours is None else (ours, None))


def test_the_stored_results_are_pytorchs():
    torch = pytest.importorskip("torch", reason="PyTorch is not installed; the stored results are checked")

    def tensor(x):
        return torch.tensor(x, dtype=torch.float64, requires_grad=True)

    for code, torch_result, _ in CASES:
        if isinstance(torch_result, str):
            with pytest.raises(RuntimeError, match=torch_result):
                run(code, tensor)
        else:
            assert run(code, tensor) == torch_result, code


def test_the_tensor_object_holds_the_result_and_its_graph():
    a = T([1.0, 2.0], requires_grad=True, label="a")
    c = a * 3
    c.label = "c"
    same, data, version = c, c.data, c.version
    c += 1
    assert c is same and c.data is data and c.version == version + 1
    assert c.op == "+" and c.parents[0] is not c and c.parents[0].op == "*"
    assert np.array_equal(c.parents[0].data, [3.0, 6.0]) and np.array_equal(c.data, [4.0, 7.0])


def test_second_derivatives_through_in_place_changes():
    # PyTorch 2.13: g = [2, 4], then a.grad = [2, 2]; and g = [4, 32], a.grad = [12, 48]
    for change, g_expected, gg_expected in [
        (lambda c, a: c.__itruediv__(a), [2.0, 4.0], [2.0, 2.0]),  # a³/a, whose div keeps its output
        (lambda c, a: c.__itruediv__(a).__ipow__(2), [4.0, 32.0], [12.0, 48.0]),  # (a³/a)²
    ]:
        a = T([1.0, 2.0], requires_grad=True)
        c = a**3
        c = change(c, a)
        (g,) = tg.grad(c.sum(), a, create_graph=True)
        g.sum().backward()
        assert g.data.tolist() == g_expected and a.grad.tolist() == gg_expected
    a = T([1.0, 2.0], requires_grad=True)  # PyTorch 2.13: g = [3, 5], a.grad = [2, 2]
    c = a * a
    c += a
    (g,) = tg.grad(c.sum(), a, create_graph=True)
    g.sum().backward()
    assert g.data.tolist() == [3.0, 5.0] and a.grad.tolist() == [2.0, 2.0]


def test_dtype_shape_and_leaves():
    a = T(np.array([1.0, 2.0], dtype=np.float32), requires_grad=True)
    c = a * 3
    c *= 2.5  # PyTorch 2.13: float32, a.grad = [7.5, 7.5]
    c.sum().backward()
    assert c.dtype == np.float32 and a.grad.dtype == np.float32 and a.grad.tolist() == [7.5, 7.5]
    c = a * 3
    with pytest.raises(ValueError, match=r"the result has shape \(2, 2\), which does not fit .* \(2,\)"):
        c += T([[1.0], [2.0]])  # PyTorch: output with shape [2] doesn't match the broadcast shape [2, 2]
    w = T([[1.0, 2.0]], requires_grad=True)
    h = w * 1
    with pytest.raises(ValueError, match=r"the result has shape \(1, 1\)"):
        h @= T([[1.0], [1.0]])  # a matmul that would shrink the tensor is no in-place change
    assert np.array_equal(c.data, [3.0, 6.0]) and h.op == "*"  # refused before anything changed
    with pytest.raises(RuntimeError, match="a leaf Tensor that requires grad is being used in an in-place"):
        a += 1.0
    with tg.no_grad():
        a += 1.0
        c += 1.0  # under no_grad: the data, counted
    assert a.version == 1 and c.version == 1 and a.is_leaf and c.op == "*"


def test_a_value_gives_a_new_node_as_micrograd():
    a, b = V(-4.0), V(2.0)
    c = same = a + b
    c += c + 1  # micrograd's test_more_ops: c = c + (c + 1)
    assert c is not same and c.data == -3.0 and same.data == -2.0
    c.backward()
    assert a.grad == 2.0
    leaf = V(3.0)
    leaf += 1.0  # with gradients on: a new node too
    assert leaf.op == "+" and leaf.parents[0].data == 3.0
    w = kept = V(3.0)
    computed = before = w * 2
    with tg.no_grad():
        w -= 0.5  # the optimiser idiom: the leaf itself
        computed += 1  # a computed Value is never changed: a new number
    assert w is kept and w.data == 2.5 and computed is not before and before.data == 6.0


def test_an_operand_computed_from_x_reads_x_before_the_change():
    # PyTorch 2.13: c += c * 5 gives a.grad = [18, 18]; c += c * c raises there (mul saved c), and
    # is (3a)² + 3a here, whose gradient is 18a + 3
    for change, expected in [(lambda c: c * 5, [18.0, 18.0]), (lambda c: c * c, [21.0, 39.0])]:
        a = T([1.0, 2.0], requires_grad=True)
        c = a * 3
        c += change(c)
        c.sum().backward()
        assert a.grad.tolist() == expected
    a = T([1.0, 2.0], requires_grad=True)
    c = a * 3
    c[0] = c[1] * 2  # PyTorch 2.13: a.grad = [0, 9]
    c.sum().backward()
    assert a.grad.tolist() == [0.0, 9.0]
    c = a * 3
    with pytest.raises(RuntimeError, match="y is x's data"):
        c += c[0:1] + 2  # PyTorch 2.13: a.grad = [9, 3]
    a.grad = None
    c = a * 3
    e = c * 5  # reads c before the first change: pointed at the node that holds c as it was then
    c += 1
    c += e + 1  # PyTorch 2.13: a.grad = [18, 18]
    c.sum().backward()
    assert a.grad.tolist() == [18.0, 18.0]


def test_a_cycle_that_an_in_place_change_made_stops_backward_with_an_error():
    a = T([1.0, 2.0], requires_grad=True)
    c = a * 3
    e = c * 5
    e2 = e + 1  # made before c's first change, so not searched by the second
    c += 1
    c += e2 + 1  # reads e2, which reads c, which now reads e2
    with pytest.raises(RuntimeError, match="the graph has a cycle"):
        c.sum().backward()
    for show in (tg.draw, lambda root: list(tg.Backprop(root))):  # no KeyError from the naming
        with pytest.raises(RuntimeError, match="cannot walk the graph: the graph has a cycle"):
            show(c.sum())


def test_setting_elements_of_a_computed_tensor_follows_numpys_rules_and_says_where():
    a = T([1.0, 2.0, 3.0], requires_grad=True)
    w = T([[10.0, 20.0]], requires_grad=True)
    c = a * 2
    c[0:2] = w  # a leading axis of length 1 is dropped, as numpy and PyTorch do
    (c * c).sum().backward()
    assert a.grad.tolist() == [0.0, 0.0, 24.0] and w.grad.tolist() == [[20.0, 40.0]]  # PyTorch's too
    c = a * 2
    with pytest.raises(
        ValueError, match=r"t\[\.\.\.\] = value: could not broadcast .* \(tensor of shape \(3,\)"
    ):
        c[0:2] = T([1.0, 2.0, 3.0], requires_grad=True)
