"""Is the straight line the better model on breast cancer? The demo's comparison, over seeds.

``tinygrad-lr demo`` trains logistic regression and a 30-16-1 network on one seeded 80/20 split
(seed 0) and reports their test log-loss. One split of 114 test tumours is a small sample, so
this runs the same training (Adam, lr 0.01, 60 epochs, batches of 32, the seed governing the
split, the initial weights and the batches, as ``--seed`` does) for several seeds and counts how
often each model has the lower test loss.

    python benchmarks/demo_seeds.py              # seeds 0-9
    python benchmarks/demo_seeds.py --seeds 20
"""

from __future__ import annotations

import argparse
import statistics

import numpy as np

import tinygrad_lr as tg
from tinygrad_lr import nn, optim, training


def run(seed: int, hidden: int = 16) -> dict[str, tuple[float, float]]:
    """Test accuracy and test log-loss of both demo models for one seed (the demo's settings)."""
    X, y = tg.data.load_breast_cancer()
    X_train, X_test, y_train, y_test = tg.data.train_test_split(X, y, test_size=0.2, seed=seed, stratify=True)
    X_train, X_test = tg.data.standardize(X_train, X_test)
    models = {
        "line": nn.LogisticRegression(X.shape[1], seed=seed),
        "network": nn.MLP([X.shape[1], hidden, 1], seed=seed),
    }
    scores = {}
    for name, model in models.items():
        optimizer = optim.Adam(model.parameters(), lr=0.01)
        training.fit(model, optimizer, X_train, y_train, epochs=60, batch_size=32, seed=seed, progress=False)
        scores[name] = (training.accuracy(model, X_test, y_test), training.log_loss(model, X_test, y_test))
    return scores


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seeds", type=int, default=10, help="seeds 0 to SEEDS - 1 (default %(default)s)")
    args = parser.parse_args()
    print("seed  line acc  net acc  line loss  net loss  lower loss")
    losses = {"line": [], "network": []}
    for seed in range(args.seeds):
        scores = run(seed)
        (line_acc, line_loss), (net_acc, net_loss) = scores["line"], scores["network"]
        losses["line"].append(line_loss)
        losses["network"].append(net_loss)
        better = "line" if line_loss < net_loss else "network"
        print(f"{seed:4d}  {line_acc:8.3f}  {net_acc:7.3f}  {line_loss:9.4f}  {net_loss:8.4f}  {better}")
    line, net = np.array(losses["line"]), np.array(losses["network"])
    print(
        f"median test loss: line {statistics.median(line):.4f}, network {statistics.median(net):.4f}; "
        f"the line's is lower on {(line < net).sum()} of {len(line)} seeds"
    )


if __name__ == "__main__":
    main()
