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
# PDFs) and the sqlite3 shell (operations, and the audit-tampering acceptance test).
SYSTEM_PACKAGES := libharfbuzz-subset0 fonts-dejavu-core sqlite3

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
	ARTIFACT_ENV=development $(BIN)/flask --app app run --host $(HOST) --port $(PORT)

test: $(STAMP)
	$(BIN)/python -m pytest $(PYTEST_ARGS)

lint: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/mypy artifact

bench: $(STAMP)
	@for script in bench/*.py; do echo "== $$script"; $(BIN)/python $$script || exit 1; done

clean:
	rm -rf $(VENV) instance .pytest_cache
