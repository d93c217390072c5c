"""Fail fast, finish always, with the real `dvc repro` from scratch on tiny params: a bad value in any block
stops the pipeline at stage check-params with one line naming the key, before anything trains; and values at
the edges of what validation accepts run every stage to the report."""

from __future__ import annotations

import concurrent.futures
import re
from pathlib import Path
from typing import Any

import pytest
from conftest import ROOT, copy_repo, dvc, ran, tiny_params, write_params
from pypdf import PdfReader

from stages.params import SEED_MAX

# A bad value in every block, and the start of the one line that names it.
BAD = {
    "data.val_size": ({"data": {"val_size": 0}}, "data.val_size = 0: expected an integer in [1, 59999]"),
    "train.precision": ({"train": {"precision": "fp16"}}, "train.precision = 'fp16': expected one of"),
    "train-d1.epochs": ({"train-d1": {"epochs": 0}}, "train-d1.epochs = 0: expected an integer >= 1"),
    "train-d2.batch_size": ({"train-d2": {"batch_size": 0}}, "train-d2.batch_size = 0: expected an integer >= 1"),
    "train-d64.learning_rate": ({"train-d64": {"learning_rate": 0.01}}, "unknown key train-d64.learning_rate"),
    "baseline.lr": ({"baseline": {"lr": -1}}, "baseline.lr = -1: expected a finite number > 0"),
    "embed.knn_k": ({"embed": {"knn_k": 0}}, "embed.knn_k = 0: expected an integer >= 1"),
    "embed.tsne_perplexity": ({"embed": {"tsne_perplexity": -3}}, "embed.tsne_perplexity = -3: expected a finite"),
    "embed.tsne_method": ({"embed": {"tsne_method": "umap"}}, "embed.tsne_method = 'umap': expected one of"),

    "likelihood.grid_limit": ({"likelihood": {"grid_limit": 0}}, "likelihood.grid_limit = 0: expected a finite"),
    "figures.seed": ({"figures": {"seed": -1}}, "figures.seed = -1: expected an integer in [0, 4294967295]"),
    "report.reference_latent_dim": ({"report": {"reference_latent_dim": 8}},
                                    "report.reference_latent_dim = 8: expected one of the trained dims"),
    "sweep.dims": ({"sweep": {"dims": [1, 1]}}, "sweep.dims = [1, 1]: expected a non-empty list of distinct"),
    "sweep.recipes": ({"sweep": {"recipes": ["relu", "gelu"]}}, "block 'sweep-gelu' is missing; it needs keys"),
    "sweep-relu.lr": ({"sweep-relu": {"lr": 0}}, "sweep-relu.lr = 0: expected a finite number > 0"),
    "sweep.cb_clips": ({"sweep": {"cb_clips": [0.5]}}, "sweep.cb_clips = [0.5]: expected a non-empty list"),
    # The continuous Bernoulli models grey levels: binarized pixels for a main model of it are refused.
    "data.binarize": ({"data": {"binarize": "dynamic"}, "train-d2": {"decoder": "continuous-bernoulli"}},
                      "train-d2.decoder = 'continuous-bernoulli' with data.binarize = 'dynamic': expected"),
}


def repro_with(repo: Path, change: dict[str, Any] | None, *targets: str) -> str:
    """``dvc repro`` (of ``targets``) from scratch with ``change`` merged into the tiny params (None: no embed
    block at all)."""
    params = tiny_params(**(change or {}))
    if change is None:
        del params["embed"]
    write_params(repo, params)
    done = dvc(repo, "repro", *targets, check=False)
    assert done.returncode != 0
    return done.stdout + done.stderr


def test_a_bad_value_in_any_block_stops_dvc_repro_before_anything_trains(tmp_path: Path) -> None:
    cases = [*BAD, "no embed block"]
    repos = {case: copy_repo(tmp_path / re.sub(r"\W", "_", case)) for case in cases}
    # Every other case asks for one early stage only, which must not slip past the check of a later one's block.
    targets = {case: ("train-d1",) if i % 2 else () for i, case in enumerate(cases)}
    # Each run is a few seconds of one core; two at a time use the two cores CI has.
    with concurrent.futures.ThreadPoolExecutor(max_workers=2) as pool:
        outputs = dict(zip(cases, pool.map(
            lambda case: repro_with(repos[case], BAD.get(case, (None,))[0], *targets[case]), cases)))
    for case in cases:
        output = outputs[case]
        assert "Traceback" not in output, (case, output)
        assert not (repos[case] / "data/prepared").exists() and not (repos[case] / "models").exists(), case
        if case == "no embed block":
            # DVC itself refuses a stage whose declared params block is missing, before running it.
            assert "ERROR: failed to reproduce 'check-params': Parameters 'embed' are missing from 'params.yaml'." \
                in output and not ran(output), output
            continue
        errors = [line for line in output.splitlines() if ": error: " in line]
        assert len(errors) == 1 and errors[0].startswith("check-params: error: params.yaml: "), (case, output)
        assert BAD[case][1] in errors[0], (case, errors)
        assert ran(output) == {"check-params"}, (case, output)


def test_binarized_pixels_stop_a_continuous_bernoulli_cell_in_one_line(tmp_path: Path) -> None:
    """check-params lets binarized pixels through (an experiment on binarized MNIST trains no cell); the cell of a
    continuous-Bernoulli recipe refuses them before it trains."""
    repo = copy_repo(tmp_path / "repo")
    write_params(repo, tiny_params(data={"binarize": "dynamic"}))
    done = dvc(repo, "repro", "sweep@1-elu-cb", check=False)
    output = done.stdout + done.stderr
    assert done.returncode != 0 and "Traceback" not in output, output
    errors = [line for line in output.splitlines() if ": error: " in line]
    assert len(errors) == 1 and errors[0].startswith("sweep@1-elu-cb: error: params.yaml: sweep-elu-cb.decoder = "
                                                     "'continuous-bernoulli' with data.binarize = 'dynamic'"), output
    assert "Running stage 'sweep@1-elu-cb'" in output and "epoch 1/" not in output, output


# Values at the edges of what validation accepts, two pipelines' worth: the smallest values and one choice of
# every option, then the largest values and the other choices. Each runs every stage to the report.
EDGES = {
    "smallest": {
        "data": {"val_size": 1, "train_size": 5, "test_size": 10, "split_seed": 0, "binarize": "dynamic"},
        "train": {"compile": False, "precision": "fp32", "iw_samples": 1, "device": "cpu"},
        **{f"train-d{d}": {"epochs": 1, "hidden": [1], "batch_size": 1000, "lr": 1e-6, "lr_schedule": "constant",
                           "kl_warmup_epochs": 5, "activation": "silu", "seed": 0} for d in (1, 2, 64)},
        "baseline": {"hidden": [1], "batch_size": 1, "lr": 1e-6},
        "embed": {"knn_k": 1, "tsne_perplexity": 0.5, "tsne_method": "sklearn", "seed": 0, "decoded_images": 1},
        "likelihood": {"grid_limit": 0.5, "d1_grid_points": 2, "d2_grid_points": 2, "ladder_images": 1,
                       "ladder_samples": [1], "seed": 0},
        "figures": {"seed": 0},
        "report": {"reference_latent_dim": 1, "reference_val_loss": 1e-9},
        "sweep": {"dims": [1], "recipes": ["relu"], "seeds": [0], "epochs": 1, "knn_k": 1, "decoded_images": 1,
                  "exact_images": 1, "cb_clips": [0], "draw_seed": 0},
        "sweep-relu": {"hidden": [1], "batch_size": 1000, "lr": 1e-6, "lr_schedule": "constant", "kl_warmup_epochs": 5,
                       "activation": "silu", "decoder": "bernoulli"},
    },
    "largest": {
        "data": {"val_size": 59_999, "train_size": 1, "test_size": 40, "split_seed": SEED_MAX, "binarize": "none"},
        "train": {"compile": True, "precision": "bf16", "iw_samples": 500, "device": "auto"},
        **{f"train-d{d}": {"epochs": 2, "hidden": [32, 16, 8], "batch_size": 1, "lr": 0.01, "lr_schedule": "cosine",
                           "kl_warmup_epochs": 0, "activation": activation, "decoder": decoder, "seed": SEED_MAX}
           for d, activation, decoder in ((1, "relu", "bernoulli"), (2, "elu", "continuous-bernoulli"),
                                          (64, "relu", "bernoulli"))},
        "baseline": {"hidden": [16], "batch_size": 1_000_000, "lr": 0.01},
        "embed": {"knn_k": 1, "tsne_perplexity": 39.9, "tsne_method": "opentsne-fft", "seed": SEED_MAX,
                  "decoded_images": 40},
        "likelihood": {"grid_limit": 50.0, "d1_grid_points": 2000, "d2_grid_points": 60, "ladder_images": 1000,
                       "ladder_samples": [1, 2, 3], "seed": SEED_MAX},
        "figures": {"seed": SEED_MAX},
        "report": {"reference_latent_dim": 64, "reference_val_loss": 1e9},
        "sweep": {"dims": [3], "recipes": ["elu-cb", "relu"], "seeds": [SEED_MAX], "epochs": 1, "knn_k": 1,
                  "decoded_images": 40, "exact_images": 40, "cb_clips": [0.49, 1.0e-300, 0], "draw_seed": SEED_MAX},
        "sweep-elu-cb": {"hidden": [32, 16, 8], "batch_size": 1, "lr": 0.01, "lr_schedule": "cosine"},
    },
}


@pytest.mark.parametrize("edge", EDGES)
def test_values_at_the_edges_of_validation_run_to_the_report(tmp_path: Path, edge: str) -> None:
    repo = copy_repo(tmp_path / "repo")
    write_params(repo, tiny_params(**EDGES[edge]))
    out = dvc(repo, "repro").stdout
    assert {"report", "figures", "sweep-summary"} <= ran(out)
    text = " ".join(" ".join(page.extract_text().split()) for page in PdfReader(repo / "report/report.pdf").pages)
    if edge == "smallest":
        # What cannot be judged is said so in words.
        assert "trained for one epoch, which leaves no earlier epoch to judge its convergence against" in text
        assert "Each cell of the sweep trained one seed" in text and "The sweep has one latent dimension" in text
        assert "The sweep trains one recipe" in text
    else:
        # Two recipes with different decoders: their losses are in other units, compared on shared measures.
        assert "only recipe with the continuous-Bernoulli decoder" in text
    assert (repo / "results/params-checked.txt").read_text() == (ROOT / "results/params-checked.txt").read_text()
