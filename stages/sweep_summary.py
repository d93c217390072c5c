"""Stage sweep-summary: gather the results of the sweep's cells (the grid of params.yaml's sweep block) into one
table of runs, the means over seeds that `dvc plots show` draws against d, and the few numbers `dvc metrics
show` lists for the sweep."""

from __future__ import annotations

import argparse
import logging
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from stages import cli, params
from stages.params import int_list, name_list, seed_list
from study import sweep
from vae.io import write_csv

log = logging.getLogger(__name__)

# The keys of the sweep block that say which cells there are (dvc.yaml's matrix reads dims and recipes), and the
# seeds each cell holds.
GRID = {
    "dims": int_list(1, distinct=True),
    "recipes": name_list(r"[a-z][a-z0-9]*(-[a-z0-9]+)*", "recipe names (lower case, digits and inner hyphens), "
                         "each with a block sweep-<name>"),
    "seeds": seed_list(),
}
SCHEMA = params.keys("sweep", GRID)


def recipe_blocks(grid: Mapping[str, Any]) -> list[str]:
    """The params block of each recipe of the sweep."""
    return [f"sweep-{name}" for name in grid["recipes"]]


def main(args: argparse.Namespace) -> dict[str, Any]:
    grid = params.load(args.params, SCHEMA)["sweep"]
    runs = sweep.gather(args.cells, grid["dims"], grid["recipes"], grid["seeds"])
    sweep.check_one_budget(runs, args.cells)
    write_csv(args.runs, runs.to_dict("records"))
    read = sweep.Sweep(runs)
    write_csv(args.plot, sweep.means_table(read).to_dict("records"))
    metrics = sweep.summary(read)
    log.info("%d cells, %d models: %s", len(read.cells), len(runs), metrics)
    return metrics


if __name__ == "__main__":
    ap = cli.parser("sweep_summary", __doc__)
    ap.add_argument("--cells", type=Path, required=True, help="directory of the cells' <d>-<recipe>-<seed>.json")
    ap.add_argument("--runs", type=Path, required=True, help="one row per cell (CSV)")
    ap.add_argument("--plot", type=Path, required=True, help="means and standard deviations per recipe and d (CSV)")
    ap.add_argument("--metrics", type=Path, required=True, help="metrics JSON")
    cli.run("sweep-summary", main, ap.parse_args())
