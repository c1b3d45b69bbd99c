# The two commands a newcomer needs: `make run` and `make test`. Everything else is set up by them.
PYTHON ?= python3.11
VENV ?= .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
NODE_STAMP := node_modules/.installed

.PHONY: run test lint bench clean setup demo

$(STAMP): pyproject.toml
	@command -v $(PYTHON) >/dev/null || { echo "needs $(PYTHON) (supported: 3.10 to 3.12)"; exit 1; }
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e '.[dev]'
	touch $(STAMP)

$(NODE_STAMP): package.json
	@if command -v npm >/dev/null; then npm install --no-audit --no-fund --silent && touch $(NODE_STAMP); \
	else echo "npm not found: the bpmnlint check of processes/ is skipped, the pages run without htmx"; fi

setup: $(STAMP)

## Set up, migrate the embedded database, deploy processes/ and rules/, load the demo, serve on :8000.
run: $(STAMP) $(NODE_STAMP)
	$(BIN)/orchestrator migrate
	$(BIN)/orchestrator deploy
	$(BIN)/orchestrator demo
	$(BIN)/orchestrator run

## Set up and run the whole test suite (DATABASE_URL picks the database; SQLite by default).
test: $(STAMP) $(NODE_STAMP)
	$(BIN)/pytest -q --durations=15

lint: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/lint-imports
	$(BIN)/mypy service adapters

bench: $(STAMP)
	$(BIN)/python -m bench

clean:
	rm -rf var .pytest_cache
