"""Stage report: render report/results.tex (tables, and the sentences that state findings) from the metrics,
the sweep's table and params, and build report/report.pdf with latexmk."""

from __future__ import annotations

import argparse
import importlib.metadata
import logging
import platform
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import pandas as pd

from stages import cli, params
from stages.params import integer, positive_number
from study import decoder_findings, findings, stats, sweep, sweep_findings
from study.latex import compile_pdf, escape, write_results
from study.fingerprint import code_md5
from study.provenance import git_commit
from study.tables import (baseline_recipe, baseline_table, clips_table, convergence_table, decoders_table,
                          differences_table, embed_table, exact_sweep_table, ladder_table, own_loss_table, params_table,
                          recipe_table, reproducibility_table, results_table, steps_table, sweep_table)
from vae.io import read_json, require

log = logging.getLogger(__name__)

# The report reads every block (its appendix lists them all), but validates only its own: the blocks of
# the other stages were validated by the stages that read them, which produced the metrics shown here.
SCHEMA = {"report": {"reference_val_loss": positive_number(), "reference_latent_dim": integer(1)}}
# The code whose uncommitted changes the report flags: what the pipeline runs.
CODE_PATHS = ("stages", "study", "vae", "dvc.yaml", "report/report.tex")
# Stages whose wall time the report lists, each from its metrics file (the report cannot time itself).
TIMED_STAGES = ("prepare-data", "train-d{d}", "baseline", "embed", "likelihood", "sweep-summary", "figures")
# The module a sweep cell runs: the report says whether the cells ran the code as it is now.
CELL_MODULE = "stages.sweep"


def check(p: Mapping[str, Any], dims: Sequence[int], source: Path | str) -> None:
    """The reference figure is for one of the main models."""
    if p["reference_latent_dim"] not in dims:
        raise params.ParamError(f"{source}: report.reference_latent_dim = {p['reference_latent_dim']}: expected one "
                                f"of the trained dims {list(dims)}")


NUMBER_WORDS = ("no", "one", "two", "three", "four", "five", "six", "seven", "eight", "nine", "ten")


def in_words(n: int) -> str:
    return NUMBER_WORDS[n] if n < len(NUMBER_WORDS) else str(n)


def loss_recipes(cells: sweep.Sweep, decoder: str) -> list[str]:
    """The recipes whose test losses the report sets beside the main models' and each other's: those with the main
    models' decoder (or, where the sweep has none, those with the decoder of its first recipe)."""
    return cells.with_decoder(decoder) or cells.with_decoder(cells.decoder(next(iter(cells.recipes))))


def sweep_macros(all_params: Mapping[str, Any], binarize: str, cells: sweep.Sweep,
                 recipes: Mapping[int, Mapping[str, Any]], iw_samples: int) -> dict[str, str]:
    """What the report says about the latent-dimension sweep; ``recipes`` are the main models' train blocks (d ->
    block): the recipes with the decoder of the largest have their losses set side by side in Table tab:sweep."""
    same = loss_recipes(cells, recipes[max(recipes)]["decoder"])
    names = [sweep_findings.recipe_name(cells, r) for r in cells.recipes]
    workers = sorted({int(w) for w in cells.cells["workers"]})
    k = all_params["sweep"]["knn_k"]
    return {
        "SweepTable": sweep_table(cells.spread(), {r: cells.labels[r] for r in same}),
        "SweepTableRecipes": (f"{sweep_findings.group_name(cells, same)}, with the "
                              f"{sweep_findings.DECODER_WORDS.get(cells.decoder(same[0]), cells.decoder(same[0]))} "
                              "decoder"),
        # Where the table leaves recipes out, where their own losses are.
        "SweepTableNote": ("" if len(same) == len(cells.recipes) else
                           "Section~\\ref{sec:density} and Table~\\ref{tab:own} give the continuous Bernoulli's own."
                           if decoder_findings.cb_recipes(cells) and same != decoder_findings.cb_recipes(cells) else
                           "The other recipes' losses are in other units."),
        "SweepNoise": sweep_findings.noise(cells),
        "RecipeFinding": sweep_findings.recipe_comparison(cells),
        "SweepCurrency": sweep_findings.currency(all_params, binarize, code_md5(CELL_MODULE), cells),
        "MainRecipesFinding": sweep_findings.main_recipes(recipes, cells),
        "SweepEpochs": str(cells.epochs),
        "SweepSeeds": str(len(cells.seeds)),
        "SweepCells": str(len(cells.cells)),
        "SweepModels": str(len(cells.runs)),
        "SweepWorkers": f"{sweep_findings.listing([str(w) for w in workers]).replace(' and ', ' or ')}",
        "SweepRecipeCount": in_words(len(cells.recipes)),
        "SweepRecipes": sweep_findings.listing(names),
        # The cells' own wall times: each cell trains all its seeds, so the sweep took their sum.
        "SweepMinutes": f"{cells.cells['stage_seconds'].sum() / 60:.0f}",
        "SweepMinutesByRecipe": sweep_findings.listing([
            f"{seconds / 60:.0f} for those of {sweep_findings.recipe_name(cells, recipe)}"
            for recipe, seconds in cells.cells.groupby("recipe", sort=False)["stage_seconds"].sum().items()]),
        "SweepDims": ", ".join(map(str, cells.dims)),
        "SweepTopDim": str(cells.dims[-1]),
        "SweepKnnK": str(k),
        "FirstClip": decoder_findings.clip_tex(cells.cb_clips[0]),
        "SweepClips": sweep_findings.listing([decoder_findings.clip_tex(c) for c in cells.cb_clips]),
        "AbstractDensity": decoder_findings.abstract(cells),
        "IntroDecoders": decoder_findings.introduction(cells),
        "ClipDiscussion": decoder_findings.clip_discussion(cells),
        "FlatteningFinding": sweep_findings.flattening(cells),
        "TradeFinding": sweep_findings.trade(cells),
        "StepsTable": steps_table(cells),
        "LiteratureFinding": sweep_findings.literature(cells),
        "SweepActiveFinding": sweep_findings.active_units(cells),
        "SweepKnnFinding": sweep_findings.knn_accuracy(cells, k),
        "AbstractSweep": sweep_findings.abstract(cells),
        "DecodersTable": decoders_table(cells),
        "SharedBendsFinding": decoder_findings.shared_bends(cells),
        "DecoderFinding": decoder_findings.decoder_comparison(cells),
        "ClipsTable": clips_table(cells),
        "ClipFinding": decoder_findings.clip_comparison(cells),
        "OwnLossTable": own_loss_table(cells),
        "OwnLossFinding": decoder_findings.own_loss(cells),
        "ExactSweepTable": exact_sweep_table(cells),
        "ExactSweepFinding": decoder_findings.exact(cells, iw_samples),
        "PaperFinding": decoder_findings.paper(cells),
        "DrawsFinding": decoder_findings.draws(cells),
    }


def main(args: argparse.Namespace) -> None:
    all_params = params.read(args.params)
    p = params.validate(all_params, SCHEMA, str(args.params))["report"]
    dims = args.dims
    check(p, dims, args.params)
    train = {d: read_json(args.metrics / f"train-d{d}.json") for d in dims}
    embed = read_json(args.metrics / "embed.json")
    baseline = read_json(args.metrics / "baseline.json")
    likelihood = read_json(args.metrics / "likelihood.json")
    views = {d: pd.read_csv(require(args.plots / f"embed-d{d}.csv")) for d in dims}
    sizes = read_json(args.metrics / "prepare-data.json")
    ref_dim = p["reference_latent_dim"]
    stages = [s.format(d=d) for s in TIMED_STAGES for d in (dims if "{d}" in s else [None])]
    seconds = {stage: read_json(args.metrics / f"{stage}.json")["stage_seconds"] for stage in stages}
    recipes = {d: all_params[f"train-d{d}"] for d in dims}
    curves = {d: stats.convergence(pd.read_csv(require(args.plots / f"loss-d{d}.csv"))["val_loss"].tolist())
              for d in dims}
    cells = sweep.read(args.sweep)
    k, iw_samples = all_params["embed"]["knn_k"], all_params["train"]["iw_samples"]
    decoded = all_params["embed"]["decoded_images"]
    ours, reference = train[ref_dim]["best_val_loss"], p["reference_val_loss"]
    macros = {
        "AbstractFindings": findings.abstract(train, embed, ours, reference, ref_dim),
        "DataSizes": (f"{sizes['train_images']:,} training, {sizes['val_images']:,} validation and "
                      f"{sizes['test_images']:,} test images"),
        "PixelTreatment": findings.pixel_treatment(sizes["binarize"]),
        "LikelihoodScale": findings.likelihood_scale(sizes["binarize"]),
        "RecipeTable": recipe_table(all_params, dims),
        "RecipeDifferences": findings.recipe_differences(recipes),
        "DifferencesTable": differences_table(recipes,
                                              sweep_findings.difference_reasons(recipes, curves, train, cells)),
        "ConvergenceFinding": findings.convergence(curves, {d: recipes[d]["lr_schedule"] for d in dims}),
        "ConvergenceTable": convergence_table(curves, {d: train[d]["epochs_run"] for d in dims}),
        **sweep_macros(all_params, sizes["binarize"], cells, recipes, iw_samples),
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
        "TopDim": str(max(dims)),
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
    ap.add_argument("--sweep", type=Path, required=True, help="the sweep's cells, one row each (from sweep-summary)")
    ap.add_argument("--models", type=Path, required=True, help="directory holding vae-d<d>.pt (their md5 is listed)")
    ap.add_argument("--tex", type=Path, required=True, help="the hand-written LaTeX template")
    ap.add_argument("--results", type=Path, required=True, help="generated LaTeX it inputs")
    ap.add_argument("--pdf", type=Path, required=True, help="the built report")
    cli.run("report", main, ap.parse_args())
