"""For users who add ops: numerical gradients (central differences), gradient checking, and
loading the files that define their ops."""

from __future__ import annotations

import importlib
import importlib.util
import os
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import numpy as np

from .core.engine import Node, grad


class GradcheckError(AssertionError):
    """Raised by ``gradcheck`` when an analytic gradient disagrees with the numerical one."""


def numerical_grad(fn: Callable[..., Any], inputs: Node | Sequence[Node], eps: float = 1e-6) -> list[Any]:
    """Central-difference gradient of the scalar ``fn(*inputs)`` with respect to each input.

    (f(x + ε) − f(x − ε)) / 2ε, one element at a time. Returns one float (Value input) or ndarray
    of the input's shape (Tensor input) per input. Inputs are restored afterwards. Use float64
    data: float32 cannot resolve ε = 1e-6.
    """
    inputs = _as_list(inputs)
    results = []
    # The graph stays on: fn may differentiate itself (gradgradcheck).
    for node in inputs:
        base = node.data
        flat = np.array(base, dtype=np.float64).ravel()
        out = np.empty_like(flat)
        try:
            for i, x in enumerate(flat):
                values = []
                for shifted in (x + eps, x - eps):
                    flat[i] = shifted
                    node.data = _like(base, flat)
                    values.append(_scalar(fn(*inputs), "numerical_grad"))
                flat[i] = x
                out[i] = (values[0] - values[1]) / (2 * eps)
        finally:
            node.data = base
        results.append(float(out[0]) if isinstance(base, float) else out.reshape(np.shape(base)))
    return results


def gradcheck(
    fn: Callable[..., Any],
    inputs: Node | Sequence[Node],
    eps: float = 1e-6,
    atol: float = 1e-5,
    rtol: float = 1e-4,
) -> bool:
    """Check backprop's gradient of the scalar ``fn(*inputs)`` against central differences.

    Every element must satisfy ``|analytic − numeric| <= atol + rtol·|numeric|`` (nan never
    passes). Returns True, or raises ``GradcheckError`` naming the input, the element, both
    values and the tolerance.
    """
    inputs = _as_list(inputs)
    output = fn(*inputs)
    if not isinstance(output, Node):
        raise TypeError(f"gradcheck: fn must return a Value or Tensor, got {type(output).__name__}")
    _scalar(output, "gradcheck")
    analytic = grad(output, inputs)
    numeric = numerical_grad(fn, inputs, eps)
    for i, (node, a, n) in enumerate(zip(inputs, analytic, numeric)):
        a, n = np.asarray(a.data, dtype=np.float64), np.asarray(n, dtype=np.float64)
        bad = ~np.isclose(a, n, rtol=rtol, atol=atol, equal_nan=False)
        if bad.any():
            where = tuple(int(k) for k in np.argwhere(bad)[0])
            name = f" ({node.label!r})" if node.label else ""
            at = f", element {where}" if where else ""
            hint = ""
            if getattr(node.data, "dtype", np.float64) != np.float64:
                hint = f"; the input is {node.data.dtype}: check gradients in float64"
            raise GradcheckError(
                f"gradcheck: gradient of input {i}{name}{at} disagrees: analytic "
                f"{a[where]:.10g} vs numeric {n[where]:.10g} (|difference| "
                f"{abs(a[where] - n[where]):.3g} > atol {atol:g} + rtol {rtol:g}·|numeric|); "
                f"{int(bad.sum())} of {bad.size} elements differ{hint}"
            )
    return True


def gradgradcheck(
    fn: Callable[..., Any],
    inputs: Node | Sequence[Node],
    eps: float = 1e-6,
    atol: float = 1e-5,
    rtol: float = 1e-4,
) -> bool:
    """Check second derivatives: each first derivative ∂f/∂xⱼ, computed with
    ``create_graph=True``, is differentiated by backprop and compared with central differences
    (projected on a fixed random direction when xⱼ is not a scalar)."""
    inputs = _as_list(inputs)
    rng = np.random.default_rng(0)
    for j, node in enumerate(inputs):
        direction = None if isinstance(node.data, float) else rng.standard_normal(np.shape(node.data))

        def first_derivative(*xs, j=j, direction=direction):
            (g,) = grad(fn(*xs), xs[j], create_graph=True)
            return g if direction is None else (g * direction.astype(g.dtype)).sum()

        try:
            gradcheck(first_derivative, inputs, eps, atol, rtol)
        except GradcheckError as error:
            raise GradcheckError(f"second derivative through ∂f/∂(input {j}): {error}") from None
    return True


def _as_list(inputs: Node | Sequence[Node]) -> list[Node]:
    inputs = [inputs] if isinstance(inputs, Node) else list(inputs)
    for i, node in enumerate(inputs):
        if not isinstance(node, Node):
            raise TypeError(f"inputs[{i}] is a {type(node).__name__}, not a Value or Tensor")
    return inputs


def _like(base: Any, flat: np.ndarray) -> Any:
    if isinstance(base, float):
        return float(flat[0])
    return flat.reshape(np.shape(base)).astype(base.dtype, copy=True)


def _scalar(out: Any, where: str) -> float:
    data = out.data if isinstance(out, Node) else out
    if np.size(data) != 1:
        raise ValueError(
            f"{where}: fn must return a scalar, got shape {np.shape(data)}; reduce it first, e.g. with .sum()"
        )
    return float(np.asarray(data).reshape(()))


def load_user_ops(spec: str | None = None) -> list[str]:
    """Import the op files or modules named in ``spec`` (default: the ``TINYGRAD_LR_OPS``
    environment variable; separated by commas), so that their Functions register themselves:
    the command line's formulas and the project's registry-wide tests then know them. A relative
    path is read from the current folder. Returns what was loaded (files as absolute paths).
    Raises ImportError, naming the file, when one is missing or fails to import."""
    spec = os.environ.get("TINYGRAD_LR_OPS", "") if spec is None else spec
    loaded = []
    for item in filter(None, (part.strip() for part in spec.split(","))):
        path = Path(item).absolute()
        if path.suffix == ".py" and not path.is_file():
            raise ImportError(
                f"TINYGRAD_LR_OPS: no file {path} (a relative path is read from the current folder)"
            )
        try:
            if path.suffix == ".py":
                module_spec = importlib.util.spec_from_file_location(
                    f"tinygrad_lr_user_ops.{path.stem}", path
                )
                module_spec.loader.exec_module(importlib.util.module_from_spec(module_spec))
                item = str(path)
            else:
                importlib.import_module(item)
        except Exception as error:
            hint = ""
            if isinstance(error, ModuleNotFoundError) and error.name == item:
                hint = " (a module must be installed or on PYTHONPATH; name a file with its .py)"
            raise ImportError(f"TINYGRAD_LR_OPS: {item}: {type(error).__name__}: {error}{hint}") from error
        loaded.append(item)
    return loaded
