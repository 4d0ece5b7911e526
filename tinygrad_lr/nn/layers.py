"""Layers and the models of the lesson: logistic regression, and networks that end in it."""

from __future__ import annotations

import itertools
from collections.abc import Iterable, Iterator, Sequence

import numpy as np

from ..core import ops
from ..core.tensor import Tensor
from . import functional
from .module import Module, Parameter, Seed, generator, scoped


class Linear(Module):
    """y = x @ W + b, with W of shape (in_features, out_features) as in the lesson's
    ``np.dot(x, weights)``.

    PyTorch's ``nn.Linear`` stores W as (out_features, in_features) and computes x @ Wᵀ + b:
    ``layout="out_in"`` stores it so, for state dicts to and from PyTorch. A square PyTorch
    weight loads into the default layout without an error and computes something else; a
    transposed one of another shape is refused with the reason.

    Initialisation (PyTorch's default): W and b uniform in ±1/√in_features, drawn from the
    global generator (``tg.manual_seed`` makes it repeatable, as in PyTorch), or from ``seed``:
    an int (a stream of its own) or a generator (continued). One seed gives one function in
    either layout.
    """

    def __init__(
        self,
        in_features: int,
        out_features: int,
        bias: bool = True,
        *,
        seed: Seed = None,
        layout: str = "in_out",
    ):
        if layout not in ("in_out", "out_in"):
            raise ValueError(
                f"Linear: layout is 'in_out' (weight (in_features, out_features), the default) or "
                f"'out_in' (PyTorch's (out_features, in_features)), not {layout!r}"
            )
        rng = generator(seed)
        bound = 1 / np.sqrt(in_features)
        self.in_features, self.out_features, self.layout = in_features, out_features, layout
        weight = rng.uniform(-bound, bound, (in_features, out_features))
        self.weight = Parameter(weight if layout == "in_out" else weight.T.copy())
        self.bias = Parameter(rng.uniform(-bound, bound, out_features)) if bias else None

    def forward(self, x: Tensor) -> Tensor:
        weight = self.weight if self.layout == "in_out" else self.weight.T
        if self.bias is None:
            return x @ weight
        return ops.linear(x, weight, self.bias)

    def extra_repr(self) -> str:
        layout = "" if self.layout == "in_out" else f", layout={self.layout!r}"
        return (
            f"in_features={self.in_features}, out_features={self.out_features}, "
            f"bias={self.bias is not None}{layout}"
        )


class Sequential(Module):
    """Modules applied one after the other."""

    def __init__(self, *layers: Module):
        self.layers = list(layers)

    def forward(self, x: Tensor) -> Tensor:
        for layer in self.layers:
            x = layer(x)
        return x

    def __getitem__(self, i: int) -> Module:
        return self.layers[i]

    def __len__(self) -> int:
        return len(self.layers)


class ModuleList(Module):
    """A list of modules (PyTorch's ``nn.ModuleList``): indexed, iterated, appended to; its
    modules are sub-modules named ``0``, ``1``, ..., and it has no ``forward`` of its own."""

    def __init__(self, modules: Iterable[Module] = ()):
        self._items: list[Module] = []
        self.extend(modules)

    def _attributes(self) -> Iterator[tuple[str, Module]]:
        return ((str(i), module) for i, module in enumerate(self._items))

    def append(self, module: Module) -> ModuleList:
        """Add ``module`` at the end; returns the list."""
        if not isinstance(module, Module):
            raise TypeError(f"ModuleList: {type(module).__name__} is not a Module")
        self._items.append(module)
        return self

    def extend(self, modules: Iterable[Module]) -> ModuleList:
        """Add each of ``modules`` at the end; returns the list."""
        for module in modules:
            self.append(module)
        return self

    def __getitem__(self, i: int | slice) -> Module:
        return ModuleList(self._items[i]) if isinstance(i, slice) else self._items[i]

    def __len__(self) -> int:
        return len(self._items)

    def __iter__(self) -> Iterator[Module]:
        return iter(self._items)


class Dropout(Module):
    """In training mode, zero each element with probability ``p`` and scale the others by
    1/(1 − p), so that the expected output is the input; in evaluation mode (``eval()``), the
    identity (PyTorch's). The mask comes from the global generator (``tg.manual_seed``)."""

    def __init__(self, p: float = 0.5):
        self.p = functional._dropout_probability(p, "Dropout")

    def forward(self, x: Tensor) -> Tensor:
        return functional.dropout(x, self.p, self.training)

    def extra_repr(self) -> str:
        return f"p={self.p}"


class Sigmoid(Module):
    """σ(x) elementwise."""

    def forward(self, x):
        return ops.sigmoid(x)


class Tanh(Module):
    """tanh(x) elementwise."""

    def forward(self, x):
        return ops.tanh(x)


class ReLU(Module):
    """max(x, 0) elementwise."""

    def forward(self, x):
        return ops.relu(x)


class BinaryClassifier(Module):
    """A model of p(y = 1 | x) = σ(z) whose subclass computes the logits z (``logits``):
    ``forward`` gives the probabilities, ``predict`` the class labels."""

    def logits(self, x: Tensor) -> Tensor:
        raise NotImplementedError(f"{type(self).__name__} must define logits()")

    def forward(self, x: Tensor) -> Tensor:
        return ops.sigmoid(self.logits(x))

    def predict(self, x: Tensor) -> np.ndarray:
        """Class labels (0 or 1) by thresholding p at 1/2, that is z at 0."""
        return (self.logits(x).data > 0).astype(np.float64)


class LogisticRegression(BinaryClassifier):
    """p(y = 1 | x) = σ(x·w + b): one neuron with a sigmoid output.

    ``forward`` returns probabilities of shape (rows,); ``logits`` returns z = x·w + b, which
    is what the loss should get (``binary_cross_entropy_with_logits`` is exact and stable where
    the log of a rounded probability is not).
    """

    def __init__(self, n_features: int, *, seed: Seed = None):
        self.linear = Linear(n_features, 1, seed=seed)

    @scoped
    def logits(self, x: Tensor) -> Tensor:
        """z = x·w + b, of shape (rows,)."""
        return ops.reshape(self.linear(x), (-1,))


_ACTIVATIONS = {"tanh": Tanh, "relu": ReLU, "sigmoid": Sigmoid}


def _hidden_layers(model: str, sizes: list[int], activation: str, rng: np.random.Generator) -> Sequential:
    """The hidden part of a network of ``sizes``: a Linear layer from each size to the next
    (all but the output's), each followed by ``activation``."""
    if activation not in _ACTIVATIONS:
        raise ValueError(f"{model}: activation must be one of {sorted(_ACTIVATIONS)}, got {activation!r}")
    layers: list[Module] = []
    for n_in, n_out in itertools.pairwise(sizes[:-1]):
        layers += [Linear(n_in, n_out, seed=rng), _ACTIVATIONS[activation]()]
    return Sequential(*layers)


class MLP(BinaryClassifier):
    """A network of ``sizes = [n_in, hidden..., 1]``: hidden Linear layers with ``activation``
    ("tanh", "relu" or "sigmoid"), then a LogisticRegression on the last hidden features.

    The lesson's point in code: a network with hidden layers ends in logistic regression, on
    features it learned instead of the raw inputs.
    """

    def __init__(self, sizes: Sequence[int], activation: str = "tanh", *, seed: Seed = None):
        sizes = list(sizes)
        if len(sizes) < 2 or sizes[-1] != 1:
            raise ValueError(
                f"MLP: sizes must be [n_in, hidden..., 1] (one output probability), got {sizes}; "
                "for many classes use SoftmaxMLP([n_in, hidden..., n_classes])"
            )
        rng = generator(seed)
        self.hidden = _hidden_layers("MLP", sizes, activation, rng)
        self.output = LogisticRegression(sizes[-2], seed=rng)

    @scoped
    def logits(self, x: Tensor) -> Tensor:
        """The output layer's z, computed from the features of the hidden layers."""
        return self.output.logits(self.hidden(x))


# --- many classes ---------------------------------------------------------------------------------


class Classifier(Module):
    """A model of p(y = k | x) = softmax(z)ₖ over classes whose subclass computes the logits z
    of shape (rows, classes) (``logits``): ``forward`` gives the probabilities, ``predict`` the
    class labels. Train it with ``functional.cross_entropy(model.logits(x), y)``."""

    def logits(self, x: Tensor) -> Tensor:
        raise NotImplementedError(f"{type(self).__name__} must define logits()")

    def forward(self, x: Tensor) -> Tensor:
        return ops.softmax(self.logits(x), -1)

    def predict_proba(self, x: Tensor) -> np.ndarray:
        """The class probabilities, of shape (rows, classes), as a numpy array."""
        return self.forward(x).data

    def predict(self, x: Tensor) -> np.ndarray:
        """Class labels 0 ... classes − 1 (integers): the largest logit of each row (the first on a tie)."""
        return np.argmax(self.logits(x).data, axis=-1)


class SoftmaxRegression(Classifier):
    """p(y = k | x) = softmax(x @ W + b)ₖ: one layer of ``n_classes`` neurons with a softmax
    output, the many-class form of ``LogisticRegression``.

    With two classes it is logistic regression on the difference of the two logits:
    softmax(z₀, z₁)₁ = σ(z₁ − z₀).
    """

    def __init__(self, n_features: int, n_classes: int, *, seed: Seed = None):
        if n_classes < 2:
            raise ValueError(f"SoftmaxRegression: n_classes must be at least 2, got {n_classes}")
        self.linear = Linear(n_features, n_classes, seed=seed)

    @scoped
    def logits(self, x: Tensor) -> Tensor:
        """z = x @ W + b, of shape (rows, n_classes)."""
        return self.linear(x)


class SoftmaxMLP(Classifier):
    """A network of ``sizes = [n_in, hidden..., n_classes]``: hidden Linear layers with
    ``activation`` ("tanh", "relu" or "sigmoid"), then a SoftmaxRegression on the last hidden
    features (as ``MLP`` ends in a LogisticRegression)."""

    def __init__(self, sizes: Sequence[int], activation: str = "tanh", *, seed: Seed = None):
        sizes = list(sizes)
        if len(sizes) < 2 or sizes[-1] < 2:
            raise ValueError(
                f"SoftmaxMLP: sizes must be [n_in, hidden..., n_classes] with n_classes >= 2, got {sizes}"
            )
        rng = generator(seed)
        self.hidden = _hidden_layers("SoftmaxMLP", sizes, activation, rng)
        self.output = SoftmaxRegression(sizes[-2], sizes[-1], seed=rng)

    logits = MLP.logits  # the output layer's z, on the features of the hidden layers
