# Everything starts from a fresh clone with only python3, openssl and make.
# uv.lock pins every runtime and development package with its hashes; uv (itself pinned with
# hashes in packaging/uv.txt, installed into .tools/) makes .venv exactly that set, every time.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
TOOLS := .tools
UV := $(TOOLS)/bin/uv
# uv uses the python3 given here (never one it downloads) and fails if uv.lock is stale; it
# compiles every package's bytecode as it installs (else each run compiles it again wherever
# the venv is not writable, and flow-ssl's start-up doubles).
export UV_PYTHON_DOWNLOADS := never
export UV_COMPILE_BYTECODE := 1
UV_SYNC := $(UV) sync --locked --quiet --python $(PYTHON)
DEMO := demo
DIST ?= dist
# A throwaway venv for `make test-latest`.
LATEST := .venv-latest
# Other openssl builds to run the suite against (make test-matrix); CI has them here.
OPENSSL_BIN ?= ../shared/openssl/bin

.PHONY: install dev test test-latest test-matrix lint typecheck check demo bench dist lock clean

$(UV): packaging/uv.txt
	rm -rf $(TOOLS)
	$(PYTHON) -m venv $(TOOLS)
	$(TOOLS)/bin/python -m pip install --quiet --disable-pip-version-check --require-hashes \
	    -r packaging/uv.txt
	touch $@

# The locked runtime set (no development tools); it leaves tools a `make dev` added.
install: $(UV)
	$(UV_SYNC) --no-dev --inexact

# The locked runtime and development set, exactly: anything else in .venv is removed.
dev: $(UV)
	$(UV_SYNC)

# Both cores: most of the suite's time is openssl processes, which run side by side.
PYTEST := $(BIN)/python -m pytest -n auto

test: dev
	$(PYTEST)

# The fast suite against the newest releases pyproject.toml allows (not the lock): tells early
# when an upstream release breaks something. Not in CI.
test-latest: $(UV)
	rm -rf $(LATEST)
	$(UV) venv --quiet --python $(PYTHON) $(LATEST)
	VIRTUAL_ENV=$(LATEST) $(UV) pip install --quiet --upgrade -e . --group dev
	@VIRTUAL_ENV=$(LATEST) $(UV) pip list --quiet 2>/dev/null | grep -iE '^(typer|pydantic|pexpect|cryptography|pytest) '
	$(LATEST)/bin/python -m pytest -n auto -q -m "not slow" -p no:cacheprovider
	rm -rf $(LATEST)

# The suite once per openssl build in $(OPENSSL_BIN), the costly (slow) tests left to `make test`.
test-matrix: dev
	@if [ ! -d "$(OPENSSL_BIN)" ]; then \
	    echo "test-matrix: skipped, $(OPENSSL_BIN) does not exist (set OPENSSL_BIN)"; exit 0; fi; \
	status=0; \
	for wrapper in "$(OPENSSL_BIN)"/openssl-*; do \
	    binary="$$(cd "$$(dirname "$$wrapper")" && pwd)/$$(basename "$$wrapper")"; \
	    echo "== $$("$$binary" version)"; \
	    FLOW_SSL_OPENSSL="$$binary" $(PYTEST) -q -m "not slow" -p no:cacheprovider \
	        || { status=1; echo "FAILED with $$binary"; }; \
	done; \
	exit $$status

lint: dev typecheck
	$(BIN)/ruff check flow_ssl tests scripts
	$(BIN)/ruff format --check flow_ssl tests scripts

typecheck: dev
	$(BIN)/mypy --strict flow_ssl tests scripts

check: lint test

# Refresh uv.lock to the newest releases pyproject.toml allows; review its diff like code.
lock: $(UV)
	$(UV) lock --upgrade --python $(PYTHON)

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

# A wheelhouse for a server with no internet: flow-ssl and the locked runtime set, checked
# against the lock's hashes, for this machine's Python and platform (build it on one that
# matches the server).
dist: $(UV)
	rm -rf $(DIST) && mkdir -p $(DIST)
	$(UV) export --locked --quiet --no-dev --no-emit-project --python $(PYTHON) \
	    --output-file $(DIST)/requirements.txt
	$(TOOLS)/bin/python -m pip wheel --quiet --disable-pip-version-check --require-hashes \
	    --no-deps --wheel-dir $(DIST) -r $(DIST)/requirements.txt
	$(UV) build --quiet --wheel --python $(PYTHON) --out-dir $(DIST)
	rm -f $(DIST)/.gitignore
	cp packaging/INSTALL.txt $(DIST)/INSTALL.txt
	@ls $(DIST)

clean:
	rm -rf $(VENV) $(TOOLS) $(LATEST) $(DEMO) $(DIST) build .pytest_cache .mypy_cache .ruff_cache
