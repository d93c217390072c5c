"""Stage report: render report/results.tex (tables, and the sentences that state findings) from the metrics
and params, and build report/report.pdf with latexmk."""

from __future__ import annotations

import argparse
import hashlib
import importlib.metadata
import logging
import platform
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import pandas as pd

from stages import cli, params
from stages.params import integer, positive_number
from vae import findings
from vae.io import read_json
from vae.provenance import git_commit
from vae.report import compile_pdf, escape, latex_table, write_results

log = logging.getLogger(__name__)

# The report reads every block (its appendix lists them all), but validates only its own: the blocks of
# the other stages were validated by the stages that read them, which produced the metrics shown here.
SCHEMA = {"report": {"reference_val_loss": positive_number(), "reference_latent_dim": integer(1)}}
# The code whose uncommitted changes the report flags: what the pipeline runs.
CODE_PATHS = ("stages", "vae", "dvc.yaml", "report/report.tex")
# Stages whose wall time the report lists, each from its metrics file (the report cannot time itself).
TIMED_STAGES = ("prepare-data", "train-d{d}", "baseline", "embed", "figures")


def recipe_table(all_params: Mapping[str, Any], dims: list[int]) -> str:
    rows = []
    for d in dims:
        p = all_params[f"train-d{d}"]
        rows.append({"$d$": d, "layers": "--".join(map(str, (784, *p["hidden"], d))), "activation": p["activation"],
                     "epochs": p["epochs"], "batch": p["batch_size"], "learning rate": p["lr"],
                     "schedule": p["lr_schedule"], "KL warm-up": p["kl_warmup_epochs"], "seed": p["seed"]})
    return latex_table(pd.DataFrame(rows), {"learning rate": "g"})


def results_table(train: Mapping[int, Mapping[str, Any]]) -> str:
    columns = {"best_val_loss": "val.\\ loss", "test_loss": "test loss", "test_recon": "test recon.",
               "test_kl": "test KL", "test_nll_iw": "test $-\\log p(x)$, IW", "active_units": "active units",
               "best_epoch": "best epoch", "train_seconds": "train s"}
    frame = pd.DataFrame.from_dict(train, orient="index")[list(columns)].rename(columns=columns)
    frame.insert(0, "$d$", list(train))
    formats = {h: ".2f" for k, h in columns.items() if k not in ("active_units", "best_epoch", "train_seconds")}
    return latex_table(frame, formats | {"train s": ".0f"})


def baseline_table(train: Mapping[int, Mapping[str, Any]], baseline: Mapping[str, Any]) -> str:
    rows = [{"$d$": d, "epochs": baseline[f"d{d}"]["epochs_run"], "baseline test loss": baseline[f"d{d}"]["test_loss"],
             "our test loss": train[d]["test_loss"], "gain": baseline[f"d{d}"]["test_loss"] - train[d]["test_loss"]}
            for d in train if f"d{d}" in baseline]
    return latex_table(pd.DataFrame(rows), {"baseline test loss": ".2f", "our test loss": ".2f", "gain": ".2f"})


def embed_table(embed: Mapping[str, Any], dims: list[int], k: int) -> str:
    frame = pd.DataFrame([{"$d$": d, f"{k}-NN accuracy": embed[f"d{d}"]["knn_accuracy"],
                           "silhouette": embed[f"d{d}"]["silhouette"],
                           f"{k}-NN accuracy in the 2-D view": embed[f"d{d}"]["view_knn_accuracy"]} for d in dims])
    return latex_table(frame, {c: ".3f" for c in frame.columns[1:]})


def reproducibility_table(train: Mapping[int, Mapping[str, Any]], models: Mapping[int, Path],
                          seconds: Mapping[str, float]) -> str:
    rows = [{"stage": stage, "wall s": s, "precision": "", "device": "", "model md5": ""}
            for stage, s in seconds.items()]
    for row in rows:
        if row["stage"].startswith("train-d"):
            d = int(row["stage"].removeprefix("train-d"))
            native = "native bf16" if train[d]["native_bf16"] else "no native bf16"
            row |= {"precision": train[d]["precision"], "device": f"{train[d]['device']} ({native})",
                    "model md5": md5(models[d])}
    return latex_table(pd.DataFrame(rows), {"wall s": ".0f"})


def params_table(all_params: Mapping[str, Any]) -> str:
    flat = pd.json_normalize(all_params, sep=".").iloc[0]
    frame = pd.DataFrame({"key": flat.index, "value": [str(v) for v in flat.values]})
    return latex_table(frame, align="ll")


def md5(path: Path) -> str:
    """The file's md5, as dvc.lock records it for a stage output."""
    return hashlib.md5(path.read_bytes()).hexdigest()


def main(args: argparse.Namespace) -> None:
    all_params = params.read(args.params)
    p = params.validate(all_params, SCHEMA, str(args.params))["report"]
    dims = args.dims
    train = {d: read_json(args.metrics / f"train-d{d}.json") for d in dims}
    embed = read_json(args.metrics / "embed.json")
    baseline = read_json(args.metrics / "baseline.json")
    sizes = read_json(args.metrics / "prepare-data.json")
    ref_dim = p["reference_latent_dim"]
    if ref_dim not in train:
        raise params.ParamError(f"report.reference_latent_dim = {ref_dim}: expected one of the trained dims {dims}")
    stages = [s.format(d=d) for s in TIMED_STAGES for d in (dims if "{d}" in s else [None])]
    seconds = {stage: read_json(args.metrics / f"{stage}.json")["stage_seconds"] for stage in stages}
    k, iw_samples = all_params["embed"]["knn_k"], all_params["train"]["iw_samples"]
    ours, reference = train[ref_dim]["best_val_loss"], p["reference_val_loss"]
    top = max(dims)
    macros = {
        "AbstractFindings": findings.abstract(train, embed, ours, reference, ref_dim),
        "DataSizes": (f"{sizes['train_images']:,} training, {sizes['val_images']:,} validation and "
                      f"{sizes['test_images']:,} test images"),
        "RecipeTable": recipe_table(all_params, dims),
        "ResultsTable": results_table(train),
        "LossFinding": findings.loss_against_d(train),
        "IwFinding": findings.importance_weighted_gap(train, iw_samples),
        "ActiveFinding": findings.active_units(train),
        "StructureFinding": findings.latent_structure(embed, dims, k),
        "EmbedTable": embed_table(embed, dims, k),
        "BaselineFinding": findings.baseline_comparison(train, baseline),
        "BaselineTable": baseline_table(train, baseline),
        "BaselineRecipe": baseline_recipe(all_params["baseline"]),
        "ReferenceFinding": findings.reference_comparison(ours, reference, ref_dim),
        "ReferenceDim": str(ref_dim),
        "TopDim": str(top),
        "IwSamples": str(iw_samples),
        "KnnK": str(k),
        "Commit": escape(git_commit(CODE_PATHS)),
        "Software": (f"PyTorch {escape(importlib.metadata.version('torch'))}, "
                     f"Python {platform.python_version()}"),
        "ReproTable": reproducibility_table(train, {d: args.models / f"vae-d{d}.pt" for d in dims}, seconds),
        "ParamsTable": params_table(all_params),
    }
    write_results(args.results, macros)
    compile_pdf(args.tex, args.pdf)
    log.info("wrote %s and %s", args.results, args.pdf)


def baseline_recipe(p: Mapping[str, Any]) -> str:
    widths = "--".join(map(str, (784, *p["hidden"])))
    return (f"an MLP {widths}--$d$ with ReLU, Adam at a constant rate of {p['lr']:g}, "
            f"batches of {p['batch_size']}")


if __name__ == "__main__":
    ap = cli.parser("report", __doc__)
    ap.add_argument("--dims", type=int, nargs="+", required=True, help="latent dimensions of the trained models")
    ap.add_argument("--metrics", type=Path, required=True, help="directory of the stages' metrics JSON")
    ap.add_argument("--models", type=Path, required=True, help="directory holding vae-d<d>.pt (their md5 is listed)")
    ap.add_argument("--tex", type=Path, required=True, help="the hand-written LaTeX template")
    ap.add_argument("--results", type=Path, required=True, help="generated LaTeX it inputs")
    ap.add_argument("--pdf", type=Path, required=True, help="the built report")
    cli.run("report", main, ap.parse_args())
