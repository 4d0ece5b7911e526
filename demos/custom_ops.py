"""Adding ops of your own: sin, cos and log-sum-exp, tested with tinygrad_lr.testing, used in
a model.

Each op is a Function subclass: forward on raw data, a derivative formula per input (for an
elementwise op it is the backward, compiled), a reference forward, and where to test it (a
domain, or the name of an argument pattern). Defining the class registers it, so the stepper,
the pictures and the registry-wide property tests know it. sin's formula calls cos and cos's
calls sin: run on graph nodes, they give second derivatives too.
Run: python demos/custom_ops.py
"""

import numpy as np

import tinygrad_lr as tg
from tinygrad_lr import nn, testing


class Sin(tg.Function):
    """f(x) = sin x;  f'(x) = cos x."""

    symbol = "sin"
    formula = "cos(x)"
    reference = np.sin
    domain = (tg.Domain(-3.0, 3.0),)

    @staticmethod
    def forward(ctx, x):
        return np.sin(x)


class Cos(tg.Function):
    """f(x) = cos x;  f'(x) = −sin x."""

    symbol = "cos"
    formula = "-sin(x)"
    reference = np.cos
    domain = (tg.Domain(-3.0, 3.0),)

    @staticmethod
    def forward(ctx, x):
        return np.cos(x)


class LogSumExp(tg.Function):
    """f(x) = log Σᵢ exp(xᵢ) along one axis (kept, of size 1);  ∂f/∂xᵢ = exp(xᵢ − f) (softmax)."""

    formula = ("exp(x - out)", "")
    domain = "axis"  # an array and one of its axes: a pattern of tinygrad_lr.testing.PATTERNS
    tensor_only = True

    @staticmethod
    def reference(x, axis):
        return np.log(np.sum(np.exp(x), axis=axis, keepdims=True))

    @staticmethod
    def forward(ctx, x, axis):
        top = np.max(x, axis=axis, keepdims=True)  # NOTE: shifted, so exp never overflows
        out = top + np.log(np.sum(np.exp(x - top), axis=axis, keepdims=True))
        ctx.save_for_backward(x, out)
        return out

    @staticmethod
    def backward(ctx, grad):
        x, out = ctx.saved_tensors
        return grad * tg.exp(x - out), None


class SinNet(nn.Module):
    """A network with a sine activation: logistic regression on features sin(x·W + c)."""

    def __init__(self, n_in: int, hidden: int, seed: int = 0):
        self.features = nn.Linear(n_in, hidden, seed=seed)
        self.output = nn.LogisticRegression(hidden, seed=seed + 1)

    def logits(self, x):
        return self.output.logits(Sin.apply(self.features(x)))

    def forward(self, x):
        return tg.sigmoid(self.logits(x))


if __name__ == "__main__":
    from hypothesis import given, settings

    # the tests an op author writes: first and second derivatives, on Values and on Tensors of
    # drawn shapes, the forward against its reference, the formula against backward, and
    # float32 kept float32
    def check(op):
        @settings(max_examples=30, deadline=None)
        @given(testing.tensor_arguments(op))
        def on_tensors(args):
            testing.check_op(op, args)
            testing.check_reference(op, args)
            testing.check_formula(op, args)
            testing.check_float32(op, args)

        if not op.tensor_only:
            settings(max_examples=30, deadline=None)(given(testing.value_arguments(op))(check_values(op)))()
        on_tensors()
        print(f"{op.name}: forward, formula, gradients and second derivatives checked")

    def check_values(op):
        def on_values(args):
            testing.check_op(op, args)
            testing.check_reference(op, args)
            testing.check_formula(op, args)

        return on_values

    for op in (Sin, Cos, LogSumExp):
        check(op)

    print("registered:", all(name in tg.REGISTRY for name in ("sin", "cos", "logsumexp")))
    x = tg.Value(0.5, label="x")
    y = Sin.apply(x * x)
    y.label = "y"
    print(next(iter(tg.Backprop(y))))

    X, labels = tg.data.make_moons(200, noise=0.1)
    model = SinNet(2, 8)
    tg.training.fit(model, tg.optim.Adam(model.parameters(), lr=0.05), X, labels, epochs=200)
    print(f"a network with sine features on two moons: accuracy {tg.training.accuracy(model, X, labels):.2f}")
