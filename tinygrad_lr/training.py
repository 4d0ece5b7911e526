"""A training loop and the measures the demo reports: small on purpose, to be read."""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from .core.engine import no_grad
from .core.tensor import Tensor
from .data import batches
from .nn import functional as F
from .nn.module import Module
from .optim import Newton, Optimizer


@dataclass
class History:
    """Per-epoch full-data loss on the training set (and on a validation set, if given)."""

    train_loss: list[float] = field(default_factory=list)
    val_loss: list[float] = field(default_factory=list)


def fit(
    model: Module,
    optimizer: Optimizer,
    X: np.ndarray,
    y: np.ndarray,
    *,
    epochs: int,
    batch_size: int | None = None,
    seed: int = 0,
    validation: tuple[np.ndarray, np.ndarray] | None = None,
    progress: bool = False,
    description: str = "training",
) -> History:
    """Train ``model`` (anything with ``logits``) on the mean binary cross-entropy.

    Mini-batches of ``batch_size`` rows in a new order each epoch (None: the full batch).
    ``progress`` shows a tqdm bar with the current loss. A ``Newton`` optimiser gets the
    batch's loss as its closure (it evaluates the loss along its line search).
    """
    rng = np.random.default_rng(seed)
    history = History()
    epochs_iter = range(epochs)
    if progress:
        from tqdm import tqdm

        epochs_iter = tqdm(epochs_iter, desc=description, unit="epoch", leave=True)
    for _ in epochs_iter:
        for X_batch, y_batch in batches(X, y, batch_size or len(y), shuffle=batch_size is not None, seed=rng):

            def batch_loss(X_batch: np.ndarray = X_batch, y_batch: np.ndarray = y_batch) -> Tensor:
                return F.binary_cross_entropy_with_logits(model.logits(Tensor(X_batch)), y_batch)

            if isinstance(optimizer, Newton):
                optimizer.step(batch_loss)
                continue
            optimizer.zero_grad()
            batch_loss().backward()
            optimizer.step()
        history.train_loss.append(log_loss(model, X, y))
        if validation is not None:
            history.val_loss.append(log_loss(model, *validation))
        if progress:
            epochs_iter.set_postfix(loss=f"{history.train_loss[-1]:.4f}", refresh=False)
    return history


@no_grad()
def log_loss(model: Module, X: np.ndarray, y: np.ndarray) -> float:
    """Mean binary cross-entropy of the model's predictions on (X, y)."""
    return float(F.binary_cross_entropy_with_logits(model.logits(Tensor(X)), y).data)


@no_grad()
def accuracy(model: Module, X: np.ndarray, y: np.ndarray) -> float:
    """Fraction of rows whose predicted class (p > 1/2) is the label."""
    return float(np.mean((model.logits(Tensor(X)).data > 0) == (y > 0.5)))
