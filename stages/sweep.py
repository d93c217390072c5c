"""Stage sweep@<d>-<recipe>-<seed>: one cell of the latent-dimension sweep. It trains a VAE with latent
dimension d, the recipe of train block <recipe> at the sweep's budget, from <seed>, with the train stages'
own code, and writes what the curves over d need: the test metrics (and the k-NN digit accuracy on its latent
means) as JSON, and the loss per epoch. It keeps no model: nothing downstream reads one."""

from __future__ import annotations

import argparse
import logging
import resource
import statistics
from dataclasses import asdict
from pathlib import Path
from typing import Any

from stages import cli, params, train
from stages.params import integer
from study import embedding
from study.provenance import code_md5
from vae import data
from vae.evaluate import latent_means
from vae.io import write_csv

log = logging.getLogger(__name__)

# The keys of the sweep block a cell reads; the grid (dims, recipes, seeds) is read by dvc.yaml's matrix and
# by stage sweep-summary.
BUDGET = {
    "epochs": integer(1),  # of every cell, whatever its recipe's own epochs
    "knn_k": integer(1),  # neighbours of the k-NN digit classifier on the cell's latent means
}
# A cell trains with its recipe's settings but for these, which the sweep sets.
SET_BY_THE_SWEEP = ("epochs", "seed")
MODULE = "stages.sweep"


def schema(recipe: str) -> params.Schema:
    """What a cell of ``recipe`` reads: the shared train block, its recipe but for epochs and seed, the budget."""
    recipe_rules = {key: rule for key, rule in train.BLOCK.items() if key not in SET_BY_THE_SWEEP}
    return {"train": train.SHARED, **params.keys(recipe, recipe_rules), **params.keys("sweep", BUDGET)}


def check(all_params: params.Params, train_images: int, source: str) -> None:
    """The neighbours of the k-NN classifier must fit in the training images."""
    k = all_params["sweep"]["knn_k"]
    if k > train_images:
        raise params.ParamError(f"{source}: sweep.knn_k = {k}: expected at most the {train_images} prepared "
                                "training images (data.train_size), the neighbours to choose from")


def main(args: argparse.Namespace) -> dict[str, Any]:
    all_params = params.load(args.params, schema(args.recipe))
    train.check(all_params)
    splits = data.load_prepared(args.data)
    check(all_params, len(splits["train"].labels), str(args.params))
    budget = all_params["sweep"]
    recipe = {**all_params[args.recipe], "epochs": budget["epochs"], "seed": args.seed}
    result, x, metrics = train.train_and_test(args.latent_dim, recipe, all_params["train"], splits,
                                              data.load_binarization(args.data))
    means = {split: latent_means(result.model, x[split]).cpu().numpy() for split in ("train", "test")}
    predicted = embedding.knn_predict(means["train"], splits["train"].labels, means["test"], budget["knn_k"])
    write_csv(args.loss_csv, [asdict(r) for r in result.history])
    return {
        "recipe": args.recipe,
        "seed": args.seed,
        **metrics,
        "knn_accuracy": round(float((predicted == splits["test"].labels).mean()), 4),
        # The median: the first epoch also compiles the training step.
        "seconds_per_epoch": round(statistics.median(r.seconds for r in result.history), 3),
        "peak_rss_mb": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024),
        "settings": {key: recipe[key] for key in train.BLOCK},
        "train": all_params["train"],
        "code_md5": code_md5(MODULE),
    }


if __name__ == "__main__":
    ap = cli.parser("sweep", __doc__)
    ap.add_argument("--latent-dim", type=int, required=True, help="latent dimension d (>= 1)")
    ap.add_argument("--recipe", required=True, help="the train block whose recipe the cell trains with (train-d<N>)")
    ap.add_argument("--seed", type=int, required=True, help="the cell's seed")
    ap.add_argument("--data", type=Path, required=True, help="prepared arrays from prepare-data")
    ap.add_argument("--metrics", type=Path, required=True, help="the cell's results (JSON)")
    ap.add_argument("--loss-csv", type=Path, required=True, help="loss per epoch (CSV)")
    parsed = ap.parse_args()
    if parsed.latent_dim < 1:
        ap.error(f"--latent-dim must be an integer >= 1, got {parsed.latent_dim}")
    if not 0 <= parsed.seed <= params.SEED_MAX:
        ap.error(f"--seed must be an integer in [0, {params.SEED_MAX}], got {parsed.seed}")
    cli.run(f"sweep@{parsed.latent_dim}-{parsed.recipe}-{parsed.seed}", main, parsed)
