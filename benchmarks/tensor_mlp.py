"""One training step of a network with a hidden layer, against hand-written numpy and PyTorch.

The step: X of 10,000 x 100, one hidden layer of 256 tanh units, one logit, the mean
binary cross-entropy with logits against y, the gradients of all four parameters. tinygrad_lr
runs the library's own model (``nn.MLP([100, 256, 1])``, its ``logits``, and
``nn.functional.binary_cross_entropy_with_logits``); numpy is the same step written out by
hand (the baseline of the ratios); PyTorch (when importable) runs it with ``F.linear``,
``torch.tanh`` and ``F.binary_cross_entropy_with_logits``. Every contestant runs on one
thread (numpy's BLAS too), as numpy's elementwise kernels do. All three must agree on the loss
and the gradients before they are timed; they take turns in every round, and the report gives
medians and peak extra memory (tracemalloc: numpy's allocations, not PyTorch's).

    python benchmarks/tensor_mlp.py
    python benchmarks/tensor_mlp.py --rows 2000 --hidden 64 --dtype float32
"""

from __future__ import annotations

import argparse
import sys

import numpy as np
from tensor_lr import measure, on_one_thread, peak_memory

import tinygrad_lr as tg
from tinygrad_lr.nn import functional as F


def tinygrad_step(X, y, model):
    model.zero_grad()
    loss = F.binary_cross_entropy_with_logits(model.logits(X), y)
    loss.backward()
    return [loss.item(), *(p.grad for p in model.parameters())]


def numpy_step(X, y, W1, b1, W2, b2):
    """Forward, the loss softplus(z) − z·y, and the gradients written out by hand."""
    h = np.tanh(X @ W1 + b1)
    z = h @ W2 + b2
    loss = np.mean(np.logaddexp(0, z) - z * y)
    r = (1 / (1 + np.exp(-z)) - y) / len(X)
    dh = np.outer(r, W2) * (1 - h * h)
    return [loss, X.T @ dh, dh.sum(axis=0), h.T @ r, r.sum(keepdims=True)]


def torch_step(X, y, W1, b1, W2, b2):
    import torch
    from torch.nn import functional as TF

    for p in (W1, b1, W2, b2):
        p.grad = None
    z = TF.linear(torch.tanh(TF.linear(X, W1, b1)), W2, b2).reshape(-1)
    loss = TF.binary_cross_entropy_with_logits(z, y)
    loss.backward()
    return [loss.item(), W1.grad.T, b1.grad, W2.grad.reshape(-1), b2.grad]


def contestants(rows: int, cols: int, hidden: int, dtype: str) -> dict:
    rng = np.random.default_rng(0)
    X = rng.standard_normal((rows, cols)).astype(dtype)
    y = (rng.random(rows) < 0.5).astype(dtype)
    model = tg.nn.MLP([cols, hidden, 1], seed=0)
    if dtype == "float32":
        for p in model.parameters():
            p.data = p.data.astype(np.float32)
    W1, b1 = (p.data for p in model.hidden.parameters())
    W2, b2 = (p.data for p in model.output.parameters())
    found = {
        "numpy": (numpy_step, (X, y, W1, b1, W2.reshape(-1), b2)),
        "tinygrad_lr": (tinygrad_step, (tg.Tensor(X), tg.Tensor(y), model)),
    }
    try:
        import torch
    except ImportError:
        return found
    torch.set_num_threads(1)
    params = [torch.tensor(a) for a in (W1.T, b1, W2.T, b2)]  # PyTorch's weights are (out, in)
    for p in params:
        p.requires_grad_(True)
    found["pytorch"] = (torch_step, (torch.from_numpy(X), torch.from_numpy(y), *params))
    return found


def check_agreement(found: dict, rtol: float) -> None:
    reference = None
    for name, (step, args) in found.items():
        got = [
            np.asarray(a.detach() if hasattr(a, "detach") else a, np.float64).reshape(-1) for a in step(*args)
        ]
        if reference is None:
            reference = got
        elif not all(np.allclose(a, b, rtol=rtol, atol=rtol * 1e-3) for a, b in zip(got, reference)):
            sys.exit(f"{name} computes a different loss or gradient than numpy: not timing")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rows", type=int, default=10_000)
    parser.add_argument("--cols", type=int, default=100)
    parser.add_argument("--hidden", type=int, default=256)
    parser.add_argument("--repeats", type=int, default=9)
    parser.add_argument("--dtype", choices=("float64", "float32"), default="float64")
    args = parser.parse_args()
    on_one_thread()
    found = contestants(args.rows, args.cols, args.hidden, args.dtype)
    check_agreement(found, 1e-9 if args.dtype == "float64" else 1e-4)
    print(
        f"X {args.rows:,} x {args.cols}, {args.hidden} tanh units, {args.dtype}; "
        f"median of {args.repeats} rounds"
    )
    times = measure(found, args.repeats)
    memory = {name: peak_memory(*found[name]) for name in found if name != "pytorch"}
    print(f"{'contestant':<13}{'ms/step':>9}{'vs numpy':>10}{'peak extra MB':>15}{'vs numpy':>10}")
    for name, t in times.items():
        m = memory.get(name)
        extra = f"{m / 1e6:>15.1f}{m / memory['numpy']:>9.2f}x" if m is not None else f"{'n/a':>15}"
        print(f"{name:<13}{t * 1e3:>9.1f}{t / times['numpy']:>9.2f}x{extra}")


if __name__ == "__main__":
    main()
