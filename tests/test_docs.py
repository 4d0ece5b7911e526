"""The docs: their examples run and print what they say, their pictures come from a script,
the site builds, the reference is complete."""

import doctest
import importlib
import importlib.util
import inspect
import os
import pkgutil
import re
import shlex
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

import tinygrad_lr

from . import inprocess

ROOT = Path(__file__).resolve().parents[1]
FLAGS = doctest.ELLIPSIS | doctest.NORMALIZE_WHITESPACE


DOCS = [ROOT / "README.md", *sorted((ROOT / "docs").glob("*.md"))]


FILE = re.compile(r"```python\n# (\w+)\.py\n(.*?)```", re.S)  # a listing the reader saves as a file


@pytest.mark.parametrize("path", DOCS, ids=lambda p: p.name)
def test_markdown_examples_run(path, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)  # what the examples write lands in a scratch folder, away from the repository
    files = FILE.findall(path.read_text())
    for name, code in files:  # the page's files, saved where the reader runs its examples
        (tmp_path / f"{name}.py").write_text(code)
        monkeypatch.delitem(sys.modules, name, raising=False)
    monkeypatch.syspath_prepend(str(tmp_path))
    result = doctest.testfile(str(path), module_relative=False, optionflags=FLAGS)
    for name, _ in files:
        sys.modules.pop(name, None)
    assert result.failed == 0


TRANSCRIPT = re.compile(r"<!-- the output of: (.*?) -->\n```text\n(.*?)\n```", re.S)


@pytest.mark.parametrize("path", DOCS, ids=lambda p: p.name)
def test_every_transcript_is_what_its_command_prints(path):
    for command, transcript in TRANSCRIPT.findall(path.read_text()):
        program, *args = shlex.split(command)
        assert program == "tinygrad-lr", command
        result = inprocess.run(*args)
        assert result.returncode == 0, (command, result.stderr)
        assert result.stdout.rstrip("\n") == transcript, command


def test_the_readmes_steps_are_an_excerpt_of_the_walk_through():
    readme = (ROOT / "README.md").read_text()
    stepping = (ROOT / "docs" / "stepping.md").read_text()
    excerpts = [
        block for block in re.findall(r"```text\n(.*?)\n```", readme, re.S) if block.startswith("step ")
    ]
    walk_through = TRANSCRIPT.findall(stepping)[0][1]
    assert excerpts and all(block in walk_through for block in excerpts)


def test_the_stepping_page_shows_both_transcripts():
    commands = TRANSCRIPT.findall((ROOT / "docs" / "stepping.md").read_text())
    assert [command for command, _ in commands] == [
        "tinygrad-lr step --all",
        "tinygrad-lr step --lesson --all",
    ]


MODULES = [
    name
    for _, name, _ in pkgutil.walk_packages(tinygrad_lr.__path__, "tinygrad_lr.")
    if name != "tinygrad_lr.__main__"
]


@pytest.mark.parametrize("name", ["tinygrad_lr", *MODULES])
def test_docstring_examples(name):
    result = doctest.testmod(importlib.import_module(name), optionflags=FLAGS)
    assert result.failed == 0


def test_the_docs_pictures_are_made_by_a_script(tmp_path):
    result = subprocess.run(
        [sys.executable, str(ROOT / "docs" / "make_pictures.py"), str(tmp_path)],
        capture_output=True,
        text=True,
    )
    assert result.returncode == 0, result.stderr
    made = {p.name for p in tmp_path.iterdir()}
    committed = {p.name for p in (ROOT / "docs" / "images").iterdir()}
    assert made == committed  # every picture in the docs comes from the script
    for name in made:
        assert (tmp_path / name).read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    before = {p.name: p.stat().st_mtime_ns for p in tmp_path.iterdir()}
    again = subprocess.run(
        [sys.executable, str(ROOT / "docs" / "make_pictures.py"), str(tmp_path)],
        capture_output=True,
        text=True,
    )
    assert again.stdout.strip().endswith("nothing changed")  # deterministic: a rerun rewrites nothing
    assert {p.name: p.stat().st_mtime_ns for p in tmp_path.iterdir()} == before


def test_the_docs_site_builds_strictly(tmp_path):
    command = [sys.executable, "-m", "mkdocs", "build", "--strict", "-q", "-d", str(tmp_path / "site")]
    env = {**os.environ, "NO_MKDOCS_2_WARNING": "1"}
    result = subprocess.run(command, cwd=ROOT, capture_output=True, text=True, env=env)
    assert result.returncode == 0, result.stderr
    assert (tmp_path / "site" / "tutorial" / "index.html").is_file()


def test_the_api_reference_names_every_public_name():
    text = (ROOT / "docs" / "api.md").read_text()
    missing = [name for name in tinygrad_lr.__all__ if f"tg.{name}" not in text]
    assert not missing, f"docs/api.md does not mention {missing}"


def test_code_listings_in_the_docs_are_the_source():

    text = (ROOT / "docs" / "how-it-works.md").read_text()
    listings = re.findall(r"```python\n(.*?)```", text, re.S)
    engine = tinygrad_lr.core.engine
    sources = [tinygrad_lr.core.ops.Mul, engine.consumers, engine.BackwardPass.step]
    for source in sources:
        code = inspect.getsource(source)
        assert any(listing.strip() == code.strip() for listing in listings), f"{source.__qualname__} differs"


def test_the_readmes_comparison_over_seeds_is_what_the_script_measures():
    """The README's line-against-network figures are benchmarks/demo_seeds.py's, recomputed."""
    spec = importlib.util.spec_from_file_location("demo_seeds", ROOT / "benchmarks" / "demo_seeds.py")
    script = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(script)
    text = " ".join((ROOT / "README.md").read_text().split())
    claim = re.search(
        r"over the seeds 0 to (\d+) .*? the straight line has the lower test loss on (\d+) of (\d+) "
        r"\(median ([\d.]+) against the network's ([\d.]+)\), the network on the other (\d+) "
        r"\(seed (\d+): ([\d.]+) against the line's ([\d.]+)\)",
        text,
    )
    assert claim, "README.md no longer states the comparison over seeds"
    last, line_wins, seeds, line_median, net_median, net_wins, seed, net_loss, line_loss = claim.groups()
    assert int(last) + 1 == int(seeds) and int(line_wins) + int(net_wins) == int(seeds)
    scores = [script.run(s) for s in range(int(seeds))]
    line = np.array([s["line"][1] for s in scores])
    net = np.array([s["network"][1] for s in scores])
    assert (line < net).sum() == int(line_wins)
    assert f"{np.median(line):.3f}" == line_median and f"{np.median(net):.3f}" == net_median
    assert f"{net[int(seed)]:.3f}" == net_loss and f"{line[int(seed)]:.3f}" == line_loss
    assert "python benchmarks/demo_seeds.py --seeds 20" in text
