"""Where a result came from: the git commit of the code that made it, the md5 of a file, and a fingerprint of
the project code a module runs."""

from __future__ import annotations

import ast
import hashlib
import subprocess
from collections.abc import Sequence
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
PACKAGES = ("stages", "study", "vae")  # the project's code; anything else is a library


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


def source_files(module: str, root: Path = ROOT) -> list[str]:
    """The project's source files that ``module`` (dotted) imports, itself included, directly or through each
    other, as paths relative to ``root``. Found by reading import statements rather than by importing, so that
    a stage can fingerprint code it does not run (package ``__init__`` files hold docstrings only)."""
    found: set[str] = set()
    pending = [module]
    while pending:
        name = pending.pop()
        path = root / (name.replace(".", "/") + ".py")
        if name.split(".")[0] not in PACKAGES or not path.is_file() or str(path.relative_to(root)) in found:
            continue
        found.add(str(path.relative_to(root)))
        for node in ast.walk(ast.parse(path.read_text(), str(path))):
            if isinstance(node, ast.Import):
                pending += [alias.name for alias in node.names]
            elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
                # `from vae import data` imports module vae.data; `from vae.io import write_csv` module vae.io.
                pending += [node.module, *(f"{node.module}.{alias.name}" for alias in node.names)]
    return sorted(found)


def code_md5(module: str, root: Path = ROOT) -> str:
    """One md5 over the paths and bytes of :func:`source_files`: it changes when any code ``module`` runs does."""
    digest = hashlib.md5()
    for path in source_files(module, root):
        digest.update(path.encode() + b"\0" + (root / path).read_bytes() + b"\0")
    return digest.hexdigest()
