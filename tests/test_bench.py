"""The benchmark's plumbing (no timing assertions: times depend on the machine and its load)."""

from __future__ import annotations

import json
import time
from pathlib import Path

import numpy as np
import pytest
import yaml

from bench import loops, pipeline, reference
from bench.__main__ import BEGIN, END, machine_kind, splice
from conftest import ROOT
from vae import mnist


def test_reference_dataset_is_the_vendored_training_set(tmp_path: Path) -> None:
    dataset = reference.torchvision_mnist(ROOT / "data/mnist", tmp_path)
    ours = mnist.load_split(ROOT / "data/mnist", "train", mnist.read_checksums(ROOT / "data/mnist/SHA256SUMS"))
    assert len(dataset) == 60_000
    assert np.array_equal(dataset.data.numpy(), ours.images)


def test_loops_take_turns_after_one_warm_up_epoch_each() -> None:
    calls: list[str] = []
    seconds = loops.interleaved_seconds({name: lambda name=name: calls.append(name) for name in "abc"}, epochs=2)
    assert calls == list("abc" * 3)
    assert list(seconds) == list("abc")


def test_table_replaces_its_own_machine_kind_only(tmp_path: Path) -> None:
    readme = tmp_path / "README.md"
    amd, intel = (BEGIN.format(kind="amd-epyc"), END.format(kind="amd-epyc")), \
        (BEGIN.format(kind="intel-xeon"), END.format(kind="intel-xeon"))
    readme.write_text(f"intro\n{amd[0]}\nold amd\n{amd[1]}\n\n{intel[0]}\nintel\n{intel[1]}\noutro\n")
    splice(readme, "new amd", "amd-epyc")
    assert readme.read_text() == f"intro\n{amd[0]}\nnew amd\n{amd[1]}\n\n{intel[0]}\nintel\n{intel[1]}\noutro\n"


def test_a_new_machine_kind_gets_its_table_after_the_others(tmp_path: Path) -> None:
    readme = tmp_path / "README.md"
    amd = (BEGIN.format(kind="amd-epyc"), END.format(kind="amd-epyc"))
    readme.write_text(f"intro\n{amd[0]}\namd\n{amd[1]}\noutro\n")
    splice(readme, "arm", "neoverse-v2")
    arm = (BEGIN.format(kind="neoverse-v2"), END.format(kind="neoverse-v2"))
    assert readme.read_text() == f"intro\n{amd[0]}\namd\n{amd[1]}\n\n{arm[0]}\narm\n{arm[1]}\noutro\n"


def test_machine_kind_is_a_marker_safe_key() -> None:
    assert machine_kind("Intel(R) Xeon(R) CPU @ 2.80GHz") == "intel-xeon-cpu-2-80ghz"
    assert machine_kind("AMD EPYC") == "amd-epyc"


def test_readme_without_markers_is_refused(tmp_path: Path) -> None:
    readme = tmp_path / "README.md"
    readme.write_text("no markers\n")
    with pytest.raises(SystemExit, match="has no .* markers"):
        splice(readme, "table", "amd-epyc")


def test_every_stage_is_rerun_and_measured(pipeline_copy: Path) -> None:
    started = time.time()
    runs = pipeline.time_stages(pipeline_copy)
    stages = yaml.safe_load((pipeline_copy / "dvc.yaml").read_text())["stages"]
    assert {r.stage for r in runs} == set(stages)
    for run in runs:
        # It really ran: its metrics file is new, and the time measured around `dvc repro` covers the time
        # the stage measured inside itself.
        for entry in stages[run.stage].get("metrics", []):
            metrics = pipeline_copy / next(iter(entry))
            assert metrics.stat().st_mtime > started, run.stage
            assert run.seconds >= json.loads(metrics.read_text())["stage_seconds"], run.stage
        # Each stage's own process imports numpy at least: tens of MB; training imports torch too.
        assert run.peak_rss_mb > 50, run.stage
    trains = [r.peak_rss_mb for r in runs if r.stage.startswith("train-")]
    assert min(trains) > next(r.peak_rss_mb for r in runs if r.stage == "prepare-data")
