# The two commands of the README: `make run` and `make test`. Each sets itself up.
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
# make run PORT=8100: the server, the emulator's webhook URL and the redirect origins follow it.
PORT ?= 8000
export PORT

.PHONY: run test schema emulator-pay clean bench bench-smoke client client-for-run client-for-test

# The React client (client/): npm ci when the lockfile changes, a build when its
# sources or the schema change; skipped otherwise (make's timestamps).
NPM := $(shell command -v npm 2>/dev/null)
CLIENT_DEPS := client/node_modules/.package-lock.json
CLIENT_BUILD := client/dist/index.html
CLIENT_SOURCES := $(shell find client/src -type f 2>/dev/null) client/index.html client/vite.config.ts \
	client/tsconfig.json client/codegen.ts schema/schema.graphql
NO_NODE := No Node.js/npm here, so no React client: install Node.js 20.19+ with npm and run make again (README, React).

$(STAMP): requirements.txt requirements-dev.txt
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -r requirements-dev.txt
	touch $(STAMP)

## run: set up, build the React client (with Node), migrate, seed the demo catalog,
## serve HTTP + WebSocket (Daphne) on 127.0.0.1:$(PORT): the client at /, the API at /graphql/
run: $(STAMP) client-for-run
	$(BIN)/python manage.py migrate --noinput
	$(BIN)/python manage.py seed_demo
	@if [ -f $(CLIENT_BUILD) ]; then \
	  echo "==> Open http://127.0.0.1:$(PORT)/ (the React client; log in as demo / demo). GraphiQL: http://127.0.0.1:$(PORT)/graphql/"; \
	else echo "==> GraphiQL: http://127.0.0.1:$(PORT)/graphql/ (log in as demo / demo)"; fi
	$(BIN)/python manage.py runserver 127.0.0.1:$(PORT)

## test: set up, check and build the React client, run the whole suite (SQLite;
## PostgreSQL/Redis when DATABASE_URL/REDIS_URL are set)
test: $(STAMP) client-for-test
	$(BIN)/python -m pytest $(PYTEST_ARGS)

$(CLIENT_DEPS): client/package.json client/package-lock.json
	cd client && npm ci --no-audit --no-fund --prefer-offline
	@touch $@

# WhiteNoise serves the gzip variants it writes next to each file to clients that accept them.
$(CLIENT_BUILD): $(CLIENT_DEPS) $(CLIENT_SOURCES) | $(STAMP)
	cd client && npm run codegen && npm run build
	$(BIN)/python -m whitenoise.compress --quiet client/dist
	@touch $@

## client: build the React client into client/dist (served at / by the server)
client: $(CLIENT_BUILD)

ifeq ($(NPM),)
client-for-run:
	@echo "$(NO_NODE)"
client-for-test:
	@if [ "$$CI" = "true" ]; then echo "CI needs Node.js 20.19+ and npm: the client's checks and browser tests" >&2; exit 1; fi
	@echo "$(NO_NODE) Its checks are skipped; its browser tests skip."
else
client-for-run: $(CLIENT_BUILD)
# The committed operation types match the schema (codegen --check), the client type-checks, then the build.
client-for-test: $(CLIENT_DEPS)
	cd client && npm run codegen:check && npm run typecheck
	@$(MAKE) --no-print-directory $(CLIENT_BUILD)
endif

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
	rm -rf $(VENV) var db.sqlite3 client/node_modules client/dist
