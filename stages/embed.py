"""Stage embed: encode the test set with every trained model; 2-D views and latent-structure metrics."""

from __future__ import annotations

import argparse
import logging
from pathlib import Path

import torch

from stages import cli, params
from vae import data, embedding, model
from vae.errors import PipelineError
from vae.evaluate import latent_means, split_tensors
from vae.figures import digit_scatter
from vae.io import write_csv, write_json
from vae.progress import progress

log = logging.getLogger(__name__)


def main(args: argparse.Namespace) -> None:
    all_params = params.load(args.params)
    p = all_params["embed"]
    splits = data.load_prepared(args.data)
    x = split_tensors(splits, torch.device("cpu"))
    train_labels, test_labels = splits["train"].labels, splits["test"].labels
    metrics = {}
    for d in progress(args.dims, desc="embed", unit="model"):
        path = args.models / f"vae-d{d}.pt"
        vae, settings = model.load(path)
        # A model trained under other settings than params.yaml now holds would give stale results.
        if settings != (expected := params.train_block(all_params, d)):
            raise PipelineError(f"{path} was trained with {settings}, but params.yaml block train-d{d} is now "
                                f"{expected}; run `dvc repro` to retrain it")
        train_means, test_means = (latent_means(vae, x[s]).numpy() for s in ("train", "test"))
        view = embedding.view_2d(test_means, perplexity=p["tsne_perplexity"], seed=p["seed"], method=p["tsne_method"])
        write_csv(args.plots / f"embed-d{d}.csv",
                  [{"x": round(float(a), 4), "y": round(float(b), 4), "label": int(c)}
                   for (a, b), c in zip(view, test_labels)])
        if d > 2:
            digit_scatter(view, test_labels, f"d={d}: t-SNE of test-set latent means", "t-SNE 1", "t-SNE 2",
                          args.plots / f"tsne-d{d}.png")
        metrics[f"d{d}"] = {
            "knn_accuracy": round(embedding.knn_accuracy(train_means, train_labels, test_means, test_labels,
                                                         p["knn_k"]), 4),
            "silhouette": round(embedding.silhouette(test_means, test_labels), 4),
            # The same classifier inside the 2-D view (leave-one-out on the test set): what the picture keeps.
            "view_knn_accuracy": round(embedding.leave_one_out_knn_accuracy(view, test_labels, p["knn_k"]), 4),
        }
        log.info("d=%d: %s", d, metrics[f"d{d}"])
    write_json(args.metrics, metrics)


if __name__ == "__main__":
    ap = cli.parser("embed", __doc__)
    ap.add_argument("--dims", type=int, nargs="+", required=True, help="latent dimensions of the trained models")
    ap.add_argument("--data", type=Path, required=True, help="prepared arrays from prepare-data")
    ap.add_argument("--models", type=Path, required=True, help="directory holding vae-d<d>.pt")
    ap.add_argument("--metrics", type=Path, required=True, help="metrics JSON")
    ap.add_argument("--plots", type=Path, required=True, help="directory for embed-d<d>.csv and the t-SNE figure")
    cli.run("embed", main, ap.parse_args())
