# The two commands a new machine needs: `make demo` and `make test`.
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed
PIP    := $(BIN)/python -m pip
BOOKINGS ?= 16
POPULATION ?= 22
SEED     ?= 1
OUT      ?= demo-out

.PHONY: demo serve test lint lock clean

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)

# Installs from the lock (README "Set-up"): every release pinned, each file checked against its
# sha256 in requirements/. First the installer and build tools, then every other release (built,
# where one comes as source only, with those tools: --no-build-isolation fetches nothing), then
# scomm itself without dependencies, so nothing the lock does not name comes in.
$(STAMP): requirements/build.txt requirements/lock.txt pyproject.toml | $(BIN)/python
	$(PIP) install --quiet --require-hashes --only-binary :all: -r requirements/build.txt
	$(PIP) install --quiet --require-hashes --no-build-isolation -r requirements/lock.txt
	$(PIP) install --quiet --no-deps --no-build-isolation -e .
	touch $(STAMP)

# Regenerates requirements/lock.txt and requirements/build.txt from pyproject.toml with the uv
# the lock pins; `make lock UPGRADE=1` also moves every pin to the newest release allowed.
lock: $(STAMP)
	tools/lock_dependencies.sh $(BIN)/uv $(if $(UPGRADE),--upgrade)

demo: $(STAMP)
	$(BIN)/scomm demo --bookings $(BOOKINGS) --population $(POPULATION) --seed $(SEED) --out $(OUT)

# The agencies' HTTP interface on loopback, port 8000 (README "Running scomm as a service"):
# the actors answer at once.
serve: $(STAMP)
	mkdir -p serve-out && $(BIN)/scomm serve --no-delays --database sqlite:///serve-out/scomm.db

# pytest exits 5 when it collected no test: for this project that is a failure, said plainly.
# Three workers, not one per core: many tests wait (on subprocesses, servers, PostgreSQL), and
# a third worker fills those waits (on 2 cores: 7 min 9 s with 3 workers, about 9 min with 2).
test: $(STAMP)
	@$(BIN)/python -m pytest -q -n 3 --dist loadfile; rc=$$?; \
	if [ $$rc -eq 5 ]; then echo "make test: pytest collected no tests" >&2; exit 1; fi; exit $$rc

# The last step audits every locked release for known vulnerabilities (tools/audit_dependencies.py:
# skipped, with one line saying so, where no advisory source can be reached).
lint: $(STAMP)
	$(BIN)/ruff check src tests bench tools
	$(BIN)/ruff format --check src tests bench tools
	$(BIN)/mypy
	$(BIN)/lint-imports
	$(BIN)/python tools/audit_dependencies.py requirements/lock.txt

clean:
	rm -rf $(VENV) $(OUT) serve-out .pytest_cache build src/*.egg-info
