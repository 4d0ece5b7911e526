"""The ``tinygrad-lr`` command (also ``python -m tinygrad_lr``).

Every mistake in what the user typed (options, formulas, output paths, sizes that cannot fit)
is one line on stderr and exit status 2, checked before any training or stepping starts.
Problems of the machine met on the way (out of memory, a full disk, no graphviz) are one line
and status 1; Ctrl-C is one line and status 130; a closed pipe (``| head``) ends quietly.
A traceback means a bug in tinygrad_lr.
"""

from __future__ import annotations

import argparse
import functools
import math
import os
import sys
import tempfile
import time
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import numpy as np

from . import __version__, data, nn, optim, plots, serialize, training
from .check import load_user_ops
from .core import show
from .core.engine import no_grad, walk
from .core.tensor import Tensor
from .core.value import Value
from .teach import lesson, viz
from .teach.expr import ExpressionError, expr
from .teach.step import Backprop, derivative, gif_from_frames

DEFAULT_GRAPH = "graph.png"
GRAPH_FILES = tuple(f".{fmt}" for fmt in viz.FORMATS)
GRAPH_ENDINGS = f"{', '.join(GRAPH_FILES[:-1])} or {GRAPH_FILES[-1]}"
PROMPT = "  [Enter] next step, q to quit > "
MAX_HIDDEN = 10_000  # a layer of 455 rows x 10,000 float64 units is 36 MB: any machine trains it


def demo(args: argparse.Namespace) -> int:
    """The main job: two-class models on breast cancer, softmax regression on iris and digits."""
    start = time.perf_counter()
    report: list[str] = []

    def say(line: str = "") -> None:  # the report: printed, unless --quiet, and written to a file
        report.append(line)
        if not args.quiet:
            print(line)

    written: list[Path] = []
    if args.data in ("all", "breast_cancer"):
        written += _demo_breast_cancer(args, say)
        say()
    many = [name for name in _MANY_CLASSES if args.data in ("all", name)]
    if many:
        written += _demo_many_classes(args, many, say)
        say()
    written.append(args.out / "report.txt")
    say(f"wrote {', '.join(map(str, written))} in {time.perf_counter() - start:.1f} s")
    (args.out / "report.txt").write_text("\n".join(report) + "\n")
    return 0


def _demo_breast_cancer(args: argparse.Namespace, say: Callable) -> list[Path]:
    """Logistic regression and a one-hidden-layer network on breast cancer (a seeded, stratified
    80/20 split, standardized), trained by Adam; the files written."""
    X, y = data.load_breast_cancer()
    X_train, X_test, y_train, y_test = data.train_test_split(
        X, y, test_size=0.2, seed=args.seed, stratify=True
    )
    X_train, X_test = data.standardize(X_train, X_test)
    say(
        f"Breast Cancer Wisconsin: {len(y)} tumours, {X.shape[1]} features; "
        f"{len(y_train)} to train on, {len(y_test)} to test (standardized, seed {args.seed})"
    )
    network = f"network 30-{args.hidden}-1"
    models = {
        "logistic regression": nn.LogisticRegression(X.shape[1], seed=args.seed),
        network: nn.MLP([X.shape[1], args.hidden, 1], seed=args.seed),
    }
    histories = {}
    for name, model in models.items():
        optimizer = optim.Adam(model.parameters(), lr=args.lr)
        # NOTE: a learning rate too large overflows; numpy's warnings give way to the one line below,
        # decided by the numbers (Adam raises FloatingPointError on a gradient that is not finite).
        try:
            with np.errstate(all="ignore"):
                history = training.fit(
                    model, optimizer, X_train, y_train, epochs=args.epochs, batch_size=args.batch_size,
                    seed=args.seed, validation=(X_test, y_test), progress=not args.quiet,
                    description=f"{name:>20}",
                )  # fmt: skip
            numbers = [history.train_loss, history.val_loss, *(p.data for p in model.parameters())]
            finite = all(np.isfinite(n).all() for n in numbers)
        except FloatingPointError:
            finite = False
        if not finite:
            raise _Refused(
                f"training the {name} diverged with --lr {args.lr:g} (its gradients, weights or loss "
                "stopped being finite numbers); try a smaller learning rate (the default is 0.01)"
            )
        histories[name] = history
    splits = ((X_train, y_train), (X_test, y_test))
    scores = {
        name: [training.accuracy(model, X, y) for X, y in splits]
        + [training.log_loss(model, X, y) for X, y in splits]
        for name, model in models.items()
    }
    _table(say, "model", scores)

    args.out.mkdir(parents=True, exist_ok=True)
    logistic = models["logistic regression"]
    rows = Tensor(X_test[:3], label="X (3 test rows)")
    loss = nn.functional.binary_cross_entropy_with_logits(logistic.logits(rows), y_test[:3])
    loss.label = "loss"
    loss.backward(retain_grads=True)
    return [
        plots.loss_curves(histories, args.out / "loss_curves.png"),
        _render(viz.draw(loss), args.out / "logistic_regression_graph.png"),
        serialize.save(logistic, args.out / "logistic_regression.npz"),
        serialize.save(models[network], args.out / "mlp.npz"),
    ]


_MANY_CLASSES = {  # data set: (its loader, how it is described, full-batch gradient steps)
    "iris": (data.load_iris, "Iris: 150 flowers, 4 measurements, 3 species", 500),
    "digits": (data.load_digits, "Digits: 1797 images of 8x8 pixels, 10 digits", 300),
}


def _demo_many_classes(args: argparse.Namespace, names: list[str], say: Callable) -> list[Path]:
    """Softmax regression on iris and/or digits (their bundled split, standardized), trained by
    full-batch gradient descent; for digits the picture of the ten weight images. The files written."""
    scores, models = {}, {}
    for name in names:
        load, described, steps = _MANY_CLASSES[name]
        X_train, X_test, y_train, y_test = load(split=True)
        X_train, X_test = data.standardize(X_train, X_test)
        say(
            f"{described}; {len(y_train)} to train on, {len(y_test)} to test "
            "(standardized, the bundled split)"
        )
        model = nn.SoftmaxRegression(X_train.shape[1], int(y_train.max()) + 1, seed=args.seed)
        optimizer = optim.SGD(model.parameters(), lr=0.5)
        inputs = Tensor(X_train)
        for _ in range(steps):
            optimizer.zero_grad()
            nn.functional.cross_entropy(model.logits(inputs), y_train).backward()
            optimizer.step()
        splits = ((X_train, y_train), (X_test, y_test))
        with no_grad():
            scores[name] = [float(np.mean(model.predict(Tensor(X)) == y)) for X, y in splits] + [
                nn.functional.cross_entropy(model.logits(Tensor(X)), y).item() for X, y in splits
            ]
        models[name] = model
    _table(say, "softmax regression", scores)
    args.out.mkdir(parents=True, exist_ok=True)
    written = []
    for name, model in models.items():
        if name == "digits":
            written.append(plots.digit_weights(model.linear.weight.data, args.out / "digits_weights.png"))
        written.append(serialize.save(model, args.out / f"softmax_regression_{name}.npz"))
    return written


def _table(say: Callable, title: str, rows: dict[str, list[float]]) -> None:
    """The demo's table: per model, accuracy and log-loss on the training and the test rows."""
    say()
    say(f"{title:<22}{'train acc':>10}{'test acc':>10}{'train loss':>12}{'test loss':>11}")
    for name, (acc_train, acc_test, loss_train, loss_test) in rows.items():
        say(f"{name:<22}{acc_train:>10.3f}{acc_test:>10.3f}{_loss(loss_train, 12)}{_loss(loss_test, 11)}")


def _loss(value: float, width: int) -> str:
    """A loss for the demo's table: fixed point, or in e-notation when that would not fit."""
    return f"{value:>{width}.4f}" if abs(value) < 1e6 else f"{value:>{width}.4g}"


def neuron(args: argparse.Namespace) -> int:
    """One sigmoid neuron (a logistic regression on one feature) and its loss, by backprop."""
    x = Value(args.x, label="x", requires_grad=False)
    w = Value(args.w, label="w")
    b = Value(args.b, label="b")
    wx = w * x
    z = wx + b
    p = z.sigmoid()
    named = [(wx, "wx"), (z, "z"), (p, "p")]
    if args.y == 1:  # binary cross-entropy for the label y = 1: −log p
        log_p = p.log()
        loss = -log_p
        named += [(log_p, "log p"), (loss, "L")]
    else:  # for the label y = 0: −log(1 − p)
        q = Value(1.0, label="1", requires_grad=False) - p
        log_q = q.log()
        loss = -log_q
        named += [(q, "q"), (log_q, "log q"), (loss, "L")]
    for node, label in named:
        node.label = label
    loss.backward()

    nodes = walk(loss)
    written = "−log p" if args.y == 1 else "−log q, q = 1 − p"
    print(f"One sigmoid neuron: p = σ(w·x + b), loss L = {written} for the label y = {args.y}\n")
    print("forward")
    for node in nodes:
        how = f"{node._ctx.fn.name}({', '.join(p.label for p in node.parents)})" if node._ctx else "input"
        print(f"  {node.label:>5} = {show.number(node.data):>9}   {how}")
    print("\nbackward: dL/d(node), and the local derivative of each op")
    labels = {n: n.label for n in nodes}
    for node in reversed(nodes):
        if not node.requires_grad:
            continue
        line = f"  dL/d({node.label}) = {show.number(node.grad)}"
        rules = [
            f"d({node.label})/d({p.label}) = {derivative(node, i, labels)}"
            for i, p in enumerate(node._ctx or ())
            if p is not None and p.requires_grad
        ]
        if rules:
            line = f"{line:<28}" + ", ".join(rules)
        print(line)
    print(
        f"\nby hand: dL/dw = (p − {args.y})·x = {show.number((p.data - args.y) * x.data)}, "
        f"dL/db = p − {args.y} = {show.number(p.data - args.y)}"
    )
    return 0


def graph(args: argparse.Namespace) -> int:
    """Draw the graph of a formula, or of the lesson's 2x2 network, after backward."""
    _, out = _formula(args, "L")
    if out is None:
        out = lesson.network()
    out.backward(retain_grads=True)
    drawing = viz.draw(out, rankdir=args.rankdir, show_data=not args.no_data, show_grad=not args.no_grad)
    before = args.output.read_bytes() if args.output.is_file() else None
    path = _render(drawing, args.output)
    replaced = before is not None and before != path.read_bytes()
    print(f"wrote {path} ({drawing.n_nodes} nodes)" + (", replacing a different file" if replaced else ""))
    return 0


def step(args: argparse.Namespace) -> int:
    """Walk through backprop one node at a time: Enter for the next step, q or Ctrl-D to stop."""
    expression, loss = _formula(args, "L")
    if loss is not None:
        print(f"L = {expression}\n")
    elif args.lesson:
        loss = lesson.network()
        print(
            "The lesson's network: z = X·W for X = [[1, 2], [3, 4]] and W = [[0.5, 0.3], [0.2, 0.1]], "
            "p = σ(z),\nand the binary cross-entropy L = −mean(y⊙log p + (1 − y)⊙log(1 − p)) for "
            "y = [[1, 0], [0, 1]].\n"
        )
    else:
        loss = lesson.neuron()
        print(
            "The lesson's neuron: p = σ(w1·x1 + w2·x2 + b) on the first row of its inputs "
            "(x1, x2) = (1, 2),\nwith the loss L = −ℓ, ℓ = y·log p + (1 − y)·log(1 − p), "
            "for the label y = 1.\n"
        )
    steps = Backprop(loss)
    if args.html is not None:
        steps.html(args.html, rankdir=args.rankdir)
        print(f"wrote {args.html}: the {steps.total} steps of this backward pass, to open in a browser")
        if not args.all:
            return 0
        print()
    known = steps.names
    shown = [node for node in walk(loss) if node._ctx is not None or node.requires_grad]
    width = max(len(known[node]) for node in shown)
    print("forward:")
    for node in shown:
        _print_array(known[node], node.data, width)
    print(f"\nbackward, in the order the gradients become final ({steps.total} steps):")
    while steps.remaining:
        if not args.all:
            try:
                answer = input(PROMPT)
            except EOFError:  # Ctrl-D, or the end of piped input (--all shows every step)
                print()
                break
            except KeyboardInterrupt:
                print()
                raise _Refused(f"interrupted after {len(steps.done)} of {steps.total} steps", 130) from None
            if answer.strip().lower() in ("q", "quit"):
                break
        print(steps.step())
    if steps.remaining:
        print(f"stopped after {len(steps.done)} of {steps.total} steps")
    else:
        leaves = [n for n in walk(loss) if n._ctx is None and n.requires_grad]
        if all(np.ndim(n.data) == 0 for n in leaves):
            print("\ngradients: " + ", ".join(f"{known.d(n)} = {show.number(float(n.grad))}" for n in leaves))
        else:
            print("\ngradients:")
            for n in leaves:
                _print_array(known.d(n), n.grad)
    if args.frames is not None and steps.done:  # the forward pass and each step shown, replayed
        try:
            pictures = Backprop(loss, store=False).frames(
                args.frames, steps=len(steps.done), rankdir=args.rankdir
            )
        except viz.GraphvizMissing as error:
            raise _Refused(str(error), status=1) from None
        gif = gif_from_frames(pictures, args.frames / "backprop.gif")
        print(f"wrote {len(pictures)} frames and {gif}")
    return 0


def _print_array(name: str, value: Any, width: int = 0) -> None:
    """``name = value`` with an array's further lines under its first, ``name`` right-aligned
    in ``width`` characters."""
    lines = show.array(value)
    print(f"  {name:>{width}} = {lines[0]}")
    for line in lines[1:]:
        print(f"  {'':>{max(width, len(name))}}   {line}")


class _Refused(Exception):
    """Input the command cannot use: printed as one line, with exit status ``status``."""

    def __init__(self, message: str, status: int = 2):
        super().__init__(message)
        self.status = status


def _formula(args: argparse.Namespace, label: str) -> tuple[str | None, Value | None]:
    """The formula of ``graph`` and ``step`` and the Value it computes (None without one). A
    formula written after --set lands among the values (argparse gives it to --set), so it is
    taken back from there."""
    expression, values = args.expression, {}
    for item in args.set:
        name, equals, value = item.partition("=")
        if not equals:
            if expression is not None:
                raise _Refused(f"--set takes NAME=NUMBER, got {item!r}")
            expression = item
            continue
        name = name.strip()
        if not name.isidentifier():
            raise _Refused(f"--set {item}: {name!r} is not a variable name; write NAME=NUMBER, e.g. x=1")
        if name in values:
            raise _Refused(f"--set {item}: {name} is given twice; give each variable once")
        values[name] = _number(item, value)
    if expression is None:
        return None, None
    if not expression.strip():
        raise _Refused("the formula is empty; write one, e.g. 'x*(1+2)' --set x=1, or leave it out")
    try:
        out = expr(expression, **values)
    except ExpressionError as error:
        raise _Refused(str(error)) from None
    if not out.requires_grad:
        raise _Refused(
            f"{expression!r} has no variable, so there is nothing to differentiate; "
            "write one, e.g. 'x*(1+2)' --set x=1"
        )
    out.label = out.label or label
    return expression, out


def _number(item: str, text: str) -> float:
    """The value of ``--set NAME=TEXT``: a finite float that is what was typed, not a rounding of it
    (``1e999`` would become inf and ``1e-999`` zero); inf and nan are refused, as in a formula."""
    try:
        value = float(text)
    except ValueError:
        raise _Refused(f"--set {item}: {text!r} is not a number") from None
    if not math.isfinite(value):
        raise _Refused(
            f"--set {item}: give a finite number (the largest is about 1.8e308); "
            "write inf or nan in the formula as 1/0 or 0/0 if you mean them"
        )
    if value == 0 and any(digit in "123456789" for digit in text.lower().partition("e")[0]):
        raise _Refused(f"--set {item}: {text} is too small for a float (it would round to 0)")
    return value


def _render(drawing: viz.Drawing, path: Path) -> Path:
    """``drawing.render(path)``, with a missing graphviz as one line (status 1)."""
    try:
        return drawing.render(path)
    except viz.GraphvizMissing as error:
        raise _Refused(str(error), status=1) from None


# --- the types of the options: argparse refuses what they refuse, before any work -------------


def _writable(text: str, *, suffixes: tuple[str, ...] = (), wanted: str = "") -> Path:
    """An output path: a folder, or (with ``suffixes``) a file whose name ends in one of them
    (``wanted`` says what to give otherwise). Refused if empty, a file where a folder is wanted
    or the other way round, or a place where no file can be created. Nothing is left behind:
    the test file is anonymous and the folder is not created."""
    path, folder = Path(text), not suffixes
    if not text.strip():
        raise argparse.ArgumentTypeError(f"give a file or folder name, got {text!r}")
    if not folder and (text.endswith(("/", os.sep)) or path.suffix.lower() not in suffixes):
        raise argparse.ArgumentTypeError(f"{text}: {wanted}")
    if folder and path.exists() and not path.is_dir():
        raise argparse.ArgumentTypeError(f"{path} is a file; give a folder")
    if not folder and path.is_dir():
        raise argparse.ArgumentTypeError(f"{path} is a folder; give a file name")
    if not folder and path.exists() and not os.access(path, os.W_OK):
        raise argparse.ArgumentTypeError(f"{path}: the file is read-only; choose another name")
    existing = path if folder else path.parent
    while not existing.exists():
        existing = existing.parent
    if not existing.is_dir():
        raise argparse.ArgumentTypeError(f"{path}: {existing} is a file, so no folder can be made there")
    try:
        with tempfile.TemporaryFile(dir=existing):
            pass
    except OSError as error:
        raise argparse.ArgumentTypeError(
            f"{path}: cannot create files in {existing} ({error.strerror}); choose another place"
        ) from None
    return path


def _checked(convert: type, *rules: tuple[Callable[[Any], bool], str]) -> Callable[[str], Any]:
    """A type of numbers: ``convert(text)``, refused as "must be WANTED, got TEXT" by the first
    rule ``(holds, WANTED)`` the value breaks (a text that does not convert breaks the first)."""

    def parse(text: str) -> Any:
        try:
            value = convert(text)
        except ValueError:
            value = None
        for holds, wanted in rules:
            if value is None or not holds(value):
                raise argparse.ArgumentTypeError(f"must be {wanted}, got {text}")
        return value

    return parse


_graph_file = functools.partial(
    _writable, suffixes=GRAPH_FILES, wanted=f"the file must end in {GRAPH_ENDINGS}"
)
_page_file = functools.partial(
    _writable, suffixes=(".html", ".htm"), wanted="give a file name ending in .html"
)


_POSITIVE = (lambda n: n >= 1, "a positive whole number")
_positive = _checked(int, _POSITIVE)
_rate = _checked(float, (lambda x: 0 < x < math.inf, "a positive number"))
_seed = _checked(int, (lambda n: n >= 0, "a whole number, 0 or more"))
_hidden = _checked(int, _POSITIVE, (lambda n: n <= MAX_HIDDEN, f"at most {MAX_HIDDEN:,} units"))


class _Parser(argparse.ArgumentParser):
    """argparse, with a mistake reported in one line that says where the usage is."""

    def error(self, message: str):
        self.exit(2, f"{self.prog}: {message} (see {self.prog} --help)\n")


def build_parser() -> argparse.ArgumentParser:
    parser = _Parser(
        prog="tinygrad-lr",
        description="Reverse-mode autodiff on scalars and arrays, taught through logistic regression.",
    )
    parser.add_argument("--version", action="version", version=f"tinygrad-lr {__version__}")
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    run = commands.add_parser(
        "demo",
        help="the main job: train on the bundled data sets, report, write pictures",
        description="Train a logistic regression and a network with one hidden layer on the bundled "
        "Breast Cancer Wisconsin data (standardized, seeded 80/20 split), print their accuracy and "
        "log-loss, and write the loss curves (PNG) and both models (.npz); then softmax regression on "
        "the bundled iris and digits data (their fixed split), with the digits' weight images (PNG).",
    )
    numbers = (  # option, type, default, help
        ("--out", _writable, "tinygrad_lr_out", "output folder (default: ./%(default)s)"),
        ("--seed", _seed, 0, "seed of the split, the initial weights and the batches"),
        ("--epochs", _positive, 60, "passes over the training data (default %(default)s)"),
        ("--lr", _rate, 0.01, "Adam's learning rate (default %(default)s)"),
        ("--batch-size", _positive, 32, "rows per gradient step (default %(default)s)"),
        ("--hidden", _hidden, 16, f"units in the hidden layer (default %(default)s, at most {MAX_HIDDEN:,})"),
    )
    for option, kind, default, text in numbers:
        run.add_argument(option, type=kind, default=default, help=text)
    run.add_argument(
        "--data",
        choices=("all", "breast_cancer", *_MANY_CLASSES),
        default="all",
        help="which bundled data: breast_cancer (two classes), iris or digits (softmax regression, "
        "many classes), or all (the default)",
    )
    run.add_argument(
        "--quiet",
        action="store_true",
        help="print nothing: no progress bars, no report (it is in OUT/report.txt)",
    )
    run.set_defaults(handler=demo)

    formula = argparse.ArgumentParser(add_help=False)  # what graph and step share
    formula.add_argument(
        "expression",
        nargs="?",
        help="a formula of numbers, variables, + - * / ** and exp, log, sqrt, abs, ... (and the ops "
        "of the files named in TINYGRAD_LR_OPS)",
    )
    formula.add_argument(
        "--set", nargs="+", action="extend", default=[], metavar="NAME=VALUE", help="values of the variables"
    )
    formula.add_argument(
        "--rankdir",
        choices=("auto", "LR", "TB"),
        default="auto",
        help="the pictures' direction: left to right, top down, or (default) whichever fits a slide",
    )
    draw = commands.add_parser(
        "graph",
        parents=[formula],
        help="draw a computation graph (a formula, or the lesson's 2x2 network)",
        description="Draw the graph of a formula after backward, with every value and gradient, e.g. "
        'tinygrad-lr graph "log(sigmoid(w*x + b))" --set x=2 w=-0.5 b=0.1 -o graph.png. '
        "Without a formula: the lesson's 2x2 network and its loss.",
    )
    draw.add_argument(
        "-o",
        "--output",
        type=_graph_file,
        default=str(Path(DEFAULT_GRAPH).resolve()),  # in the current folder: the command says which
        metavar="FILE",
        help=f"the file to write: {GRAPH_ENDINGS} (default: {DEFAULT_GRAPH} in the current folder; "
        "an existing file is replaced, and the command says so)",
    )
    draw.add_argument("--no-data", action="store_true", help="leave the data out of the boxes")
    draw.add_argument("--no-grad", action="store_true", help="leave the gradients out of the boxes")
    draw.set_defaults(handler=graph)

    walkthrough = commands.add_parser(
        "step",
        parents=[formula],
        help="step through backprop in the terminal, one node at a time",
        description="Walk through backprop node by node, with the chain rule and its numbers: Enter for "
        "the next step, q or Ctrl-D to stop (so does the end of piped input: use --all to see every "
        "step). Without a formula: the lesson's neuron and its loss (--lesson: its 2x2 network).",
    )
    walkthrough.add_argument("--all", action="store_true", help="print every step without waiting")
    walkthrough.add_argument(
        "--lesson",
        action="store_true",
        help="step through the lesson's 2x2 network (Tensors), not its neuron",
    )
    walkthrough.add_argument(
        "--frames",
        type=_writable,
        metavar="DIR",
        help="write a picture per step shown and backprop.gif to DIR",
    )
    walkthrough.add_argument(
        "--html",
        type=_page_file,
        metavar="FILE",
        help="write the whole backward pass as a web page to FILE, to step through in a browser "
        "(offline; → and ← step), instead of stepping here (with --all: as well)",
    )
    walkthrough.set_defaults(handler=step)

    one = commands.add_parser(
        "neuron",
        help="one sigmoid neuron, its loss and its gradients, node by node",
        description="One sigmoid neuron, p = σ(w·x + b), and its binary cross-entropy loss for the "
        "label y, by backprop: the forward values, each dL/d(node) with the op's local derivative, "
        "and the same gradients worked out by hand, dL/dw = (p − y)·x and dL/db = p − y.",
    )
    one.add_argument("--x", type=float, default=2.0, help="the input feature (default %(default)s)")
    one.add_argument("--w", type=float, default=-0.5, help="the weight (default %(default)s)")
    one.add_argument("--b", type=float, default=0.1, help="the bias (default %(default)s)")
    one.add_argument("--y", type=int, choices=(0, 1), default=1, help="the label (default %(default)s)")
    one.set_defaults(handler=neuron)
    return parser


def _usable_streams() -> None:
    """Make stdout and stderr safe to print to: a stream Python did not open (pythonw, a closed
    descriptor: ``None``) goes to devnull, and a terminal whose encoding lacks the formulas'
    characters (σ, ×, −; ``LANG=C``, ``PYTHONIOENCODING=ascii``) shows them as ``\\u03c3``
    escapes instead of failing with UnicodeEncodeError."""
    for name in ("stdout", "stderr"):
        stream = getattr(sys, name)
        if stream is None:
            setattr(sys, name, open(os.devnull, "w"))  # noqa: SIM115 (lives as long as the process)
        elif hasattr(stream, "reconfigure"):  # only what the encoding cannot write is escaped
            stream.reconfigure(errors="backslashreplace")


def main(argv: Sequence[str] | None = None) -> int:
    _usable_streams()
    args = build_parser().parse_args(argv)
    where = f"tinygrad-lr {args.command}"
    try:
        try:
            load_user_ops()  # a formula may call the ops of the user's files
        except ImportError as error:
            raise _Refused(str(error)) from None
        status = args.handler(args)
        sys.stdout.flush()  # NOTE: a reader that went away (| head) shows here, not at exit
        return status
    except _Refused as error:
        message, status = str(error), error.status
    except BrokenPipeError:
        # The reader of the output stopped (| head -1): end quietly, as Unix tools do. Python's
        # "Note on SIGPIPE": point stdout at devnull so that the flush at exit does not fail again.
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
        return 141  # 128 + SIGPIPE, what a program ended by a closed pipe reports
    except KeyboardInterrupt:
        message, status = "interrupted", 130  # 128 + SIGINT
    except MemoryError:
        message, status = "out of memory; close other programs, or ask for less", 1
    except OSError as error:  # the machine, not the input: a full disk, a file that went away
        where_file = f" ({error.filename})" if error.filename else ""
        message, status = f"{error.strerror or error}{where_file}", 1
    print(f"{where}: {message}", file=sys.stderr)
    return status


if __name__ == "__main__":
    sys.exit(main())
