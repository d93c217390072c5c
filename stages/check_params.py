"""Stage check-params: validate every block of params.yaml, with every stage's own rules, before any other
stage runs, so that a bad value anywhere stops `dvc repro` in seconds instead of after the training before it.

Every other stage depends on its output through prepare-data. That output lists the keys checked, not their
values: editing a value reruns this stage alone (and the stages that read the value), never the pipeline."""

from __future__ import annotations

import argparse
import logging
from pathlib import Path

from stages import baseline, cli, embed, figures, likelihood, params, prepare_data, report, sweep, sweep_summary, train
from vae.io import write_text

log = logging.getLogger(__name__)


def schema(dims: list[int], recipes: list[str]) -> params.Schema:
    """The rules of every block the pipeline reads, from the stages that read them; ``dims`` are those of the
    main models, one train block each, and ``recipes`` the blocks of the sweep's recipes."""
    return {
        **prepare_data.SCHEMA,
        **{entry: rules for d in dims for entry, rules in train.schema(d).items()},
        "baseline": baseline.BLOCK,
        **embed.SCHEMA,
        **likelihood.SCHEMA,
        **figures.SCHEMA,
        **report.SCHEMA,
        "sweep": {**sweep_summary.GRID, **sweep.BUDGET},
        **{block: train.RECIPE for block in recipes},
    }


def check(all_params: params.Params, dims: list[int], source: str) -> list[str]:
    """Validate ``all_params``; return the keys checked as ``block.key``. Raise :class:`params.ParamError`
    on the first problem: a bad value, an unknown or missing key or block, or values that do not fit together."""
    # The sweep's recipes name the blocks to check, so its grid is checked first.
    grid = params.validate(all_params, {"sweep": sweep_summary.GRID | sweep.BUDGET}, source)["sweep"]
    # A recipe left out of sweep.recipes keeps its block, checked like the rest: dvc.yaml names every recipe's
    # block among this stage's params, and DVC refuses a stage whose params are missing.
    # In the file's order, so that the keys checked do not depend on the order of sweep.recipes.
    kept = [name for name in all_params if name.startswith("sweep-")]
    rules = schema(dims, list(dict.fromkeys([*kept, *sweep_summary.recipe_blocks(grid)])))
    checked = params.validate(all_params, rules, source)
    for name in all_params:
        if name not in rules:
            raise params.ParamError(f"{source}: unknown block {name!r}; allowed blocks: {', '.join(rules)} "
                                    "(a recipe of the sweep is a block sweep-<name>)")
    data = checked["data"]
    prepare_data.check(data, source)
    train.check(checked["train"])
    for d in dims:
        train.check_decoder(f"train-d{d}", checked[f"train-d{d}"], data["binarize"], source)
    # A sweep recipe that cannot train on these pixels is refused by its own cells, not here: an experiment on
    # binarized MNIST (`dvc exp run -S data.binarize=dynamic train-d2`) runs no cell and must not be stopped.
    for block in sweep_summary.recipe_blocks(grid):
        try:
            train.check_decoder(block, checked[block], data["binarize"], source)
        except params.ParamError as refused:
            log.warning("%s; its cells will refuse to run", refused)
    embed.check_sizes(checked["embed"], data["train_size"], data["test_size"], source)
    report.check(checked["report"], dims, source)
    sweep.check(checked["sweep"], data["train_size"], data["test_size"], source)
    return [f"{name}.{key}" for name, values in checked.items() for key in values]


def main(args: argparse.Namespace) -> None:
    keys = check(params.read(args.params), args.dims, str(args.params))
    write_text(args.out, "".join(f"{key}\n" for key in keys))
    log.info("%s: %d keys valid", args.params, len(keys))


if __name__ == "__main__":
    ap = cli.parser("check_params", __doc__)
    ap.add_argument("--dims", type=int, nargs="+", required=True, help="latent dimensions of the main models")
    ap.add_argument("--out", type=Path, required=True, help="the keys checked, one per line")
    cli.run("check-params", main, ap.parse_args())
