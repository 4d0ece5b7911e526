"""Module: a container of parameters and sub-modules, as in PyTorch."""

from __future__ import annotations

import functools
from collections.abc import Callable, Iterator, Mapping
from typing import Any

import numpy as np

from ..core.engine import Node, _scope, zero_grad
from ..core.tensor import Tensor
from ..creation import Generator, default_generator


class Module:
    """Base class of layers and models.

    Parameters are the attributes that are Tensors with ``requires_grad`` (or Values, for the
    scalar networks); sub-modules are attributes that are Modules, or lists of them. Both are
    found by looking at the attributes in the order they were set, so a subclass only has to
    assign them in ``__init__`` and define ``forward``.
    """

    def forward(self, *args: Any) -> Any:
        raise NotImplementedError(f"{type(self).__name__} must define forward()")

    def __call__(self, *args: Any) -> Any:
        return _in_scope(self, self.forward, args)

    def named_modules(self, prefix: str = "") -> Iterator[tuple[str, Module]]:
        """This module and every sub-module, with dotted names ("" for this one)."""
        yield prefix.rstrip("."), self
        for key, item in self._attributes():
            if isinstance(item, Module):
                yield from item.named_modules(f"{prefix}{key}.")

    def _attributes(self) -> Iterator[tuple[str, Any]]:
        """Each attribute in the order it was set, a list's items one by one (``layers.0``)."""
        for name, value in vars(self).items():
            if isinstance(value, (list, tuple)):
                yield from ((f"{name}.{i}", item) for i, item in enumerate(value))
            else:
                yield name, value

    def _name_submodules(self) -> None:
        """Name every module call (the boxes of a picture) and label every parameter with its
        path (``linear.weight``), unless the parameter has a label of its own."""
        for name, module in self.named_modules():
            kind = type(module).__name__
            module._scope_name = f"{name}: {kind}" if name else kind
        given = getattr(self, "_path_labels", {})  # the labels an earlier call gave: paths too
        for name, parameter in self.named_parameters():
            if not parameter.label or given.get(id(parameter)) == parameter.label:
                parameter.label = name
                given[id(parameter)] = name
        self._path_labels = given

    def named_parameters(self, prefix: str = "") -> Iterator[tuple[str, Node]]:
        """Every parameter with a dotted name (``"layers.0.weight"``), in definition order; a
        parameter reachable twice (a layer used twice) once, under its first name, as in PyTorch."""
        seen: set[int] = set()
        for name, node in self._all_parameters(prefix):
            if id(node) not in seen:
                seen.add(id(node))
                yield name, node

    def _all_parameters(self, prefix: str) -> Iterator[tuple[str, Node]]:
        for key, item in self._attributes():
            if isinstance(item, Module):
                yield from item._all_parameters(f"{prefix}{key}.")
            elif isinstance(item, Node) and item.requires_grad:
                yield f"{prefix}{key}", item

    def parameters(self) -> list[Node]:
        """Every parameter, in definition order (what an optimiser updates)."""
        return [p for _, p in self.named_parameters()]

    def zero_grad(self) -> None:
        """Forget the gradients of all parameters (before the next backward pass)."""
        zero_grad(self.parameters())

    def state_dict(self) -> dict[str, np.ndarray]:
        """A copy of every parameter's data by name: what ``tg.save`` writes."""
        return {name: np.array(p.data, copy=True) for name, p in self.named_parameters()}

    def load_state_dict(self, state: Mapping[str, Any]) -> None:
        """Set every parameter from ``state`` (as made by ``state_dict`` or ``tg.load``).

        The names and shapes must match exactly and every value must be real numbers; otherwise
        a ValueError lists what is missing, what is unexpected, what has the wrong shape and
        what is not real numbers (strings, complex, objects), and nothing is changed.
        """
        params = dict(self.named_parameters())
        missing = [name for name in params if name not in state]
        unexpected = [name for name in state if name not in params]
        arrays, wrong, not_numbers = {}, [], []
        for name, p in params.items():
            if name not in state:
                continue
            try:
                array = np.asarray(getattr(state[name], "data", state[name]))
            except (ValueError, TypeError):  # ragged nested lists
                not_numbers.append(f"{name} ({type(state[name]).__name__} that is not an array)")
                continue
            if array.dtype.kind not in "biuf":
                not_numbers.append(f"{name} (dtype {array.dtype})")
            elif array.shape != np.shape(p.data):
                wrong.append(f"{name}: file {array.shape}, model {np.shape(p.data)}")
            else:
                arrays[name] = array
        problems = [
            f"{what} {separator.join(names)}"
            for what, separator, names in (
                ("missing", ", ", missing),
                ("unexpected", ", ", unexpected),
                ("wrong shape", "; ", wrong),
                ("not real numbers", ", ", not_numbers),
            )
            if names
        ]
        if problems:
            raise ValueError(
                f"load_state_dict into {type(self).__name__}: "
                + "; ".join(problems)
                + "; nothing was changed"
            )
        for name, p in params.items():  # every value checked first: all or nothing
            if isinstance(p, Tensor):
                p.data = np.array(arrays[name], dtype=p.data.dtype, copy=True)
            else:
                p.data = float(arrays[name])

    def extra_repr(self) -> str:
        """Settings shown in the repr, e.g. ``in_features=2, out_features=1``."""
        return ""

    def __repr__(self) -> str:
        children = [(key, item) for key, item in self._attributes() if isinstance(item, Module)]
        if not children:
            return f"{type(self).__name__}({self.extra_repr()})"
        lines = [f"{type(self).__name__}("]
        for key, child in children:
            body = repr(child).replace("\n", "\n  ")
            lines.append(f"  ({key.rsplit('.', 1)[-1]}): {body}")
        return "\n".join([*lines, ")"])


Seed = int | Generator | np.random.Generator | None
"""What a layer's ``seed=`` takes: None (the global generator, which ``tg.manual_seed`` seeds, as
in PyTorch), an int (a stream of its own), or a generator (to continue its stream)."""


def generator(seed: Seed) -> np.random.Generator:
    """The generator to draw initial weights from: the global one for None, ``seed`` itself if it
    is a generator (so that the layers of one network continue one stream), else a new one
    seeded with it."""
    if seed is None:
        seed = default_generator
    if isinstance(seed, Generator):
        return seed.numpy
    return seed if isinstance(seed, np.random.Generator) else np.random.default_rng(seed)


def scoped(method: Callable) -> Callable:
    """Mark a method other than ``forward`` (such as ``logits``) as a call of its module, so the
    nodes it makes are drawn in the module's box."""

    @functools.wraps(method)
    def wrapper(self: Module, *args: Any) -> Any:
        return _in_scope(self, functools.partial(method, self), args)

    return wrapper


def _in_scope(module: Module, run: Callable, args: tuple) -> Any:
    # Record which module call made each node, for the pictures' module boxes.
    outer = _scope.get()
    if not outer:
        module._name_submodules()
    name = getattr(module, "_scope_name", type(module).__name__)
    if outer and outer[-1] == name:  # forward calling logits: one box, not two
        return run(*args)
    token = _scope.set((*outer, name))
    try:
        return run(*args)
    finally:
        _scope.reset(token)
