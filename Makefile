# The two commands of the README: `make run` and `make test`. Everything else builds on them.
PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV := .venv
BIN := $(VENV)/bin
PORT ?= 8000
# Tests never need a real secret; the service itself refuses to start without one when DEBUG is off.
TEST_ENV := SECRET_KEY=insecure-test-only-key

.PHONY: run test test-browser test-services lint fuzz bench bench-trace bench-replicas bench-dashboard backup restore clean dashboard-assets

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip

$(VENV)/.installed: pyproject.toml | $(BIN)/python
	$(BIN)/pip install --quiet -e '.[dev]'
	touch $@

run: $(VENV)/.installed
	DEBUG=1 $(BIN)/python manage.py migrate --noinput
	DEBUG=1 $(BIN)/python manage.py rebuild_records --stale
	DEBUG=1 $(BIN)/python manage.py build_gazetteer
	DEBUG=1 $(BIN)/python manage.py load_sourced_fixtures
	DEBUG=1 $(BIN)/python manage.py runserver --noreload 127.0.0.1:$(PORT)

test: $(VENV)/.installed
	$(TEST_ENV) $(BIN)/pytest -m "not browser and not services" $(PYTEST_ARGS)

# The dashboard in headless Chromium (Debian's chromium and chromium-driver must be installed; .ci/run does).
test-browser: $(VENV)/.installed
	$(BIN)/pip install --quiet -e '.[browser]'
	$(TEST_ENV) $(BIN)/pytest -m browser $(PYTEST_ARGS)

# A PostgreSQL primary with a streaming replica, Redis and nginx, started by .ci/run (tests/test_replicas.py
# and tests/test_nginx.py name the environment they need).
test-services: $(VENV)/.installed
	$(TEST_ENV) $(BIN)/pytest -m services $(PYTEST_ARGS)

lint: $(VENV)/.installed
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(TEST_ENV) $(BIN)/python manage.py check
	$(TEST_ENV) $(BIN)/python manage.py makemigrations --check --dry-run
	$(TEST_ENV) $(BIN)/python manage.py spectacular --validate --fail-on-warn --file /dev/null

# Schema fuzzing against a served instance (schemathesis); FUZZ_EXAMPLES per operation, default 20.
fuzz: $(VENV)/.installed
	$(BIN)/pip install --quiet -e '.[fuzz]'
	scripts/fuzz.sh $(or $(FUZZ_EXAMPLES),20)

# Side-by-side benchmark with Datasette and raw SQL (not part of CI): bench/RESULTS.md. BENCH_1M=1 adds 1M.
bench: $(VENV)/.installed
	$(BIN)/pip install --quiet -e '.[bench]'
	command -v wrk >/dev/null || (apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq wrk)
	$(BIN)/python bench/run.py $(BENCH_ARGS)

# The dashboard's map at 200k and 1M synthetic incidents in headless Chromium (not part of CI): bench/RESULTS.md.
bench-dashboard: $(VENV)/.installed
	$(BIN)/pip install --quiet -e '.[browser]'
	$(BIN)/python bench/dashboard.py

# Tracing at 1M incidents with about 3.3M serials, tracker vs Datasette vs raw SQL (not CI): bench/RESULTS.md.
bench-trace: $(VENV)/.installed
	$(BIN)/pip install --quiet -e '.[bench]'
	$(BIN)/python bench/trace.py $(BENCH_ARGS)

# PostgreSQL primary alone vs. with a streaming replica (not part of CI; docs/deploy.md):
# make bench-replicas PRIMARY=postgres://postgres@127.0.0.1:5432 REPLICA=postgres://postgres@127.0.0.1:5433
bench-replicas: $(VENV)/.installed
	command -v wrk >/dev/null || (apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq wrk)
	$(BIN)/python bench/replicas.py --primary $(PRIMARY) --replica $(REPLICA) $(BENCH_ARGS)

# The dashboard's assets, committed (rerun to rebuild them): the country outlines (Natural Earth via a PyPI
# wheel), and Leaflet, Leaflet.markercluster and axe-core from the npm registry, checked against their pinned
# integrity hashes (incidents/static/vendor/VENDORED.json).
dashboard-assets: $(VENV)/.installed
	$(BIN)/pip install --quiet -e '.[assets]'
	$(BIN)/python scripts/build_outlines.py
	$(BIN)/python scripts/vendor_assets.py

# Backups of the database DATABASE_URL names (default db.sqlite3): `make backup [BACKUP=file]`, then
# `make restore BACKUP=file` with the service stopped.
BACKUP ?= backups/tracker-$(shell date -u +%Y%m%dT%H%M%SZ).backup
backup: $(VENV)/.installed
	DEBUG=1 $(BIN)/python manage.py backup_database $(BACKUP)

restore: $(VENV)/.installed
	@test -n "$(filter command line,$(origin BACKUP))" || (echo "usage: make restore BACKUP=file" >&2; exit 2)
	DEBUG=1 $(BIN)/python manage.py restore_database $(BACKUP)

clean:
	rm -rf $(VENV) .pytest_cache .ruff_cache staticfiles
