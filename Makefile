# Two commands set up a fresh machine: `make run` and `make test`.
PYTHON ?= python3
VENV   ?= .venv
BIN     = $(VENV)/bin
STAMP   = $(VENV)/.installed

.PHONY: install run test lint bench bench-quick clean docs

install: $(STAMP)

# Reinstall only when the project's dependency list changes; safe to repeat.
$(STAMP): pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[dev]'
	touch $(STAMP)

run: install
	$(BIN)/rxstaff demo

test: install
	$(BIN)/ruff check .
	$(BIN)/python -m pytest -q

lint: install
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

docs: install
	$(BIN)/rxstaff dictionary --out docs/data_dictionary.md

bench: install
	$(BIN)/rxstaff bench

bench-quick: install
	$(BIN)/rxstaff bench --employees 2000 --years 1 --repeat 1

clean:
	rm -rf $(VENV) warehouse.duckdb warehouse.read.duckdb sample_landing .pytest_cache
