"""End to end: the real `dvc repro` on tiny params produces every declared output."""

from __future__ import annotations

import csv
import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import yaml
from pypdf import PdfReader

from conftest import CELLS, RECIPES, TINY, dvc
from dvc.repo import Repo

from study import stats
from vae import hardware
from vae.train import resolve_device

# The six stages of the study; the params check before them; the baseline the d=1 and d=2 models are compared
# with, the exact likelihood, the sweep (a matrix of cells) and its summary, and the figures.
STAGES = ["check-params", "prepare-data", "train-d1", "train-d2", "train-d64", "baseline", "embed", "likelihood",
          "sweep", "sweep-summary", "figures", "report"]
TRAIN_KEYS = {"latent_dim", "epochs_run", "best_epoch", "best_val_loss", "test_loss", "test_recon", "test_kl",
              "test_nll_iw", "active_units", "train_seconds", "precision", "device", "native_bf16", "binarize",
              "pixels", "stage_seconds"}
# What a sweep cell reports of each of its models.
SEED_KEYS = {"seed", "epochs_run", "best_epoch", "best_val_loss", "test_loss", "test_recon", "test_kl", "test_nll_iw",
             "active_units", "knn_accuracy", "pixel_mse", "recon_digit_kept", "samples_named", "cb_nll",
             "train_seconds", "seconds_per_epoch"}
LOSS_COLUMNS = ["epoch", "train_loss", "val_loss", "val_recon", "val_kl", "seconds"]


def declared_outputs(repo: Path) -> list[str]:
    """Every output of every stage, the sweep's cells expanded as DVC expands them."""
    with Repo(str(repo)) as dvc_repo:
        return [str(Path(out.fs_path).relative_to(repo)) for stage in dvc_repo.index.stages for out in stage.outs]


@pytest.mark.xdist_group("pipeline")  # runs dvc in the shared pipeline
def test_dvc_yaml_has_exactly_the_stages(pipeline: Path) -> None:
    assert list(yaml.safe_load((pipeline / "dvc.yaml").read_text())["stages"]) == STAGES
    listed = set(dvc(pipeline, "stage", "list", "--name-only").stdout.split())
    assert listed == (set(STAGES) - {"sweep"}) | CELLS  # every d x recipe of params.yaml's sweep block


def test_every_declared_output_exists(pipeline: Path) -> None:
    missing = [p for p in declared_outputs(pipeline) if not (pipeline / p).is_file()]
    assert not missing


def test_no_temporary_files_left(pipeline: Path) -> None:
    assert not list(pipeline.rglob(".*.tmp"))


@pytest.mark.parametrize("d", [1, 2, 64])
def test_train_metrics_and_loss_curve(pipeline: Path, d: int) -> None:
    metrics = json.loads((pipeline / f"metrics/train-d{d}.json").read_text())
    assert TRAIN_KEYS <= metrics.keys()
    assert metrics["latent_dim"] == d and metrics["epochs_run"] == 2
    # Trained, not random: a model that outputs 0.5 everywhere costs 784 ln 2 = 543 nats.
    assert 0 < metrics["test_loss"] < 543
    # The importance-weighted bound is tighter than the ELBO, up to the noise of one-sample estimates.
    assert 0 < metrics["test_nll_iw"] < metrics["test_loss"] + 1.0
    assert 0 <= metrics["active_units"] <= d
    # The suite runs the default precision, auto: what this machine's capability flags call for.
    machine = hardware.describe(resolve_device("auto"))
    assert (metrics["precision"], metrics["device"]) == (hardware.resolve_precision("auto", machine), machine.name)
    with (pipeline / f"plots/loss-d{d}.csv").open() as f:
        rows = list(csv.DictReader(f))
    assert list(rows[0]) == LOSS_COLUMNS
    assert [int(r["epoch"]) for r in rows] == [1, 2]
    # The stage reports the epoch whose weights it kept, and that epoch's row of the curve.
    assert float(rows[metrics["best_epoch"] - 1]["val_loss"]) == pytest.approx(metrics["best_val_loss"], abs=1e-3)


def test_embed_outputs(pipeline: Path) -> None:
    metrics = json.loads((pipeline / "metrics/embed.json").read_text())
    for d in (1, 2, 64):
        assert 0.0 <= metrics[f"d{d}"]["knn_accuracy"] <= 1.0
        assert -1.0 <= metrics[f"d{d}"]["silhouette"] <= 1.0
        assert 0.0 <= metrics[f"d{d}"]["view_knn_accuracy"] <= 1.0
        assert len(metrics[f"d{d}"]["sample_digit_shares"]) == 10  # one share per digit, absent ones included
        with (pipeline / f"plots/embed-d{d}.csv").open() as f:
            rows = list(csv.DictReader(f))
        assert list(rows[0]) == ["x", "y", "label", "predicted"] and len(rows) == 300
        assert {int(r["label"]) for r in rows} <= set(range(10))
        # The stored predictions are those the stage scored, row for row.
        right = sum(r["label"] == r["predicted"] for r in rows) / len(rows)
        assert right == pytest.approx(metrics[f"d{d}"]["knn_accuracy"], abs=1e-4)
    # The pixel classifier that judges decoded images knows the test digits themselves far better than chance.
    assert metrics["pixel_knn_accuracy"] > 0.5


def test_exact_likelihood_is_below_every_estimate(pipeline: Path) -> None:
    metrics = json.loads((pipeline / "metrics/likelihood.json").read_text())
    assert 40 < metrics["test_recon_floor"] < 60  # the binary entropy of MNIST grey levels, about 45 nats
    for d in (1, 2):
        train = json.loads((pipeline / f"metrics/train-d{d}.json").read_text())
        exact, ladder = metrics[f"d{d}"]["test_nll_exact"], metrics[f"d{d}"]["ladder"]
        assert exact < train["test_nll_iw"] < train["test_loss"]
        assert ladder["exact"] <= ladder["iw_1000"] <= ladder["iw_100"] <= ladder["iw_10"] <= ladder["iw_1"]
        assert ladder["images"] == TINY["likelihood"]["ladder_images"]
        assert abs(metrics[f"d{d}"]["halved_spacing_change"]) < 0.1
    assert "d64" not in metrics


def test_baseline_trains_as_many_epochs_as_the_model_it_is_compared_with(pipeline: Path) -> None:
    baseline = json.loads((pipeline / "metrics/baseline.json").read_text())
    assert set(baseline) == {"d1", "d2", "precision", "device", "native_bf16", "stage_seconds"}
    for d in (1, 2):
        ours = json.loads((pipeline / f"metrics/train-d{d}.json").read_text())
        assert baseline[f"d{d}"]["epochs_run"] == ours["epochs_run"]
        assert 0 < baseline[f"d{d}"]["test_loss"] < 543


def test_prepare_data_metrics(pipeline: Path) -> None:
    metrics = json.loads((pipeline / "metrics/prepare-data.json").read_text())
    assert (metrics["train_images"], metrics["val_images"], metrics["test_images"]) == (500, 200, 300)


def test_each_sweep_cell_writes_its_measures_loss_curves_and_draws(pipeline: Path) -> None:
    params = yaml.safe_load((pipeline / "params.yaml").read_text())
    seeds = params["sweep"]["seeds"]
    for cell in CELLS:
        name = cell.removeprefix("sweep@")
        d, recipe = name.split("-", 1)
        results = json.loads((pipeline / f"results/sweep/{name}.json").read_text())
        assert (results["latent_dim"], results["recipe"]) == (int(d), recipe)
        # The recipe's block, at the sweep's budget, from every seed.
        assert results["settings"] == params[f"sweep-{recipe}"] and results["epochs"] == params["sweep"]["epochs"]
        assert [entry["seed"] for entry in results["seeds"]] == seeds
        assert 0 < results["peak_rss_mb"] < 2048 and results["workers"] >= 1
        cb = params[f"sweep-{recipe}"]["decoder"] == "continuous-bernoulli"
        assert results["pixels"] == ("dequantized" if cb else "grey")
        for entry in results["seeds"]:
            assert SEED_KEYS <= entry.keys() and ("exact_nll" in entry) == (int(d) <= 2)
            # A Bernoulli loss lies between 0 and that of 1/2 everywhere, 784 ln 2; a density's may be negative.
            assert (entry["test_loss"] < 0) if cb else (0 < entry["test_nll_iw"] < entry["test_loss"] + 1.0 < 544)
            assert 0.0 <= entry["knn_accuracy"] <= 1.0 and 0 <= entry["pixel_mse"] <= 1.0
            assert list(entry["cb_nll"]) == ["1e-04", "1e-16", "1e-64", "none"]
            if cb:  # unclipped, a continuous-Bernoulli model read as one scores its own loss
                assert entry["cb_nll"]["none"] == pytest.approx(entry["test_loss"], abs=1e-3)
            if int(d) <= 2:  # the exact likelihood of a density bounds its estimates
                assert entry["exact_nll"] <= entry["exact_iw_nll"] + 0.5
        with (pipeline / f"results/sweep/{name}-loss.csv").open() as f:
            rows = list(csv.DictReader(f))
        assert [(int(r["seed"]), int(r["epoch"])) for r in rows] == [(s, e) for s in seeds for e in (1, 2)]
        with np.load(pipeline / f"results/sweep/{name}-draws.npz") as draws:
            assert {k: draws[k].shape for k in draws.files} == {
                "recon_mean": (16, 28, 28), "samples_mean": (64, 28, 28),
                **({"recon_lambda": (16, 28, 28), "samples_lambda": (16, 28, 28)} if cb else {})}
            assert draws["recon_mean"].dtype == np.uint8
    # A cell keeps no model.
    assert sorted(p.name for p in (pipeline / "models").iterdir()) == ["vae-d1.pt", "vae-d2.pt", "vae-d64.pt"]


def test_the_sweep_summary_gathers_every_model(pipeline: Path) -> None:
    runs = pd.read_csv(pipeline / "results/sweep.csv")
    assert len(runs) == 2 * len(CELLS) and set(runs["recipe"]) == set(RECIPES)  # two seeds per cell
    means = pd.read_csv(pipeline / "plots/sweep.csv")
    assert len(means) == len(CELLS)
    assert {"test_loss", "test_loss_sd", "active_units", "cb_nll", "pixel_mse"} <= set(means)
    summary = json.loads((pipeline / "metrics/sweep-summary.json").read_text())
    assert (summary["cells"], summary["models"], summary["epochs"], summary["seeds"]) == (len(CELLS), 2 * len(CELLS),
                                                                                         2, 2)
    assert set(summary["elu-cb"]) == {"bend_d", "active_units_stop_d", "best_d", "best_test_loss"}


def test_report_states_the_headline_of_every_metrics_file(pipeline: Path) -> None:
    reader = PdfReader(pipeline / "report/report.pdf")
    text = " ".join(" ".join(page.extract_text().split()) for page in reader.pages)
    metrics = {p.stem: json.loads(p.read_text()) for p in (pipeline / "metrics").glob("*.json")}
    headlines = [
        *(f"{metrics[f'train-d{d}']['test_loss']:.2f}" for d in (1, 2, 64)),
        *(f"{metrics['baseline'][f'd{d}']['test_loss']:.2f}" for d in (1, 2)),
        *(f"{metrics['embed'][f'd{d}']['knn_accuracy']:.3f}" for d in (1, 2, 64)),
        f"{metrics['prepare-data']['train_images']} training",
        f"{metrics['train-d64']['best_val_loss']:.2f}",
        *(f"{metrics['likelihood'][f'd{d}']['test_nll_exact']:.2f}" for d in (1, 2)),
        f"{metrics['likelihood']['test_recon_floor']:.2f}",
        # The sweep's means and the convergence of every main model.
        *(f"{abs(mean):.2f}" for mean in pd.read_csv(pipeline / "results/sweep.csv")
          .groupby(["recipe", "latent_dim"])["test_loss"].mean()),
        *(f"{stats.convergence(pd.read_csv(pipeline / f'plots/loss-d{d}.csv')['val_loss'].tolist()).fall:.2f}"
          for d in (1, 2, 64)),
    ]
    assert [h for h in headlines if h not in text] == []
    images = sum(len(page.images) for page in reader.pages)
    assert images >= 16  # every PNG figure is embedded


def test_report_sections_read_as_a_paper(pipeline: Path) -> None:
    text = " ".join(page.extract_text() for page in PdfReader(pipeline / "report/report.pdf").pages)
    order = ["Abstract", "Introduction", "Method", "Training recipes", "The sweep", "Results",
             "Likelihood against the latent", "Equal footing and noise", "How the curve bends",
             "Checking the likelihood", "Reconstructions", "Samples", "Latent structure", "Against a plain baseline",
             "Against the reference study", "Discussion", "Limitations", "Reproducibility", "References",
             "Parameters"]
    positions = [text.find(heading) for heading in order]
    assert -1 not in positions and positions == sorted(positions), dict(zip(order, positions))
