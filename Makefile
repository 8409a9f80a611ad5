# One entry point for every developer task. Each target builds the virtual environment it
# needs from the pinned requirements, so a fresh clone needs nothing but Python 3.11+.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed-$(shell cat requirements.txt requirements-dev.txt constraints.txt | cksum | cut -d' ' -f1)

.PHONY: venv test unit lint typecheck format run demo executions package deploy destroy chalice-deploy load soak fuzz audit cost capacity bench clean scan checkov-venv replay redrive

STAGE ?= dev

$(STAMP): requirements.txt requirements-dev.txt constraints.txt
	@test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --disable-pip-version-check -r requirements-dev.txt -c constraints.txt
	@rm -f $(VENV)/.installed-*; touch $@

venv: $(STAMP)

# checkov in its own environment: it pins a boto3 older than the project's.
CHECKOV_VENV := .venv-checkov
CHECKOV_STAMP := $(CHECKOV_VENV)/.installed-$(shell cksum < requirements-checkov.txt | cut -d' ' -f1)

$(CHECKOV_STAMP): requirements-checkov.txt
	@test -x $(CHECKOV_VENV)/bin/python || $(PYTHON) -m venv $(CHECKOV_VENV)
	$(CHECKOV_VENV)/bin/python -m pip install --quiet --disable-pip-version-check -r requirements-checkov.txt
	@rm -f $(CHECKOV_VENV)/.installed-*; touch $@

checkov-venv: $(CHECKOV_STAMP)

lint: venv
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

# mypy: strict on app.py and chalicelib/, checked on the rest (settings in pyproject.toml).
typecheck: venv
	$(BIN)/mypy app.py chalicelib local infra ops benchmarks

# tests/infra/test_checkov.py runs checkov over every stage's packaged stack.
test: lint typecheck checkov-venv
	$(BIN)/python -m pytest

unit: venv
	$(BIN)/python -m pytest tests/unit

run: venv
	$(BIN)/python -m local run $(ARGS)

demo: venv
	$(BIN)/python -m local demo

executions: venv
	$(BIN)/python -m local executions $(ID)

package: venv
	$(BIN)/python -m infra.package --stage $(STAGE)

# checkov over build/<STAGE>/: the SAM template and its CloudFormation expansion.
scan: venv checkov-venv
	$(BIN)/python -m infra.scan --stage $(STAGE)

deploy: venv
	$(BIN)/python -m infra.deploy --stage $(STAGE)

destroy: venv
	$(BIN)/python -m infra.deploy --stage $(STAGE) --delete

# The quick loop: `chalice deploy` of the app onto a stage whose resources `make deploy` made.
chalice-deploy: venv
	$(BIN)/python -m infra.chalice_policy --stage $(STAGE)
	$(BIN)/chalice deploy --stage $(STAGE)

# The archive, replayed, and the on-failure queue, redriven: against the local stack (`make run`)
# unless STAGE is given on the command line or in the environment (README, "Archive, replay,
# redrive").
OPS_STAGE = $(if $(filter file,$(origin STAGE)),local,$(STAGE))

replay: venv
	$(BIN)/python -m ops.replay --stage $(OPS_STAGE) --from "$(FROM)" --to "$(TO)" $(ARGS)

redrive: venv
	$(BIN)/python -m ops.redrive --stage $(OPS_STAGE) $(ARGS)

N ?= 2000
C ?= 32
URL ?= http://127.0.0.1:8000
RATE ?= 2000/s

# Against a running stack (`make run` in another terminal) or any deployed URL.
load: venv
	$(BIN)/python benchmarks/load.py --url $(URL) -n $(N) -c $(C)

# The local stack in a subprocess under sustained load: its RSS over time and operations/s.
# `make soak` (10,000 operations at concurrency 16), N=, C=, or DURATION=<seconds>.
soak: N = 10000
soak: C = 16
soak: venv
	$(BIN)/python benchmarks/soak.py -n $(N) -c $(C) $(if $(DURATION),--duration $(DURATION))

# The schema-driven fuzz for longer than the tests run it; settings in schemathesis.toml.
fuzz: venv
	$(BIN)/st run openapi.json --url $(URL) --max-examples $(or $(EXAMPLES),5000)

# Known vulnerabilities in every pinned package, runtime and dev. Strict: a package it cannot
# check is a failure. Needs PyPI's JSON API (or OSV, with AUDIT_SERVICE=osv), which this
# project's CI network, a package mirror, does not serve; so it is not part of `make test`.
audit: venv
	$(BIN)/pip-audit --strict --no-deps --progress-spinner off -s $(or $(AUDIT_SERVICE),pypi) \
		-r constraints.txt

cost: venv
	$(BIN)/python -m benchmarks.model cost

capacity: venv
	$(BIN)/python -m benchmarks.model capacity --rate $(RATE)

# Bare moto beside our pipeline, import times and the bundle: the Performance section's numbers.
bench: venv package
	$(BIN)/python benchmarks/engine.py
	$(BIN)/python benchmarks/import_cost.py

# The README's picture of the local console (docs/console.png), taken by the browser tests
# (they need Debian's chromium and chromium-driver; see tests/browser/conftest.py).
.PHONY: console-screenshot
console-screenshot: venv
	CONSOLE_SCREENSHOT=docs/console.png $(BIN)/python -m pytest tests/browser -q -k screenshot

format: venv
	$(BIN)/ruff format .
	$(BIN)/ruff check --fix .

clean:
	rm -rf $(VENV) $(CHECKOV_VENV) build .pytest_cache .ruff_cache
