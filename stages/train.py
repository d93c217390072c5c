"""Stage train-d<N>: train one VAE with latent dimension N and evaluate it on the test set. It writes what
training produces (the model, the metrics, the loss per epoch); the figures stage draws from them. The rules of
a train block and what turns one into a training run live here too: the baseline and the sweep's cells train
with them."""

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
from vae import data, decoders, hardware, model
from vae.evaluate import active_units, elbo_terms, importance_weighted_nll, latent_means, split_tensors
from vae.io import write_csv
from vae.pixels import evaluation_images
from vae.train import DEVICES, LR_SCHEDULES, PRECISIONS, TrainConfig, deterministic_torch, fit, resolve_device

log = logging.getLogger(__name__)

SHARED = {
    "device": choice(*DEVICES),
    "compile": boolean(),
    "precision": choice("auto", *PRECISIONS),
    "iw_samples": integer(1),
}
# A recipe: what a model is and how it learns, whatever its budget and seed. A sweep recipe is one of these.
RECIPE = {
    "hidden": int_list(1),
    "activation": choice(*model.ACTIVATIONS),
    "decoder": choice(*decoders.DECODERS),
    "batch_size": integer(1),
    "lr": positive_number(),
    "lr_schedule": choice(*LR_SCHEDULES),
    "kl_warmup_epochs": integer(0),
}
# A main model's train block: its recipe, its budget and its seed.
BLOCK = {**RECIPE, "epochs": integer(1), "seed": seed()}


def schema(latent_dim: int) -> params.Schema:
    """What train-d<latent_dim> reads: the shared ``train`` block and its own."""
    return {"train": SHARED, f"train-d{latent_dim}": BLOCK}


def check(shared: Mapping[str, Any]) -> None:
    """What the rules alone cannot see: whether this machine has the device asked for."""
    resolve_device(shared["device"])


def check_decoder(block: str, recipe: Mapping[str, Any], binarize: str, source: Path | str) -> None:
    """The continuous Bernoulli is a density over grey levels: binarized pixels would make it no better than the
    Bernoulli, and its likelihood of exact zeros and ones is unbounded."""
    if recipe["decoder"] == "continuous-bernoulli" and binarize != "none":
        raise params.ParamError(f"{source}: {block}.decoder = 'continuous-bernoulli' with data.binarize = "
                                f"{binarize!r}: expected data.binarize 'none' (the continuous Bernoulli models grey "
                                "levels) or decoder 'bernoulli'")


def pixels(decoder: str, binarize: str) -> str:
    """What a model of ``decoder`` sees of the images prepared with ``binarize`` (see vae/pixels.py)."""
    if decoder == "continuous-bernoulli":
        return "dequantized"
    return "binarized" if binarize == "dynamic" else "grey"


def model_config(latent_dim: int, recipe: Mapping[str, Any]) -> model.ModelConfig:
    return model.ModelConfig(latent_dim=latent_dim, hidden=tuple(recipe["hidden"]), activation=recipe["activation"],
                             decoder=recipe["decoder"])


def train_config(recipe: Mapping[str, Any], *, epochs: int, seed: int, shared: Mapping[str, Any], precision: str,
                 binarize: str) -> TrainConfig:
    """The run ``recipe`` makes at a budget of ``epochs`` from ``seed``, at the ``shared`` speed settings."""
    return TrainConfig(epochs=epochs, batch_size=recipe["batch_size"], lr=recipe["lr"], seed=seed,
                       lr_schedule=recipe["lr_schedule"], kl_warmup_epochs=recipe["kl_warmup_epochs"],
                       compile=shared["compile"], precision=precision, pixels=pixels(recipe["decoder"], binarize))


def machine_metrics(shared: Mapping[str, Any]) -> tuple[torch.device, dict[str, Any]]:
    """The device ``shared`` asks for, and what the metrics record of it: the precision ``auto`` resolved to."""
    device = resolve_device(shared["device"])
    machine = hardware.describe(device)
    precision = hardware.resolve_precision(shared["precision"], machine)
    log.info("device %s (%s), precision %s (setting %s; native bf16 flags: %s)", device, machine.name, precision,
             shared["precision"], ", ".join(machine.bf16_flags) or "none")
    return device, {"precision": precision, "device": machine.name, "native_bf16": machine.native_bf16}


def test_metrics(vae: model.VAE, x_test: torch.Tensor, *, iw_samples: int, seed: int) -> dict[str, Any]:
    """The test measures every trained model reports, on the test images as its recipe evaluates them."""
    test = elbo_terms(vae, x_test, seed=seed)
    log.info("d=%d seed %d: importance-weighted -log p(x) on %d test images, %d samples each",
             vae.config.latent_dim, seed, len(x_test), iw_samples)
    return {
        "test_loss": round(test.loss, 4),
        "test_recon": round(test.recon, 4),
        "test_kl": round(test.kl, 4),
        "test_nll_iw": round(importance_weighted_nll(vae, x_test, iw_samples, seed=seed), 4),
        "active_units": active_units(latent_means(vae, x_test)),
    }


def main(args: argparse.Namespace) -> dict[str, Any]:
    deterministic_torch()
    all_params = params.load(args.params, schema(args.latent_dim))
    shared, block = all_params["train"], all_params[f"train-d{args.latent_dim}"]
    check(shared)
    binarize = data.load_binarization(args.data)
    check_decoder(f"train-d{args.latent_dim}", block, binarize, args.params)
    device, machine = machine_metrics(shared)
    config = train_config(block, epochs=block["epochs"], seed=block["seed"], shared=shared,
                          precision=machine["precision"], binarize=binarize)
    x = split_tensors(data.load_prepared(args.data), device)
    val, test = (evaluation_images(x[split], config.pixels) for split in ("val", "test"))
    log.info("training d=%d: %d train, %d validation images, pixels %s", args.latent_dim, len(x["train"]), len(val),
             config.pixels)
    result = fit(model_config(args.latent_dim, block), x["train"], val, config)
    best = result.history[result.best_epoch - 1]
    metrics = {
        "latent_dim": args.latent_dim,
        "epochs_run": len(result.history),
        "best_epoch": result.best_epoch,
        "best_val_loss": round(best.val_loss, 4),
        **test_metrics(result.model, test, iw_samples=shared["iw_samples"], seed=block["seed"]),
        "train_seconds": round(result.train_seconds, 1),
        **machine,
        "binarize": binarize,
        "pixels": config.pixels,
    }
    log.info("d=%d: best validation loss %.2f at epoch %d; test loss %.2f", args.latent_dim, best.val_loss,
             result.best_epoch, metrics["test_loss"])
    model.save(result.model, args.model, settings=block)
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
