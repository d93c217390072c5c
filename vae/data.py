"""The prepared MNIST arrays every stage reads: their format, written by prepare-data (vae/mnist.py)."""

from __future__ import annotations

import zipfile
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import TypeVar

import numpy as np
from numpy.lib.npyio import NpzFile

from vae.errors import PipelineError
from vae.io import atomic_path, require

IMAGE_SIDE = 28
N_PIXELS = IMAGE_SIDE * IMAGE_SIDE
SPLITS = ("train", "val", "test")
T = TypeVar("T")
# How pixels are treated: "none" keeps grey levels (the study as specified); "dynamic" trains on a fresh
# Bernoulli(grey level) sample of each batch and evaluates on one fixed sample of the validation and test
# images, the binarized MNIST of the likelihood literature.
BINARIZATIONS = ("none", "dynamic")


class DataError(PipelineError):
    """A raw MNIST file or the prepared arrays are missing, corrupt or malformed."""


@dataclass(frozen=True)
class Split:
    images: np.ndarray  # (n, 28, 28) uint8
    labels: np.ndarray  # (n,) uint8


def save_prepared(splits: dict[str, Split], binarize: str, out_file: Path) -> None:
    """Write the splits and the pixel treatment as one ``.npz`` of uint8 arrays, the file every stage reads."""
    arrays = {f"{name}_{field}": getattr(split, field) for name, split in splits.items()
              for field in ("images", "labels")}
    with atomic_path(out_file) as tmp, tmp.open("wb") as f:
        np.savez(f, **arrays, binarize=np.array(binarize))


def load_prepared(path: Path) -> dict[str, Split]:
    """Load the arrays written by :func:`save_prepared`."""
    return read_prepared(path, lambda arrays: {k: Split(arrays[f"{k}_images"], arrays[f"{k}_labels"])
                                               for k in SPLITS})


def load_binarization(path: Path) -> str:
    """How prepare-data treated the pixels: one of :data:`BINARIZATIONS`."""
    return read_prepared(path, lambda arrays: str(arrays["binarize"]))


def read_prepared(path: Path, read: Callable[[NpzFile], T]) -> T:
    require(path)  # a missing file says how to make it; only a file that exists can be incomplete
    try:
        with np.load(path) as arrays:
            return read(arrays)
    except (OSError, ValueError, KeyError, EOFError, zipfile.BadZipFile) as exc:
        raise DataError(f"{path} is not a complete prepared-data file ({type(exc).__name__}: {exc}); "
                        "rerun the prepare-data stage (dvc repro --force prepare-data)") from None
