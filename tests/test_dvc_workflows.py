"""The DVC workflows users rely on, each run with the real `dvc` on a tiny-params copy of the repo."""

from __future__ import annotations

import contextlib
import json
import shutil
import sys
import time
from pathlib import Path

import numpy as np
import pytest
import yaml
from conftest import CELLS, RECIPES, ROOT, commit_all, dvc, git, ran, run, stages_run, tiny_params, write_params
from dvc import api as dvc_api
from dvc.repo import Repo

from study.fingerprint import source_files

STAGE_MODULES = {
    "check-params": "stages.check_params",
    "prepare-data": "stages.prepare_data",
    "train-d1": "stages.train",
    "train-d2": "stages.train",
    "train-d64": "stages.train",
    "baseline": "stages.baseline",
    "embed": "stages.embed",
    "likelihood": "stages.likelihood",
    "sweep": "stages.sweep",
    "sweep-summary": "stages.sweep_summary",
    "figures": "stages.figures",
    "report": "stages.report",
}
CHECK = {"check-params"}
TRAIN = {"train-d1", "train-d2", "train-d64"}
MODEL_READERS = TRAIN | {"baseline", "embed", "likelihood", "figures"}
ALL = (set(STAGE_MODULES) - {"sweep"}) | CELLS
CELLS_OF = {recipe: {cell for cell in CELLS if cell.split("-", 1)[1] == recipe} for recipe in RECIPES}

# Which stages `dvc status` reports stale after an edit of each file (the stages downstream of them then rerun
# too). check-params imports every stage's rules, so it goes stale with any code a stage runs; its output lists
# the keys checked, which code edits leave alone, so it reruns in seconds and nothing after it does.
CODE_EDITS = {
    # What every stage needs, kept small and stable.
    "stages/cli.py": ALL,
    "stages/params.py": ALL,
    "vae/errors.py": ALL,
    "vae/io.py": ALL,
    "vae/data.py": ALL - {"sweep-summary"},  # the prepared arrays' format, and the images' size
    "vae/mnist.py": CHECK | {"prepare-data"},
    # The model, its likelihoods, its training and its evaluation: the main models and the sweep's cells alike.
    "vae/model.py": CHECK | MODEL_READERS | CELLS,
    "vae/decoders.py": CHECK | MODEL_READERS | CELLS,
    "vae/loss.py": CHECK | MODEL_READERS | CELLS,
    "vae/evaluate.py": CHECK | MODEL_READERS | CELLS,
    "vae/progress.py": CHECK | MODEL_READERS | CELLS,
    "vae/train.py": CHECK | TRAIN | {"baseline"} | CELLS,
    "vae/pixels.py": CHECK | TRAIN | {"baseline", "report"} | CELLS,  # the report's bits per dimension
    "vae/hardware.py": CHECK | TRAIN | {"baseline"} | CELLS,
    "stages/train.py": CHECK | TRAIN | {"baseline"} | CELLS,  # the baseline and the cells use its rules and loop
    "vae/group.py": CHECK | CELLS,  # the seeds of a cell side by side
    "vae/likelihood.py": CHECK | {"likelihood"} | CELLS,  # the cells at d <= 2 integrate over z too
    "stages/quadrature.py": CHECK | {"likelihood"} | CELLS,
    "vae/sampling.py": CHECK | {"embed", "figures"} | CELLS,  # embed and the cells judge reconstructions and samples
    "study/knn.py": CHECK | {"embed"} | CELLS,  # the k-NN classifier, on latent means and on pixels
    "study/fingerprint.py": CHECK | {"report"} | CELLS,  # a cell fingerprints the code it ran
    # What no cell runs: t-SNE and silhouette, git provenance.
    "study/embedding.py": CHECK | {"embed"},
    "study/provenance.py": CHECK | {"report"},
    # One stage each.
    "stages/check_params.py": CHECK,
    "stages/prepare_data.py": CHECK | {"prepare-data"},
    "stages/baseline.py": CHECK | {"baseline"},
    "stages/embed.py": CHECK | {"embed"},
    "stages/checkpoints.py": CHECK | {"embed", "likelihood", "figures"},
    "stages/likelihood.py": CHECK | {"likelihood"},
    "stages/sweep.py": CHECK | CELLS,
    "stages/sweep_summary.py": CHECK | {"sweep-summary"},
    "study/stats.py": CHECK | {"sweep-summary", "figures", "report"},
    "study/sweep.py": CHECK | {"sweep-summary", "figures", "report"},
    "stages/figures.py": CHECK | {"figures"},
    "study/figures.py": CHECK | {"figures"},
    "study/model_figures.py": CHECK | {"figures"},
    "stages/report.py": CHECK | {"report"},
    "study/findings.py": CHECK | {"report"},
    "study/sweep_findings.py": CHECK | {"report"},
    "study/decoder_findings.py": CHECK | {"report"},
    "study/latex.py": CHECK | {"report"},
    "study/tables.py": CHECK | {"report"},
    "report/report.tex": {"report"},
    "report/results.tex": {"report"},  # an output of the report stage, not a source
    ".dvc/plots.html": set(),  # the page template of `dvc plots show`: no stage runs it
    # Docstring-only package markers, left out of the deps.
    "stages/__init__.py": set(),
    "study/__init__.py": set(),
    "vae/__init__.py": set(),
}


def dvc_status(repo: Path) -> dict[str, list]:
    """What ``dvc status`` reports, stage by stage, asked in-process: a fresh ``dvc`` process per question would
    cost a second each."""
    with contextlib.chdir(repo), Repo() as dvc_repo:  # DVC names stages relative to the working directory
        return dvc_repo.status()


def stale_stages(repo: Path) -> set[str]:
    return set(dvc_status(repo))


def imported_repo_files(module: str) -> set[str]:
    """Repo source files a stage module imports, as paths relative to the repo."""
    code = (f"import sys, {module}; from pathlib import Path; root = Path.cwd();"
            "print('\\n'.join(str(Path(m.__file__).relative_to(root)) for m in list(sys.modules.values())"
            " if getattr(m, '__file__', None) and Path(m.__file__).is_relative_to(root)))")
    out = run([sys.executable, "-c", code], ROOT).stdout.split()
    return {p for p in out if p.startswith(("stages/", "study/", "vae/")) and not p.endswith("__init__.py")}


@pytest.mark.parametrize("stage", sorted(STAGE_MODULES))
def test_code_deps_are_exactly_the_imported_files(stage: str) -> None:
    deps = yaml.safe_load((ROOT / "dvc.yaml").read_text())["stages"][stage]["deps"]
    declared = {d for d in deps if d.endswith(".py")}
    assert declared == imported_repo_files(STAGE_MODULES[stage])


def test_a_cells_code_fingerprint_reads_the_files_it_imports() -> None:
    """The report says whether the sweep ran the code as it is now by fingerprinting what a cell imports, read
    from import statements rather than by importing: the two must be the same files."""
    assert set(source_files("stages.sweep")) == imported_repo_files("stages.sweep")


@pytest.mark.xdist_group("pipeline")  # runs dvc in the shared pipeline
def test_noop_repro_is_up_to_date(pipeline: Path) -> None:
    start = time.perf_counter()
    out = dvc(pipeline, "repro").stdout
    print(f"no-op dvc repro: {time.perf_counter() - start:.1f} s")
    assert "Data and pipelines are up to date." in out


# check-params reads every block, and its output changes with none of these values: it reruns in seconds and
# nothing runs after it but the stages listed beside it.
@pytest.mark.parametrize(
    ("block", "key", "value", "expected"),
    [
        # embed, likelihood and figures read the train blocks to check that each model is current. The sweep's recipes
        # are blocks of their own: tuning a main model retrains no cell.
        ("train-d64", "lr", 0.002, {"train-d64", "embed", "figures", "report"}),
        ("train-d2", "activation", "elu", {"train-d2", "embed", "likelihood", "figures", "report"}),
        # The baseline trains as many epochs, from the same seed and with the same decoder, as the d=1 and d=2 models.
        ("train-d2", "epochs", 3, {"train-d2", "baseline", "embed", "likelihood", "figures", "report"}),
        ("train-d1", "seed", 7, {"train-d1", "baseline", "embed", "likelihood", "figures", "report"}),
        ("train-d1", "lr", 0.002, {"train-d1", "embed", "likelihood", "figures", "report"}),
        # A sweep recipe reruns its own cells; the report says whether the cells ran the recipes params.yaml holds.
        # The tiny sweep leaves the ELU recipe out of sweep.recipes: its kept block retrains nothing.
        ("sweep-elu", "lr", 0.002, {"report"}),
        ("sweep-relu", "lr", 0.002, {"report"} | CELLS_OF["relu"]),
        ("sweep-elu-cb", "kl_warmup_epochs", 1, {"report"} | CELLS_OF["elu-cb"]),
        # The cells at d <= 2 integrate over z on the likelihood stage's grid.
        ("likelihood", "d2_grid_points", 30, {"likelihood", "report"} | CELLS),
        ("likelihood", "ladder_images", 50, {"likelihood", "report"}),
        # The baseline and the cells train at the models' speed settings.
        ("train", "precision", "fp32", TRAIN | {"baseline", "report"} | CELLS),
        ("figures", "seed", 1, {"figures", "report"}),
        ("baseline", "lr", 0.002, {"baseline", "report"}),
        ("embed", "knn_k", 3, {"embed", "report"}),
        ("sweep", "epochs", 3, {"report"} | CELLS),
        ("sweep", "knn_k", 3, {"report"} | CELLS),
        ("sweep", "cb_clips", [1.0e-4, 0], {"report"} | CELLS),
        # Each cell trains every seed: a new seed reruns every cell, and the summary gathers the new grid.
        ("sweep", "seeds", [1, 2, 3], {"sweep-summary", "report"} | CELLS),
        # Train stages read no data params: they rerun because the prepared data changes.
        ("data", "val_size", 201, {"prepare-data", "report"}),
        ("report", "reference_val_loss", 99.0, {"report"}),
    ],
)
def test_param_change_marks_exactly_the_stages_that_read_it(pipeline_copy: Path, block: str, key: str, value: object,
                                                            expected: set[str]) -> None:
    params = yaml.safe_load((pipeline_copy / "params.yaml").read_text())
    params[block][key] = value
    write_params(pipeline_copy, params)
    assert stale_stages(pipeline_copy) == CHECK | expected


# Every kind of source file in the repository, and a comment in its language.
SOURCES = ("*.py", "*.tex", "*.html")
COMMENTS = {".py": b"\n# an edit\n", ".tex": b"\n% an edit\n", ".html": b"\n<!-- an edit -->\n"}


def test_code_edit_table_covers_every_source_file() -> None:
    tracked = run(["git", "ls-files", "--cached", "--others", "--exclude-standard", *SOURCES], ROOT).stdout
    outside_the_pipeline = ("tests/", "bench/", "scripts/")
    assert {p for p in tracked.split() if not p.startswith(outside_the_pipeline)} == set(CODE_EDITS)


def test_code_edit_marks_exactly_the_stages_in_the_table(pipeline_copy: Path) -> None:
    """Append a comment to every source file and ask DVC which stages went stale for which file; files outside
    the pipeline (tests, the benchmark, scripts) must make none stale. One question for all the edits, not one
    per file: a stage is stale by an edit exactly when the edited file is among the changed deps (or outs) DVC
    lists for it."""
    tracked = run(["git", "ls-files", *SOURCES], pipeline_copy).stdout.split()
    for path in tracked:
        with (pipeline_copy / path).open("ab") as f:
            f.write(COMMENTS[Path(path).suffix])
    found: dict[str, set[str]] = {path: set() for path in tracked}
    for stage, changes in dvc_status(pipeline_copy).items():
        # An edited file is a dep of the stage or, for the generated report/results.tex, its output.
        assert all(isinstance(c, dict) and set(c) <= {"changed deps", "changed outs"} for c in changes), changes
        for path in (path for change in changes for paths in change.values() for path in paths):
            found[path].add(stage)
    assert found == {path: CODE_EDITS.get(path, set()) for path in tracked}


def test_editing_what_no_cell_runs_leaves_every_cell_up_to_date(pipeline_copy: Path) -> None:
    """An hour of training is the price of a stale sweep: the t-SNE and silhouette (study/embedding.py), the git
    provenance (study/provenance.py), the figures and the report are edited without making one cell stale."""
    for path in ("study/embedding.py", "study/provenance.py", "study/figures.py", "study/sweep_findings.py",
                 "report/report.tex"):
        with (pipeline_copy / path).open("a") as f:
            f.write("\n% an edit\n" if path.endswith(".tex") else "\n# an edit\n")
    stale = stale_stages(pipeline_copy)
    assert stale >= {"embed", "report"} and not stale & CELLS


def test_repro_reruns_only_the_stages_a_change_reaches(pipeline_copy: Path) -> None:
    repo = pipeline_copy
    with (repo / "study/figures.py").open("a") as f:
        f.write("\n# how a figure looks\n")
    # The figures come out byte-identical (fixed PNG metadata); the report reruns only if the figures stage's
    # metrics changed, and those hold its wall time, rounded, which may or may not come out the same. check-params
    # reruns (it imports the figures' rules) and writes what it wrote before, so nothing after it reruns for it.
    pngs = {p.name: p.read_bytes() for p in (repo / "plots").glob("*.png")}
    figure_metrics = (repo / "metrics/figures.json").read_bytes()
    ran_now = stages_run(repo)
    metrics_changed = (repo / "metrics/figures.json").read_bytes() != figure_metrics
    assert ran_now == {"check-params", "figures"} | ({"report"} if metrics_changed else set())
    assert {p.name: p.read_bytes() for p in (repo / "plots").glob("*.png")} == pngs
    commit_all(repo, "figure code edited")

    write_params(repo, tiny_params(**{"train-d64": {"epochs": 3, "hidden": [64]}}))
    assert stages_run(repo) == {"check-params", "train-d64", "embed", "figures", "report"}

    diff = json.loads(dvc(repo, "metrics", "diff", "--json").stdout)
    assert diff["metrics/train-d64.json"]["epochs_run"] == {"old": 2, "new": 3, "diff": 1}
    assert "metrics/train-d1.json" not in diff
    params_diff = json.loads(dvc(repo, "params", "diff", "--json").stdout)["params.yaml"]["train-d64.epochs"]
    assert (params_diff["old"], params_diff["new"]) == (2, 3)


@pytest.mark.xdist_group("pipeline")  # runs dvc in the shared pipeline
def test_metrics_show_lists_every_metric_of_every_stage(pipeline: Path) -> None:
    shown = json.loads(dvc(pipeline, "metrics", "show", "--json").stdout)
    data = next(iter(shown.values()))["data"]
    files = {path: value["data"] for path, value in data.items()}
    # One row per stage, the sweep's summary for its cells: not one row per cell.
    assert set(files) == {"metrics/prepare-data.json", "metrics/train-d1.json", "metrics/train-d2.json",
                          "metrics/train-d64.json", "metrics/baseline.json", "metrics/embed.json",
                          "metrics/likelihood.json", "metrics/sweep-summary.json", "metrics/figures.json"}
    for d in (1, 2, 64):
        assert {"best_val_loss", "test_loss", "active_units"} <= set(files[f"metrics/train-d{d}.json"])
        # dvc shows numbers and strings; the list of sample shares stays in the file.
        assert {"knn_accuracy", "silhouette", "view_knn_accuracy", "recon_digit_kept"} == set(
            files["metrics/embed.json"][f"d{d}"])


@pytest.mark.xdist_group("pipeline")  # runs dvc in the shared pipeline
def test_plots_show_and_diff(pipeline: Path, tmp_path: Path) -> None:
    dvc(pipeline, "plots", "show", "--out", str(tmp_path / "html-show"))
    page = (tmp_path / "html-show/index.html").read_text()
    for name in ("loss-d1.csv", "loss-d2.csv", "loss-d64.csv", "val_loss", "train_loss", "Loss per epoch",
                 "d=1 latent means", "d=2 latent means", "d=64 latent means, t-SNE",
                 "Sweep, -log p(x) as a density against d", "Sweep, active units against d"):
        assert name in page, name
    declared = yaml.safe_load((pipeline / "dvc.yaml").read_text())["plots"]
    for png in (p for p in declared if isinstance(p, str)):
        assert f"workspace_{png.replace('/', '_')}" in page, png
    dvc(pipeline, "plots", "diff", "HEAD", "--out", str(tmp_path / "html-diff"))
    assert (tmp_path / "html-diff/index.html").is_file()


def test_models_are_artifacts_dvc_finds_by_name(pipeline_copy: Path, tmp_path: Path) -> None:
    repo = pipeline_copy
    for d in (1, 2, 64):
        # A version is registered with a git tag in the model registry's (GTO's) format.
        git(repo, "tag", "-a", f"vae-d{d}@v0.1.0", "-m", f"Registering artifact vae-d{d} version v0.1.0")
        found = dvc_api.artifacts_show(f"vae-d{d}", repo=str(repo))
        assert found == {"rev": git(repo, "rev-parse", "HEAD").strip(), "path": f"models/vae-d{d}.pt"}
    dvc(repo, "artifacts", "get", str(repo), "vae-d64", "-o", str(tmp_path / "model.pt"))
    assert (tmp_path / "model.pt").read_bytes() == (repo / "models/vae-d64.pt").read_bytes()


def test_queued_experiments_run_side_by_side_and_show_their_metrics(pipeline_copy: Path) -> None:
    repo = pipeline_copy

    # Queued experiments of one stage, run two at a time.
    for lr in ("0.002", "0.003"):
        dvc(repo, "exp", "run", "--queue", "-S", f"train-d64.lr={lr}", "train-d64")
    dvc(repo, "queue", "start", "-j", "2")
    deadline = time.monotonic() + 300
    while "Running" in (status := dvc(repo, "queue", "status").stdout) or "Queued" in status:
        assert time.monotonic() < deadline, status
        time.sleep(2)
    assert "Failed" not in status, status
    shown = json.loads(dvc(repo, "exp", "show", "--json").stdout)
    experiments = [exp for rev in shown for exp in (rev.get("experiments") or [])]
    lrs = set()
    for exp in experiments:
        for run_ in exp["revs"]:
            data = run_["data"]
            lrs.add(data["params"]["params.yaml"]["data"]["train-d64"]["lr"])
            assert "test_loss" in data["metrics"]["metrics/train-d64.json"]["data"]
    assert {0.002, 0.003} <= lrs


def test_remote_push_and_pull_round_trip(pipeline_copy: Path, tmp_path: Path) -> None:
    pipeline = pipeline_copy
    remote = tmp_path / "remote"
    dvc(pipeline, "remote", "add", "--local", "-f", "test-remote", str(remote))
    dvc(pipeline, "push", "-r", "test-remote")
    model = pipeline / "models/vae-d64.pt"
    original = model.read_bytes()
    shutil.rmtree(pipeline / ".dvc/cache")
    shutil.rmtree(pipeline / "models")
    (pipeline / "data/prepared/mnist.npz").unlink()
    dvc(pipeline, "pull", "-r", "test-remote")
    assert model.read_bytes() == original
    assert (pipeline / "data/prepared/mnist.npz").is_file()
    assert "up to date" in dvc(pipeline, "status").stdout


def test_binarized_experiment_trains_on_binary_samples_and_evaluates_on_a_fixed_binarization(
        pipeline_copy: Path) -> None:
    """The README's binarized-MNIST experiment, on tiny params: prepare-data and the one train stage rerun."""
    repo = pipeline_copy
    grey = json.loads((repo / "metrics/train-d2.json").read_text())
    out = dvc(repo, "exp", "run", "-n", "binarized", "-S", "data.binarize=dynamic", "train-d2").stdout
    assert ran(out) == {"check-params", "prepare-data", "train-d2"}
    metrics = json.loads((repo / "metrics/train-d2.json").read_text())
    assert (grey["binarize"], metrics["binarize"]) == ("none", "dynamic")
    # Binary images carry less to reconstruct than grey ones: the test loss moves.
    assert metrics["test_loss"] != grey["test_loss"]
    with np.load(repo / "data/prepared/mnist.npz") as arrays:
        assert set(np.unique(arrays["test_images"])) == {0, 255}
        assert len(np.unique(arrays["train_images"])) > 2
