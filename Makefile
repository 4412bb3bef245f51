# Safety Net Monitor — the two commands: `make demo` and `make test` (`make check`: the style gates alone).
SHELL := /bin/bash
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
DEMO_DIR ?= demo
DEMO_DATE ?= 2026-11-20
DEMO_HOUSEHOLDS ?= 2000

.PHONY: install demo test setup check lint typecheck lock bench clean screenshots

install: $(VENV)/.installed

$(VENV)/.installed: requirements.lock pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --disable-pip-version-check uv==0.13.9
	$(BIN)/uv pip install --quiet --compile-bytecode --python $(BIN)/python --require-hashes -r requirements.lock
	$(BIN)/uv pip install --quiet --python $(BIN)/python --no-deps -e .
	touch $@

demo: install
	DEMO_DIR=$(DEMO_DIR) DEMO_DATE=$(DEMO_DATE) DEMO_HOUSEHOLDS=$(DEMO_HOUSEHOLDS) \
		$(BIN)/python -m safetynet.orchestration.demo

# The style gates first (cheap), then the machine (tools/setup-test-services: as root it installs and
# starts what the suite needs; otherwise it prints what to run), then the suite. CI (.ci/run) runs this.
# TEST_WORKERS pytest-xdist processes share the suite a whole module at a time (--dist loadfile), so a
# module's shared fixtures (a PostgreSQL database, an SMTP server, a Celery worker) stay in one process.
TEST_WORKERS ?= 2
test: check setup
	$(BIN)/python -m pytest -n $(TEST_WORKERS) --dist loadfile

setup:
	tools/setup-test-services

check: lint typecheck

lint: install
	$(BIN)/ruff check include dags plugins tests bench docs

typecheck: install
	$(BIN)/mypy include/safetynet

lock:
	$(BIN)/uv pip compile requirements.in -o requirements.lock -p 3.11 --generate-hashes

clean:
	rm -rf $(VENV) $(DEMO_DIR)

BENCH_HOUSEHOLDS ?= 400000
BENCH_SCALES ?= 0.25,0.5,1
bench: install
	$(BIN)/python -m bench.run --households $(BENCH_HOUSEHOLDS) --scales $(BENCH_SCALES)

screenshots: install  ## the README's pictures of the demo workbook (after make demo; LibreOffice, poppler)
	DEMO_DIR=$(DEMO_DIR) DEMO_DATE=$(DEMO_DATE) $(BIN)/python docs/make_screenshots.py
