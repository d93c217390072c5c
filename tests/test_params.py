"""params.yaml validation: every bad value fails before any work, in one line that names it."""

from __future__ import annotations

import copy
import sys
from pathlib import Path
from typing import Any

import pytest
import yaml
from conftest import ROOT, run

from stages import params
from stages.params import ParamError

GOOD = yaml.safe_load((ROOT / "params.yaml").read_text())


def with_change(block: str, key: str, value: Any) -> dict[str, Any]:
    changed = copy.deepcopy(GOOD)
    changed[block][key] = value
    return changed


def test_repo_params_are_valid() -> None:
    assert params.validate(GOOD)["train-d64"]["epochs"] >= 1


@pytest.mark.parametrize(
    ("block", "key", "value", "message"),
    [
        ("train-d64", "epochs", 0, r"train-d64.epochs = 0: expected an integer >= 1"),
        ("train-d2", "lr", 0, r"train-d2.lr = 0: expected a finite number > 0"),
        ("train-d1", "lr", "fast", r"train-d1.lr = 'fast': expected a finite number > 0"),
        ("train-d1", "batch_size", 0, r"train-d1.batch_size = 0: expected an integer >= 1"),
        ("train-d1", "epochs", 2.5, r"train-d1.epochs = 2.5: expected an integer >= 1"),
        ("train-d1", "hidden", [], r"train-d1.hidden = \[\]: expected a non-empty list of integers >= 1"),
        ("data", "val_size", 0, r"data.val_size = 0: expected an integer in \[1, 59999\]"),
        ("data", "val_size", 60000, r"data.val_size = 60000: expected an integer in \[1, 59999\]"),
        ("train", "device", "tpu", r"train.device = 'tpu': expected one of 'auto', 'cpu', 'cuda'"),
        ("train", "compile", "yes", r"train.compile = 'yes': expected true or false"),
        ("train", "precision", "fp16", r"train.precision = 'fp16': expected one of 'fp32', 'bf16'"),
        ("train", "iw_samples", 0, r"train.iw_samples = 0: expected an integer >= 1"),
        ("train-d64", "lr_schedule", "step", r"train-d64.lr_schedule = 'step': expected one of 'constant', 'cosine'"),
        ("train-d64", "kl_warmup_epochs", -1, r"train-d64.kl_warmup_epochs = -1: expected an integer >= 0"),
        ("baseline", "hidden", [0], r"baseline.hidden = \[0\]: expected a non-empty list of integers >= 1"),
        ("embed", "tsne_method", "umap", r"embed.tsne_method = 'umap': expected one of 'opentsne', 'sklearn'"),
        ("train-d64", "learning_rate", 0.1, r"unknown key train-d64.learning_rate; allowed keys: hidden, activation, epochs"),
    ],
)
def test_bad_value_is_named(block: str, key: str, value: Any, message: str) -> None:
    with pytest.raises(ParamError, match=message):
        params.validate(with_change(block, key, value))


def test_exponent_floats_are_numbers(tmp_path: Path) -> None:
    text = (ROOT / "params.yaml").read_text().replace("lr: 0.001", "lr: 1e-3")
    (tmp_path / "params.yaml").write_text(text)
    assert params.load(tmp_path / "params.yaml")["train-d64"]["lr"] == 0.001


@pytest.mark.parametrize(
    ("block", "key", "value", "message"),
    [
        ("embed", "tsne_perplexity", 10000, r"embed.tsne_perplexity = 10000: expected less than data.test_size"),
        ("embed", "knn_k", 55001, r"embed.knn_k = 55001: expected at most data.train_size"),
        ("train-d64", "lr", float("inf"), r"train-d64.lr = inf: expected a finite number > 0"),
    ],
)
def test_values_that_do_not_fit_other_keys_are_named(block: str, key: str, value: Any, message: str) -> None:
    with pytest.raises(ParamError, match=message):
        params.validate(with_change(block, key, value))


def test_missing_key_is_named() -> None:
    changed = copy.deepcopy(GOOD)
    del changed["embed"]["knn_k"]
    with pytest.raises(ParamError, match=r"missing key embed.knn_k; expected an integer >= 1"):
        params.validate(changed)


def test_unknown_block_is_named() -> None:
    with pytest.raises(ParamError, match=r"unknown block 'trian'"):
        params.validate({**GOOD, "trian": {}})


def test_train_and_validation_must_fit_in_mnist() -> None:
    with pytest.raises(ParamError, match=r"train_size \+ data.val_size = 60001"):
        params.validate(with_change("data", "train_size", 55001))


def test_stage_fails_in_one_line_without_traceback(tmp_path: Path) -> None:
    bad = tmp_path / "params.yaml"
    bad.write_text(yaml.safe_dump(with_change("train-d64", "lr", -1)))
    done = run([sys.executable, "-m", "stages.train", "--latent-dim", "64", "--params", str(bad),
                "--data", "unused.npz", "--model", "m.pt", "--metrics", "m.json", "--plots", "p"],
               ROOT, check=False)
    assert done.returncode == 1
    assert done.stderr.strip().splitlines() == [
        f"train-d64: error: {bad}: train-d64.lr = -1: expected a finite number > 0"]


def test_bad_latent_dim_argument(tmp_path: Path) -> None:
    done = run([sys.executable, "-m", "stages.train", "--latent-dim", "0", "--data", "x", "--model", "m",
                "--metrics", "m", "--plots", "p"], ROOT, check=False)
    assert done.returncode == 2
    assert "--latent-dim must be an integer >= 1, got 0" in done.stderr
