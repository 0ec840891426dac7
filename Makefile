# The two commands of the README: `make run` and `make test`. Each sets itself up.
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
# make run PORT=8100: the server, the emulator's webhook URL and the redirect origins follow it.
PORT ?= 8000
export PORT

.PHONY: run test schema emulator-pay clean bench bench-smoke

$(STAMP): requirements.txt requirements-dev.txt
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -r requirements-dev.txt
	touch $(STAMP)

## run: set up, migrate, seed the demo catalog, serve HTTP + WebSocket (Daphne) on 127.0.0.1:$(PORT)
run: $(STAMP)
	$(BIN)/python manage.py migrate --noinput
	$(BIN)/python manage.py seed_demo
	$(BIN)/python manage.py runserver 127.0.0.1:$(PORT)

## test: set up and run the whole suite (SQLite; PostgreSQL/Redis when DATABASE_URL/REDIS_URL are set)
test: $(STAMP)
	$(BIN)/python -m pytest $(PYTEST_ARGS)

## bench: the benchmark of docs/benchmarks.md (real Daphne on PostgreSQL, Redis for the two-process push;
## a few minutes): each figure beside its same-run baseline. BENCH_ARGS e.g. "--only webhooks,graphql".
bench: $(STAMP)
	$(BIN)/python -m bench $(BENCH_ARGS)

## bench-smoke: the same, small and short (under a minute); tests/bench/test_smoke.py runs it too
bench-smoke: $(STAMP)
	$(BIN)/python -m bench --smoke $(BENCH_ARGS)

## schema: regenerate schema/schema.graphql
schema: $(STAMP)
	$(BIN)/python manage.py graphql_schema

clean:
	rm -rf $(VENV) var db.sqlite3
