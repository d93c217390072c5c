"""Stage figures: every PNG of the study, drawn from what the other stages saved (models, loss CSVs,
embedding CSVs, the sweep's table), so that changing how a figure looks reruns this stage and the report, never
training."""

from __future__ import annotations

import argparse
import logging
from pathlib import Path
from typing import Any

import pandas as pd
import torch

from stages import checkpoints, cli, params
from stages.params import seed
from study import figures, sweep
from study.model_figures import write_model_figures
from study.sweep import Sweep
from vae import data
from vae.evaluate import to_float_images
from vae.io import read_json, require

log = logging.getLogger(__name__)

SCHEMA = {"figures": {"seed": seed()}}  # of the prior samples drawn


def sweep_series(cells: Sweep, measure: str, label: str, style: str = "-") -> list[figures.Series]:
    """One series per recipe of the sweep: the mean of ``measure`` over seeds against d, with its spread."""
    series = []
    for colour, recipe in enumerate(cells.recipes):
        curve = cells.curve(recipe, measure)
        series.append(figures.Series(f"{label}, recipe of {recipe}", {d: s.mean for d, s in curve.items()},
                                     {d: s.std for d, s in curve.items() if s.known} or None, colour, style))
    return series


def draw_against_d(dims: list[int], train: dict[int, dict[str, Any]], exact: dict[str, Any], cells: Sweep,
                   plots: Path) -> list[Path]:
    """The main models' loss against d beside the sweep's, and the sweep's curves over d; returns the files."""
    # Points, not lines: the main models sit at a few d, and a line between them would claim the values between.
    main = [figures.Series("negative ELBO, main models", {d: train[d]["test_loss"] for d in dims}, colour=2,
                           style="none"),
            figures.Series("$-\\log p(x)$, importance-weighted", {d: train[d]["test_nll_iw"] for d in dims}, colour=3,
                           style="none"),
            # Only where quadrature over z is within reach.
            figures.Series("$-\\log p(x)$, exact", {d: exact[f"d{d}"]["test_nll_exact"] for d in dims
                                                    if f"d{d}" in exact}, colour=4, style="none")]
    drawn = {
        "loss-vs-d.png": [figures.Panel("test loss against the latent dimension", "nats per image (test set)",
                                        main + sweep_series(cells, "test_loss", "sweep, negative ELBO", "--"))],
        "sweep-likelihood.png": [
            figures.Panel("test loss", "nats per image", sweep_series(cells, "test_loss", "negative ELBO")
                          + sweep_series(cells, "test_nll_iw", "$-\\log p(x)$, IW", "--")),
            figures.Panel("reconstruction term", "nats per image", sweep_series(cells, "test_recon", "reconstruction")),
            figures.Panel("KL term", "nats per image", sweep_series(cells, "test_kl", "KL"))],
        "sweep-latent.png": [
            figures.Panel("active units", "latent dimensions",
                          [figures.Series("all $d$ active", {d: d for d in cells.dims}, style=":"),
                           *sweep_series(cells, "active_units", "active units")]),
            figures.Panel("digit accuracy on latent means", "$k$-NN accuracy (test set)",
                          sweep_series(cells, "knn_accuracy", "$k$-NN accuracy"))],
    }
    for name, panels in drawn.items():
        figures.against_d(panels, plots / name)
    return [plots / name for name in drawn]


def main(args: argparse.Namespace) -> dict[str, Any]:
    all_params = params.read(args.params)
    p = params.validate(all_params, SCHEMA, str(args.params))["figures"]
    x_test = to_float_images(torch.from_numpy(data.load_prepared(args.data)["test"].images))
    train = {d: read_json(args.stage_metrics / f"train-d{d}.json") for d in args.dims}
    exact = read_json(args.stage_metrics / "likelihood.json")
    written = draw_against_d(args.dims, train, exact, sweep.read(args.sweep), args.plots)
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
    ap.add_argument("--sweep", type=Path, required=True, help="the sweep's cells, one row each (from sweep-summary)")
    ap.add_argument("--metrics", type=Path, required=True, help="metrics JSON")
    cli.run("figures", main, ap.parse_args())
