"""Reading the seed sweep's CSV back: a complete grid, or an error that says what is missing."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest

from stages.train import BLOCK
from study import sweep
from study.sweep import SweepError


def runs(recipes: tuple[str, ...] = ("train-d2", "train-d64"), dims: tuple[int, ...] = (1, 2),
         seeds: tuple[int, ...] = (101, 102)) -> list[dict]:
    rows = []
    for name in recipes:
        for d in dims:
            for seed in seeds:
                rows.append({"recipe": name, "latent_dim": d, "seed": seed, "hidden": "[512, 256]",
                             "activation": "elu" if name == "train-d64" else "relu", "epochs": 30, "batch_size": 64,
                             "lr": 0.001, "lr_schedule": "cosine", "kl_warmup_epochs": 0,
                             "test_loss": 100.0 * d + seed, "test_nll_iw": 99.0, "best_val_loss": 101.0,
                             "best_epoch": 30, "active_units": d, "train_seconds": 80.0, "precision": "bf16",
                             "device": "cpu", "binarize": "none", "commit": "abc1234"})
    return rows


def write(tmp_path: Path, rows: list[dict]) -> Path:
    pd.DataFrame(rows).to_csv(tmp_path / "sweep.csv", index=False)
    return tmp_path / "sweep.csv"


def test_the_csv_holds_every_setting_of_a_train_block_but_the_seed() -> None:
    assert set(sweep.RECIPE_COLUMNS) == set(BLOCK) - {"seed"}


def test_a_complete_grid_reads_back_with_its_spreads(tmp_path: Path) -> None:
    read = sweep.read(write(tmp_path, runs()), [1, 2])
    assert list(read.recipes) == ["train-d2", "train-d64"]
    assert read.recipes["train-d64"]["activation"] == "elu" and read.recipes["train-d2"]["hidden"] == "[512, 256]"
    assert (read.epochs, read.seeds, read.binarize, read.commit) == (30, [101, 102], "none", "abc1234")
    assert read.spread[("train-d2", 2)].mean == 301.5 and read.spread[("train-d2", 2)].runs == 2
    # Dimensions the report does not show are left out.
    assert {d for _, d in sweep.read(write(tmp_path, runs()), [2]).spread} == {2}


def test_an_incomplete_sweep_names_what_is_missing(tmp_path: Path) -> None:
    path = write(tmp_path, runs()[:-1])  # an interrupted sweep: train-d64 at d = 2 has one seed
    with pytest.raises(SweepError, match=r"from the same two or more seeds \(found .*train-d64 at d = 2: seeds "
                                         r"\[101\]\); run `make seeds`"):
        sweep.read(path, [1, 2])
    with pytest.raises(SweepError, match=r"train-d2 at d = 64: seeds \[\]"):
        sweep.read(write(tmp_path, runs()), [1, 2, 64])
    with pytest.raises(SweepError, match="from the same two or more seeds"):
        sweep.read(write(tmp_path, runs(seeds=(101,))), [1, 2])


def test_a_sweep_of_mixed_budgets_or_a_missing_file_is_refused(tmp_path: Path) -> None:
    mixed = runs()
    mixed[0]["epochs"] = 15
    with pytest.raises(SweepError, match=r"mixes runs with epochs \[15, 30\]"):
        sweep.read(write(tmp_path, mixed), [1, 2])
    with pytest.raises(SweepError, match=r"missing\.csv is missing; run `make seeds`"):
        sweep.read(tmp_path / "missing.csv", [1, 2])
    with pytest.raises(SweepError, match="has no column binarize"):
        sweep.read(write(tmp_path, [{k: v for k, v in row.items() if k != "binarize"} for row in runs()]), [1, 2])
