"""Networks of Values, small enough to step through by hand.

A ``Neuron`` with a sigmoid output is exactly a logistic regression: σ(w·x + b). A ``Layer`` is
several neurons reading the same inputs; an ``MLP`` stacks layers and ends in one sigmoid
neuron, a logistic regression on the features the layers before it compute.
"""

from __future__ import annotations

import itertools
from collections.abc import Sequence

import numpy as np

from ..core import ops
from ..core.value import Value
from .module import Module, Seed, generator

_ACTIVATIONS = {"sigmoid": ops.sigmoid, "tanh": ops.tanh, "relu": ops.relu, "linear": lambda z: z}


class Neuron(Module):
    """act(Σᵢ wᵢ·xᵢ + b) on Values; with ``activation="sigmoid"`` (the default), a logistic
    regression. Weights start uniform in ±1/√n_in, from ``seed`` (None: the global generator)."""

    def __init__(self, n_in: int, activation: str = "sigmoid", *, seed: Seed = None):
        if activation not in _ACTIVATIONS:
            raise ValueError(f"Neuron: activation must be one of {sorted(_ACTIVATIONS)}, got {activation!r}")
        rng = generator(seed)
        bound = 1 / np.sqrt(n_in)
        self.w = [Value(float(rng.uniform(-bound, bound))) for _ in range(n_in)]
        self.b = Value(0.0)
        self.activation = activation

    def forward(self, x: Sequence[float | Value]) -> Value:
        if len(x) != len(self.w):
            raise ValueError(f"Neuron: expected {len(self.w)} inputs, got {len(x)}")
        z = self.b
        for wi, xi in zip(self.w, x):
            z = z + wi * xi
        return _ACTIVATIONS[self.activation](z)

    def extra_repr(self) -> str:
        return f"n_in={len(self.w)}, activation={self.activation!r}"


class Layer(Module):
    """``n_out`` neurons reading the same ``n_in`` inputs."""

    def __init__(self, n_in: int, n_out: int, activation: str = "tanh", *, seed: Seed = None):
        rng = generator(seed)
        self.neurons = [Neuron(n_in, activation, seed=rng) for _ in range(n_out)]

    def forward(self, x: Sequence[float | Value]) -> list[Value]:
        return [neuron(x) for neuron in self.neurons]


class MLP(Module):
    """Layers of sizes ``[n_in, hidden..., 1]``: ``activation`` in the hidden layers, then one
    sigmoid neuron (a logistic regression) that returns the probability."""

    def __init__(self, sizes: Sequence[int], activation: str = "tanh", *, seed: Seed = None):
        sizes = list(sizes)
        if len(sizes) < 2 or sizes[-1] != 1:
            raise ValueError(f"MLP: sizes must be [n_in, hidden..., 1], got {sizes}")
        rng = generator(seed)
        self.layers = [Layer(a, b, activation, seed=rng) for a, b in itertools.pairwise(sizes[:-1])]
        self.output = Neuron(sizes[-2], "sigmoid", seed=rng)

    def forward(self, x: Sequence[float | Value]) -> Value:
        for layer in self.layers:
            x = layer(x)
        return self.output(x)
