# Everything starts from a fresh clone with only python3, openssl and make.
# `make install` makes .venv with the tool alone (its runtime dependencies); test, lint,
# typecheck and bench add the development tools on demand, with a stamp of their own.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
PIP := $(BIN)/python -m pip install --quiet --disable-pip-version-check
RUNTIME_STAMP := $(VENV)/.runtime-stamp
DEV_STAMP := $(VENV)/.dev-stamp
DEMO := demo
# Other openssl builds to run the suite against (make test-matrix); CI has them here.
OPENSSL_BIN ?= ../shared/openssl/bin

.PHONY: install dev test test-matrix lint typecheck check demo bench dist clean

install: $(RUNTIME_STAMP)

$(RUNTIME_STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(PIP) -e .
	touch $@

dev: $(DEV_STAMP)

$(DEV_STAMP): $(RUNTIME_STAMP) pyproject.toml
	$(PIP) -e '.[dev]'
	touch $@

test: dev
	$(BIN)/python -m pytest

# The suite once per openssl build in $(OPENSSL_BIN), the costly (slow) tests left to `make test`.
test-matrix: dev
	@if [ ! -d "$(OPENSSL_BIN)" ]; then \
	    echo "test-matrix: skipped, $(OPENSSL_BIN) does not exist (set OPENSSL_BIN)"; exit 0; fi; \
	status=0; \
	for wrapper in "$(OPENSSL_BIN)"/openssl-*; do \
	    binary="$$(cd "$$(dirname "$$wrapper")" && pwd)/$$(basename "$$wrapper")"; \
	    echo "== $$("$$binary" version)"; \
	    FLOW_SSL_OPENSSL="$$binary" $(BIN)/python -m pytest -q -m "not slow" -p no:cacheprovider \
	        || { status=1; echo "FAILED with $$binary"; }; \
	done; \
	exit $$status

lint: dev typecheck
	$(BIN)/ruff check flow_ssl tests scripts
	$(BIN)/ruff format --check flow_ssl tests scripts

typecheck: dev
	$(BIN)/mypy --strict flow_ssl tests scripts

check: lint test

# The main job on a built-in default: a self-signed certificate for flow.mycompany.com
# with the vendor page's example subject, answering openssl's questions, then shown.
demo: install
	rm -rf $(DEMO) && mkdir -p $(DEMO)
	$(BIN)/flow-ssl selfsigned --cn flow.mycompany.com \
	    --san flow-analytics.mycompany.com --san developer-info.mycompany.com \
	    --country US --state Colorado --locality Denver --org "My Company" \
	    --ou "Software Engineering" --email admin@mycompany.com \
	    --keyout $(DEMO)/flow.mycompany.com.key --out $(DEMO)/flow.mycompany.com.crt
	@echo
	$(BIN)/flow-ssl inspect $(DEMO)/flow.mycompany.com.crt

bench: dev
	$(BIN)/python scripts/bench.py

# A wheelhouse for a server with no internet: flow-ssl and every runtime dependency, for
# this machine's Python and platform (build it on one that matches the server).
dist: install
	rm -rf dist && mkdir -p dist
	$(BIN)/python -m pip wheel --quiet --disable-pip-version-check --wheel-dir dist .
	cp packaging/INSTALL.txt dist/INSTALL.txt
	@ls dist

clean:
	rm -rf $(VENV) $(DEMO) dist build .pytest_cache .mypy_cache .ruff_cache
