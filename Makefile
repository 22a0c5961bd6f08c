# massage_booking: `make run`, `make test`, `make lint`, `make fmt`, `make bench`, `make clean`.
SHELL := /bin/bash
.SHELLFLAGS := -eu -o pipefail -c
.DEFAULT_GOAL := help

PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed
FLASK  := $(BIN)/flask --app app
PYTEST := $(BIN)/pytest
HOST   ?= 127.0.0.1
PORT   ?= 5000
# localstripe's port for `make run` (card payments in development).
STRIPE_PORT ?= 8420
# Extra pytest arguments for every lane, e.g. `make test PYTEST_ARGS=-x`.
PYTEST_ARGS ?=

.PHONY: help install run test lint fmt bench clean

help:
	@echo "make run    venv + install, migrate, seed demo data, start localstripe and serve on http://$(HOST):$(PORT)"
	@echo "make test   ruff, then the SQLite, PostgreSQL and browser test lanes"
	@echo "make lint   ruff + mypy        make fmt    ruff format + safe fixes"
	@echo "make bench  every benchmarks/*.py (benchmarks/README.md)   make clean  caches and test artifacts"

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)

# Reinstall only when pyproject.toml is newer than the stamp.
$(STAMP): pyproject.toml | $(BIN)/python
	$(BIN)/pip install -e '.[dev]'
	touch $@

install: $(STAMP)

# The launcher starts localstripe (a local fake Stripe, a dev extra) on STRIPE_PORT, or a free port if that
# one is taken, registers the app's webhook with it, prints the banner with the test cards and runs
# `flask run`; Ctrl-C stops both. Without localstripe it says so and the app runs in "pay at the visit" mode;
# with STRIPE_SECRET_KEY in the environment it starts no localstripe (massage_booking/localstripe_dev.py).
run: $(STAMP)
	$(FLASK) db upgrade
	$(FLASK) seed-demo
	@$(BIN)/python -m massage_booking.localstripe_dev --app app --host $(HOST) --port $(PORT) \
	  --stripe-port $(STRIPE_PORT)

# The three lanes (see tests/conftest.py). A TEST_DATABASE_URL in the environment must not turn the SQLite
# and browser lanes into PostgreSQL runs.
SQLITE_LANE   := env -u TEST_DATABASE_URL -u TEST_POSTGRES $(PYTEST) -m "not e2e" $(PYTEST_ARGS)
POSTGRES_LANE := $(PYTEST) --postgres tests/integration tests/functional $(PYTEST_ARGS)
BROWSER_LANE  := env -u TEST_DATABASE_URL -u TEST_POSTGRES $(PYTEST) tests/e2e $(PYTEST_ARGS)
# PARALLEL=1 runs the PostgreSQL lane alongside the SQLite lane (its output is shown when it ends):
# about a third less wall time on 2 cores, but timing-sensitive tests then share the CPU.
PARALLEL ?= 0

# Every lane runs even if an earlier one fails; the target fails if any did. Each pytest run appends a
# "LANE ..." line (tests/conftest.py) to the summary printed at the end.
test: $(STAMP)
	@start=$$SECONDS; failed=0; tmp=$$(mktemp -d); trap 'rm -rf "$$tmp"' EXIT; \
	export LANE_SUMMARY_FILE="$$tmp/summary"; \
	header() { printf '\n\033[1m==================== %s ====================\033[0m\n' "$$1"; }; \
	record() { if [ "$$2" -ne 0 ]; then echo "FAILED  $$1 (exit $$2)" >> "$$LANE_SUMMARY_FILE"; failed=1; fi; }; \
	step() { \
	  local title=$$1 rc=0; shift; header "$$title"; "$$@" || rc=$$?; record "$$title" "$$rc"; \
	  if [ "$$rc" -eq 2 ]; then echo "interrupted"; exit 130; fi; \
	}; \
	step "lint: ruff check" $(BIN)/ruff check .; \
	step "lint: mypy (domain, schemas)" $(BIN)/mypy; \
	if [ "$(PARALLEL)" = 1 ]; then \
	  $(POSTGRES_LANE) > "$$tmp/postgres.log" 2>&1 & postgres_pid=$$!; \
	  trap 'kill -TERM $$postgres_pid 2>/dev/null || true; wait $$postgres_pid || true; rm -rf "$$tmp"' EXIT; \
	  step "lane 1/3: SQLite (unit, integration, functional)" $(SQLITE_LANE); \
	  rc=0; wait "$$postgres_pid" || rc=$$?; \
	  header "lane 2/3: PostgreSQL (integration, functional), run alongside lane 1"; cat "$$tmp/postgres.log"; \
	  record "lane 2/3: PostgreSQL" "$$rc"; \
	else \
	  step "lane 1/3: SQLite (unit, integration, functional)" $(SQLITE_LANE); \
	  step "lane 2/3: PostgreSQL (integration, functional)" $(POSTGRES_LANE); \
	fi; \
	step "lane 3/3: browser (e2e, Playwright + chromium)" $(BROWSER_LANE); \
	header summary; cat "$$LANE_SUMMARY_FILE"; \
	skipped=$$(grep -c -- "-- SKIPPED" "$$LANE_SUMMARY_FILE" || true); \
	echo "make test: $$((SECONDS - start)) s, $$( ((failed)) && echo FAILED || echo passed )$$( ((skipped)) && echo ", but $$skipped lane(s) SKIPPED" || true)"; \
	exit $$failed

lint: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/mypy

fmt: $(STAMP)
	$(BIN)/ruff format .
	$(BIN)/ruff check --fix .

# One benchmark with its own options: `make bench BENCH=search BENCH_ARGS="--therapists 100000"`
# (see benchmarks/README.md). BENCH_ARGS go to every script run, so name one with BENCH when giving them.
BENCH      ?= *
BENCH_ARGS ?=

bench: $(STAMP)
	@shopt -s nullglob; failed=0; scripts=(benchmarks/$(BENCH).py); \
	if ((!$${#scripts[@]})); then echo "no benchmarks matching benchmarks/$(BENCH).py"; exit 0; fi; \
	for script in "$${scripts[@]}"; do \
	  printf '\n\033[1m== %s ==\033[0m\n' "$$script"; \
	  PYTHONPATH=$(CURDIR) $(BIN)/python "$$script" $(BENCH_ARGS) || { echo "FAILED: $$script"; failed=1; }; \
	done; exit $$failed

clean:
	rm -rf .pytest_cache .ruff_cache .hypothesis build dist tests/artifacts *.egg-info
	find . -path ./$(VENV) -prune -o -type d -name __pycache__ -exec rm -rf {} +
