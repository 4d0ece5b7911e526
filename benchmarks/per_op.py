"""Per-op Python cost: nanoseconds per recorded op, and the lesson's 2x2 step against its peers.

ops:   a graph of ``--ops`` recorded ops (``z = z * a + b``, alternating multiply and add, on
       leaves that require grad), for a Value and for a 2x2 Tensor: forward time per recorded
       op, and backward time per op of the graph it walks. Beside them the same for PyTorch
       (a 2x2 tensor, and a 0-d one for the scalar row) and micrograd, when installed.
small: the lesson's X 2x2, W 2x1 logistic-regression step, composed (p = sigmoid(Xw + b),
       loss = -mean(y log p + (1 - y) log(1 - p))) and fused (``bce_with_logits``), against the
       hand-written numpy gradient measured in the same run, and PyTorch's same two steps.

Medians over rounds; the contestants take turns in every round, so a slow spell of the
machine hits them alike. PyTorch and micrograd are optional (``pip install torch micrograd``).

    python benchmarks/per_op.py
    python benchmarks/per_op.py --rounds 21 --ops 20000
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time

import numpy as np

import tinygrad_lr as tg


def chain(make, ops: int):
    """A forward of ``ops`` recorded ops on leaves made by ``make``; returns the step's function."""

    def forward():
        a, b, z = make(0.5), make(0.25), make(1.0)
        for _ in range(ops // 2):
            z = z * a + b
        return z

    return forward


def per_op(forward, backward, ops: int, rounds: int) -> tuple[float, float]:
    """Median ns per recorded op of forward, and of backward."""
    fwd, bwd = [], []
    forward()  # warm-up
    for _ in range(rounds):
        start = time.perf_counter()
        z = forward()
        middle = time.perf_counter()
        backward(z)
        end = time.perf_counter()
        fwd.append((middle - start) / ops * 1e9)
        bwd.append((end - middle) / ops * 1e9)
    return statistics.median(fwd), statistics.median(bwd)


def op_rows(ops: int, rounds: int) -> dict[str, tuple[float, float]]:
    def seed(z):
        z.backward()

    def seed_tensor(z):
        z.backward(np.ones((2, 2)))

    rows = {
        "Value": per_op(chain(lambda x: tg.Value(x), ops), seed, ops, rounds),
        "Tensor 2x2": per_op(
            chain(lambda x: tg.Tensor(np.full((2, 2), x), requires_grad=True), ops), seed_tensor, ops, rounds
        ),
    }
    try:
        from micrograd.engine import Value as MicrogradValue

        sys.setrecursionlimit(max(sys.getrecursionlimit(), 2 * ops + 100))  # its topological sort recurses
        rows["micrograd Value"] = per_op(chain(MicrogradValue, ops), seed, ops, rounds)
    except ImportError:
        pass
    try:
        import torch

        torch.set_num_threads(1)
        rows["torch 0-d"] = per_op(
            chain(lambda x: torch.tensor(x, dtype=torch.float64, requires_grad=True), ops), seed, ops, rounds
        )
        rows["torch 2x2"] = per_op(
            chain(lambda x: torch.full((2, 2), x, dtype=torch.float64, requires_grad=True), ops),
            lambda z: z.backward(torch.ones(2, 2, dtype=torch.float64)),
            ops,
            rounds,
        )
    except ImportError:
        pass
    return rows


def composed(X, y, w, b):
    w.grad = b.grad = None
    p = (X @ w + b).sigmoid()
    loss = -(y * p.log() + (1 - y) * (1 - p).log()).mean()
    loss.backward()
    return w.grad, b.grad


def fused(X, y, w, b):
    w.grad = b.grad = None
    loss = tg.bce_with_logits(X @ w + b, y)
    loss.backward()
    return w.grad, b.grad


def numpy_step(X, y, w, b):
    p = 1 / (1 + np.exp(-(X @ w + b)))
    r = p - y
    return X.T @ r / len(X), r.mean(keepdims=True)[0]


def torch_composed(X, y, w, b):
    w.grad = b.grad = None
    p = (X @ w + b).sigmoid()
    loss = -(y * p.log() + (1 - y) * (1 - p).log()).mean()
    loss.backward()
    return w.grad, b.grad


def torch_fused(X, y, w, b):
    import torch

    w.grad = b.grad = None
    loss = torch.nn.functional.binary_cross_entropy_with_logits(X @ w + b, y)
    loss.backward()
    return w.grad, b.grad


def small_rows(rounds: int, inner: int) -> dict[str, float]:
    """Median µs per step of each contestant on the lesson's 2x2 problem."""
    X, y = np.array([[1.0, 2.0], [3.0, 4.0]]), np.array([[1.0], [0.0]])
    w, b = np.array([[0.5], [0.3]]), np.zeros(1)
    ours = (tg.Tensor(X), tg.Tensor(y), tg.Tensor(w, requires_grad=True), tg.Tensor(b, requires_grad=True))
    found = {
        "numpy": (numpy_step, (X, y, w, b)),
        "composed": (composed, ours),
        "bce_with_logits": (fused, ours),
    }
    try:
        import torch

        torch.set_num_threads(1)
        tensors = [torch.from_numpy(a.copy()) for a in (X, y, w, b)]
        tensors[2].requires_grad_(True)
        tensors[3].requires_grad_(True)
        found["torch composed"] = (torch_composed, tuple(tensors))
        found["torch bce_with_logits"] = (torch_fused, tuple(tensors))
    except ImportError:
        pass
    reference = numpy_step(X, y, w, b)
    for name, (step, args) in found.items():  # all must agree before they are timed
        gw, gb = (np.asarray(g, dtype=np.float64).reshape(-1) for g in step(*args))
        if not (np.allclose(gw, reference[0].reshape(-1)) and np.allclose(gb, reference[1])):
            raise SystemExit(f"{name} computes a different gradient: not timing")
    times: dict[str, list[float]] = {name: [] for name in found}
    for _ in range(rounds):
        for name, (step, args) in found.items():
            start = time.perf_counter()
            for _ in range(inner):
                step(*args)
            times[name].append((time.perf_counter() - start) / inner * 1e6)
    return {name: statistics.median(t) for name, t in times.items()}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--ops", type=int, default=20_000, help="recorded ops per graph")
    parser.add_argument("--rounds", type=int, default=15)
    args = parser.parse_args()

    print(f"ops: ns per recorded op, median of {args.rounds} graphs of {args.ops:,} ops")
    print(f"{'node':<18}{'forward':>9}{'backward':>10}{'total':>8}")
    for name, (fwd, bwd) in op_rows(args.ops, args.rounds).items():
        print(f"{name:<18}{fwd:>9.0f}{bwd:>10.0f}{fwd + bwd:>8.0f}")

    inner = 200
    times = small_rows(args.rounds * 2 + 1, inner)
    print(f"\nsmall: the lesson's X 2x2, W 2x1; median of {args.rounds * 2 + 1} rounds of {inner} steps")
    print(f"{'contestant':<22}{'µs/step':>9}{'vs numpy':>10}")
    for name, t in times.items():
        print(f"{name:<22}{t:>9.1f}{t / times['numpy']:>9.2f}x")


if __name__ == "__main__":
    main()
