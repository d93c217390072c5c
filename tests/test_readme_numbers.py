"""Every number the README states is one the committed run produced: its tables are scripts/results_table.py's
output verbatim, every other decimal number in its prose is a value of the committed files (metrics/,
results/sweep.csv, the report's generated results.tex, the benchmark's tables in docs/speed.md), and the HEAD
column of its `dvc metrics diff` transcript is the committed metrics. So a README cannot drift from the run."""

from __future__ import annotations

import json
import math
import re
import shutil
import sys
from collections.abc import Iterator
from pathlib import Path

import pandas as pd
from conftest import ROOT

sys.path.insert(0, str(ROOT / "scripts"))
import results_table  # noqa: E402

from study import sweep  # noqa: E402

# A decimal number in prose: "152.71", "-2,643.9", "0.974"; not part of a word, a version or a path.
DECIMAL = re.compile(r"(?<![\w.\-/])-?\d{1,3}(?:,\d{3})*\.\d+(?![\w.])|(?<![\w.\-/])-?\d+\.\d+(?![\w.])")


def prose(readme: str) -> str:
    """The README without its code blocks, tables, inline code and link targets: what a reader reads as claims."""
    text = re.sub(r"```.*?```", "", readme, flags=re.S)
    text = "\n".join(line for line in text.splitlines() if not line.lstrip().startswith("|"))
    text = re.sub(r"`[^`]*`", "", text)
    return re.sub(r"\]\([^)]*\)", "]", text)


def numbers(value: object) -> Iterator[float]:
    """Every number inside a JSON value."""
    if isinstance(value, bool):
        return
    if isinstance(value, (int, float)):
        yield float(value)
    elif isinstance(value, dict):
        for item in value.values():
            yield from numbers(item)
    elif isinstance(value, list):
        for item in value:
            yield from numbers(item)


def spellings(value: float) -> set[str]:
    """The ways a value is written in prose: 0 to 4 decimals, with or without thousands separators, and its
    magnitude (a difference is written without its sign)."""
    found = set()
    if not math.isfinite(value):
        return found
    for v in (value, abs(value)):
        for decimals in range(5):
            found |= {f"{v:.{decimals}f}", f"{v:,.{decimals}f}"}
    return found


def committed_values(root: Path) -> set[str]:
    """Every spelling of every number the committed run wrote, and of the sweep's means and spreads."""
    values: set[str] = set()
    for path in (root / "metrics").glob("*.json"):
        for number in numbers(json.loads(path.read_text())):
            values |= spellings(number)
    runs = sweep.read(root / "results/sweep.csv")
    numeric = [c for c in runs.runs.columns if pd.api.types.is_numeric_dtype(runs.runs[c])]
    for column in numeric:
        for s in runs.spread(column).values():
            values |= spellings(s.mean) | spellings(s.std)
        for number in runs.runs[column]:
            values |= spellings(float(number))
    for text in ((root / "report/results.tex").read_text(), (root / "docs/speed.md").read_text()):
        values |= set(DECIMAL.findall(text.replace("$", " ")))
    return values


# The README's only numbers from outside the committed run, each said there to be so.
NOT_THIS_RUN = {
    "86.76": "Burda, Grosse and Salakhutdinov (2016), Table 1",
    "87.18": "the binarized-MNIST experiment, run with `dvc exp run --temp` at an earlier commit (docs/study.md)",
    "3.11": "the Python version set-up needs",
}


def unsupported(readme: str, values: set[str]) -> list[str]:
    """The README's prose numbers that the committed run does not give."""
    return [n for n in DECIMAL.findall(prose(readme))
            if n not in values and n.lstrip("-") not in values and n not in NOT_THIS_RUN]


def readme_tables(readme: str) -> list[str]:
    """The README's markdown tables, each as its lines."""
    tables, current = [], []
    for line in readme.splitlines():
        if line.startswith("|"):
            current.append(line)
        elif current:
            tables.append("\n".join(current))
            current = []
    return tables


def test_the_readmes_result_tables_are_the_scripts_output() -> None:
    readme = (ROOT / "README.md").read_text()
    generated = {name: results_table.markdown(make()) for name, make in results_table.tables().items()}
    shown = [table for table in readme_tables(readme) if table in generated.values()]
    # The headline tables are there, each exactly as the script prints it from the committed files.
    assert generated["headline"] in shown
    assert generated["sweep: test loss of the Bernoulli recipes"] in shown
    assert generated["sweep: what every recipe shares"] in shown


def test_every_number_in_the_readmes_prose_is_the_committed_runs() -> None:
    assert unsupported((ROOT / "README.md").read_text(), committed_values(ROOT)) == []


def test_the_metrics_diff_transcript_starts_from_the_committed_metrics() -> None:
    readme = (ROOT / "README.md").read_text()
    transcript = re.search(r"\$ dvc metrics diff\n(.*?)```", readme, flags=re.S)
    assert transcript, "the README shows a `dvc metrics diff`"
    rows = [line.split() for line in transcript.group(1).splitlines()[1:] if line.strip()]
    assert rows
    for path, metric, head, *_ in rows:
        committed = json.loads((ROOT / path).read_text())[metric]
        if metric not in ("stage_seconds", "train_seconds"):  # a transcript's own run times are its own
            assert float(head) == committed, (path, metric)


def test_a_changed_metric_under_the_readme_fails_the_check(tmp_path: Path) -> None:
    """The check can fail: with the d = 64 test loss the README cites moved by a hundredth, it is unsupported."""
    copy = tmp_path / "repo"
    for folder in ("metrics", "results", "report", "docs"):
        shutil.copytree(ROOT / folder, copy / folder)
    readme = (ROOT / "README.md").read_text()
    metrics = json.loads((copy / "metrics/train-d64.json").read_text())
    cited = f"{metrics['test_loss']:.2f}"
    assert cited in prose(readme)
    metrics["test_loss"] = round(metrics["test_loss"] + 0.013, 4)
    (copy / "metrics/train-d64.json").write_text(json.dumps(metrics))
    (copy / "report/results.tex").write_text((copy / "report/results.tex").read_text().replace(cited, "moved"))
    (copy / "docs/speed.md").write_text((copy / "docs/speed.md").read_text().replace(cited, "moved"))
    assert cited in unsupported(readme, committed_values(copy))


def test_every_cell_records_what_it_draws_in_under_50_kb() -> None:
    runs = sweep.read(ROOT / "results/sweep.csv")
    draws = sorted((ROOT / "results/sweep").glob("*-draws.npz"))
    assert len(draws) == len(runs.cells)
    assert {p.name: p.stat().st_size for p in draws if p.stat().st_size >= 50_000} == {}
