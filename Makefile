# OMS developer commands. `make run` and `make test` each set up what they need.

PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
HOST ?= 127.0.0.1
PORT ?= 8000
SIM_PORT ?= 8010
SIM_ARGS ?=
# Local work runs with DEBUG on (and the local-only secret key); production sets
# DEBUG=false and a real SECRET_KEY in the environment instead of using make.
DEV_ENV := DEBUG=$${DEBUG:-true}

.PHONY: install run test lint check clean bench-api screenshots bench-ingest bench-ui bench-reconcile bench-alloc

$(BIN)/.installed: pyproject.toml constraints.txt
	$(PYTHON) -c 'import sys; sys.exit(sys.version_info[:2] != (3, 11) and "OMS needs Python 3.11")'
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet -c constraints.txt -e '.[dev]'
	touch $@

install: $(BIN)/.installed

# Next to the server run a Celery worker, beat (the schedules) and the warehouse
# simulator (its options: SIM_ARGS, e.g. SIM_ARGS="--reject-rate 0.2 --short-rate 0.3");
# they all stop with the server. Without CELERY_BROKER_URL/REDIS_URL the worker and beat
# use the embedded broker (message files under var/broker), with no server to start.
WORKER_ARGS ?= --concurrency 2
run: install
	$(DEV_ENV) $(BIN)/python manage.py migrate --noinput
	$(DEV_ENV) $(BIN)/python manage.py seed_demo
	$(DEV_ENV) $(BIN)/python manage.py run_warehouse_simulator --provision-token \
		--port $(SIM_PORT) --oms-url http://$(HOST):$(PORT) $(SIM_ARGS) & sim=$$!; \
	$(DEV_ENV) OMS_WAREHOUSE_URL=$${OMS_WAREHOUSE_URL:-http://127.0.0.1:$(SIM_PORT)} \
		$(BIN)/celery -A oms worker -l INFO --without-gossip --without-mingle \
		--without-heartbeat $(WORKER_ARGS) & worker=$$!; \
	$(DEV_ENV) $(BIN)/celery -A oms beat -l INFO & beat=$$!; \
	trap 'kill $$sim $$worker $$beat 2>/dev/null; wait' EXIT; trap 'exit 130' INT TERM; \
	$(DEV_ENV) OMS_WAREHOUSE_URL=$${OMS_WAREHOUSE_URL:-http://127.0.0.1:$(SIM_PORT)} \
		$(BIN)/python manage.py runserver $(HOST):$(PORT)

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

# One allocation run over 50,000 approved orders of 20 lines against a read-and-COPY floor
# (PostgreSQL). Options: make bench-alloc ARGS="--help"; a quick run: ARGS="--orders 5000".
bench-alloc: install
	$(BIN)/python -m tests.benchmarks.allocation $(ARGS)

# Server time (p50/p95) of the back-office queue and order pages at 100,000 orders.
# Options: make bench-ui ARGS="--help"; a quick run: ARGS="--orders 10000 --requests 50".
bench-ui: install
	$(BIN)/python -m tests.benchmarks.backoffice $(ARGS)

# reconcile_stock over 100,000 stock levels against one scan of the ledger (PostgreSQL).
# Options: make bench-reconcile ARGS="--help"; a quick run: ARGS="--items 500".
bench-reconcile: install
	$(BIN)/python -m tests.benchmarks.reconcile $(ARGS)

# A PNG of each main screen under docs/screenshots/ (demo data, the system's Chromium).
screenshots: install
	$(BIN)/python -m tests.browser.screenshots

# mypy checks the files listed in pyproject.toml ([tool.mypy]); its cache is .mypy_cache.
lint: install
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/lint-imports
	$(DEV_ENV) $(BIN)/mypy
	$(DEV_ENV) $(BIN)/python manage.py makemigrations --check --dry-run

clean:
	rm -rf $(VENV) var oms.sqlite3 oms.sqlite3-wal oms.sqlite3-shm celerybeat-schedule* .pytest_cache .hypothesis .mypy_cache
