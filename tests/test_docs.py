"""The examples in the README and in docstrings run, and print what they say."""

import doctest
import importlib
import pkgutil
from pathlib import Path

import pytest

import tinygrad_lr

ROOT = Path(__file__).resolve().parents[1]
FLAGS = doctest.ELLIPSIS | doctest.NORMALIZE_WHITESPACE


def test_readme_examples():
    result = doctest.testfile(str(ROOT / "README.md"), module_relative=False, optionflags=FLAGS)
    assert result.attempted > 0 and result.failed == 0


MODULES = [
    name
    for _, name, _ in pkgutil.walk_packages(tinygrad_lr.__path__, "tinygrad_lr.")
    if name != "tinygrad_lr.__main__"
]


@pytest.mark.parametrize("name", ["tinygrad_lr", *MODULES])
def test_docstring_examples(name):
    result = doctest.testmod(importlib.import_module(name), optionflags=FLAGS)
    assert result.failed == 0
