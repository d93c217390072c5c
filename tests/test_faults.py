"""Bad input and faults: clear one-line errors, nothing half-written, the same results every time."""

from __future__ import annotations

import contextlib
import gzip
import hashlib
import json
import os
import shutil
import signal
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path

import numpy as np
import pytest
from conftest import ROOT, dvc, env, run, tiny_params, write_params

from vae import data
from vae.data import DataError

TRAIN_ARGS = ["--data", "data/prepared/mnist.npz", "--model", "models/vae-d64.pt", "--metrics",
              "metrics/train-d64.json", "--loss-csv", "plots/loss-d64.csv"]


def without_timing(metrics_file: Path) -> dict:
    """Metrics minus the wall-clock figure, which no two runs share."""
    metrics = json.loads(metrics_file.read_text())
    metrics.pop("train_seconds")
    return metrics


def loss_rows_without_timing(csv_file: Path) -> list[list[str]]:
    return [line.split(",")[:-1] for line in csv_file.read_text().splitlines()]


# --- command line -------------------------------------------------------------------------

@pytest.mark.parametrize("stage", ["prepare_data", "train", "baseline", "embed", "figures", "report"])
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
        data.prepare(raw, tmp_path / "out.npz", val_size=10, seed=0, train_size=100, test_size=10)


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

def start_and_wait_for_epoch(repo: Path, epoch: int) -> subprocess.Popen[str]:
    """Start `dvc repro` in its own process group and return once training has logged ``epoch``."""
    # A shell that starts jobs in the background (`cmd &`, as CI runners may) makes them ignore SIGINT, and
    # children inherit that; a user's Ctrl-C reaches a process that has the default action, so restore it.
    proc = subprocess.Popen([sys.executable, "-m", "dvc", "repro"], cwd=repo, env=env(), text=True,
                            stdout=subprocess.PIPE, stderr=subprocess.STDOUT, start_new_session=True,
                            preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_DFL))
    assert proc.stdout is not None
    deadline = time.monotonic() + 300
    for line in proc.stdout:
        if f"epoch {epoch}/" in line and "train-d64" in line:
            return proc
        assert time.monotonic() < deadline, "training never reached the epoch"
    raise AssertionError(f"dvc repro ended before epoch {epoch}: exit {proc.wait()}")


@pytest.mark.parametrize("sig", [signal.SIGINT, signal.SIGKILL])
def test_interrupted_training_leaves_nothing_finished_and_resumes(pipeline_copy: Path, sig: signal.Signals) -> None:
    repo = pipeline_copy
    # Far more epochs than could run before the signal, whatever the machine's load.
    write_params(repo, tiny_params(**{"train-d64": {"epochs": 100_000, "hidden": [512, 256]}}))
    proc = start_and_wait_for_epoch(repo, 2)
    try:
        os.killpg(proc.pid, sig)
        rest = proc.communicate(timeout=60)[0]
    finally:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(proc.pid, signal.SIGKILL)
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

def test_forced_rerun_gives_identical_results(pipeline_copy: Path) -> None:
    pipeline = pipeline_copy
    before = {p: (pipeline / p).read_bytes() for p in ("models/vae-d64.pt", "metrics/embed.json")}
    metrics_before = without_timing(pipeline / "metrics/train-d64.json")
    losses_before = loss_rows_without_timing(pipeline / "plots/loss-d64.csv")
    dvc(pipeline, "repro", "--force", "--single-item", "train-d64", "embed")
    assert {p: (pipeline / p).read_bytes() for p in before} == before
    assert without_timing(pipeline / "metrics/train-d64.json") == metrics_before
    assert loss_rows_without_timing(pipeline / "plots/loss-d64.csv") == losses_before


# --- LaTeX ----------------------------------------------------------------------------------

def test_missing_tex_says_how_to_install(pipeline: Path, tmp_path: Path) -> None:
    # A PATH with python but without latexmk.
    bare = tmp_path / "bin"
    bare.mkdir()
    (bare / "python").symlink_to(sys.executable)
    done = subprocess.run([sys.executable, "-m", "stages.report", "--dims", "1", "2", "64", "--metrics", "metrics",
                           "--tex", "report/report.tex", "--results", str(tmp_path / "r.tex"), "--pdf",
                           str(tmp_path / "r.pdf")], cwd=pipeline, env={**env(), "PATH": str(bare)},
                          capture_output=True, text=True)
    assert done.returncode == 1
    assert "latexmk and pdflatex are needed" in done.stderr and "apt-get install" in done.stderr
    assert not (tmp_path / "r.pdf").exists()


def test_latex_error_shows_the_relevant_log_lines(pipeline_copy: Path, tmp_path: Path) -> None:
    pipeline = pipeline_copy
    broken = pipeline / "report/broken.tex"
    broken.write_text((pipeline / "report/report.tex").read_text().replace(r"\maketitle", r"\maketitle\nosuchmacro"))
    done = run([sys.executable, "-m", "stages.report", "--dims", "1", "2", "64", "--metrics", "metrics",
                "--tex", "report/broken.tex", "--results", "report/results.tex", "--pdf",
                str(tmp_path / "r.pdf")], pipeline, check=False)
    assert done.returncode == 1
    assert "LaTeX failed to build report/broken.tex" in done.stderr
    assert "broken.tex:" in done.stderr and "Undefined control sequence" in done.stderr
    assert r"\nosuchmacro" in done.stderr
    assert len(done.stderr.splitlines()) < 30
