# Two commands matter: `make demo` (the whole product on embedded defaults) and `make test`.
SHELL := /bin/bash
.DEFAULT_GOAL := help

VENV := .venv
PY := $(VENV)/bin/python
# The first interpreter that really is Python >= 3.12 (a pyenv shim may exist for a version
# that is not selected, so each candidate is run, not just looked up).
PYTHON ?= $(shell for c in python3.13 python3.12 python3; do \
	if command -v $$c >/dev/null 2>&1 && \
	   $$c -c 'import sys; sys.exit(sys.version_info < (3, 12))' >/dev/null 2>&1; then \
	   echo $$c; break; fi; done)

.PHONY: help demo test lint format install clean

help:
	@echo "make demo   - install, migrate, load demo data and start Invitetrail on 127.0.0.1:8000"
	@echo "make test   - install and run the whole test suite"
	@echo "make lint   - ruff check, format check and the import contracts (layer order)"

$(VENV)/.installed: pyproject.toml
	@if [ -z "$(PYTHON)" ]; then \
	  echo "Invitetrail needs Python 3.12 or newer and found none: install it" \
	       "(Debian: apt-get install python3.12 python3.12-venv; or pyenv install 3.12)" \
	       "and run make again." >&2; exit 1; fi
	@if [ -x $(PY) ] && ! $(PY) -c 'import sys; sys.exit(sys.version_info < (3, 12))'; then \
	  echo "Removing $(VENV): it was made with Python older than 3.12."; rm -rf $(VENV); fi
	@[ -x $(PY) ] || { echo "Creating $(VENV) with $$($(PYTHON) --version)"; \
	  $(PYTHON) -m venv $(VENV) || { echo "Could not create a virtual environment:" \
	  "install the venv module (Debian: apt-get install python3-venv)." >&2; exit 1; }; }
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -e '.[dev]'
	@touch $@

install: $(VENV)/.installed

# rundemo checks its ports before it migrates and loads the demo data (--setup), so a second
# `make demo` says in one line that one is running and touches nothing.
# `make demo DEMO_PORTS="--web-port 8001 --discord-port 8101"` runs it on other ports.
demo: install
	@$(PY) manage.py rundemo --setup $(DEMO_PORTS)

test: install
	$(PY) -m pytest

lint: install
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .
	$(VENV)/bin/lint-imports

format: install
	$(VENV)/bin/ruff check --fix .
	$(VENV)/bin/ruff format .

clean:
	rm -rf $(VENV) var .pytest_cache
