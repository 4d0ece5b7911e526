"""Runs ``torch_script.py`` on PyTorch or, with its import block replaced, on tinygrad_lr, from the
same data and initial weights; run as ``python -m tests.torch_script_run`` (from the repository's
root, with torch installed) it writes the stored PyTorch results, ``data/torch_script_oracle.json``.

What differs between the two runs, besides the import block, is the harness's, not the script's:
- PyTorch is run in float64 (``torch.set_default_dtype``), tinygrad_lr's dtype, for exact results;
- tinygrad_lr's ``nn.Linear`` keeps its weight as (in_features, out_features), PyTorch's as
  (out_features, in_features): the initial weights go in, and the results come out, transposed;
- the checkpoint's file name ends in ``.npz`` (``tg.save`` writes only that), ``.pt`` for PyTorch.
"""

import json
from pathlib import Path
from typing import Any

import numpy as np

from tinygrad_lr.data import load_iris

SCRIPT = Path(__file__).with_name("torch_script.py")
ORACLE = Path(__file__).parent / "data" / "torch_script_oracle.json"
IMPORTS = {
    "torch": "import torch\nimport torch.nn as nn\nimport torch.nn.functional as F\n",
    "tinygrad_lr": (
        "import tinygrad_lr as torch\nimport tinygrad_lr.nn as nn\nimport tinygrad_lr.nn.functional as F\n"
    ),
}


def load_script(framework: str) -> dict[str, Any]:
    """The script's names (``Net``, ``main``, ...) with ``framework``'s import block."""
    text = SCRIPT.read_text()
    assert text.count(IMPORTS["torch"]) == 1, "the script's import block changed; update IMPORTS"
    namespace: dict[str, Any] = {"__name__": "torch_script"}
    exec(compile(text.replace(IMPORTS["torch"], IMPORTS[framework]), str(SCRIPT), "exec"), namespace)
    return namespace


def problem() -> tuple[np.ndarray, np.ndarray, dict[str, np.ndarray]]:
    """Iris in a fixed shuffled order, and initial weights in PyTorch's layout (PyTorch's bounds)."""
    X, y = load_iris()
    order = np.random.default_rng(0).permutation(len(y))
    rng = np.random.default_rng(1)
    initial = {
        "fc1.weight": rng.uniform(-0.5, 0.5, (16, 4)),
        "fc1.bias": rng.uniform(-0.5, 0.5, 16),
        "fc2.weight": rng.uniform(-0.25, 0.25, (3, 16)),
        "fc2.bias": rng.uniform(-0.25, 0.25, 3),
    }
    return X[order], y[order], initial


def _transposed(weights: dict[str, np.ndarray]) -> dict[str, np.ndarray]:
    return {name: value.T.copy() if value.ndim == 2 else value for name, value in weights.items()}


def run(framework: str, folder: Path, p: float = 0.0, epochs: tuple[int, int] = (6, 4)) -> tuple:
    """The script's ``main`` on ``framework``: final weights (PyTorch's layout), last loss, accuracy."""
    script, (X, y, initial) = load_script(framework), problem()
    Path(folder).mkdir(parents=True, exist_ok=True)  # torch.save does not make it
    if framework == "torch":
        torch = script["torch"]
        dtype = torch.get_default_dtype()
        torch.set_default_dtype(torch.float64)
        try:
            return script["main"](X, y, initial, Path(folder) / "checkpoint.pt", p, epochs)
        finally:
            torch.set_default_dtype(dtype)
    weights, loss, accuracy = script["main"](
        X, y, _transposed(initial), Path(folder) / "checkpoint.npz", p, epochs
    )
    return _transposed(weights), loss, accuracy


if __name__ == "__main__":
    import tempfile

    import torch

    with tempfile.TemporaryDirectory() as folder:
        weights, loss, accuracy = run("torch", Path(folder))
    oracle = {
        "source": f"torch {torch.__version__} (CPU, float64): python -m tests.torch_script_run",
        "weights": {name: value.tolist() for name, value in weights.items()},
        "loss": loss,
        "accuracy": accuracy,
    }
    ORACLE.write_text(json.dumps(oracle, indent=1) + "\n")
    print(f"wrote {ORACLE}")
