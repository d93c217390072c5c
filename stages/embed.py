"""Stage embed: encode the test set with every trained model; 2-D views and latent-structure metrics, and
which digits the decoded images show (reconstructions and prior samples, judged by a k-NN classifier on
pixels)."""

from __future__ import annotations

import argparse
import logging
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import numpy as np
import torch

from stages import checkpoints, cli, params
from stages.params import choice, integer, positive_number, seed
from study import embedding, knn
from vae import data, sampling
from vae.evaluate import latent_means, split_tensors
from vae.io import write_csv
from vae.progress import progress

log = logging.getLogger(__name__)

SCHEMA = {"embed": {
    "knn_k": integer(1),
    "tsne_perplexity": positive_number(),
    "tsne_method": choice(*embedding.TSNE_METHODS),
    "seed": seed(),
    "decoded_images": integer(1),
}}


def check_sizes(p: Mapping[str, Any], n_train: int, n_test: int, source: Path | str) -> None:
    """The neighbour counts must fit the data: ``n_train`` training and ``n_test`` test images, as
    data.train_size and data.test_size ask for (stage check-params) or as prepare-data wrote them."""
    if p["knn_k"] > n_train:
        raise params.ParamError(f"{source}: embed.knn_k = {p['knn_k']}: expected at most the {n_train} prepared "
                                "training images (data.train_size), the neighbours to choose from")
    if p["knn_k"] >= n_test:
        raise params.ParamError(f"{source}: embed.knn_k = {p['knn_k']}: expected less than the {n_test} prepared "
                                "test images (data.test_size), each classified by its neighbours among the others")
    if p["decoded_images"] > n_test:
        raise params.ParamError(f"{source}: embed.decoded_images = {p['decoded_images']}: expected at most the "
                                f"{n_test} prepared test images (data.test_size), the images reconstructed")
    if p["tsne_perplexity"] >= n_test:
        raise params.ParamError(f"{source}: embed.tsne_perplexity = {p['tsne_perplexity']}: expected less than the "
                                f"{n_test} prepared test images (data.test_size), the points t-SNE embeds")


def main(args: argparse.Namespace) -> dict[str, Any]:
    all_params = params.read(args.params)
    p = params.validate(all_params, SCHEMA, str(args.params))["embed"]
    splits = data.load_prepared(args.data)
    check_sizes(p, len(splits["train"].labels), len(splits["test"].labels), args.params)
    x = split_tensors(splits, torch.device("cpu"))
    train_labels, test_labels = splits["train"].labels, splits["test"].labels
    n, k = p["decoded_images"], p["knn_k"]
    judged, judged_labels = x["test"][:n], test_labels[:n]  # the test images whose reconstructions are judged
    metrics, decoded = {}, {"test": judged}
    for d in progress(args.dims, desc="embed", unit="model"):
        vae = checkpoints.load_current(args.models, d, all_params)
        train_means, test_means = (latent_means(vae, x[s]).numpy() for s in ("train", "test"))
        predicted = knn.knn_predict(train_means, train_labels, test_means, k)
        view = embedding.view_2d(test_means, perplexity=p["tsne_perplexity"], seed=p["seed"], method=p["tsne_method"])
        write_csv(args.plots / f"embed-d{d}.csv",
                  [{"x": round(float(a), 4), "y": round(float(b), 4), "label": int(c), "predicted": int(e)}
                   for (a, b), c, e in zip(view, test_labels, predicted)])
        metrics[f"d{d}"] = {
            "knn_accuracy": round(float((predicted == test_labels).mean()), 4),
            "silhouette": round(embedding.silhouette(test_means, test_labels), 4),
            # The same classifier inside the 2-D view (leave-one-out on the test set): what the picture keeps.
            "view_knn_accuracy": round(embedding.leave_one_out_knn_accuracy(view, test_labels, k), 4),
        }
        decoded |= {f"recon d{d}": sampling.reconstruct(vae, judged).reshape(n, -1),
                    f"samples d{d}": sampling.sample_prior(vae, n, p["seed"]).reshape(n, -1)}
    # One pass of the pixel classifier over every decoded image: it compares the training images with each.
    shown = dict(zip(decoded, np.split(knn.knn_predict(x["train"].numpy(), train_labels,
                                                             torch.cat(list(decoded.values())).numpy(), k),
                                       len(decoded))))
    metrics["pixel_knn_accuracy"] = round(float((shown["test"] == judged_labels).mean()), 4)
    for d in args.dims:
        metrics[f"d{d}"] |= {
            # Share of reconstructions the pixel classifier gives the digit of the image they came from.
            "recon_digit_kept": round(float((shown[f"recon d{d}"] == judged_labels).mean()), 4),
            "sample_digit_shares": [round(s, 4) for s in knn.digit_shares(shown[f"samples d{d}"])],
        }
        log.info("d=%d: %s", d, metrics[f"d{d}"])
    return metrics


if __name__ == "__main__":
    ap = cli.parser("embed", __doc__)
    ap.add_argument("--dims", type=int, nargs="+", required=True, help="latent dimensions of the trained models")
    ap.add_argument("--data", type=Path, required=True, help="prepared arrays from prepare-data")
    ap.add_argument("--models", type=Path, required=True, help="directory holding vae-d<d>.pt")
    ap.add_argument("--metrics", type=Path, required=True, help="metrics JSON")
    ap.add_argument("--plots", type=Path, required=True, help="directory for embed-d<d>.csv")
    cli.run("embed", main, ap.parse_args())
