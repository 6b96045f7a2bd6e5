# Two commands on a fresh machine with Python 3.11+: `make demo` and `make test`.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
OUT ?= demo-output

.PHONY: demo test lint format bench clean

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip

$(VENV)/.installed: pyproject.toml | $(BIN)/python
	$(BIN)/python -m pip install --quiet -e ".[serve]"
	touch $@

$(VENV)/.installed-dev: pyproject.toml | $(BIN)/python
	$(BIN)/python -m pip install --quiet -e ".[dev,serve]"
	touch $@ $(VENV)/.installed

demo: $(VENV)/.installed
	OUT=$(OUT) BIN=$(BIN) bash scripts/demo.sh

test: $(VENV)/.installed-dev
	$(BIN)/ruff check scoring tests benchmarks
	$(BIN)/ruff format --check scoring tests benchmarks
	$(BIN)/python -m pytest -n 2 -q

lint: $(VENV)/.installed-dev
	$(BIN)/ruff check scoring tests benchmarks
	$(BIN)/ruff format --check scoring tests benchmarks

format: $(VENV)/.installed-dev
	$(BIN)/ruff format scoring tests benchmarks
	$(BIN)/ruff check --fix scoring tests benchmarks

bench: $(VENV)/.installed
	$(BIN)/python benchmarks/bench_read.py
	$(BIN)/python benchmarks/bench_score.py

clean:
	rm -rf $(VENV) $(OUT) .pytest_cache .ruff_cache
