# `make repro` and `make test` set everything up first (scripts/setup.sh), then run.
VENV := .venv
# Stages run as `python -m stages.<name>`: put the venv's python first for DVC's subprocesses.
export PATH := $(CURDIR)/$(VENV)/bin:$(PATH)

.PHONY: setup repro test bench seeds

setup:
	@scripts/setup.sh

repro: setup
	dvc repro

test: setup
	python -m pytest

# Reruns every pipeline stage (forced) to time it, then the training-loop benchmarks; updates README.md.
bench: setup
	python -m bench --readme README.md

# The seed sweep that the figures and the report read (results/seed-sweep.csv): every d with two recipes at
# one budget, 3 seeds. Needs the prepared data of `make repro`; then `dvc repro` redraws figures and report.
seeds: setup
	python scripts/seed_sweep.py
