# Two commands on a fresh clone: `make up` (deploy the example, print a live URL) and `make test`.
SHELL := /bin/bash
PY ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
DATA_DIR ?= $(CURDIR)/.data

.PHONY: up test lint system-deps serve clean bench

$(STAMP): pyproject.toml
	test -x $(BIN)/python || $(PY) -m venv $(VENV)
	$(BIN)/pip install -q --upgrade pip
	$(BIN)/pip install -q -e '.[dev]'
	touch $(STAMP)

# Debian packages the tests need (PostgreSQL server); installed only when run as root and missing.
system-deps:
	@bash scripts/system-deps.sh

# Deploys the Python example; `dockyard up` starts the control plane in the background when needed.
up: $(STAMP)
	DOCKYARD_DATA_DIR=$(DATA_DIR) $(BIN)/dockyard up examples/hello-python
	@echo "Use it: export DOCKYARD_DATA_DIR=$(DATA_DIR) PATH=$(CURDIR)/$(BIN):\$$PATH; dockyard ps; dockyard up <folder>"

serve: $(STAMP)
	DOCKYARD_DATA_DIR=$(DATA_DIR) $(BIN)/dockyard serve

lint: $(STAMP)
	$(BIN)/ruff check src tests bench

# Probes in tests may only reach loopback: no packet or DNS query leaves this machine. As root the
# container engine can always be set up, so its tests must run (DOCKYARD_REQUIRE_ENGINE), not skip.
test: $(STAMP) system-deps lint
	DOCKYARD_PROBE_ALLOW=127.0.0.0/8,::1/128 DOCKYARD_REQUIRE_ENGINE=$$([ "$$(id -u)" = 0 ] && echo 1) \
	  bash scripts/with-container-engine.sh bash scripts/with-test-postgres.sh $(BIN)/pytest -q -rs

bench: $(STAMP)
	$(BIN)/python bench/api_scale.py

clean:
	rm -rf $(VENV) .venv-tools .data .tmp
