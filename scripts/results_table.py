"""Print the README's results tables (markdown, one row per latent dimension): the main models' from
metrics/*.json, then the seed sweep's test loss, mean ± standard deviation, from results/seed-sweep.csv.

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


def sweep_table(runs_csv: Path, dims: list[int]) -> pd.DataFrame:
    runs = sweep.read(runs_csv, dims)
    return pd.DataFrame([{"d": d, **{f"recipe of {name}, {runs.epochs} epochs": f"{runs.spread[(name, d)].mean:.2f} ± "
                                     f"{runs.spread[(name, d)].std:.2f}" for name in runs.recipes}} for d in dims])


if __name__ == "__main__":
    main_table = results(Path(sys.argv[1]) if len(sys.argv) > 1 else Path("metrics"))
    for table in (main_table, sweep_table(Path("results/seed-sweep.csv"), [int(d) for d in main_table["d"]])):
        print(table.to_markdown(index=False, colalign=["right"] * len(table.columns), disable_numparse=True),
              end="\n\n")
