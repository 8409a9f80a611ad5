# One entry point for every developer task. The virtual environment is built in layers from
# the pinned requirements (constraints.txt pins every package of all of them), each installed
# by the first target that needs it: `make run`, `demo` and `executions` install only what
# the local stack needs (requirements-run.txt); `replay` and `redrive` what the operator
# commands run (requirements-ops.txt); `load` its HTTP client and chart
# (requirements-load.txt); `cost` and `capacity` need Python alone; every other target adds
# the development tools (requirements-dev.txt, which includes the others). A fresh clone
# needs nothing but Python 3.11+.
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
OPS_LAYER := $(VENV)/.ops-$(call checksum,requirements-ops.txt constraints.txt)
LOAD_LAYER := $(VENV)/.load-$(call checksum,requirements-load.txt constraints.txt)
DEV_LAYER := $(VENV)/.dev-$(call checksum,$(RUN_FILES) requirements-dev.txt)

.PHONY: venv test unit lint typecheck format run demo executions chalice-local package deploy destroy chalice-deploy load soak fuzz audit cost capacity bench clean scan checkov-venv replay redrive reviewer

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

$(OPS_LAYER): requirements-ops.txt constraints.txt | $(BIN)/python
	@echo "installing what the operator commands run (requirements-ops.txt)"
	@$(call install,requirements-ops.txt)
	@rm -f $(VENV)/.ops-*; touch $@

$(LOAD_LAYER): requirements-load.txt constraints.txt | $(BIN)/python
	@echo "installing what make load runs (requirements-load.txt)"
	@$(call install,requirements-load.txt)
	@rm -f $(VENV)/.load-*; touch $@

$(DEV_LAYER): $(RUN_LAYER) $(OPS_LAYER) $(LOAD_LAYER) requirements-dev.txt
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
	$(BIN)/mypy app.py chalicelib local infra ops benchmarks tests

# pytest in parallel workers, one per CPU (pytest-xdist); a file's tests stay on one worker,
# so a module's shared stack (in process or a subprocess) starts once. Files are handed out in
# collection order, the slow ones first (tests/scheduling.py).
PYTEST := $(BIN)/python -m pytest -n auto --dist loadfile --no-loadscope-reorder

# Everything, as CI runs it: lint, the type check and every test tier (tests/infra runs
# checkov over every stage's packaged stack, from its own environment).
.PHONY: test-fast sleeps first-success
test: lint typecheck checkov-venv
	$(PYTEST)

# The in-process tiers, while working: unit, contract, integration, conformance, states
# (each state of the workflow through TestState) and e2e in process; not
# the local stack in a subprocess (marker `process`: its tests, restarts, the fuzz), the
# deploy tests (`infra`), the browser or the black-box suite (`deployed`). Markers: tests/conftest.py, from the directories.
test-fast: venv
	$(PYTEST) -m "not (process or infra or browser or deployed)"

# Seconds the in-process tests wait in real time (retry backoff, polling), by site and test.
sleeps: venv
	$(BIN)/python -m pytest -q -p benchmarks.sleeps -m "not (process or infra or browser)"

unit: venv
	$(BIN)/python -m pytest tests/unit

# The black-box suite (tests/deployed) against a running system, over HTTP only:
# `make test-deployed URL=http://127.0.0.1:8000` (a `make run`; STAGE= names its stage when
# it is not `local`), or `make test-deployed STAGE=dev` (the URL from the stage's stack).
# `make test` runs it against a `make run` of its own.
.PHONY: test-deployed
DEPLOYED_URL = $(if $(filter command line,$(origin URL)),$(URL))
DEPLOYED_STAGE = $(if $(filter command line environment,$(origin STAGE)),$(STAGE))
test-deployed: venv
	$(if $(DEPLOYED_URL)$(DEPLOYED_STAGE),,$(error give URL=<the API's root URL> or STAGE=<a deployed stage>))
	DEPLOYED_URL="$(DEPLOYED_URL)" DEPLOYED_STAGE="$(DEPLOYED_STAGE)" \
		$(BIN)/python -m pytest tests/deployed -p no:cacheprovider

run: runtime
	$(BIN)/python -m local run $(ARGS)

# Against the stack at URL when given (`make demo URL=http://127.0.0.1:9000`), else API_URL's.
API_OPTION = $(if $(filter command line,$(origin URL)),--api $(URL))

demo: runtime
	$(BIN)/python -m local demo $(API_OPTION)

executions: runtime
	$(BIN)/python -m local executions $(ID) $(API_OPTION)

# A second API on the running stack's tables and stream (`make run` in another terminal, on
# its default AWS port): Chalice's own local server, `chalice local`, without the gateway's
# edge (an unknown path answers Chalice's 403). ARGS="--port 8002" moves it.
chalice-local: runtime
	$(BIN)/python -m infra.chalice_cli local --stage local --port 8001 $(ARGS)

package: venv
	$(BIN)/python -m infra.package --stage $(STAGE)

# checkov over build/<STAGE>/: the SAM template and its CloudFormation expansion.
scan: venv checkov-venv
	$(BIN)/python -m infra.scan --stage $(STAGE)

deploy: venv
	$(BIN)/python -m infra.deploy --stage $(STAGE)

destroy: venv
	$(BIN)/python -m infra.deploy --stage $(STAGE) --delete

# The CI bootstrap stack of a stage (infra/bootstrap_ci.py; docs/pipeline.md): the role GitHub
# Actions assumes to deploy it, for REPO=owner/name. Once per stage and account.
.PHONY: bootstrap-ci
bootstrap-ci: venv
	$(BIN)/python -m infra.bootstrap_ci --stage $(STAGE) --repository "$(REPO)" \
		$(if $(OIDC_PROVIDER_ARN),--oidc-provider-arn $(OIDC_PROVIDER_ARN)) $(ARGS)

# The quick loop: `chalice deploy` of the app onto a stage whose resources `make deploy` made
# (given the region the AWS CLI would use: the chalice CLI reads only AWS_DEFAULT_REGION).
chalice-deploy: venv
	@$(BIN)/python -m infra.aws_session true
	$(BIN)/python -m infra.chalice_policy --stage $(STAGE)
	$(BIN)/python -m infra.aws_session $(BIN)/python -m infra.chalice_cli deploy --stage $(STAGE)

# The archive, replayed, and the on-failure queue, redriven: against the local stack (`make run`)
# unless STAGE is given on the command line or in the environment (docs/operators.md,
# "Archive, replay, redrive").
OPS_STAGE = $(if $(filter file,$(origin STAGE)),local,$(STAGE))

replay: $(OPS_LAYER)
	$(BIN)/python -m ops.replay --stage $(OPS_STAGE) --from "$(FROM)" --to "$(TO)" $(ARGS)

redrive: $(OPS_LAYER)
	$(BIN)/python -m ops.redrive --stage $(OPS_STAGE) $(ARGS)

# A reviewer for the stage's reviewer page (docs/reviewers.md): Cognito emails EMAIL a
# temporary password; against the local stack unless STAGE is given, as above.
reviewer: $(OPS_LAYER)
	$(BIN)/python -m ops.reviewer --stage $(OPS_STAGE) --email "$(EMAIL)" $(ARGS)

N ?= 2000
C ?= 32
URL ?= http://127.0.0.1:8000
RATE ?= 2000/s

# Against a running stack (`make run` in another terminal) or any deployed URL.
load: $(LOAD_LAYER)
	$(BIN)/python -m benchmarks.load --url $(URL) -n $(N) -c $(C)

# The local stack in a subprocess under sustained load: its RSS over time and operations/s.
# `make soak` (10,000 operations at concurrency 16), N=, C=, or DURATION=<seconds>; growth is
# measured from operation MARK= (2,000).
soak: N = 10000
soak: C = 16
soak: $(RUN_LAYER) $(LOAD_LAYER)
	$(BIN)/python -m benchmarks.soak -n $(N) -c $(C) $(if $(DURATION),--duration $(DURATION)) \
		$(if $(MARK),--mark $(MARK))

# The schema-driven fuzz for longer than the tests run it; settings in schemathesis.toml.
fuzz: venv
	$(BIN)/st run openapi.json --url $(URL) --max-examples $(or $(EXAMPLES),5000)

# Known vulnerabilities in every pinned package, runtime and dev. Strict: a package it cannot
# check is a failure. Needs PyPI's JSON API (or OSV, with AUDIT_SERVICE=osv), which this
# project's CI network, a package mirror, does not serve; so it is not part of `make test`.
audit: venv
	$(BIN)/pip-audit --strict --no-deps --progress-spinner off -s $(or $(AUDIT_SERVICE),pypi) \
		-r constraints.txt

cost: | $(BIN)/python
	$(BIN)/python -m benchmarks.model cost

capacity: | $(BIN)/python
	$(BIN)/python -m benchmarks.model capacity --rate="$(RATE)"

# Bare moto beside our pipeline, import times and the bundle: docs/performance.md's numbers.
bench: venv package
	$(BIN)/python -m benchmarks.engine
	$(BIN)/python -m benchmarks.import_cost

# The picture of the local console in docs/operators.md (docs/console.png), taken by the
# browser tests (they need Debian's chromium and chromium-driver; see tests/browser/conftest.py).
.PHONY: console-screenshot
console-screenshot: venv
	CONSOLE_SCREENSHOT=docs/console.png $(BIN)/python -m pytest tests/browser -q -k screenshot

format: venv
	$(BIN)/ruff format .
	$(BIN)/ruff check --fix .

# constraints.txt again, from the direct requirements: a fresh venv resolves them, and what it
# installed (every package, and uv at its pinned version) is written down as pip lists it.
.PHONY: constraints
CONSTRAINTS_VENV := build/constraints-venv
constraints:
	rm -rf $(CONSTRAINTS_VENV)
	$(PYTHON) -m venv $(CONSTRAINTS_VENV)
	$(CONSTRAINTS_VENV)/bin/python -m pip install -q --disable-pip-version-check \
		-r requirements-dev.txt "$$(grep '^uv==' constraints.txt)"
	{ grep '^#' constraints.txt; $(CONSTRAINTS_VENV)/bin/python -m pip freeze --all; } \
		> constraints.txt.new
	mv constraints.txt.new constraints.txt
	rm -rf $(CONSTRAINTS_VENV)
	@git diff --stat -- constraints.txt 2>/dev/null || true

clean:
	rm -rf $(VENV) $(CHECKOV_VENV) build .pytest_cache .ruff_cache

# Seconds from a fresh clone with cold caches to the first SUCCEEDED operation through
# `make run` (the committed HEAD; RUNS=3 for three clones). The system's Python: no venv.
first-success:
	$(PYTHON) -m benchmarks.first_success --runs $(or $(RUNS),1)
