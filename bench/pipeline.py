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

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class StageRun:
    stage: str
    seconds: float
    peak_rss_mb: float  # the largest resident set of the processes it started (dvc and the stage command)


def stage_names(repo: Path) -> list[str]:
    """The stages of ``dvc.yaml`` in file order, which lists every stage after the stages it needs, with only the
    first cell of a matrix stage: the sweep's cells record their own times, and rerunning them all takes an hour."""
    listed = subprocess.run(dvc("stage", "list", "--name-only"), cwd=repo, capture_output=True, text=True,
                            check=True, env=same_python_env()).stdout.split()
    names: list[str] = []
    for name in listed:
        group = name.split("@")[0]
        if "@" not in name or not any(n.startswith(f"{group}@") for n in names):
            names.append(name)
    return names


# Runs the command given after the path it writes to, and writes there the peak RSS (kB) of the largest process
# it waited for. On Linux a child's ru_maxrss starts from its parent's resident set at the fork, so measuring
# from the benchmark's own process (torch loaded: a gigabyte) would credit every small stage with that; this
# helper is a bare Python of a few MB.
PEAK_RSS_HELPER = ("import resource, subprocess, sys; code = subprocess.call(sys.argv[2:]); "
                   "open(sys.argv[1], 'w').write(str(resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss)); "
                   "sys.exit(code)")


def run_measured(cmd: list[str], cwd: Path) -> tuple[float, float]:
    """Run ``cmd``; return its wall seconds and the peak RSS in MB of the largest process it ran (the stage's
    python under dvc, or dvc itself)."""
    with tempfile.TemporaryFile() as output, tempfile.NamedTemporaryFile("r") as peak:
        # A file, not a pipe, for the output: a full pipe would block the stage.
        start = time.perf_counter()
        code = subprocess.call([sys.executable, "-c", PEAK_RSS_HELPER, peak.name, *cmd], cwd=cwd, stdout=output,
                               stderr=subprocess.STDOUT, env=same_python_env())
        seconds = time.perf_counter() - start
        if code != 0:
            output.seek(0)
            text = output.read().decode(errors="replace")
            raise RuntimeError(f"{' '.join(cmd)} exited {code}:\n{text[-2000:]}")
        return seconds, int(peak.read()) / 1024


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
