# geodispatch: two commands for a newcomer, `make run` and `make test`.
# Both build the virtual environment from nothing when it is missing or pyproject.toml changed.

PYTHON ?= $(shell command -v python3.11 2>/dev/null || command -v python3 2>/dev/null)
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed
PORT   ?= 8501

SUDO   := $(shell [ "$$(id -u)" = 0 ] || command -v sudo 2>/dev/null)

.PHONY: setup browser-deps run test lint typecheck unit serve bench bench-ingest bench-geocode \
        bench-crews bench-api bench-abuse bench-routing bench-hotspots bench-models bench-app clean

$(STAMP): pyproject.toml
	@test -n "$(PYTHON)" || { echo "Python 3.11 is required (apt-get install python3 python3-venv)"; exit 1; }
	@$(PYTHON) -c 'import sys; assert sys.version_info[:2] >= (3, 11), "geodispatch needs Python 3.11+"'
	@$(PYTHON) -m venv $(VENV) 2>/dev/null || { \
	  echo "python3-venv is missing; installing it with apt-get"; \
	  $$(command -v sudo) apt-get update -qq && $$(command -v sudo) apt-get install -y -qq python3-venv && \
	  $(PYTHON) -m venv $(VENV); }
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[dev]'
	@touch $(STAMP)

setup: $(STAMP)

## Start the app on the bundled Boston sample (loaded on first start; SQLite under var/),
## in demo mode: the demo's staff accounts (one per role, printed) can sign in.
run: setup
	GEODISPATCH_DEMO_MODE=$${GEODISPATCH_DEMO_MODE:-true} $(BIN)/geodispatch demo --if-empty
	GEODISPATCH_DEMO_MODE=$${GEODISPATCH_DEMO_MODE:-true} $(BIN)/streamlit run app.py --server.port $(PORT)

## Lint, type-check, layer contracts and the whole test suite (browser tests included).
test: setup browser-deps lint typecheck unit

## Debian's Chromium for the browser tests; installed with apt when missing.
browser-deps:
	@command -v chromium >/dev/null 2>&1 || { \
	  echo "installing Debian's chromium for the browser tests (apt-get)"; \
	  { $(SUDO) apt-get update -qq && \
	    DEBIAN_FRONTEND=noninteractive $(SUDO) apt-get install -y -qq chromium >/dev/null; } || \
	  echo "WARNING: chromium could not be installed; browser tests will be skipped"; }

lint: setup
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/lint-imports

typecheck: setup
	$(BIN)/mypy

unit: setup
	$(BIN)/python -m pytest -n 2 --dist loadfile

## Open311 + crew API (FastAPI) on port 8000.
serve: setup
	$(BIN)/geodispatch serve

## Speed figures for every issue (seeded; prints them). VROOM is a benchmark-only peer.
bench: setup
	$(BIN)/python -m pip install --quiet -e '.[dev,bench]'
	$(BIN)/python bench/ingest.py
	$(BIN)/python bench/crews.py
	GEODISPATCH_FUZZ_EXAMPLES=200 $(BIN)/python -m pytest -q tests/workflow/test_workflow_api_fuzz.py
	$(BIN)/python bench/geocode.py
	$(BIN)/python bench/routing.py
	$(BIN)/python bench/hotspots.py
	OMP_NUM_THREADS=1 $(BIN)/python bench/models.py
	$(BIN)/python bench/app.py

bench-ingest: setup
	$(BIN)/python bench/ingest.py

## 50 crew processes posting updates to one SQLite file: throughput, latency, nothing lost.
bench-crews: setup
	$(BIN)/python bench/crews.py

## Long property-based run of the whole API (Schemathesis, 200 examples per operation).
bench-api: setup
	GEODISPATCH_FUZZ_EXAMPLES=200 $(BIN)/python -m pytest -q tests/workflow/test_workflow_api_fuzz.py \
	  tests/security/test_api_schemathesis.py

## Lockout and sign-in flood against the API on 127.0.0.1:8712 (memory, public GET latency).
bench-abuse: setup
	$(BIN)/python bench/abuse.py

bench-geocode: setup
	$(BIN)/python bench/geocode.py

## Planner (PyVRP warm start + OR-Tools, and OR-Tools only) vs PyVRP and VROOM: Solomon,
## seeded 311 days on two seeds, re-plan (about 15 min).
bench-routing: setup
	$(BIN)/python -m pip install --quiet -e '.[dev,bench]'
	$(BIN)/python bench/routing.py

## Hotspots: seeded planted data 100k/1M/3M (two seeds) and Boston 2011 (top 10, map size).
bench-hotspots: setup
	$(BIN)/python bench/hotspots.py

bench-models: setup
	OMP_NUM_THREADS=1 $(BIN)/python bench/models.py

## Each page's first render on the Boston demo (AppTest and Chromium) against the 2 s goal.
bench-app: setup browser-deps
	$(BIN)/python bench/app.py

clean:
	rm -rf $(VENV) var .mypy_cache .ruff_cache .pytest_cache bench/output
