"""How long big graphs take to draw, with each available renderer.

Two graphs of at least ``--nodes`` nodes (boxes plus op ellipses): "network", the scalar graph
of a 2-16-16-1 network's loss on a few two-moons points (what a learner draws), and "fan-out",
a sum of sigmoids of products of 8 shared inputs (every input feeds hundreds of ops: the worst
case for graphviz's crossing minimisation). Each is rendered to PNG and SVG with the system
``dot`` (if on PATH) and with pygraphviz; medians of ``--repeats`` rounds.

    python benchmarks/draw_graph.py [--nodes 2000] [--repeats 3]
"""

from __future__ import annotations

import argparse
import shutil
import statistics
import tempfile
import time
from pathlib import Path
from unittest import mock

import tinygrad_lr as tg
from tinygrad_lr import nn, viz


def size(root: tg.Value) -> int:
    nodes = tg.engine.walk(root)
    return len(nodes) + sum(n._ctx is not None for n in nodes)


def network_graph(target: int) -> tg.Value:
    model = nn.scalar.MLP([2, 16, 16, 1], seed=0)
    X, y = tg.data.make_moons(50, seed=0)
    loss = nn.functional.binary_cross_entropy(model(list(X[0])), y[0])
    i = 1
    while size(loss) < target:
        loss = loss + nn.functional.binary_cross_entropy(model(list(X[i])), y[i])
        i += 1
    return loss


def fan_out_graph(target: int) -> tg.Value:
    inputs = [tg.Value(0.1 * i, label=f"x{i}") for i in range(8)]
    total, i = inputs[0], 0
    while size(total) < target:
        total = total + (inputs[i % 8] * inputs[(3 * i + 1) % 8]).sigmoid()
        i += 1
    return total


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--nodes", type=int, default=2000)
    parser.add_argument("--repeats", type=int, default=3)
    args = parser.parse_args()
    renderers = {"pygraphviz": mock.patch.object(viz.shutil, "which", return_value=None)}
    if shutil.which("dot"):
        renderers["system dot"] = mock.patch.object(viz, "_with_pygraphviz", None)
    print(f"median of {args.repeats} renders")
    print(f"{'graph':<10}{'nodes':>7}  {'renderer':<12}{'format':<8}{'seconds':>8}")
    with tempfile.TemporaryDirectory() as folder:
        for name, build in (("network", network_graph), ("fan-out", fan_out_graph)):
            root = build(args.nodes)
            root.backward()
            start = time.perf_counter()
            drawing = tg.draw(root, max_nodes=size(root))
            dot_text = time.perf_counter() - start
            for renderer, patch in renderers.items():
                for suffix in (".png", ".svg"):
                    times = []
                    with patch:
                        for _ in range(args.repeats):
                            start = time.perf_counter()
                            drawing.render(Path(folder) / f"graph{suffix}")
                            times.append(time.perf_counter() - start)
                    seconds = statistics.median(times)
                    print(f"{name:<10}{drawing.n_nodes:>7}  {renderer:<12}{suffix:<8}{seconds:>8.2f}")
            print(f"{name:<10}{drawing.n_nodes:>7}  {'(DOT text)':<20}{dot_text:>8.3f}")


if __name__ == "__main__":
    main()
