"""Gradients that a user's op returns in another shape than its input's: summed back where the
shapes say how forward broadcast the input, refused (``InvalidGradient``) everywhere else."""

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

import tinygrad_lr as tg
from tinygrad_lr import testing
from tinygrad_lr.core.engine import InvalidGradient


def outer_op(broadcasts=False):
    class Outer(tg.Function, register=False):
        """x[:, None] * y[None, :], whose backward returns each gradient in the output's shape."""

        @staticmethod
        def forward(ctx, x, y):
            ctx.save_for_backward(x, y)
            return x[:, None] * y[None, :]

        @staticmethod
        def backward(ctx, grad):
            x, y = ctx.saved_tensors
            return grad * y[None, :], grad * x[:, None]

    Outer.broadcasts = broadcasts
    return Outer


def test_an_output_shaped_gradient_that_fits_the_input_in_two_places_is_refused():
    x, y = tg.Tensor([1.0, 2.0, 3.0], requires_grad=True), tg.Tensor([4.0, 5.0, 6.0], requires_grad=True)
    out = outer_op().apply(x, y)
    message = (
        r"Outer.backward returned an invalid gradient for input 0 \(x\): got shape \(3, 3\) for an "
        r"input of shape \(3,\), .* return its gradient in shape \(3,\)"
    )
    with pytest.raises(InvalidGradient, match=message):
        out.backward(np.arange(9.0).reshape(3, 3))
    assert x.grad is None and y.grad is None


def test_an_output_shaped_gradient_placed_by_the_shapes_alone_is_summed_back():
    x, y = tg.Tensor([1.0, 2.0, 3.0], requires_grad=True), tg.Tensor([4.0, 5.0], requires_grad=True)
    upstream = np.arange(6.0).reshape(3, 2)
    (gy,) = tg.grad(outer_op().apply(x.detach(), y), [y], upstream)  # (2,) in (3, 2): one place
    assert np.allclose(gy.data, upstream.T @ x.data)  # d/dy_j Σ g_ij x_i y_j
    with pytest.raises(
        InvalidGradient, match=r"got shape \(3, 2\) but expected a shape compatible with \(3,\)"
    ):
        tg.grad(outer_op().apply(x, y), [x], upstream)  # (3,) does not fit (3, 2) from the right


def test_an_op_that_says_it_broadcasts_as_numpy_does_is_summed_back_from_the_right():
    class Times(tg.Function, register=False):
        broadcasts = True

        @staticmethod
        def forward(ctx, x, y):
            ctx.save_for_backward(x, y)
            return x * y

        @staticmethod
        def backward(ctx, grad):
            x, y = ctx.saved_tensors
            return grad * y, grad * x

    x, y = tg.Tensor([1.0, 2.0, 3.0], requires_grad=True), tg.Tensor(np.eye(3) + 1, requires_grad=True)
    Times.apply(x, y).sum().backward()
    assert np.array_equal(x.grad, (np.eye(3) + 1).sum(axis=0))
    with pytest.raises(InvalidGradient, match=r"got shape \(3, 3\) for an input of shape \(3,\)"):
        outer_op(broadcasts=False).apply(x, x).sum().backward()


# --- random user ops against finite differences -----------------------------------------------


@st.composite
def placements(draw, out_shape):
    """An input broadcast to ``out_shape`` by a user's forward: the axes of the output it has (in
    order; the others it gets with None), each of the output's size or 1 (stretched)."""
    kept = [a for a in range(len(out_shape)) if draw(st.booleans())]
    return kept, tuple(draw(st.sampled_from((out_shape[a], 1))) for a in kept)


def expand(x, kept, out_shape):
    """x with None at the axes it lacks, broadcast to the output's shape (x[:, None] and the like)."""
    index = tuple(slice(None) if a in kept else None for a in range(len(out_shape)))
    return np.broadcast_to(x[index], out_shape)


def summed_back(g, kept, shape):
    """The gradient of the expanded input summed to the input's own shape (a correct backward)."""
    lacking = tuple(a for a in range(g.ndim) if a not in kept)
    g = np.add.reduce(g, axis=lacking, keepdims=True).reshape([g.shape[a] for a in kept])
    return np.add.reduce(g, axis=tuple(i for i, n in enumerate(shape) if n == 1), keepdims=True)


# What backward returns for an input: the gradient in its shape, in the output's shape, or in a
# shape it cannot have (extra copies along an axis the op does not have, a part of an axis, the
# axes reversed). Not drawn: what no shape can tell from a right gradient (a permutation within
# its own shape, a part of the size a broadcast could have had, reversed axes that a broadcast of
# the input could have given).
RETURNS = {
    "input's shape": lambda g_out, g_in: g_in,
    "output's shape": lambda g_out, g_in: g_out,
    "an extra axis": lambda g_out, g_in: np.broadcast_to(g_out, (4, *g_out.shape)),
    "a part": lambda g_out, g_in: g_in[..., :1] if g_in.ndim and g_in.shape[-1] > 1 else g_out[None, None],
    "axes reversed": lambda g_out, g_in: g_out.T if reversal_shows(g_out, g_in) else g_out[None, None],
}


def reversal_shows(g_out, g_in):
    """Whether the shape of g_out.T tells it from a right gradient: it is not g_out's own, and
    the input's shape does not broadcast to it (as (2, 2) does to (1, 2, 2), the reversed (2, 2, 1))."""
    reversed_shape = g_out.T.shape
    if reversed_shape == g_out.shape:
        return False
    try:
        return np.broadcast_shapes(g_in.shape, reversed_shape) != reversed_shape
    except ValueError:
        return True


@st.composite
def user_ops(draw):
    out_shape = tuple(draw(st.lists(st.integers(1, 3), max_size=3)))
    plans = [draw(placements(out_shape)) for _ in range(2)]
    returns = [draw(st.sampled_from(sorted(RETURNS))) for _ in range(2)]
    inputs = [draw(testing.arrays(shape=shape)) for _, shape in plans]
    return out_shape, plans, returns, inputs, draw(testing.arrays(shape=out_shape))


def make_op(out_shape, plans, returns):
    """f(x, y) = sin(X)·Y + X, X and Y the inputs broadcast to the output (numpy's way or not)."""
    (kept_x, shape_x), (kept_y, shape_y) = plans

    def forward_of(x, y):
        big_x, big_y = expand(x, kept_x, out_shape), expand(y, kept_y, out_shape)
        return np.sin(big_x) * big_y + big_x

    class UserOp(tg.Function, register=False):
        @staticmethod
        def forward(ctx, x, y):
            ctx.save_for_backward(x, y)
            return forward_of(x, y)

        @staticmethod
        def backward(ctx, g):
            x, y = ctx.saved_tensors
            big_x, big_y = expand(x, kept_x, out_shape), expand(y, kept_y, out_shape)
            g_x, g_y = g * (np.cos(big_x) * big_y + 1), g * np.sin(big_x)
            return (
                RETURNS[returns[0]](g_x, summed_back(g_x, kept_x, shape_x)),
                RETURNS[returns[1]](g_y, summed_back(g_y, kept_y, shape_y)),
            )

    return UserOp, forward_of


def finite_differences(f, inputs, upstream, eps=1e-6):
    """d Σ(upstream · f) / d each input, by central differences."""
    grads = []
    for k, x in enumerate(inputs):
        grad = np.zeros_like(x)
        for i in np.ndindex(x.shape):
            shifted = [a.copy() for a in inputs]
            shifted[k][i] += eps
            up = np.sum(upstream * f(*shifted))
            shifted[k][i] -= 2 * eps
            grad[i] = (up - np.sum(upstream * f(*shifted))) / (2 * eps)
        grads.append(grad)
    return grads


@given(user_ops())
def test_a_user_ops_gradient_is_right_or_refused(case):
    out_shape, plans, returns, inputs, upstream = case
    op, forward_of = make_op(out_shape, plans, returns)
    nodes = [tg.Tensor(x, requires_grad=True) for x in inputs]
    try:
        op.apply(*nodes).backward(upstream)
    except InvalidGradient:
        assert returns != ["input's shape"] * 2, "a gradient of the input's own shape is refused"
        return
    for node, expected in zip(nodes, finite_differences(forward_of, inputs, upstream)):
        assert node.grad.shape == node.shape
        np.testing.assert_allclose(node.grad, expected, rtol=1e-5, atol=1e-6)


class FormulaOuter(tg.Function, register=False):
    """An outer product given by an elementwise formula only: forward does not broadcast as numpy
    does, so the compiled backward (which assumes it does) cannot be its gradient."""

    formula = ("y", "x")
    forward = staticmethod(lambda ctx, x, y: x[:, None] * y[None, :])


@pytest.mark.parametrize("create_graph", [False, True])
def test_a_formula_op_whose_forward_does_not_broadcast_as_numpy_is_refused(create_graph):
    # Left unchecked, x.grad came out [9, 24, 45]; the outer product's is [8, 26, 44].
    x = tg.Tensor([1.0, 2.0, 3.0], requires_grad=True)
    y = tg.Tensor([1.0, 2.0, 3.0], requires_grad=True)
    with pytest.raises(ValueError, match=r"FormulaOuter.*\(3, 3\).*\(3,\).*backward"):
        out = FormulaOuter.apply(x, y)
        tg.grad((out * tg.Tensor(np.arange(9.0).reshape(3, 3))).sum(), [x, y], create_graph=create_graph)


def test_a_formula_op_that_broadcasts_as_numpy_still_works():
    x = tg.Tensor([[1.0], [2.0]], requires_grad=True)
    y = tg.Tensor([1.0, 2.0, 3.0], requires_grad=True)

    class Times(tg.Function, register=False):
        formula = ("y", "x")
        forward = staticmethod(lambda ctx, x, y: x * y)

    Times.apply(x, y).sum().backward()
    assert np.array_equal(x.grad, [[6.0], [6.0]]) and np.array_equal(y.grad, [3.0, 3.0, 3.0])
