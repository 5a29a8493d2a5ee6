# One entry point for every task. Each target installs what it needs, so a fresh clone only needs `make test`.
SHELL := /bin/bash
.SHELLFLAGS := -eu -o pipefail -c
.DEFAULT_GOAL := help

PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
# make demo needs the package's requirements with its cli and testing extras, not the dev toolchain, and runs the
# checkout itself (DEMO_PATH), so nothing is built: it reuses .venv when `make install` built one, else builds this
# small venv in seconds.
DEMO_VENV := .venv-demo
DEMO_PATH := $(CURDIR)/wrapper:$(CURDIR)/generated
DEMO_READY := $(if $(wildcard $(VENV)/.installed),$(VENV),$(DEMO_VENV))
PRISM := node_modules/.bin/prism
SOURCE ?= https://www.vozo.ai/docs
PORT ?= 4010
# Property-based tests: a fixed seed in CI (reproducible verdicts), a random one locally (Hypothesis prints the
# seed of a failing run, to replay with PYTEST_ARGS=--hypothesis-seed=N).
ifdef CI
PYTEST_ARGS ?= --hypothesis-seed=20261124
endif
# The generator's ruff post-hooks and our lint run the venv's pinned ruff.
export PATH := $(CURDIR)/$(VENV)/bin:$(PATH)

.PHONY: help install spec generate update-spec lint check test contract mock demo bench reliability clean

help:
	@echo "make demo          one lipsync job end to end through the vozo CLI against a local fake Vozo"
	@echo "make test          install, check for drift, lint, run every test (the CI command)"
	@echo "make install       .venv with the package, its extras and the dev tools; node_modules with Prism and pyright"
	@echo "make spec          openapi/upstream/*.md + openapi/overlay.yaml -> openapi/vozo.yaml"
	@echo "make generate      openapi/vozo.yaml -> generated/vozo_api_client (clean regeneration)"
	@echo "make update-spec   refresh openapi/upstream from SOURCE=$(SOURCE), regenerate, report; all or nothing"
	@echo "make check         fail when openapi/vozo.yaml or generated/ differ from what their inputs produce"
	@echo "make lint          ruff on everything hand-written, mypy strict on wrapper/"
	@echo "make contract      the contract tests only (schemathesis and the client against Prism)"
	@echo "make mock          Prism serving openapi/vozo.yaml on PORT=$(PORT), in the foreground"
	@echo "make bench         import cost, per-call overhead, 1,000 jobs, 1 GiB download: ratios to baselines"
	@echo "make reliability   the fault matrix x sync/async, the bad-input table and the secrets check"

install: $(VENV)/.installed node_modules/.installed

# Re-run pip only when pyproject.toml changes; the editable install picks up code changes by itself. The dev tools are
# a dependency group (pip >= 25.1 reads them), so the published wheel offers no `dev` extra.
$(VENV)/.installed: pyproject.toml
	@$(PYTHON) -c 'import sys; sys.exit(0 if sys.version_info >= (3, 11) else "Python >= 3.11 is required")'
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -e '.[cli,testing]' --group dev
	touch $@

# ensurepip alone takes seconds (more on a loaded machine): when PYTHON's own pip can install into another
# environment (pip >= 22.3, --python), the venv is made without a pip of its own.
$(DEMO_VENV)/.installed: pyproject.toml
	@$(PYTHON) -c 'import sys; sys.exit(0 if sys.version_info >= (3, 11) else "Python >= 3.11 is required")'
	rm -rf $(DEMO_VENV)
	if $(PYTHON) -m pip --help 2>/dev/null | grep -- '--python <python>' >/dev/null; then \
	  $(PYTHON) -m venv --without-pip $(DEMO_VENV); pip=($(PYTHON) -m pip --python $(DEMO_VENV)/bin/python); \
	else \
	  $(PYTHON) -m venv $(DEMO_VENV); pip=($(DEMO_VENV)/bin/python -m pip); \
	fi; \
	$(PYTHON) scripts/requirements.py cli testing > $(DEMO_VENV)/requirements.txt; \
	"$${pip[@]}" install --quiet -r $(DEMO_VENV)/requirements.txt
	touch $@

node_modules/.installed: package.json package-lock.json
	npm ci --no-audit --no-fund --loglevel=error
	touch $@

spec: $(VENV)/.installed
	$(PY) -m spectools build

generate: $(VENV)/.installed
	$(PY) -m spectools generate

# All or nothing: fetch, then build, generate and type-check the wrapper in a staging copy; write only if all pass.
update-spec: $(VENV)/.installed
	$(PY) -m spectools update --source '$(SOURCE)'

check: $(VENV)/.installed
	$(PY) -m spectools check

lint: $(VENV)/.installed
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .
	$(VENV)/bin/mypy

# Test files run in parallel, one pytest-xdist worker per core (at most 4: each starts its own Prism and venvs), a
# file's tests in one worker so its module fixtures are built once; PYTEST_WORKERS=0 runs them in this process.
# pytest exits 5 when it collects nothing: say so instead of failing silently.
PYTEST_WORKERS ?= auto
test: install check lint
	$(PY) -m pytest -n $(PYTEST_WORKERS) --maxprocesses 4 --dist loadfile $(PYTEST_ARGS) \
	  || { rc=$$?; [ $$rc -ne 5 ] || echo "pytest collected no tests"; exit $$rc; }

contract: install
	$(PY) -m pytest tests/contract $(PYTEST_ARGS)

demo: $(DEMO_READY)/.installed
	PYTHONPATH=$(DEMO_PATH) $(DEMO_READY)/bin/python scripts/demo.py

# Ratios against baselines measured in the same run; also written to bench/results.json. BENCH_ARGS=--quick.
bench: $(VENV)/.installed
	$(PY) -m bench $(BENCH_ARGS)

reliability: $(VENV)/.installed
	$(PY) -m bench.reliability

mock: node_modules/.installed
	$(PRISM) mock openapi/vozo.yaml --port $(PORT)

clean:
	rm -rf $(VENV) $(DEMO_VENV) node_modules .pytest_cache .mypy_cache .ruff_cache .hypothesis
