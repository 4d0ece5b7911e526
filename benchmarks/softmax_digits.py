"""One full-batch step of softmax regression on the bundled digits (1797 x 64, 10 classes),
against the hand-written numpy gradient and PyTorch CPU float64 (when installed).

The step: logits Z = XW + b, the mean cross-entropy against the labels, and the gradients of W
and b. The hand-written numpy step computes P = softmax(Z) (max subtracted), the loss
−mean log P[y] and Xᵀ(P − Y)/n, Σ(P − Y)/n: the same outputs, written out by hand.

All contestants must agree on the loss and the gradients before they are timed. Times are
medians over rounds in which the contestants take turns; ratios are against numpy in the same
run.

    python benchmarks/softmax_digits.py
    python benchmarks/softmax_digits.py --repeats 201 --inner 20
"""

from __future__ import annotations

import argparse
import platform

import numpy as np
from tensor_lr import measure  # the contestants take turns in every round; medians

import tinygrad_lr as tg
from tinygrad_lr.nn import functional as F


def tinygrad_step(X, y, W, b):
    """Forward (the linear op), the loss (the fused cross-entropy op), backward."""
    W.grad = b.grad = None
    loss = F.cross_entropy(tg.linear(X, W, b), y)
    loss.backward()
    return loss.item(), W.grad, b.grad


def numpy_step(X, y, W, b):
    """The hand-written step: softmax, the loss, Xᵀ(P − Y)/n and the bias gradient."""
    n = len(X)
    Z = X @ W + b
    Z = Z - Z.max(axis=1, keepdims=True)
    E = np.exp(Z)
    total = E.sum(axis=1, keepdims=True)
    P = E / total
    loss = np.mean(np.log(total[:, 0]) - Z[np.arange(n), y])
    R = P
    R[np.arange(n), y] -= 1
    R /= n
    return loss, X.T @ R, R.sum(axis=0)


def torch_step(X, y, W, b):
    import torch

    W.grad = b.grad = None
    loss = torch.nn.functional.cross_entropy(X @ W + b, y)
    loss.backward()
    return loss.item(), W.grad, b.grad


def contestants() -> dict:
    X, y = tg.data.load_digits()
    X = tg.data.standardize(X)
    rng = np.random.default_rng(0)
    W0, b0 = rng.standard_normal((64, 10)) * 0.01, np.zeros(10)
    found = {
        "numpy": (numpy_step, (X, y, W0, b0)),
        "tinygrad_lr": (
            tinygrad_step,
            (
                tg.Tensor(X),
                y,
                tg.Tensor(W0.copy(), requires_grad=True),
                tg.Tensor(b0.copy(), requires_grad=True),
            ),
        ),
    }
    try:
        import torch
    except ImportError:
        print("PyTorch is not installed (pip install torch to compare with it)")
    else:
        torch.set_num_threads(1)
        args = (
            torch.tensor(X),
            torch.tensor(y),
            torch.tensor(W0, requires_grad=True),
            torch.tensor(b0, requires_grad=True),
        )
        found["torch"] = (torch_step, args)
    expected = numpy_step(*found["numpy"][1])
    for name, (step, args) in found.items():
        loss, gW, gb = step(*args)
        got = [float(loss), np.asarray(gW), np.asarray(gb)]
        for what, a, e in zip(("loss", "dW", "db"), got, expected):
            if not np.allclose(a, e, rtol=1e-9, atol=1e-12):
                raise SystemExit(f"{name} disagrees with numpy on {what}")
    return found


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--repeats", type=int, default=101, help="rounds (the median is reported)")
    parser.add_argument("--inner", type=int, default=20, help="steps per timed round")
    args = parser.parse_args()
    found = contestants()
    times = measure(found, args.repeats, args.inner)
    print(f"python {platform.python_version()}, numpy {np.__version__}, {platform.machine()}")
    print(f"one step on digits 1797x64, 10 classes; median of {args.repeats} rounds of {args.inner} steps")
    for name, seconds in times.items():
        print(f"  {name:12} {seconds * 1e6:8.1f} µs   {seconds / times['numpy']:5.2f}x numpy")


if __name__ == "__main__":
    main()
