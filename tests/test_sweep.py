"""The sweep's cells read back: the grid params.yaml asks for gathered into one table of runs, a row per model, or
an error that names what is missing; the table summarized over seeds."""

from __future__ import annotations

import json
import math
from pathlib import Path
from typing import Any

import pandas as pd
import pytest

from stages.train import RECIPE, SHARED
from study import sweep
from study.sweep import SweepError

RECIPES = ("relu", "elu", "elu-cb")


def seed_entry(d: int, seed: int) -> dict[str, Any]:
    """One model's results as stage sweep writes them, with a test loss that falls with d and moves with the seed."""
    return {"seed": seed, "epochs_run": 30, "best_epoch": 30, "best_val_loss": 101.0,
            "test_loss": 100.0 + 50.0 / d + seed % 10, "test_recon": 80.0 - d, "test_kl": 10.0 + d, "test_nll_iw": 99.0,
            "active_units": min(d, 12), "knn_accuracy": 0.9, "pixel_mse": 0.02, "recon_digit_kept": 0.8,
            "samples_named": 0.5, "cb_nll": {"1e-04": -1400.0, "none": -2600.0 - d}, "train_seconds": 80.0,
            "seconds_per_epoch": 2.5,
            **({"exact_images": 1000, "exact_nll": 98.0, "exact_halved_change": 0.001, "exact_iw_nll": 99.0}
               if d <= 2 else {})}


def cell(d: int, recipe: str, seeds: tuple[int, ...], **overrides: Any) -> dict[str, Any]:
    """A cell's results as stage sweep writes them: the recipe's settings once, an entry per seed."""
    settings = {"hidden": [512, 256], "activation": "relu" if recipe == "relu" else "elu",
                "decoder": "continuous-bernoulli" if recipe.endswith("-cb") else "bernoulli", "batch_size": 64,
                "lr": 0.001, "lr_schedule": "cosine", "kl_warmup_epochs": 0}
    return {"latent_dim": d, "recipe": recipe, "settings": settings, "epochs": 30,
            "seeds": [seed_entry(d, seed) for seed in seeds], "drawn_seed": seeds[0], "precision": "bf16",
            "device": "cpu", "native_bf16": True, "binarize": "none", "pixels": "grey", "workers": 2,
            "peak_rss_mb": 1200, "train": {"device": "auto", "compile": True, "precision": "auto", "iw_samples": 100},
            "code_md5": "0" * 32, "stage_seconds": 300.0, **overrides}


def write_cells(folder: Path, dims: tuple[int, ...] = (1, 2), seeds: tuple[int, ...] = (101, 102),
                **overrides: Any) -> Path:
    folder.mkdir(exist_ok=True)
    for recipe in RECIPES:
        for d in dims:
            (folder / f"{sweep.cell_name(d, recipe)}.json").write_text(json.dumps(cell(d, recipe, seeds, **overrides)))
    return folder


def test_the_table_holds_every_setting_of_a_recipe_its_budget_and_the_shared_block() -> None:
    assert set(sweep.RECIPE_COLUMNS) == set(RECIPE) | {"epochs"}
    assert {c.removeprefix("train.") for c in sweep.TRAIN_COLUMNS} == set(SHARED)


def test_the_grid_of_params_is_gathered_model_by_model(tmp_path: Path) -> None:
    runs = sweep.gather(write_cells(tmp_path / "cells", dims=(1, 2, 4)), [1, 2], list(RECIPES), [101, 102])
    # Cells outside the grid (d = 4 here, left from an earlier sweep) are not read.
    assert runs[["recipe", "latent_dim", "seed"]].values.tolist() == [
        [recipe, d, seed] for recipe in RECIPES for d in (1, 2) for seed in (101, 102)]
    assert runs["decoder"].tolist()[-1] == "continuous-bernoulli" and runs["hidden"].iloc[0] == "[512, 256]"
    assert runs["train.precision"].iloc[0] == "auto" and runs["stage_seconds"].iloc[0] == 300.0
    assert runs["cb_nll_none"].iloc[0] == -2601.0 and runs["exact_nll"].iloc[0] == 98.0


def test_a_missing_cell_or_seed_is_named_with_the_command_that_makes_it(tmp_path: Path) -> None:
    cells = write_cells(tmp_path / "cells")
    (cells / "2-elu-cb.json").unlink()
    with pytest.raises(SweepError, match=r"no results for 1 of the 6 cells .* `dvc repro sweep@2-elu-cb`"):
        sweep.gather(cells, [1, 2], list(RECIPES), [101, 102])
    with pytest.raises(SweepError, match=r"1-relu\.json holds seeds \[101, 102\], but params.yaml's sweep.seeds is "
                                         r"\[101, 102, 103\]; rerun the cell \(`dvc repro sweep@1-relu`\)"):
        sweep.gather(cells, [1], list(RECIPES), [101, 102, 103])


def test_a_sweep_of_mixed_budgets_is_refused(tmp_path: Path) -> None:
    runs = sweep.gather(write_cells(tmp_path / "cells"), [1, 2], list(RECIPES), [101, 102])
    runs.loc[0, "epochs"] = "15"
    with pytest.raises(SweepError, match=r"mixes cells with epochs \['15', '30'\]"):
        sweep.check_one_budget(runs, "cells")


def test_the_table_reads_back_with_its_spreads(tmp_path: Path) -> None:
    runs = sweep.gather(write_cells(tmp_path / "cells"), [1, 2], list(RECIPES), [101, 102])
    runs.to_csv(tmp_path / "sweep.csv", index=False)
    read = sweep.read(tmp_path / "sweep.csv")
    assert list(read.recipes) == list(RECIPES) and read.recipes["elu"]["activation"] == "elu"
    assert read.labels == {"relu": "ReLU", "elu": "ELU", "elu-cb": "ELU with the continuous Bernoulli"}
    assert read.with_decoder("bernoulli") == ["relu", "elu"] and read.cb_clips == ["1e-04", "none"]
    assert (read.dims, read.seeds, read.epochs, read.binarize) == ([1, 2], [101, 102], 30, "none")
    assert len(read.cells) == 6 and read.cells["stage_seconds"].sum() == 1800.0
    assert read.curve("relu")[2].mean == pytest.approx(126.5) and read.curve("relu")[2].runs == 2
    assert read.spread("active_units")[("elu", 2)].mean == 2
    with pytest.raises(SweepError, match=r"missing\.csv is missing; run the sweep"):
        sweep.read(tmp_path / "missing.csv")
    runs.drop(columns="code_md5").to_csv(tmp_path / "old.csv", index=False)
    with pytest.raises(SweepError, match="has no column code_md5"):
        sweep.read(tmp_path / "old.csv")


def test_two_recipes_that_would_share_a_name_keep_their_blocks_names_too() -> None:
    recipes = {"elu": {"activation": "elu", "decoder": "bernoulli"},
               "elu-fast": {"activation": "elu", "decoder": "bernoulli"},
               "relu": {"activation": "relu", "decoder": "bernoulli"}}
    assert sweep.recipe_labels(recipes) == {"elu": "ELU (elu)", "elu-fast": "ELU (elu-fast)", "relu": "ReLU"}


def test_means_and_summary_for_dvc(tmp_path: Path) -> None:
    read = sweep.Sweep(sweep.gather(write_cells(tmp_path / "cells", dims=(1, 2, 4, 8, 16)), [1, 2, 4, 8, 16],
                                    list(RECIPES), [101, 102]))
    means = sweep.means_table(read)
    assert len(means) == 15 and {"test_loss", "test_loss_sd", "active_units", "knn_accuracy_sd", "cb_nll",
                                 "cb_nll_none", "pixel_mse"} <= set(means)
    assert means["cb_nll"].tolist() == means["cb_nll_1e-04"].tolist()  # the first clip, under a fixed name
    summary = sweep.summary(read)
    assert (summary["cells"], summary["models"], summary["epochs"], summary["seeds"]) == (15, 30, 30, 2)
    # Seeds 101 and 102 spread the loss by 0.71; the loss falls by 50/d per doubling-ish: 25, 12.5, 6.25, 3.125.
    # Still falling and still growing at the largest d: neither has a d to name.
    assert summary["relu"] == {"bend_d": None, "active_units_stop_d": None, "best_d": 16,
                               "best_test_loss": pytest.approx(104.625)}
    one_seed = sweep.Sweep(sweep.gather(write_cells(tmp_path / "one", dims=(1, 2), seeds=(101,)), [1, 2],
                                        list(RECIPES), [101]))
    assert sweep.summary(one_seed)["relu"]["bend_d"] is None  # no spread to judge a step by
    assert math.isnan(one_seed.curve("relu")[1].std)
    assert pd.isna(sweep.means_table(one_seed)["test_loss_sd"]).all()
