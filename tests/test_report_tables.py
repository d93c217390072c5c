"""The report's generated tables: LaTeX where a cell is LaTeX, escaped text elsewhere."""

from __future__ import annotations

import hashlib
from pathlib import Path

from test_sweep_findings import make_sweep

from study.stats import Convergence, Spread
from study.tables import convergence_table, differences_table, reproducibility_table, steps_table, sweep_table


def test_differences_table_has_one_row_per_setting_with_its_reason_as_latex() -> None:
    recipes = {1: {"kl_warmup_epochs": 0, "epochs": 60}, 64: {"kl_warmup_epochs": 5, "epochs": 80}}
    table = differences_table(recipes, {"kl_warmup_epochs": "see Table~\\ref{tab:sweep}, $d = 1$ 50%"})
    assert "setting & $d = 1$ & $d = 64$ & why \\\\" in table
    # The setting's name is text; the reason keeps its LaTeX as written.
    assert "kl warmup epochs & 0 & 5 & see Table~\\ref{tab:sweep}, $d = 1$ 50% \\\\" in table
    assert "epochs & 60" not in table  # only the settings given a reason
    assert table.startswith("\\begin{tabular}{lllp{0.5\\linewidth}}")


def test_differences_table_says_so_when_the_recipes_are_the_same() -> None:
    table = differences_table({1: {"epochs": 1}, 64: {"epochs": 1}}, {})
    assert "none &  &  & The main models' recipes are the same but for $d$. \\\\" in table


def test_sweep_table_gives_mean_and_spread_per_recipe() -> None:
    spread = {("train-d2", 1): Spread(155.0, 0.31, 3), ("train-d64", 1): Spread(158.0, 0.4, 3),
              ("train-d2", 64): Spread(99.0, 0.125, 3), ("train-d64", 64): Spread(98.9, 0.2, 3)}
    table = sweep_table(spread, ["train-d2", "train-d64"])
    assert "$d$ & recipe of \\texttt{train-d2} & recipe of \\texttt{train-d64} \\\\" in table
    assert "1 & 155.00 $\\pm$ 0.31 & 158.00 $\\pm$ 0.40 \\\\" in table
    assert "64 & 99.00 $\\pm$ 0.12 & 98.90 $\\pm$ 0.20 \\\\" in table


def test_convergence_table_names_the_window_and_dashes_a_run_too_short_to_judge() -> None:
    table = convergence_table({2: Convergence(30, 6, 139.16, 138.99), 64: None}, {2: 30, 64: 1})
    assert "2 & 30 & 25--30 & 139.16 & 138.99 & 0.17 \\\\" in table
    assert "64 & 1 & -- & -- & -- & -- \\\\" in table
    assert "last epochs & val.\\ loss before them" in table


def test_steps_table_gives_each_step_of_each_recipe() -> None:
    table = steps_table(make_sweep())
    assert ("recipe & $d$ & test loss falls by & twice the spread & recon.\\ falls by & KL rises by & "
            "active units gained") in table
    assert "\\texttt{train-d2} & 1 $\\to$ 2 & 16.00 & 0.60 & 18.00 & 2.00 & 1.0 \\\\" in table
    assert "\\texttt{train-d64} & 32 $\\to$ 64 & -0.10 & 0.60 & -0.10 & 0.00 & 0.0 \\\\" in table
    assert "& -- &" in steps_table(make_sweep(seeds=(101,)))  # one seed: no spread
    assert "one $d$ & no step & -- &" in steps_table(make_sweep(loss={8: 100.0}))


def test_reproducibility_table_gives_each_training_stage_its_precision_device_and_model(tmp_path: Path) -> None:
    model = tmp_path / "vae-d2.pt"
    model.write_bytes(b"weights")
    runs = {"train-d2": {"precision": "bf16", "device": "AMD EPYC", "native_bf16": True},
            "baseline": {"precision": "fp32", "device": "Intel Xeon", "native_bf16": False}}
    table = reproducibility_table(runs, {"train-d2": model}, {"prepare-data": 2.2, "train-d2": 97.0, "baseline": 83.9})
    md5 = hashlib.md5(b"weights").hexdigest()
    assert f"train-d2 & 97 & bf16 & AMD EPYC (native bf16) & {md5} \\\\" in table
    assert "baseline & 84 & fp32 & Intel Xeon (no native bf16) &  \\\\" in table
    assert "prepare-data & 2 &  &  &  \\\\" in table
