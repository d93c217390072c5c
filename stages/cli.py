"""What every stage shares: logging to stderr, and known failures as one line instead of a traceback."""

from __future__ import annotations

import argparse
import logging
import os
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

from vae.errors import PipelineError

# Failures with a message a user can act on; anything else is a bug and keeps its traceback.
EXPECTED_ERRORS = (PipelineError, FileNotFoundError, ValueError)


def parser(stage: str, description: str) -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog=f"python -m stages.{stage}", description=description)
    p.add_argument("--params", type=Path, default=Path("params.yaml"), help="params file (default: params.yaml)")
    return p


def run(stage: str, main: Callable[[argparse.Namespace], None], args: argparse.Namespace) -> None:
    """Run a stage's ``main``; exit 1 with ``<stage>: error: <message>`` on an expected failure."""
    logging.basicConfig(level=os.environ.get("LOGLEVEL", "INFO"), stream=sys.stderr,
                        format=f"%(asctime)s {stage}: %(message)s", datefmt="%H:%M:%S")
    try:
        main(args)
    except EXPECTED_ERRORS as exc:
        if logging.getLogger().isEnabledFor(logging.DEBUG):
            raise
        print(f"{stage}: error: {exc}", file=sys.stderr)
        sys.exit(1)
    except KeyboardInterrupt:
        print(f"{stage}: interrupted; no output was marked finished", file=sys.stderr)
        sys.exit(130)


def git_commit() -> str:
    """Short hash of HEAD, with ``-dirty`` when tracked files differ from it; ``unknown`` outside git."""
    try:
        return subprocess.run(["git", "describe", "--always", "--dirty", "--abbrev=10"], capture_output=True,
                              text=True, check=True).stdout.strip()
    except (OSError, subprocess.CalledProcessError):
        return "unknown"
