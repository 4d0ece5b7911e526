"""Networks: Module, layers, the logistic-regression model and the networks that end in it;
``functional`` has the losses and ``scalar`` the same networks on Values."""

from . import functional, scalar
from .layers import (
    MLP,
    Classifier,
    Linear,
    LogisticRegression,
    ReLU,
    Sequential,
    Sigmoid,
    SoftmaxMLP,
    SoftmaxRegression,
    Tanh,
)
from .module import Module

__all__ = [
    "MLP",
    "Classifier",
    "Linear",
    "LogisticRegression",
    "Module",
    "ReLU",
    "Sequential",
    "Sigmoid",
    "SoftmaxMLP",
    "SoftmaxRegression",
    "Tanh",
    "functional",
    "scalar",
]
