"""Stage figures: every PNG of the study, drawn from what the other stages saved (models, loss CSVs,
embedding CSVs), so that changing how a figure looks reruns this stage and the report, never training."""

from __future__ import annotations

import argparse
import logging
import math
from pathlib import Path
from typing import Any

import pandas as pd
import torch

from stages import checkpoints, cli, params
from stages.params import integer
from vae import data, figures
from vae import sweep as seed_sweep
from vae.evaluate import to_float_images
from vae.io import read_json, require
from vae.model_figures import write_model_figures

log = logging.getLogger(__name__)

SCHEMA = {"figures": {"seed": integer(0)}}  # of the prior samples drawn


def main(args: argparse.Namespace) -> dict[str, Any]:
    all_params = params.read(args.params)
    p = params.validate(all_params, SCHEMA, str(args.params))["figures"]
    x_test = to_float_images(torch.from_numpy(data.load_prepared(args.data)["test"].images))
    train = {d: read_json(args.stage_metrics / f"train-d{d}.json") for d in args.dims}
    exact = read_json(args.stage_metrics / "likelihood.json")
    curves = {"negative ELBO": [train[d]["test_loss"] for d in args.dims],
              "$-\\log p(x)$, importance-weighted": [train[d]["test_nll_iw"] for d in args.dims],
              # Only where quadrature over z is within reach; the line stops there.
              "$-\\log p(x)$, exact": [exact.get(f"d{d}", {}).get("test_nll_exact", math.nan) for d in args.dims]}
    sweep = seed_sweep.read(args.seed_sweep, args.dims)
    spread = {}
    for name in sweep.recipes:
        label = f"negative ELBO, seed sweep, {name}'s recipe: mean ± sd"
        curves[label] = [sweep.spread[(name, d)].mean for d in args.dims]
        spread[label] = [sweep.spread[(name, d)].std for d in args.dims]
    written = [args.plots / "loss-vs-d.png"]
    figures.loss_against_d(args.dims, curves, "test loss against the latent dimension", written[-1], spread)
    for d in args.dims:
        loss = pd.read_csv(require(args.plots / f"loss-d{d}.csv"))
        written.append(args.plots / f"loss-d{d}.png")
        figures.loss_curve(loss["epoch"].to_numpy(), loss["train_loss"].to_numpy(), loss["val_loss"].to_numpy(),
                           f"d={d}: loss per epoch", written[-1])
        written += write_model_figures(checkpoints.load_current(args.models, d, all_params), x_test, args.plots,
                                       p["seed"])
        if d >= 2:  # the d=1 view is a strip with jitter: `dvc plots show` draws it, no PNG does
            view = pd.read_csv(require(args.plots / f"embed-d{d}.csv"))
            name, title, axes = (("latent-d2.png", "d=2: test-set latent means", ("$z_1$", "$z_2$")) if d == 2 else
                                 (f"tsne-d{d}.png", f"d={d}: t-SNE of test-set latent means", ("t-SNE 1", "t-SNE 2")))
            written.append(args.plots / name)
            figures.digit_scatter(view[["x", "y"]].to_numpy(), view["label"].to_numpy(), title, *axes, written[-1])
    log.info("wrote %d figures to %s", len(written), args.plots)
    return {"figures_written": len(written)}


if __name__ == "__main__":
    ap = cli.parser("figures", __doc__)
    ap.add_argument("--dims", type=int, nargs="+", required=True, help="latent dimensions of the trained models")
    ap.add_argument("--data", type=Path, required=True, help="prepared arrays from prepare-data (the test images)")
    ap.add_argument("--models", type=Path, required=True, help="directory holding vae-d<d>.pt")
    ap.add_argument("--stage-metrics", type=Path, required=True,
                    help="directory holding train-d<d>.json and likelihood.json")
    ap.add_argument("--plots", type=Path, required=True,
                    help="directory holding loss-d<d>.csv and embed-d<d>.csv, and where the PNGs go")
    ap.add_argument("--seed-sweep", type=Path, required=True, help="runs of scripts/seed_sweep.py (CSV)")
    ap.add_argument("--metrics", type=Path, required=True, help="metrics JSON")
    cli.run("figures", main, ap.parse_args())
