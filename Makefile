# The two commands of the README: `make run` and `make test`. Each creates .venv on first use.
PY ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: install run test lint demo bench clean

$(STAMP): pyproject.toml constraints.txt
	test -x $(BIN)/python || $(PY) -m venv $(VENV)
	$(BIN)/python -m pip install -q --upgrade pip
	$(BIN)/python -m pip install -q -c constraints.txt -e '.[dev]'
	touch $(STAMP)

install: $(STAMP)

run: $(STAMP)
	$(BIN)/python -m scripts.run_stack

demo: $(STAMP)
	$(BIN)/python starter.py demo

# Runs every test; PostgreSQL tests skip only when no server answers and CI is unset.
test: $(STAMP)
	$(BIN)/python -m scripts.run_tests $(ARGS)

lint: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/mypy domain

bench: $(STAMP)
	$(BIN)/python bench/allocation.py
	$(BIN)/python bench/renewals.py
	$(BIN)/python bench/receipts.py

clean:
	rm -rf $(VENV) var
