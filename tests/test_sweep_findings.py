"""The report's sentences about the sweep follow its numbers: fabricated cells in, the wording checked where
the answer flips (where the curve bends, where active units stop, which recipe is better, whether it is current,
which sweep recipe a main model's is), and recipes that agree said once."""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from typing import Any

import pandas as pd
import pytest
import yaml
from conftest import ROOT

from study import sweep_findings
from study.stats import Convergence
from study.sweep import RECIPE_COLUMNS, Sweep, cb_column

PARAMS = yaml.safe_load((ROOT / "params.yaml").read_text())
DIMS = (1, 2, 4, 8, 16, 32, 64)
# Mean test loss per d: a steep fall, then steps inside twice the spread from d = 16 on.
LOSS = {1: 155.0, 2: 139.0, 4: 120.0, 8: 104.0, 16: 98.0, 32: 97.8, 64: 97.9}
ACTIVE = {1: 1, 2: 2, 4: 4, 8: 8, 16: 15, 32: 18, 64: 18}
CLIPS = ("1e-04", "1e-16", "1e-64", "none")
# The continuous Bernoulli's own loss is a negative log-density of dequantized pixels, in other units: the same
# shape as LOSS, thousands of nats below it.
CB_SHIFT = -2740.0
# Each recipe read as a continuous Bernoulli at d = 64, per clip (the shape of a 2-epoch smoke run: the ELU
# Bernoulli recipe scores the better density at every clip but none, where it is catastrophic); at smaller d the
# reading rises with the test loss.
CB_READ = {"relu": {"1e-04": -1400.0, "1e-16": -2150.0, "1e-64": -2750.0, "none": 2.0e7},
           "elu": {"1e-04": -1412.0, "1e-16": -2166.0, "1e-64": -2767.0, "none": 1.6e7},
           "elu-cb": {"1e-04": -1257.0, "1e-16": -1934.0, "1e-64": -2463.0}}
EXACT_DIMS = (1, 2)

Overrides = Mapping[str, Mapping[str, Mapping[int, float]]]  # recipe -> column -> d -> mean over seeds


def make_sweep(loss: Mapping[int, float] = LOSS, active: Mapping[int, float] = ACTIVE, spread: float = 0.3,
               offset: Mapping[int, float] | None = None, seeds: tuple[int, ...] = (101, 102),
               recipes: Sequence[str] = ("relu", "elu"), means: Overrides | None = None, **columns: Any) -> Sweep:
    """A sweep of params.yaml's recipe blocks ``recipes``, a row per model as stage sweep-summary writes it. The
    ReLU recipe's test loss is ``loss``, the ELU recipe's ``loss`` plus ``offset`` at each d, the continuous
    Bernoulli's ``loss`` plus CB_SHIFT; ``means`` sets any column's mean per recipe and d. Seeds sit at mean -/+
    ``spread`` / sqrt(2), so that their standard deviation is ``spread``; the exact likelihood is there at d <= 2
    only, and each cell's own columns (workers, stage seconds...) repeat on each of its models' rows."""
    offset = offset or {d: -1.0 for d in loss}
    means = means or {}
    half = spread / 2**0.5
    rows = []
    for recipe in recipes:
        block = PARAMS[f"sweep-{recipe}"]
        cb = block["decoder"] == "continuous-bernoulli"
        for d in loss:
            mean = loss[d] + (offset[d] if recipe == "elu" else CB_SHIFT if cb else 0.0)
            rise = loss[d] - loss[max(loss)]  # how much worse than at the largest d
            values = {"test_loss": mean, "test_nll_iw": mean - 2, "test_recon": mean - 10 - 2 * active[d],
                      "test_kl": 10 + 2 * active[d], "active_units": active[d],
                      "knn_accuracy": min(0.97, 0.4 + 0.1 * d), "pixel_mse": 0.02 + 0.001 * rise,
                      "recon_digit_kept": max(0.1, 0.95 - 0.01 * rise), "samples_named": 0.6,
                      **{cb_column(clip): (mean if clip == "none" and cb else CB_READ[recipe][clip] + rise)
                         for clip in CLIPS},
                      **({"exact_nll": mean - 3, "exact_iw_nll": mean - 1} if d in EXACT_DIMS else {})}
            values |= {column: by_d[d] for column, by_d in means.get(recipe, {}).items() if d in by_d}
            for i, seed in enumerate(seeds):
                shift = (-half if i == 0 else half) if len(seeds) > 1 else 0.0
                noisy = ("test_loss", "test_nll_iw", "test_recon", "exact_nll", "exact_iw_nll",
                         *(cb_column(c) for c in CLIPS))
                rows.append({"recipe": recipe, "latent_dim": d, "seed": seed,
                             **{key: str(block[key]) for key in RECIPE_COLUMNS if key != "epochs"}, "epochs": "30",
                             **{f"train.{key}": str(value) for key, value in PARAMS["train"].items()},
                             **{k: v + shift if k in noisy else v for k, v in values.items()},
                             "best_val_loss": mean, "best_epoch": 30, "train_seconds": 100.0,
                             "seconds_per_epoch": 3.3,
                             "exact_images": 1000 if d in EXACT_DIMS else math.nan,
                             "exact_halved_change": 0.001 if d in EXACT_DIMS else math.nan,
                             **({} if d in EXACT_DIMS else {"exact_nll": math.nan, "exact_iw_nll": math.nan}),
                             "precision": "fp32", "device": "cpu", "binarize": "none",
                             "pixels": "dequantized" if cb else "grey", "workers": len(seeds), "peak_rss_mb": 900,
                             "stage_seconds": 60.0, "code_md5": "abc", **columns})
    return Sweep(pd.DataFrame(rows))


def test_fabricated_sweeps_read_back_as_the_cells_wrote_them() -> None:
    cells = make_sweep(recipes=("relu", "elu", "elu-cb"))
    assert cells.labels == {"relu": "ReLU", "elu": "ELU", "elu-cb": "ELU with the continuous Bernoulli"}
    assert cells.cb_clips == list(CLIPS) and cells.with_decoder("bernoulli") == ["relu", "elu"]
    assert len(cells.cells) == 21 and len(cells.runs) == 42
    assert cells.runs.loc[cells.runs["latent_dim"] > 2, "exact_nll"].isna().all()
    # The continuous Bernoulli's unclipped reading is its own test loss.
    cb = cells.runs[cells.runs["recipe"] == "elu-cb"]
    assert (cb[cb_column("none")] == cb["test_loss"]).all()


def test_recipes_are_named_for_what_they_are_and_grouped_when_they_agree() -> None:
    cells = make_sweep(recipes=("relu", "elu", "elu-cb"))
    assert [sweep_findings.recipe_name(cells, r) for r in cells.recipes] == [
        "the ReLU recipe", "the ELU recipe", "the ELU recipe with the continuous Bernoulli"]
    assert sweep_findings.group_name(cells, ["relu", "elu", "elu-cb"]) == "every recipe"
    assert sweep_findings.group_name(cells, ["relu", "elu"]) == "the ReLU and ELU recipes"
    assert sweep_findings.group_name(cells, ["elu", "elu-cb"]) == (
        "the ELU recipe and the ELU recipe with the continuous Bernoulli")
    # One recipe alone is never "every recipe".
    assert sweep_findings.group_name(make_sweep(recipes=("relu",)), ["relu"]) == "the ReLU recipe"


def test_noise_states_the_range_of_spreads_per_decoder_or_that_one_seed_has_none() -> None:
    assert sweep_findings.noise(make_sweep()) == (
        "Over the 2 seeds of each cell (101 and 102) the test loss moves by a standard deviation of 0.30 to 0.30 "
        "nats (median 0.30).")
    mixed = sweep_findings.noise(make_sweep(recipes=("relu", "elu-cb"), spread=0.5))
    assert "moves with the Bernoulli decoder by a standard deviation of 0.50" in mixed
    assert "and with the continuous-Bernoulli decoder by a standard deviation of 0.50" in mixed
    assert "trained one seed" in sweep_findings.noise(make_sweep(seeds=(101,)))


def test_flattening_is_said_once_for_recipes_that_agree_and_apart_where_they_do_not() -> None:
    assert sweep_findings.flattening(make_sweep(recipes=("relu", "elu", "elu-cb"))) == (
        "With every recipe no doubling from $d = 16$ on lowers the test loss by more than twice the seed spread, "
        "while each doubling before did. Table~\\ref{tab:steps} gives every doubling.")
    # The ELU recipe's loss still falls at d = 64: its clause parts from the ReLU recipe's.
    falling = sweep_findings.flattening(make_sweep(offset={**{d: -1.0 for d in LOSS}, 64: -9.0}))
    assert falling.startswith("With the ReLU recipe no doubling from $d = 16$ on lowers the test loss by more than "
                              "twice the seed spread, while each doubling before did; with the ELU recipe the test "
                              "loss has not flattened by $d = 64$: its last doubling, from $d = 32$, still lowers it "
                              "by more than twice the seed spread.")
    # A small step before a large one does not count as the bend.
    dip = sweep_findings.flattening(make_sweep(loss={**LOSS, 8: 119.8, 16: 104.0, 32: 103.9, 64: 104.0}))
    assert "from $d = 16$ on" in dip and "while 3 of the 4 doublings before did" in dip
    assert "no step along $d$ can be judged" in sweep_findings.flattening(make_sweep(seeds=(101,)))
    uneven = make_sweep(loss={1: 150.0, 3: 130.0, 64: 129.9}, active={1: 1, 3: 3, 64: 10})
    assert "no step from $d = 3$ on" in sweep_findings.flattening(uneven)
    assert "flat over the whole sweep" in sweep_findings.flattening(make_sweep(loss={1: 100.0, 2: 99.9, 4: 100.0},
                                                                               active={1: 1, 2: 2, 4: 4}))


def test_trade_splits_the_sweep_at_the_bend_and_says_which_term_won() -> None:
    text = sweep_findings.trade(make_sweep())
    assert text == ("With every recipe from $d = 1$ to 16 the reconstruction term falls and the KL term rises, by "
                    "less than the reconstruction term falls, and from $d = 16$ to 64 the reconstruction term falls "
                    "and the KL term rises, by about as much (within twice the seed spread of the test loss) "
                    "(Table~\\ref{tab:steps} gives every doubling).")
    # Past the bend the loss rises beyond the spread: the KL term rose by more than the reconstruction fell.
    rising = sweep_findings.trade(make_sweep(loss={**LOSS, 64: 99.0}))
    assert "from $d = 16$ to 64 the reconstruction term falls and the KL term rises, by more than the " \
           "reconstruction term falls" in rising


def test_active_units_say_where_all_are_active_and_where_the_count_stops() -> None:
    assert sweep_findings.active_units(make_sweep()) == (
        "With every recipe every latent dimension is active up to $d = 8$; the count stops growing at $d = 32$, "
        "while the test loss flattens from $d = 16$ (Table~\\ref{tab:decoders} gives the counts).")
    # Where the count stops with the loss, the sentence says so.
    assert "the count stops growing at $d = 16$, where the test loss flattens" in sweep_findings.active_units(
        make_sweep(active={**ACTIVE, 32: 15.5, 64: 15}))
    # One recipe's count still grows: it takes a clause of its own.
    growing = sweep_findings.active_units(make_sweep(means={"elu": {"active_units": {64: 30}}}))
    assert growing.startswith("With the ReLU recipe every latent dimension is active up to $d = 8$; the count stops "
                              "growing at $d = 32$")
    assert "; with the ELU recipe every latent dimension is active up to $d = 8$; the count still grows at the " \
           "largest $d$, though the test loss flattens from $d = 16$" in growing


def test_recipe_comparison_groups_the_dims_each_recipe_wins_and_says_where_it_changes() -> None:
    assert sweep_findings.recipe_comparison(make_sweep()) == (
        "At every $d$ of the sweep the mean test loss is lower with the ELU recipe (by 1.00, 1.00, 1.00, 1.00, 1.00, "
        "1.00 and 1.00 nats; each more than twice the spread).")
    flips = make_sweep(offset={1: 3.0, 2: 2.0, 4: 0.2, 8: -0.3, 16: -2.0, 32: -2.5, 64: -2.6})
    text = sweep_findings.recipe_comparison(flips)
    assert text.startswith("The mean test loss is lower with the ReLU recipe at $d = 1$, 2 and 4 (by 3.00, 2.00 and "
                           "0.20 nats; beyond twice the spread at $d = 1$ and 2 only) and the ELU recipe at $d = 8$, "
                           "16, 32 and 64")
    assert text.endswith("The better recipe changes between $d = 4$ and $d = 8$.")
    assert "one seed: the spread is unknown" in sweep_findings.recipe_comparison(make_sweep(seeds=(101,)))
    assert sweep_findings.recipe_comparison(make_sweep(recipes=("relu",))) == (
        "The sweep trains one recipe, the ReLU recipe, so it compares no recipes.")


def test_losses_are_compared_only_between_recipes_with_one_decoder() -> None:
    # The continuous Bernoulli's loss is thousands of nats lower, in other units: it never wins a comparison.
    text = sweep_findings.recipe_comparison(make_sweep(recipes=("relu", "elu", "elu-cb")))
    assert text.startswith("Among the recipes with the Bernoulli decoder, at every $d$ of the sweep the mean test "
                           "loss is lower with the ELU recipe (by 1.00")
    assert "lower with the ELU recipe with the continuous Bernoulli" not in text
    assert text.endswith("The ELU recipe with the continuous Bernoulli is the sweep's only recipe with the "
                         "continuous-Bernoulli decoder: its test loss is in other units than the other recipes' and "
                         "is compared with none of them (Section~\\ref{sec:density} compares the decoders on measures "
                         "they share).")
    alone = sweep_findings.recipe_comparison(make_sweep(recipes=("relu", "elu-cb")))
    assert "mean test loss is lower" not in alone and "the sweep's only recipe with the Bernoulli decoder" in alone


def test_literature_puts_our_bend_beside_kingma_and_welling() -> None:
    text = sweep_findings.literature(make_sweep())
    assert "about 133 nats at $d = 3$, 119 at $d = 5$, 103 at $d = 10$ and 99 at $d = 20$" in text
    assert "Ours flattens from $d = 16$ with every recipe." in text
    assert "binarized MNIST" in text and "19 to 20 of 50 latent units" in text
    assert text.endswith("our models at $d = 64$ use 18.0.")
    apart = sweep_findings.literature(make_sweep(offset={**{d: -1.0 for d in LOSS}, 64: -9.0},
                                                 means={"elu": {"active_units": {64: 20}}}))
    assert "Ours flattens from $d = 16$ with the ReLU recipe and not by $d = 64$ with the ELU recipe." in apart
    assert apart.endswith("use 18.0 to 20.0, depending on the recipe.")


def test_currency_compares_the_cells_with_their_sweep_blocks() -> None:
    current = make_sweep()
    assert sweep_findings.currency(PARAMS, "none", "abc", current) == (
        "The sweep's 14 cells ran the code, settings and data this report was built with.")
    # Tuning a main model's block leaves the sweep current: its recipes are blocks of their own.
    tuned = {**PARAMS, "train-d64": {**PARAMS["train-d64"], "lr": 0.002}}
    assert "ran the code, settings and data" in sweep_findings.currency(tuned, "none", "abc", current)
    changed = {**PARAMS, "sweep-elu": {**PARAMS["sweep-elu"], "lr": 0.002, "decoder": "continuous-bernoulli"},
               "sweep": {**PARAMS["sweep"], "epochs": 40}}
    text = sweep_findings.currency(changed, "dynamic", "def", current)
    assert text.startswith("The sweep's 14 cells are older than the settings of the ReLU recipe (epochs), the "
                           "settings of the ELU recipe (decoder, learning rate and epochs), the binarization (none "
                           "in the sweep, dynamic here) and the code a cell runs")
    gone = {key: value for key, value in PARAMS.items() if key != "sweep-elu"}
    assert "params.yaml, which has no block \\texttt{sweep-elu} for the ELU recipe any more" in \
        sweep_findings.currency(gone, "none", "abc", current)


def test_each_main_model_is_named_with_its_sweep_recipe_or_the_settings_that_differ() -> None:
    blocks = {d: PARAMS[f"train-d{d}"] for d in (1, 2, 64)}
    cells = make_sweep(recipes=("relu", "elu", "elu-cb"))
    matching = {d: {**block, **PARAMS[f"sweep-{'relu' if d < 64 else 'elu'}"]} for d, block in blocks.items()}
    assert sweep_findings.main_recipes(matching, cells) == (
        "\\texttt{train-d1} and \\texttt{train-d2} train with the ReLU recipe and \\texttt{train-d64} trains with the "
        "ELU recipe of the sweep, but for epochs and seed, which the sweep sets for all its recipes.")
    tuned = {**matching, 64: {**matching[64], "lr": 0.002}}
    assert sweep_findings.main_recipes(tuned, cells).endswith(
        "\\texttt{train-d64}'s learning rate 0.002 differs from the ELU recipe's 0.001, the sweep recipe nearest to "
        "it (the same activation and decoder).")
    wider = {**matching, 64: {**matching[64], "hidden": [1024, 512], "batch_size": 128}}
    assert "\\texttt{train-d64}'s hidden layers 1024--512 and batch size 128 differ from the ELU recipe's 512--256 " \
           "and 64" in sweep_findings.main_recipes(wider, cells)
    silu = {**matching, 64: {**matching[64], "activation": "silu"}}
    assert sweep_findings.main_recipes(silu, cells).endswith(
        "No sweep recipe has \\texttt{train-d64}'s activation (silu) and decoder (bernoulli): the sweep does not "
        "measure its recipe.")
    # A main model with the continuous Bernoulli is the sweep's recipe with it, not the ELU recipe.
    cb = {64: {**matching[64], "decoder": "continuous-bernoulli"}}
    assert sweep_findings.main_recipes(cb, cells) == (
        "\\texttt{train-d64} trains with the ELU recipe with the continuous Bernoulli of the sweep, but for epochs "
        "and seed, which the sweep sets for all its recipes.")


def test_the_main_recipes_differences_are_measured_by_the_sweep() -> None:
    recipes = {d: {**PARAMS[f"train-d{d}"], **PARAMS[f"sweep-{'relu' if d < 64 else 'elu'}"]} for d in (1, 2, 64)}
    recipes = {d: {**block, "epochs": {1: 60, 2: 30, 64: 80}[d], "seed": d} for d, block in recipes.items()}
    curves = {1: Convergence(60, 12, 153.74, 153.67), 2: Convergence(30, 6, 139.16, 138.99), 64: None}
    train = {1: {"test_loss": 152.0}, 2: {"test_loss": 138.0}, 64: {"test_loss": 94.7}}
    reasons = sweep_findings.difference_reasons(recipes, curves, train, make_sweep())
    assert set(reasons) == {"activation", "epochs", "seed"}
    assert reasons["activation"].startswith("The sweep's recipes differ in activation. At every $d$")
    assert reasons["epochs"].startswith("Over the last 20\\% of its epochs the validation loss fell by 0.07 at $d = 1$")
    assert "At $d = 64$ the model trained for one epoch" in reasons["epochs"]
    # Each main model's longer budget against the sweep's 30 epochs with the recipe it matches.
    assert "At $d = 1$ its recipe reaches 155.00 $\\pm$ 0.30 in 30 epochs (Table~\\ref{tab:sweep}) and 152.00 in 60." \
        in reasons["epochs"]
    assert "At $d = 64$ its recipe reaches 96.90 $\\pm$ 0.30 in 30 epochs" in reasons["epochs"]
    unmeasured = sweep_findings.difference_reasons({**recipes, 2: {**recipes[2], "lr": 0.002}}, curves, train,
                                                   make_sweep())
    assert unmeasured["lr"] == "Not measured by the pipeline or the sweep."


@pytest.mark.parametrize("seeds", [(101, 102), (101,)])
def test_abstract_and_knn_sentences_read_for_any_number_of_seeds(seeds: tuple[int, ...]) -> None:
    cells = make_sweep(seeds=seeds)
    abstract = sweep_findings.abstract(cells)
    knn = sweep_findings.knn_accuracy(cells, 5)
    assert knn == ("A 5-nearest-neighbour classifier on the latent means finds the digit, with every recipe, most "
                   "often at $d = 8$ (Table~\\ref{tab:decoders}).")
    if len(seeds) > 1:
        assert abstract == ("Over $d = 1$, 2, 4, 8, 16, 32 and 64, with every recipe the test loss flattens from "
                            "$d = 16$ and active units stop growing at $d = 32$.")
        still = sweep_findings.abstract(make_sweep(means={"elu": {"active_units": {64: 30}}}))
        assert "with the ReLU recipe the test loss flattens from $d = 16$ and active units stop growing at $d = 32$; " \
               "with the ELU recipe the test loss flattens from $d = 16$ and active units still grow at $d = 64$" \
               in still
    else:
        assert abstract == ""


def test_knn_sentence_names_where_each_recipe_finds_the_digit_best() -> None:
    rising = {d: 0.5 + d / 200 for d in LOSS}
    text = sweep_findings.knn_accuracy(make_sweep(means={"relu": {"knn_accuracy": rising}}), 5)
    assert text == ("A 5-nearest-neighbour classifier on the latent means finds the digit, with the ReLU recipe, "
                    "most often at $d = 64$ (the largest $d$ of the sweep), its accuracy rising at every step; with "
                    "the ELU recipe, most often at $d = 8$ (Table~\\ref{tab:decoders}).")
