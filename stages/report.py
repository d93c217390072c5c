"""Stage report: render report/results.tex from the metrics and build report/report.pdf with latexmk."""

from __future__ import annotations

import argparse
import json
import logging
import platform
from pathlib import Path
from typing import Any

import torch

from stages import cli, params
from stages.params import integer, positive_number
from vae.provenance import git_commit
from vae.report import Column, compile_pdf, escape, key_value_table, metrics_table, write_results

log = logging.getLogger(__name__)

# The report reads every block (its appendix lists them all), but validates only its own: the blocks of
# the other stages were validated by the stages that read them, which produced the metrics shown here.
# The code whose uncommitted changes the report flags: what the pipeline runs.
CODE_PATHS = ("stages", "vae", "dvc.yaml", "report/report.tex")
SCHEMA = {"report": {"reference_val_loss": positive_number(), "reference_latent_dim": integer(1)}}

TRAIN_COLUMNS = (
    Column("epochs_run", "epochs", "d"),
    Column("best_epoch", "best epoch", "d"),
    Column("best_val_loss", "val.\\ loss", ".2f"),
    Column("test_loss", "test loss", ".2f"),
    Column("test_recon", "test recon.", ".2f"),
    Column("test_kl", "test KL", ".2f"),
    Column("test_nll_iw", "test $-\\log p(x)$", ".2f"),
    Column("active_units", "active units", "d"),
    Column("train_seconds", "train s", ".0f"),
)


BASELINE_COLUMNS = (
    Column("epochs_run", "epochs", "d"),
    Column("baseline", "baseline test loss", ".2f"),
    Column("ours", "our test loss", ".2f"),
    Column("gain", "gain", ".2f"),
)


def baseline_rows(baseline: dict[str, Any], train: dict[int, dict[str, Any]]) -> dict[int, dict[str, Any]]:
    """Our test loss beside the plain baseline's, for the dims that have a baseline."""
    rows = {}
    for d, ours in train.items():
        if (plain := baseline.get(f"d{d}")) is not None:
            rows[d] = {"epochs_run": plain["epochs_run"], "baseline": plain["test_loss"], "ours": ours["test_loss"],
                       "gain": plain["test_loss"] - ours["test_loss"]}
    return rows


def baseline_recipe(p: dict[str, Any]) -> str:
    widths = "--".join(map(str, (784, *p["hidden"])))
    return (f"an MLP {widths}--$d$ with ReLU, Adam at a constant rate of {p['lr']:g}, "
            f"batches of {p['batch_size']}")


def read_json(path: Path) -> dict[str, Any]:
    try:
        return json.loads(path.read_text())
    except FileNotFoundError:
        raise FileNotFoundError(f"{path} is missing; run the stage that writes it first (dvc repro)") from None


def flatten(tree: dict[str, Any], prefix: str = "") -> dict[str, Any]:
    flat: dict[str, Any] = {}
    for key, value in tree.items():
        if isinstance(value, dict):
            flat.update(flatten(value, f"{prefix}{key}."))
        else:
            flat[f"{prefix}{key}"] = value
    return flat


def main(args: argparse.Namespace) -> None:
    all_params = params.read(args.params)
    p = params.validate(all_params, SCHEMA, str(args.params))["report"]
    train = {d: read_json(args.metrics / f"train-d{d}.json") for d in args.dims}
    embed = read_json(args.metrics / "embed.json")
    baseline = read_json(args.metrics / "baseline.json")
    sizes = read_json(args.metrics / "prepare-data.json")
    ref_dim = p["reference_latent_dim"]
    if ref_dim not in train:
        raise params.ParamError(f"report.reference_latent_dim = {ref_dim}: expected one of the trained dims "
                                f"{args.dims}")
    k = all_params["embed"]["knn_k"]
    embed_columns = (Column("knn_accuracy", f"{k}-NN accuracy", ".3f"), Column("silhouette", "silhouette", ".3f"),
                     Column("view_knn_accuracy", f"{k}-NN accuracy in 2-D view", ".3f"))
    macros = {
        "RunInfo": (f"commit \\texttt{{{escape(git_commit(CODE_PATHS))}}}, PyTorch {escape(torch.__version__)}, "
                    f"Python {platform.python_version()}; the models trained on "
                    + "; ".join(f"$d = {d}$: {escape(m['device'])}, {m['precision']}" for d, m in train.items())),
        "DataTable": key_value_table(sizes),
        "ParamsTable": key_value_table(flatten(all_params)),
        "TrainTable": metrics_table(train, TRAIN_COLUMNS),
        "EmbedTable": metrics_table({d: embed[f"d{d}"] for d in args.dims}, embed_columns),
        "BaselineTable": metrics_table(baseline_rows(baseline, train), BASELINE_COLUMNS),
        "IwSamples": str(all_params["train"]["iw_samples"]),
        "BaselineRecipe": baseline_recipe(all_params["baseline"]),
        "ReferenceDim": str(ref_dim),
        "ReferenceValLoss": f"{p['reference_val_loss']:.2f}",
        "OurValLoss": f"{train[ref_dim]['best_val_loss']:.2f}",
        "OurTestLoss": f"{train[ref_dim]['test_loss']:.2f}",
    }
    write_results(args.results, macros)
    compile_pdf(args.tex, args.pdf)
    log.info("wrote %s and %s", args.results, args.pdf)


if __name__ == "__main__":
    ap = cli.parser("report", __doc__)
    ap.add_argument("--dims", type=int, nargs="+", required=True, help="latent dimensions of the trained models")
    ap.add_argument("--metrics", type=Path, required=True, help="directory of the stages' metrics JSON")
    ap.add_argument("--tex", type=Path, required=True, help="the hand-written LaTeX template")
    ap.add_argument("--results", type=Path, required=True, help="generated LaTeX it inputs")
    ap.add_argument("--pdf", type=Path, required=True, help="the built report")
    cli.run("report", main, ap.parse_args())
