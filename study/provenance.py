"""Where a result came from: the git commit of the code that made it, and the md5 of a file."""

from __future__ import annotations

import hashlib
import subprocess
from collections.abc import Sequence
from pathlib import Path


def git_commit(code_paths: Sequence[str]) -> str:
    """Short hash of HEAD, flagged when any of ``code_paths`` differs from it; ``unknown`` outside git.

    Only code counts: during a run the outputs always differ from HEAD, and params are reported separately.
    """
    try:
        head = subprocess.run(["git", "rev-parse", "--short=10", "HEAD"], capture_output=True, text=True,
                              check=True).stdout.strip()
        clean = subprocess.run(["git", "diff", "--quiet", "HEAD", "--", *code_paths]).returncode == 0
    except (OSError, subprocess.CalledProcessError):
        return "unknown"
    return head if clean else f"{head} with uncommitted code changes"


def file_md5(path: Path) -> str:
    """The file's md5, as dvc.lock records it for a stage output."""
    return hashlib.md5(Path(path).read_bytes()).hexdigest()
