"""params.yaml validation: every stage checks what it reads before any work, in one line that names it."""

from __future__ import annotations

import copy
import sys
from pathlib import Path
from typing import Any

import pytest
import yaml
from conftest import ROOT, run

from stages import (baseline, check_params, embed, figures, likelihood, params, prepare_data, report, sweep,
                    sweep_summary, train)
from stages.params import ParamError

GOOD = yaml.safe_load((ROOT / "params.yaml").read_text())
# Every stage's schema, as each stage builds it from its command line in dvc.yaml.
SCHEMAS = {
    "prepare-data": prepare_data.SCHEMA,
    "train-d1": train.schema(1),
    "train-d2": train.schema(2),
    "train-d64": train.schema(64),
    "baseline": baseline.schema([1, 2]),
    "embed": embed.SCHEMA,
    "likelihood": likelihood.SCHEMA,
    "figures": figures.SCHEMA,
    "report": report.SCHEMA,
    "sweep-summary": sweep_summary.SCHEMA,
    "sweep@64-elu-cb": sweep.schema("elu-cb"),  # one cell stands for all: they differ in recipe only
}


def declared_params(stage: str) -> set[str]:
    """The ``params:`` of a stage in dvc.yaml, a sweep cell's with its recipe filled in."""
    stages = yaml.safe_load((ROOT / "dvc.yaml").read_text())["stages"]
    if stage.startswith("sweep@"):
        recipe = stage.split("-", 1)[1]
        return {entry.replace("${item.recipe}", recipe) for entry in stages["sweep"]["params"]}
    return set(stages[stage]["params"])


def with_change(block: str, key: str, value: Any) -> dict[str, Any]:
    changed = copy.deepcopy(GOOD)
    changed[block][key] = value
    return changed


@pytest.mark.parametrize("stage", sorted(SCHEMAS))
def test_repo_params_are_valid_for_every_stage(stage: str) -> None:
    assert params.validate(GOOD, SCHEMAS[stage])


def test_each_stage_validates_the_params_dvc_yaml_says_it_reads() -> None:
    """A stage's schema names the same entries as its ``params:`` in dvc.yaml (the report reads every
    block for its appendix but validates its own; embed and figures read the train blocks only to compare
    them with the models' settings)."""
    compared = {"train-d1", "train-d2", "train-d64"}  # read raw, to compare with each model's settings
    unchecked = {"report": set(GOOD) - {"report"}, "embed": compared, "figures": compared,
                 "likelihood": {"train-d1", "train-d2"}}
    for stage, schema in SCHEMAS.items():
        declared = declared_params(stage)
        assert unchecked.get(stage, set()) <= declared, stage
        assert set(schema) == declared - unchecked.get(stage, set()), stage
    assert declared_params("report") == set(GOOD)  # its appendix lists every block, each sweep recipe's included
    # check-params reads every block, with every stage's rules.
    recipe_blocks = sweep_summary.recipe_blocks(GOOD["sweep"])
    assert declared_params("check-params") == set(GOOD) == set(check_params.schema([1, 2, 64], recipe_blocks))


@pytest.mark.parametrize(
    ("schema", "block", "key", "value", "message"),
    [
        ("train-d64", "train-d64", "epochs", 0, r"train-d64.epochs = 0: expected an integer >= 1"),
        ("train-d2", "train-d2", "lr", 0, r"train-d2.lr = 0: expected a finite number > 0"),
        ("train-d1", "train-d1", "lr", "fast", r"train-d1.lr = 'fast': expected a finite number > 0"),
        ("train-d1", "train-d1", "batch_size", 0, r"train-d1.batch_size = 0: expected an integer >= 1"),
        ("train-d1", "train-d1", "epochs", 2.5, r"train-d1.epochs = 2.5: expected an integer >= 1"),
        ("train-d1", "train-d1", "epochs", True, r"train-d1.epochs = True: expected an integer >= 1"),
        ("train-d1", "train-d1", "hidden", [], r"train-d1.hidden = \[\]: expected a non-empty list of integers >= 1"),
        ("train-d1", "train-d1", "activation", "tanh", r"train-d1.activation = 'tanh': expected one of 'relu', 'elu'"),
        ("prepare-data", "data", "val_size", 0, r"data.val_size = 0: expected an integer in \[1, 59999\]"),
        ("prepare-data", "data", "val_size", 60000, r"data.val_size = 60000: expected an integer in \[1, 59999\]"),
        ("train-d1", "train", "device", "tpu", r"train.device = 'tpu': expected one of 'auto', 'cpu', 'cuda'"),
        ("baseline", "train", "device", "tpu", r"train.device = 'tpu': expected one of 'auto', 'cpu', 'cuda'"),
        ("train-d1", "train", "compile", "yes", r"train.compile = 'yes': expected true or false"),
        ("train-d1", "train", "precision", "fp16",
         r"train.precision = 'fp16': expected one of 'auto', 'fp32', 'bf16'"),
        ("train-d1", "train", "iw_samples", 0, r"train.iw_samples = 0: expected an integer >= 1"),
        ("train-d64", "train-d64", "lr_schedule", "step",
         r"train-d64.lr_schedule = 'step': expected one of 'constant', 'cosine'"),
        ("train-d64", "train-d64", "kl_warmup_epochs", -1,
         r"train-d64.kl_warmup_epochs = -1: expected an integer >= 0"),
        ("baseline", "baseline", "hidden", [0], r"baseline.hidden = \[0\]: expected a non-empty list of integers >= 1"),
        ("baseline", "train-d2", "epochs", 0, r"train-d2.epochs = 0: expected an integer >= 1"),
        ("embed", "embed", "tsne_method", "umap",
         r"embed.tsne_method = 'umap': expected one of 'opentsne', 'opentsne-fft', 'sklearn'"),
        ("figures", "figures", "seed", -1, r"figures.seed = -1: expected an integer in \[0, 4294967295\]"),
        ("train-d1", "train-d1", "seed", 2**32,
         r"train-d1.seed = 4294967296: expected an integer in \[0, 4294967295\]"),
        ("sweep-summary", "sweep", "dims", [1, 0],
         r"sweep.dims = \[1, 0\]: expected a non-empty list of distinct integers >= 1"),
        ("sweep-summary", "sweep", "dims", [2, 2], r"sweep.dims = \[2, 2\]: expected a non-empty list of distinct"),
        ("sweep-summary", "sweep", "dims", [], r"sweep.dims = \[\]: expected a non-empty list"),
        ("sweep-summary", "sweep", "dims", [1.5], r"sweep.dims = \[1.5\]: expected a non-empty list"),
        ("sweep-summary", "sweep", "recipes", ["ReLU"],
         r"sweep.recipes = \['ReLU'\]: expected a non-empty list of distinct recipe names \(lower case, digits"),
        ("sweep-summary", "sweep", "recipes", ["elu-"], r"sweep.recipes = \['elu-'\]: expected a non-empty list"),
        ("sweep@64-elu-cb", "sweep-elu-cb", "decoder", "gaussian",
         r"sweep-elu-cb.decoder = 'gaussian': expected one of 'bernoulli', 'continuous-bernoulli'"),
        ("sweep@64-elu-cb", "sweep-elu-cb", "epochs", 30,
         r"unknown key sweep-elu-cb.epochs; allowed keys: hidden, activation, decoder, batch_size"),
        ("sweep@64-elu-cb", "sweep", "cb_clips", [0.5], r"sweep.cb_clips = \[0.5\]: expected a non-empty list of "
                                                        r"distinct numbers in \[0, 0.5\)"),
        ("sweep@64-elu-cb", "likelihood", "d2_grid_points", 1,
         r"likelihood.d2_grid_points = 1: expected an integer >= 2"),
        ("sweep-summary", "sweep", "seeds", [-1],
         r"sweep.seeds = \[-1\]: expected a non-empty list of distinct integers in"),
        ("sweep@64-elu-cb", "sweep", "epochs", 0, r"sweep.epochs = 0: expected an integer >= 1"),
        ("report", "report", "reference_latent_dim", 0, r"report.reference_latent_dim = 0: expected an integer >= 1"),
        ("train-d64", "train-d64", "lr", float("inf"), r"train-d64.lr = inf: expected a finite number > 0"),
        ("train-d64", "train-d64", "lr", float("nan"), r"train-d64.lr = nan: expected a finite number > 0"),
        ("train-d64", "train-d64", "learning_rate", 0.1,
         r"unknown key train-d64.learning_rate; allowed keys: hidden, activation, decoder, batch_size"),
    ],
)
def test_bad_value_is_named(schema: str, block: str, key: str, value: Any, message: str) -> None:
    with pytest.raises(ParamError, match=message):
        params.validate(with_change(block, key, value), SCHEMAS[schema])


def test_a_stage_ignores_the_blocks_it_does_not_read() -> None:
    """Another stage's bad value is that stage's error, not this one's: validation follows the params
    each stage declares, so that editing one stage's rules never reruns another."""
    bad = with_change("embed", "tsne_method", "umap")
    assert params.validate(bad, SCHEMAS["train-d64"])["train-d64"] == GOOD["train-d64"]


def test_exponent_floats_are_numbers(tmp_path: Path) -> None:
    text = (ROOT / "params.yaml").read_text().replace("lr: 0.001", "lr: 1e-3")
    (tmp_path / "params.yaml").write_text(text)
    assert params.load(tmp_path / "params.yaml", train.schema(64))["train-d64"]["lr"] == 0.001


def test_missing_key_is_named() -> None:
    changed = copy.deepcopy(GOOD)
    del changed["embed"]["knn_k"]
    with pytest.raises(ParamError, match=r"missing key embed.knn_k; expected an integer >= 1"):
        params.validate(changed, embed.SCHEMA)


@pytest.mark.parametrize(("value", "state"), [(None, "missing"), ([1, 2], r"not a mapping \(list\)")])
def test_missing_or_malformed_block_is_named(value: Any, state: str) -> None:
    changed = copy.deepcopy(GOOD)
    changed["figures"] = value
    with pytest.raises(ParamError, match=rf"block 'figures' is {state}; it needs keys seed"):
        params.validate(changed, figures.SCHEMA)


def test_train_and_validation_must_fit_in_mnist() -> None:
    with pytest.raises(ParamError, match=r"train_size \+ data.val_size = 60001"):
        prepare_data.check(with_change("data", "train_size", 55001)["data"], "params.yaml")


@pytest.mark.parametrize(
    ("key", "value", "message"),
    [("knn_k", 11, r"embed.knn_k = 11: expected at most the 10 prepared training images \(data.train_size\)"),
     ("knn_k", 6, r"embed.knn_k = 6: expected less than the 6 prepared test images \(data.test_size\)"),
     ("tsne_perplexity", 6, r"embed.tsne_perplexity = 6: expected less than the 6 prepared test images"),
     ("decoded_images", 7, r"embed.decoded_images = 7: expected at most the 6 prepared test images")],
)
def test_embed_neighbours_must_fit_the_prepared_data(key: str, value: int, message: str) -> None:
    fitting = {**GOOD["embed"], "knn_k": 5, "tsne_perplexity": 5, "decoded_images": 6}
    embed.check_sizes(fitting, 10, 6, "params.yaml")
    with pytest.raises(ParamError, match=message):
        embed.check_sizes({**fitting, key: value}, 10, 6, "params.yaml")


def test_stage_fails_in_one_line_without_traceback(tmp_path: Path) -> None:
    bad = tmp_path / "params.yaml"
    bad.write_text(yaml.safe_dump(with_change("train-d64", "lr", -1)))
    done = run([sys.executable, "-m", "stages.train", "--latent-dim", "64", "--params", str(bad),
                "--data", "unused.npz", "--model", "m.pt", "--metrics", "m.json", "--loss-csv", "l.csv"],
               ROOT, check=False)
    assert done.returncode == 1
    assert done.stderr.strip().splitlines() == [
        f"train-d64: error: {bad}: train-d64.lr = -1: expected a finite number > 0"]


def test_bad_latent_dim_argument(tmp_path: Path) -> None:
    done = run([sys.executable, "-m", "stages.train", "--latent-dim", "0", "--data", "x", "--model", "m",
                "--metrics", "m", "--loss-csv", "l"], ROOT, check=False)
    assert done.returncode == 2
    assert "--latent-dim must be an integer >= 1, got 0" in done.stderr
