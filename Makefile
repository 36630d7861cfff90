# newsdesk: `make demo` runs the main job on the embedded default; `make test` runs the tests.
# Both create the virtual environment in .venv and install what they need on first use.

PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
INSTALLED := $(VENV)/.installed

.PHONY: install lock demo test lint check docs clean

install: $(INSTALLED)

# Within the versions the tests last passed with (.ci/constraints.txt).
$(INSTALLED): pyproject.toml .ci/constraints.txt
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -c .ci/constraints.txt -e ".[test,dev,bench,parquet]"
	touch $(INSTALLED)

# After upgrading dependencies in .venv (pip install --upgrade ...) and passing `make check`:
# record their versions for every later install.
lock: $(INSTALLED)
	{ sed -n '/^#/p' .ci/constraints.txt; $(BIN)/python -m pip freeze --exclude-editable; } > .ci/constraints.tmp
	mv .ci/constraints.tmp .ci/constraints.txt

# Crawl the bundled offline news site into newsdesk-demo.db (SQLite, no broker, no network).
demo: $(INSTALLED)
	$(BIN)/newsdesk demo

# The machine's Redis and PostgreSQL are used when they answer; otherwise the tests start
# throwaway ones of their own (tests/services.py).
test: $(INSTALLED)
	$(BIN)/python -m tests.services
	$(BIN)/python -m pytest

lint: $(INSTALLED)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy

check: lint test

# Rewrite README.md's settings table and docs/configuration.md from settings.py (tests fail
# when they differ). docs/architecture.png is drawn from docs/architecture.dot where Graphviz's
# `dot` is installed (Debian: apt-get install graphviz).
docs: $(INSTALLED)
	$(BIN)/python docs/settings_reference.py --readme --docs
	if command -v dot >/dev/null; then dot -Tpng -Gdpi=110 docs/architecture.dot -o docs/architecture.png; fi

clean:
	rm -rf $(VENV) .pytest_cache .mypy_cache .ruff_cache newsdesk-demo.db*
