# Everything starts from a fresh clone with only python3, openssl and make:
# `make install` creates .venv and installs the project with its dev tools.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed-stamp
DEMO := demo

.PHONY: install test lint typecheck check demo bench clean

install: $(STAMP)

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --disable-pip-version-check -e '.[dev]'
	touch $(STAMP)

test: install
	$(BIN)/python -m pytest

lint: install
	$(BIN)/ruff check flow_ssl tests scripts
	$(BIN)/ruff format --check flow_ssl tests scripts
	$(BIN)/mypy --strict flow_ssl tests scripts

check: lint test

# The main job on a built-in default: a self-signed certificate for flow.mycompany.com
# with the vendor page's example subject, answering openssl's questions, then shown.
demo: install
	mkdir -p $(DEMO)
	$(BIN)/flow-ssl selfsigned --force --cn flow.mycompany.com \
	    --san flow-analytics.mycompany.com --san developer-info.mycompany.com \
	    --country US --state Colorado --locality Denver --org "My Company" \
	    --ou "Software Engineering" --email admin@mycompany.com \
	    --keyout $(DEMO)/flow.mycompany.com.key --out $(DEMO)/flow.mycompany.com.crt
	@echo
	$(BIN)/flow-ssl inspect $(DEMO)/flow.mycompany.com.crt

bench: install
	$(BIN)/python scripts/bench.py

clean:
	rm -rf $(VENV) $(DEMO) .pytest_cache .mypy_cache .ruff_cache
