"""The seed sweep behind the report's equal-footing table: every latent dimension trained with the recipe of
each given train block at one budget of epochs, from several seeds, by the train stage itself. The results
go to one CSV that the figures and report stages read (a dependency of both in dvc.yaml).

    python scripts/seed_sweep.py    # make seeds: the recipes of train-d2 and train-d64, both at train-d2's
                                    # epochs, for d = 1, 2, 64 from seeds 101-103

Training each d with both recipes is what isolates d (one recipe, one budget for all) and measures what
each recipe difference is worth. It is not a pipeline stage because its 18 trainings would triple the time
of the default `dvc repro`. Rerun it after changing a recipe: the report compares the recipes in the CSV with
params.yaml and says where they differ. Each run's row is written as soon as it ends, and rows already in
the CSV for the same recipe and seed are kept, so an interrupted sweep resumes where it stopped.
"""

from __future__ import annotations

import argparse
import subprocess
import sys
import tempfile
from pathlib import Path
from typing import Any

import pandas as pd
import yaml

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))  # before the project's imports, for a script run by its path

from stages import params
from vae.io import read_json, write_csv
from vae.provenance import git_commit
from vae.sweep import MEASURED_COLUMNS, RECIPE_COLUMNS


def recipe_of(block: dict[str, Any]) -> dict[str, str]:
    """A train block's recipe as the CSV stores it (as text: lists and numbers compare exactly)."""
    return {key: str(block[key]) for key in RECIPE_COLUMNS}


def train_once(all_params: dict[str, Any], recipe: dict[str, Any], d: int, seed: int, data: Path) -> dict[str, Any]:
    """Run stage train-d<d> with ``recipe`` and ``seed`` in a scratch directory; return its metrics."""
    with tempfile.TemporaryDirectory(prefix="seed-sweep-") as scratch:
        tmp = Path(scratch)
        run_params = {**all_params, f"train-d{d}": {**recipe, "seed": seed}}
        (tmp / "params.yaml").write_text(yaml.safe_dump(run_params, sort_keys=False))
        subprocess.run([sys.executable, "-m", "stages.train", "--params", str(tmp / "params.yaml"),
                        "--latent-dim", str(d), "--data", str(data), "--model", str(tmp / "model.pt"),
                        "--metrics", str(tmp / "metrics.json"), "--loss-csv", str(tmp / "loss.csv")],
                       cwd=ROOT, check=True)
        return read_json(tmp / "metrics.json")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--params", type=Path, default=ROOT / "params.yaml")
    ap.add_argument("--recipes", nargs="+", default=["train-d2", "train-d64"],
                    help="train blocks whose recipes every d is trained with (default: train-d2 train-d64)")
    ap.add_argument("--epochs", type=int, help="the budget of every run (default: the first recipe's epochs)")
    ap.add_argument("--dims", type=int, nargs="+", default=[1, 2, 64])
    ap.add_argument("--seeds", type=int, nargs="+", default=[101, 102, 103],
                    help="seeds of the runs (default 101 102 103: none of them a main model's)")
    ap.add_argument("--data", type=Path, default=ROOT / "data/prepared/mnist.npz", help="from stage prepare-data")
    ap.add_argument("--out", type=Path, default=ROOT / "results/seed-sweep.csv")
    args = ap.parse_args()

    if args.epochs is not None and args.epochs < 1:
        ap.error(f"--epochs must be an integer >= 1, got {args.epochs}")
    all_params = params.read(args.params)
    unknown = [name for name in args.recipes if not (name.startswith("train-d") and name in all_params)]
    if unknown:
        ap.error(f"--recipes {' '.join(unknown)}: not a train block of {args.params}; expected train-d<d> blocks")
    epochs = args.epochs or all_params[args.recipes[0]]["epochs"]
    recipes = {name: {**all_params[name], "epochs": epochs} for name in args.recipes}
    rows = pd.read_csv(args.out, dtype=str).to_dict("records") if args.out.is_file() else []
    # Keep the rows of these recipes as they are now; rows of another recipe would mix two sweeps in one table.
    rows = [row for row in rows if row["recipe"] in recipes
            and {key: row[key] for key in RECIPE_COLUMNS} == recipe_of(recipes[row["recipe"]])]
    done = {(row["recipe"], int(row["latent_dim"]), int(row["seed"])) for row in rows}
    for name, recipe in recipes.items():
        for d in args.dims:
            for seed in args.seeds:
                if (name, d, seed) in done:
                    print(f"{name} recipe, d={d}, seed {seed}: already in {args.out}", file=sys.stderr)
                    continue
                metrics = train_once(all_params, recipe, d, seed, args.data)
                rows.append({"recipe": name, "latent_dim": d, "seed": seed, **recipe_of(recipe),
                             **{key: metrics[key] for key in MEASURED_COLUMNS},
                             "commit": git_commit(("stages", "vae"))})
                rows.sort(key=lambda row: (args.recipes.index(row["recipe"]), int(row["latent_dim"]), int(row["seed"])))
                write_csv(args.out, rows)
                print(f"{name} recipe, d={d}, seed {seed}: test loss {metrics['test_loss']:.2f} -> {args.out}",
                      file=sys.stderr)


if __name__ == "__main__":
    main()
