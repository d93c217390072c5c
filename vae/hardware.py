"""What the machine can compute natively, read from its capability flags rather than from a timing, so
that a setting resolved here is the same on every run on one machine."""

from __future__ import annotations

import platform
import re
from dataclasses import dataclass
from pathlib import Path

import torch

# x86 CPU flags (Linux /proc/cpuinfo names) that give native bfloat16 matrix arithmetic. Without them a
# bf16 matmul is emulated and runs slower than fp32 (docs/speed.md).
BF16_CPU_FLAGS = ("avx512_bf16", "amx_bf16")
CPUINFO = Path("/proc/cpuinfo")


@dataclass(frozen=True)
class Hardware:
    """The processor a model trains on and whether it computes bfloat16 natively."""

    name: str  # CPU model name or GPU name
    bf16_flags: tuple[str, ...]  # the capability flags behind native_bf16 (on a GPU: its compute capability)
    native_bf16: bool


def cpu_info(cpuinfo: Path = CPUINFO) -> tuple[str, frozenset[str]]:
    """The CPU's model name and its feature flags; empty flags where /proc/cpuinfo does not exist."""
    text = cpuinfo.read_text() if cpuinfo.is_file() else ""
    name = re.search(r"^model name\s*:\s*(.+)$", text, re.M)
    flags = re.search(r"^flags\s*:\s*(.*)$", text, re.M)
    return (name.group(1).strip() if name else platform.processor() or platform.machine(),
            frozenset(flags.group(1).split()) if flags else frozenset())


def describe(device: torch.device, cpuinfo: Path = CPUINFO) -> Hardware:
    """The hardware behind ``device``."""
    if device.type == "cuda":
        major, minor = torch.cuda.get_device_capability(device)
        return Hardware(torch.cuda.get_device_name(device), (f"compute capability {major}.{minor}",),
                        torch.cuda.is_bf16_supported(including_emulation=False))
    name, flags = cpu_info(cpuinfo)
    present = tuple(f for f in BF16_CPU_FLAGS if f in flags)
    return Hardware(name, present, bool(present))


def resolve_precision(setting: str, hardware: Hardware) -> str:
    """``auto`` is bf16 where ``hardware`` computes it natively and fp32 elsewhere; ``fp32`` and ``bf16``
    are kept as they are."""
    if setting != "auto":
        return setting
    return "bf16" if hardware.native_bf16 else "fp32"
