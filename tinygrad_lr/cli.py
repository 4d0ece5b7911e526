"""The ``tinygrad-lr`` command (also ``python -m tinygrad_lr``)."""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence
from pathlib import Path

from . import show
from .engine import walk
from .step import derivative
from .value import Value


def demo(args: argparse.Namespace) -> int:
    """The main job: logistic regression and a one-hidden-layer network on breast cancer."""
    import time

    from . import data, nn, optim, plots, serialize, training, viz
    from .tensor import Tensor

    start = time.perf_counter()
    out = Path(args.out)
    if out.exists() and not out.is_dir():
        raise _Refused(f"--out {out} is a file; give a folder")
    X, y = data.load_breast_cancer()
    X_train, X_test, y_train, y_test = data.train_test_split(
        X, y, test_size=0.2, seed=args.seed, stratify=True
    )
    X_train, X_test = data.standardize(X_train, X_test)
    print(
        f"Breast Cancer Wisconsin: {len(y)} tumours, {X.shape[1]} features; "
        f"{len(y_train)} to train on, {len(y_test)} to test (standardized, seed {args.seed})"
    )
    models = {
        "logistic regression": nn.LogisticRegression(X.shape[1], seed=args.seed),
        f"network 30-{args.hidden}-1": nn.MLP([X.shape[1], args.hidden, 1], seed=args.seed),
    }
    histories = {}
    for name, model in models.items():
        optimizer = optim.Adam(model.parameters(), lr=args.lr)
        histories[name] = training.fit(
            model, optimizer, X_train, y_train, epochs=args.epochs, batch_size=args.batch_size,
            seed=args.seed, validation=(X_test, y_test), progress=not args.quiet, description=f"{name:>20}",
        )  # fmt: skip

    print(f"\n{'model':<22}{'train acc':>10}{'test acc':>10}{'train loss':>12}{'test loss':>11}")
    for name, model in models.items():
        acc_train, acc_test = (
            training.accuracy(model, X_train, y_train),
            training.accuracy(model, X_test, y_test),
        )
        loss_train, loss_test = (
            training.log_loss(model, X_train, y_train),
            training.log_loss(model, X_test, y_test),
        )
        print(f"{name:<22}{acc_train:>10.3f}{acc_test:>10.3f}{loss_train:>12.4f}{loss_test:>11.4f}")

    out.mkdir(parents=True, exist_ok=True)
    logistic = models["logistic regression"]
    rows = Tensor(X_test[:3], label="X (3 test rows)")
    loss = nn.functional.binary_cross_entropy_with_logits(logistic.logits(rows), y_test[:3])
    loss.label = "loss"
    loss.backward(retain_grads=True)
    written = [
        plots.loss_curves(histories, out / "loss_curves.png"),
        viz.draw(loss).render(out / "logistic_regression_graph.png"),
        serialize.save(logistic, out / "logistic_regression.npz"),
        serialize.save(models[f"network 30-{args.hidden}-1"], out / "mlp.npz"),
    ]
    print(f"\nwrote {', '.join(str(p) for p in written)} in {time.perf_counter() - start:.1f} s")
    return 0


def neuron(args: argparse.Namespace) -> int:
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
        how = f"{node._ctx.fn.name}({', '.join(p.label for p in node.parents)})" if node._ctx else "input"
        print(f"  {node.label:>5} = {show.number(node.data):>9}   {how}")
    print("\nbackward: dL/d(node), and the local derivative of each op")
    for node in reversed(walk(loss)):
        if not node.requires_grad:
            continue
        line = f"  dL/d({node.label}) = {show.number(node.grad)}"
        ctx = node._ctx
        if ctx is not None:
            labels = {n: n.label for n in walk(loss)}
            rules = [
                f"d({node.label})/d({p.label}) = {derivative(node, i, labels)}"
                for i, p in enumerate(ctx)
                if p is not None and p.requires_grad
            ]
            line = f"{line:<28}" + ", ".join(rules)
        print(line)
    print(
        f"\nby hand: dL/dw = (p − 1)·x = {show.number((p.data - 1) * x.data)}, "
        f"dL/db = p − 1 = {show.number(p.data - 1)}"
    )
    return 0


def graph(args: argparse.Namespace) -> int:
    """Draw the graph of a formula, or of the lesson's logistic regression, after backward."""
    from . import viz

    if Path(args.output).suffix.lower() not in (".png", ".svg", ".pdf", ".dot"):
        raise _Refused(f"-o {args.output}: the file must end in .png, .svg, .pdf or .dot")
    _, out = _formula(args, "out")
    if out is None:
        out = _lesson_loss()
    out.backward(retain_grads=True)
    drawing = viz.draw(out, rankdir=args.rankdir, show_data=not args.no_data, show_grad=not args.no_grad)
    try:
        path = drawing.render(args.output)
    except viz.GraphvizMissing as error:
        raise _Refused(str(error), status=1) from None
    print(f"wrote {path} ({drawing.n_nodes} nodes)")
    return 0


def step(args: argparse.Namespace) -> int:
    """Walk through backprop one node at a time: Enter for the next step, q to quit."""
    from .step import names

    expression, loss = _formula(args, "L")
    if loss is not None:
        print(f"L = {expression}\n")
    else:
        loss = _lesson_neuron()
        print(
            "The lesson's neuron: p = σ(w1·x1 + w2·x2 + b) on the first row of its inputs "
            "(x1, x2) = (1, 2),\nwith the loss L = −ℓ, ℓ = y·log p + (1 − y)·log(1 − p), "
            "for the label y = 1.\n"
        )
    known = names(loss)
    shown = [node for node in walk(loss) if node._ctx is not None or node.requires_grad]
    width = max(len(known[node]) for node in shown)
    print("forward:")
    for node in shown:
        print(f"  {known[node]:>{width}} = {show.number(node.data)}")
    steps = loss.backward_steps()
    print(f"\nbackward, in the order the gradients become final ({steps.total} steps):")
    waiting = not args.all
    frames = Path(args.frames) if args.frames else None
    pictures = []
    while steps.remaining:
        if waiting:
            try:
                answer = input("  [Enter] next step, q to quit > ")
            except EOFError:  # stdin closed or not a terminal: show the rest
                waiting = False
                answer = ""
            if answer.strip().lower() in ("q", "quit"):
                print(f"stopped after {len(steps.done)} of {steps.total} steps")
                return 0
        print(steps.step())
        if frames is not None:
            pictures.append(steps.draw().render(frames / f"step_{len(steps.done):03d}.png"))
    leaves = [n for n in walk(loss) if n._ctx is None and n.requires_grad]
    print("\ngradients: " + ", ".join(f"dL/d{known[n]} = {show.number(n.grad)}" for n in leaves))
    if pictures:
        from PIL import Image

        images = [Image.open(p).convert("RGB") for p in pictures]
        width, height = max(i.width for i in images), max(i.height for i in images)
        canvases = []
        for image in images:
            canvas = Image.new("RGB", (width, height), "white")
            canvas.paste(image, (0, 0))
            canvases.append(canvas)
        canvases[0].save(
            frames / "backprop.gif", save_all=True, append_images=canvases[1:], duration=1200, loop=0
        )
        print(f"wrote {len(pictures)} frames and {frames / 'backprop.gif'}")
    return 0


def _lesson_neuron():
    """The lesson's first row and first weight column as one sigmoid neuron, on Values."""
    x1, x2 = Value(1.0, label="x1", requires_grad=False), Value(2.0, label="x2", requires_grad=False)
    w1, w2, b = Value(0.5, label="w1"), Value(0.3, label="w2"), Value(0.1, label="b")
    y, one = Value(1.0, label="y", requires_grad=False), Value(1.0, requires_grad=False)
    z = w1 * x1 + w2 * x2 + b
    p = z.sigmoid()
    q = one - p
    not_y = one - y
    log_p, log_q = p.log(), q.log()
    likelihood = y * log_p + not_y * log_q
    loss = -likelihood
    labels = (
        (z, "z"), (p, "p"), (q, "1−p"), (not_y, "(1−y)"), (log_p, "log p"), (log_q, "log(1−p)"),
        (likelihood, "ℓ"), (loss, "L"),
    )  # fmt: skip
    for node, label in labels:
        node.label = label
    return loss


def _lesson_loss():
    """The lesson's example as a logistic regression: x 2x2, a sigmoid neuron, the BCE loss."""
    import numpy as np

    from . import nn
    from .tensor import Tensor

    model = nn.LogisticRegression(2)
    model.linear.weight.data = np.array([[0.5], [0.3]])
    model.linear.bias.data = np.array([0.1])
    x = Tensor([[1.0, 2.0], [3.0, 4.0]], label="x")
    loss = nn.functional.binary_cross_entropy(model(x), np.array([1.0, 0.0]))
    loss.label = "loss"
    return loss


class _Refused(Exception):
    """Input the command cannot use: printed as one line, with exit status ``status``."""

    def __init__(self, message: str, status: int = 2):
        super().__init__(message)
        self.status = status


def _formula(args: argparse.Namespace, label: str):
    """The formula of ``graph`` and ``step`` and the Value it computes (None without one). A
    formula written after --set lands among the values (argparse gives it to --set), so it is
    taken back from there."""
    from .expr import ExpressionError, expr

    expression, values = args.expression, {}
    for item in args.set:
        name, equals, value = item.partition("=")
        if not equals:
            if expression is not None:
                raise _Refused(f"--set takes NAME=NUMBER, got {item!r}")
            expression = item
            continue
        try:
            values[name.strip()] = float(value)
        except ValueError:
            raise _Refused(f"--set {item}: {value!r} is not a number") from None
    if not expression:
        return None, None
    try:
        out = expr(expression, **values)
    except ExpressionError as error:
        raise _Refused(str(error)) from None
    out.label = out.label or label
    return expression, out


def _formula_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "expression", nargs="?", help="a formula of numbers, variables, + - * / ** and exp, log, ..."
    )
    parser.add_argument("--set", nargs="+", default=[], metavar="NAME=VALUE", help="values of the variables")


def _rate(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        value = float("nan")
    if not 0 < value < float("inf"):
        raise argparse.ArgumentTypeError(f"must be a positive number, got {text}")
    return value


def _positive(text: str) -> int:
    value = int(text) if text.strip().lstrip("+").isdigit() else 0
    if value < 1:
        raise argparse.ArgumentTypeError(f"must be a positive whole number, got {text}")
    return value


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="tinygrad-lr",
        description="Reverse-mode autodiff on scalars and arrays, taught through logistic regression.",
    )
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    run = commands.add_parser(
        "demo",
        help="the main job: train on the bundled breast-cancer data, report, write pictures",
        description="Train a logistic regression and a network with one hidden layer on the bundled "
        "Breast Cancer Wisconsin data (standardized, seeded 80/20 split), print their accuracy and "
        "log-loss, and write the loss curves (PNG) and both models (.npz).",
    )
    run.add_argument("--out", default="tinygrad_lr_out", help="output folder (default: ./tinygrad_lr_out)")
    run.add_argument(
        "--seed", type=int, default=0, help="seed of the split, the initial weights and the batches"
    )
    run.add_argument(
        "--epochs", type=_positive, default=60, help="passes over the training data (default 60)"
    )
    run.add_argument("--lr", type=_rate, default=0.01, help="Adam's learning rate (default 0.01)")
    run.add_argument("--batch-size", type=_positive, default=32, help="rows per gradient step (default 32)")
    run.add_argument(
        "--hidden", type=_positive, default=16, help="units in the network's hidden layer (default 16)"
    )
    run.add_argument("--quiet", action="store_true", help="no progress bars")
    run.set_defaults(handler=demo)

    draw = commands.add_parser(
        "graph",
        help="draw a computation graph (a formula, or the lesson's logistic regression)",
        description="Draw the graph of a formula after backward, with every value and gradient, e.g. "
        'tinygrad-lr graph "log(sigmoid(w*x + b))" --set x=2 w=-0.5 b=0.1 -o graph.png. '
        "Without a formula: the lesson's logistic regression and its loss.",
    )
    _formula_arguments(draw)
    draw.add_argument("-o", "--output", default="graph.png", help="the file to write: .png .svg .pdf or .dot")
    draw.add_argument(
        "--rankdir", choices=("LR", "TB"), default="LR", help="left to right (default) or top down"
    )
    draw.add_argument("--no-data", action="store_true", help="leave the data out of the boxes")
    draw.add_argument("--no-grad", action="store_true", help="leave the gradients out of the boxes")
    draw.set_defaults(handler=graph)

    walkthrough = commands.add_parser(
        "step",
        help="step through backprop in the terminal, one node at a time",
        description="Walk through backprop node by node, with the chain rule and its numbers: Enter for "
        "the next step, q to quit. Without a formula: the lesson's neuron and its loss.",
    )
    walkthrough.add_argument("expression", nargs="?", help="a formula, as for tinygrad-lr graph")
    walkthrough.add_argument(
        "--set", nargs="+", default=[], metavar="NAME=VALUE", help="values of the variables"
    )
    walkthrough.add_argument("--all", action="store_true", help="print every step without waiting")
    walkthrough.add_argument(
        "--frames", metavar="DIR", help="write a picture per step and backprop.gif to DIR"
    )
    walkthrough.set_defaults(handler=step)

    one = commands.add_parser("neuron", help="one sigmoid neuron, its loss and its gradients, node by node")
    one.add_argument("--x", type=float, default=2.0, help="the input feature (default 2.0)")
    one.add_argument("--w", type=float, default=-0.5, help="the weight (default -0.5)")
    one.add_argument("--b", type=float, default=0.1, help="the bias (default 0.1)")
    one.set_defaults(handler=neuron)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    try:
        return args.handler(args)
    except _Refused as error:
        print(f"tinygrad-lr {args.command}: {error}", file=sys.stderr)
        return error.status


if __name__ == "__main__":
    sys.exit(main())
