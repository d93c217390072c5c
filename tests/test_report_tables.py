"""The report's generated tables: LaTeX where a cell is LaTeX, escaped text elsewhere."""

from __future__ import annotations

import hashlib
from pathlib import Path

from test_sweep_findings import make_sweep

from study.stats import Convergence, Spread
from study.tables import (clips_table, convergence_table, decoders_table, differences_table, exact_sweep_table,
                          own_loss_table, recipe_table, reproducibility_table, steps_table, sweep_table,
                          with_group_rows)

THREE = ("relu", "elu", "elu-cb")


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


def test_sweep_table_gives_mean_and_spread_per_recipe_it_is_given() -> None:
    spread = {("relu", 1): Spread(155.0, 0.31, 3), ("elu", 1): Spread(158.0, 0.4, 3),
              ("relu", 64): Spread(99.0, 0.125, 3), ("elu", 64): Spread(98.9, 0.2, 3),
              ("elu-cb", 1): Spread(-2600.0, 3.0, 3), ("elu-cb", 64): Spread(-2650.0, 3.0, 3)}
    # Only the recipes whose losses compare: the continuous Bernoulli's is left out.
    table = sweep_table(spread, {"relu": "ReLU", "elu": "ELU"})
    assert "$d$ & ReLU & ELU \\\\" in table
    assert "1 & 155.00 $\\pm$ 0.31 & 158.00 $\\pm$ 0.40 \\\\" in table
    assert "64 & 99.00 $\\pm$ 0.12 & 98.90 $\\pm$ 0.20 \\\\" in table
    assert "2600" not in table and "Bernoulli" not in table


def test_recipe_table_names_each_main_models_decoder() -> None:
    params = {f"train-d{d}": {"hidden": [512, 256], "activation": "relu", "decoder": decoder, "epochs": 30,
                              "batch_size": 64, "lr": 0.001, "lr_schedule": "cosine", "kl_warmup_epochs": 0, "seed": d}
              for d, decoder in ((2, "bernoulli"), (64, "continuous-bernoulli"))}
    table = recipe_table(params, [2, 64])
    assert "$d$ & layers & activation & decoder & epochs" in table
    assert "64 & 784--512--256--64 & relu & continuous-bernoulli & 30" in table


def test_convergence_table_names_the_window_and_dashes_a_run_too_short_to_judge() -> None:
    table = convergence_table({2: Convergence(30, 6, 139.16, 138.99), 64: None}, {2: 30, 64: 1})
    assert "2 & 30 & 25--30 & 139.16 & 138.99 & 0.17 \\\\" in table
    assert "64 & 1 & -- & -- & -- & -- \\\\" in table
    assert "last epochs & val.\\ loss before them" in table


def test_steps_table_gives_each_step_of_each_recipe_under_its_name() -> None:
    table = steps_table(make_sweep())
    assert ("$d$ & test loss falls by & twice the spread & recon.\\ falls by & KL rises by & "
            "active units gained") in table
    assert "\\multicolumn{6}{l}{\\emph{ReLU}} \\\\\n1 $\\to$ 2 & 16.00 & 0.60 & 18.00 & 2.00 & 1.0 \\\\" in table
    assert "\\addlinespace\n\\multicolumn{6}{l}{\\emph{ELU}} \\\\" in table
    assert table.splitlines()[-3] == "32 $\\to$ 64 & -0.10 & 0.60 & -0.10 & 0.00 & 0.0 \\\\"  # the ELU recipe's last
    assert "& -- &" in steps_table(make_sweep(seeds=(101,)))  # one seed: no spread
    assert "one $d$: no step & -- &" in steps_table(make_sweep(loss={8: 100.0}))


def test_group_rows_go_before_the_first_row_of_each_group() -> None:
    table = ("\\begin{tabular}{rr}\n\\toprule\na & b \\\\\n\\midrule\n1 & 2 \\\\\n3 & 4 \\\\\n5 & 6 \\\\\n"
             "\\bottomrule\n\\end{tabular}")
    lines = with_group_rows(table, ["X", "X", "Y"], 2).splitlines()
    assert lines[4:10] == ["\\multicolumn{2}{l}{\\emph{X}} \\\\", "1 & 2 \\\\", "3 & 4 \\\\", "\\addlinespace",
                           "\\multicolumn{2}{l}{\\emph{Y}} \\\\", "5 & 6 \\\\"]


def test_decoders_table_gives_every_shared_measure_per_recipe_and_d() -> None:
    table = decoders_table(make_sweep(recipes=THREE))
    assert "$d$ & $-$ELBO as a density, $\\lambda \\ge$ $10^{-4}$ & pixel MSE & digit kept & samples named & " \
           "$k$-NN acc. & active units \\\\" in table
    assert "\\multicolumn{7}{l}{\\emph{ELU with the continuous Bernoulli}} \\\\\n1 & $-1199.9 \\pm 0.3$ & " \
           "$0.0771 \\pm 0.0000$" in table
    assert "64 & $-1412.0 \\pm 0.3$ & $0.0200 \\pm 0.0000$ & $0.950 \\pm 0.000$ & $0.600 \\pm 0.000$ & " \
           "$0.970 \\pm 0.000$ & $18.0 \\pm 0.0$ \\\\" in table
    assert "\\pm" not in decoders_table(make_sweep(seeds=(101,)))  # one seed: means alone


def test_clips_table_reads_every_recipe_at_every_clip_at_the_largest_d() -> None:
    table = clips_table(make_sweep(recipes=THREE))
    assert "$\\lambda$ clipped at & ReLU & ELU & ELU with the continuous Bernoulli \\\\" in table
    assert "$10^{-4}$ & $-1400.0 \\pm 0.3$ & $-1412.0 \\pm 0.3$ & $-1257.0 \\pm 0.3$ \\\\" in table
    # Unclipped: the Bernoulli's astronomical reading in powers of ten, the continuous Bernoulli's own loss.
    assert "none & $2.0 \\times 10^{7} \\pm 0.3$ & $1.6 \\times 10^{7} \\pm 0.3$ & $-2642.1 \\pm 0.3$ \\\\" in table


def test_own_loss_table_is_in_nats_and_bits_per_dimension_or_says_there_is_none() -> None:
    table = own_loss_table(make_sweep(recipes=THREE))
    assert "64 & $-2642.10 \\pm 0.30$ & $3.138 \\pm 0.001$ & $-2644.10 \\pm 0.30$ & $3.134 \\pm 0.001$ \\\\" in table
    assert "1397" not in table  # no Bernoulli recipe's loss
    assert "\\multicolumn{5}{l}{The sweep has no recipe with the continuous-Bernoulli decoder.}" in own_loss_table(
        make_sweep())


def test_exact_table_sets_the_estimate_beside_the_exact_value_at_small_d_only() -> None:
    table = exact_sweep_table(make_sweep(recipes=THREE))
    assert "$d$ & images & exact $-\\log p(x)$ & IW estimate & IW $-$ exact & halved spacing \\\\" in table
    assert "1 & 1,000 & $152.00 \\pm 0.30$ & $154.00 \\pm 0.30$ & $2.00 \\pm 0.00$ & 0.0010 \\\\" in table
    assert "\n4 &" not in table and "\n64 &" not in table
    none = exact_sweep_table(make_sweep(loss={4: 120.0, 8: 104.0}, active={4: 4, 8: 8}))
    assert "\\multicolumn{6}{l}{The sweep has no $d \\le 2$" in none


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
