"""Bad input and faults: clear one-line errors, nothing half-written, the same results every time."""

from __future__ import annotations

import contextlib
import gzip
import hashlib
import json
import os
import queue
import re
import shutil
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Callable
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import torch
import yaml
from bench import pipeline as bench_pipeline
from conftest import DEADLINE_S, ROOT, dvc, env, run, tiny_params, write_params

from vae import mnist
from vae.data import DataError

TRAIN_ARGS = ["--data", "data/prepared/mnist.npz", "--model", "models/vae-d64.pt", "--metrics",
              "metrics/train-d64.json", "--loss-csv", "plots/loss-d64.csv"]


def without_timing(metrics_file: Path) -> dict:
    """Metrics minus the wall-clock figures, which no two runs share."""
    return without_timing_text(metrics_file.read_bytes())


def without_timing_text(text: bytes) -> dict:
    metrics = json.loads(text)
    metrics.pop("train_seconds")
    metrics.pop("stage_seconds")
    return metrics


def loss_rows_without_timing(csv_file: Path) -> list[list[str]]:
    return [line.split(",")[:-1] for line in csv_file.read_text().splitlines()]


# --- command line -------------------------------------------------------------------------

@pytest.mark.parametrize("stage", ["check_params", "prepare_data", "train", "baseline", "embed", "likelihood", "sweep",
                                   "sweep_summary", "figures", "report"])
def test_missing_argument_is_one_line(stage: str) -> None:
    done = run([sys.executable, "-m", f"stages.{stage}"], ROOT, check=False)
    assert done.returncode == 2
    lines = done.stderr.strip().splitlines()
    assert len(lines) == 1 and "error: the following arguments are required" in lines[0]


# --- data -----------------------------------------------------------------------------------

def test_wrong_image_dimensions_get_their_own_error(tmp_path: Path) -> None:
    raw = tmp_path / "mnist"
    shutil.copytree(ROOT / "data/mnist", raw)
    images = np.zeros((10, 27, 28), dtype=np.uint8)
    payload = (0x803).to_bytes(4, "big") + b"".join(n.to_bytes(4, "big") for n in images.shape) + images.tobytes()
    (raw / "t10k-images-idx3-ubyte.gz").write_bytes(gzip.compress(payload))
    sums = (raw / "SHA256SUMS").read_text().splitlines()
    sums = [f"{hashlib.sha256(payload).hexdigest()}  t10k-images-idx3-ubyte" if "t10k-images" in s else s
            for s in sums]
    (raw / "SHA256SUMS").write_text("\n".join(sums) + "\n")
    with pytest.raises(DataError, match=r"t10k-images-idx3-ubyte: images are \(27, 28\), expected \(28, 28\)"):
        mnist.prepare(raw, tmp_path / "out.npz", val_size=10, seed=0, train_size=100, test_size=10)


def test_corrupt_file_stops_the_pipeline_before_training(make_repo: Callable[[], Path]) -> None:
    repo = make_repo()
    write_params(repo, tiny_params())
    path = repo / "data/mnist/train-images-idx3-ubyte.gz"
    raw = bytearray(gzip.decompress(path.read_bytes()))
    raw[5000] ^= 0xFF
    path.write_bytes(gzip.compress(bytes(raw)))
    done = dvc(repo, "repro", check=False)
    assert done.returncode != 0
    assert "train-images-idx3-ubyte.gz: SHA-256 of the uncompressed bytes is" in done.stderr + done.stdout
    assert "ba891046e6505d7aadcbbe25680a0738ad16aec93bde7f9b65e87a2fc25776db" in done.stderr + done.stdout
    assert "Traceback" not in done.stderr + done.stdout
    assert not (repo / "data/prepared/mnist.npz").exists() and not (repo / "models").exists()


# --- interruption ---------------------------------------------------------------------------

class Running:
    """A command started in its own process group, output merged into one pipe and read by a thread, so that
    every wait has a deadline even when the process prints nothing."""

    def __init__(self, cmd: list[str], repo: Path) -> None:
        # A shell that starts jobs in the background (`cmd &`, as CI runners may) makes them ignore SIGINT, and
        # children inherit that; a user's Ctrl-C reaches a process that has the default action, so restore it.
        self.proc = subprocess.Popen(cmd, cwd=repo, env=env(), text=True, stdout=subprocess.PIPE,
                                     stderr=subprocess.STDOUT, start_new_session=True,
                                     preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_DFL))
        self.lines: queue.Queue[str | None] = queue.Queue()
        self.seen: list[str] = []
        stream = self.proc.stdout
        threading.Thread(target=lambda: [*map(self.lines.put, stream), self.lines.put(None)], daemon=True).start()

    def next_line(self, deadline: float) -> str | None:
        """The next line of output, None once the process has closed it; fail at ``deadline``."""
        try:
            line = self.lines.get(timeout=max(0.0, deadline - time.monotonic()))
        except queue.Empty:
            self.kill()
            raise AssertionError("no awaited output before the deadline:\n" + "".join(self.seen[-20:])) from None
        if line is not None:
            self.seen.append(line)
        return line

    def wait_for(self, wanted: Callable[[str], bool], timeout: float = 300) -> None:
        """Read output until a line satisfies ``wanted``."""
        deadline = time.monotonic() + timeout
        while (line := self.next_line(deadline)) is not None:
            if wanted(line):
                return
        raise AssertionError(f"the process ended (exit {self.proc.wait()}) before the line awaited:\n"
                             + "".join(self.seen[-20:]))

    def finish(self, timeout: float = 60) -> str:
        """All output, once the process has ended (it is killed, and the test fails, after ``timeout``)."""
        deadline = time.monotonic() + timeout
        while self.next_line(deadline) is not None:
            pass
        self.proc.wait(timeout=10)
        return "".join(self.seen)

    def kill(self, sig: signal.Signals = signal.SIGKILL) -> None:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(self.proc.pid, sig)


def test_a_silent_process_cannot_hang_the_suite(tmp_path: Path) -> None:
    running = Running([sys.executable, "-c", "import time; time.sleep(600)"], tmp_path)
    started = time.monotonic()
    with pytest.raises(AssertionError, match="no awaited output before the deadline"):
        running.wait_for(lambda line: True, timeout=2)
    assert time.monotonic() - started < 10 and running.proc.wait(timeout=10) != 0


@pytest.mark.parametrize("sig", [signal.SIGINT, signal.SIGKILL])
def test_interrupted_training_leaves_nothing_finished_and_resumes(pipeline_copy: Path, sig: signal.Signals) -> None:
    repo = pipeline_copy
    # Far more epochs than could run before the signal, whatever the machine's load.
    write_params(repo, tiny_params(**{"train-d64": {"epochs": 100_000, "hidden": [512, 256]}}))
    running = Running([sys.executable, "-m", "dvc", "repro"], repo)
    try:
        running.wait_for(lambda line: "epoch 2/" in line and "train-d64" in line)
        running.kill(sig)
        rest = running.finish()
    finally:
        running.kill()
    assert not (repo / "metrics/train-d64.json").exists(), rest
    assert not list(repo.rglob(".*.tmp"))
    assert "train-d64" in dvc(repo, "status").stdout

    # The next run starts cleanly, and gives what an uninterrupted run gives.
    write_params(repo, tiny_params(**{"train-d64": {"epochs": 3, "hidden": [512, 256]}}))
    dvc(repo, "repro", "train-d64")
    resumed = without_timing(repo / "metrics/train-d64.json")
    dvc(repo, "repro", "--force", "--single-item", "train-d64")
    assert without_timing(repo / "metrics/train-d64.json") == resumed


# --- numerical faults -----------------------------------------------------------------------

def test_divergence_names_stage_epoch_and_cause(pipeline_copy: Path) -> None:
    repo = pipeline_copy
    write_params(repo, tiny_params(**{"train-d64": {"epochs": 3, "hidden": [64], "lr": 1e6}}))
    (repo / "metrics/train-d64.json").unlink()
    done = run([sys.executable, "-m", "stages.train", "--latent-dim", "64", *TRAIN_ARGS], repo, check=False)
    assert done.returncode == 1
    last = done.stderr.strip().splitlines()[-1]
    assert last.startswith("train-d64: error: loss is nan at epoch 1: training diverged")
    assert "learning rate" in last
    assert not (repo / "metrics/train-d64.json").exists()


# --- determinism ----------------------------------------------------------------------------

# What a run measures of itself, which no two runs share: wall times and peak memory.
TIMING = ("train_seconds", "stage_seconds", "seconds_per_epoch", "peak_rss_mb")


def outputs_without_timing(repo: Path) -> dict[str, object]:
    """Every output of every stage, with the wall-clock figures (which no two runs share) taken out."""
    found: dict[str, object] = {}
    for path in sorted([*repo.glob("plots/*"), *repo.glob("models/*"), *repo.glob("metrics/*"),
                        *repo.glob("results/**/*.*"), repo / "data/prepared/mnist.npz", repo / "report/results.tex"]):
        name = str(path.relative_to(repo))
        if path.suffix == ".json":
            found[name] = json.loads(re.sub(rf'"({"|".join(TIMING)})": [0-9.]+', '"timing": 0', path.read_text()))
        elif path.suffix == ".csv" and "loss" in path.stem:  # loss-d1.csv, 1-relu-loss.csv
            found[name] = loss_rows_without_timing(path)
        elif path.name == "sweep.csv" and path.parent.name == "results":
            found[name] = pd.read_csv(path).drop(columns=list(TIMING)).to_dict("records")
        elif path.suffix == ".tex":  # less the wall times and the commit (the fixture commits after its run)
            text = re.sub(r"\\newcommand\{\\(ReproTable|Commit|SweepMinutes|SweepMinutesByRecipe)\}.*?\n\}\n", "",
                          path.read_text(), flags=re.S)
            found[name] = re.sub(r"& [0-9]+ \\\\$", "& (seconds) \\\\", text, flags=re.M)  # train s column
        else:
            found[name] = path.read_bytes()
    return found


def test_every_stage_rerun_by_the_benchmark_is_measured_and_gives_identical_outputs(pipeline_copy: Path) -> None:
    """The benchmark reruns every stage (one sweep cell) forced, one after another: each is timed around its
    command, and each writes what it wrote before."""
    repo = pipeline_copy
    before = outputs_without_timing(repo)
    assert {"models/vae-d64.pt", "plots/recon-d1.png", "metrics/baseline.json", "report/results.tex",
            "results/sweep/1-relu.json", "results/sweep/1-relu-draws.npz"} <= set(before)
    started = time.time()
    runs = bench_pipeline.time_stages(repo)
    assert [r.stage for r in runs] == ["check-params", "prepare-data", "train-d1", "train-d2", "train-d64", "baseline",
                                       "embed", "likelihood", "sweep@1-relu", "sweep-summary", "figures",
                                       "report"]
    written = {r.stage: json.loads((repo / f"metrics/{r.stage}.json").read_text()) for r in runs
               if (repo / f"metrics/{r.stage}.json").is_file()}
    written["sweep@1-relu"] = json.loads((repo / "results/sweep/1-relu.json").read_text())
    for stage in runs:
        # Each stage's own process imports numpy at least: tens of MB; training imports torch too.
        assert stage.peak_rss_mb > 50, stage.stage
        if stage.stage in written:  # it really ran, and the time around `dvc repro` covers its own
            assert (repo / ("results/sweep/1-relu.json" if "@" in stage.stage else f"metrics/{stage.stage}.json")
                    ).stat().st_mtime > started, stage.stage
            assert stage.seconds >= written[stage.stage]["stage_seconds"], stage.stage
    assert min(r.peak_rss_mb for r in runs if r.stage.startswith("train-")) > next(
        r.peak_rss_mb for r in runs if r.stage == "prepare-data")
    after = outputs_without_timing(repo)
    assert [name for name in before if after.get(name) != before[name]] == []


def test_report_from_the_same_inputs_has_the_same_bytes(pipeline_copy: Path) -> None:
    builds = []
    for _ in range(2):
        dvc(pipeline_copy, "repro", "--force", "--single-item", "report")
        builds.append((pipeline_copy / "report/report.pdf").read_bytes())
    assert builds[0] == builds[1]


# --- LaTeX ----------------------------------------------------------------------------------

def report_cmd(tex: str = "report/report.tex", results: str | Path = "report/results.tex",
               pdf: str | Path = "report/report.pdf") -> list[str]:
    """The report stage's module and arguments as dvc.yaml runs it, with the LaTeX files to use."""
    return ["stages.report", "--dims", "1", "2", "64", "--metrics", "metrics", "--plots", "plots", "--sweep",
            "results/sweep.csv", "--models", "models", "--tex", tex, "--results", str(results), "--pdf", str(pdf)]


def test_missing_tex_says_how_to_install(pipeline: Path, tmp_path: Path) -> None:
    # A PATH with python but without latexmk.
    bare = tmp_path / "bin"
    bare.mkdir()
    (bare / "python").symlink_to(sys.executable)
    done = subprocess.run([sys.executable, "-m", *report_cmd(results=tmp_path / "r.tex",
                                                             pdf=tmp_path / "r.pdf")],
                          cwd=pipeline, env={**env(), "PATH": str(bare)}, capture_output=True, text=True,
                          timeout=DEADLINE_S)
    assert done.returncode == 1
    assert "latexmk and pdflatex are needed" in done.stderr and "apt-get install" in done.stderr
    assert not (tmp_path / "r.pdf").exists()


def test_latex_error_shows_the_relevant_log_lines(pipeline_copy: Path, tmp_path: Path) -> None:
    pipeline = pipeline_copy
    broken = pipeline / "report/broken.tex"
    broken.write_text((pipeline / "report/report.tex").read_text().replace(r"\maketitle", r"\maketitle\nosuchmacro"))
    done = run([sys.executable, "-m", *report_cmd(tex="report/broken.tex", pdf=tmp_path / "r.pdf")], pipeline,
               check=False)
    assert done.returncode == 1
    assert "LaTeX failed to build report/broken.tex" in done.stderr
    assert "broken.tex:" in done.stderr and "Undefined control sequence" in done.stderr
    assert r"\nosuchmacro" in done.stderr
    assert len(done.stderr.splitlines()) < 30


# --- killed mid-write ---------------------------------------------------------------------

# Runs the train stage with every rename of a finished temporary file onto its real name delayed: a kill in
# that window is a kill while an output is being written.
SLOW_RENAMES = ("import os, runpy, time; rename = os.replace; "
                "os.replace = lambda src, dst: (time.sleep(120), rename(src, dst)); "
                "runpy.run_module('stages.train', run_name='__main__')")
TRAIN_D64_OUTPUTS = ("models/vae-d64.pt", "plots/loss-d64.csv", "metrics/train-d64.json")


def test_kill_while_writing_leaves_no_half_output_and_the_rerun_matches_a_clean_run(pipeline_copy: Path) -> None:
    repo = pipeline_copy
    before = {p: (repo / p).read_bytes() for p in TRAIN_D64_OUTPUTS}
    write_params(repo, tiny_params(**{"train-d64": {"epochs": 3, "hidden": [64]}}))
    running = Running([sys.executable, "-c", SLOW_RENAMES, "--latent-dim", "64", *TRAIN_ARGS], repo)
    try:
        deadline = time.monotonic() + 300
        while not list((repo / "models").glob(".vae-d64.pt.*.tmp")):
            assert running.proc.poll() is None and time.monotonic() < deadline, "".join(running.seen)
            time.sleep(0.05)
        running.kill()
        running.finish()
    finally:
        running.kill()
    # Every output under its real name is still the previous run's, whole; the killed write is a temporary.
    assert {p: (repo / p).read_bytes() for p in TRAIN_D64_OUTPUTS} == before
    assert list((repo / "models").glob(".vae-d64.pt.*.tmp"))

    dvc(repo, "repro", "train-d64")
    assert not list(repo.rglob(".*.tmp"))
    rerun = {p: (repo / p).read_bytes() for p in TRAIN_D64_OUTPUTS}
    assert rerun != before
    dvc(repo, "repro", "--force", "--single-item", "train-d64")  # a clean run of the same params
    assert (repo / "models/vae-d64.pt").read_bytes() == rerun["models/vae-d64.pt"]
    assert loss_rows_without_timing(repo / "plots/loss-d64.csv") == [
        line.split(",")[:-1] for line in rerun["plots/loss-d64.csv"].decode().splitlines()]
    assert without_timing(repo / "metrics/train-d64.json") == without_timing_text(rerun["metrics/train-d64.json"])


def test_interrupt_exits_130_with_one_line(pipeline_copy: Path) -> None:
    repo = pipeline_copy
    write_params(repo, tiny_params(**{"train-d64": {"epochs": 100_000, "hidden": [64]}}))
    running = Running([sys.executable, "-m", "stages.train", "--latent-dim", "64", *TRAIN_ARGS], repo)
    try:
        running.wait_for(lambda line: "epoch 1/" in line)
        running.kill(signal.SIGINT)
        output = running.finish()
    finally:
        running.kill()
    assert running.proc.returncode == 130
    assert output.strip().splitlines()[-1] == (
        "train-d64: interrupted; its metrics were not written and dvc.lock was not updated")
    assert "Traceback" not in output


# --- bad files ------------------------------------------------------------------------------

def one_line_error(cmd: list[str], repo: Path, stage: str) -> str:
    """Run a stage command that must fail; return its one error line."""
    done = run(cmd, repo, check=False)
    assert done.returncode == 1, done.stderr
    assert "Traceback" not in done.stderr
    errors = [line for line in done.stderr.splitlines() if ": error: " in line]
    assert len(errors) == 1 and errors[0].startswith(f"{stage}: error: "), done.stderr
    return errors[0]


def prepare_cmd(raw: Path) -> list[str]:
    out = raw.parent
    return [sys.executable, "-m", "stages.prepare_data", "--raw", str(raw), "--out", str(out / "prepared.npz"),
            "--metrics", str(out / "prepare.json")]


def idx(magic: int, array: np.ndarray) -> bytes:
    return magic.to_bytes(4, "big") + b"".join(n.to_bytes(4, "big") for n in array.shape) + array.tobytes()


def replace_raw_file(raw: Path, name: str, payload: bytes) -> None:
    """Put ``payload`` in place of a raw file, with a checksum that matches it."""
    (raw / f"{name}.gz").write_bytes(gzip.compress(payload))
    sums = [f"{hashlib.sha256(payload).hexdigest()}  {name}" if line.endswith(name) else line
            for line in (raw / "SHA256SUMS").read_text().splitlines()]
    (raw / "SHA256SUMS").write_text("\n".join(sums) + "\n")


@pytest.mark.parametrize(
    ("damage", "message"),
    [
        (lambda raw: (raw / "SHA256SUMS").write_text("not a checksum line\n"),
         r"SHA256SUMS:1: expected '<64 hex digits>  <file name>', got 'not a checksum line'"),
        # Two fields, but the first is no SHA-256 digest.
        (lambda raw: (raw / "SHA256SUMS").write_text("d41d8cd98f00b204e9800998ecf8427e  t10k-labels-idx1-ubyte\n"),
         r"SHA256SUMS:1: expected '<64 hex digits>  <file name>', got 'd41d8cd98f00b204e9800998ecf8427e  t10k"),
        (lambda raw: replace_raw_file(raw, "t10k-labels-idx1-ubyte", idx(0x801, np.full(10_000, 11, np.uint8))),
         r"t10k-labels-idx1-ubyte: label 11 is not a digit"),
        (lambda raw: replace_raw_file(raw, "t10k-labels-idx1-ubyte", idx(0x801, np.zeros(9_999, np.uint8))),
         r"t10k-images-idx3-ubyte has 10000 images but t10k-labels-idx1-ubyte has 9999 labels"),
    ],
)
def test_bad_raw_file_is_one_line_naming_it(tmp_path: Path, damage: Callable[[Path], object], message: str) -> None:
    raw = tmp_path / "mnist"
    shutil.copytree(ROOT / "data/mnist", raw)
    damage(raw)
    assert re.search(message, one_line_error(prepare_cmd(raw), ROOT, "prepare-data"))
    assert not (tmp_path / "prepared.npz").exists()


@pytest.mark.parametrize("cut", [0, 1000])
def test_truncated_prepared_data_is_one_line_naming_it(pipeline_copy: Path, cut: int) -> None:
    path = pipeline_copy / "data/prepared/mnist.npz"
    path.write_bytes(path.read_bytes()[:cut])
    cmd = [sys.executable, "-m", "stages.train", "--latent-dim", "64", *TRAIN_ARGS]
    assert "data/prepared/mnist.npz is not a complete prepared-data file" in one_line_error(cmd, pipeline_copy,
                                                                                             "train-d64")


def embed_cmd() -> list[str]:
    return [sys.executable, "-m", "stages.embed", "--dims", "1", "2", "64", "--data", "data/prepared/mnist.npz",
            "--models", "models", "--metrics", "metrics/embed.json", "--plots", "plots"]


def test_truncated_checkpoint_is_one_line_naming_it(pipeline_copy: Path) -> None:
    path = pipeline_copy / "models/vae-d2.pt"
    path.write_bytes(path.read_bytes()[:5000])
    assert "models/vae-d2.pt is not a complete checkpoint" in one_line_error(embed_cmd(), pipeline_copy, "embed")


@pytest.mark.parametrize(("path", "stage"), [("models/vae-d2.pt", "embed"), ("data/prepared/mnist.npz", "embed")])
def test_missing_input_says_which_command_makes_it(pipeline_copy: Path, path: str, stage: str) -> None:
    (pipeline_copy / path).unlink()
    assert f"{path} is missing; run the stage that writes it first (dvc repro)" in one_line_error(
        embed_cmd(), pipeline_copy, stage)


def test_embed_refuses_a_model_trained_under_other_params(pipeline_copy: Path) -> None:
    write_params(pipeline_copy, tiny_params(**{"train-d64": {"lr": 0.002, "epochs": 2, "hidden": [64]}}))
    error = one_line_error(embed_cmd(), pipeline_copy, "embed")
    assert "models/vae-d64.pt was trained with" in error and "run `dvc repro` to retrain it" in error


def test_cuda_without_a_gpu_is_one_line(pipeline_copy: Path) -> None:
    if torch.cuda.is_available():
        pytest.skip("this machine has a GPU")
    write_params(pipeline_copy, tiny_params(train={"device": "cuda"}))
    cmd = [sys.executable, "-m", "stages.train", "--latent-dim", "64", *TRAIN_ARGS]
    assert "train.device is 'cuda' but torch sees no CUDA device" in one_line_error(cmd, pipeline_copy, "train-d64")


def test_reference_dim_must_be_a_trained_dim(pipeline_copy: Path, tmp_path: Path) -> None:
    write_params(pipeline_copy, tiny_params(report={"reference_latent_dim": 8}))
    cmd = [sys.executable, "-m", *report_cmd(results=tmp_path / "r.tex", pdf=tmp_path / "r.pdf")]
    assert "report.reference_latent_dim = 8: expected one of the trained dims [1, 2, 64]" in one_line_error(
        cmd, pipeline_copy, "report")


# --- bad params through each stage's command line ------------------------------------------

STAGE_COMMANDS = {  # as dvc.yaml runs them
    "prepare-data": ["stages.prepare_data", "--raw", "data/mnist", "--out", "data/prepared/mnist.npz",
                     "--metrics", "metrics/prepare-data.json"],
    "train-d64": ["stages.train", "--latent-dim", "64", *TRAIN_ARGS],
    "baseline": ["stages.baseline", "--dims", "1", "2", "--data", "data/prepared/mnist.npz",
                 "--metrics", "metrics/baseline.json"],
    "embed": embed_cmd()[2:],
    "figures": ["stages.figures", "--dims", "1", "2", "64", "--data", "data/prepared/mnist.npz", "--models", "models",
                "--stage-metrics", "metrics", "--plots", "plots", "--sweep", "results/sweep.csv",
                "--cells", "results/sweep", "--metrics", "metrics/figures.json"],
    "report": report_cmd(),
}


@pytest.mark.parametrize(
    ("stage", "text", "message"),
    [
        ("prepare-data", "data: [unclosed", r"params.yaml is not valid YAML: "),
        ("train-d64", "train-d64: 5\n", r"block 'train-d64' is not a mapping \(int\); it needs keys hidden"),
        ("baseline", "baseline: {hidden: [400], batch_size: true, lr: 0.001}\n",
         r"baseline.batch_size = True: expected an integer >= 1"),
        ("embed", "embed: {knn_k: 5, tsne_perplexity: .nan, tsne_method: opentsne, seed: 0}\n",
         r"embed.tsne_perplexity = nan: expected a finite number > 0"),
        ("figures", "figures: {seed: 0, colour: red}\n", r"unknown key figures.colour; allowed keys: seed"),
        ("report", "report: {reference_val_loss: -1, reference_latent_dim: 64}\n",
         r"report.reference_val_loss = -1: expected a finite number > 0"),
    ],
)
def test_bad_params_fail_each_stage_in_one_line(pipeline_copy: Path, stage: str, text: str, message: str) -> None:
    """Each bad value replaces (or is appended over) the block it names in the real params file."""
    params_file = pipeline_copy / "params.yaml"
    block = text.split(":", 1)[0]
    kept = yaml.safe_load(params_file.read_text())
    kept.pop(block, None)
    params_file.write_text(yaml.safe_dump(kept, sort_keys=False) + text)
    cmd = [sys.executable, "-m", *STAGE_COMMANDS[stage]]
    before = output_times(pipeline_copy)
    assert re.search(message, one_line_error(cmd, pipeline_copy, stage))
    assert output_times(pipeline_copy) == before  # failed before any work: not one output was rewritten


def output_times(repo: Path) -> dict[Path, int]:
    """When each output of the pipeline was last written."""
    return {p: p.stat().st_mtime_ns for folder in ("data/prepared", "models", "plots", "metrics", "results", "report")
            for p in (repo / folder).rglob("*") if p.is_file()}


def test_unknown_activation_is_named(pipeline_copy: Path) -> None:
    write_params(pipeline_copy, tiny_params(**{"train-d64": {"activation": "tanh", "epochs": 2, "hidden": [64]}}))
    cmd = [sys.executable, "-m", *STAGE_COMMANDS["train-d64"]]
    assert "train-d64.activation = 'tanh': expected one of 'relu', 'elu', 'silu'" in one_line_error(
        cmd, pipeline_copy, "train-d64")
