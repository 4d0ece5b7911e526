"""Saving and loading parameters as ``.npz``: plain arrays by name, never pickle.

An ``.npz`` is a zip archive with one ``.npy`` member per array. The member of key ``k`` is
named exactly ``k + ".npy"`` and ``load`` strips exactly one ``.npy``, so every key comes back as
it was given: ``"w"`` is the member ``w.npy`` and ``"w.npy"`` the member ``w.npy.npy``. That is
also how ``np.savez`` names its members, so its files load here and ``np.load`` reads ours
(``np.load(path)[k + ".npy"]`` is exact even when another key is ``k + ".npy"``).

A nested dict, such as ``{"model": model.state_dict(), "optimizer": optimizer.state_dict(),
"epoch": 3}`` (what PyTorch users pass to ``torch.save``), is kept as its arrays, each under its
path (``optimizer/state/0/exp_avg``), and one more member, of the empty key (which a flat dict
cannot have): its structure as JSON text in bytes, which holds the dicts, lists, tuples and plain
values (numbers, True/False, None, strings) and names each array's member. Still no pickle.
"""

from __future__ import annotations

import json
import math
import numbers
import os
import stat
import tempfile
import tokenize
import zipfile
import zlib
from collections import Counter
from pathlib import Path
from typing import Any, BinaryIO

import numpy as np
from numpy.lib import format as npy_format

MAX_BYTES = 256 * 2**20
"""Default for ``load(path, max_bytes=...)``: the most a file may expand to in memory.

The models of this project take kilobytes (the demo's network about 4 KB); 256 MiB is 33 million
float64 parameters, far past anything it trains, and a small part of any machine's memory. A
forged file (a zip bomb, a header declaring a huge shape) is refused before it costs more.
"""

_ZIP_NAME_LIMIT = 0xFFFF  # bytes: the zip format stores a name's length in 16 bits
_ENCRYPTED = 0x1  # zip flag bit: the member is encrypted
_RAISE_THE_LIMIT = "if you trust this file, pass a larger max_bytes to load"
_ZIP_ERRORS = (zipfile.BadZipFile, zlib.error, EOFError, OSError, NotImplementedError)


def save(module_or_state: Any, path: str | Path) -> Path:
    """Write a module's parameters (or a ``{name: array}`` dict) to ``path`` as ``.npz``.

    A dict that holds dicts, lists or tuples (a checkpoint with an optimiser's ``state_dict``) is
    written with its structure (see the module's docstring); ``load`` gives it back as it was,
    numbers as numbers and arrays as numpy arrays.

    Any key is kept but one a zip archive cannot hold faithfully (empty, or with a NUL byte or a
    backslash). The file is written next to its destination and renamed over it only when
    complete, so an interrupted save never leaves a broken file in place of a good one. Written
    with ``zipfile`` rather than ``np.savez``, which cannot take the keys ``file`` or
    ``allow_pickle`` and dates each member: here the same state gives the same bytes. Returns the path.
    """
    state = module_or_state.state_dict() if hasattr(module_or_state, "state_dict") else module_or_state
    if not isinstance(state, dict):
        raise TypeError(f"save: expected a Module or a dict of arrays, got {type(module_or_state).__name__}")
    arrays: dict[str, np.ndarray] = {}
    if any(isinstance(value, (dict, list, tuple)) for value in state.values()):
        tree = json.dumps(_tree(state, (), arrays))
        arrays[""] = np.frombuffer(tree.encode("utf-8"), dtype=np.uint8)
    else:
        for name, value in state.items():
            _add_array(arrays, name, value)
    path = Path(path)
    if path.suffix != ".npz":
        raise ValueError(f"save: the file name must end in .npz, got {path.name!r}")
    path.parent.mkdir(parents=True, exist_ok=True)
    handle, temporary = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".part")
    try:
        with os.fdopen(handle, "wb") as file:
            with zipfile.ZipFile(file, "w", zipfile.ZIP_STORED, allowZip64=True) as archive:
                for name, array in arrays.items():
                    member = zipfile.ZipInfo(name + ".npy")  # dated 1980: the same state, the same bytes
                    member.external_attr = 0o644 << 16
                    with archive.open(member, "w", force_zip64=True) as stream:
                        npy_format.write_array(stream, array, allow_pickle=False)
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


def load(path: str | Path, *, max_bytes: int = MAX_BYTES) -> dict[str, Any]:
    """Read a file written by ``save`` (or ``np.savez``): a ``{name: array}`` dict for
    ``load_state_dict``, or the nested dict that was saved (a checkpoint), as it was.

    The file must be a regular file holding only ``.npy`` members of numeric arrays; anything
    else is refused with a ValueError that says what (a directory: IsADirectoryError; no file:
    FileNotFoundError). Never unpickles. Before anything is decompressed or allocated, ``load``
    checks that the archive expands to at most ``max_bytes`` (its members' sizes, ``.npy``
    headers included) and that no array's declared shape needs more or is one numpy cannot make:
    raise ``max_bytes`` to read a larger file you trust. Only then does ``np.load`` read the arrays.
    """
    if isinstance(max_bytes, bool) or not isinstance(max_bytes, numbers.Integral):
        raise TypeError(f"load: max_bytes must be a whole number of bytes, got {max_bytes!r}")
    if max_bytes < 0:
        raise ValueError(f"load: max_bytes must be a whole number of bytes, 0 or more; got {max_bytes}")
    path = Path(path)
    with _open_regular_file(path) as file:
        if file.read(4) not in (b"PK\x03\x04", b"PK\x05\x06"):  # np.load would read a bare .npy too
            raise _invalid(path, "it is not a zip archive")
        try:
            with zipfile.ZipFile(file) as archive:
                expanded = sum(member.file_size for member in archive.infolist())
                if expanded > max_bytes:
                    raise ValueError(
                        f"load: {path} expands to {_size(expanded)}, more than the limit of "
                        f"{_size(max_bytes)}; {_RAISE_THE_LIMIT}"
                    )
                keys = [_checked_key(archive, member, path, max_bytes) for member in archive.infolist()]
            if twice := [key for key, count in Counter(keys).items() if count > 1]:
                raise ValueError(f"load: {path} holds two arrays named {twice[0]!r}; the file is damaged")
            file.seek(0)
            arrays = {}
            with np.load(file, allow_pickle=False) as npz:
                for key in keys:
                    try:
                        arrays[key] = npz[key + ".npy"]
                    except ValueError as error:  # a compressed member ending before its declared size
                        raise _invalid(path, f"{key!r}: {error}") from None
            return _rebuild(arrays, path) if "" in arrays else arrays
        except _ZIP_ERRORS as error:
            raise _invalid(path, str(error)) from None


def _add_array(arrays: dict[str, np.ndarray], name: Any, value: Any) -> None:
    array = np.asarray(getattr(value, "data", value))
    if not isinstance(name, str) or array.dtype.kind not in "biuf":
        raise TypeError(f"save: {name!r} is not a named numeric array ({array.dtype})")
    _check_key(name)
    arrays[name] = array


def _tree(value: Any, where: tuple, arrays: dict[str, np.ndarray]) -> Any:
    """``value`` as JSON: plain values as they are, containers as ``{"dict": [[key, item], ...]}``,
    ``{"list": [...]}`` or ``{"tuple": [...]}``, an array as ``{"array": its member's key}``."""
    if isinstance(value, np.generic):
        value = value.item()
    if value is None or isinstance(value, (bool, int, float, str)):
        return value
    if isinstance(value, dict):
        for key in value:
            if isinstance(key, bool) or not isinstance(key, (str, int)):
                raise TypeError(f"save: the key {key!r} at {'/'.join(map(str, where)) or 'the top'} "
                                "is not a string or an int")  # fmt: skip
        return {"dict": [[key, _tree(item, (*where, key), arrays)] for key, item in value.items()]}
    if isinstance(value, (list, tuple)):
        items = [_tree(item, (*where, i), arrays) for i, item in enumerate(value)]
        return {type(value).__name__: items}
    key = "/".join(map(str, where))
    while key in arrays or not key:  # a key holding "/" could name another path's member
        key += "~"
    _add_array(arrays, key, value)
    return {"array": key}


def _rebuild(arrays: dict[str, np.ndarray], path: Path) -> dict[str, Any]:
    """The nested dict that ``save`` wrote, from its arrays and its structure (the member of key "")."""
    text, used = arrays.pop(""), set()

    def build(node: Any) -> Any:
        if node is None or isinstance(node, (bool, int, float, str)):
            return node
        kind, content = (
            next(iter(node.items())) if isinstance(node, dict) and len(node) == 1 else (None, None)
        )
        if kind == "array" and isinstance(content, str) and content in arrays and content not in used:
            used.add(content)
            return arrays[content]
        if kind in ("list", "tuple") and isinstance(content, list):
            items = [build(item) for item in content]
            return items if kind == "list" else tuple(items)
        if kind == "dict" and isinstance(content, list):
            pairs = [pair for pair in content if isinstance(pair, list) and len(pair) == 2]
            keys = [key for key, _ in pairs if isinstance(key, (str, int)) and not isinstance(key, bool)]
            if len(keys) == len(content) == len(set(keys)):
                return {key: build(item) for key, item in pairs}
        raise _invalid(path, f"its structure holds {str(node)[:60]!r}, which save does not write")

    if text.dtype != np.uint8 or text.ndim != 1:
        raise _invalid(path, f"its structure (the member '.npy') is {text.dtype} {text.shape}, not bytes")
    try:
        tree = json.loads(text.tobytes().decode("utf-8"))
    except (UnicodeDecodeError, ValueError, RecursionError) as error:
        raise _invalid(path, f"its structure (the member '.npy') is not readable JSON: {error}") from None
    try:
        state = build(tree)
    except RecursionError:
        raise _invalid(path, "its structure is nested too deeply") from None
    if not isinstance(state, dict):
        raise _invalid(path, f"its structure is a {type(state).__name__}, not a dict")
    if unused := sorted(set(arrays) - used):
        raise _invalid(path, f"its structure does not name the array {unused[0]!r}")
    return state


def _check_key(name: str) -> None:
    """Refuse a key that a zip archive would not give back exactly as it is."""
    if not name:
        raise ValueError("save: a key is empty; give every array a name")
    for character, why in (("\x00", "a NUL byte, which ends a name in a zip"), ("\\", "a backslash")):
        if character in name:
            raise ValueError(
                f"save: the key {name!r} holds {why}; zip archives cannot keep it, rename the key"
            )
    try:
        encoded = (name + ".npy").encode("utf-8")
    except UnicodeEncodeError:
        raise ValueError(f"save: the key {name!r} is not valid Unicode text; rename the key") from None
    if len(encoded) > _ZIP_NAME_LIMIT:
        raise ValueError(
            f"save: a key of {len(encoded):,} bytes in UTF-8 ({name[:20]!r}...) is longer than a zip "
            f"archive holds ({_ZIP_NAME_LIMIT:,} bytes with its .npy); shorten it"
        )


def _open_regular_file(path: Path) -> BinaryIO:
    """Open ``path`` for reading if it is a regular file, without ever waiting on a FIFO or device."""
    try:
        _refuse_unless_regular(path, os.stat(path).st_mode)
    except (FileNotFoundError, NotADirectoryError):
        raise FileNotFoundError(f"load: no file at {path}") from None
    # NOTE: O_NONBLOCK so that a path replaced by a FIFO since the stat cannot block the open.
    descriptor = os.open(path, os.O_RDONLY | getattr(os, "O_NONBLOCK", 0) | getattr(os, "O_BINARY", 0))
    file = os.fdopen(descriptor, "rb")
    try:
        _refuse_unless_regular(path, os.fstat(descriptor).st_mode)
    except BaseException:
        file.close()
        raise
    return file


def _refuse_unless_regular(path: Path, mode: int) -> None:
    if stat.S_ISREG(mode):
        return
    if stat.S_ISDIR(mode):
        raise IsADirectoryError(f"load: {path} is a directory; give the path of an .npz file")
    kinds = [
        (stat.S_ISFIFO, "a FIFO"),
        (stat.S_ISCHR, "a character device"),
        (stat.S_ISBLK, "a block device"),
        (stat.S_ISSOCK, "a socket"),
    ]
    kind = next((name for test, name in kinds if test(mode)), "of an unknown kind")
    raise ValueError(f"load: {path} is not a regular file ({kind}); give the path of an .npz file")


def _checked_key(archive: zipfile.ZipFile, member: zipfile.ZipInfo, path: Path, max_bytes: int) -> str:
    """The key of one ``.npy`` member, once its header is read and checked; its data is not read."""
    name = member.filename
    if not name.endswith(".npy"):
        raise ValueError(
            f"load: {path} holds {name!r}, which is not a .npy array; "
            "an .npz written by tg.save or np.savez holds only .npy members"
        )
    key = name[: -len(".npy")]
    if member.flag_bits & _ENCRYPTED:
        raise ValueError(f"load: {path} holds {key!r} encrypted; save it again without a password")
    with archive.open(member) as stream:
        try:
            version = npy_format.read_magic(stream)
            if version == (1, 0):
                shape, _, dtype = npy_format.read_array_header_1_0(stream)
            elif version == (2, 0):
                shape, _, dtype = npy_format.read_array_header_2_0(stream)
            else:
                raise ValueError(f"its .npy format version {version[0]}.{version[1]} is not 1.0 or 2.0")
        except ValueError as error:
            raise _invalid(path, f"{key!r}: {error}") from None
        # numpy parses the header with Python's tokenizer, literal_eval and its dtype parser,
        # which raise their own errors on forged text
        except (SyntaxError, tokenize.TokenError, RecursionError) as error:
            raise _invalid(path, f"{key!r}: numpy cannot parse its .npy header ({error!r})") from None
        stored = member.file_size - stream.tell()
    if dtype.hasobject:
        raise ValueError(f"load: {path} holds pickled Python objects in {key!r}; refusing to unpickle")
    if dtype.kind not in "biuf":
        raise ValueError(f"load: {path} holds {key!r} of dtype {dtype}; load reads only numeric arrays")
    try:  # a view of no data: numpy checks the shape (lengths, axes, size) and allocates nothing
        np.lib.stride_tricks.as_strided(np.empty(0, dtype), shape, strides=(0,) * len(shape))
    except (TypeError, ValueError, OverflowError) as error:
        raise _invalid(
            path, f"{key!r} declares the shape {shape}, which numpy cannot make: {error}"
        ) from None
    nbytes = math.prod(shape) * dtype.itemsize
    if nbytes > max_bytes:
        raise ValueError(
            f"load: {path} declares {key!r} of shape {shape} and dtype {dtype}: {_size(nbytes)}, more "
            f"than the limit of {_size(max_bytes)}; {_RAISE_THE_LIMIT}"
        )
    if stored != nbytes:
        raise _invalid(
            path,
            f"{key!r} of shape {shape} and dtype {dtype} needs {nbytes:,} bytes of data "
            f"and the archive holds {stored:,}",
        )
    return key


def _invalid(path: Path, why: str) -> ValueError:
    return ValueError(f"load: {path} is not a valid .npz file ({why})")


def _size(nbytes: int) -> str:
    """``268435456`` -> ``'256 MiB'``: a byte count for a message."""
    for unit, scale in (("TiB", 2**40), ("GiB", 2**30), ("MiB", 2**20), ("KiB", 2**10)):
        if nbytes >= scale:
            return f"{nbytes / scale:.3g} {unit}"
    return f"{nbytes} bytes"
