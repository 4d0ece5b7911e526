"""Networks: Module, layers, the logistic-regression model and the networks that end in it, loss
modules; ``functional`` has the losses as functions and ``scalar`` the same networks on Values."""

# ruff: noqa: F401 (imported to be re-exported: __all__ is computed from the imports)

from . import functional, scalar
from .layers import (
    MLP,
    Classifier,
    Dropout,
    Linear,
    LogisticRegression,
    ModuleList,
    ReLU,
    Sequential,
    Sigmoid,
    SoftmaxMLP,
    SoftmaxRegression,
    Tanh,
)
from .losses import BCELoss, BCEWithLogitsLoss, CrossEntropyLoss, MSELoss, NLLLoss
from .module import IncompatibleKeys, Module, Parameter

# the public names: the ones imported above, less the modules they come from
__all__ = [name for name in dir() if not name.startswith("_") and name not in ("layers", "losses", "module")]
