"""Print the README's results table (markdown, one row per latent dimension) from metrics/*.json.

Run after `dvc repro`:  python scripts/results_table.py
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

COLUMNS = [  # (metrics file key, heading, format)
    ("best_val_loss", "val loss (min)", ".2f"),
    ("test_loss", "test loss", ".2f"),
    ("test_recon", "test recon", ".2f"),
    ("test_kl", "test KL", ".2f"),
    ("test_nll_iw", "test -log p(x), IW", ".2f"),
    ("baseline_test_loss", "baseline test loss", ".2f"),
    ("active_units", "active units", "d"),
    ("best_epoch", "best epoch", "d"),
    ("train_seconds", "train s", ".0f"),
    ("knn_accuracy", "k-NN acc.", ".3f"),
    ("silhouette", "silhouette", ".3f"),
]


def main(metrics_dir: Path) -> None:
    embed = json.loads((metrics_dir / "embed.json").read_text())
    baseline_file = metrics_dir / "baseline.json"
    baseline = json.loads(baseline_file.read_text()) if baseline_file.is_file() else {}
    dims = sorted(int(key[1:]) for key in embed)
    print("| d | " + " | ".join(heading for _, heading, _ in COLUMNS) + " |")
    print("| ---: | " + " | ".join("---:" for _ in COLUMNS) + " |")
    for d in dims:
        row = {**json.loads((metrics_dir / f"train-d{d}.json").read_text()), **embed[f"d{d}"]}
        if f"d{d}" in baseline:
            row["baseline_test_loss"] = baseline[f"d{d}"]["test_loss"]
        print(f"| {d} | " + " | ".join(format(row[key], fmt) if key in row else "-" for key, _, fmt in COLUMNS) + " |")


if __name__ == "__main__":
    main(Path(sys.argv[1]) if len(sys.argv) > 1 else Path("metrics"))
