"""Shared fixtures: the repo root, tiny params, and a temporary git + DVC copy of the repo."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
import yaml
from filelock import FileLock

ROOT = Path(__file__).resolve().parents[1]

# Small enough for a 2-core CPU in seconds, large enough for every stage to do its real job. Precision stays
# `auto`, what users get; torch.compile is off because compiling a tiny model takes longer than training it:
# test_train checks compiled training against eager, and test_fail_fast runs the whole pipeline compiled. Ten
# importance samples per test image rather than a hundred: the estimate is the same code for any k, and its
# evaluation was most of what a tiny cell spends after its start.
TINY = {
    "data": {"val_size": 200, "train_size": 500, "test_size": 300},
    "train": {"compile": False, "iw_samples": 10},
    "train-d1": {"epochs": 2, "hidden": [64]},
    "train-d2": {"epochs": 2, "hidden": [64]},
    "train-d64": {"epochs": 2, "hidden": [64]},
    "embed": {"tsne_perplexity": 10, "decoded_images": 100},
    "likelihood": {"d1_grid_points": 200, "d2_grid_points": 40, "ladder_images": 100},
    # Two seeds (a spread), two dims (a step along d), a recipe of each decoder: four cells of two models each, the
    # smallest sweep with a curve for each decoder. The ELU recipe's block stays, out of sweep.recipes, as a user
    # leaving a recipe out would keep it.
    "sweep": {"dims": [1, 2], "recipes": ["relu", "elu-cb"], "seeds": [1, 2], "epochs": 2, "decoded_images": 50,
              "exact_images": 50},
    "sweep-relu": {"hidden": [64]},
    "sweep-elu": {"hidden": [64]},
    "sweep-elu-cb": {"hidden": [64]},
}


def tiny_params(**overrides: dict[str, Any]) -> dict[str, Any]:
    """The repo's params.yaml with :data:`TINY` (and then ``overrides``) merged in."""
    params = yaml.safe_load((ROOT / "params.yaml").read_text())
    for changes in (TINY, overrides):
        for block, values in changes.items():
            params[block].update(values)
    return params


def env() -> dict[str, str]:
    """Environment for subprocesses: the venv's python first on PATH, as DVC's stage commands need; one thread
    per process, since the suite's workers already keep every core busy with tiny models."""
    return {**os.environ, "PATH": f"{Path(sys.executable).parent}{os.pathsep}{os.environ['PATH']}", "CI": "true",
            "OMP_NUM_THREADS": "1"}


# No subprocess of the suite may hang it: past this, subprocess.run kills the command and the test fails.
DEADLINE_S = 600


def run(cmd: list[str], cwd: Path, check: bool = True, timeout: float = DEADLINE_S,
        **kwargs: Any) -> subprocess.CompletedProcess[str]:
    done = subprocess.run(cmd, cwd=cwd, env=env(), capture_output=True, text=True, timeout=timeout, **kwargs)
    if check and done.returncode != 0:
        raise AssertionError(f"{' '.join(cmd)} exited {done.returncode}\n{done.stdout}\n{done.stderr}")
    return done


def dvc(repo: Path, *args: str, check: bool = True) -> subprocess.CompletedProcess[str]:
    return run([sys.executable, "-m", "dvc", *args], repo, check=check)


def ran(output: str) -> set[str]:
    """The stages a ``dvc repro`` ran, from what it printed."""
    return {line.split("'")[1] for line in output.splitlines() if line.startswith("Running stage")}


def stages_run(repo: Path, *targets: str) -> set[str]:
    """Run ``dvc repro`` in ``repo`` (on ``targets``, or everything); the stages it ran."""
    return ran(dvc(repo, "repro", *targets).stdout)


# The cells of the sweep in TINY, as dvc.yaml's matrix names them.
RECIPES = ("relu", "elu-cb")
CELLS = {f"sweep@{d}-{recipe}" for d in (1, 2) for recipe in RECIPES}


def git(repo: Path, *args: str) -> str:
    return run(["git", *args], repo).stdout


def copy_repo(dest: Path) -> Path:
    """Copy the files git tracks (plus uncommitted edits) into ``dest`` and make it a fresh git repo."""
    dest.mkdir(parents=True, exist_ok=True)
    listed = run(["git", "ls-files", "--cached", "--others", "--exclude-standard", "-z"], ROOT).stdout
    for rel in filter(None, listed.split("\0")):
        src = ROOT / rel
        if src.is_file():
            (dest / rel).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(src, dest / rel)
    # Results of the full-size run are outputs the copy must produce itself.
    for rel in ("dvc.lock", "metrics", "plots", "results", "report/results.tex", "report/report.pdf"):
        path = dest / rel
        shutil.rmtree(path) if path.is_dir() else path.unlink(missing_ok=True)
    git(dest, "init", "-q", "-b", "main")
    git(dest, "config", "user.email", "tests@example.com")
    git(dest, "config", "user.name", "tests")
    return dest


def write_params(repo: Path, params: dict[str, Any]) -> None:
    (repo / "params.yaml").write_text(yaml.safe_dump(params, sort_keys=False))


def commit_all(repo: Path, message: str) -> None:
    git(repo, "add", "-A")
    git(repo, "commit", "-q", "-m", message)


@pytest.fixture(scope="session")
def pipeline(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A temporary copy of the repo on which a tiny ``dvc repro`` has run and been committed. Built once per
    test run: the suite runs in pytest-xdist workers, and the first to need it builds it while the others wait.
    Tests that run dvc in it (which takes DVC's repo lock) share the xdist group "pipeline"; the others read
    its files or work on a copy (:func:`pipeline_copy`)."""
    shared = tmp_path_factory.getbasetemp()
    if os.environ.get("PYTEST_XDIST_WORKER"):
        shared = shared.parent  # the run's directory, above each worker's own
    repo, built = shared / "pipeline", shared / "pipeline.built"
    with FileLock(str(shared / "pipeline.lock")):
        if not built.exists():
            shutil.rmtree(repo, ignore_errors=True)  # what a build that failed left
            copy_repo(repo)
            write_params(repo, tiny_params())
            dvc(repo, "repro")
            commit_all(repo, "tiny run")
            built.touch()
    return repo


@pytest.fixture
def make_repo(tmp_path: Path) -> Callable[[], Path]:
    """A fresh uncommitted copy of the repo with no results, for tests that need their own."""
    return lambda: copy_repo(tmp_path / "repo")


@pytest.fixture
def pipeline_copy(pipeline: Path, tmp_path: Path) -> Path:
    """A private copy of :func:`pipeline` (git history and DVC cache included), for tests that change it."""
    return Path(shutil.copytree(pipeline, tmp_path / "repo", symlinks=True, ignore=not_dvc_tmp))


def not_dvc_tmp(folder: str, names: list[str]) -> list[str]:
    """Leave out .dvc/tmp: tests in the xdist group "pipeline" may be writing DVC's lock files there."""
    return ["tmp"] if Path(folder).name == ".dvc" else []


# The longest test that needs the shared pipeline runs first, so that one worker builds the pipeline while the
# others run the tests that need none (about 100 s on 2 cores); the other tests that need it run last.
FIRST = "test_faults.py::test_every_stage_rerun_by_the_benchmark_is_measured_and_gives_identical_outputs"


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    def order(item: pytest.Item) -> int:
        if item.nodeid.endswith(FIRST):
            return 0
        return 2 if {"pipeline", "pipeline_copy"} & set(getattr(item, "fixturenames", ())) else 1

    items.sort(key=order)
