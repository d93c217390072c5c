"""Stage report: render report/results.tex (tables, and the sentences that state findings) from the metrics
and params, and build report/report.pdf with latexmk."""

from __future__ import annotations

import argparse
import importlib.metadata
import logging
import platform
from pathlib import Path

import pandas as pd

from stages import cli, params
from stages.params import integer, positive_number
from vae import findings, stats
from vae import sweep as seed_sweep
from vae.io import read_json, require
from vae.provenance import git_commit
from vae.report import (baseline_recipe, baseline_table, compile_pdf, convergence_table, differences_table,
                        embed_table, escape, ladder_table, params_table, recipe_table, reproducibility_table,
                        results_table, sweep_table, write_results)

log = logging.getLogger(__name__)

# The report reads every block (its appendix lists them all), but validates only its own: the blocks of
# the other stages were validated by the stages that read them, which produced the metrics shown here.
SCHEMA = {"report": {"reference_val_loss": positive_number(), "reference_latent_dim": integer(1)}}
# The code whose uncommitted changes the report flags: what the pipeline runs.
CODE_PATHS = ("stages", "vae", "dvc.yaml", "report/report.tex")
# Stages whose wall time the report lists, each from its metrics file (the report cannot time itself).
TIMED_STAGES = ("prepare-data", "train-d{d}", "baseline", "embed", "likelihood", "figures")


def main(args: argparse.Namespace) -> None:
    all_params = params.read(args.params)
    p = params.validate(all_params, SCHEMA, str(args.params))["report"]
    dims = args.dims
    train = {d: read_json(args.metrics / f"train-d{d}.json") for d in dims}
    embed = read_json(args.metrics / "embed.json")
    baseline = read_json(args.metrics / "baseline.json")
    likelihood = read_json(args.metrics / "likelihood.json")
    views = {d: pd.read_csv(require(args.plots / f"embed-d{d}.csv")) for d in dims}
    sizes = read_json(args.metrics / "prepare-data.json")
    ref_dim = p["reference_latent_dim"]
    if ref_dim not in train:
        raise params.ParamError(f"{args.params}: report.reference_latent_dim = {ref_dim}: expected one of the trained "
                                f"dims {dims}")
    stages = [s.format(d=d) for s in TIMED_STAGES for d in (dims if "{d}" in s else [None])]
    seconds = {stage: read_json(args.metrics / f"{stage}.json")["stage_seconds"] for stage in stages}
    recipes = {d: all_params[f"train-d{d}"] for d in dims}
    curves = {d: stats.convergence(pd.read_csv(require(args.plots / f"loss-d{d}.csv"))["val_loss"].tolist())
              for d in dims}
    sweep = seed_sweep.read(args.seed_sweep, dims)
    unknown = [name for name in sweep.recipes if name not in all_params]
    if unknown:
        raise params.ParamError(f"{args.seed_sweep} holds runs of recipe {', '.join(unknown)}, which {args.params} "
                                f"has no block for; {seed_sweep.RERUN_HINT}")
    k, iw_samples = all_params["embed"]["knn_k"], all_params["train"]["iw_samples"]
    decoded = all_params["embed"]["decoded_images"]
    ours, reference = train[ref_dim]["best_val_loss"], p["reference_val_loss"]
    top = max(dims)
    macros = {
        "AbstractFindings": findings.abstract(train, embed, ours, reference, ref_dim),
        "DataSizes": (f"{sizes['train_images']:,} training, {sizes['val_images']:,} validation and "
                      f"{sizes['test_images']:,} test images"),
        "PixelTreatment": findings.pixel_treatment(sizes["binarize"]),
        "LikelihoodScale": findings.likelihood_scale(sizes["binarize"]),
        "RecipeTable": recipe_table(all_params, dims),
        "RecipeDifferences": findings.recipe_differences(recipes),
        "DifferencesTable": differences_table(recipes, findings.difference_reasons(recipes, curves, train, sweep)),
        "ConvergenceFinding": findings.convergence(curves),
        "ConvergenceTable": convergence_table(curves),
        "SweepFinding": " ".join(findings.seed_spread(sweep, name) for name in sweep.recipes),
        "SweepTable": sweep_table(sweep.spread, list(sweep.recipes)),
        "SweepCurrency": findings.sweep_currency(all_params, sizes["binarize"], sweep),
        "SweepEpochs": str(sweep.epochs),
        "SweepSeeds": str(len(sweep.seeds)),
        "AbstractSweep": findings.seed_spread(sweep, next(iter(sweep.recipes))),
        "ResultsTable": results_table(train),
        "LossFinding": findings.loss_against_d(train),
        "IwFinding": findings.importance_weighted_gap(train, iw_samples),
        "ExactFinding": findings.exact_likelihood(train, likelihood, iw_samples),
        "LadderTable": ladder_table(likelihood),
        "GridLimit": f"{all_params['likelihood']['grid_limit']:g}",
        "FloorFinding": findings.reconstruction_floor(likelihood["test_recon_floor"], train, sizes["binarize"]),
        "ActiveFinding": findings.active_units(train),
        "StructureFinding": findings.latent_structure(embed, dims, k),
        "OrderFinding": findings.digit_order(views[1]) if 1 in views else "",
        "ConfusionFinding": findings.digit_confusions(views),
        "ReconFinding": findings.reconstructions(embed, dims, k, decoded),
        "SampleFinding": findings.samples(embed, dims, decoded),
        "DecodedImages": f"{decoded:,}",
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
        "ReproTable": reproducibility_table({**{f"train-d{d}": train[d] for d in dims}, "baseline": baseline},
                                            {f"train-d{d}": args.models / f"vae-d{d}.pt" for d in dims}, seconds),
        "ParamsTable": params_table(all_params),
    }
    write_results(args.results, macros)
    compile_pdf(args.tex, args.pdf)
    log.info("wrote %s and %s", args.results, args.pdf)


if __name__ == "__main__":
    ap = cli.parser("report", __doc__)
    ap.add_argument("--dims", type=int, nargs="+", required=True, help="latent dimensions of the trained models")
    ap.add_argument("--metrics", type=Path, required=True, help="directory of the stages' metrics JSON")
    ap.add_argument("--plots", type=Path, required=True,
                    help="directory of the train stages' loss-d<d>.csv and embed's embed-d<d>.csv")
    ap.add_argument("--seed-sweep", type=Path, required=True, help="runs of scripts/seed_sweep.py (CSV)")
    ap.add_argument("--models", type=Path, required=True, help="directory holding vae-d<d>.pt (their md5 is listed)")
    ap.add_argument("--tex", type=Path, required=True, help="the hand-written LaTeX template")
    ap.add_argument("--results", type=Path, required=True, help="generated LaTeX it inputs")
    ap.add_argument("--pdf", type=Path, required=True, help="the built report")
    cli.run("report", main, ap.parse_args())
