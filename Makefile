# iobench: every target bootstraps .venv on a fresh clone (and refreshes it when pyproject.toml changes).
PYTHON ?= $(shell for p in python3.13 python3.12 python3.11 python3; do \
	command -v $$p >/dev/null 2>&1 && $$p -c 'import sys; sys.exit(sys.version_info < (3, 11))' 2>/dev/null \
	&& { echo $$p; break; }; done)
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
EXTRAS ?= dev,uvloop,real
# Compiled bytecode is cached, as Python does by default: every test and client process imports the whole package,
# and an environment that sets PYTHONDONTWRITEBYTECODE makes each of them compile it again (collection alone: 6 s).
unexport PYTHONDONTWRITEBYTECODE

.PHONY: bench bench-full bench-real bench-pytest test test-fast lint fmt check perf clean venv

$(STAMP): pyproject.toml
	@test -n "$(PYTHON)" || { echo "iobench needs Python 3.11 or newer (python3.11, python3.12, ...) on PATH"; exit 2; }
	@test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[$(EXTRAS)]'
	@touch $(STAMP)

venv: $(STAMP)

## make bench: run the shipped scenarios (scenarios/*.yaml) and print the tables
bench: $(STAMP)
	$(BIN)/iobench run scenarios

## make bench-full: the shipped scenarios and the heavy ones (scenarios/heavy/)
bench-full: $(STAMP)
	$(BIN)/iobench run scenarios scenarios/heavy

## make bench-real: the recipes of scenarios/real against real services started on 127.0.0.1 for the run and
## stopped after: PostgreSQL, Redis and nginx when their Debian packages are installed; files and subprocesses always
bench-real: $(STAMP)
	$(BIN)/python -m bench.services run scenarios/real $(if $(RUN_ARGS),-- $(RUN_ARGS))

## make bench-pytest: the project's own async benchmarks under pytest-benchmark (saved in .benchmarks/)
bench-pytest: $(STAMP)
	$(BIN)/python -m pytest tests/benchmarks --benchmark-enable --benchmark-autosave

## make test: the whole test suite (a real server on loopback); what CI runs
test: $(STAMP)
	$(BIN)/python -m pytest

## make test-fast: the inner loop: unit, property and exact-output tests, no end-to-end or slow ones (under 20 s),
## spread over the machine's cores (none of them times anything)
test-fast: $(STAMP)
	IOBENCH_FUZZ_EXAMPLES=100 $(BIN)/python -m pytest -m "not e2e and not slow" -q -n auto --dist worksteal

## make check: the CI gate: run scenarios/gate, judge expectations and the committed baseline. A definite failure
## (exit 1), bad input (2) or a failed run (3) fails; an inconclusive gate (4: the interval straddles a bound) passes
## with a warning, since failing it would turn CI red on unchanged code (CHECK_FLAGS=--strict makes it fail).
CHECK_FLAGS ?=
check: $(STAMP)
	$(BIN)/iobench run scenarios/gate -o results/gate.json
	@if [ -f results/baseline.json ]; then base="--baseline results/baseline.json --tolerance 5%"; else \
		echo "no results/baseline.json yet (create one with: iobench baseline results/gate.json)"; base=""; fi; \
	code=0; $(BIN)/iobench check results/gate.json $$base $(CHECK_FLAGS) || code=$$?; \
	if [ $$code -eq 4 ]; then echo "make check: inconclusive (exit 4): the gate could not decide; passing with a warning"; \
	elif [ $$code -ne 0 ]; then exit $$code; fi

## make perf: iobench against hand-written aiohttp code and wrk, one loop, 2 processes, Ray (PERF_ARGS=--full, --no-ray, --markdown)
perf: $(STAMP)
	$(BIN)/python -m bench.perf --scenarios scenarios $(PERF_ARGS)

## make lint: ruff and mypy --strict
lint: $(STAMP)
	$(BIN)/ruff check bench tests iobench scenarios
	$(BIN)/ruff format --check bench tests iobench scenarios
	$(BIN)/mypy

fmt: $(STAMP)
	$(BIN)/ruff format bench tests iobench scenarios
	$(BIN)/ruff check --fix bench tests iobench scenarios

clean:
	rm -rf $(VENV) build *.egg-info .pytest_cache .mypy_cache .ruff_cache .hypothesis .benchmarks
	find results -mindepth 1 ! -name .gitkeep ! -name baseline.json -delete 2>/dev/null || true
	find plots -mindepth 1 ! -name .gitkeep -delete 2>/dev/null || true
