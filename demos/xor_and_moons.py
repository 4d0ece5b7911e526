"""The lesson's thesis, shown: logistic regression draws one straight line, so it cannot
separate XOR or two moons; one hidden layer learns features on which the final logistic
regression can. Writes decision_boundaries.png. Run: python demos/xor_and_moons.py [out_dir]
"""

import sys
from pathlib import Path

import tinygrad_lr as tg
from tinygrad_lr import nn
from tinygrad_lr.training import accuracy, fit

out = Path(sys.argv[1] if len(sys.argv) > 1 else "tinygrad_lr_out")
out.mkdir(parents=True, exist_ok=True)
for name, (X, y) in {
    "xor": tg.data.make_xor(200, noise=0.15),
    "moons": tg.data.make_moons(200, noise=0.1),
}.items():
    models = {
        "logistic regression": nn.LogisticRegression(2, seed=0),
        "one hidden layer (8 tanh)": nn.MLP([2, 8, 1], seed=0),
    }
    titles = []
    for label, model in models.items():
        fit(model, tg.optim.Adam(model.parameters(), lr=0.05), X, y, epochs=300)
        titles.append(f"{label}: accuracy {accuracy(model, X, y):.2f}")
        print(f"{name}, {titles[-1]}")
    tg.plots.decision_boundaries(models, X, y, out / f"decision_boundaries_{name}.png", titles=titles)
print(f"wrote {out}/decision_boundaries_xor.png and {out}/decision_boundaries_moons.png")
