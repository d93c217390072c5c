"""Precision chosen from the hardware's capability flags, never from a timing."""

from __future__ import annotations

from pathlib import Path

import pytest
import torch

from vae import hardware

# Abridged /proc/cpuinfo of the two CPU kinds this project is measured on.
ZEN4 = """processor	: 0
vendor_id	: AuthenticAMD
model name	: AMD EPYC 9R14 96-Core Processor
flags		: fpu sse2 avx2 avx512f avx512bw avx512_vnni avx512_bf16 clzero
"""
ICE_LAKE = """processor	: 0
vendor_id	: GenuineIntel
model name	: Intel(R) Xeon(R) Platinum 8375C CPU @ 2.90GHz
flags		: fpu sse2 avx2 avx512f avx512bw avx512_vnni avx512_vbmi2
"""
SAPPHIRE_RAPIDS = ICE_LAKE.replace("avx512_vbmi2", "avx512_vbmi2 amx_bf16 amx_tile amx_int8")


@pytest.mark.parametrize(
    ("cpuinfo", "flags", "precision"),
    [(ZEN4, ("avx512_bf16",), "bf16"), (ICE_LAKE, (), "fp32"), (SAPPHIRE_RAPIDS, ("amx_bf16",), "bf16"),
     ("", (), "fp32")],
)
def test_auto_is_bf16_only_where_the_cpu_computes_it_natively(tmp_path: Path, cpuinfo: str,
                                                              flags: tuple[str, ...], precision: str) -> None:
    (tmp_path / "cpuinfo").write_text(cpuinfo)
    machine = hardware.describe(torch.device("cpu"), tmp_path / "cpuinfo")
    assert machine.bf16_flags == flags
    assert hardware.resolve_precision("auto", machine) == precision
    # An explicit setting is kept whatever the machine.
    assert hardware.resolve_precision("fp32", machine) == "fp32"
    assert hardware.resolve_precision("bf16", machine) == "bf16"


def test_cpu_model_name_is_read(tmp_path: Path) -> None:
    (tmp_path / "cpuinfo").write_text(ICE_LAKE)
    assert hardware.describe(torch.device("cpu"), tmp_path / "cpuinfo").name.startswith("Intel(R) Xeon(R) Platinum")

