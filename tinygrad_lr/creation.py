"""Making tensors as PyTorch users do: ``tensor zeros ones full arange eye zeros_like ones_like
rand randn randperm``, each with ``dtype=`` and ``requires_grad=``, and a seedable random
generator (``manual_seed``, ``Generator``, ``generator=``).

The default dtype is float64, as for ``Tensor(...)`` (PyTorch's is float32). Where PyTorch
infers an integer or boolean dtype from the arguments (``arange(5)``, ``full(shape, 7)``), so
does this module, and such tensors cannot require grad.
"""

from __future__ import annotations

import math
import numbers
from collections.abc import Sequence
from fractions import Fraction
from typing import Any

import numpy as np

from .core.tensor import Tensor, as_dtype, check_fits, converted


class Generator:
    """A seedable source of random numbers (PyTorch's ``torch.Generator``), on numpy's PCG64.

    ``Generator().manual_seed(0)`` and ``tg.manual_seed(0)`` start a reproducible stream: the
    same seed gives the same numbers from ``rand``, ``randn`` and ``randperm``.
    """

    def __init__(self, seed: int | None = None):
        self.manual_seed(np.random.SeedSequence().entropy if seed is None else seed)

    def manual_seed(self, seed: int) -> Generator:
        """Restart the stream from ``seed`` (a non-negative whole number); returns the generator."""
        if isinstance(seed, bool) or not isinstance(seed, numbers.Integral) or seed < 0:
            raise ValueError(f"manual_seed: a seed is a non-negative whole number, not {seed!r}")
        self._seed = int(seed)
        self.numpy = np.random.default_rng(self._seed)
        return self

    def initial_seed(self) -> int:
        """The seed the current stream started from."""
        return self._seed

    def __repr__(self) -> str:
        return f"Generator(seed={self._seed})"


default_generator = Generator()
"""The generator ``rand``, ``randn`` and ``randperm`` use when given none (``tg.manual_seed``
reseeds it)."""


def manual_seed(seed: int) -> Generator:
    """Reseed the default generator, so that what ``rand``/``randn``/``randperm`` draw next is
    reproducible."""
    return default_generator.manual_seed(seed)


def tensor(data: Any, *, dtype: Any = None, requires_grad: bool = False) -> Tensor:
    """A new tensor holding a copy of ``data`` (PyTorch's ``torch.tensor``). Without ``dtype`` the
    data's own, as PyTorch infers it: Python integers give int64, booleans bool, floats float64
    (PyTorch's default float is float32); an ndarray or a Tensor keeps its dtype (a Tensor is
    copied without its graph)."""
    array = converted(data, None if dtype is None else as_dtype(dtype, "tensor"), "tensor")
    return _made(array.copy(), requires_grad)


def zeros(*size: int | Sequence[int], dtype: Any = None, requires_grad: bool = False) -> Tensor:
    """A tensor of zeros: ``zeros(2, 3)`` or ``zeros((2, 3))``."""
    return _filled("zeros", size, 0, dtype, requires_grad)


def ones(*size: int | Sequence[int], dtype: Any = None, requires_grad: bool = False) -> Tensor:
    """A tensor of ones: ``ones(2, 3)`` or ``ones((2, 3))``."""
    return _filled("ones", size, 1, dtype, requires_grad)


def full(
    size: int | Sequence[int], fill_value: float, *, dtype: Any = None, requires_grad: bool = False
) -> Tensor:
    """A tensor of ``size`` filled with ``fill_value``. Without ``dtype``, as PyTorch: a bool
    gives bool, an int int64, a float float64."""
    if isinstance(fill_value, (Tensor, np.ndarray)) or not isinstance(fill_value, (numbers.Real, np.bool_)):
        raise TypeError(f"full: fill_value must be a number, not {type(fill_value).__name__}")
    if dtype is None:
        is_bool = isinstance(fill_value, (bool, np.bool_))
        is_int = isinstance(fill_value, numbers.Integral)
        dtype = np.bool_ if is_bool else np.int64 if is_int else np.float64
    return _filled("full", (size,), fill_value, dtype, requires_grad)


def arange(
    start: float,
    end: float | None = None,
    step: float = 1,
    *,
    dtype: Any = None,
    requires_grad: bool = False,
) -> Tensor:
    """Numbers from ``start`` (inclusive) to ``end`` (exclusive) by ``step``; ``arange(n)``
    counts from 0. Without ``dtype``, as PyTorch: int64 if all arguments are whole numbers, else
    float64. A step of 0, or one pointing away from ``end``, is an error (as PyTorch)."""
    if end is None:
        start, end = 0, start
    for name, number in (("start", start), ("end", end), ("step", step)):
        if isinstance(number, bool) or not isinstance(number, numbers.Real) or not np.isfinite(number):
            raise TypeError(f"arange: {name} must be a finite number, not {number!r}")
    if step == 0:
        raise ValueError("arange: step must not be 0")
    if (end - start) * step < 0:
        raise ValueError(
            f"arange: step {step!r} goes away from end {end!r} starting at {start!r}; "
            "use a step of the other sign"
        )
    if dtype is None:
        whole = all(isinstance(n, numbers.Integral) for n in (start, end, step))
        dtype = np.int64 if whole else np.float64
    dtype = as_dtype(dtype, "arange")
    if dtype.kind in "iu":  # numpy would wrap a number out of range: check the first and the last
        first, stop, by = (
            int(n) if isinstance(n, numbers.Integral) else Fraction(float(n)) for n in (start, end, step)
        )
        last = first + max(math.ceil((stop - first) / by) - 1, 0) * by
        low, high = (n if isinstance(n, int) else float(n) for n in sorted((first, last)))
        check_fits(low, high, dtype, "arange")
    return _made(np.arange(start, end, step, dtype=dtype), requires_grad)


def eye(n: int, m: int | None = None, *, dtype: Any = None, requires_grad: bool = False) -> Tensor:
    """The ``n`` x ``m`` identity matrix (``m`` defaults to ``n``)."""
    rows, columns = _size((n, n if m is None else m), "eye")
    return _made(np.eye(rows, columns, dtype=_dtype(dtype, "eye")), requires_grad)


def zeros_like(t: Any, *, dtype: Any = None, requires_grad: bool = False) -> Tensor:
    """Zeros of ``t``'s shape and (unless ``dtype`` is given) its dtype."""
    return _filled_like("zeros_like", t, 0, dtype, requires_grad)


def ones_like(t: Any, *, dtype: Any = None, requires_grad: bool = False) -> Tensor:
    """Ones of ``t``'s shape and (unless ``dtype`` is given) its dtype."""
    return _filled_like("ones_like", t, 1, dtype, requires_grad)


def rand(
    *size: int | Sequence[int],
    generator: Generator | np.random.Generator | None = None,
    dtype: Any = None,
    requires_grad: bool = False,
) -> Tensor:
    """Uniform random numbers in [0, 1), from ``generator`` (default: the one ``manual_seed``
    seeds)."""
    drawn = _drawn("rand", np.random.Generator.random, size, generator, dtype)
    if drawn.dtype == np.float16:  # NOTE: float32 numbers just below 1 round up to 1 in float16
        np.minimum(drawn, np.nextafter(np.float16(1), np.float16(0)), out=drawn)
    return _made(drawn, requires_grad)


def randn(
    *size: int | Sequence[int],
    generator: Generator | np.random.Generator | None = None,
    dtype: Any = None,
    requires_grad: bool = False,
) -> Tensor:
    """Standard normal random numbers (mean 0, variance 1), from ``generator`` (default: the one
    ``manual_seed`` seeds)."""
    drawn = _drawn("randn", np.random.Generator.standard_normal, size, generator, dtype)
    return _made(drawn, requires_grad)


def randperm(
    n: int,
    *,
    generator: Generator | np.random.Generator | None = None,
    dtype: Any = None,
    requires_grad: bool = False,
) -> Tensor:
    """The whole numbers 0 to ``n`` − 1 in random order, int64 unless ``dtype`` says otherwise
    (``X[tg.randperm(len(X))]`` shuffles rows), from ``generator`` (default: the one
    ``manual_seed`` seeds)."""
    (n,) = _size((n,), "randperm")
    drawn = _numpy_generator(generator, "randperm").permutation(n)
    return _made(
        converted(drawn, np.dtype(np.int64) if dtype is None else as_dtype(dtype, "randperm")), requires_grad
    )


# --- helpers ------------------------------------------------------------------------------------


def _made(array: np.ndarray, requires_grad: bool) -> Tensor:
    return Tensor(array, requires_grad=requires_grad, dtype=array.dtype)


def _dtype(dtype: Any, where: str) -> np.dtype:
    return np.dtype(np.float64) if dtype is None else as_dtype(dtype, where)


def _filled(where: str, size: tuple, fill: Any, dtype: Any, requires_grad: bool) -> Tensor:
    return _made(np.full(_size(size, where), converted(fill, _dtype(dtype, where), where)), requires_grad)


def _filled_like(where: str, t: Any, fill: Any, dtype: Any, requires_grad: bool) -> Tensor:
    if not isinstance(t, (Tensor, np.ndarray)):
        raise TypeError(f"{where}: expected a Tensor or an ndarray, got {type(t).__name__}")
    array = t.data if isinstance(t, Tensor) else t
    return _filled(where, array.shape, fill, array.dtype if dtype is None else dtype, requires_grad)


def _size(size: tuple, where: str) -> tuple[int, ...]:
    """``(2, 3)`` from ``(2, 3)`` or ``((2, 3),)``: sizes as PyTorch takes them."""
    if len(size) == 1 and not isinstance(size[0], numbers.Integral):
        size = size[0]
        if isinstance(size, (str, bytes)) or not isinstance(size, Sequence | np.ndarray):
            raise TypeError(f"{where}: a size is whole numbers or a tuple of them, not {size!r}")
    for n in size:
        if isinstance(n, bool) or not isinstance(n, numbers.Integral):
            raise TypeError(
                f"{where}: a size is whole numbers or a tuple of them, got {n!r} in {tuple(size)}"
            )
        if n < 0:
            raise ValueError(f"{where}: sizes cannot be negative, got {tuple(size)}")
    return tuple(int(n) for n in size)


def _drawn(where: str, draw: Any, size: tuple, generator: Any, dtype: Any) -> np.ndarray:
    """``draw(generator, shape)`` as an array of the floating-point ``dtype``."""
    shape, dtype = _size(size, where), _dtype(dtype, where)
    if dtype.kind != "f":
        raise TypeError(
            f"{where}: draws floating-point numbers; dtype {dtype} is not one (use float32 or float64)"
        )
    generator = _numpy_generator(generator, where)
    if dtype == np.float16:  # numpy draws float32 and float64 only
        return draw(generator, shape, dtype=np.float32).astype(dtype)
    return draw(generator, shape, dtype=dtype)


def _numpy_generator(generator: Any, where: str) -> np.random.Generator:
    """The numpy generator behind ``generator`` (None: the default generator)."""
    if generator is None:
        generator = default_generator
    if isinstance(generator, Generator):
        generator = generator.numpy
    if not isinstance(generator, np.random.Generator):
        raise TypeError(
            f"{where}: generator must be a tg.Generator or a numpy Generator, not {type(generator).__name__}"
        )
    return generator
