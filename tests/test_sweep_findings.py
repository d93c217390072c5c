"""The report's sentences about the sweep follow its numbers: fabricated cells in, the wording checked where
the answer flips (where the curve bends, where active units stop, which recipe is better, whether it is current)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import pandas as pd
import pytest
import yaml
from conftest import ROOT

from study import sweep_findings
from study.stats import Convergence
from study.sweep import RECIPE_COLUMNS, Sweep

PARAMS = yaml.safe_load((ROOT / "params.yaml").read_text())
DIMS = (1, 2, 4, 8, 16, 32, 64)
# Mean test loss per d: a steep fall, then steps inside twice the spread from d = 16 on.
LOSS = {1: 155.0, 2: 139.0, 4: 120.0, 8: 104.0, 16: 98.0, 32: 97.8, 64: 97.9}
ACTIVE = {1: 1, 2: 2, 4: 4, 8: 8, 16: 15, 32: 18, 64: 18}


def make_sweep(loss: Mapping[int, float] = LOSS, active: Mapping[int, float] = ACTIVE, spread: float = 0.3,
               offset: Mapping[int, float] | None = None, seeds: tuple[int, ...] = (101, 102),
               **columns: Any) -> Sweep:
    """Two recipes: train-d64's loss is train-d2's plus ``offset`` at each d. Seeds sit at mean -/+ ``spread``
    / sqrt(2), so that their standard deviation is ``spread``."""
    offset = offset or {d: -1.0 for d in loss}
    half = spread / 2**0.5
    rows = []
    for recipe in ("train-d2", "train-d64"):
        block = PARAMS[recipe]
        for d in loss:
            mean = loss[d] + (offset[d] if recipe == "train-d64" else 0.0)
            for i, seed in enumerate(seeds):
                shift = (-half if i == 0 else half) if len(seeds) > 1 else 0.0
                rows.append({"recipe": recipe, "latent_dim": d, "seed": seed,
                             **{key: str(block[key]) for key in RECIPE_COLUMNS}, "epochs": "30",
                             **{f"train.{key}": str(value) for key, value in PARAMS["train"].items()},
                             "test_loss": mean + shift, "test_nll_iw": mean - 2 + shift,
                             "test_recon": mean - 10 - 2 * active[d] + shift, "test_kl": 10 + 2 * active[d],
                             "active_units": active[d], "knn_accuracy": min(0.97, 0.4 + 0.1 * d),
                             "binarize": "none", "code_md5": "abc", **columns})
    return Sweep(pd.DataFrame(rows))


def test_noise_states_the_range_of_spreads_or_that_one_seed_has_none() -> None:
    assert sweep_findings.noise(make_sweep()) == (
        "Over the 2 seeds of each cell (101 and 102) the test loss moves by a standard deviation of 0.30 to 0.30 "
        "nats (median 0.30).")
    assert "ran from one seed" in sweep_findings.noise(make_sweep(seeds=(101,)))


def test_flattening_names_the_d_from_which_no_doubling_pays() -> None:
    text = sweep_findings.flattening(make_sweep(), "train-d2")
    assert text.startswith("With the recipe of \\texttt{train-d2} no doubling from $d = 16$ on lowers the test loss by "
                           "more than twice the seed spread (changes of $-0.20$ and $+0.10$ nats against twice the "
                           "spread, 0.60 and 0.60)")
    assert text.endswith("before, each doubling lowered it by more (16.00, 19.00, 16.00 and 6.00 nats).")
    # A loss still falling at d = 64 has not flattened.
    falling = make_sweep(loss={**LOSS, 64: 90.0})
    assert "has not flattened by $d = 64$: its last doubling, from $d = 32$, still lowers it by 7.80 nats" in (
        sweep_findings.flattening(falling, "train-d2"))
    # A small step before a large one does not count as the bend.
    dip = make_sweep(loss={**LOSS, 8: 119.8, 16: 104.0, 32: 103.9, 64: 104.0})
    assert "from $d = 16$ on" in sweep_findings.flattening(dip, "train-d2")
    assert "before, 3 of the 4 doublings lowered it by more" in sweep_findings.flattening(dip, "train-d2")
    assert "no step along $d$ can be judged" in sweep_findings.flattening(make_sweep(seeds=(101,)), "train-d2")
    uneven = make_sweep(loss={1: 150.0, 3: 130.0, 64: 129.9}, active={1: 1, 3: 3, 64: 10})
    assert "no step from $d = 3$ on" in sweep_findings.flattening(uneven, "train-d2")


def test_trade_splits_the_sweep_at_the_bend() -> None:
    text = sweep_findings.trade(make_sweep(), "train-d2")
    assert "from $d = 1$ to 16 the reconstruction term changes by $-85.00$ nats and the KL term by $+28.00$" in text
    assert "from $d = 16$ to 64 the reconstruction term changes by $-6.10$ nats and the KL term by $+6.00$" in text


def test_active_units_say_where_all_are_active_and_where_the_count_stops() -> None:
    assert sweep_findings.active_units(make_sweep(), "train-d2") == (
        "With the recipe of \\texttt{train-d2}, every latent dimension is active up to $d = 8$; the count stops "
        "growing at $d = 32$ (18.0 active units on average), and at $d = 64$ the model uses 18.0 of its 64, while "
        "the test loss flattens from $d = 16$.")
    # Where the count stops with the loss, the sentence says so.
    assert sweep_findings.active_units(make_sweep(active={**ACTIVE, 32: 15.5, 64: 15}), "train-d2").endswith(
        "at $d = 64$ the model uses 15.0 of its 64: it stops where the test loss flattens.")
    growing = make_sweep(active={**ACTIVE, 64: 30})
    assert "the count still grows at the largest $d$, and at $d = 64$ the model uses 30.0 of its 64, though the " \
           "test loss flattens from $d = 16$." in sweep_findings.active_units(growing, "train-d2")


def test_recipe_comparison_groups_the_dims_each_recipe_wins_and_says_where_it_changes() -> None:
    assert sweep_findings.recipe_comparison(make_sweep()) == (
        "At every $d$ of the sweep the mean test loss is lower with the recipe of \\texttt{train-d64} at $d = 1$, 2, "
        "4, 8, 16, 32 and 64 (by 1.00, 1.00, 1.00, 1.00, 1.00, 1.00 and 1.00 nats; each more than twice the "
        "spread).")
    flips = make_sweep(offset={1: 3.0, 2: 2.0, 4: 0.2, 8: -0.3, 16: -2.0, 32: -2.5, 64: -2.6})
    text = sweep_findings.recipe_comparison(flips)
    assert text.startswith("The mean test loss is lower with the recipe of \\texttt{train-d2} at $d = 1$, 2 and 4 "
                           "(by 3.00, 2.00 and 0.20 nats; beyond twice the spread at $d = 1$ and 2 only) and the recipe "
                           "of \\texttt{train-d64} at $d = 8$, 16, 32 and 64")
    assert text.endswith("The better recipe changes between $d = 4$ and $d = 8$.")
    assert "one seed: the spread is unknown" in sweep_findings.recipe_comparison(make_sweep(seeds=(101,)))


def test_literature_puts_our_bend_beside_kingma_and_welling() -> None:
    text = sweep_findings.literature(make_sweep())
    assert "about 133 nats at $d = 3$, 119 at $d = 5$, 103 at $d = 10$ and 99 at $d = 20$" in text
    assert "Ours flattens from $d = 16$ with the recipe of \\texttt{train-d2} and from $d = 16$ with" in text
    assert "binarized MNIST" in text and "19 to 20 of 50 latent units" in text


def test_currency_flags_settings_data_and_code_changed_since_the_cells_ran() -> None:
    current = make_sweep()
    assert sweep_findings.currency(PARAMS, "none", "abc", current) == (
        "The sweep's 28 cells ran the code, settings and data this report was built with.")
    changed = {**PARAMS, "train-d64": {**PARAMS["train-d64"], "lr": 0.002}, "sweep": {**PARAMS["sweep"], "epochs": 40}}
    text = sweep_findings.currency(changed, "dynamic", "def", current)
    assert text.startswith("The sweep's 28 cells are older than the settings of the recipe of \\texttt{train-d2} "
                           "(epochs), the settings of the recipe of \\texttt{train-d64} (lr and epochs), the binarization "
                           "(none in the sweep, dynamic here) and the code a cell runs")


def test_the_main_recipes_differences_are_measured_by_the_sweep() -> None:
    recipes = {d: PARAMS[f"train-d{d}"] for d in (1, 2, 64)}
    curves = {1: Convergence(60, 12, 153.74, 153.67), 2: Convergence(30, 6, 139.16, 138.99), 64: None}
    train = {1: {"test_loss": 152.0}, 2: {"test_loss": 138.0}, 64: {"test_loss": 94.7}}
    reasons = sweep_findings.difference_reasons(recipes, curves, train, make_sweep())
    assert list(reasons) == ["activation", "epochs", "seed"]
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
    knn = sweep_findings.knn_accuracy(cells, "train-d64", 5)
    assert knn.startswith("With the recipe of \\texttt{train-d64}, a 5-nearest-neighbour classifier on the latent means "
                          "finds the digit with accuracy 0.500 at $d = 1$") and "0.970" in knn
    if len(seeds) > 1:
        assert abstract.startswith("Over $d = 1$, 2, 4, 8, 16, 32 and 64, with the recipe of \\texttt{train-d2} the "
                                   "test loss flattens from $d = 16$ and active units stop growing at $d = 32$")
        still = sweep_findings.abstract(make_sweep(active={**ACTIVE, 64: 30}))
        assert "active units still grow at $d = 64$" in still
    else:
        assert abstract == ""
