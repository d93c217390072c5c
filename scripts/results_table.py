"""Print the results tables of the README and docs/study.md (markdown, one row per latent dimension): the main
models' from metrics/*.json, then the sweep's means ± standard deviations over seeds per recipe, from
results/sweep.csv.

Run after `dvc repro`:  python scripts/results_table.py
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

import pandas as pd

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # before the project's imports, for a script run by path
from study import sweep

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
    "recon_digit_kept": "recon. keeps digit",
}
DECIMALS = {"active_units": 0, "best_epoch": 0, "train_seconds": 0, "knn_accuracy": 3, "silhouette": 3,
            "recon_digit_kept": 3}


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


def sweep_table(runs_csv: Path, measure: str, decimals: int) -> pd.DataFrame:
    """One row per d of the sweep, one column per recipe: ``measure`` as mean ± standard deviation over seeds."""
    runs = sweep.read(runs_csv)
    spread = runs.spread(measure)
    return pd.DataFrame([{"d": d, **{f"recipe of {name}": spread[(name, d)].text(decimals) for name in runs.recipes}}
                         for d in runs.dims])


if __name__ == "__main__":
    sweep_csv = Path("results/sweep.csv")
    tables = {"main models": results(Path(sys.argv[1]) if len(sys.argv) > 1 else Path("metrics")),
              "sweep: test loss": sweep_table(sweep_csv, "test_loss", 2),
              "sweep: active units": sweep_table(sweep_csv, "active_units", 1),
              "sweep: k-NN accuracy on latent means": sweep_table(sweep_csv, "knn_accuracy", 3)}
    for title, table in tables.items():
        print(f"{title}\n")
        print(table.to_markdown(index=False, colalign=["right"] * len(table.columns), disable_numparse=True),
              end="\n\n")
