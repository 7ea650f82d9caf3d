# gongzhi: the two commands a newcomer needs are `make run` and `make test`.
# Everything else here is what those two are made of.

SHELL := /bin/bash
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
DEV := GONGZHI_DEBUG=1

.PHONY: run test lint typecheck check-migrations ci install install-dev assets demo messages bench soak clean

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip

# Runtime dependencies only; re-installed when pyproject.toml changes.
$(VENV)/.installed: pyproject.toml | $(BIN)/python
	$(BIN)/pip install --quiet -e .
	touch $@

# Runtime plus test and lint tools.
$(VENV)/.installed-dev: pyproject.toml | $(BIN)/python
	$(BIN)/pip install --quiet -e '.[dev]'
	touch $(VENV)/.installed $@

install: $(VENV)/.installed assets
install-dev: $(VENV)/.installed-dev assets

## make assets: front-end libraries from npm (package-lock.json), served as static files
## from node_modules/ (ECharts); pages still work without them, so a missing npm only warns.
assets:
	@if [ -d node_modules/echarts/dist ]; then :; \
	elif command -v npm >/dev/null 2>&1; then npm ci --ignore-scripts --no-audit --no-fund; \
	else echo "WARNING: npm is not installed: charts are drawn only as tables (apt-get install npm, then make assets)." >&2; fi

## make run: install, migrate, load the demo city if the database is empty, serve on :8000
run: install
	$(DEV) $(BIN)/gongzhi migrate --noinput
	$(DEV) $(BIN)/gongzhi demo --if-empty
	$(DEV) $(BIN)/gongzhi serve

demo: install
	$(DEV) $(BIN)/gongzhi migrate --noinput
	$(DEV) $(BIN)/gongzhi demo

## make test: install what tests need and run the whole suite (DATABASE_URL picks the database)
test: install-dev
	$(BIN)/pytest -q $(PYTEST_ARGS)

lint: install-dev
	$(BIN)/ruff check src tests bench
	$(BIN)/ruff format --check src tests bench
	$(BIN)/lint-imports

typecheck: install-dev
	DJANGO_SETTINGS_MODULE=gongzhi.config.settings_test $(BIN)/mypy src

check-migrations: install-dev
	DJANGO_SETTINGS_MODULE=gongzhi.config.settings_test $(BIN)/gongzhi makemigrations --check --dry-run

ci: lint typecheck check-migrations test

## make messages: compile the translations (needs only Python: polib)
messages: install-dev
	$(BIN)/python -m gongzhi.core.i18n compile

## make bench: the benchmarks' quick forms, figures in bench/results/ (bench_evaluation.py,
## which generates ten million cases, runs only by hand; see bench/README.md)
bench: install-dev
	mkdir -p bench/results
	$(BIN)/python bench/bench_intake.py --out bench/results/intake.md
	set -o pipefail; $(BIN)/python bench/bench_subtree.py | tee bench/results/subtree.txt
	set -o pipefail; $(BIN)/python bench/bench_triage.py --repeats 1 | tee bench/results/triage.txt

## make soak: intake for ten minutes at 80 % of the measured maximum (the last
## bench/results/intake.md, else a short saturation run), memory of every server process
## and the database's size over time, in bench/results/soak.md; not part of make test or CI.
## SOAK_ARGS="--database postgres --minutes 30" and the like (bench/README.md).
soak: install-dev
	mkdir -p bench/results
	$(BIN)/python bench/soak.py --out bench/results/soak.md $(SOAK_ARGS)

clean:
	rm -rf $(VENV) var test-artifacts node_modules
