"""Stage figures: every PNG of the study, drawn from what the other stages saved (models, loss CSVs,
embedding CSVs), so that changing how a figure looks reruns this stage and the report, never training."""

from __future__ import annotations

import argparse
import logging
from pathlib import Path

import pandas as pd
import torch

from stages import checkpoints, cli, params
from stages.params import integer
from vae import data, figures
from vae.evaluate import to_float_images
from vae.model_figures import write_model_figures

log = logging.getLogger(__name__)

SCHEMA = {"figures": {"seed": integer(0)}}  # of the prior samples drawn


def read_csv(path: Path) -> pd.DataFrame:
    try:
        return pd.read_csv(path)
    except FileNotFoundError:
        raise FileNotFoundError(f"{path} is missing; run the stage that writes it first (dvc repro)") from None


def main(args: argparse.Namespace) -> None:
    all_params = params.read(args.params)
    p = params.validate(all_params, SCHEMA, str(args.params))["figures"]
    x_test = to_float_images(torch.from_numpy(data.load_prepared(args.data)["test"].images))
    for d in args.dims:
        loss = read_csv(args.plots / f"loss-d{d}.csv")
        figures.loss_curve(loss["epoch"].to_numpy(), loss["train_loss"].to_numpy(), loss["val_loss"].to_numpy(),
                           f"d={d}: loss per epoch", args.plots / f"loss-d{d}.png")
        write_model_figures(checkpoints.load_current(args.models, d, all_params), x_test, args.plots, p["seed"])
        view = read_csv(args.plots / f"embed-d{d}.csv")
        points, labels = view[["x", "y"]].to_numpy(), view["label"].to_numpy()
        if d == 2:
            figures.digit_scatter(points, labels, "d=2: test-set latent means", "$z_1$", "$z_2$",
                                  args.plots / "latent-d2.png")
        if d > 2:
            figures.digit_scatter(points, labels, f"d={d}: t-SNE of test-set latent means", "t-SNE 1", "t-SNE 2",
                                  args.plots / f"tsne-d{d}.png")
        log.info("d=%d: figures written to %s", d, args.plots)


if __name__ == "__main__":
    ap = cli.parser("figures", __doc__)
    ap.add_argument("--dims", type=int, nargs="+", required=True, help="latent dimensions of the trained models")
    ap.add_argument("--data", type=Path, required=True, help="prepared arrays from prepare-data (the test images)")
    ap.add_argument("--models", type=Path, required=True, help="directory holding vae-d<d>.pt")
    ap.add_argument("--plots", type=Path, required=True,
                    help="directory holding loss-d<d>.csv and embed-d<d>.csv, and where the PNGs go")
    cli.run("figures", main, ap.parse_args())
