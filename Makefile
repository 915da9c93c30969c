# The two commands of the README: `make run` and `make test`. Everything they need is installed here.
PYTHON ?= $(shell command -v python3.11 2>/dev/null || command -v python3)
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
export ARTIFACT_DATA_DIR ?= $(CURDIR)/instance
HOST ?= 127.0.0.1
PORT ?= 5000

.PHONY: run test test-e2e lint bench serve clean

# Debian packages: WeasyPrint's (pango ships with the image; harfbuzz-subset makes smaller
# PDFs), the fonts of stamped copies (DejaVu Sans, and WenQuanYi Micro Hei, the lightest with
# Chinese, Japanese and Korean glyphs: 1.6 MB) and the sqlite3 shell (operations, and the
# audit-tampering acceptance test), clamd (the virus-scanning tests start their own, on a
# private socket with a signature database they write; no signature download) and SoftHSM2
# (the PKCS#11 tests make their own token in a temporary directory).
SYSTEM_PACKAGES := libharfbuzz-subset0 fonts-dejavu-core fonts-wqy-microhei sqlite3 clamav-daemon softhsm2 redis-server
# What `make bench` needs on top: the HTTP load generator of bench/pages.py.
BENCH_PACKAGES := wrk
# The browser tests drive Debian's chromium (never a downloaded browser); .ci/run installs it.
CHROMIUM := /usr/bin/chromium
E2E := tests/e2e
AXE := $(E2E)/node_modules/axe-core/axe.min.js

$(STAMP): pyproject.toml
	@bash scripts/system-deps.sh $(SYSTEM_PACKAGES)
	@$(PYTHON) -c 'import sys; sys.exit(0 if sys.version_info >= (3, 11) else "Python 3.11 or newer is needed")'
	test -d $(VENV) || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[test,dev]'
	touch $(STAMP)

run: $(STAMP)
	ARTIFACT_ENV=development $(BIN)/flask --app app init
	ARTIFACT_ENV=development $(BIN)/flask --app app seed-demo
	@echo ""
	@echo "Artifact demo: open http://$(HOST):$(PORT)/login and sign in with an account above."
	@echo "Staff and admin accounts set up an authenticator app (TOTP) at their first sign-in."
	@# The job queue's worker (mail, reminders) runs beside the dev server and stops with it.
	@ARTIFACT_ENV=development $(BIN)/flask --app app worker & worker=$$!; \
	  trap 'kill $$worker 2>/dev/null; wait $$worker 2>/dev/null' EXIT INT TERM; \
	  ARTIFACT_ENV=development $(BIN)/flask --app app run --host $(HOST) --port $(PORT)

# axe-core for the accessibility tests, from the npm registry at the version package-lock.json pins.
$(AXE): $(E2E)/package.json $(E2E)/package-lock.json
	@if command -v npm >/dev/null 2>&1; then \
	  { npm ci --prefix $(E2E) --no-audit --no-fund --loglevel=error && touch $@; } \
	    || echo "note: npm ci failed, so the accessibility tests will be skipped"; \
	else echo "note: npm is absent, so the accessibility tests will be skipped (install Node.js and npm)"; fi

test: $(STAMP) $(AXE)
	@test -x $(CHROMIUM) || echo "note: the browser tests (tests/e2e) will be SKIPPED: $(CHROMIUM) is absent; enable them with: apt-get install chromium"
	@command -v clamd >/dev/null || test -x /usr/sbin/clamd || echo "note: the virus-scanning tests will be SKIPPED: clamd is absent; enable them with: apt-get install clamav-daemon"
	@command -v softhsm2-util >/dev/null || echo "note: the PKCS#11 tests will be SKIPPED: SoftHSM2 is absent; enable them with: apt-get install softhsm2"
	$(BIN)/python -m pytest $(PYTEST_ARGS)

test-e2e: $(STAMP) $(AXE)
	@test -x $(CHROMIUM) || echo "note: the browser tests (tests/e2e) will be SKIPPED: $(CHROMIUM) is absent; enable them with: apt-get install chromium"
	$(BIN)/python -m pytest -m e2e $(E2E) $(PYTEST_ARGS)

# Production serving: gunicorn as gunicorn.conf.py says (ARTIFACT_BIND, ARTIFACT_WORKERS, ...)
# and the job queue's worker beside it (`flask --app app worker`: mail, webhooks, reminders),
# stopped with it. Under a service manager, run the worker as its own unit instead (README,
# Production) and start this with WORKER=0.
WORKER ?= 1
serve: $(STAMP)
	@if [ "$(WORKER)" = "0" ]; then exec $(BIN)/gunicorn -c gunicorn.conf.py app:app; fi; \
	  $(BIN)/flask --app app worker & worker=$$!; \
	  trap 'kill $$worker 2>/dev/null; wait $$worker 2>/dev/null' EXIT INT TERM; \
	  $(BIN)/gunicorn -c gunicorn.conf.py app:app

# Style, types (strict on kernel, policy and services) and the import rules of README's
# "Layout and rules" (import-linter contracts in pyproject.toml).
lint: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy artifact
	$(BIN)/lint-imports

bench: $(STAMP)
	@bash scripts/system-deps.sh $(BENCH_PACKAGES)
	@for script in bench/*.py; do echo "== $$script"; $(BIN)/python $$script || exit 1; done

clean:
	rm -rf $(VENV) instance .pytest_cache $(E2E)/node_modules $(E2E)/screenshots
