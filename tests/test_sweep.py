"""The sweep's cells read back: the grid params.yaml asks for gathered into one table of runs, or an error that
names what is missing; the table summarized over seeds."""

from __future__ import annotations

import json
import math
from pathlib import Path
from typing import Any

import pandas as pd
import pytest

from stages.train import BLOCK, SHARED
from study import sweep
from study.sweep import SweepError

RECIPES = ("train-d2", "train-d64")


def cell(d: int, recipe: str, seed: int, **overrides: Any) -> dict[str, Any]:
    """A cell's results as stage sweep writes them, with a test loss that falls with d and moves with the seed."""
    settings = {"hidden": [512, 256], "activation": "elu" if recipe == "train-d64" else "relu", "epochs": 30,
                "batch_size": 64, "lr": 0.001, "lr_schedule": "cosine", "kl_warmup_epochs": 0, "seed": seed}
    return {"recipe": recipe, "seed": seed, "latent_dim": d, "test_loss": 100.0 + 50.0 / d + seed % 10,
            "test_nll_iw": 99.0, "test_recon": 80.0 - d, "test_kl": 10.0 + d, "best_val_loss": 101.0,
            "best_epoch": 30, "active_units": min(d, 12), "knn_accuracy": 0.9, "train_seconds": 80.0,
            "seconds_per_epoch": 2.5, "peak_rss_mb": 1200, "stage_seconds": 95.0, "precision": "bf16",
            "device": "cpu", "binarize": "none", "code_md5": "0" * 32, "settings": settings,
            "train": {"device": "auto", "compile": True, "precision": "auto", "iw_samples": 100}, **overrides}


def write_cells(folder: Path, dims: tuple[int, ...] = (1, 2), seeds: tuple[int, ...] = (101, 102),
                **overrides: Any) -> Path:
    folder.mkdir(exist_ok=True)
    for recipe in RECIPES:
        for d in dims:
            for seed in seeds:
                path = folder / f"{sweep.cell_name(d, recipe, seed)}.json"
                path.write_text(json.dumps(cell(d, recipe, seed, **overrides)))
    return folder


def test_the_table_holds_every_setting_of_a_train_block_but_the_seed_and_the_shared_block() -> None:
    assert set(sweep.RECIPE_COLUMNS) == set(BLOCK) - {"seed"}
    assert {c.removeprefix("train.") for c in sweep.TRAIN_COLUMNS} == set(SHARED)


def test_the_grid_of_params_is_gathered_cell_by_cell(tmp_path: Path) -> None:
    runs = sweep.gather(write_cells(tmp_path / "cells", dims=(1, 2, 4)), [1, 2], list(RECIPES), [101, 102])
    # Cells outside the grid (d = 4 here, left from an earlier sweep) are not read.
    assert runs[["recipe", "latent_dim", "seed"]].values.tolist() == [
        [recipe, d, seed] for recipe in RECIPES for d in (1, 2) for seed in (101, 102)]
    assert runs["activation"].tolist()[-1] == "elu" and runs["hidden"].iloc[0] == "[512, 256]"
    assert runs["train.precision"].iloc[0] == "auto"


def test_a_missing_cell_is_named_with_the_command_that_makes_it(tmp_path: Path) -> None:
    cells = write_cells(tmp_path / "cells")
    (cells / "2-train-d64-102.json").unlink()
    with pytest.raises(SweepError, match=r"no results for 1 of the 8 cells .* `dvc repro sweep@2-train-d64-102`"):
        sweep.gather(cells, [1, 2], list(RECIPES), [101, 102])
    with pytest.raises(SweepError, match=r"no results for 5 of the 12 cells .*sweep@1-train-d2-103 .* \.\.\.`"):
        sweep.gather(cells, [1, 2], list(RECIPES), [101, 102, 103])


def test_a_sweep_of_mixed_budgets_is_refused(tmp_path: Path) -> None:
    runs = sweep.gather(write_cells(tmp_path / "cells"), [1, 2], list(RECIPES), [101, 102])
    runs.loc[0, "epochs"] = "15"
    with pytest.raises(SweepError, match=r"mixes cells with epochs \['15', '30'\]"):
        sweep.check_one_budget(runs, "cells")


def test_the_table_reads_back_with_its_spreads(tmp_path: Path) -> None:
    runs = sweep.gather(write_cells(tmp_path / "cells"), [1, 2], list(RECIPES), [101, 102])
    runs.to_csv(tmp_path / "sweep.csv", index=False)
    read = sweep.read(tmp_path / "sweep.csv")
    assert list(read.recipes) == list(RECIPES) and read.recipes["train-d64"]["activation"] == "elu"
    assert (read.dims, read.seeds, read.epochs, read.binarize) == ([1, 2], [101, 102], 30, "none")
    assert read.curve("train-d2")[2].mean == pytest.approx(126.5) and read.curve("train-d2")[2].runs == 2
    assert read.spread("active_units")[("train-d64", 2)].mean == 2
    with pytest.raises(SweepError, match=r"missing\.csv is missing; run the sweep"):
        sweep.read(tmp_path / "missing.csv")
    runs.drop(columns="code_md5").to_csv(tmp_path / "old.csv", index=False)
    with pytest.raises(SweepError, match="has no column code_md5"):
        sweep.read(tmp_path / "old.csv")


def test_means_and_summary_for_dvc(tmp_path: Path) -> None:
    read = sweep.Sweep(sweep.gather(write_cells(tmp_path / "cells", dims=(1, 2, 4, 8, 16)), [1, 2, 4, 8, 16],
                                    list(RECIPES), [101, 102]))
    means = sweep.means_table(read)
    assert len(means) == 10 and {"test_loss", "test_loss_sd", "active_units", "knn_accuracy_sd"} <= set(means)
    summary = sweep.summary(read)
    assert (summary["cells"], summary["epochs"], summary["seeds"]) == (20, 30, 2)
    # Seeds 101 and 102 spread the loss by 0.71; the loss falls by 50/d per doubling-ish: 25, 12.5, 6.25, 3.125.
    # Still falling and still growing at the largest d: neither has a d to name.
    assert summary["train-d2"] == {"bend_d": None, "active_units_stop_d": None, "best_d": 16,
                                   "best_test_loss": pytest.approx(104.625)}
    one_seed = sweep.Sweep(sweep.gather(write_cells(tmp_path / "one", dims=(1, 2), seeds=(101,)), [1, 2],
                                        list(RECIPES), [101]))
    assert sweep.summary(one_seed)["train-d2"]["bend_d"] is None  # no spread to judge a step by
    assert math.isnan(one_seed.curve("train-d2")[1].std)
    assert pd.isna(sweep.means_table(one_seed)["test_loss_sd"]).all()
