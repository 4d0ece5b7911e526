"""Write torch_optim_trajectories.json: torch.optim's parameters over 50 steps (after the steps in
STORED, to keep the file small), the oracle of tests/test_optim.py. Needs PyTorch; run by hand
from the repository's root:

    python tests/data/make_torch_trajectories.py

The problem: W (3, 2) and b (2,) minimise mean((tanh(X @ W + b) − Y)²) in float64; a third
parameter ``unused`` is in the optimiser but not in the loss (PyTorch skips it). X, Y and the
starting values are fixed formulas, written to the file with the results.
"""

import json
import math
from pathlib import Path

import torch

STEPS = 50
STORED = [1, 2, 3, 10, 25, 26, 50]  # the lr halves before step 26 where a config says so
X = [[math.sin(1 + 3 * i + j) for j in range(3)] for i in range(6)]
Y = [[0.8 * math.cos(2 + 2 * i + j) for j in range(2)] for i in range(6)]
START = {
    "W": [[0.3 * math.cos(1 + 2 * i + j) for j in range(2)] for i in range(3)],
    "b": [0.1, -0.2],
    "unused": [1.0, -2.0],
}
# name: (optimiser, settings, groups or None for one group of all, step at which every lr halves)
CONFIGS = {
    "sgd": ("SGD", {"lr": 0.3}, None, None),
    "sgd_momentum_decay": ("SGD", {"lr": 0.1, "momentum": 0.9, "weight_decay": 0.05}, None, None),
    "sgd_dampening": (
        "SGD",
        {"lr": 0.1, "momentum": 0.8, "dampening": 0.3, "weight_decay": 0.05},
        None,
        None,
    ),
    "sgd_nesterov": ("SGD", {"lr": 0.1, "momentum": 0.9, "nesterov": True, "weight_decay": 0.05}, None, None),
    "sgd_groups": (
        "SGD",
        {"lr": 0.1, "momentum": 0.9},
        [{"params": ["W"]}, {"params": ["b", "unused"], "lr": 0.05, "nesterov": True, "weight_decay": 0.1}],
        25,
    ),
    "adam": ("Adam", {"lr": 0.05}, None, None),
    "adam_amsgrad_decay": ("Adam", {"lr": 0.05, "weight_decay": 0.05, "amsgrad": True}, None, None),
    "adamw": ("AdamW", {"lr": 0.05}, None, None),
    "adamw_amsgrad": (
        "AdamW",
        {"lr": 0.05, "betas": (0.8, 0.99), "weight_decay": 0.1, "amsgrad": True},
        None,
        None,
    ),
    "adam_groups": (
        "Adam",
        {"lr": 0.05},
        [{"params": ["W", "unused"]}, {"params": ["b"], "lr": 0.02, "betas": (0.5, 0.9), "amsgrad": True}],
        25,
    ),
}


def trajectory(optimiser, settings, groups, halve_at):
    params = {
        name: torch.tensor(value, dtype=torch.float64, requires_grad=True) for name, value in START.items()
    }
    if groups is None:
        groups = [{"params": list(params)}]
    opt = getattr(torch.optim, optimiser)(
        [{**group, "params": [params[name] for name in group["params"]]} for group in groups], **settings
    )
    X_, Y_ = torch.tensor(X, dtype=torch.float64), torch.tensor(Y, dtype=torch.float64)
    rows = []
    for step in range(STEPS):
        if step == halve_at:
            for group in opt.param_groups:
                group["lr"] /= 2
        opt.zero_grad()
        ((torch.tanh(X_ @ params["W"] + params["b"]) - Y_) ** 2).mean().backward()
        opt.step()
        assert params["unused"].tolist() == START["unused"]
        if step + 1 in STORED:
            rows.append(params["W"].flatten().tolist() + params["b"].tolist())
    return rows


if __name__ == "__main__":
    out = {
        "torch": torch.__version__,
        "X": X,
        "Y": Y,
        "start": START,
        "stored": STORED,
        "configs": {
            name: {
                "optimiser": o,
                "settings": s,
                "groups": g,
                "halve_lr_at": h,
                "W_then_b": trajectory(o, s, g, h),
            }
            for name, (o, s, g, h) in CONFIGS.items()
        },
    }
    path = Path(__file__).with_name("torch_optim_trajectories.json")
    path.write_text(json.dumps(out, separators=(",", ":")) + "\n")
    print(f"wrote {path} ({path.stat().st_size} bytes)")
