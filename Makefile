# The two commands: `make run` installs everything and starts the service on its embedded
# defaults (SQLite, demo configuration); `make test` installs everything and runs every check.
PY ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: install system-deps run test lint typecheck bench bench-audit clean

$(STAMP): pyproject.toml
	$(PY) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e '.[dev]'
	touch $(STAMP)

install: $(STAMP)

system-deps:
	@scripts/install-system-deps.sh

run: $(STAMP)
	$(BIN)/injection-cds serve --host 127.0.0.1 --port $${PORT:-8080}

lint: $(STAMP)
	$(BIN)/ruff check src tests bench
	$(BIN)/ruff format --check src tests bench

typecheck: $(STAMP)
	$(BIN)/mypy

test: $(STAMP) system-deps
	$(BIN)/ruff check src tests bench
	$(BIN)/mypy
	$(BIN)/pytest -q

# The service benchmark (wrk against gunicorn on loopback, ~5 min): bench/RESULTS.md.
bench: $(STAMP) system-deps
	$(BIN)/python bench/run.py

# The batch audit benchmark (10,000 and 100,000 synthetic administrations).
bench-audit: $(STAMP)
	$(BIN)/python bench/audit_bench.py

clean:
	rm -rf $(VENV) .pytest_cache .mypy_cache .ruff_cache
