"""Scalar-graph throughput: tinygrad_lr's Value against micrograd, PyTorch and hand-written Python.

The computation is micrograd's own demo: an MLP 2-16-16-1 (ReLU hidden layers, linear output)
on a batch of two-moons points, loss = mean(relu(1 - y·score)) + 1e-4·Σ p²; the batch of 100
of micrograd's demo (69k nodes) and one of 150 (103k nodes) are both measured, as one forward
and backward pass, and (100 points) as micrograd's training loop: one model, per step its
gradients zeroed, forward, backward and an SGD update. PyTorch builds the same graph of 0-d
tensors (one thread). Every contestant computes the same loss and the same 337 parameter
gradients, or trained parameters (checked before timing); each is timed in its own process
with the interpreter's default garbage-collector settings, and the report gives medians over
repeats, the ratios, and the share of the time that the garbage collector's collections took.

    python benchmarks/scalar_mlp.py            # tinygrad_lr, hand-written, micrograd, PyTorch
    python benchmarks/scalar_mlp.py --repeats 15 --points 100 150 300 --train 10

micrograd: ``pip install micrograd`` (its PyPI release has +, *, ** with a number, and relu,
which is all this computation uses); PyTorch: ``pip install torch``; each is left out if
missing.
"""

from __future__ import annotations

import argparse
import gc
import itertools
import json
import math
import statistics
import subprocess
import sys
import time

SIZES = (2, 16, 16, 1)
ALPHA = 1e-4


def make_problem(n: int = 100, seed: int = 0):
    """Two moons (labels ±1) and initial weights, as plain floats, reproducible."""
    import random

    rng = random.Random(seed)
    X, y = [], []
    for i in range(n):
        t = math.pi * rng.random()
        if i % 2:
            X.append([math.cos(t) + rng.gauss(0, 0.1), math.sin(t) + rng.gauss(0, 0.1)])
            y.append(1.0)
        else:
            X.append([1 - math.cos(t) + rng.gauss(0, 0.1), 0.5 - math.sin(t) + rng.gauss(0, 0.1)])
            y.append(-1.0)
    layers = []
    for n_in, n_out in itertools.pairwise(SIZES):
        layers.append([([rng.uniform(-1, 1) for _ in range(n_in)], 0.0) for _ in range(n_out)])
    return X, y, layers


def make_model(Value, layers):
    """The network's parameters as nodes of ``Value`` (flat), and the model as neurons."""
    params, model = [], []
    for layer in layers:
        neurons = []
        for w, b in layer:
            neuron = ([Value(wi) for wi in w], Value(b))
            params += neuron[0] + [neuron[1]]
            neurons.append(neuron)
        model.append(neurons)
    return params, model


def forward_backward(params, model, X, y):
    """micrograd's demo loss of the model on the batch, and its backward; returns the loss node."""

    def score(x):
        for depth, neurons in enumerate(model):
            last = depth == len(model) - 1
            out = []
            for w, b in neurons:
                act = sum((wi * xi for wi, xi in zip(w, x)), b)
                out.append(act if last else act.relu())
            x = out
        return x[0]

    losses = [(1 + -yi * score(xi)).relu() for xi, yi in zip(X, y)]
    data_loss = sum(losses) * (1.0 / len(losses))
    reg_loss = ALPHA * sum(p * p for p in params)
    total = data_loss + reg_loss
    total.backward()
    return total


def autograd_step(Value, X, y, layers):
    """Forward with a micrograd-style Value class, backward; returns (loss, grads, nodes)."""
    params, model = make_model(Value, layers)
    total = forward_backward(params, model, X, y)
    return float(total.data), [float(p.grad) for p in params], total


def autograd_training(Value, X, y, layers, steps: int, zero=0.0):
    """micrograd's demo training loop: one model, and per step its gradients zeroed (to
    ``zero``), forward and backward, and an SGD update with micrograd's learning-rate decay.
    Returns the last loss and the parameters."""
    params, model = make_model(Value, layers)
    for k in range(steps):
        for p in params:
            p.grad = zero
        total = forward_backward(params, model, X, y)
        rate = 1.0 - 0.9 * k / 100
        for p in params:
            p.data -= rate * p.grad
    return float(total.data), [float(p.data) for p in params]


def torch_value(x: float):
    """A PyTorch scalar that requires grad: micrograd's Value, as PyTorch writes it."""
    import torch

    return torch.tensor(x, dtype=torch.float64, requires_grad=True)


def count_nodes(root) -> int:
    """Nodes of a micrograd-style graph (Values reachable through _prev or parents)."""
    seen, stack = {id(root)}, [root]
    while stack:
        node = stack.pop()
        children = node._prev if hasattr(node, "_prev") else node.parents
        for child in children:
            if id(child) not in seen:
                seen.add(id(child))
                stack.append(child)
    return len(seen)


def handwritten_step(X, y, layers):
    """Forward and gradient in plain Python: what any scalar autograd engine is bounded by."""
    grads = [[([0.0] * len(w), 0.0) for w, _ in layer] for layer in layers]
    grads = [[[list(gw), gb] for gw, gb in layer] for layer in grads]
    total, n = 0.0, len(X)
    for x, yi in zip(X, y):
        inputs, pre = [x], []
        for depth, layer in enumerate(layers):
            last = depth == len(layers) - 1
            z = [b + sum(wi * xi for wi, xi in zip(w, inputs[-1])) for w, b in layer]
            pre.append(z)
            inputs.append(z if last else [max(v, 0.0) for v in z])
        margin = 1 - yi * inputs[-1][0]
        if margin <= 0:
            continue
        total += margin / n
        upstream = [-yi / n]
        for depth in range(len(layers) - 1, -1, -1):
            last = depth == len(layers) - 1
            if not last:
                upstream = [u if z > 0 else 0.0 for u, z in zip(upstream, pre[depth])]
            below = [0.0] * len(inputs[depth])
            for (w, _), g, u in zip(layers[depth], grads[depth], upstream):
                g[1] += u
                for i, xi in enumerate(inputs[depth]):
                    g[0][i] += u * xi
                    below[i] += u * w[i]
            upstream = below
    flat_params = [p for layer in layers for w, b in layer for p in (*w, b)]
    total += ALPHA * sum(p * p for p in flat_params)
    flat_grads = [gi for layer in grads for gw, gb in layer for gi in (*gw, gb)]
    return total, [g + 2 * ALPHA * p for g, p in zip(flat_grads, flat_params)]


def handwritten_training(X, y, layers, steps: int):
    """The training loop in plain Python: the hand-written step and the update, no graph."""
    for k in range(steps):
        loss, grads = handwritten_step(X, y, layers)
        rate = 1.0 - 0.9 * k / 100
        flat = iter(g for g in grads)
        layers = [
            [([wi - rate * next(flat) for wi in w], b - rate * next(flat)) for w, b in layer]
            for layer in layers
        ]
    return loss, [p for layer in layers for w, b in layer for p in (*w, b)]


def run_contestant(name: str, repeats: int, points: int, train: int = 0) -> dict:
    """Time one contestant: a forward and backward pass (``train`` 0) or a training loop of
    ``train`` steps (times per step); gradients, or the trained parameters, for the check."""
    X, y, layers = make_problem(points)
    nodes = None
    if name == "handwritten":
        step = lambda: handwritten_step(X, y, layers)  # noqa: E731
        loop = lambda: handwritten_training(X, y, layers, train)  # noqa: E731
    else:
        zero = 0.0
        if name == "tinygrad_lr":
            from tinygrad_lr import Value
        elif name == "micrograd":
            from micrograd.engine import Value
        else:
            import torch

            torch.set_num_threads(1)
            Value, zero = torch_value, None
        step = lambda: autograd_step(Value, X, y, layers)[:2]  # noqa: E731
        loop = lambda: autograd_training(Value, X, y, layers, train, zero)  # noqa: E731
        if name == "tinygrad_lr":
            nodes = count_nodes(autograd_step(Value, X, y, layers)[2])
    run = loop if train else step
    loss, grads = run()
    times, collecting = [], time_in_gc()
    for _ in range(repeats):
        start = time.perf_counter()
        run()
        times.append((time.perf_counter() - start) / max(train, 1))
    in_gc = collecting[0] / (sum(times) * max(train, 1))  # a share of the timed rounds
    return {"loss": loss, "grads": grads, "times": times, "nodes": nodes, "gc": in_gc}


def time_in_gc() -> list[float]:
    """From now on, the seconds spent in the garbage collector's collections, kept in the
    returned list's one item."""
    total, began = [0.0], [0.0]

    def track(phase: str, info: dict) -> None:
        if phase == "start":
            began[0] = time.perf_counter()
        else:
            total[0] += time.perf_counter() - began[0]

    gc.callbacks.append(track)
    return total


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--repeats", type=int, default=9, help="timed rounds per contestant")
    parser.add_argument("--points", type=int, nargs="+", default=[100, 150], help="batch sizes")
    parser.add_argument("--train", type=int, default=5, help="steps of the training loop timed (0: none)")
    parser.add_argument("--contestant", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.contestant:
        print(json.dumps(run_contestant(args.contestant, args.repeats, args.points[0], args.train)))
        return

    contestants = ["tinygrad_lr", "handwritten"]
    for name, package in (("micrograd", "micrograd"), ("pytorch", "torch")):
        try:
            __import__(package)
            contestants.append(name)
        except ImportError:
            print(f"{package} is not installed (pip install {package}): comparing without it")
    print(f"median of {args.repeats} rounds, each contestant in its own process")
    for points in args.points:
        report(points, contestants, args.repeats, 0)
    if args.train:
        report(args.points[0], contestants, args.repeats, args.train)


def report(points: int, contestants: list[str], repeats: int, train: int) -> None:
    results = {}
    for name in contestants:
        command = [sys.executable, __file__, "--contestant", name, "--repeats", str(repeats)]
        proc = subprocess.run(
            [*command, "--points", str(points), "--train", str(train)], capture_output=True, text=True
        )
        if proc.returncode:
            sys.exit(f"{name} failed:\n{proc.stderr}")
        results[name] = json.loads(proc.stdout)

    reference = results["handwritten"]
    for name, r in results.items():
        if not math.isclose(r["loss"], reference["loss"], rel_tol=1e-9) or not all(
            math.isclose(a, b, rel_tol=1e-9, abs_tol=1e-15) for a, b in zip(r["grads"], reference["grads"])
        ):
            sys.exit(
                f"{name} disagrees with the hand-written loss and {'parameters' if train else 'gradients'}"
            )

    nodes = results["tinygrad_lr"]["nodes"]
    base = statistics.median(results["tinygrad_lr"]["times"])
    what = f"a training loop of {train} steps (times per step)" if train else "one forward and backward pass"
    print(f"\n{points} points, {what}: {nodes:,} nodes per graph; all contestants agree")
    print(
        f"{'contestant':<14}{'ms/step':>10}{'in gc':>8}{'nodes/s':>14}{'time vs tinygrad_lr':>22}"
        f"{'micrograd / this':>18}"
    )
    for name, r in results.items():
        t = statistics.median(r["times"])
        vs = (
            f"{statistics.median(results['micrograd']['times']) / t:>17.2f}x"
            if "micrograd" in results
            else ""
        )
        print(f"{name:<14}{t * 1e3:>10.1f}{r['gc']:>8.0%}{nodes / t:>14,.0f}{t / base:>21.2f}x{vs}")


if __name__ == "__main__":
    main()
