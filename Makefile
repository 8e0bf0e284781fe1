# deltaflow: two commands (demo, test) and the container image.
#   make demo   set up .venv and run the demo discovery flow on embedded defaults
#   make test   set up .venv with the dev extra and run the whole test suite
#   make image  build the container image with podman (docker/build-local.sh; docker/README.md for docker)
# Both are idempotent: the venv is (re)installed only when pyproject.toml or the lock changes. Every package of the
# runtime closure is installed at the version docker/requirements.lock pins (the image's too), so a fresh machine
# gets the numbers the benchmarks and the suite were measured with, whatever PyPI released since; the dev tools are
# pinned in pyproject.toml's dev extra.

PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV := .venv
BIN := $(VENV)/bin
LOCK := docker/requirements.lock
CONFIG ?= configs/lynx_hare.yaml
# The suite on one worker per core; the container tests share one worker (one image build). PYTEST_ARGS= runs serially.
PYTEST_ARGS ?= -n auto --dist loadgroup
FUZZ_EXAMPLES ?= 10000

export DO_NOT_TRACK := true
export PREFECT_SERVER_ANALYTICS_ENABLED := false
export MLFLOW_DISABLE_TELEMETRY := true

.PHONY: demo test lint bench fuzz-long image clean help

help:
	@echo "make demo    run the demo discovery flow ($(CONFIG)) on embedded defaults"
	@echo "make test    run the whole test suite"
	@echo "make lint    ruff check"
	@echo "make image   build the container image with podman (local base, offline wheels; prints size and time)"
	@echo "make bench   run the benchmarks (writes benchmarks/results/)"
	@echo "make fuzz-long  property tests with FUZZ_EXAMPLES (default 10,000) examples each (37 min at 10,000 on this machine)"

$(BIN)/python:
	@$(PYTHON) -c 'import sys; assert sys.version_info[:2] == (3, 11), f"deltaflow needs Python 3.11, found {sys.version.split()[0]} at {sys.executable}; set PYTHON=/path/to/python3.11"'
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip

$(VENV)/.installed: pyproject.toml $(LOCK) | $(BIN)/python
	@echo "installing deltaflow and its dependencies into $(VENV) (about 90 s the first time)..."
	$(BIN)/python -m pip install --quiet --constraint $(LOCK) -e .
	@touch $@

$(VENV)/.installed-dev: pyproject.toml $(LOCK) | $(BIN)/python
	@echo "installing deltaflow with the dev extra into $(VENV) (about 90 s the first time)..."
	$(BIN)/python -m pip install --quiet --constraint $(LOCK) -e ".[dev]"
	@touch $@ $(VENV)/.installed

demo: $(VENV)/.installed
	$(BIN)/python -m flows run $(CONFIG)

test: $(VENV)/.installed-dev
	$(BIN)/python -m pytest $(PYTEST_ARGS)

lint: $(VENV)/.installed-dev
	$(BIN)/ruff check pipeline flows tests benchmarks data

fuzz-long: $(VENV)/.installed-dev
	HYPOTHESIS_PROFILE=long FUZZ_EXAMPLES=$(FUZZ_EXAMPLES) $(BIN)/python -m pytest tests/test_fuzz.py --durations=0

bench: $(VENV)/.installed-dev
	$(BIN)/python benchmarks/discovery_examples.py

image:
	PYTHON=$(PYTHON) docker/build-local.sh

clean:
	rm -rf .state mlflow.db .mlflow.db.lock mlartifacts .pytest_cache
