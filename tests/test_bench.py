"""The benchmark's plumbing (no timing assertions: times depend on the machine and its load)."""

from __future__ import annotations

import sys
from pathlib import Path

import numpy as np
import pytest

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


def test_peak_memory_is_the_commands_own_not_the_benchmarks(tmp_path: Path) -> None:
    """A child's peak RSS on Linux starts from its parent's at the fork: measured from this process, which has
    torch loaded, a bare Python would look hundreds of MB large."""
    import torch  # noqa: F401  (the benchmark's process has it loaded too)

    seconds, peak_mb = pipeline.run_measured([sys.executable, "-c", "pass"], tmp_path)
    assert 0 < seconds and 1 < peak_mb < 60
    touch_200_mb = "b = bytearray(200 * 2**20); b[::4096] = b'1' * len(b[::4096])"
    assert pipeline.run_measured([sys.executable, "-c", touch_200_mb], tmp_path)[1] > 200
