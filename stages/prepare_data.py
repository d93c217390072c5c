"""Stage prepare-data: verify and parse raw MNIST, split off validation, write the prepared arrays."""

from __future__ import annotations

import argparse
import logging
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from stages import cli, params
from stages.params import choice, integer, seed
from vae import data, mnist

log = logging.getLogger(__name__)

MNIST_TRAIN_IMAGES = 60_000
MNIST_TEST_IMAGES = 10_000
SCHEMA = {"data": {
    "val_size": integer(1, MNIST_TRAIN_IMAGES - 1),
    "split_seed": seed(),
    "train_size": integer(1, MNIST_TRAIN_IMAGES - 1),
    # At least 10: embed's measures of the digits in latent space (silhouette, k-NN) need several digits.
    "test_size": integer(10, MNIST_TEST_IMAGES),
    "binarize": choice(*data.BINARIZATIONS),
}}


def check(p: Mapping[str, Any], source: Path | str) -> None:
    """Training and validation images are split from the same 60,000."""
    if p["train_size"] + p["val_size"] > MNIST_TRAIN_IMAGES:
        raise params.ParamError(f"{source}: data.train_size + data.val_size = {p['train_size'] + p['val_size']}: "
                                f"expected at most the {MNIST_TRAIN_IMAGES} MNIST training images")


def main(args: argparse.Namespace) -> dict[str, Any]:
    p = params.load(args.params, SCHEMA)["data"]
    check(p, args.params)
    splits = mnist.prepare(args.raw, args.out, val_size=p["val_size"], seed=p["split_seed"],
                           train_size=p["train_size"], test_size=p["test_size"], binarize=p["binarize"])
    sizes = {name: len(split.labels) for name, split in splits.items()}
    train_images = splits["train"].images / 255.0
    log.info("wrote %s: %s", args.out, ", ".join(f"{k} {v}" for k, v in sizes.items()))
    return {
        **{f"{split}_images": n for split, n in sizes.items()},
        "train_pixel_mean": round(float(train_images.mean()), 6),
        "train_pixel_std": round(float(train_images.std()), 6),
        "binarize": p["binarize"],
    }


if __name__ == "__main__":
    ap = cli.parser("prepare_data", __doc__)
    ap.add_argument("--raw", type=Path, required=True, help="directory with the four IDX .gz files and SHA256SUMS")
    ap.add_argument("--out", type=Path, required=True, help="prepared arrays (.npz)")
    ap.add_argument("--metrics", type=Path, required=True, help="metrics JSON")
    cli.run("prepare-data", main, ap.parse_args())
