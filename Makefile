# The two commands: `make run` and `make test`. Everything else is a building block.
SHELL := /bin/bash
.DEFAULT_GOAL := help

# The Lambda runtime is python3.12: use it when pyenv (or PATH) has it, else the system python3.
PY312 := $(shell PYENV_VERSION=3.12.1:3.11.7 python3.12 -c 'import sys; print(sys.executable)' 2>/dev/null)
PYTHON ?= $(if $(PY312),$(PY312),python3)
VENV := .venv
BIN := $(VENV)/bin
export SAM_CLI_TELEMETRY := 0
export AWS_DEFAULT_REGION ?= eu-west-1

.PHONY: help install run stop logs test lint format openapi typecheck template-check unit integration e2e build validate clean bench chaos

help: ## list the targets
	@grep -E '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | awk -F':.*## ' '{printf "  make %-15s %s\n", $$1, $$2}'

$(BIN)/.installed: requirements-dev.txt layers/common/requirements.txt pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install -q --upgrade pip
	$(BIN)/pip install -q -r requirements-dev.txt
	$(BIN)/pip install -q --no-deps -e .
	touch $@

install: $(BIN)/.installed ## create .venv with everything the tests and the CLI need

run: install ## start the whole gateway locally (ministack + simulator) and print a curl session
	$(BIN)/python -m local.stack run

stop: install ## stop a local stack started by `make run` in another terminal
	$(BIN)/python -m local.stack stop

logs: install ## what the local stack's handlers logged (make logs FN=Send)
	$(BIN)/python -m local.stack logs $(FN)

lint: install ## ruff lint + format check + the import contracts (pyproject.toml, docs/architecture.md)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	PYTHONPATH=layers/common $(BIN)/lint-imports

format: install ## apply ruff fixes and formatting
	$(BIN)/ruff check --fix .
	$(BIN)/ruff format .

openapi: install ## regenerate the OpenAPI document ApiFunction serves (after changing a route)
	PYTHONPATH=layers/common $(BIN)/python -m smsgw.edges.app

typecheck: install ## mypy on the layer, and on the tools around it (bench, local stack, chaos, simulator)
	$(BIN)/mypy layers/common/smsgw
	$(BIN)/mypy --python-version 3.12 bench local chaos simulator

template-check: install ## cfn-lint the SAM template
	$(BIN)/cfn-lint template.yaml

unit: install
	$(BIN)/pytest -q tests/unit

integration: install
	$(BIN)/pytest -q tests/integration

e2e: install
	$(BIN)/pytest -q tests/e2e

# Unit + integration measure branch coverage of the layer and the simulator ([tool.coverage] in
# pyproject.toml: what is measured, and the floor below which the run fails); e2e runs without.
test: lint typecheck template-check ## install, lint, check the template, run all tests
	$(BIN)/pytest -q -n 2 --dist loadfile --cov --cov-report=term:skip-covered tests/unit tests/integration
	$(BIN)/pytest -q tests/e2e

$(BIN)/.bench-installed: $(BIN)/.installed bench/requirements.txt
	$(BIN)/pip install -q -r bench/requirements.txt
	touch $@

bench: install $(BIN)/.bench-installed ## benchmarks → docs/benchmarks.md + docs/img/ (not in make test; < 15 min)
	$(BIN)/python -m bench $(BENCH_ARGS)

SAM_VENV := .venv-sam
$(SAM_VENV)/.installed:
	$(PYTHON) -m venv $(SAM_VENV)
	$(SAM_VENV)/bin/pip install -q aws-sam-cli==1.170.0
	touch $@

# sam build needs python3.12 on PATH (the runtime); pyenv provides it where the system has 3.11.
# Then the layer is byte-compiled by that python3.12 (local/precompile.py): sam build ships no .pyc,
# and /opt is read-only on Lambda, so without them every cold start compiles what it imports.
# ARCH=arm64 builds for Graviton (the layer's compiled wheels follow; deploy with the same
# Architecture parameter): make build ARCH=arm64.
ARCH ?= x86_64
build: $(SAM_VENV)/.installed ## sam build + a precompiled layer (python3.12 from pyenv or PATH; ARCH=arm64 for Graviton)
	@test -n "$(PY312)" || { echo "make build needs python3.12 (pyenv: PYENV_VERSION=3.12.1:3.11.7)"; exit 1; }
	PATH="$(dir $(PY312)):$$PATH" $(SAM_VENV)/bin/sam build --template-file template.yaml \
		--parameter-overrides Architecture=$(ARCH)
	$(PY312) -m local.precompile .aws-sam/build/CommonLayer/python

validate: $(SAM_VENV)/.installed ## sam validate --lint (offline)
	$(SAM_VENV)/bin/sam validate --lint --template-file template.yaml

clean: ## remove build output and local state
	rm -rf .aws-sam build .smsgw

chaos: install ## fault-injection run on the local stack → docs/reliability.md (not in make test; ~8–11 min)
	$(BIN)/python -m chaos $(CHAOS_ARGS)
