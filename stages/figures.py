"""Stage figures: every PNG of the study, drawn from what the other stages saved (models, loss CSVs,
embedding CSVs, the sweep's table), so that changing how a figure looks reruns this stage and the report, never
training."""

from __future__ import annotations

import argparse
import logging
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import numpy as np
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
DRAWN_COLUMNS = 8  # images per strip in the figures of what each d draws


def sweep_series(cells: Sweep, measure: str, label: str, style: str = "-",
                 recipes: Sequence[str] | None = None) -> list[figures.Series]:
    """One series per recipe of the sweep (of ``recipes`` only, if given): the mean of ``measure`` over seeds
    against d, with its spread. A recipe keeps its colour in every figure."""
    series = []
    for colour, recipe in enumerate(cells.recipes):
        if recipes is not None and recipe not in recipes:
            continue
        curve = cells.curve(recipe, measure)
        name = f"{label}, {cells.labels[recipe]}" if label else cells.labels[recipe]
        series.append(figures.Series(name, {d: s.mean for d, s in curve.items()},
                                     {d: s.std for d, s in curve.items() if s.known} or None, colour, style))
    return series


def draw_against_d(dims: list[int], train: dict[int, dict[str, Any]], exact: dict[str, Any], cells: Sweep,
                   decoder: str, plots: Path) -> list[Path]:
    """The main models' loss against d beside the sweep's, and the sweep's curves over d; returns the files. Losses
    are drawn for the recipes with the main models' ``decoder`` only: other decoders' losses are in other units."""
    same = cells.with_decoder(decoder)
    # Points, not lines: the main models sit at a few d, and a line between them would claim the values between.
    main = [figures.Series("negative ELBO, main models", {d: train[d]["test_loss"] for d in dims},
                           colour=len(cells.recipes), style="none"),
            figures.Series("$-\\log p(x)$, importance-weighted", {d: train[d]["test_nll_iw"] for d in dims},
                           colour=len(cells.recipes) + 1, style="none"),
            # Only where quadrature over z is within reach.
            figures.Series("$-\\log p(x)$, exact", {d: exact[f"d{d}"]["test_nll_exact"] for d in dims
                                                    if f"d{d}" in exact}, colour=len(cells.recipes) + 2, style="none")]
    first_clip = cells.cb_clips[0]
    drawn = {
        "loss-vs-d.png": ([figures.Panel("test loss against the latent dimension", "nats per image (test set)",
                                         main + sweep_series(cells, "test_loss", "sweep, negative ELBO", "--", same))],
                          None),
        "sweep-likelihood.png": ([
            figures.Panel("test loss", "nats per image", sweep_series(cells, "test_loss", "negative ELBO", "-", same)
                          + sweep_series(cells, "test_nll_iw", "$-\\log p(x)$, IW", "--", same)),
            figures.Panel("reconstruction term", "nats per image",
                          sweep_series(cells, "test_recon", "reconstruction", "-", same)),
            figures.Panel("KL term", "nats per image", sweep_series(cells, "test_kl", "KL", "-", same))], None),
        "sweep-latent.png": ([
            figures.Panel("active units", "latent dimensions",
                          [figures.Series("all $d$ active", {d: d for d in cells.dims}, style=":"),
                           *sweep_series(cells, "active_units", "active units")]),
            figures.Panel("digit accuracy on latent means", "$k$-NN accuracy (test set)",
                          sweep_series(cells, "knn_accuracy", "$k$-NN accuracy"))], None),
        # One series per recipe in every panel, under one legend: labelled by recipe alone.
        "sweep-decoders.png": ([
            figures.Panel(f"$-\\log p(x)$ as a density ($\\lambda$ clipped at {first_clip})",
                          "negative ELBO, nats per image", sweep_series(cells, sweep.cb_column(first_clip), "")),
            figures.Panel("pixel error of reconstructions (decoder mean)", "mean squared error per pixel",
                          sweep_series(cells, "pixel_mse", "")),
            figures.Panel("reconstructions that keep their digit", "share (pixel $k$-NN classifier)",
                          sweep_series(cells, "recon_digit_kept", "")),
            figures.Panel("prior samples the classifier names", "share named by all $k$ neighbours",
                          sweep_series(cells, "samples_named", ""))], 2),
    }
    for name, (panels, columns) in drawn.items():
        figures.against_d(panels, plots / name, columns)
    return [plots / name for name in drawn]


def draw_what_each_d_draws(cells: Sweep, cells_dir: Path, originals: np.ndarray, plots: Path) -> list[Path]:
    """For every d a row of reconstructions and one of prior samples, each recipe's beside the others, from the
    cells' recorded draws (their first seed's model): the decoder's mean, and lambda where a recipe recorded it."""
    draws = {(recipe, d): read_draws(cells_dir / f"{sweep.cell_name(d, recipe)}-draws.npz")
             for recipe in cells.recipes for d in cells.dims}
    written = []
    for kind, title in (("recon", "reconstructions of the first test images"), ("samples", "samples from the prior")):
        rows: dict[str, list[figures.Strip]] = {}
        if kind == "recon":
            rows["test images"] = [figures.Strip("", originals[:DRAWN_COLUMNS])
                                   for _ in strip_titles(cells, draws)]
        for d in cells.dims:
            rows[f"$d = {d}$"] = [figures.Strip(heading, draws[(recipe, d)][f"{kind}_{show}"][:DRAWN_COLUMNS] / 255.0)
                                  for (recipe, show), heading in strip_titles(cells, draws).items()]
        name = f"sweep-{'reconstructions' if kind == 'recon' else 'samples'}.png"
        figures.strips_grid(rows, f"What each $d$ draws: {title}, seed {cells.seeds[0]}", plots / name)
        written.append(plots / name)
    return written


def read_draws(path: Path) -> dict[str, np.ndarray]:
    """A cell's recorded draws: 8-bit images by name (recon_mean, samples_mean, and recon_lambda...)."""
    with np.load(require(path)) as arrays:
        return {name: arrays[name] for name in arrays.files}


def strip_titles(cells: Sweep, draws: Mapping[tuple[str, int], Mapping[str, np.ndarray]]) -> dict[tuple[str, str], str]:
    """The column heading of each (recipe, what is shown): its mean, and its lambda where it recorded one."""
    titles = {}
    for recipe in cells.recipes:
        shown = [k.removeprefix("recon_") for k in draws[(recipe, cells.dims[0])] if k.startswith("recon_")]
        for show in shown:
            what = "mean" if show == "mean" else "$\\lambda$"
            titles[(recipe, show)] = f"{cells.labels[recipe]}: {what}" if len(shown) > 1 else cells.labels[recipe]
    return titles


def main(args: argparse.Namespace) -> dict[str, Any]:
    all_params = params.read(args.params)
    p = params.validate(all_params, SCHEMA, str(args.params))["figures"]
    x_test = to_float_images(torch.from_numpy(data.load_prepared(args.data)["test"].images))
    train = {d: read_json(args.stage_metrics / f"train-d{d}.json") for d in args.dims}
    exact = read_json(args.stage_metrics / "likelihood.json")
    cells = sweep.read(args.sweep)
    decoder = all_params[f"train-d{max(args.dims)}"]["decoder"]
    written = draw_against_d(args.dims, train, exact, cells, decoder, args.plots)
    originals = x_test[:DRAWN_COLUMNS].reshape(-1, data.IMAGE_SIDE, data.IMAGE_SIDE).numpy()
    written += draw_what_each_d_draws(cells, args.cells, originals, args.plots)
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
    ap.add_argument("--sweep", type=Path, required=True, help="the sweep's models, one row each (from sweep-summary)")
    ap.add_argument("--cells", type=Path, required=True, help="the sweep's cells' outputs (their <cell>-draws.npz)")
    ap.add_argument("--metrics", type=Path, required=True, help="metrics JSON")
    cli.run("figures", main, ap.parse_args())
