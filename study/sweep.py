"""The latent-dimension sweep read back: the results of its cells (stage sweep@<d>-<recipe>-<seed>, one JSON
each) gathered into one table of runs for the grid params.yaml asks for, and that table summarized over seeds."""

from __future__ import annotations

import itertools
import json
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pandas as pd

from study.stats import Spread, bend, growth_stops, spreads, steps
from vae.errors import PipelineError

# The settings of a cell's recipe (its train block with the sweep's epochs), stored as text so that lists and
# numbers compare exactly with params.yaml's; and the shared train block, prefixed with "train.".
RECIPE_COLUMNS = ("hidden", "activation", "epochs", "batch_size", "lr", "lr_schedule", "kl_warmup_epochs")
TRAIN_COLUMNS = ("train.device", "train.compile", "train.precision", "train.iw_samples")
# What each cell measured, as it wrote it.
MEASURED_COLUMNS = ("test_loss", "test_nll_iw", "test_recon", "test_kl", "best_val_loss", "best_epoch",
                    "active_units", "knn_accuracy", "train_seconds", "seconds_per_epoch", "peak_rss_mb",
                    "stage_seconds", "precision", "device", "binarize", "code_md5")
# The measures the curves over d are drawn for, in nats per image but for the count and the accuracy.
MEASURES = ("test_loss", "test_nll_iw", "test_recon", "test_kl", "active_units", "knn_accuracy")


class SweepError(PipelineError):
    """A cell's results are missing, or the sweep's table is not one grid at one budget."""


def cell_name(latent_dim: int, recipe: str, seed: int) -> str:
    """A cell's name as dvc.yaml's matrix makes it (the stage is sweep@<name>) and its files are named."""
    return f"{latent_dim}-{recipe}-{seed}"


def gather(cells_dir: Path, dims: Sequence[int], recipes: Sequence[str], seeds: Sequence[int]) -> pd.DataFrame:
    """One row per cell of the grid ``recipes`` x ``dims`` x ``seeds``, read from ``<cells_dir>/<name>.json``."""
    grid = list(itertools.product(recipes, dims, seeds))
    missing = [cell_name(d, recipe, seed) for recipe, d, seed in grid
               if not (cells_dir / f"{cell_name(d, recipe, seed)}.json").is_file()]
    if missing:
        shown = " ".join(f"sweep@{name}" for name in missing[:4]) + (" ..." if len(missing) > 4 else "")
        raise SweepError(f"{cells_dir} has no results for {len(missing)} of the {len(grid)} cells of the sweep in "
                         f"params.yaml; run them with `dvc repro {shown}` (`dvc status` lists every stale cell)")
    rows = []
    for recipe, d, seed in grid:
        cell = json.loads((cells_dir / f"{cell_name(d, recipe, seed)}.json").read_text())
        rows.append({"recipe": recipe, "latent_dim": d, "seed": seed,
                     **{key: str(cell["settings"][key]) for key in RECIPE_COLUMNS},
                     **{key: str(cell["train"][key.removeprefix("train.")]) for key in TRAIN_COLUMNS},
                     **{key: cell[key] for key in MEASURED_COLUMNS}})
    return pd.DataFrame(rows)


def check_one_budget(runs: pd.DataFrame, source: Path | str) -> None:
    """A sweep compares dimensions at one budget, on one treatment of the pixels."""
    for column in ("epochs", "binarize"):
        values = sorted(runs[column].astype(str).unique().tolist())
        if len(values) != 1:
            raise SweepError(f"{source} mixes cells with {column} {values}; a sweep has one: rerun its cells "
                             "(`dvc repro`)")


@dataclass(frozen=True)
class Sweep:
    runs: pd.DataFrame  # one row per cell: recipe, latent_dim, seed, RECIPE_COLUMNS, TRAIN_COLUMNS, MEASURED_COLUMNS

    @property
    def recipes(self) -> dict[str, dict[str, str]]:
        """Train block name -> its recipe as the cells ran it (settings as text), in the sweep's order."""
        return {name: {key: str(group[key].iloc[0]) for key in (*RECIPE_COLUMNS, *TRAIN_COLUMNS)}
                for name, group in self.runs.groupby("recipe", sort=False)}

    @property
    def dims(self) -> list[int]:
        return sorted(self.runs["latent_dim"].unique().tolist())

    @property
    def seeds(self) -> list[int]:
        return sorted(self.runs["seed"].unique().tolist())

    @property
    def epochs(self) -> int:
        return int(self.runs["epochs"].iloc[0])

    @property
    def binarize(self) -> str:
        return str(self.runs["binarize"].iloc[0])

    def spread(self, measure: str = "test_loss") -> dict[tuple[str, int], Spread]:
        """(recipe, d) -> mean and standard deviation of ``measure`` over the seeds."""
        return spreads(self.runs, measure, ["recipe", "latent_dim"])

    def curve(self, recipe: str, measure: str = "test_loss") -> dict[int, Spread]:
        """d -> mean and standard deviation of ``measure`` over the seeds, for one recipe."""
        return {d: s for (name, d), s in self.spread(measure).items() if name == recipe}

    def judged(self, recipe: str) -> bool:
        """Whether the recipe's loss curve can be set against the seed spread: two d or more, each with a spread."""
        loss = self.curve(recipe)
        return len(loss) > 1 and all(s.known for s in loss.values())

    def flattens_from(self, recipe: str) -> int | None:
        """The d from which no step lowers the test loss by more than twice the seed spread; None while it still
        falls at the largest d, or where the curve cannot be judged."""
        return bend(steps(self.curve(recipe))) if self.judged(recipe) else None

    def units_stop_growing(self, recipe: str) -> int | None:
        """The d from which the mean count of active units grows by less than one; None while it still grows at
        the largest d."""
        stop = growth_stops({d: s.mean for d, s in self.curve(recipe, "active_units").items()})
        return stop if stop < self.dims[-1] else None


def read(path: Path) -> Sweep:
    """The table of runs written by stage sweep-summary."""
    if not Path(path).is_file():
        raise SweepError(f"{path} is missing; run the sweep and its summary first (dvc repro sweep-summary)")
    runs = pd.read_csv(path)
    missing = [c for c in ("recipe", "latent_dim", "seed", *RECIPE_COLUMNS, *TRAIN_COLUMNS, *MEASURED_COLUMNS)
               if c not in runs]
    if missing:
        raise SweepError(f"{path} has no column {', '.join(missing)}; it was written by another version of stage "
                         "sweep-summary: rerun it (dvc repro sweep-summary)")
    if runs.empty:
        raise SweepError(f"{path} holds no cells; rerun the sweep (dvc repro sweep-summary)")
    check_one_budget(runs, path)
    return Sweep(runs)


def means_table(sweep: Sweep) -> pd.DataFrame:
    """One row per recipe and d: the mean and standard deviation over seeds of every measure, for `dvc plots`."""
    rows = []
    for (recipe, d), _ in sweep.spread().items():
        row: dict[str, Any] = {"recipe": recipe, "latent_dim": d}
        for measure in MEASURES:
            s = sweep.spread(measure)[(recipe, d)]
            row |= {measure: round(s.mean, 4), f"{measure}_sd": round(s.std, 4) if s.known else None}
        rows.append(row)
    return pd.DataFrame(rows)


def summary(sweep: Sweep) -> dict[str, Any]:
    """What `dvc metrics show` lists for the sweep, per recipe: where the loss curve flattens (null while it
    has not, or with one seed), where active units stop growing (null while they still grow at the largest d),
    and the best d with its mean test loss."""
    metrics: dict[str, Any] = {"cells": len(sweep.runs), "epochs": sweep.epochs, "seeds": len(sweep.seeds)}
    for recipe in sweep.recipes:
        loss = sweep.curve(recipe)
        best = min(loss, key=lambda d: loss[d].mean)
        metrics[recipe] = {
            "bend_d": sweep.flattens_from(recipe),
            "active_units_stop_d": sweep.units_stop_growing(recipe),
            "best_d": best,
            "best_test_loss": round(float(loss[best].mean), 4),
        }
    return metrics
