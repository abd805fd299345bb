# The two commands of the README: `make run` and `make test`. Each creates .venv on first use.
PY ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: install run test lint demo rehearse bench bench-scale bench-parts clean

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

# The production configuration as processes behind nginx over TLS, checked, then loaded (issue 21).
rehearse: $(STAMP)
	$(BIN)/python -m scripts.rehearse $(ARGS)

lint: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/mypy domain

# The renewal beside the engine's no-op floor (../shared/bench/noop_baseline.py), SQLite and PostgreSQL.
bench: $(STAMP)
	$(BIN)/python -m bench.floor $(ARGS)

# Figures at scale (issue 12): a day of 100,000 bank transactions, 10,000 applications awaiting
# payment, two workers + two APIs on PostgreSQL. Long: ~1 h on 2 cores with the defaults.
bench-scale: $(STAMP)
	$(BIN)/python -m bench.scale reconcile
	$(BIN)/python -m bench.scale reconcile --database-url postgresql+asyncpg://postgres@127.0.0.1:5432/
	$(BIN)/python -m bench.scale awaiting
	$(BIN)/python -m bench.scale processes

# The parts alone: step 4's transaction, the cost of one payload, the e-receipt.
bench-parts: $(STAMP)
	$(BIN)/python -m bench.allocation
	$(BIN)/python -m bench.payloads
	$(BIN)/python -m bench.sandbox
	$(BIN)/python -m bench.receipts

clean:
	rm -rf $(VENV) var
