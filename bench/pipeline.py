"""Each stage of the DVC pipeline run on its own, timed, with its peak memory."""

from __future__ import annotations

import logging
import os
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

import yaml

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class StageRun:
    stage: str
    seconds: float
    peak_rss_mb: float  # the largest resident set of the processes it started (dvc and the stage command)


def stage_names(repo: Path) -> list[str]:
    """The stages of ``dvc.yaml`` in file order, which lists every stage after the stages it needs."""
    return list(yaml.safe_load((repo / "dvc.yaml").read_text())["stages"])


def run_measured(cmd: list[str], cwd: Path) -> tuple[float, float]:
    """Run ``cmd``; return its wall seconds and peak RSS in MB over it and the children it waited for.

    os.wait4 reports the finished process's rusage, whose ru_maxrss on Linux is the larger of its own
    peak and that of its largest waited-for descendant: here, the stage's python process under dvc.
    """
    with tempfile.TemporaryFile() as output:  # a file, not a pipe: a full pipe would block the stage
        start = time.perf_counter()
        process = subprocess.Popen(cmd, cwd=cwd, stdout=output, stderr=subprocess.STDOUT, env=same_python_env())
        _, status, usage = os.wait4(process.pid, 0)
        seconds = time.perf_counter() - start
        process.returncode = os.waitstatus_to_exitcode(status)
        if process.returncode != 0:
            output.seek(0)
            text = output.read().decode(errors="replace")
            raise RuntimeError(f"{' '.join(cmd)} exited {process.returncode}:\n{text[-2000:]}")
    return seconds, usage.ru_maxrss / 1024


def same_python_env() -> dict[str, str]:
    """The environment with this interpreter's directory first on PATH, so that the stage commands'
    ``python`` is the one running the benchmark (the venv's), as the Makefile arranges for ``dvc repro``."""
    return {**os.environ, "PATH": f"{Path(sys.executable).parent}{os.pathsep}{os.environ.get('PATH', '')}"}


def dvc(*args: str) -> list[str]:
    return [sys.executable, "-m", "dvc", *args]


def time_stages(repo: Path) -> list[StageRun]:
    """Rerun every stage (``dvc repro --force --single-item``), one after another, as ``dvc repro`` would."""
    runs = []
    for stage in stage_names(repo):
        log.info("running stage %s", stage)
        seconds, rss = run_measured(dvc("repro", "--force", "--single-item", stage), repo)
        runs.append(StageRun(stage, seconds, rss))
    return runs


def noop_repro_seconds(repo: Path) -> float:
    """A ``dvc repro`` with nothing to do: what checking the pipeline costs."""
    return run_measured(dvc("repro"), repo)[0]
