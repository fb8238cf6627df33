# The two commands: `make run` installs the service (runtime dependencies only) and starts it
# on its embedded defaults (SQLite, demo configuration); `make test` installs the service with
# its development tools and runs every check (lint, format, types, tests).
PY ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
RUNTIME_STAMP := $(VENV)/.installed-runtime
DEV_STAMP := $(VENV)/.installed-dev
TEST_STAMP := $(VENV)/.installed-test

.PHONY: install install-dev system-deps run test lint typecheck bench bench-audit clean

$(BIN)/python:
	$(PY) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip

$(RUNTIME_STAMP): pyproject.toml | $(BIN)/python
	$(BIN)/pip install --quiet -e .
	touch $(RUNTIME_STAMP)

$(DEV_STAMP): pyproject.toml | $(BIN)/python
	$(BIN)/pip install --quiet -e '.[dev]'
	touch $(RUNTIME_STAMP) $(DEV_STAMP)

install: $(RUNTIME_STAMP)

install-dev: $(DEV_STAMP)

# The tests also run the Spark engine (local mode), so they install the spark extra.
$(TEST_STAMP): $(DEV_STAMP)
	$(BIN)/pip install --quiet -e '.[dev,spark]'
	touch $(TEST_STAMP)

# Debian packages that some tests drive: wrk (the benchmark smoke test) and Chromium with
# its driver (the report and rule-page browser tests). Installed only when running as root
# with apt-get; otherwise those tests skip and say why.
system-deps:
	@scripts/install-system-deps.sh

run: $(RUNTIME_STAMP)
	$(BIN)/injection-cds serve --host 127.0.0.1 --port $${PORT:-8080}

lint: $(DEV_STAMP)
	$(BIN)/ruff check src tests bench scripts
	$(BIN)/ruff format --check src tests bench scripts

typecheck: $(DEV_STAMP)
	$(BIN)/mypy

test: $(TEST_STAMP) system-deps lint typecheck
	$(BIN)/pytest -q

# The service benchmark (wrk against gunicorn on loopback, ~5 min): bench/RESULTS.md.
bench: $(DEV_STAMP) system-deps
	$(BIN)/python bench/run.py

# The batch audit benchmark (10,000 and 100,000 synthetic administrations).
bench-audit: $(DEV_STAMP)
	$(BIN)/python bench/audit_bench.py

clean:
	rm -rf $(VENV) .pytest_cache .mypy_cache .ruff_cache
