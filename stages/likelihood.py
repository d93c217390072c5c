"""Stage likelihood: the exact -log p(x) of the low-dimensional models by quadrature over z, beside the ELBO
and importance-weighted estimates on the same images, and the floor of the reconstruction term."""

from __future__ import annotations

import argparse
import logging
from pathlib import Path
from typing import Any

import torch

from stages import checkpoints, cli, params, quadrature
from stages.params import int_list, integer, seed
from vae import data
from vae.evaluate import importance_weighted_nll, split_tensors
from vae.likelihood import binary_entropy_floor, exact_nll

log = logging.getLogger(__name__)

SCHEMA = {"likelihood": {
    **quadrature.GRID,
    "ladder_images": integer(1),
    "ladder_samples": int_list(1, distinct=True),
    "seed": seed(),
}}


def main(args: argparse.Namespace) -> dict[str, Any]:
    all_params = params.read(args.params)
    p = params.validate(all_params, SCHEMA, str(args.params))["likelihood"]
    for d in args.dims:
        if f"d{d}_grid_points" not in p:
            raise params.ParamError(f"{args.params}: likelihood has no d{d}_grid_points: quadrature over z is done "
                                    "for d = 1 and d = 2 only (a grid in more dimensions is out of reach)")
    x = split_tensors({"test": data.load_prepared(args.data)["test"]}, torch.device("cpu"))["test"]
    ladder_x = x[:p["ladder_images"]]
    metrics: dict[str, Any] = {"test_recon_floor": round(binary_entropy_floor(x), 4)}
    for d in args.dims:
        vae = checkpoints.load_current(args.models, d, all_params)
        points = p[f"d{d}_grid_points"]
        exact = exact_nll(vae, x, points, p["grid_limit"])
        coarse = exact_nll(vae, x, points // 2, p["grid_limit"])
        ladder = {f"iw_{k}": round(importance_weighted_nll(vae, ladder_x, k, p["seed"]), 4)
                  for k in p["ladder_samples"]}
        metrics[f"d{d}"] = {
            "test_nll_exact": round(float(exact.mean()), 4),
            # What halving the grid spacing moved the estimate by: how far the quadrature is from converged.
            "halved_spacing_change": round(float(coarse.mean() - exact.mean()), 4),
            "grid_points_per_axis": points,
            "ladder": {"images": len(ladder_x), **ladder,
                       "exact": round(float(exact[:p["ladder_images"]].mean()), 4)},
        }
        log.info("d=%d: %s", d, metrics[f"d{d}"])
    return metrics


if __name__ == "__main__":
    ap = cli.parser("likelihood", __doc__)
    ap.add_argument("--dims", type=int, nargs="+", required=True, help="latent dimensions to integrate over (1, 2)")
    ap.add_argument("--data", type=Path, required=True, help="prepared arrays from prepare-data (the test images)")
    ap.add_argument("--models", type=Path, required=True, help="directory holding vae-d<d>.pt")
    ap.add_argument("--metrics", type=Path, required=True, help="metrics JSON")
    cli.run("likelihood", main, ap.parse_args())
