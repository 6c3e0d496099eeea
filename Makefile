# make run: set up and start the mock. make test: set up, lint, type-check and run every test.
#
# Installs come from the locks in requirements/ (exact versions with hashes, resolved by `make lock`):
# `make run` installs only what the mock needs (mock.txt), `make install` and `make test` the development
# tools too (dev.txt) and the packaging test's wheelhouse. uv installs them; INSTALLER=pip does the same
# with pip (no uv needed), from the same locks.
VENV ?= .venv
PY := $(VENV)/bin/python
PYTHON ?= python3
INSTALLER ?= uv
# uv itself: the one UV names, or this version, bootstrapped with pip once per user into UV_HOME.
UV_VERSION := 0.13.9
UV_HOME ?= $(or $(XDG_CACHE_HOME),$(HOME)/.cache)/incident-contract/uv-$(UV_VERSION)
UV ?= $(UV_HOME)/bin/uv
UV_BOOTSTRAP := $(filter $(UV_HOME)/bin/uv,$(UV))
# The project's own interpreter, never one uv would download.
export UV_PYTHON_DOWNLOADS := never
RUN_STAMP := $(VENV)/.installed-run
DEV_STAMP := $(VENV)/.installed-dev
# Wheels of every dependency plus PyPI's `mock`, the build backend and the oldest pip the README's install line
# supports, for the packaging test's offline installs (tests reach no registry).
WHEELHOUSE := $(VENV)/wheelhouse
# The OpenAPI linters (Redocly, Spectral) from npm, run by tests/contract/test_linters.py.
LINTERS := tests/linters/node_modules/.package-lock.json

ifeq ($(INSTALLER),uv)
TOOL := $(UV_BOOTSTRAP)
NEW_VENV = $(UV) venv --quiet --python $(PYTHON) $(VENV)
# `uv pip sync` makes the venv hold exactly the lock; the editable install of the project comes after.
SYNC = $(UV) pip sync --quiet --python $(PY) --require-hashes
ADD = $(UV) pip install --quiet --python $(PY) --require-hashes -r
EDITABLE = $(UV) pip install --quiet --python $(PY) --no-deps --build-constraint requirements/dev.txt -e .
else ifeq ($(INSTALLER),pip)
TOOL :=
# A venv that uv made has no pip: pip puts its own in first.
PIP_IN_VENV = $(PY) -m pip --version >/dev/null 2>&1 || $(PY) -m ensurepip --default-pip >/dev/null
NEW_VENV = $(PYTHON) -m venv $(VENV)
SYNC = $(PY) -m pip install --quiet --require-hashes -r
ADD = $(SYNC)
EDITABLE = $(PY) -m pip install --quiet --no-deps -e .
else
$(error INSTALLER is uv or pip, not $(INSTALLER))
endif

.PHONY: install run test lint fmt clean docs bench lock sync

ifneq ($(UV_BOOTSTRAP),)
$(UV_BOOTSTRAP):
	$(PYTHON) -m pip install --quiet --disable-pip-version-check --root-user-action=ignore \
	  --target $(UV_HOME) uv==$(UV_VERSION) \
	|| { $(PYTHON) -m venv $(UV_HOME) && $(UV_HOME)/bin/pip install --quiet uv==$(UV_VERSION); }
endif

$(PY):
	$(NEW_VENV)

$(RUN_STAMP): pyproject.toml requirements/mock.txt | $(TOOL) $(PY)
	$(PIP_IN_VENV)
	$(ADD) requirements/mock.txt
	$(EDITABLE)
	touch $@

$(DEV_STAMP): pyproject.toml requirements/dev.txt requirements/wheelhouse.txt | $(TOOL) $(PY)
	$(PIP_IN_VENV)
	$(SYNC) requirements/dev.txt
	$(EDITABLE)
	$(PY) -m pip download --quiet --disable-pip-version-check --no-deps --only-binary=:all: -d $(WHEELHOUSE) \
	  --require-hashes -r requirements/wheelhouse.txt
	$(PY) -m pip download --quiet --disable-pip-version-check --no-deps --only-binary=:all: -d $(WHEELHOUSE) \
	  "pip==$$($(PY) -c 'from incident_contract.install import MIN_PIP; print(MIN_PIP)')"
	touch $@ $(RUN_STAMP)

$(LINTERS): tests/linters/package-lock.json
	SCARF_ANALYTICS=false npm ci --prefix tests/linters --no-audit --no-fund --ignore-scripts --engine-strict
	touch $@

install: $(DEV_STAMP) $(LINTERS)

run: $(RUN_STAMP)
	$(VENV)/bin/incident-mock $(ARGS)

# Resolve the locks again after a change to the dependencies in pyproject.toml, keeping the versions locked
# where they still fit (LOCK_ARGS=--upgrade: the newest); needs uv and the registry.
LOCK := $(UV) pip compile --quiet --universal --python-version 3.11 --generate-hashes $(LOCK_ARGS)
lock: | $(UV_BOOTSTRAP)
	UV_CUSTOM_COMPILE_COMMAND="make lock" $(LOCK) pyproject.toml --extra dev -o requirements/dev.txt
	UV_CUSTOM_COMPILE_COMMAND="make lock" $(LOCK) pyproject.toml --extra mock -c requirements/dev.txt \
	  -o requirements/mock.txt
	UV_CUSTOM_COMPILE_COMMAND="make lock" $(LOCK) pyproject.toml requirements/wheelhouse.in --extra all \
	  -c requirements/dev.txt -o requirements/wheelhouse.txt

lint: $(DEV_STAMP)
	$(VENV)/bin/ruff check contract mock conformance tests bench
	$(VENV)/bin/ruff format --check contract mock conformance tests bench
	$(VENV)/bin/mypy

fmt: $(DEV_STAMP)
	$(VENV)/bin/ruff format contract mock conformance tests bench
	$(VENV)/bin/ruff check --fix contract mock conformance tests bench

# Two workers: the suite is mostly waiting on loopback sockets and subprocesses, and CI has two cores.
PYTEST_ARGS ?= -n 2

test: lint $(LINTERS)
	$(VENV)/bin/pytest $(PYTEST_ARGS)

# The testing kit's sync API is generated from its async one: run after editing mock/incident_mock/testing/aio.py.
sync: $(DEV_STAMP)
	$(PY) -m tests.generate_sync

docs: $(RUN_STAMP)
	$(PY) -m incident_contract.docs --out site

bench: $(DEV_STAMP)
	$(PY) bench/run.py

clean:
	rm -rf $(VENV) tests/linters/node_modules build dist *.egg-info .pytest_cache .mypy_cache .ruff_cache
