# One entry point for every developer task. The virtual environment is built in two layers
# from the pinned requirements (constraints.txt pins every package of both): `make run`,
# `demo` and `executions` install only what the local stack needs (requirements-run.txt);
# every other target adds the development tools (requirements-dev.txt). A fresh clone needs
# nothing but Python 3.11+.
PYTHON ?= python3
# The bytecode of the project's own modules and tests is cached (in __pycache__, ignored by
# git) even where the environment sets PYTHONDONTWRITEBYTECODE: otherwise every pytest
# worker and every stack a test starts compiles them and rewrites the tests' asserts again,
# about 3 s a process.
unexport PYTHONDONTWRITEBYTECODE
VENV := .venv
BIN := $(VENV)/bin
UV := $(VENV)/uv/bin/uv

# A layer's stamp names the checksum of its requirement files: edit one and the next make
# installs that layer again; otherwise a target starts at once.
checksum = $(shell cat $(1) | cksum | cut -d' ' -f1)
RUN_FILES := requirements.txt requirements-run.txt constraints.txt
RUN_LAYER := $(VENV)/.run-$(call checksum,$(RUN_FILES))
DEV_LAYER := $(VENV)/.dev-$(call checksum,$(RUN_FILES) requirements-dev.txt)

.PHONY: venv test unit lint typecheck format run demo executions package deploy destroy chalice-deploy load soak fuzz audit cost capacity bench clean scan checkov-venv replay redrive reviewer

STAGE ?= dev

# The venv, and uv (pinned) fetched by the system's pip from the package index; where uv
# cannot be had, the venv gets pip and pip installs the layers.
$(BIN)/python:
	$(PYTHON) -m venv --without-pip $(VENV)
	@$(PYTHON) -m pip install -qq --disable-pip-version-check --target $(VENV)/uv \
		-c constraints.txt uv || { echo "uv unavailable: pip installs"; \
		$@ -m ensurepip >/dev/null || { rm -rf $(VENV); exit 1; }; }

# uv reads neither pip.conf nor PIP_* variables: it is handed pip's effective indexes,
# find-links and CA bundle (`pip config list`: the environment over [install] over
# [global]) and, like pip, takes the best version across all the indexes; like pip, it
# compiles the bytecode at install, so no start pays for it (nor every start, where
# PYTHONDONTWRITEBYTECODE is set).
define PIP_TO_UV
BEGIN { uv["index-url"] = "UV_DEFAULT_INDEX"; uv["extra-index-url"] = "UV_INDEX"
        uv["find-links"] = "UV_FIND_LINKS"; uv["cert"] = "SSL_CERT_FILE"
        split("global install :env:", order, " ") }
{ dot = index($$0, "."); eq = index($$0, "="); key = substr($$0, dot + 1, eq - dot - 1)
  if (key in uv) value[substr($$0, 1, dot - 1), key] = substr($$0, eq + 1) }
END { for (i = 1; i <= 3; i++) for (key in uv) if ((order[i], key) in value) {
        setting = value[order[i], key]; if (key == "find-links") gsub(/ /, ",", setting)
        print "export " uv[key] "=" setting } }
endef
export PIP_TO_UV
install = if [ -x $(UV) ]; then \
		eval "$$($(PYTHON) -m pip config list 2>/dev/null | awk "$$PIP_TO_UV")" && \
		$(UV) pip install --quiet --compile-bytecode --python $(BIN)/python \
			--index-strategy unsafe-best-match \
			-r $(1) -c constraints.txt; \
	else $(BIN)/python -m pip install --quiet -r $(1) -c constraints.txt; fi

$(RUN_LAYER): $(RUN_FILES) | $(BIN)/python
	@echo "installing what running needs (requirements-run.txt)"
	@$(call install,requirements-run.txt)
	@rm -f $(VENV)/.run-*; touch $@

$(DEV_LAYER): $(RUN_LAYER) requirements-dev.txt
	@echo "installing the development tools (requirements-dev.txt)"
	@$(call install,requirements-dev.txt)
	@rm -f $(VENV)/.dev-*; touch $@

# What `make run` needs; `venv`: everything (the targets without a layer of their own).
.PHONY: runtime first-success
runtime: $(RUN_LAYER)
venv: $(DEV_LAYER)

# checkov in its own environment: it pins a boto3 older than the project's.
CHECKOV_VENV := .venv-checkov
CHECKOV_STAMP := $(CHECKOV_VENV)/.installed-$(shell cksum < requirements-checkov.txt | cut -d' ' -f1)

$(CHECKOV_STAMP): requirements-checkov.txt
	@test -x $(CHECKOV_VENV)/bin/python || $(PYTHON) -m venv $(CHECKOV_VENV)
	$(CHECKOV_VENV)/bin/python -m pip install --quiet --disable-pip-version-check -r requirements-checkov.txt
	@rm -f $(CHECKOV_VENV)/.installed-*; touch $@

checkov-venv: $(CHECKOV_STAMP)

# ruff, and the architecture's import contracts (pyproject.toml: [tool.importlinter]).
lint: venv
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/lint-imports --no-cache

# mypy: strict on app.py and chalicelib/, checked on the rest (settings in pyproject.toml).
typecheck: venv
	$(BIN)/mypy app.py chalicelib local infra ops benchmarks

# pytest in parallel workers, one per CPU (pytest-xdist); a file's tests stay on one worker,
# so a module's shared stack (in process or a subprocess) starts once. Files are handed out in
# collection order, the slow ones first (tests/scheduling.py).
PYTEST := $(BIN)/python -m pytest -n auto --dist loadfile --no-loadscope-reorder

# Everything, as CI runs it: lint, the type check and every test tier (tests/infra runs
# checkov over every stage's packaged stack, from its own environment).
.PHONY: test-fast sleeps first-success
test: lint typecheck checkov-venv
	$(PYTEST)

# The in-process tiers, while working: unit, contract, integration and e2e in process; not
# the local stack in a subprocess (marker `process`: its tests, restarts, the fuzz), the
# deploy tests (`infra`) or the browser. Markers: tests/conftest.py, from the directories.
test-fast: venv
	$(PYTEST) -m "not (process or infra or browser)"

# Seconds the in-process tests wait in real time (retry backoff, polling), by site and test.
sleeps: venv
	$(BIN)/python -m pytest -q -p benchmarks.sleeps -m "not (process or infra or browser)"

unit: venv
	$(BIN)/python -m pytest tests/unit

run: runtime
	$(BIN)/python -m local run $(ARGS)

demo: runtime
	$(BIN)/python -m local demo

executions: runtime
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

# A reviewer for the stage's reviewer page (docs/reviewers.md): Cognito emails EMAIL a
# temporary password; against the local stack unless STAGE is given, as above.
reviewer: venv
	$(BIN)/python -m ops.reviewer --stage $(OPS_STAGE) --email "$(EMAIL)" $(ARGS)

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

# Seconds from a fresh clone with cold caches to the first SUCCEEDED operation through
# `make run` (the committed HEAD; RUNS=3 for three clones). The system's Python: no venv.
first-success:
	$(PYTHON) benchmarks/first_success.py --runs $(or $(RUNS),1)
