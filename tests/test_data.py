"""Raw MNIST: checksums, IDX parsing, the seeded split."""

from __future__ import annotations

import gzip
import shutil
from pathlib import Path

import numpy as np
import pytest

from vae import data, mnist
from vae.data import DataError

RAW = Path(__file__).resolve().parents[1] / "data/mnist"


def idx_bytes(array: np.ndarray) -> bytes:
    magic = 0x0800 | array.ndim
    header = magic.to_bytes(4, "big") + b"".join(n.to_bytes(4, "big") for n in array.shape)
    return header + array.astype(np.uint8).tobytes()


@pytest.fixture
def raw_copy(tmp_path: Path) -> Path:
    dest = tmp_path / "mnist"
    shutil.copytree(RAW, dest)
    return dest


def test_parse_idx_round_trip() -> None:
    images = np.arange(2 * 28 * 28, dtype=np.uint32).reshape(2, 28, 28) % 256
    parsed = mnist.parse_idx(idx_bytes(images), mnist.IMAGES_MAGIC, "x")
    np.testing.assert_array_equal(parsed, images)


def test_parse_idx_rejects_wrong_magic() -> None:
    labels = idx_bytes(np.zeros(5, dtype=np.uint8))
    with pytest.raises(DataError, match=r"magic number is 0x00000801, expected 0x00000803"):
        mnist.parse_idx(labels, mnist.IMAGES_MAGIC, "x")


def test_parse_idx_rejects_size_that_disagrees_with_header() -> None:
    raw = idx_bytes(np.zeros((3, 28, 28), dtype=np.uint8))
    with pytest.raises(DataError, match=r"declares shape \(3, 28, 28\)"):
        mnist.parse_idx(raw[:-1], mnist.IMAGES_MAGIC, "x")


def test_vendored_files_verify_and_match_known_figures() -> None:
    sums = mnist.read_checksums(RAW / "SHA256SUMS")
    train = mnist.load_split(RAW, "train", sums)
    test = mnist.load_split(RAW, "test", sums)
    assert train.images.shape == (60000, 28, 28) and test.images.shape == (10000, 28, 28)
    assert train.labels[:10].tolist() == [5, 0, 4, 1, 9, 2, 1, 3, 1, 4]
    assert train.images.mean() / 255 == pytest.approx(0.1307, abs=1e-4)


def test_one_changed_byte_fails_the_checksum(raw_copy: Path) -> None:
    path = raw_copy / "t10k-labels-idx1-ubyte.gz"
    raw = bytearray(gzip.decompress(path.read_bytes()))
    raw[100] ^= 1
    path.write_bytes(gzip.compress(bytes(raw)))
    expected = mnist.read_checksums(raw_copy / "SHA256SUMS")["t10k-labels-idx1-ubyte"]
    with pytest.raises(DataError, match=rf"t10k-labels-idx1-ubyte.gz: SHA-256 .* expected {expected}"):
        mnist.prepare(raw_copy, raw_copy / "out.npz", val_size=10, seed=0, train_size=100, test_size=100)
    assert not (raw_copy / "out.npz").exists()


def test_truncated_file_is_named(raw_copy: Path) -> None:
    path = raw_copy / "train-labels-idx1-ubyte.gz"
    path.write_bytes(path.read_bytes()[:1000])
    with pytest.raises(DataError, match=r"train-labels-idx1-ubyte.gz: not a complete gzip file"):
        mnist.prepare(raw_copy, raw_copy / "out.npz", val_size=10, seed=0, train_size=100, test_size=100)


def test_missing_file_is_named_with_its_checksum(raw_copy: Path) -> None:
    (raw_copy / "t10k-images-idx3-ubyte.gz").unlink()
    expected = r"t10k-images-idx3-ubyte.gz: file is missing \(expected SHA-256 0fa7898d[0-9a-f]+ of its"
    with pytest.raises(DataError, match=expected):
        mnist.prepare(raw_copy, raw_copy / "out.npz", val_size=10, seed=0, train_size=100, test_size=100)


def test_split_is_seeded_disjoint_and_complete() -> None:
    labels = np.arange(1000, dtype=np.int64)
    full = data.Split(np.zeros((1000, 28, 28), dtype=np.uint8), labels)
    train_a, val_a = mnist.split_train_val(full, 100, seed=3)
    train_b, val_b = mnist.split_train_val(full, 100, seed=3)
    _, val_c = mnist.split_train_val(full, 100, seed=4)
    np.testing.assert_array_equal(val_a.labels, val_b.labels)
    assert not np.array_equal(val_a.labels, val_c.labels)
    assert len(val_a.labels) == 100
    assert sorted([*train_a.labels, *val_a.labels]) == labels.tolist()


def test_dynamic_binarization_fixes_the_evaluation_images_and_leaves_training_grey(tmp_path: Path) -> None:
    sizes = {"val_size": 500, "seed": 0, "train_size": 500, "test_size": 500}
    grey = mnist.prepare(RAW, tmp_path / "grey.npz", **sizes)
    binary = mnist.prepare(RAW, tmp_path / "binary.npz", **sizes, binarize="dynamic")
    again = mnist.prepare(RAW, tmp_path / "again.npz", **sizes, binarize="dynamic")
    assert data.load_binarization(tmp_path / "grey.npz") == "none"
    assert data.load_binarization(tmp_path / "binary.npz") == "dynamic"
    np.testing.assert_array_equal(binary["train"].images, grey["train"].images)
    for split in ("val", "test"):
        assert set(np.unique(binary[split].images)) == {0, 255}
        np.testing.assert_array_equal(binary[split].images, again[split].images)
        np.testing.assert_array_equal(binary[split].labels, grey[split].labels)
        # A sample of the grey levels: pixels that were 0 or 255 stay so, and the mean brightness is kept.
        assert (binary[split].images[grey[split].images == 0] == 0).all()
        assert (binary[split].images[grey[split].images == 255] == 255).all()
        assert binary[split].images.mean() == pytest.approx(grey[split].images.mean(), rel=0.02)


def test_unknown_binarization_is_refused(tmp_path: Path) -> None:
    with pytest.raises(DataError, match=r"binarize must be one of \('none', 'dynamic'\), got 'static'"):
        mnist.prepare(RAW, tmp_path / "out.npz", val_size=10, seed=0, train_size=10, test_size=10, binarize="static")
