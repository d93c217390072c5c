"""A fingerprint of the project code a module runs: which source files it imports, directly or through each
other, and one md5 over them. A sweep cell records the fingerprint of what it ran, and the report compares it with
the code as it stands; its own module, away from the git provenance of study/provenance.py, because the cells
import it: what they import is what an edit retrains."""

from __future__ import annotations

import ast
import hashlib
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
PACKAGES = ("stages", "study", "vae")  # the project's code; anything else is a library


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
