# make run: set up and start the mock. make test: set up, lint, type-check and run every test.
VENV ?= .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed
# Wheels of every dependency plus PyPI's `mock`, for the packaging test's offline install (tests reach no registry).
WHEELHOUSE := $(VENV)/wheelhouse
PYTHON ?= python3
# The OpenAPI linters (Redocly, Spectral) from npm, run by tests/contract/test_linters.py.
LINTERS := tests/linters/node_modules/.package-lock.json

.PHONY: install run test lint fmt clean docs bench sync

$(STAMP): pyproject.toml
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -e '.[dev]'
	$(PY) -c "import tomllib; p = tomllib.load(open('pyproject.toml', 'rb'))['project']; \
	  print('\n'.join(p['dependencies'] + p['optional-dependencies']['mock'] + p['optional-dependencies']['conformance']))" \
	  > $(VENV)/wheelhouse.txt
	$(PY) -m pip download --quiet --only-binary=:all: -d $(WHEELHOUSE) -r $(VENV)/wheelhouse.txt mock==5.2.0
	touch $(STAMP)

$(LINTERS): tests/linters/package-lock.json
	SCARF_ANALYTICS=false npm ci --prefix tests/linters --no-audit --no-fund --ignore-scripts --engine-strict
	touch $@

install: $(STAMP) $(LINTERS)

run: $(STAMP)
	$(VENV)/bin/incident-mock $(ARGS)

lint: $(STAMP)
	$(VENV)/bin/ruff check contract mock conformance tests bench
	$(VENV)/bin/ruff format --check contract mock conformance tests bench
	$(VENV)/bin/mypy

fmt: $(STAMP)
	$(VENV)/bin/ruff format contract mock conformance tests bench
	$(VENV)/bin/ruff check --fix contract mock conformance tests bench

test: lint $(LINTERS)
	$(VENV)/bin/pytest $(PYTEST_ARGS)

# The testing kit's sync API is generated from its async one: run after editing mock/incident_mock/testing/aio.py.
sync: $(STAMP)
	$(PY) -m tests.generate_sync

docs: $(STAMP)
	$(PY) -m incident_contract.docs --out site

bench: $(STAMP)
	$(PY) bench/run.py

clean:
	rm -rf $(VENV) tests/linters/node_modules build dist *.egg-info .pytest_cache .mypy_cache .ruff_cache
