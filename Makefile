# Myelin: `make run` serves the app with a demo clinic; `make test` runs every check.
# Both set up whatever is missing first (virtualenv, locked packages, PostgreSQL, Redis).
SHELL := /bin/bash
PYTHON ?= $(shell command -v python3.13 2>/dev/null || echo python3)
VENV := .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed-$(shell sha256sum requirements-dev.txt | cut -c1-12)

.PHONY: run test install services stop bench lock lint format clean-var help

help:
	@echo "make run      - start Myelin (PostgreSQL, Redis, web, Celery worker and beat) with a demo clinic"
	@echo "make test     - lint, type-check and run the whole test suite, browser tests included"
	@echo "make bench    - build or reuse a clinic-sized data set and print benchmark figures"
	@echo "make services - start only PostgreSQL and Redis (addresses in var/stack.env); make stop"
	@echo "make lock     - re-lock requirements*.txt with hashes after editing pyproject.toml"

$(STAMP): requirements-dev.txt .python-version
	@test -x $(PY) || $(PYTHON) -m venv $(VENV)
	@$(PY) -c 'import sys; assert sys.version_info[:2] == (3, 13), f"Python 3.13 is required, found {sys.version.split()[0]}"'
	@test -x $(VENV)/bin/uv || $(PY) -m pip install -q --disable-pip-version-check uv
	$(VENV)/bin/uv pip sync --quiet --python $(PY) --require-hashes requirements-dev.txt
	@rm -f $(VENV)/.installed-*
	@touch $(STAMP)

install: $(STAMP)

run: install
	$(PY) -m clinic.devstack run

test: install
	$(PY) -m clinic.devstack test $(PYTEST_ARGS)

services: install
	$(PY) -m clinic.devstack services

stop: install
	$(PY) -m clinic.devstack stop

bench: install
	$(PY) -m clinic.devstack bench

lint: install
	$(VENV)/bin/ruff check . && $(VENV)/bin/ruff format --check .

format: install
	$(VENV)/bin/ruff check --fix . && $(VENV)/bin/ruff format .

lock: install
	$(VENV)/bin/uv pip compile pyproject.toml --python-version 3.13 --generate-hashes --quiet -o requirements.txt
	$(VENV)/bin/uv pip compile pyproject.toml --group dev --python-version 3.13 --generate-hashes --quiet -o requirements-dev.txt
