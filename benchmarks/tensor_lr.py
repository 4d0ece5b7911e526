"""One logistic-regression training step on Tensors, against hand-written numpy and PyTorch, in one run.

The step: logits z = Xw + b, the mean binary cross-entropy against y, the gradients of w and b.
Each engine writes it two ways:

- composed: the lesson's loss, p = σ(z) and −mean[y·log p + (1 − y)·log(1 − p)] (each log
  clamped at −100), built from logs and arithmetic (``nn.functional.binary_cross_entropy``,
  PyTorch's ``F.binary_cross_entropy``);
- logits: the fused, stable loss on z (``bce_with_logits``, PyTorch's
  ``F.binary_cross_entropy_with_logits``).

numpy is the hand-written step with the same outputs (the lesson's loss and both gradients,
p − y written out): the baseline of every ratio. "numpy gradient" leaves the loss out: the
limit of any engine (one pass over X each way). All contestants must agree on the loss and
the gradients before they are timed; the contestants take turns in every round and the report
gives medians. Every contestant runs on one thread (numpy's BLAS too), as numpy's elementwise
kernels do. Peak extra memory is measured with tracemalloc (it sees numpy's allocations, not
PyTorch's) over one step, above what was allocated before it.

large: X of 200,000 x 100 (``--dtype float32`` for single precision).
small: the lesson's example, X 2x2 and W 2x1: per-step overhead in microseconds.

    python benchmarks/tensor_lr.py
    python benchmarks/tensor_lr.py --rows 50000 --repeats 15 --dtype float32
"""

from __future__ import annotations

import argparse
import gc
import os
import statistics
import sys
import time
import tracemalloc

import numpy as np

import tinygrad_lr as tg
from tinygrad_lr.nn import functional as F


def tinygrad_step(X, y, w, b):
    """Forward (the linear op), the loss (the fused BCE-with-logits op), backward."""
    w.grad = b.grad = None
    loss = tg.bce_with_logits(tg.linear(X, w, b), y)
    loss.backward()
    return loss.item(), w.grad, b.grad


def tinygrad_composed_step(X, y, w, b):
    """The lesson's step: σ of the linear op, the BCE of logs and arithmetic, backward."""
    w.grad = b.grad = None
    loss = F.binary_cross_entropy(tg.linear(X, w, b).sigmoid(), y)
    loss.backward()
    return loss.item(), w.grad, b.grad


def numpy_step(X, y, w, b):
    """The hand-written step: the lesson's loss and the gradient Xᵀ(p − y)/n."""
    p = 1 / (1 + np.exp(-(X @ w + b)))
    loss = -np.mean(y * np.log(p) + (1 - y) * np.log(1 - p))
    r = (p - y) / len(X)
    return loss, X.T @ r, r.sum(axis=0)


def numpy_gradient(X, y, w, b):
    """The gradient alone: what any engine is bounded by."""
    r = (1 / (1 + np.exp(-(X @ w + b))) - y) / len(X)
    return None, X.T @ r, r.sum(axis=0)


def torch_step(X, y, w, b):
    import torch

    w.grad = b.grad = None
    loss = torch.nn.functional.binary_cross_entropy_with_logits(torch.addmm(b, X, w), y)
    loss.backward()
    return loss.item(), w.grad, b.grad


def torch_composed_step(X, y, w, b):
    import torch

    w.grad = b.grad = None
    loss = torch.nn.functional.binary_cross_entropy(torch.sigmoid(torch.addmm(b, X, w)), y)
    loss.backward()
    return loss.item(), w.grad, b.grad


def on_one_thread() -> None:
    """Run this script again with numpy's BLAS (and PyTorch) on one thread, unless it is already:
    numpy's elementwise kernels use one, and on a shared 2-core machine a threaded product's
    time swings tenfold with the other jobs' load."""
    single = {name: "1" for name in ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS")}
    if any(os.environ.get(name) != "1" for name in single):
        os.execve(sys.executable, [sys.executable, *sys.argv], {**os.environ, **single})


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


def problem(rows: int, cols: int, dtype: str, seed: int = 0):
    rng = np.random.default_rng(seed)
    X = rng.standard_normal((rows, cols))
    w = rng.standard_normal((cols, 1)) * 0.1
    y = (rng.random((rows, 1)) < 1 / (1 + np.exp(-X @ w))).astype(np.float64)
    return tuple(a.astype(dtype) for a in (X, y, w, np.zeros(1)))


def contestants(X, y, w0, b0) -> dict:
    ours = (
        tg.Tensor(X),
        tg.Tensor(y),
        tg.Tensor(w0.copy(), requires_grad=True),
        tg.Tensor(b0.copy(), requires_grad=True),
    )
    found = {
        "numpy": (numpy_step, (X, y, w0, b0)),
        "numpy gradient": (numpy_gradient, (X, y, w0, b0)),
        "tinygrad_lr": (tinygrad_step, ours),
        "tg composed": (tinygrad_composed_step, ours),
    }
    try:
        import torch
    except ImportError:
        return found
    torch.set_num_threads(1)
    tensors = [torch.from_numpy(a) for a in (X, y, w0.copy(), b0.copy())]
    tensors[2].requires_grad_(True)
    tensors[3].requires_grad_(True)
    found["pytorch"] = (torch_step, tuple(tensors))
    found["torch composed"] = (torch_composed_step, tuple(tensors))
    return found


def check_agreement(found: dict, rtol: float) -> None:
    results = {name: step(*args) for name, (step, args) in found.items()}
    reference = [np.asarray(a, dtype=np.float64) for a in results["numpy"]]
    for name, result in results.items():
        for got, want in zip(result, reference):
            if got is not None and not np.allclose(
                np.asarray(got, np.float64), want, rtol=rtol, atol=rtol * 1e-3
            ):
                sys.exit(f"{name} computes a different loss or gradient than numpy: not timing")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rows", type=int, default=200_000)
    parser.add_argument("--cols", type=int, default=100)
    parser.add_argument("--repeats", type=int, default=9)
    parser.add_argument("--dtype", choices=("float64", "float32"), default="float64")
    args = parser.parse_args()
    on_one_thread()
    rtol = 1e-9 if args.dtype == "float64" else 1e-4
    try:
        import torch

        threads = f", PyTorch {torch.__version__} on one thread"
    except ImportError:
        threads = " (PyTorch is not installed: pip install torch to compare with it)"

    found = contestants(*problem(args.rows, args.cols, args.dtype))
    check_agreement(found, rtol)
    print(f"large: X {args.rows:,} x {args.cols} {args.dtype}, median of {args.repeats} rounds{threads}")
    times = measure(found, args.repeats)
    memory = {name: peak_memory(*found[name]) for name in found if not name.startswith(("pytorch", "torch"))}
    print(f"{'contestant':<16}{'ms/step':>9}{'vs numpy':>10}{'peak extra MB':>15}{'vs numpy':>10}")
    for name, t in times.items():
        m = memory.get(name)
        extra = f"{m / 1e6:>15.1f}{m / memory['numpy']:>9.2f}x" if m is not None else f"{'n/a':>15}"
        print(f"{name:<16}{t * 1e3:>9.1f}{t / times['numpy']:>9.2f}x{extra}")

    X, y, w, b = (
        np.array(a, dtype=args.dtype)
        for a in ([[1.0, 2.0], [3.0, 4.0]], [[1.0], [0.0]], [[0.5], [0.3]], [0.0])
    )
    found = contestants(X, y, w, b)
    check_agreement(found, rtol)
    rounds, inner = 41, 200
    print(f"\nsmall: the lesson's X 2x2, W 2x1; median of {rounds} rounds of {inner} steps")
    times = measure(found, rounds, inner)
    print(f"{'contestant':<16}{'µs/step':>9}{'vs numpy':>10}")
    for name, t in times.items():
        print(f"{name:<16}{t * 1e6:>9.1f}{t / times['numpy']:>9.2f}x")


if __name__ == "__main__":
    main()
