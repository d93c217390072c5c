"""The seed sweep's CSV (written by scripts/seed_sweep.py, read by the figures and report stages): its columns,
and the runs read back as a complete grid of recipes, latent dimensions and seeds."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import pandas as pd

from vae.errors import PipelineError
from vae.stats import Spread, spreads

# Every setting of a train block but the seed, which the sweep varies; stored as text, so that lists and
# numbers compare exactly with params.yaml's.
RECIPE_COLUMNS = ("hidden", "activation", "epochs", "batch_size", "lr", "lr_schedule", "kl_warmup_epochs")
# What each run contributes from its train stage's metrics.
MEASURED_COLUMNS = ("test_loss", "test_nll_iw", "best_val_loss", "best_epoch", "active_units", "train_seconds",
                    "precision", "device", "binarize")
RERUN_HINT = "run `make seeds` (scripts/seed_sweep.py) to train the missing runs"


class SweepError(PipelineError):
    """The sweep's CSV is missing or does not hold a complete grid of runs."""


@dataclass(frozen=True)
class Sweep:
    recipes: dict[str, dict[str, str]]  # train block name -> its recipe as the sweep ran it
    epochs: int  # the one budget of every run
    seeds: list[int]  # the seeds every (recipe, d) was trained from
    spread: dict[tuple[str, int], Spread]  # (recipe, d) -> test loss over the seeds
    binarize: str
    commit: str  # of the code that ran the first run


def read(path: Path, dims: Sequence[int]) -> Sweep:
    """The sweep in ``path``: every recipe at every d of ``dims`` from the same two or more seeds, one budget."""
    if not path.is_file():
        raise SweepError(f"{path} is missing; {RERUN_HINT}")
    runs = pd.read_csv(path)
    missing = [c for c in ("recipe", "latent_dim", "seed", *RECIPE_COLUMNS, *MEASURED_COLUMNS, "commit")
               if c not in runs]
    if missing:
        raise SweepError(f"{path} has no column {', '.join(missing)}; it was written by another version of "
                         f"scripts/seed_sweep.py: {RERUN_HINT}")
    runs = runs[runs["latent_dim"].isin(dims)]
    seeds = {key: sorted(group["seed"].tolist()) for key, group in runs.groupby(["recipe", "latent_dim"], sort=False)}
    expected = {(name, d) for name in runs["recipe"].unique() for d in dims}
    incomplete = sorted(expected - set(seeds)) + sorted(k for k, s in seeds.items() if s != next(iter(seeds.values())))
    if runs.empty or incomplete or len(next(iter(seeds.values()))) < 2:
        found = ", ".join(f"{name} at d = {d}: seeds {seeds.get((name, d), [])}" for name, d in sorted(expected))
        raise SweepError(f"{path} must hold every recipe at every d = {list(dims)} from the same two or more seeds "
                         f"(found {found or 'no runs'}); {RERUN_HINT}")
    for column in ("epochs", "binarize"):
        if runs[column].nunique() != 1:
            values = sorted(runs[column].unique().tolist())
            raise SweepError(f"{path} mixes runs with {column} {values}; a sweep has one: delete it and {RERUN_HINT}")
    recipes = {name: {key: str(group[key].iloc[0]) for key in RECIPE_COLUMNS}
               for name, group in runs.groupby("recipe", sort=False)}
    return Sweep(recipes, int(runs["epochs"].iloc[0]), next(iter(seeds.values())),
                 spreads(runs, "test_loss", ["recipe", "latent_dim"]), str(runs["binarize"].iloc[0]),
                 str(runs["commit"].iloc[0]))
