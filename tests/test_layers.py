"""Imports run one way: stages/ may import study/ and vae/, study/ may import vae/, vae/ imports neither."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest
from conftest import ROOT

# package -> the project's packages it must not import
FORBIDDEN = {"vae": {"study", "stages"}, "study": {"stages"}}


def imported_packages(path: Path) -> set[str]:
    """The top-level packages a module imports, relative imports included (as its own package)."""
    found = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.Import):
            found |= {alias.name.split(".")[0] for alias in node.names}
        elif isinstance(node, ast.ImportFrom):
            found.add(path.parent.name if node.level else (node.module or "").split(".")[0])
    return found


@pytest.mark.parametrize("package", sorted(FORBIDDEN))
def test_imports_run_one_way(package: str) -> None:
    modules = sorted((ROOT / package).glob("*.py"))
    assert modules
    wrong = {str(m.relative_to(ROOT)): sorted(imported_packages(m) & FORBIDDEN[package]) for m in modules}
    assert {m: names for m, names in wrong.items() if names} == {}
