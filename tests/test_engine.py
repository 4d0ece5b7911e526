"""The graph core: order, accumulation, repeated passes, grad(), no_grad, deep graphs."""

import asyncio
import gc
import math
import threading

import numpy as np
import pytest

import tinygrad_lr as tg
from tinygrad_lr import Value


def sigmoid_prime(x):
    s = 1 / (1 + math.exp(-x))
    return s * (1 - s)


def test_contract_example():
    a = Value(2.0, label="a")
    b = a * 3 + a.sigmoid() - 1 / a**2
    b.backward()
    assert b.data == pytest.approx(6 + 1 / (1 + math.exp(-2)) - 0.25)
    assert a.grad == pytest.approx(3 + sigmoid_prime(2.0) + 2 / 2.0**3)


def test_a_node_used_twice_receives_both_contributions():
    a = Value(3.0)
    (a * a).backward()
    assert a.grad == 6.0
    b = Value(3.0)
    c = b + b
    d = c * b  # 2b·b: d' = 4b
    d.backward()
    assert b.grad == 12.0
    assert c.grad == 3.0


def test_every_value_in_the_graph_gets_its_gradient():
    x, w, b = Value(2.0), Value(-0.5), Value(0.1)
    z = w * x + b
    p = z.sigmoid()
    loss = -p.log()
    loss.backward()
    s = p.data
    assert loss.grad == 1.0
    assert p.grad == pytest.approx(-1 / s)
    assert z.grad == pytest.approx(s - 1)
    assert w.grad == pytest.approx((s - 1) * 2.0)
    assert b.grad == pytest.approx(s - 1)
    assert x.grad == pytest.approx((s - 1) * -0.5)


def test_second_backward_accumulates_leaves_but_not_interior_nodes():
    # micrograd issue #53: its second backward turns an interior grad of 1.0 into 3.0
    a = Value(1.0)
    b = Value(2.0)
    c = a * b
    d = c + a
    d.backward()
    first = (a.grad, b.grad, c.grad, d.grad)
    assert first == (3.0, 1.0, 1.0, 1.0)
    d.backward()
    assert (a.grad, b.grad) == (6.0, 2.0)  # leaves accumulate, as in PyTorch
    assert (c.grad, d.grad) == (1.0, 1.0)  # interior nodes show the latest pass


def test_backward_takes_an_upstream_gradient():
    a = Value(3.0)
    (a * a).backward(0.5)
    assert a.grad == 3.0


def test_constants_get_no_gradient_and_do_not_block_backward():
    a = Value(2.0)
    k = Value(5.0, requires_grad=False)
    (a * k).backward()
    assert (a.grad, k.grad) == (5.0, 0.0)


def test_backward_from_a_constant_explains():
    k = Value(5.0, requires_grad=False)
    with pytest.raises(RuntimeError, match="does not require grad"):
        (k * Value(2.0, requires_grad=False)).backward()


def test_numbers_in_arithmetic_become_constant_values_as_in_pytorch():
    a = Value(2.0)
    c = a * 3
    c.backward()
    three = c.parents[1]
    assert isinstance(three, Value) and three.data == 3.0
    assert not three.requires_grad and three.grad == 0.0 and a.grad == 3.0
    assert not (Value(1.0, requires_grad=False) * 2).requires_grad


def test_grad_refuses_inputs_that_record_nothing():
    X = tg.Tensor([1.0, 2.0])
    W = tg.Tensor([0.5, 0.5], requires_grad=True)
    with pytest.raises(ValueError, match=r"inputs\[0\] does not require grad.*requires_grad=True"):
        tg.grad((X * W).sum(), [X])


def test_grad_returns_gradients_without_touching_dot_grad():
    x, y = Value(2.0), Value(3.0)
    out = x * y + x
    gx, gy = tg.grad(out, [x, y])
    assert (gx.data, gy.data) == (4.0, 2.0)
    assert (x.grad, y.grad, out.grad) == (0.0, 0.0, 0.0)
    assert gx.is_leaf and not gx.requires_grad


def test_grad_of_an_interior_node_and_an_unrelated_input():
    x, unrelated = Value(2.0), Value(7.0)
    h = x * x
    out = h.sigmoid()
    gh, gu = tg.grad(out, (h, unrelated))
    assert gh.data == pytest.approx(sigmoid_prime(4.0))
    assert gu.data == 0.0


def test_grad_output_scales_the_result():
    x = Value(2.0)
    (g,) = tg.grad(x * x, [x], grad_output=10.0)
    assert g.data == 40.0


def test_grad_takes_inputs_from_any_iterable_once():
    # PyTorch: torch.autograd.grad(x * x, (p for p in [x])) is (tensor(4.),)
    x, y = Value(2.0), Value(3.0)
    gx, gy = tg.grad(x * y, (p for p in [x, y]))
    assert (gx.data, gy.data) == (3.0, 2.0)
    (g,) = tg.grad(x * x, iter([x]))
    assert g.data == 4.0


def test_grad_rejects_things_that_are_not_nodes():
    x = Value(1.0)
    with pytest.raises(TypeError, match=r"inputs\[1\] is a float"):
        tg.grad(x * 2, [x, 1.0])


def test_create_graph_gives_higher_derivatives():
    x = Value(1.5)
    y = x**4
    (d1,) = tg.grad(y, [x], create_graph=True)
    (d2,) = tg.grad(d1, [x], create_graph=True)
    (d3,) = tg.grad(d2, [x], create_graph=True)
    (d4,) = tg.grad(d3, [x], create_graph=True)
    (d5,) = tg.grad(d4, [x])
    assert [d.data for d in (d1, d2, d3, d4, d5)] == pytest.approx(
        [4 * 1.5**3, 12 * 1.5**2, 24 * 1.5, 24.0, 0.0]
    )


def test_create_graph_second_derivative_of_sigmoid_and_mixed_partials():
    x, y = Value(0.3), Value(-1.2)
    f = (x * y).sigmoid()
    gx, _ = tg.grad(f, [x, y], create_graph=True)
    (gxy,) = tg.grad(gx, [y])
    s = 1 / (1 + math.exp(0.36))
    # ∂²σ(xy)/∂x∂y = σ'(xy) + xy·σ''(xy)
    assert gxy.data == pytest.approx(s * (1 - s) + 0.3 * -1.2 * s * (1 - s) * (1 - 2 * s))


def test_no_grad_records_nothing_and_restores_the_mode():
    x = Value(2.0)
    with tg.no_grad():
        y = x * x + 1
        assert not tg.engine.grad_enabled()
    assert tg.engine.grad_enabled()
    assert y.is_leaf and y.parents == () and not y.requires_grad
    assert y.data == 5.0
    with pytest.raises(ZeroDivisionError), tg.no_grad():
        raise ZeroDivisionError
    assert tg.engine.grad_enabled()


def test_no_grad_as_a_decorator_and_nested():
    @tg.no_grad()
    def evaluate(v):
        return v.sigmoid()

    @tg.no_grad
    def bare(v):
        return v.tanh()

    x = Value(0.0)
    assert evaluate(x).is_leaf and bare(x).is_leaf
    with tg.no_grad():
        with tg.no_grad():
            pass
        assert not tg.engine.grad_enabled()
    assert tg.engine.grad_enabled()


def test_one_no_grad_object_shared_by_threads():
    # PyTorch's grad mode belongs to the thread: one no_grad object entered by two threads
    # turns recording off in each until that thread leaves it
    shared = tg.no_grad()
    entered, first_left = threading.Barrier(2, timeout=10), threading.Barrier(2, timeout=10)
    seen, errors = {}, []

    def worker(name):
        try:
            with shared:
                entered.wait()  # both threads are inside
                seen[name, "inside"] = tg.engine.grad_enabled()
                if name == "second":
                    first_left.wait()  # leaves after the first, which left before it
            seen[name, "after"] = tg.engine.grad_enabled()
        except BaseException as error:
            errors.append(error)
        finally:
            if name == "first":
                first_left.wait()

    threads = [threading.Thread(target=worker, args=(name,)) for name in ("first", "second")]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == []
    assert seen == {
        ("first", "inside"): False,
        ("second", "inside"): False,
        ("first", "after"): True,
        ("second", "after"): True,
    }
    assert tg.engine.grad_enabled()


def test_no_grad_left_in_another_thread_than_it_was_entered_in_is_refused():
    def body():
        with tg.no_grad():
            yield

    steps = body()
    errors = []

    def finish():
        try:
            next(steps, None)
        except RuntimeError as error:
            errors.append(error)

    for target in (lambda: next(steps), finish):  # entered in one thread, left in another
        thread = threading.Thread(target=target)
        thread.start()
        thread.join()
    assert "no_grad: left in another thread or asyncio task than the one that entered it" in str(errors[0])


def test_one_no_grad_object_shared_by_asyncio_tasks():
    shared = tg.no_grad()
    x = Value(1.0)

    async def task(first_delay, second_delay):
        await asyncio.sleep(first_delay)
        with shared:
            await asyncio.sleep(second_delay)
            inside = (x * 2).requires_grad
        return inside, (x * 2).requires_grad

    async def main():
        # entered a then b, left a then b: the exits do not nest across the tasks
        return await asyncio.gather(task(0, 0.02), task(0.01, 0.02))

    assert asyncio.run(main()) == [(False, True), (False, True)]
    assert tg.engine.grad_enabled() and (x * 2).requires_grad


def test_a_million_node_chain_backprops_without_recursion():
    # NOTE: without the cyclic garbage collector, which would rescan the growing chain (and all
    # else the test process holds) many times over; reference counting frees the chain
    gc.disable()
    try:
        x = Value(1.0)
        y = x
        for _ in range(1_000_000):
            y = -y
        y.backward()
        assert x.grad == 1.0  # an even number of negations
        del y
    finally:
        gc.enable()


def test_consumers_counts_the_contributions_each_node_will_receive():
    a = Value(1.0)
    b = a * a
    c = b + a
    consumers = tg.engine.consumers(c)
    assert set(consumers) == {a, b, c}
    assert consumers[a] == 3 and consumers[b] == 1 and consumers[c] == 0


def test_walk_lists_inputs_before_results_and_includes_constants():
    a = Value(1.0, label="a")
    c = a * 2 + a
    order = tg.engine.walk(c)
    assert order[-1] is c and len(order) == 4
    position = {id(n): i for i, n in enumerate(order)}
    for node in order:
        assert all(position[id(p)] < position[id(node)] for p in node.parents)


def test_grad_of_several_outputs_is_the_sum_of_their_gradients():
    x = tg.Tensor([1.0, 2.0, 3.0], requires_grad=True)
    L1 = (x * x).sum()
    L2 = L1 * x.sum()  # one output feeds the other
    # PyTorch's torch.autograd.grad([L1, L2], [x]): 2x + (2x·Σx + Σx²) = [28, 42, 56]
    (g,) = tg.grad([L1, L2], [x])
    assert np.array_equal(g.data, [28.0, 42.0, 56.0])
    (g,) = tg.grad((out for out in (L1, L2)), x, grad_output=[2.0, -1.0])
    assert np.array_equal(g.data, [-22.0, -30.0, -38.0])
    y1, y2 = x * x, x.exp()
    (g,) = tg.grad((y1, y2), [x], grad_output=[np.array([1.0, 2.0, 3.0]), np.array([0.5, -1.0, 2.0])])
    # PyTorch's numbers
    assert np.allclose(g.data, [3.3591409142295225, 0.6109439010693504, 58.171073846375336], rtol=1e-12)
    (g,) = tg.grad([L1, L2], [x], create_graph=True)
    assert isinstance(g, tg.Tensor) and np.array_equal(g.data, [28.0, 42.0, 56.0])
    with pytest.raises(ValueError, match="grad_output"):
        tg.grad([L1, L2], [x], grad_output=[1.0])


def test_no_grad_on_an_async_generator_function_records_nothing_in_its_body():
    # PyTorch's decorator leaves an async generator's body recording; here it runs as a
    # generator's does: without recording, and the caller's mode between the steps
    x = Value(1.0)

    @tg.no_grad()
    async def steps():
        received = yield (x * 2).is_leaf, tg.engine.grad_enabled()
        try:
            yield received, tg.engine.grad_enabled()
        except KeyError:
            yield "caught", tg.engine.grad_enabled()

    async def main():
        seen = [await anext(s := steps()), tg.engine.grad_enabled()]
        seen += [await s.asend(5), await s.athrow(KeyError), tg.engine.grad_enabled()]
        await s.aclose()
        return seen, [item async for item in steps()]

    seen, items = asyncio.run(main())
    assert seen == [(True, False), True, (5, False), ("caught", False), True]
    assert items == [(True, False), (None, False)] and tg.engine.grad_enabled()
