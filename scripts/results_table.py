"""Print the README's results tables (markdown, one row per latent dimension): the main models' from
metrics/*.json, then the seed sweep's test loss, mean ± standard deviation, from results/seed-sweep.csv.

Run after `dvc repro`:  python scripts/results_table.py
"""

from __future__ import annotations

import json
from pathlib import Path

import pandas as pd

COLUMNS = {  # metrics key -> heading
    "best_val_loss": "val loss (min)",
    "test_loss": "test loss",
    "test_recon": "test recon",
    "test_kl": "test KL",
    "test_nll_iw": "test -log p(x), IW",
    "baseline_test_loss": "baseline test loss",
    "active_units": "active units",
    "best_epoch": "best epoch",
    "train_seconds": "train s",
    "knn_accuracy": "k-NN acc.",
    "silhouette": "silhouette",
}
DECIMALS = {"active_units": 0, "best_epoch": 0, "train_seconds": 0, "knn_accuracy": 3, "silhouette": 3}


def results(metrics_dir: Path) -> pd.DataFrame:
    embed = json.loads((metrics_dir / "embed.json").read_text())
    baseline = json.loads((metrics_dir / "baseline.json").read_text())
    rows = {}
    for d in sorted(int(key[1:]) for key in embed if key[1:].isdigit()):
        row = {**json.loads((metrics_dir / f"train-d{d}.json").read_text()), **embed[f"d{d}"]}
        if f"d{d}" in baseline:
            row["baseline_test_loss"] = baseline[f"d{d}"]["test_loss"]
        rows[d] = row
    frame = pd.DataFrame.from_dict(rows, orient="index").reindex(columns=list(COLUMNS))
    frame = frame.apply(lambda column: column.map(
        lambda v, n=DECIMALS.get(column.name, 2): "-" if pd.isna(v) else f"{v:.{n}f}"))
    return frame.rename(columns=COLUMNS).rename_axis("d").reset_index()


def sweep(runs_csv: Path) -> pd.DataFrame:
    runs = pd.read_csv(runs_csv)
    cells = runs.groupby(["latent_dim", "recipe"], sort=False)["test_loss"].agg(
        lambda losses: f"{losses.mean():.2f} ± {losses.std():.2f} ({len(losses)} seeds)")
    frame = cells.unstack("recipe")[list(dict.fromkeys(runs["recipe"]))]
    return frame.rename(columns=lambda name: f"recipe of {name}, {runs['epochs'].iloc[0]} epochs").rename_axis(
        "d").reset_index()


if __name__ == "__main__":
    for table in (results(Path("metrics")), sweep(Path("results/seed-sweep.csv"))):
        print(table.to_markdown(index=False, colalign=["right"] * len(table.columns)), end="\n\n")
