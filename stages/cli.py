"""What every stage shares: logging to stderr, and known failures as one line instead of a traceback.
Every stage depends on this file: keep it small, and put what one stage needs in that stage."""

from __future__ import annotations

import argparse
import logging
import os
import sys
import time
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any, NoReturn

from vae.errors import PipelineError
from vae.io import write_json

# At import, which every stage does first: before torch and the library load, so that the stage's wall
# time covers nearly its whole process.
STARTED = time.perf_counter()

# Failures with a message a user can act on; anything else is a bug and keeps its traceback.
EXPECTED_ERRORS = (PipelineError, FileNotFoundError)


class ArgumentParser(argparse.ArgumentParser):
    """An argument error is one line, like every other stage error, rather than usage plus error."""

    def error(self, message: str) -> NoReturn:
        self.exit(2, f"{self.prog}: error: {message} (see --help)\n")


def parser(stage: str, description: str) -> argparse.ArgumentParser:
    p = ArgumentParser(prog=f"python -m stages.{stage}", description=description)
    p.add_argument("--params", type=Path, default=Path("params.yaml"), help="params file (default: params.yaml)")
    return p


def run(stage: str, main: Callable[[argparse.Namespace], Mapping[str, Any] | None], args: argparse.Namespace) -> None:
    """Run a stage's ``main`` and write the metrics it returns, with the stage's wall time, to
    ``args.metrics``; exit 1 with ``<stage>: error: <message>`` on an expected failure."""
    logging.basicConfig(level=os.environ.get("LOGLEVEL", "INFO"), stream=sys.stderr,
                        format=f"%(asctime)s {stage}: %(message)s", datefmt="%H:%M:%S")
    try:
        metrics = main(args)
        # Metrics last: a metrics file on disk means every other output of the stage is complete.
        if metrics is not None:
            write_json(args.metrics, {**metrics, "stage_seconds": round(time.perf_counter() - STARTED, 1)})
    except EXPECTED_ERRORS as exc:
        if logging.getLogger().isEnabledFor(logging.DEBUG):
            raise
        print(f"{stage}: error: {exc}", file=sys.stderr)
        sys.exit(1)
    except KeyboardInterrupt:
        print(f"{stage}: interrupted; its metrics were not written and dvc.lock was not updated", file=sys.stderr)
        sys.exit(130)
