"""Stage sweep@<d>-<recipe>: one cell of the latent-dimension sweep. It trains a VAE with latent dimension d and
the sweep recipe <recipe> (params block sweep-<recipe>) at the sweep's budget, from every seed of the sweep, the
seeds side by side on the machine's cores (vae/group.py), and writes what the curves over d need: per seed the
test metrics, the measures that compare decoders and the loss per epoch; and what the first seed's model draws.
It keeps no model: nothing downstream reads one."""

from __future__ import annotations

import argparse
import logging
import resource
import statistics
from collections.abc import Mapping
from dataclasses import asdict
from pathlib import Path
from typing import Any

import numpy as np
import torch

from stages import cli, params, quadrature, train
from stages.params import Rule, integer, seed, seed_list
from study import knn
from study.fingerprint import code_md5
from vae import data, sampling
from vae.evaluate import (continuous_bernoulli_nll, importance_weighted_nll, latent_means, reconstruction_mse,
                          split_tensors)
from vae.group import fit_group, workers_for
from vae.io import write_csv, write_npz
from vae.likelihood import exact_nll
from vae.model import VAE
from vae.pixels import evaluation_images
from vae.train import TrainResult, deterministic_torch

log = logging.getLogger(__name__)

# What the first seed's model draws: decoder means of the first test images and of prior draws, and for a decoder
# whose mean is not its lambda the lambda of the first of them, small enough to commit with every cell (the figures
# stage draws a row per d from them).
DRAWN_RECONSTRUCTIONS = 16
DRAWN_SAMPLES = 64
DRAWN_LAMBDAS = 16
# The latent dimensions quadrature over z reaches (the likelihood stage's grid keys name them).
EXACT_DIMS = (1, 2)


def clips() -> Rule:
    """Clips of lambda to [clip, 1 - clip], each in [0, 1/2): 0 is no clip."""
    return Rule("a non-empty list of distinct numbers in [0, 0.5)",
                lambda v: (isinstance(v, list) and len(v) > 0 and len(set(map(repr, v))) == len(v)
                           and all(params.is_number(c) and 0 <= c < 0.5 for c in v)))


# The keys of the sweep block a cell reads; the grid (dims, recipes) is read by dvc.yaml's matrix and by stage
# sweep-summary. A cell trains every seed, so adding a seed reruns every cell.
BUDGET = {
    "seeds": seed_list(),
    "epochs": integer(1),  # of every cell, whatever its recipe
    "knn_k": integer(1),  # neighbours of the k-NN digit classifier, on latent means and on pixels
    "decoded_images": integer(1),  # test reconstructions and prior samples per model the pixel classifier judges
    "exact_images": integer(1),  # test images whose exact -log p(x) cells at d <= 2 compute, by quadrature
    "cb_clips": clips(),  # clips of lambda at which every model is read as a continuous Bernoulli
    "draw_seed": seed(),  # of the prior draws each cell records
}
MODULE = "stages.sweep"


def schema(recipe: str) -> params.Schema:
    """What a cell of ``recipe`` reads: the shared train block, its recipe block, the budget, and the likelihood
    stage's quadrature grid (used at d <= 2)."""
    return {"train": train.SHARED, f"sweep-{recipe}": train.RECIPE, **params.keys("sweep", BUDGET),
            **params.keys("likelihood", quadrature.GRID)}


def check(budget: Mapping[str, Any], train_images: int, test_images: int, source: Path | str) -> None:
    """The neighbours of the k-NN classifier must fit in the training images, and what is judged in the test set."""
    if budget["knn_k"] > train_images:
        raise params.ParamError(f"{source}: sweep.knn_k = {budget['knn_k']}: expected at most the {train_images} "
                                "prepared training images (data.train_size), the neighbours to choose from")
    for key in ("decoded_images", "exact_images"):
        if budget[key] > test_images:
            raise params.ParamError(f"{source}: sweep.{key} = {budget[key]}: expected at most the {test_images} "
                                    "prepared test images (data.test_size)")


def clip_name(clip: float) -> str:
    """A clip as the cell's results name it: "1e-04", or "none" for 0."""
    if clip == 0:
        return "none"
    short = f"{clip:.0e}"
    return short if float(short) == clip else repr(clip)


def peak_rss_mb() -> int:
    """The largest resident set of this process and of the worker processes it has waited for, in MB."""
    return round(max(resource.getrusage(who).ru_maxrss for who in (resource.RUSAGE_SELF, resource.RUSAGE_CHILDREN))
                 / 1024)


def exact_likelihood(vae: VAE, x_test: torch.Tensor, grid: Mapping[str, Any], *, iw_samples: int,
                     seed: int) -> dict[str, Any]:
    """The exact -log p(x) by quadrature over z on ``x_test``, how far halving the grid spacing moved it, and the
    importance-weighted estimate on the same images."""
    points = grid[f"d{vae.config.latent_dim}_grid_points"]
    exact = exact_nll(vae, x_test, points, grid["grid_limit"]).mean()
    coarse = exact_nll(vae, x_test, points // 2, grid["grid_limit"]).mean()
    return {"exact_images": len(x_test), "exact_nll": round(float(exact), 4),
            "exact_halved_change": round(float(coarse - exact), 4),
            "exact_iw_nll": round(importance_weighted_nll(vae, x_test, iw_samples, seed=seed), 4)}


def seed_metrics(result: TrainResult, seed_: int, x: Mapping[str, torch.Tensor], splits: Mapping[str, data.Split],
                 pixel_votes: knn.Neighbours, p: Mapping[str, Any]) -> dict[str, Any]:
    """Everything a cell reports of the model trained from ``seed_``; ``x`` holds the images as the recipe
    evaluates them ("test"), as grey levels ("test_grey", "train") and dequantized ("test_dequantized")."""
    vae, budget = result.model, p["sweep"]
    best = result.history[result.best_epoch - 1]
    means = {split: latent_means(vae, x[split]).cpu().numpy() for split in ("train", "test")}
    predicted = knn.knn_predict(means["train"], splits["train"].labels, means["test"], budget["knn_k"])
    n = budget["decoded_images"]
    judged = splits["test"].labels[:n]
    recon_votes = pixel_votes(sampling.reconstruct(vae, x["test"][:n]).reshape(n, -1).numpy())
    sample_votes = pixel_votes(sampling.sample_prior(vae, n, seed_).reshape(n, -1).numpy())
    read_as_cb = continuous_bernoulli_nll(vae, x["test_dequantized"], budget["cb_clips"], seed=seed_)
    metrics = {
        "seed": seed_,
        "epochs_run": len(result.history),
        "best_epoch": result.best_epoch,
        "best_val_loss": round(best.val_loss, 4),
        **train.test_metrics(vae, x["test"], iw_samples=p["train"]["iw_samples"], seed=seed_),
        "knn_accuracy": round(float((predicted == splits["test"].labels).mean()), 4),
        "pixel_mse": round(reconstruction_mse(vae, x["test"], x["test_grey"]), 6),
        # Share of reconstructions the pixel classifier gives the digit of the image they came from, and of prior
        # samples whose nearest training images all show one digit.
        "recon_digit_kept": round(float((knn.majority(recon_votes) == judged).mean()), 4),
        "samples_named": round(knn.named_share(sample_votes), 4),
        "cb_nll": {clip_name(clip): round(value, 4) for clip, value in read_as_cb.items()},
        "train_seconds": round(result.train_seconds, 1),
        # The median: the first epoch also compiles the training step.
        "seconds_per_epoch": round(statistics.median(r.seconds for r in result.history), 3),
    }
    if vae.config.latent_dim in EXACT_DIMS:
        metrics |= exact_likelihood(vae, x["test"][:budget["exact_images"]], p["likelihood"],
                                    iw_samples=p["train"]["iw_samples"], seed=seed_)
    return metrics


def drawn(vae: VAE, x_test: torch.Tensor, draw_seed: int) -> dict[str, np.ndarray]:
    """What a model draws, as 8-bit images: its mean, and its lambda where the decoder's mean is not lambda."""
    images = {"recon_mean": sampling.reconstruct(vae, x_test[:DRAWN_RECONSTRUCTIONS]),
              "samples_mean": sampling.sample_prior(vae, DRAWN_SAMPLES, draw_seed)}
    if vae.config.decoder == "continuous-bernoulli":
        images |= {"recon_lambda": sampling.reconstruct(vae, x_test[:DRAWN_LAMBDAS], "lambda"),
                   "samples_lambda": sampling.sample_prior(vae, DRAWN_SAMPLES, draw_seed, "lambda")[:DRAWN_LAMBDAS]}
    return {name: (image * 255).round().to(torch.uint8).numpy() for name, image in images.items()}


def main(args: argparse.Namespace) -> dict[str, Any]:
    deterministic_torch()
    p = params.load(args.params, schema(args.recipe))
    shared, recipe, budget = p["train"], p[f"sweep-{args.recipe}"], p["sweep"]
    train.check(shared)
    binarize = data.load_binarization(args.data)
    train.check_decoder(f"sweep-{args.recipe}", recipe, binarize, args.params)
    splits = data.load_prepared(args.data)
    check(budget, len(splits["train"].labels), len(splits["test"].labels), args.params)
    device, machine = train.machine_metrics(shared)
    configs = [train.train_config(recipe, epochs=budget["epochs"], seed=s, shared=shared,
                                  precision=machine["precision"], binarize=binarize) for s in budget["seeds"]]
    pixels = configs[0].pixels
    x = split_tensors(splits, device)
    x |= {"test_grey": x["test"], "test_dequantized": evaluation_images(x["test"], "dequantized"),
          "val": evaluation_images(x["val"], pixels), "test": evaluation_images(x["test"], pixels)}
    workers = workers_for(len(configs))
    log.info("training d=%d, recipe %s, seeds %s: %d workers of one thread each, pixels %s", args.latent_dim,
             args.recipe, budget["seeds"], workers, pixels)
    results = fit_group(train.model_config(args.latent_dim, recipe), configs, x["train"], x["val"], workers)
    # One pixel classifier for every model: it indexes the training images once.
    pixel_votes = knn.Neighbours(x["train"].cpu().numpy(), splits["train"].labels, budget["knn_k"])
    seeds = [seed_metrics(r, s, x, splits, pixel_votes, p) for r, s in zip(results, budget["seeds"])]
    write_csv(args.loss_csv, [{"seed": s, **asdict(r)} for result, s in zip(results, budget["seeds"])
                              for r in result.history])
    write_npz(args.draws, drawn(results[0].model, x["test"], budget["draw_seed"]))
    return {
        "latent_dim": args.latent_dim,
        "recipe": args.recipe,
        "settings": recipe,
        "epochs": budget["epochs"],
        "seeds": seeds,
        "drawn_seed": budget["seeds"][0],
        **machine,
        "binarize": binarize,
        "pixels": pixels,
        "workers": workers,
        "peak_rss_mb": peak_rss_mb(),
        "train": shared,
        "code_md5": code_md5(MODULE),
    }


if __name__ == "__main__":
    ap = cli.parser("sweep", __doc__)
    ap.add_argument("--latent-dim", type=int, required=True, help="latent dimension d (>= 1)")
    ap.add_argument("--recipe", required=True, help="the sweep recipe it trains (params block sweep-<recipe>)")
    ap.add_argument("--data", type=Path, required=True, help="prepared arrays from prepare-data")
    ap.add_argument("--metrics", type=Path, required=True, help="the cell's results, one entry per seed (JSON)")
    ap.add_argument("--loss-csv", type=Path, required=True, help="loss per seed and epoch (CSV)")
    ap.add_argument("--draws", type=Path, required=True, help="what the first seed's model draws (8-bit images, .npz)")
    parsed = ap.parse_args()
    if parsed.latent_dim < 1:
        ap.error(f"--latent-dim must be an integer >= 1, got {parsed.latent_dim}")
    cli.run(f"sweep@{parsed.latent_dim}-{parsed.recipe}", main, parsed)
