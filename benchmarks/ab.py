"""A/B: this checkout's package against another checkout's, with this checkout's benchmarks,
interleaved in one run, so that the machine's slow spells hit both alike.

Each round runs ``scalar_mlp.py`` (tinygrad_lr only, micrograd's demo batch of 100) and
``tensor_lr.py`` (large and small step) once per tree, in alternating order, each in its own
process with that tree's package first on ``PYTHONPATH``. The report gives, per figure, the
median over rounds for each tree and their ratio: for the scalar graph the step's time, for
tensors the step's time over numpy's measured in the same process.

    git worktree add --detach /tmp/before a1c1ac7     # the tree to compare with
    python benchmarks/ab.py /tmp/before --rounds 16
    git worktree remove /tmp/before
"""

from __future__ import annotations

import argparse
import json
import math
import operator
import os
import re
import statistics
import subprocess
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent


def run(tree: Path, script: str, *args: str) -> str:
    env = {**os.environ, "PYTHONPATH": str(tree)}
    command = [sys.executable, str(HERE / script), *args]
    return subprocess.run(command, env=env, capture_output=True, text=True, check=True).stdout


def tensor_ratios(report: str) -> tuple[float, float]:
    """tinygrad_lr's time over numpy's, for the large and the small step of tensor_lr.py."""
    large, small = report.split("\nsmall:")
    return tuple(
        float(re.search(r"^tinygrad_lr\s+[\d.]+\s+([\d.]+)x", part, re.M).group(1)) for part in (large, small)
    )


def measure(tree: Path, rows: int) -> tuple[dict[str, float], list[float]]:
    """The figures of one round for ``tree``, and the scalar graph's loss and gradients."""
    scalar = json.loads(
        run(
            tree,
            "scalar_mlp.py",
            "--contestant",
            "tinygrad_lr",
            "--repeats",
            "5",
            "--points",
            "100",
            "--train",
            "0",
        )
    )
    large, small = tensor_ratios(run(tree, "tensor_lr.py", "--rows", str(rows), "--repeats", "5"))
    figures = {
        "scalar ms": statistics.median(scalar["times"]) * 1e3,
        "large x numpy": large,
        "small x numpy": small,
    }
    return figures, [scalar["loss"], *scalar["grads"]]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("before", type=Path, help="the other checkout (its tinygrad_lr/ is imported)")
    parser.add_argument("--rounds", type=int, default=10)
    parser.add_argument("--rows", type=int, default=50_000, help="rows of X in the large tensor step")
    args = parser.parse_args()
    if not (args.before / "tinygrad_lr" / "__init__.py").is_file():
        sys.exit(f"ab.py: {args.before} holds no tinygrad_lr package; give the root of a checkout")
    trees = {"before": args.before.resolve(), "this": HERE.parent}
    results: dict[str, list[dict[str, float]]] = {name: [] for name in trees}
    numbers: dict[str, list[float]] = {}
    for k in range(args.rounds):
        for name in trees if k % 2 == 0 else reversed(trees):
            figures, numbers[name] = measure(trees[name], args.rows)
            results[name].append(figures)
        before, this = numbers.values()
        if len(before) != len(this) or not math.isclose(
            0, max(map(abs, map(operator.sub, before, this))), abs_tol=1e-9
        ):
            sys.exit("ab.py: the two trees give different losses or gradients on the scalar graph")
        print(f"round {k + 1} of {args.rounds}", file=sys.stderr)
    print(f"median of {args.rounds} rounds      before      this   this/before")
    for figure in results["this"][0]:
        before, this = (statistics.median(r[figure] for r in results[name]) for name in trees)
        print(f"{figure:<24}{before:>10.2f}{this:>10.2f}{this / before:>12.3f}")


if __name__ == "__main__":
    main()
