"""Stage train-d<N>: train one VAE with latent dimension N, evaluate it on the test set, draw its figures."""

from __future__ import annotations

import argparse
import logging
from dataclasses import asdict
from pathlib import Path

from stages import cli, params
from vae import data, model
from vae.evaluate import active_units, elbo_terms, importance_weighted_nll, latent_means, split_tensors
from vae.figures import loss_curve
from vae.io import write_csv, write_json
from vae.model_figures import write_model_figures
from vae.train import TrainConfig, fit, resolve_device

log = logging.getLogger(__name__)


def main(args: argparse.Namespace) -> None:
    all_params = params.load(args.params)
    p = params.train_block(all_params, args.latent_dim)
    device = resolve_device(all_params["train"]["device"])
    splits = data.load_prepared(args.data)
    x = split_tensors(splits, device)
    log.info("training d=%d on %s: %d train, %d validation images", args.latent_dim, device, len(x["train"]),
             len(x["val"]))

    config = TrainConfig(epochs=p["epochs"], batch_size=p["batch_size"], lr=p["lr"], seed=p["seed"],
                         lr_schedule=p["lr_schedule"], kl_warmup_epochs=p["kl_warmup_epochs"],
                         compile=all_params["train"]["compile"], precision=all_params["train"]["precision"])
    result = fit(model.ModelConfig(args.latent_dim, tuple(p["hidden"]), p["activation"]), x["train"], x["val"],
                 config)
    test = elbo_terms(result.model, x["test"], seed=p["seed"])
    iw_samples = all_params["train"]["iw_samples"]
    log.info("d=%d: importance-weighted -log p(x) on %d test images, %d samples each", args.latent_dim,
             len(x["test"]), iw_samples)
    test_nll_iw = importance_weighted_nll(result.model, x["test"], iw_samples, seed=p["seed"])
    best = result.history[result.best_epoch - 1]

    model.save(result.model, args.model, settings=p)
    write_csv(args.plots / f"loss-d{args.latent_dim}.csv", [asdict(r) for r in result.history])
    loss_curve([r.epoch for r in result.history], [r.train_loss for r in result.history],
               [r.val_loss for r in result.history], f"d={args.latent_dim}: loss per epoch",
               args.plots / f"loss-d{args.latent_dim}.png")
    write_model_figures(result.model, x["test"], splits["test"].labels, args.plots, seed=p["seed"])
    # Metrics last: a metrics file on disk means every other output of the stage is complete.
    write_json(args.metrics, {
        "latent_dim": args.latent_dim,
        "epochs_run": len(result.history),
        "best_epoch": result.best_epoch,
        "best_val_loss": round(best.val_loss, 4),
        "test_loss": round(test.loss, 4),
        "test_recon": round(test.recon, 4),
        "test_kl": round(test.kl, 4),
        "test_nll_iw": round(test_nll_iw, 4),
        "active_units": active_units(latent_means(result.model, x["test"])),
        "train_seconds": round(result.train_seconds, 1),
    })
    log.info("d=%d: best validation loss %.2f at epoch %d; test loss %.2f", args.latent_dim, best.val_loss,
             result.best_epoch, test.loss)

if __name__ == "__main__":
    ap = cli.parser("train", __doc__)
    ap.add_argument("--latent-dim", type=int, required=True, help="latent dimension d (>= 1); reads block train-d<d>")
    ap.add_argument("--data", type=Path, required=True, help="prepared arrays from prepare-data")
    ap.add_argument("--model", type=Path, required=True, help="where to write the trained weights")
    ap.add_argument("--metrics", type=Path, required=True, help="metrics JSON")
    ap.add_argument("--plots", type=Path, required=True, help="directory for the loss CSV and PNG figures")
    parsed = ap.parse_args()
    if parsed.latent_dim < 1:
        ap.error(f"--latent-dim must be an integer >= 1, got {parsed.latent_dim}")
    cli.run(f"train-d{parsed.latent_dim}", main, parsed)
