"""Where a result came from: the git commit of the code that made it."""

from __future__ import annotations

import subprocess
from collections.abc import Sequence


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
