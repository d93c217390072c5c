"""The latent-dimension sweep read back: the results of its cells (stage sweep@<d>-<recipe>, one JSON each, an
entry per seed) gathered into one table of runs, a row per model, for the grid params.yaml asks for, and that
table summarized over seeds."""

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

# The settings of a cell's recipe (its sweep block with the sweep's epochs), stored as text so that lists and
# numbers compare exactly with params.yaml's; and the shared train block, prefixed with "train.".
RECIPE_COLUMNS = ("hidden", "activation", "decoder", "epochs", "batch_size", "lr", "lr_schedule", "kl_warmup_epochs")
TRAIN_COLUMNS = ("train.device", "train.compile", "train.precision", "train.iw_samples")
# What each model measured, as its cell wrote it; the likelihood read as a continuous Bernoulli comes as one column
# per clip, cb_nll_<clip>, and the exact likelihood only at d <= 2 (empty elsewhere).
MEASURED_COLUMNS = ("test_loss", "test_nll_iw", "test_recon", "test_kl", "best_val_loss", "best_epoch",
                    "active_units", "knn_accuracy", "pixel_mse", "recon_digit_kept", "samples_named", "train_seconds",
                    "seconds_per_epoch")
EXACT_COLUMNS = ("exact_images", "exact_nll", "exact_halved_change", "exact_iw_nll")
# What each cell recorded once for all its seeds.
CELL_COLUMNS = ("precision", "device", "binarize", "pixels", "workers", "peak_rss_mb", "stage_seconds", "code_md5")
CB_PREFIX = "cb_nll_"
# The measures the curves over d are drawn for, in nats per image but for the counts, shares and the pixel error.
MEASURES = ("test_loss", "test_nll_iw", "test_recon", "test_kl", "active_units", "knn_accuracy", "pixel_mse",
            "recon_digit_kept", "samples_named")


class SweepError(PipelineError):
    """A cell's results are missing, or the sweep's table is not one grid at one budget."""


ACTIVATION_NAMES = {"relu": "ReLU", "elu": "ELU", "silu": "SiLU"}
DECODER_NAMES = {"bernoulli": "", "continuous-bernoulli": " with the continuous Bernoulli"}


def recipe_labels(recipes: dict[str, dict[str, str]]) -> dict[str, str]:
    """Each recipe named for what it is, "ReLU", "ELU with the continuous Bernoulli", rather than by its block;
    where two recipes share a name, each takes its block's name too."""
    labels = {name: ACTIVATION_NAMES.get(r["activation"], r["activation"]) + DECODER_NAMES.get(r["decoder"], "")
              for name, r in recipes.items()}
    shared = {label for label in labels.values() if list(labels.values()).count(label) > 1}
    return {name: f"{label} ({name})" if label in shared else label for name, label in labels.items()}


def cell_name(latent_dim: int, recipe: str) -> str:
    """A cell's name as dvc.yaml's matrix makes it (the stage is sweep@<name>) and its files are named."""
    return f"{latent_dim}-{recipe}"


def cb_column(clip: str) -> str:
    """The column of the likelihood read as a continuous Bernoulli with lambda clipped at ``clip`` (as "1e-04")."""
    return f"{CB_PREFIX}{clip}"


def gather(cells_dir: Path, dims: Sequence[int], recipes: Sequence[str], seeds: Sequence[int]) -> pd.DataFrame:
    """One row per model of the grid ``recipes`` x ``dims`` x ``seeds``, read from ``<cells_dir>/<cell>.json``."""
    grid = list(itertools.product(recipes, dims))
    missing = [cell_name(d, recipe) for recipe, d in grid if not (cells_dir / f"{cell_name(d, recipe)}.json").is_file()]
    if missing:
        shown = " ".join(f"sweep@{name}" for name in missing[:4]) + (" ..." if len(missing) > 4 else "")
        raise SweepError(f"{cells_dir} has no results for {len(missing)} of the {len(grid)} cells of the sweep in "
                         f"params.yaml; run them with `dvc repro {shown}` (`dvc status` lists every stale cell)")
    rows = []
    for recipe, d in grid:
        path = cells_dir / f"{cell_name(d, recipe)}.json"
        cell = json.loads(path.read_text())
        ran = [entry["seed"] for entry in cell["seeds"]]
        if ran != list(seeds):
            raise SweepError(f"{path} holds seeds {ran}, but params.yaml's sweep.seeds is {list(seeds)}; rerun the "
                             f"cell (`dvc repro sweep@{cell_name(d, recipe)}`)")
        settings = {**cell["settings"], "epochs": cell["epochs"]}
        for entry in cell["seeds"]:
            rows.append({"recipe": recipe, "latent_dim": d, "seed": entry["seed"],
                         **{key: str(settings[key]) for key in RECIPE_COLUMNS},
                         **{key: str(cell["train"][key.removeprefix("train.")]) for key in TRAIN_COLUMNS},
                         **{key: entry[key] for key in MEASURED_COLUMNS},
                         **{cb_column(clip): value for clip, value in entry["cb_nll"].items()},
                         **{key: entry.get(key) for key in EXACT_COLUMNS},
                         **{key: cell[key] for key in CELL_COLUMNS}})
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
    runs: pd.DataFrame  # one row per model: recipe, latent_dim, seed, and the columns gather() names

    @property
    def recipes(self) -> dict[str, dict[str, str]]:
        """Recipe name -> its settings as the cells ran it (as text), in the sweep's order."""
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

    @property
    def cells(self) -> pd.DataFrame:
        """One row per cell (recipe and d): what a cell recorded once for all its seeds."""
        return self.runs.drop_duplicates(["recipe", "latent_dim"])[["recipe", "latent_dim", *CELL_COLUMNS]]

    @property
    def cb_clips(self) -> list[str]:
        """The clips of lambda at which every model was read as a continuous Bernoulli, as the cells named them."""
        return [c.removeprefix(CB_PREFIX) for c in self.runs.columns if c.startswith(CB_PREFIX)]

    @property
    def labels(self) -> dict[str, str]:
        """Recipe name -> what it is, in words (:func:`recipe_labels`)."""
        return recipe_labels(self.recipes)

    def decoder(self, recipe: str) -> str:
        return self.recipes[recipe]["decoder"]

    def with_decoder(self, decoder: str) -> list[str]:
        """The recipes whose decoder is ``decoder``, in the sweep's order: their losses compare as numbers."""
        return [name for name in self.recipes if self.decoder(name) == decoder]

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
    missing = [c for c in ("recipe", "latent_dim", "seed", *RECIPE_COLUMNS, *TRAIN_COLUMNS, *MEASURED_COLUMNS,
                           *EXACT_COLUMNS, *CELL_COLUMNS) if c not in runs]
    if missing:
        raise SweepError(f"{path} has no column {', '.join(missing)}; it was written by another version of stage "
                         "sweep-summary: rerun it (dvc repro sweep-summary)")
    if runs.empty:
        raise SweepError(f"{path} holds no cells; rerun the sweep (dvc repro sweep-summary)")
    check_one_budget(runs, path)
    return Sweep(runs)


def means_table(sweep: Sweep) -> pd.DataFrame:
    """One row per recipe and d: the mean and standard deviation over seeds of every measure, for `dvc plots`;
    ``cb_nll`` is the likelihood read as a continuous Bernoulli at the first clip of ``sweep.cb_clips``, the one
    measure of likelihood every recipe shares, under a name that does not change with the clip."""
    measures = {**{m: m for m in MEASURES}, **{cb_column(c): cb_column(c) for c in sweep.cb_clips},
                "cb_nll": cb_column(sweep.cb_clips[0])}
    spread = {name: sweep.spread(column) for name, column in measures.items()}
    rows = []
    for recipe, d in spread["test_loss"]:
        row: dict[str, Any] = {"recipe": recipe, "latent_dim": d}
        for name in measures:
            s = spread[name][(recipe, d)]
            row |= {name: round(s.mean, 4), f"{name}_sd": round(s.std, 4) if s.known else None}
        rows.append(row)
    return pd.DataFrame(rows)


def summary(sweep: Sweep) -> dict[str, Any]:
    """What `dvc metrics show` lists for the sweep, per recipe: where the loss curve flattens (null while it
    has not, or with one seed), where active units stop growing (null while they still grow at the largest d),
    and the best d with its mean test loss."""
    metrics: dict[str, Any] = {"cells": len(sweep.cells), "models": len(sweep.runs), "epochs": sweep.epochs,
                               "seeds": len(sweep.seeds)}
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
