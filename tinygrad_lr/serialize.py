"""Saving and loading parameters as ``.npz``: plain arrays by name, never pickle."""

from __future__ import annotations

import os
import tempfile
import zipfile
from pathlib import Path
from typing import Any

import numpy as np


def save(module_or_state: Any, path: str | Path) -> Path:
    """Write a module's parameters (or a ``{name: array}`` dict) to ``path`` as ``.npz``.

    The file is written next to its destination and renamed over it only when complete, so an
    interrupted save never leaves a broken file in place of a good one. Returns the path.
    """
    state = module_or_state.state_dict() if hasattr(module_or_state, "state_dict") else module_or_state
    if not isinstance(state, dict):
        raise TypeError(f"save: expected a Module or a dict of arrays, got {type(module_or_state).__name__}")
    arrays = {}
    for name, value in state.items():
        array = np.asarray(getattr(value, "data", value))
        if not isinstance(name, str) or array.dtype.kind not in "biuf":
            raise TypeError(f"save: {name!r} is not a named numeric array ({array.dtype})")
        arrays[name] = array
    path = Path(path)
    if path.suffix != ".npz":
        raise ValueError(f"save: the file name must end in .npz, got {path.name!r}")
    path.parent.mkdir(parents=True, exist_ok=True)
    handle, temporary = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".part")
    try:
        with os.fdopen(handle, "wb") as file:
            np.savez(file, **arrays)
            file.flush()
            os.fsync(file.fileno())
        umask = os.umask(0)
        os.umask(umask)
        os.chmod(temporary, 0o666 & ~umask)  # mkstemp makes it private; a saved model is not
        os.replace(temporary, path)
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise
    return path


def load(path: str | Path) -> dict[str, np.ndarray]:
    """Read a file written by ``save``: a ``{name: array}`` dict for ``load_state_dict``.

    Never unpickles: a file holding Python objects is refused, as is anything that is not a
    valid ``.npz``, with an error that says so.
    """
    path = Path(path)
    if not path.is_file():
        raise FileNotFoundError(f"load: no file at {path}")
    with path.open("rb") as file:  # our own handle: numpy leaks its own when a zip is broken
        if file.read(4) != b"PK\x03\x04":  # an .npz is a zip archive
            raise ValueError(f"load: {path} is not a valid .npz file (it is not a zip archive)")
        file.seek(0)
        try:
            with np.load(file, allow_pickle=False) as archive:
                return {name: archive[name] for name in archive.files}
        except ValueError as error:
            if "allow_pickle" in str(error):
                raise ValueError(f"load: {path} holds pickled Python objects; refusing to unpickle") from None
            raise ValueError(f"load: {path} is not a valid .npz file of arrays ({error})") from None
        except (zipfile.BadZipFile, OSError, EOFError) as error:
            raise ValueError(f"load: {path} is not a valid .npz file ({error})") from None
