"""Loss modules (PyTorch's ``nn.CrossEntropyLoss`` and the like): a function of ``functional``
with its options held, called as ``loss(input, target)``."""

from __future__ import annotations

from typing import Any

from . import functional
from .module import Module


class _Loss(Module):
    """A loss with a ``weight`` and a ``reduction`` ("mean", "sum" or "none")."""

    def __init__(self, weight: Any = None, *, reduction: str = "mean"):
        functional._check_reduction(reduction, type(self).__name__)
        self.weight, self.reduction = weight, reduction

    def forward(self, input: Any, target: Any) -> Any:
        return type(self).function(input, target, self.weight, reduction=self.reduction)


class BCELoss(_Loss):
    """``functional.binary_cross_entropy`` of probabilities."""

    function = functional.binary_cross_entropy


class BCEWithLogitsLoss(_Loss):
    """``functional.binary_cross_entropy_with_logits``: the stable loss of logits."""

    function = functional.binary_cross_entropy_with_logits


class _ClassLoss(_Loss):
    """A loss of class labels, which also takes ``ignore_index``."""

    def __init__(self, weight: Any = None, *, ignore_index: int = -100, reduction: str = "mean"):
        super().__init__(weight, reduction=reduction)
        self.ignore_index = ignore_index

    def forward(self, input: Any, target: Any) -> Any:
        return type(self).function(
            input, target, self.weight, reduction=self.reduction, ignore_index=self.ignore_index
        )


class CrossEntropyLoss(_ClassLoss):
    """``functional.cross_entropy`` of logits (rows, classes) and class labels or probabilities."""

    function = functional.cross_entropy


class NLLLoss(_ClassLoss):
    """``functional.nll_loss`` of log-probabilities (rows, classes) and class labels."""

    function = functional.nll_loss


class MSELoss(Module):
    """``functional.mse_loss``: the mean (or sum, or each) of the squared differences."""

    def __init__(self, *, reduction: str = "mean"):
        functional._check_reduction(reduction, "MSELoss")
        self.reduction = reduction

    def forward(self, input: Any, target: Any) -> Any:
        return functional.mse_loss(input, target, reduction=self.reduction)
