# OMS developer commands. `make run` and `make test` each set up what they need.

PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
HOST ?= 127.0.0.1
PORT ?= 8000
# Local work runs with DEBUG on (and the local-only secret key); production sets
# DEBUG=false and a real SECRET_KEY in the environment instead of using make.
DEV_ENV := DEBUG=$${DEBUG:-true}

.PHONY: install run test lint check clean bench-api screenshots bench-ingest bench-ui

$(BIN)/.installed: pyproject.toml constraints.txt
	$(PYTHON) -c 'import sys; sys.exit(sys.version_info[:2] != (3, 11) and "OMS needs Python 3.11")'
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet -c constraints.txt -e '.[dev]'
	touch $@

install: $(BIN)/.installed

run: install
	$(DEV_ENV) $(BIN)/python manage.py migrate --noinput
	$(DEV_ENV) $(BIN)/python manage.py seed_demo
	$(DEV_ENV) $(BIN)/python manage.py runserver $(HOST):$(PORT)

test: install
	$(BIN)/pytest $(ARGS)

# API throughput and latency against a bare Django floor (gunicorn, PostgreSQL, wrk).
# Options: make bench-api ARGS="--help".
bench-api: install
	$(BIN)/python -m tests.benchmarks.api $(ARGS)

# Project import and design event ingestion against a COPY floor (PostgreSQL).
# Options: make bench-ingest ARGS="--help"; a quick run: ARGS="--projects 1000".
bench-ingest: install
	$(BIN)/python -m tests.benchmarks.ingestion $(ARGS)

# Server time (p50/p95) of the back-office queue and order pages at 100,000 orders.
# Options: make bench-ui ARGS="--help"; a quick run: ARGS="--orders 10000 --requests 50".
bench-ui: install
	$(BIN)/python -m tests.benchmarks.backoffice $(ARGS)

# A PNG of each main screen under docs/screenshots/ (demo data, the system's Chromium).
screenshots: install
	$(BIN)/python -m tests.browser.screenshots

lint: install
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(DEV_ENV) $(BIN)/python manage.py makemigrations --check --dry-run

clean:
	rm -rf $(VENV) var oms.sqlite3 .pytest_cache .hypothesis
