"""The ``tinygrad-lr`` command (also ``python -m tinygrad_lr``)."""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence

from .engine import walk
from .numeric import format_number
from .value import Value


def demo(args: argparse.Namespace) -> int:
    """One sigmoid neuron (a logistic regression on one feature) and its loss, by backprop."""
    x = Value(args.x, label="x", requires_grad=False)
    w = Value(args.w, label="w")
    b = Value(args.b, label="b")
    wx = w * x
    z = wx + b
    p = z.sigmoid()
    log_p = p.log()
    loss = -log_p  # binary cross-entropy for the label y = 1
    for node, label in ((wx, "wx"), (z, "z"), (p, "p"), (log_p, "log p"), (loss, "L")):
        node.label = label
    loss.backward()

    print("One sigmoid neuron: p = σ(w·x + b), loss L = −log p for the label y = 1\n")
    print("forward")
    for node in walk(loss):
        how = f"{node._fn.name}({', '.join(p.label for p in node.parents)})" if node._fn else "input"
        print(f"  {node.label:>5} = {format_number(node.data):>9}   {how}")
    print("\nbackward: dL/d(node), and the local derivative of each op")
    for node in reversed(walk(loss)):
        if not node.requires_grad:
            continue
        line = f"  dL/d({node.label}) = {format_number(node.grad)}"
        fn = node._fn
        if fn is not None:
            names = {n: p.label for n, p in zip(fn.inputs, node._parents) if p is not None}
            names["out"] = node.label
            rules = [
                f"d({node.label})/d({p.label}) = {fn.derivative(i, names)}"
                for i, p in enumerate(node._parents)
                if p is not None and p.requires_grad
            ]
            line = f"{line:<28}" + ", ".join(rules)
        print(line)
    print(
        f"\nby hand: dL/dw = (p − 1)·x = {format_number((p.data - 1) * x.data)}, "
        f"dL/db = p − 1 = {format_number(p.data - 1)}"
    )
    return 0


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="tinygrad-lr",
        description="Reverse-mode autodiff on scalars and arrays, taught through logistic regression.",
    )
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    run = commands.add_parser("demo", help="the main job: a neuron, its loss and its gradients")
    run.add_argument("--x", type=float, default=2.0, help="the input feature (default 2.0)")
    run.add_argument("--w", type=float, default=-0.5, help="the weight (default -0.5)")
    run.add_argument("--b", type=float, default=0.1, help="the bias (default 0.1)")
    run.set_defaults(handler=demo)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    return args.handler(args)


if __name__ == "__main__":
    sys.exit(main())
