"""Stage train-d<N>: train one VAE with latent dimension N and evaluate it on the test set. It writes what
training produces (the model, the metrics, the loss per epoch); the figures stage draws from them."""

from __future__ import annotations

import argparse
import logging
from collections.abc import Mapping
from dataclasses import asdict
from pathlib import Path
from typing import Any

import torch

from stages import cli, params
from stages.params import boolean, choice, int_list, integer, positive_number, seed
from vae import data, hardware, model
from vae.evaluate import active_units, elbo_terms, importance_weighted_nll, latent_means, split_tensors
from vae.io import write_csv
from vae.train import DEVICES, LR_SCHEDULES, PRECISIONS, TrainConfig, TrainResult, fit, resolve_device

log = logging.getLogger(__name__)

SHARED = {
    "device": choice(*DEVICES),
    "compile": boolean(),
    "precision": choice("auto", *PRECISIONS),
    "iw_samples": integer(1),
}
BLOCK = {
    "hidden": int_list(1),
    "activation": choice(*model.ACTIVATIONS),
    "epochs": integer(1),
    "batch_size": integer(1),
    "lr": positive_number(),
    "lr_schedule": choice(*LR_SCHEDULES),
    "kl_warmup_epochs": integer(0),
    "seed": seed(),
}


def schema(latent_dim: int) -> params.Schema:
    """What train-d<latent_dim> reads: the shared ``train`` block and its own."""
    return {"train": SHARED, f"train-d{latent_dim}": BLOCK}


def check(all_params: params.Params) -> None:
    """What the rules alone cannot see: whether this machine has the device asked for."""
    resolve_device(all_params["train"]["device"])


def train_and_test(latent_dim: int, recipe: Mapping[str, Any], shared: Mapping[str, Any], splits: dict[str, data.Split],
                   binarize: str) -> tuple[TrainResult, dict[str, torch.Tensor], dict[str, Any]]:
    """Train a VAE with ``latent_dim`` and ``recipe`` (the keys of a train block) under the ``shared`` settings
    on the prepared ``splits``, and evaluate it on the test set: what a train stage and a sweep cell share.
    Returns the training result, the splits' images as tensors and the metrics."""
    device = resolve_device(shared["device"])
    machine = hardware.describe(device)
    precision = hardware.resolve_precision(shared["precision"], machine)
    x = split_tensors(splits, device)
    log.info("training d=%d on %s (%s), precision %s (setting %s; native bf16 flags: %s): %d train, "
             "%d validation images, binarization %s", latent_dim, device, machine.name, precision,
             shared["precision"], ", ".join(machine.bf16_flags) or "none", len(x["train"]), len(x["val"]), binarize)
    config = TrainConfig(epochs=recipe["epochs"], batch_size=recipe["batch_size"], lr=recipe["lr"], seed=recipe["seed"],
                         lr_schedule=recipe["lr_schedule"], kl_warmup_epochs=recipe["kl_warmup_epochs"],
                         compile=shared["compile"], precision=precision, binarize=binarize == "dynamic")
    result = fit(model.ModelConfig(latent_dim, tuple(recipe["hidden"]), recipe["activation"]), x["train"], x["val"],
                 config)
    test = elbo_terms(result.model, x["test"], seed=recipe["seed"])
    log.info("d=%d: importance-weighted -log p(x) on %d test images, %d samples each", latent_dim, len(x["test"]),
             shared["iw_samples"])
    test_nll_iw = importance_weighted_nll(result.model, x["test"], shared["iw_samples"], seed=recipe["seed"])
    best = result.history[result.best_epoch - 1]
    log.info("d=%d: best validation loss %.2f at epoch %d; test loss %.2f", latent_dim, best.val_loss,
             result.best_epoch, test.loss)
    return result, x, {
        "latent_dim": latent_dim,
        "epochs_run": len(result.history),
        "best_epoch": result.best_epoch,
        "best_val_loss": round(best.val_loss, 4),
        "test_loss": round(test.loss, 4),
        "test_recon": round(test.recon, 4),
        "test_kl": round(test.kl, 4),
        "test_nll_iw": round(test_nll_iw, 4),
        "active_units": active_units(latent_means(result.model, x["test"])),
        "train_seconds": round(result.train_seconds, 1),
        "precision": precision,
        "device": machine.name,
        "native_bf16": machine.native_bf16,
        "binarize": binarize,
    }


def main(args: argparse.Namespace) -> dict[str, Any]:
    all_params = params.load(args.params, schema(args.latent_dim))
    check(all_params)
    recipe = all_params[f"train-d{args.latent_dim}"]
    result, _, metrics = train_and_test(args.latent_dim, recipe, all_params["train"], data.load_prepared(args.data),
                                        data.load_binarization(args.data))
    model.save(result.model, args.model, settings=recipe)
    write_csv(args.loss_csv, [asdict(r) for r in result.history])
    return metrics


if __name__ == "__main__":
    ap = cli.parser("train", __doc__)
    ap.add_argument("--latent-dim", type=int, required=True, help="latent dimension d (>= 1); reads block train-d<d>")
    ap.add_argument("--data", type=Path, required=True, help="prepared arrays from prepare-data")
    ap.add_argument("--model", type=Path, required=True, help="where to write the trained weights")
    ap.add_argument("--metrics", type=Path, required=True, help="metrics JSON")
    ap.add_argument("--loss-csv", type=Path, required=True, help="loss per epoch (CSV)")
    parsed = ap.parse_args()
    if parsed.latent_dim < 1:
        ap.error(f"--latent-dim must be an integer >= 1, got {parsed.latent_dim}")
    cli.run(f"train-d{parsed.latent_dim}", main, parsed)
