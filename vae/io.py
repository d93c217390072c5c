"""File I/O: every file the pipeline writes goes through here, atomically; inputs another stage writes
are checked here, so that a missing one says which command makes it.

A stage killed mid-write must not leave a file that DVC or a reader would take
as finished, so each writer fills a temporary file in the same directory and
renames it over the target only once it is complete (rename is atomic on POSIX).
"""

from __future__ import annotations

import contextlib
import csv
import glob
import json
import os
import tempfile
from collections.abc import Iterator, Mapping, Sequence
from pathlib import Path
from typing import Any

import numpy as np


@contextlib.contextmanager
def atomic_path(target: Path) -> Iterator[Path]:
    """Yield a temporary path beside ``target``; rename it to ``target`` on success."""
    target = Path(target)
    target.parent.mkdir(parents=True, exist_ok=True)
    # What a write of this target killed outside Python's control (SIGKILL, power loss) left behind.
    for stale in target.parent.glob(f".{glob.escape(target.name)}.*.tmp"):
        stale.unlink(missing_ok=True)
    fd, tmp_name = tempfile.mkstemp(dir=target.parent, prefix=f".{target.name}.", suffix=".tmp")
    os.close(fd)
    tmp = Path(tmp_name)
    os.chmod(tmp, 0o666 & ~_umask())  # mkstemp makes 0600; give the file the mode open() would
    try:
        yield tmp
        os.replace(tmp, target)
    finally:
        tmp.unlink(missing_ok=True)


def _umask() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return mask


def write_text(target: Path, text: str) -> None:
    with atomic_path(target) as tmp:
        tmp.write_text(text, encoding="utf-8")


def write_bytes(target: Path, payload: bytes) -> None:
    with atomic_path(target) as tmp:
        tmp.write_bytes(payload)


def write_json(target: Path, data: Mapping[str, Any]) -> None:
    write_text(target, json.dumps(data, indent=2, sort_keys=False) + "\n")


def write_csv(target: Path, rows: Sequence[Mapping[str, Any]]) -> None:
    """Write dict rows as CSV; the first row's keys are the header."""
    if not rows:
        raise ValueError(f"refusing to write an empty CSV to {target}")
    with atomic_path(target) as tmp, tmp.open("w", newline="", encoding="utf-8") as f:
        writer = csv.DictWriter(f, fieldnames=list(rows[0]))
        writer.writeheader()
        writer.writerows(rows)


def write_npz(target: Path, arrays: Mapping[str, Any]) -> None:
    """Named arrays in one compressed ``.npz``; the same arrays give the same bytes (zip entries carry a fixed
    date)."""
    with atomic_path(target) as tmp, tmp.open("wb") as f:
        np.savez_compressed(f, **arrays)


def require(path: Path) -> Path:
    """``path``, or an error that says how to produce it when it does not exist."""
    if not Path(path).is_file():
        raise FileNotFoundError(f"{path} is missing; run the stage that writes it first (dvc repro)")
    return Path(path)


def read_json(path: Path) -> dict[str, Any]:
    return json.loads(require(path).read_text())
