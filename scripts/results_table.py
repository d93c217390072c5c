"""Print the results tables of the README and docs/study.md (markdown): the main models' from metrics/*.json, one
row per latent dimension, then the sweep's means ± standard deviations over seeds per recipe, from
results/sweep.csv. The README's tables are these, verbatim: tests/test_readme_numbers.py checks them.

Run after `dvc repro`:  python scripts/results_table.py [table ...]   (default: every table)
"""

from __future__ import annotations

import json
import sys
from collections.abc import Callable
from pathlib import Path

import pandas as pd

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))  # before the project's imports, for a script run by path
from study import sweep  # noqa: E402

COLUMNS = {  # metrics key -> heading
    "best_val_loss": "val loss (min)",
    "test_loss": "test loss",
    "test_recon": "test recon",
    "test_kl": "test KL",
    "test_nll_iw": "test -log p(x), IW",
    "test_nll_exact": "exact -log p(x)",
    "baseline_test_loss": "baseline test loss",
    "active_units": "active units",
    "best_epoch": "best epoch",
    "train_seconds": "train s",
    "knn_accuracy": "k-NN acc.",
    "silhouette": "silhouette",
    "recon_digit_kept": "recon. keeps digit",
}
DECIMALS = {"active_units": 0, "best_epoch": 0, "train_seconds": 0, "knn_accuracy": 3, "silhouette": 3,
            "recon_digit_kept": 3}
# The README's shorter table of the main models.
HEADLINE = ["test_loss", "test_nll_iw", "test_nll_exact", "baseline_test_loss", "active_units", "knn_accuracy"]


def main_models(metrics_dir: Path, columns: list[str] | None = None) -> pd.DataFrame:
    embed = json.loads((metrics_dir / "embed.json").read_text())
    baseline = json.loads((metrics_dir / "baseline.json").read_text())
    likelihood = json.loads((metrics_dir / "likelihood.json").read_text())
    rows = {}
    for d in sorted(int(key[1:]) for key in embed if key[1:].isdigit()):
        row = {**json.loads((metrics_dir / f"train-d{d}.json").read_text()), **embed[f"d{d}"]}
        if f"d{d}" in baseline:
            row["baseline_test_loss"] = baseline[f"d{d}"]["test_loss"]
        if f"d{d}" in likelihood:
            row["test_nll_exact"] = likelihood[f"d{d}"]["test_nll_exact"]
        rows[d] = row
    columns = columns or list(COLUMNS)
    frame = pd.DataFrame.from_dict(rows, orient="index").reindex(columns=columns)
    frame = frame.apply(lambda column: column.map(
        lambda v, n=DECIMALS.get(column.name, 2): "" if pd.isna(v) else f"{v:.{n}f}"))
    return frame.rename(columns=COLUMNS).rename_axis("d").reset_index()


def sweep_table(runs: sweep.Sweep, measures: dict[str, tuple[str, int]], recipes: list[str] | None = None
                ) -> pd.DataFrame:
    """One row per d of the sweep; for each measure (column -> (heading, decimals)) and each recipe (all by
    default), a column of the mean ± standard deviation over seeds."""
    recipes = recipes or list(runs.recipes)
    spreads = {column: runs.spread(column) for column in measures}
    return pd.DataFrame([{"d": d, **{f"{heading}, {runs.labels[name]}": spreads[column][(name, d)].text(decimals)
                                     for column, (heading, decimals) in measures.items() for name in recipes}}
                         for d in runs.dims])


def tables(metrics_dir: Path = ROOT / "metrics", runs_csv: Path = ROOT / "results/sweep.csv"
           ) -> dict[str, Callable[[], pd.DataFrame]]:
    """Every table by name, each made when asked for."""
    runs = sweep.read(runs_csv) if runs_csv.is_file() else None
    first_clip = sweep.cb_column(runs.cb_clips[0]) if runs is not None else ""
    return {
        "headline": lambda: main_models(metrics_dir, HEADLINE),
        "main models": lambda: main_models(metrics_dir),
        "sweep: test loss of the Bernoulli recipes": lambda: sweep_table(
            runs, {"test_loss": ("test loss", 2), "active_units": ("active units", 1)},
            runs.with_decoder("bernoulli")),
        "sweep: what every recipe shares": lambda: sweep_table(
            runs, {first_clip: ("-log p as a density", 1), "knn_accuracy": ("k-NN acc.", 3)}),
        "sweep: the continuous Bernoulli's own loss": lambda: sweep_table(
            runs, {"test_loss": ("test loss", 1), "active_units": ("active units", 1)},
            runs.with_decoder("continuous-bernoulli")),
        "sweep: pixel error and decoded digits": lambda: sweep_table(
            runs, {"pixel_mse": ("pixel MSE", 4), "recon_digit_kept": ("recon. keeps digit", 3),
                   "samples_named": ("samples named", 3)}),
    }


def markdown(table: pd.DataFrame) -> str:
    return table.to_markdown(index=False, colalign=["right"] * len(table.columns), disable_numparse=True)


if __name__ == "__main__":
    available = tables()
    unknown = [name for name in sys.argv[1:] if name not in available]
    if unknown:
        sys.exit(f"results_table.py: error: unknown table {', '.join(map(repr, unknown))}; expected some of "
                 f"{', '.join(map(repr, available))}")
    for title in sys.argv[1:] or available:
        print(f"{title}\n\n{markdown(available[title]())}\n")
