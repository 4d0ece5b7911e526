"""Scalar-graph throughput: tinygrad_lr's Value against micrograd and hand-written Python.

The computation is micrograd's own demo: an MLP 2-16-16-1 (ReLU hidden layers, linear output)
on a batch of two-moons points, loss = mean(relu(1 - y·score)) + 1e-4·Σ p²; the batch of 100
of micrograd's demo (69k nodes) and one of 150 (103k nodes) are both measured. Every contestant
computes the same loss and the same 337 parameter gradients (checked before timing); each is
timed in its own process with the interpreter's default garbage-collector settings, and the
report gives medians over repeats and the ratios.

    python benchmarks/scalar_mlp.py            # tinygrad_lr, hand-written, micrograd if installed
    python benchmarks/scalar_mlp.py --repeats 15 --points 100 150 300

micrograd: ``pip install micrograd`` (its PyPI release has +, *, ** with a number, and relu,
which is all this computation uses).
"""

from __future__ import annotations

import argparse
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


def autograd_step(Value, X, y, layers):
    """Forward with a micrograd-style Value class, backward; returns (loss, grads, nodes)."""
    params, model = [], []
    for layer in layers:
        neurons = []
        for w, b in layer:
            neuron = ([Value(wi) for wi in w], Value(b))
            params += neuron[0] + [neuron[1]]
            neurons.append(neuron)
        model.append(neurons)

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
    return total.data, [p.grad for p in params], total


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


def run_contestant(name: str, repeats: int, points: int) -> dict:
    X, y, layers = make_problem(points)
    if name == "handwritten":
        step = lambda: handwritten_step(X, y, layers)  # noqa: E731
        nodes = None
    else:
        if name == "tinygrad_lr":
            from tinygrad_lr import Value
        else:
            from micrograd.engine import Value
        step = lambda: autograd_step(Value, X, y, layers)[:2]  # noqa: E731
        nodes = count_nodes(autograd_step(Value, X, y, layers)[2])
    loss, grads = step()
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        step()
        times.append(time.perf_counter() - start)
    return {"loss": loss, "grads": grads, "times": times, "nodes": nodes}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--repeats", type=int, default=9, help="timed rounds per contestant")
    parser.add_argument("--points", type=int, nargs="+", default=[100, 150], help="batch sizes")
    parser.add_argument("--contestant", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.contestant:
        print(json.dumps(run_contestant(args.contestant, args.repeats, args.points[0])))
        return

    contestants = ["tinygrad_lr", "handwritten"]
    try:
        import micrograd  # noqa: F401

        contestants.append("micrograd")
    except ImportError:
        print("micrograd is not installed (pip install micrograd): comparing without it\n")
    print(f"median of {args.repeats} rounds, each contestant in its own process")
    for points in args.points:
        report(points, contestants, args.repeats)


def report(points: int, contestants: list[str], repeats: int) -> None:
    results = {}
    for name in contestants:
        command = [sys.executable, __file__, "--contestant", name, "--repeats", str(repeats)]
        proc = subprocess.run([*command, "--points", str(points)], capture_output=True, text=True)
        if proc.returncode:
            sys.exit(f"{name} failed:\n{proc.stderr}")
        results[name] = json.loads(proc.stdout)

    reference = results["handwritten"]
    for name, r in results.items():
        if not math.isclose(r["loss"], reference["loss"], rel_tol=1e-12) or not all(
            math.isclose(a, b, rel_tol=1e-9, abs_tol=1e-15) for a, b in zip(r["grads"], reference["grads"])
        ):
            sys.exit(f"{name} disagrees with the hand-written loss/gradients: not timing")

    nodes = results["tinygrad_lr"]["nodes"]
    base = statistics.median(results["tinygrad_lr"]["times"])
    print(f"\n{points} points: {nodes:,} nodes, loss {reference['loss']:.12g} (all contestants agree)")
    print(f"{'contestant':<14}{'ms/step':>10}{'nodes/s':>14}{'time vs tinygrad_lr':>22}")
    for name, r in results.items():
        t = statistics.median(r["times"])
        print(f"{name:<14}{t * 1e3:>10.1f}{nodes / t:>14,.0f}{t / base:>21.2f}x")


if __name__ == "__main__":
    main()
