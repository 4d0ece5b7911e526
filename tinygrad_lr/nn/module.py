"""Module: a container of parameters, buffers and sub-modules, as in PyTorch."""

from __future__ import annotations

import functools
from collections.abc import Callable, Iterator, Mapping
from typing import Any, NamedTuple

import numpy as np

from ..core.engine import Node, _scope, zero_grad
from ..core.tensor import Tensor
from ..creation import Generator, default_generator


class IncompatibleKeys(NamedTuple):
    """What ``load_state_dict`` found missing from the state and not in the model (PyTorch's)."""

    missing_keys: list[str]
    unexpected_keys: list[str]

    def __repr__(self) -> str:  # PyTorch's words when everything matched
        if self == ([], []):
            return "<All keys matched successfully>"
        return f"IncompatibleKeys(missing_keys={self.missing_keys}, unexpected_keys={self.unexpected_keys})"


def Parameter(data: Any, requires_grad: bool = True) -> Tensor:
    """A tensor that requires grad (PyTorch's ``nn.Parameter``): assigned to a module's attribute,
    it is a parameter of the module, and stays one when it is frozen later
    (``.requires_grad = False``). ``data`` given as a Tensor is shared, not copied."""
    if not requires_grad:
        raise ValueError(
            "nn.Parameter(..., requires_grad=False): a module takes a tensor as a parameter when it "
            "requires grad as it is assigned; for one that starts frozen use "
            "module.register_parameter(name, tensor), or freeze it after assigning nn.Parameter(data)"
        )
    return Tensor(data, requires_grad=True)


class Module:
    """Base class of layers and models.

    Parameters are the Tensors (or Values, for the scalar networks) that require grad when they
    are assigned to an attribute; they stay parameters when frozen later, as PyTorch's
    ``nn.Parameter`` does. Buffers are tensors registered with ``register_buffer``: saved in the
    state dict, not trained. Sub-modules are attributes that are Modules, or lists of them. All
    are found by looking at the attributes in the order they were set, so a subclass only has to
    assign them in ``__init__`` (no ``super().__init__()`` needed) and define ``forward``.
    """

    training = True  # a class default, so that a subclass needs no __init__ of Module's; see train()

    def forward(self, *args: Any) -> Any:
        raise NotImplementedError(f"{type(self).__name__} must define forward()")

    def __call__(self, *args: Any) -> Any:
        return _in_scope(self, self.forward, args)

    def __setattr__(self, name: str, value: Any) -> None:
        if _requires_grad(value) and name not in self._registered("_buffer_names"):
            self._registered("_parameter_names")[name] = True
        object.__setattr__(self, name, value)

    def _registered(self, kind: str) -> dict[str, bool]:
        """The attribute names registered as parameters, or as buffers (with their persistence)."""
        return self.__dict__.setdefault(kind, {})

    def register_parameter(self, name: str, tensor: Node | None) -> None:
        """Make ``tensor`` the parameter ``name``, whether or not it requires grad (for one that
        starts frozen)."""
        self._register(name, tensor, "parameter", True)

    def register_buffer(self, name: str, tensor: Tensor | None, persistent: bool = True) -> None:
        """Make ``tensor`` the buffer ``name``: a tensor of the module's state that is not trained
        (a running statistic, a constant). Persistent buffers are saved in ``state_dict``; a
        tensor assigned to the name later stays the buffer."""
        self._register(name, tensor, "buffer", persistent)

    def _register(self, name: str, tensor: Any, what: str, persistent: bool) -> None:
        if not isinstance(name, str) or not name or "." in name:
            raise KeyError(f"register_{what}: a name is a non-empty string without a '.', not {name!r}")
        if tensor is not None and not isinstance(tensor, Tensor if what == "buffer" else Node):
            kind = type(tensor).__name__
            raise TypeError(f"register_{what}: {name!r} must be a Tensor or None, not {kind}")
        for registry in ("_parameter_names", "_buffer_names"):
            self._registered(registry).pop(name, None)
        self._registered(f"_{what}_names")[name] = persistent
        object.__setattr__(self, name, tensor)

    # --- walking the module tree ------------------------------------------------------------

    def named_modules(self, prefix: str = "") -> Iterator[tuple[str, Module]]:
        """This module and every sub-module, with dotted names ("" for this one); a module
        reachable twice once, under its first name, as in PyTorch."""
        return self._named_modules(prefix, set())

    def _named_modules(self, prefix: str, seen: set[int]) -> Iterator[tuple[str, Module]]:
        if id(self) in seen:
            return
        seen.add(id(self))
        yield prefix, self
        for key, child in self._children():
            yield from child._named_modules(f"{prefix}.{key}" if prefix else key, seen)

    def modules(self) -> Iterator[Module]:
        """This module and every sub-module."""
        return (module for _, module in self.named_modules())

    def named_children(self) -> Iterator[tuple[str, Module]]:
        """The sub-modules directly below this one, with their names."""
        seen: set[int] = set()
        for key, child in self._children():
            if id(child) not in seen:
                seen.add(id(child))
                yield key, child

    def children(self) -> Iterator[Module]:
        """The sub-modules directly below this one."""
        return (child for _, child in self.named_children())

    def _children(self) -> Iterator[tuple[str, Module]]:
        return ((key, item) for key, item in self._attributes() if isinstance(item, Module))

    def _attributes(self) -> Iterator[tuple[str, Any]]:
        """Each attribute in the order it was set, a list's items one by one (``layers.0``)."""
        for name, value in vars(self).items():
            if isinstance(value, (list, tuple)):
                yield from ((f"{name}.{i}", item) for i, item in enumerate(value))
            else:
                yield name, value

    def train(self, mode: bool = True) -> Module:
        """Set this module and every sub-module to training mode (or, with False, evaluation
        mode: what ``Dropout`` reads); returns the module."""
        if not isinstance(mode, bool):
            raise ValueError(f"train: the training mode is a bool, not {mode!r}")
        for module in self.modules():
            module.training = mode
        return self

    def eval(self) -> Module:
        """Set evaluation mode, ``train(False)``; returns the module."""
        return self.train(False)

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

    # --- parameters and buffers -------------------------------------------------------------

    def named_parameters(self, prefix: str = "") -> Iterator[tuple[str, Node]]:
        """Every parameter with a dotted name (``"layers.0.weight"``), frozen ones included, in
        PyTorch's order (a module's own, then its sub-modules' in definition order); a parameter
        reachable twice (a layer used twice) once, under its first name, as in PyTorch."""
        return _once(self._walk(prefix, ("parameter",)))

    def parameters(self) -> list[Node]:
        """Every parameter, in the order of ``named_parameters`` (what an optimiser updates)."""
        return [p for _, p in self.named_parameters()]

    def named_buffers(self, prefix: str = "") -> Iterator[tuple[str, Tensor]]:
        """Every buffer (``register_buffer``) with a dotted name, persistent or not."""
        return _once(self._walk(prefix, ("buffer", "scratch")))

    def buffers(self) -> list[Tensor]:
        """Every buffer, in the order of ``named_buffers``."""
        return [b for _, b in self.named_buffers()]

    def _walk(self, prefix: str, kinds: tuple[str, ...]) -> Iterator[tuple[str, Node]]:
        """This module's tensors of ``kinds``, parameters before buffers, then its sub-modules'."""
        parameters, buffers = self._registered("_parameter_names"), self._registered("_buffer_names")
        own = []
        for key, item in self._attributes():
            name = key.split(".", 1)[0]
            if not isinstance(item, Node):
                continue
            if name in buffers:
                own.append(("buffer" if buffers[name] else "scratch", key, item))
            elif name in parameters or item.requires_grad:
                own.append(("parameter", key, item))
        own.sort(key=lambda entry: entry[0] != "parameter")  # stable: definition order otherwise
        yield from ((f"{prefix}{key}", item) for kind, key, item in own if kind in kinds)
        for key, child in self._children():
            yield from child._walk(f"{prefix}{key}.", kinds)

    def zero_grad(self) -> None:
        """Forget the gradients of all parameters (before the next backward pass)."""
        zero_grad(self.parameters())

    def state_dict(self) -> dict[str, np.ndarray]:
        """A copy of every parameter's and persistent buffer's data by name: what ``tg.save``
        writes."""
        return {name: np.array(t.data, copy=True) for name, t in self._state()}

    def _state(self) -> Iterator[tuple[str, Node]]:
        return _once(self._walk("", ("parameter", "buffer")))

    def load_state_dict(self, state: Mapping[str, Any], strict: bool = True) -> IncompatibleKeys:
        """Set every parameter and persistent buffer from ``state`` (as made by ``state_dict`` or
        ``tg.load``); returns the missing and unexpected keys (PyTorch's ``IncompatibleKeys``).

        With ``strict`` the names must match exactly; always, the shapes must match and every
        value must be real numbers. Otherwise a ValueError lists what is missing, what is
        unexpected, what has the wrong shape (a transposed one, say a PyTorch ``Linear.weight``,
        named as such) and what is not real numbers (strings, complex, objects), and nothing is
        changed. With ``strict=False`` the entries that match are set and the others reported.
        """
        params = dict(self._state())
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
            shape = np.shape(p.data)
            if array.dtype.kind not in "biuf":
                not_numbers.append(f"{name} (dtype {array.dtype})")
            elif array.shape != shape:
                transposed = array.ndim == 2 and array.shape == shape[::-1]
                wrong.append(f"{name}: file {array.shape}, model {shape}{_TRANSPOSED if transposed else ''}")
            else:
                arrays[name] = array
        problems = [
            f"{what} {separator.join(names)}"
            for what, separator, names in (
                ("missing", ", ", missing if strict else []),
                ("unexpected", ", ", unexpected if strict else []),
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
        for name, array in arrays.items():  # every value checked first: all or nothing
            p = params[name]
            if isinstance(p, Tensor):
                p.data = np.array(array, dtype=p.data.dtype, copy=True)
            else:
                p.data = float(array)
        return IncompatibleKeys(missing, unexpected)

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


_TRANSPOSED = (
    " (the transpose: PyTorch's nn.Linear stores weight as (out_features, in_features), where "
    'tg.nn.Linear stores (in_features, out_features) unless built with layout="out_in")'
)


def _requires_grad(value: Any) -> bool:
    """Whether ``value`` is a node that requires grad, or a list holding one (a scalar neuron's
    weights)."""
    if isinstance(value, (list, tuple)):
        return any(_requires_grad(item) for item in value)
    return isinstance(value, Node) and value.requires_grad


def _once(named: Iterator[tuple[str, Node]]) -> Iterator[tuple[str, Node]]:
    """Each node once, under its first name."""
    seen: set[int] = set()
    for name, node in named:
        if id(node) not in seen:
            seen.add(id(node))
            yield name, node


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
