"""The docs' notebooks: made from their pages, committed without outputs, and run here, where
each cell must show what its page says."""

import doctest
import importlib.util
import json
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
spec = importlib.util.spec_from_file_location("make_notebooks", ROOT / "docs" / "make_notebooks.py")
make_notebooks = importlib.util.module_from_spec(spec)
spec.loader.exec_module(make_notebooks)
PAGES = make_notebooks.PAGES


@pytest.mark.parametrize("page", PAGES)
def test_the_notebook_is_its_page_without_outputs(page, tmp_path):
    make_notebooks.main(tmp_path)
    name = page.replace(".md", ".ipynb")
    committed = (ROOT / "docs" / name).read_text(encoding="utf-8")
    assert committed == (tmp_path / name).read_text(encoding="utf-8"), (
        f"run: python docs/make_notebooks.py ({name})"
    )
    cells = json.loads(committed)["cells"]
    assert all(not cell.get("outputs") and cell.get("execution_count") is None for cell in cells)


@pytest.mark.parametrize("page", PAGES)
def test_the_notebook_runs_and_shows_what_its_page_says(page, tmp_path, monkeypatch):
    import nbformat
    from nbclient import NotebookClient

    monkeypatch.setenv("JUPYTER_PLATFORM_DIRS", "1")  # jupyter's paths without its migration warning
    monkeypatch.chdir(tmp_path)
    book = nbformat.read(ROOT / "docs" / page.replace(".md", ".ipynb"), as_version=4)
    NotebookClient(
        book, timeout=300, kernel_name="python3", resources={"metadata": {"path": str(tmp_path)}}
    ).execute()
    code = [cell for cell in book.cells if cell.cell_type == "code"]
    pages_say = make_notebooks.expected((ROOT / "docs" / page).read_text(encoding="utf-8"))
    assert len(code) == len(pages_say)
    checker = doctest.OutputChecker()
    flags = doctest.ELLIPSIS | doctest.NORMALIZE_WHITESPACE
    for cell, says in zip(code, pages_say):
        assert not [out for out in cell.outputs if out.output_type == "error"]
        shown = "".join(
            out.get("text", "") if out.output_type == "stream" else out.get("data", {}).get("text/plain", "")
            for out in cell.outputs
        )
        assert checker.check_output(says + "\n", shown + "\n", flags), (cell.source, says, shown)
    if page == "lesson-network.md":  # in a notebook, the picture and the stepper show themselves
        bundles = [out.get("data", {}) for cell in code for out in cell.outputs]
        assert any("image/svg+xml" in data for data in bundles)
        assert any('class="tglr"' in data.get("text/html", "") for data in bundles)
