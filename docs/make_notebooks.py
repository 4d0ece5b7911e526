"""Make the docs' notebooks from their pages, so that a notebook never says something its page
does not (and the page's examples are tested as doctests).

python docs/make_notebooks.py            # rewrites docs/*.ipynb (make notebooks)
python docs/make_notebooks.py OUT_DIR    # anywhere else (the test suite does this)

Prose becomes markdown cells; each ``>>>`` example becomes code, split so that every cell ends
with the line whose result the page shows (a notebook shows only a cell's last result). The
notebooks are written without outputs; the test suite executes them.
"""

import json
import re
import sys
from pathlib import Path

DOCS = Path(__file__).resolve().parent
PAGES = ("tutorial.md", "lesson-network.md")


def cells(markdown: str) -> list[dict]:
    """The notebook cells of a page."""
    out: list[dict] = []
    prose: list[str] = []
    parts = re.split(r"^```python\n(.*?)^```\n", markdown, flags=re.S | re.M)
    for k, part in enumerate(parts):
        if k % 2 == 0:
            prose.append(part)
            continue
        if not part.lstrip().startswith(">>>"):
            prose.append(f"```python\n{part}```\n")  # a listing, not an example
            continue
        out += _markdown("".join(prose))
        prose = []
        out += [_code(source) for source in _examples(part)]
    return out + _markdown("".join(prose))


def _examples(block: str) -> list[str]:
    """The code of a doctest block, one cell per shown result."""
    return [source for source, _ in examples(block)]


def examples(block: str) -> list[tuple[str, str]]:
    """Each cell's code in a doctest block, with the result the page shows for it ('' if none)."""
    out, source, shown = [], [], []
    for line in block.splitlines():
        if line.startswith(">>> "):
            if shown:
                out.append(("\n".join(source), "\n".join(shown)))
                source, shown = [], []
            source.append(line[4:])
        elif line.startswith("...") and not shown:
            source.append(line[4:])
        elif line.strip():
            shown.append(line)  # an expected result: this statement ends a cell
    if source:
        out.append(("\n".join(source), "\n".join(shown)))
    return out


def expected(markdown: str) -> list[str]:
    """The result the page shows for each code cell of its notebook, in order."""
    blocks = re.split(r"^```python\n(.*?)^```\n", markdown, flags=re.S | re.M)[1::2]
    return [shown for block in blocks if block.lstrip().startswith(">>>") for _, shown in examples(block)]


def _markdown(text: str) -> list[dict]:
    text = text.strip()
    return [{"cell_type": "markdown", "metadata": {}, "source": text}] if text else []


def _code(source: str) -> dict:
    return {"cell_type": "code", "execution_count": None, "metadata": {}, "outputs": [], "source": source}


def notebook(page: Path) -> str:
    """The notebook of ``page`` as the text of an .ipynb file."""
    book = {
        "cells": cells(page.read_text(encoding="utf-8")),
        "metadata": {
            "kernelspec": {"display_name": "Python 3", "language": "python", "name": "python3"},
            "language_info": {"name": "python"},
        },
        "nbformat": 4,
        "nbformat_minor": 5,
    }
    for k, cell in enumerate(book["cells"]):
        cell["id"] = f"cell-{k}"
    return json.dumps(book, indent=1, ensure_ascii=False) + "\n"


def main(out: Path) -> None:
    out.mkdir(parents=True, exist_ok=True)
    for name in PAGES:
        target = out / name.replace(".md", ".ipynb")
        text = notebook(DOCS / name)
        if not target.exists() or target.read_text(encoding="utf-8") != text:
            target.write_text(text, encoding="utf-8")
            print(f"wrote {target}")


if __name__ == "__main__":
    main(Path(sys.argv[1]) if len(sys.argv) > 1 else DOCS)
