"""Make every picture in the docs from the project's own code.

python docs/make_pictures.py            # rewrites docs/images/ (make pictures)
python docs/make_pictures.py OUT_DIR    # anywhere else (the test suite does this)

The pictures are deterministic: a file is replaced only when its picture changed, so running
this on an unchanged tree leaves git status clean. Graphs are laid out by whichever graphviz
draws (the system dot, else pygraphviz's), and two graphviz versions may place a box a pixel
apart: the committed pictures come from pygraphviz's, the renderer every pip user has.
"""

import shutil
import sys
import tempfile
from pathlib import Path

import tinygrad_lr as tg
from tinygrad_lr import nn


def neuron(out: Path) -> None:
    """One sigmoid neuron and its log-likelihood, after backward."""
    loss = tg.expr("log(sigmoid(w*x + b))", x=2.0, w=-0.5, b=0.1)
    loss.label = "out"
    loss.backward()
    tg.draw(loss).render(out / "neuron.png")


def lesson_network(out: Path) -> None:
    """The lesson's 2x2 network and its loss, after backward."""
    loss = tg.lesson.network()
    loss.backward(retain_grads=True)
    tg.draw(loss).render(out / "lesson_network.png")


def stepping(out: Path) -> None:
    """The lesson's network half-way through its backward pass, as the stepper draws it."""
    steps = tg.Backprop(tg.lesson.network())
    for _ in range(6):
        steps.step()
    steps.draw().render(out / "stepping.png")


def xor(out: Path) -> None:
    """Logistic regression against one hidden layer on XOR."""
    X, y = tg.data.make_xor(200, noise=0.15)
    models = {
        "logistic regression": nn.LogisticRegression(2, seed=0),
        "one hidden layer": nn.MLP([2, 8, 1], seed=0),
    }
    titles = []
    for name, model in models.items():
        tg.training.fit(model, tg.optim.Adam(model.parameters(), lr=0.05), X, y, epochs=300)
        titles.append(f"{name}: accuracy {tg.training.accuracy(model, X, y):.2f}")
    tg.plots.decision_boundaries(models, X, y, out / "xor.png", titles=titles)


def digits(out: Path) -> None:
    """The ten weight images of softmax regression on digits, trained as the demo trains it."""
    X_train, _, y_train, _ = tg.data.load_digits(split=True)
    X_train = tg.data.standardize(X_train)
    model = nn.SoftmaxRegression(64, 10, seed=0)
    optimizer = tg.optim.SGD(model.parameters(), lr=0.5)
    for _ in range(300):
        optimizer.zero_grad()
        nn.functional.cross_entropy(model.logits(tg.Tensor(X_train)), y_train).backward()
        optimizer.step()
    tg.plots.digit_weights(model.linear.weight.data, out / "digits_weights.png")


def main() -> None:
    out = Path(sys.argv[1]) if len(sys.argv) > 1 else Path(__file__).parent / "images"
    out.mkdir(parents=True, exist_ok=True)
    changed = []
    with tempfile.TemporaryDirectory() as scratch:
        for make in (neuron, lesson_network, stepping, xor, digits):
            make(Path(scratch))
        for made in sorted(Path(scratch).iterdir()):
            target = out / made.name
            if not target.exists() or target.read_bytes() != made.read_bytes():
                shutil.copyfile(made, target)
                changed.append(made.name)
    print(f"{out}: {', '.join(changed) or 'nothing'} changed")


if __name__ == "__main__":
    main()
