"""One logistic-regression gradient step on Tensors, against hand-written numpy (and PyTorch).

large: full-batch gradient of the mean logistic loss on X of 200,000 x 100 float64: forward,
       loss, backward, against the hand-written gradient p = σ(Xw + b), g = Xᵀ(p − y)/n, which
       is the limit (two passes over X). Time and peak extra memory (tracemalloc, which sees
       numpy's allocations), medians over repeats.
small: the lesson's example, X 2x2 and W 2x1, the same loss and gradient: per-step overhead in
       microseconds, against hand-written numpy and PyTorch CPU float64 (when installed:
       ``pip install torch``).

"numpy" computes the gradient only; "numpy+loss" also the loss value (with the lesson's
formula), as every other contestant does: for a small step that is the like-for-like
baseline, for a large one the gradient alone is the limit.

All contestants must agree on the gradient before they are timed.

    python benchmarks/tensor_lr.py
    python benchmarks/tensor_lr.py --rows 50000 --repeats 15
"""

from __future__ import annotations

import argparse
import gc
import statistics
import sys
import time
import tracemalloc

import numpy as np

import tinygrad_lr as tg


def tinygrad_step(X, y, w, b):
    """Forward (the linear op), the loss (the fused BCE-with-logits op), backward."""
    w.grad = b.grad = None
    loss = tg.bce_with_logits(tg.linear(X, w, b), y)
    loss.backward()
    return loss.item(), w.grad, b.grad


def tinygrad_composed_step(X, y, w, b):
    """The same step written with elementary ops: matmul, add, softplus, mul, sub, mean."""
    w.grad = b.grad = None
    z = X @ w + b
    loss = (tg.softplus(z) - z * y).mean()
    loss.backward()
    return loss.item(), w.grad, b.grad


def numpy_step(X, y, w, b):
    """The hand-written gradient alone: what any engine is bounded by."""
    p = 1 / (1 + np.exp(-(X @ w + b)))
    r = p - y
    return None, X.T @ r / len(X), r.mean(keepdims=True)[0]


def numpy_loss_step(X, y, w, b):
    """A hand-written training step: the lesson's loss and the gradient, as the others give."""
    p = 1 / (1 + np.exp(-(X @ w + b)))
    loss = -np.mean(y * np.log(p) + (1 - y) * np.log(1 - p))
    r = p - y
    return loss, X.T @ r / len(X), r.mean(keepdims=True)[0]


def torch_step(X, y, w, b):
    import torch

    w.grad = b.grad = None
    z = X @ w + b
    loss = torch.nn.functional.binary_cross_entropy_with_logits(z, y)
    loss.backward()
    return loss.item(), w.grad, b.grad


def measure(found: dict, repeats: int, inner: int = 1) -> dict[str, float]:
    """Median seconds per step of each contestant; the contestants take turns in every round,
    so a slow spell of the machine hits all of them alike."""
    times: dict[str, list[float]] = {name: [] for name in found}
    for step, args in found.values():
        step(*args)  # warm-up
    for _ in range(repeats):
        for name, (step, args) in found.items():
            start = time.perf_counter()
            for _ in range(inner):
                step(*args)
            times[name].append((time.perf_counter() - start) / inner)
    return {name: statistics.median(t) for name, t in times.items()}


def peak_memory(step, args) -> float:
    """Peak bytes allocated during one step, above what was allocated before it (tracemalloc
    sees numpy's allocations; it does not see PyTorch's)."""
    gc.collect()
    tracemalloc.start()
    base = tracemalloc.get_traced_memory()[0]
    step(*args)
    peak = tracemalloc.get_traced_memory()[1] - base
    tracemalloc.stop()
    return peak


def problem(rows: int, cols: int, seed: int = 0):
    rng = np.random.default_rng(seed)
    X = rng.standard_normal((rows, cols))
    w = rng.standard_normal((cols, 1)) * 0.1
    y = (rng.random((rows, 1)) < 1 / (1 + np.exp(-X @ w))).astype(np.float64)
    return X, y, w, np.zeros(1)


def contestants(X, y, w0, b0):
    ours = (
        tg.Tensor(X),
        tg.Tensor(y),
        tg.Tensor(w0.copy(), requires_grad=True),
        tg.Tensor(b0.copy(), requires_grad=True),
    )
    found = {
        "numpy": (numpy_step, (X, y, w0, b0)),
        "numpy+loss": (numpy_loss_step, (X, y, w0, b0)),
        "tinygrad_lr": (tinygrad_step, ours),
        "(composed)": (tinygrad_composed_step, ours),
    }
    try:
        import torch

        torch.set_num_threads(1)
        tensors = [torch.from_numpy(a) for a in (X, y, w0.copy(), b0.copy())]
        tensors[2].requires_grad_(True)
        tensors[3].requires_grad_(True)
        found["pytorch"] = (torch_step, tuple(tensors))
    except ImportError:
        pass
    return found


def check_agreement(found) -> None:
    reference = None
    for name, (step, args) in found.items():
        _, gw, gb = step(*args)
        gw, gb = np.asarray(gw, dtype=np.float64), np.asarray(gb, dtype=np.float64).reshape(-1)
        if reference is None:
            reference = (gw, gb)
        elif not (np.allclose(gw, reference[0], rtol=1e-9, atol=1e-12) and np.allclose(gb, reference[1])):
            sys.exit(f"{name} computes a different gradient: not timing")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rows", type=int, default=200_000)
    parser.add_argument("--cols", type=int, default=100)
    parser.add_argument("--repeats", type=int, default=9)
    args = parser.parse_args()

    found = contestants(*problem(args.rows, args.cols))
    check_agreement(found)
    print(f"large: X {args.rows:,} x {args.cols} float64, median of {args.repeats} rounds")
    times = measure(found, args.repeats)
    memory = {name: peak_memory(*found[name]) for name in found if name != "pytorch"}
    print(f"{'contestant':<13}{'ms/step':>9}{'vs numpy':>10}{'peak extra MB':>15}{'vs numpy':>10}")
    for name, t in times.items():
        m = memory.get(name)
        extra = f"{m / 1e6:>15.1f}{m / memory['numpy']:>9.2f}x" if m is not None else f"{'n/a':>15}"
        print(f"{name:<13}{t * 1e3:>9.1f}{t / times['numpy']:>9.2f}x{extra}")

    found = contestants(np.array([[1.0, 2.0], [3.0, 4.0]]), np.array([[1.0], [0.0]]),
                        np.array([[0.5], [0.3]]), np.zeros(1))  # fmt: skip
    check_agreement(found)
    rounds, inner = 41, 200
    print(f"\nsmall: the lesson's X 2x2, W 2x1; median of {rounds} rounds of {inner} steps")
    times = measure(found, rounds, inner)
    print(f"{'contestant':<13}{'µs/step':>9}{'vs numpy':>10}{'vs numpy+loss':>15}")
    for name, t in times.items():
        print(f"{name:<13}{t * 1e6:>9.1f}{t / times['numpy']:>9.2f}x{t / times['numpy+loss']:>14.2f}x")
    if "pytorch" not in found:
        print("(PyTorch is not installed: pip install torch to compare with it)")


if __name__ == "__main__":
    main()
