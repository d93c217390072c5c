"""The raw MNIST files, read by the prepare-data stage alone: checksum verification, IDX parsing, the
train/validation split and the fixed binarization of the evaluation images."""

from __future__ import annotations

import gzip
import hashlib
import re
import zlib
from pathlib import Path

import numpy as np

from vae.data import BINARIZATIONS, IMAGE_SIDE, DataError, Split, save_prepared

# IDX magic numbers: two zero bytes, type code 0x08 (unsigned byte), number of dimensions.
IMAGES_MAGIC = 0x00000803
LABELS_MAGIC = 0x00000801
FILES = {
    "train_images": "train-images-idx3-ubyte",
    "train_labels": "train-labels-idx1-ubyte",
    "test_images": "t10k-images-idx3-ubyte",
    "test_labels": "t10k-labels-idx1-ubyte",
}


def read_checksums(sums_file: Path) -> dict[str, str]:
    """Parse a ``sha256sum``-style file into {file name: hex digest}."""
    sums: dict[str, str] = {}
    for number, line in enumerate(sums_file.read_text().splitlines(), start=1):
        if not line.strip():
            continue
        fields = line.split()
        if len(fields) != 2 or not re.fullmatch(r"[0-9a-f]{64}", fields[0]):
            raise DataError(f"{sums_file}:{number}: expected '<64 hex digits>  <file name>', got {line.strip()!r}")
        sums[fields[1].lstrip("*")] = fields[0]
    return sums


def read_verified(gz_path: Path, expected_sha256: str) -> bytes:
    """Return the uncompressed bytes of ``gz_path`` after checking their SHA-256."""
    if not gz_path.is_file():
        raise DataError(f"{gz_path}: file is missing (expected SHA-256 {expected_sha256} of its uncompressed bytes)")
    try:
        raw = gzip.decompress(gz_path.read_bytes())
    except (EOFError, OSError, zlib.error) as exc:
        raise DataError(
            f"{gz_path}: not a complete gzip file ({exc}); expected SHA-256 {expected_sha256} of its uncompressed bytes"
        ) from None
    actual = hashlib.sha256(raw).hexdigest()
    if actual != expected_sha256:
        raise DataError(f"{gz_path}: SHA-256 of the uncompressed bytes is {actual}, expected {expected_sha256}")
    return raw


def parse_idx(raw: bytes, magic: int, name: str) -> np.ndarray:
    """Parse IDX bytes of unsigned bytes, checking the magic number and that the size matches the header."""
    if len(raw) < 4:
        raise DataError(f"{name}: {len(raw)} bytes is too short for an IDX header")
    found = int.from_bytes(raw[:4], "big")
    if found != magic:
        raise DataError(f"{name}: IDX magic number is {found:#010x}, expected {magic:#010x}")
    ndim = magic & 0xFF
    header = 4 + 4 * ndim
    if len(raw) < header:
        raise DataError(f"{name}: {len(raw)} bytes is too short for an IDX header of {ndim} dimensions")
    shape = tuple(int.from_bytes(raw[4 + 4 * i : 8 + 4 * i], "big") for i in range(ndim))
    expected = header + int(np.prod(shape))
    if len(raw) != expected:
        raise DataError(f"{name}: header declares shape {shape} ({expected} bytes) but the file has {len(raw)} bytes")
    return np.frombuffer(raw, dtype=np.uint8, offset=header).reshape(shape)


def load_split(raw_dir: Path, prefix: str, sums: dict[str, str]) -> Split:
    """Verify and parse one of the two original sets ("train" or "test")."""
    images_name, labels_name = FILES[f"{prefix}_images"], FILES[f"{prefix}_labels"]
    images = parse_idx(read_verified(raw_dir / f"{images_name}.gz", sums[images_name]), IMAGES_MAGIC, images_name)
    labels = parse_idx(read_verified(raw_dir / f"{labels_name}.gz", sums[labels_name]), LABELS_MAGIC, labels_name)
    if images.shape[1:] != (IMAGE_SIDE, IMAGE_SIDE):
        raise DataError(f"{images_name}: images are {images.shape[1:]}, expected ({IMAGE_SIDE}, {IMAGE_SIDE})")
    if len(images) != len(labels):
        raise DataError(f"{images_name} has {len(images)} images but {labels_name} has {len(labels)} labels")
    if labels.max(initial=0) > 9:
        raise DataError(f"{labels_name}: label {labels.max()} is not a digit")
    return Split(images, labels)


def split_train_val(train: Split, val_size: int, seed: int) -> tuple[Split, Split]:
    """Split the 60,000 original training images into train and validation with a seeded permutation."""
    if not 1 <= val_size < len(train.labels):
        raise DataError(f"val_size must be in [1, {len(train.labels) - 1}], got {val_size}")
    order = np.random.default_rng(seed).permutation(len(train.labels))
    val_idx, train_idx = np.sort(order[:val_size]), np.sort(order[val_size:])
    return (
        Split(train.images[train_idx], train.labels[train_idx]),
        Split(train.images[val_idx], train.labels[val_idx]),
    )


def binarized(split: Split, rng: np.random.Generator) -> Split:
    """One Bernoulli(grey level) sample of every pixel, as 0 or 255."""
    on = rng.random(split.images.shape) < split.images / 255.0
    return Split(np.where(on, 255, 0).astype(np.uint8), split.labels)


def prepare(raw_dir: Path, out_file: Path, *, val_size: int, seed: int, train_size: int, test_size: int,
            binarize: str = "none") -> dict[str, Split]:
    """Verify, parse and split raw MNIST into one ``.npz`` of uint8 arrays; return the splits.

    ``train_size`` and ``test_size`` keep the first images of the train split and of the
    test set, so that small runs (tests, quick experiments) use a fixed, stated subset.
    With ``binarize="dynamic"`` the validation and test images are a fixed binarization, the training
    images stay grey for training to binarize afresh, and the file records the mode for the stages.
    """
    if binarize not in BINARIZATIONS:
        raise DataError(f"binarize must be one of {BINARIZATIONS}, got {binarize!r}")
    sums = read_checksums(raw_dir / "SHA256SUMS")
    missing = [name for name in FILES.values() if name not in sums]
    if missing:
        raise DataError(f"{raw_dir / 'SHA256SUMS'} has no checksum for {', '.join(missing)}")
    train, val = split_train_val(load_split(raw_dir, "train", sums), val_size, seed)
    test = load_split(raw_dir, "test", sums)
    for name, size, split in (("train_size", train_size, train), ("test_size", test_size, test)):
        if not 1 <= size <= (available := len(split.labels)):
            raise DataError(f"{name} must be in [1, {available}], got {size}")
    splits = {
        "train": Split(train.images[:train_size], train.labels[:train_size]),
        "val": val,
        "test": Split(test.images[:test_size], test.labels[:test_size]),
    }
    if binarize == "dynamic":
        # Its own stream, apart from the split's permutation drawn from the same seed.
        rng = np.random.default_rng((seed, 1))
        splits |= {name: binarized(splits[name], rng) for name in ("val", "test")}
    save_prepared(splits, binarize, out_file)
    return splits
