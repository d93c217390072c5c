"""The benchmark's plumbing (no timing assertions: times depend on the machine and its load)."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from bench import loops, pipeline, reference
from bench.__main__ import BEGIN, END, splice
from conftest import ROOT
from vae import data


def test_reference_dataset_is_the_vendored_training_set(tmp_path: Path) -> None:
    dataset = reference.torchvision_mnist(ROOT / "data/mnist", tmp_path)
    ours = data.load_split(ROOT / "data/mnist", "train", data.read_checksums(ROOT / "data/mnist/SHA256SUMS"))
    assert len(dataset) == 60_000
    assert np.array_equal(dataset.data.numpy(), ours.images)


def test_loops_take_turns_after_one_warm_up_epoch_each() -> None:
    calls: list[str] = []
    seconds = loops.interleaved_seconds({name: lambda name=name: calls.append(name) for name in "abc"}, epochs=2)
    assert calls == list("abc" * 3)
    assert list(seconds) == list("abc")


def test_table_goes_between_the_markers(tmp_path: Path) -> None:
    readme = tmp_path / "README.md"
    readme.write_text(f"intro\n{BEGIN}\nold table\n{END}\noutro\n")
    splice(readme, "new table")
    assert readme.read_text() == f"intro\n{BEGIN}\nnew table\n{END}\noutro\n"


def test_readme_without_markers_is_refused(tmp_path: Path) -> None:
    readme = tmp_path / "README.md"
    readme.write_text("no markers\n")
    with pytest.raises(SystemExit, match="has no .* markers"):
        splice(readme, "table")


def test_every_stage_is_rerun_and_measured(pipeline_copy: Path) -> None:
    runs = pipeline.time_stages(pipeline_copy)
    assert [r.stage for r in runs] == pipeline.stage_names(pipeline_copy)
    # Every stage ran a Python process that imported numpy at least: tens of MB.
    assert all(r.seconds > 0 and r.peak_rss_mb > 20 for r in runs)
    assert pipeline.noop_repro_seconds(pipeline_copy) > 0
