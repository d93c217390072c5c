"""scripts/seed_sweep.py: every recipe and seed trained by the train stage, resumable, read by figures and report."""

from __future__ import annotations

import sys
from pathlib import Path

import pandas as pd
import yaml
from conftest import run, stages_run


def sweep(repo: Path, *args: str) -> str:
    # One recipe keeps the test short; the sentences comparing two are tested in test_findings.
    return run([sys.executable, "scripts/seed_sweep.py", "--recipes", "train-d64", "--seeds", "5", "6", *args],
               repo).stderr


def test_seed_sweep_trains_each_recipe_and_seed_resumes_and_feeds_the_report(pipeline_copy: Path) -> None:
    repo = pipeline_copy
    # Compiling the tiny models would take longer than training them; compile is a speed setting, not a recipe.
    fast = yaml.safe_load((repo / "params.yaml").read_text())
    fast["train"]["compile"] = False
    (repo / "fast.yaml").write_text(yaml.safe_dump(fast))
    sweep(repo, "--params", "fast.yaml")
    runs = pd.read_csv(repo / "results/seed-sweep.csv")
    assert runs[["recipe", "latent_dim", "seed"]].values.tolist() == [
        ["train-d64", d, seed] for d in (1, 2, 64) for seed in (5, 6)]
    # Every d with train-d64's recipe, its activation and budget included.
    assert (runs["epochs"] == fast["train-d64"]["epochs"]).all() and (runs["activation"] == "elu").all()
    # Different seeds, different models.
    assert runs.groupby(["recipe", "latent_dim"])["test_loss"].nunique().eq(2).all()

    # Done runs are kept, not retrained.
    assert sweep(repo, "--params", "fast.yaml").count("already in") == 6

    # The figures (loss against d, with the sweep's spread) and the report read the sweep: editing it reruns
    # those two alone, and the report's tables and sentences follow it.
    assert stages_run(repo) == {"figures", "report"}
    results = (repo / "report/results.tex").read_text()
    mean = runs.query("latent_dim == 2")["test_loss"].mean()
    assert f"{mean:.2f} $\\pm$" in results
    assert "over seeds 5 and 6" in results
    assert "with the recipes and data of \\texttt{params.yaml} but for the budget" in results


def test_seed_sweep_refuses_a_block_that_is_not_a_train_block(pipeline_copy: Path) -> None:
    done = run([sys.executable, "scripts/seed_sweep.py", "--recipes", "embed"], pipeline_copy, check=False)
    assert done.returncode == 2
    assert "--recipes embed: not a train block of" in done.stderr
