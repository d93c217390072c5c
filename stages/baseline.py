"""Stage baseline: the plain VAE recipe of pytorch/examples (784-400-d MLP, Adam at a constant rate,
no warm-up), trained for as many epochs, from the same seed and with the same decoder as each train-d<N> stage,
as the yardstick for its test loss."""

from __future__ import annotations

import argparse
import logging
from pathlib import Path
from typing import Any

from stages import cli, params, train
from stages.params import int_list, integer, positive_number
from vae import data
from vae.evaluate import elbo_terms, split_tensors
from vae.pixels import evaluation_images
from vae.train import deterministic_torch, fit

log = logging.getLogger(__name__)


BLOCK = {"hidden": int_list(1), "batch_size": integer(1), "lr": positive_number()}


def schema(dims: list[int]) -> params.Schema:
    """The baseline block, the speed settings, and the epochs, seed and decoder of each model a baseline is
    compared with."""
    compared = {f"train-d{d}.{key}": train.BLOCK[key] for d in dims for key in ("epochs", "seed", "decoder")}
    speed = {key: train.SHARED[key] for key in ("device", "compile", "precision")}
    return {"baseline": BLOCK, **params.keys("train", speed), **compared}


def main(args: argparse.Namespace) -> dict[str, Any]:
    deterministic_torch()
    all_params = params.load(args.params, schema(args.dims))
    p = all_params["baseline"]
    shared = all_params["train"]
    binarize = data.load_binarization(args.data)
    # The models' speed settings: they change how fast the recipe trains, not what it is.
    device, machine = train.machine_metrics(shared)
    x = split_tensors(data.load_prepared(args.data), device)
    metrics = {}
    for d in args.dims:
        # Same epochs, seed and decoder as the model it is compared with; everything else is the plain recipe.
        ours = all_params[f"train-d{d}"]
        recipe = {"hidden": p["hidden"], "activation": "relu", "decoder": ours["decoder"],
                  "batch_size": p["batch_size"], "lr": p["lr"], "lr_schedule": "constant", "kl_warmup_epochs": 0}
        train.check_decoder(f"train-d{d}", recipe, binarize, args.params)
        config = train.train_config(recipe, epochs=ours["epochs"], seed=ours["seed"], shared=shared,
                                    precision=machine["precision"], binarize=binarize)
        log.info("baseline d=%d: %s, %d epochs", d, "-".join(map(str, (data.N_PIXELS, *p["hidden"], d))),
                 config.epochs)
        val, test_images = (evaluation_images(x[split], config.pixels) for split in ("val", "test"))
        result = fit(train.model_config(d, recipe), x["train"], val, config)
        test = elbo_terms(result.model, test_images, seed=ours["seed"])
        metrics[f"d{d}"] = {
            "epochs_run": len(result.history),
            "best_val_loss": round(result.history[result.best_epoch - 1].val_loss, 4),
            "test_loss": round(test.loss, 4),
            "train_seconds": round(result.train_seconds, 1),
        }
        log.info("baseline d=%d: test loss %.2f", d, test.loss)
    return {**metrics, **machine}


if __name__ == "__main__":
    ap = cli.parser("baseline", __doc__)
    ap.add_argument("--dims", type=int, nargs="+", required=True, help="latent dimensions to train a baseline for")
    ap.add_argument("--data", type=Path, required=True, help="prepared arrays from prepare-data")
    ap.add_argument("--metrics", type=Path, required=True, help="metrics JSON")
    parsed = ap.parse_args()
    if min(parsed.dims) < 1:
        ap.error(f"--dims must be integers >= 1, got {parsed.dims}")
    cli.run("baseline", main, parsed)
