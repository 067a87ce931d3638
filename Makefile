# Two commands set up a fresh machine: `make run` and `make test`.
PYTHON ?= python3
VENV   ?= .venv
BIN     = $(VENV)/bin
STAMP   = $(VENV)/.installed

.PHONY: install run test test-fast test-slow linktree typecheck layers lint bench bench-quick clean docs

install: $(STAMP)

# Reinstall only when the project's dependency list changes; safe to repeat.
$(STAMP): pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[dev]'
	touch $(STAMP)

run: install
	$(BIN)/rxstaff demo

# Tests run on every core (pytest-xdist); `make test PYTEST_WORKERS=0` runs them in one process.
PYTEST_WORKERS ?= auto

# What CI runs: lint, format, types, the layers, then every test but the slow ones.
test: install
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(MAKE) --no-print-directory typecheck layers
	$(BIN)/python -m pytest -q -m "not slow" -n $(PYTEST_WORKERS) --dist loadgroup

# The quick loop while developing: sources, models, contracts, expectations and small
# pieces, each on DuckDB only (no Prefect, no PostgreSQL, no browser).
FAST_TESTS = tests/test_units.py tests/test_sources.py tests/test_models.py \
	tests/test_contract.py tests/test_expectations.py tests/test_new_source.py
test-fast: install
	$(BIN)/ruff check .
	$(BIN)/python -m pytest -q -n $(PYTEST_WORKERS) -k "not postgresql" $(FAST_TESTS)

# The slow tests (runs stopped and killed at each step, the README's deployment steps with
# a real server and workers, the benchmark's quick variant): CI runs them before `make test`.
test-slow: install
	$(BIN)/python -m pytest -q -m slow

# mypy and import-linter do not follow setuptools' editable import hook, so the package is
# checked through a tree of links laid out as pip installs it: app/ is rxstaff, flows/ is
# rxstaff.flows, ...
TYPECHECK = build/typecheck
linktree: install
	rm -rf $(TYPECHECK) && mkdir -p $(TYPECHECK)/rxstaff
	for f in app/*; do ln -s "$(CURDIR)/$$f" $(TYPECHECK)/rxstaff/; done
	for d in flows transforms expectations warehouse; do ln -s "$(CURDIR)/$$d" $(TYPECHECK)/rxstaff/$$d; done

typecheck: linktree
	cd $(TYPECHECK) && $(CURDIR)/$(BIN)/mypy --config-file $(CURDIR)/pyproject.toml \
		--cache-dir $(CURDIR)/.mypy_cache -p rxstaff

# The import contracts of pyproject.toml ([tool.importlinter]): a forbidden import fails.
layers: linktree
	cd $(TYPECHECK) && PYTHONPATH=$(CURDIR)/$(TYPECHECK) $(CURDIR)/$(BIN)/lint-imports \
		--config $(CURDIR)/pyproject.toml --no-cache --no-logo

lint: install
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(MAKE) --no-print-directory typecheck layers

docs: install
	$(BIN)/rxstaff dictionary --out docs/data_dictionary.md

bench: install
	$(BIN)/rxstaff bench

bench-quick: install
	$(BIN)/rxstaff bench --quick

# What `make run` and `make bench` leave (the demo's landing folder, warehouse, its lock,
# log and validation project, the report), the caches and the environment.
RUN_OUTPUTS = sample_landing warehouse.duckdb warehouse.duckdb.wal warehouse.duckdb.lock \
	warehouse.gx warehouse.read.duckdb report bench/out
clean:
	rm -rf $(RUN_OUTPUTS) $(VENV) .pytest_cache .mypy_cache .ruff_cache build
