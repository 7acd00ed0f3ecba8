# The two commands: `make run` and `make test`. Each bootstraps .venv itself.
# `make run` also runs the payment vault and its loopback sandbox card processor.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
PIP := $(BIN)/python -m pip --disable-pip-version-check -q

.PHONY: run test lint types unit bench clean

run: $(VENV)/.installed
	$(BIN)/tradeguard init
	TRADEGUARD_VAULT_MODE=$${TRADEGUARD_VAULT_MODE:-supervised} \
		TRADEGUARD_ROUTING_SIMULATED_VENUES=$${TRADEGUARD_ROUTING_SIMULATED_VENUES:-true} \
		exec $(BIN)/tradeguard serve

test: $(VENV)/.installed-dev lint types unit

lint: $(VENV)/.installed-dev
	$(BIN)/ruff check src tests bench
	$(BIN)/ruff format --check src tests bench

types: $(VENV)/.installed-dev
	$(BIN)/mypy

unit: $(VENV)/.installed-dev
	$(BIN)/pytest

bench: $(VENV)/.installed-bench
	$(BIN)/python bench/run.py

$(VENV)/bin/python:
	$(PYTHON) -m venv $(VENV)

$(VENV)/.installed: pyproject.toml | $(VENV)/bin/python
	$(PIP) install -e '.[sandbox]'
	touch $@

$(VENV)/.installed-dev: pyproject.toml | $(VENV)/bin/python
	$(PIP) install -e '.[dev]'
	touch $@ $(VENV)/.installed

# NautilusTrader is the reference in bench_risk.py; only `make bench` installs it.
$(VENV)/.installed-bench: pyproject.toml | $(VENV)/bin/python
	$(PIP) install -e '.[dev,bench]'
	touch $@ $(VENV)/.installed-dev $(VENV)/.installed

clean:
	rm -rf $(VENV) .mypy_cache .ruff_cache .pytest_cache
