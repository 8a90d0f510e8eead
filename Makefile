# The README's two commands: `make demo` and `make test`. Each one creates or
# updates .venv itself, so they work on a fresh clone with nothing installed.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: demo test test-fast test-deps venv lint check bench clean i18n

venv: $(STAMP)

# setup.py compiles the matcher's per-name path when a C++ compiler is present, so an
# edited matcher module means a rebuild.
$(STAMP): pyproject.toml setup.py matcher/_accel.pyx $(wildcard matcher/*.py)
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install -q --upgrade pip
	$(BIN)/python -m pip install -q -e '.[dev]'
	touch $(STAMP)

# A full scan of the demo world (started on a free loopback port, stopped after) with
# markwatch/demo/markwatch.toml: SQLite under var/demo/, digests as .eml in var/demo/outbox/.
demo: venv
	$(BIN)/markwatch scan --demo --no-progress $(if $(DATE),--date $(DATE))

# The Elasticsearch tests need a node: start one (scripts/es-node) unless MARKWATCH_ES_URL names a cluster.
test: test-deps venv
	@if [ -n "$$MARKWATCH_ES_URL" ]; then $(BIN)/python -m pytest -q; else \
	  url=$$(scripts/es-node start --name make-test) || exit 1; \
	  MARKWATCH_ES_URL=$$url $(BIN)/python -m pytest -q; rc=$$?; \
	  scripts/es-node stop --name make-test; exit $$rc; fi

# The edit loop: the tests that need no server (Elasticsearch, Redis, Chromium) and no whole crawl.
test-fast: venv
	$(BIN)/python -m pytest -q -m "not (es or browser or redis or slow)"

# Debian packages first, so that the compiler is there when the venv is built.
test-deps:
	scripts/test-deps

# What CI checks before the tests: lint, formatting, the import layers, types (the whole tree).
check: venv
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/lint-imports
	$(BIN)/mypy matcher/ crawler/ alerts/ markwatch/

lint: check

# The message catalogues (alerts/i18n.py): extract every marked string (Python, templates) and merge it
# into each language's messages.po; translate the new entries, then `pytest tests/test_i18n_catalogue.py`.
i18n: venv
	scripts/i18n-update

bench: venv
	$(BIN)/python benchmarks/bench_matcher.py

clean:
	rm -rf $(VENV) .pytest_cache build *.egg-info
