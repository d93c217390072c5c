# `make repro` and `make test` set everything up first (scripts/setup.sh), then run. `make help` lists the targets.
VENV := .venv
# Stages run as `python -m stages.<name>`: put the venv's python first for DVC's subprocesses.
export PATH := $(CURDIR)/$(VENV)/bin:$(PATH)

.PHONY: help setup repro main test bench

help: ## list the targets
	@grep -E '^[a-z]+:.*## ' $(MAKEFILE_LIST) | sed -E 's/^([a-z]+):.*## /  make \1\t/' | expand -t 16

setup: ## create .venv with the pinned requirements, install TeX (and g++, chromium) when missing
	@scripts/setup.sh

repro: setup ## set up, then run the whole pipeline (dvc repro): stages whose inputs changed, sweep cells included
	dvc repro

main: setup ## set up, then run the main models and the report without retraining stale sweep cells
	dvc repro train-d1 train-d2 train-d64 baseline embed likelihood
	dvc repro --single-item figures report

test: setup ## set up, then run the test suite (under 10 minutes on 2 cores, set-up aside)
	python -m pytest

bench: setup ## rerun every stage (one sweep cell) to time it, then the training-loop benchmarks; updates docs/speed.md
	python -m bench --doc docs/speed.md
