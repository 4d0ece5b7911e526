# Two commands for a fresh machine: `make demo` (the main job) and `make test` (everything CI runs).
# Each creates the virtual environment .venv and installs the package into it when needed.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: demo test bench docs pictures format clean

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e '.[dev]'
	touch $(STAMP)

demo: $(STAMP)
	$(BIN)/tinygrad-lr demo

test: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/pytest

bench: $(STAMP)
	$(BIN)/pip install --quiet -e '.[bench]'
	$(BIN)/python benchmarks/scalar_mlp.py
	$(BIN)/python benchmarks/tensor_lr.py
	$(BIN)/python benchmarks/tensor_mlp.py
	$(BIN)/python benchmarks/per_op.py

docs: $(STAMP)
	$(BIN)/mkdocs build --strict --site-dir site
	@echo "the documentation site is in site/ (open site/index.html, or run: $(BIN)/mkdocs serve)"

pictures: $(STAMP)
	@echo "rewriting docs/images/ from the project's own code (files whose picture changed),"
	@echo "the notebooks docs/*.ipynb from their pages, and the stepper page's screenshot"
	$(BIN)/python docs/make_pictures.py
	$(BIN)/python docs/make_notebooks.py
	-$(BIN)/python docs/make_screenshot.py

format: $(STAMP)
	$(BIN)/ruff format .
	$(BIN)/ruff check --fix .

clean:
	rm -rf $(VENV) $(VENV)-torch build site *.egg-info .pytest_cache .hypothesis
