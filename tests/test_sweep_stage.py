"""The sweep as DVC stages, with the real `dvc`: a new d runs its cells alone, an interrupted sweep loses at
most the cell that was running, a fresh clone runs no cell, and cells split across machines meet in one clone
through the shared git remote without training again. (A new seed reruns every cell, each of which trains all
seeds: test_dvc_workflows checks that.)"""

from __future__ import annotations

import signal
import sys
from pathlib import Path

from conftest import RECIPES, commit_all, dvc, git, ran, stages_run, tiny_params, write_params
from test_dvc_workflows import stale_stages
from test_faults import Running


def cells(dims: tuple[int, ...]) -> set[str]:
    return {f"sweep@{d}-{recipe}" for d in dims for recipe in RECIPES}


def test_a_new_dim_runs_its_cells_alone_and_an_interrupted_sweep_loses_one_cell_at_most(pipeline_copy: Path) -> None:
    repo = pipeline_copy
    write_params(repo, tiny_params(sweep={"dims": [1, 2, 4]}))
    new = cells((4,))
    assert stale_stages(repo) == {"check-params", "sweep-summary", "report"} | new  # no cell of d = 1 or 2

    # Killed (as by a crash or a closed laptop) once the second new cell has started: the first is done and locked.
    running = Running([sys.executable, "-m", "dvc", "repro"], repo)
    started: list[str] = []

    def second_cell_started(line: str) -> bool:
        if line.startswith("Running stage 'sweep@"):
            started.append(line)
        return len(started) == 2

    try:
        running.wait_for(second_cell_started)
        running.kill(signal.SIGKILL)
        running.finish()
    finally:
        running.kill()
    finished = started[0].split("'")[1]
    assert finished in new and stale_stages(repo) == {"sweep-summary", "figures", "report"} | (new - {finished})

    # The rerun trains the cells that did not finish, then gathers them; nothing else.
    assert stages_run(repo) == (new - {finished}) | {"sweep-summary", "figures", "report"}
    assert len(csv_rows(repo / "results/sweep.csv")) == 3 * len(RECIPES) * 2  # dims x recipes x seeds


def csv_rows(path: Path) -> list[str]:
    return path.read_text().splitlines()[1:]


def test_a_fresh_clone_runs_no_cell(pipeline: Path, tmp_path: Path) -> None:
    """The cells' results are committed: a clone without the DVC cache remakes the prepared data, which comes
    out byte for byte the same, and so finds every cell up to date."""
    clone = tmp_path / "clone"
    git(tmp_path, "clone", "-q", str(pipeline), str(clone))
    assert stages_run(clone, "sweep-summary") == {"prepare-data"}


def test_cells_split_across_machines_meet_in_one_clone_without_training(pipeline: Path, tmp_path: Path) -> None:
    """Two workers each run their share of new cells and push its results to a branch of the shared git remote;
    a third clone takes every share's results, `dvc commit` records them in dvc.lock, and `dvc repro` trains no
    cell. (Not DVC's run-cache: DVC keeps none for a stage with a `cache: false` output that is neither a metric
    nor a plot, and the cells' committed results are such outputs.)"""
    origin = tmp_path / "origin.git"
    git(tmp_path, "init", "-q", "--bare", "-b", "main", str(origin))
    start = tmp_path / "start"
    git(tmp_path, "clone", "-q", str(pipeline), str(start))
    write_params(start, tiny_params(sweep={"dims": [1, 2, 4]}))  # a cell per recipe
    commit_all(start, "a new d for the sweep")
    git(start, "push", "-q", str(origin), "HEAD:main")

    new = sorted(cells((4,)))
    shares = {"worker-0": new[0::2], "worker-1": new[1::2]}  # a CI matrix job or a batch array task each
    for i, (worker, share) in enumerate(shares.items()):
        clone = tmp_path / worker
        git(tmp_path, "clone", "-q", str(origin), str(clone))
        assert set(share) <= stages_run(clone, *share)
        git(clone, "add", "results/sweep")
        git(clone, "commit", "-q", "-m", f"sweep share {i}")
        git(clone, "push", "-q", "origin", f"HEAD:sweep/share-{i}")

    gather = tmp_path / "gather"
    git(tmp_path, "clone", "-q", str(origin), str(gather))
    git(gather, "fetch", "-q", "origin", "refs/heads/sweep/*:refs/remotes/origin/sweep/*")
    for i in range(len(shares)):
        git(gather, "checkout", f"origin/sweep/share-{i}", "--", "results/sweep")
    assert stages_run(gather, "prepare-data") == {"check-params", "prepare-data"}  # the cells' input, remade
    dvc(gather, "commit", "--force", *new)
    out = dvc(gather, "repro", "sweep-summary").stdout
    assert ran(out) == {"sweep-summary"}, out  # no cell trained here
    for cell in new:
        name = cell.removeprefix("sweep@")
        worker = next(w for w, share in shares.items() if cell in share)
        for suffix in (".json", "-loss.csv", "-draws.npz"):
            made = (tmp_path / worker / f"results/sweep/{name}{suffix}").read_bytes()
            assert (gather / f"results/sweep/{name}{suffix}").read_bytes() == made
    assert len(csv_rows(gather / "results/sweep.csv")) == 3 * len(RECIPES) * 2
    assert dvc(gather, "status", "sweep-summary").stdout.strip() == "Data and pipelines are up to date."
