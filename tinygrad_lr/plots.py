"""Pictures of training with matplotlib: loss curves and decision boundaries."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from pathlib import Path

import numpy as np

from .core.engine import no_grad
from .core.tensor import Tensor

MARKED_EPOCHS = 20
"""Loss curves of at most this many epochs get a dot per epoch."""


def _pyplot():
    import matplotlib

    matplotlib.use("Agg")  # files only: no window, no display needed
    import matplotlib.pyplot as plt

    return plt


def loss_curves(histories: Mapping[str, object], path: str | Path) -> Path:
    """One line per model and split: loss against epoch, on a log scale (with a dot per epoch
    for up to ``MARKED_EPOCHS`` epochs, so that even a single epoch shows)."""
    plt = _pyplot()
    from matplotlib.ticker import MaxNLocator

    fig, ax = plt.subplots(figsize=(7, 4.2), dpi=120)
    for (name, history), color in zip(histories.items(), ("tab:blue", "tab:orange", "tab:green")):
        epochs = np.arange(1, len(history.train_loss) + 1)
        # NOTE: a line through one point draws nothing: few epochs are drawn as points too.
        style = {"color": color, "marker": "o" if len(epochs) <= MARKED_EPOCHS else None, "markersize": 4}
        ax.plot(epochs, history.train_loss, label=f"{name}, train", **style)
        if history.val_loss:
            ax.plot(epochs, history.val_loss, linestyle="--", label=f"{name}, test", **style)
    ax.xaxis.set_major_locator(MaxNLocator(integer=True, min_n_ticks=1))  # epochs are whole numbers
    ax.set(
        xlabel="epoch", ylabel="mean binary cross-entropy", yscale="log", title="Training on breast cancer"
    )
    ax.grid(alpha=0.3)
    ax.legend()
    fig.tight_layout()
    fig.savefig(path)
    plt.close(fig)
    return Path(path)


@no_grad()
def decision_boundaries(
    models: Mapping[str, object], X: np.ndarray, y: np.ndarray, path: str | Path, titles: Sequence[str] = ()
) -> Path:
    """Side-by-side panels: each model's p(y = 1 | x) over the plane, the p = 1/2 line, the data."""
    plt = _pyplot()
    fig, axes = plt.subplots(1, len(models), figsize=(5 * len(models), 4.4), dpi=110, squeeze=False)
    pad = 0.5
    xs = np.linspace(X[:, 0].min() - pad, X[:, 0].max() + pad, 200)
    ys = np.linspace(X[:, 1].min() - pad, X[:, 1].max() + pad, 200)
    grid = np.stack(np.meshgrid(xs, ys), axis=-1).reshape(-1, 2)
    for ax, model, title in zip(axes[0], models.values(), titles or list(models)):
        p = model(Tensor(grid)).data.reshape(len(ys), len(xs))
        ax.contourf(xs, ys, p, levels=np.linspace(0, 1, 11), cmap="RdBu_r", alpha=0.55)
        ax.contour(xs, ys, p, levels=[0.5], colors="k", linewidths=1.5)
        ax.scatter(X[:, 0], X[:, 1], c=y, cmap="RdBu_r", edgecolors="k", linewidths=0.4, s=18)
        ax.set(title=title, xticks=[], yticks=[])
    fig.tight_layout()
    fig.savefig(path)
    plt.close(fig)
    return Path(path)


def digit_weights(weight: np.ndarray, path: str | Path, title: str = "") -> Path:
    """The ten columns of a digits model's weights (64, 10) as 8x8 images, one per digit: red
    where ink raises that digit's logit, blue where it lowers it (one colour scale for all)."""
    weight = np.asarray(weight)
    if weight.shape != (64, 10):
        raise ValueError(f"digit_weights: expected weights of shape (64, 10), got {weight.shape}")
    plt = _pyplot()
    fig, axes = plt.subplots(2, 5, figsize=(8.4, 3.9), dpi=120, layout="constrained")
    bound = np.abs(weight).max() or 1.0
    for digit, ax in enumerate(axes.flat):
        image = ax.imshow(weight[:, digit].reshape(8, 8), cmap="RdBu_r", vmin=-bound, vmax=bound)
        ax.set_title(str(digit), fontsize=13)
        ax.set(xticks=[], yticks=[])
    fig.colorbar(image, ax=axes, shrink=0.9, label="weight (per standardized pixel)")
    fig.suptitle(title or "What softmax regression learned: one weight image per digit")
    fig.savefig(path, bbox_inches="tight")
    plt.close(fig)
    return Path(path)
