"""Stage check-params: every block checked with every stage's rules, and the values that do not fit together,
before anything else runs; its output changes with the keys, not with their values."""

from __future__ import annotations

import copy
from typing import Any

import pytest
import torch
import yaml
from conftest import ROOT

from stages import check_params
from stages.params import ParamError
from vae.errors import PipelineError

GOOD = yaml.safe_load((ROOT / "params.yaml").read_text())
DIMS = [1, 2, 64]


def changed(**blocks: dict[str, Any]) -> dict[str, Any]:
    """The repo's params with some keys of some blocks replaced (a value of None deletes the key)."""
    params = copy.deepcopy(GOOD)
    for name, values in blocks.items():
        for key, value in values.items():
            if value is None:
                del params[name.replace("_", "-")][key]
            else:
                params[name.replace("_", "-")][key] = value
    return params


def test_the_repo_params_pass_and_the_output_lists_keys_not_values() -> None:
    keys = check_params.check(GOOD, DIMS, "params.yaml")
    assert "train-d64.lr" in keys and "sweep.dims" in keys and len(keys) == len(set(keys))
    # A valid edit of a value leaves the output as it was: nothing downstream of check-params reruns.
    assert check_params.check(changed(train_d64={"lr": 0.002}), DIMS, "params.yaml") == keys


# One bad value in every block, and the values that each fit alone but not together.
@pytest.mark.parametrize(
    ("params", "message"),
    [
        (changed(data={"val_size": 0}), r"data.val_size = 0: expected an integer in \[1, 59999\]"),
        (changed(data={"test_size": 9}), r"data.test_size = 9: expected an integer in \[10, 10000\]"),
        (changed(data={"train_size": 55001}), r"data.train_size \+ data.val_size = 60001"),
        (changed(train={"precision": "fp16"}), r"train.precision = 'fp16': expected one of 'auto', 'fp32', 'bf16'"),
        (changed(train_d1={"epochs": 0}), r"train-d1.epochs = 0: expected an integer >= 1"),
        (changed(train_d2={"hidden": []}), r"train-d2.hidden = \[\]: expected a non-empty list of integers >= 1"),
        (changed(train_d64={"learning_rate": 0.01}), r"unknown key train-d64.learning_rate; allowed keys: hidden"),
        (changed(baseline={"lr": -1}), r"baseline.lr = -1: expected a finite number > 0"),
        (changed(embed={"knn_k": 0}), r"embed.knn_k = 0: expected an integer >= 1"),
        (changed(embed={"tsne_perplexity": -3}), r"embed.tsne_perplexity = -3: expected a finite number > 0"),
        (changed(embed={"tsne_method": "umap"}), r"embed.tsne_method = 'umap': expected one of 'opentsne'"),
        (changed(data={"test_size": 100}, embed={"decoded_images": 101}),
         r"embed.decoded_images = 101: expected at most the 100 prepared test images"),
        (changed(likelihood={"ladder_samples": [10, 10]}), r"likelihood.ladder_samples = \[10, 10\]: expected a "
                                                           r"non-empty list of distinct integers >= 1"),
        (changed(figures={"seed": None}), r"missing key figures.seed; expected an integer in \[0, 4294967295\]"),
        (changed(report={"reference_latent_dim": 8}),
         r"report.reference_latent_dim = 8: expected one of the trained dims \[1, 2, 64\]"),
        (changed(sweep={"dims": [1, 0]}), r"sweep.dims = \[1, 0\]: expected a non-empty list of distinct integers"),
        (changed(sweep={"dims": [4, 4]}), r"sweep.dims = \[4, 4\]: expected a non-empty list of distinct integers"),
        (changed(sweep={"dims": []}), r"sweep.dims = \[\]: expected a non-empty list"),
        (changed(sweep={"recipes": ["relu", "gelu"]}),
         r"block 'sweep-gelu' is missing; it needs keys hidden, activation, decoder"),
        (changed(sweep_relu={"lr": 0}), r"sweep-relu.lr = 0: expected a finite number > 0"),
        (changed(sweep_elu_cb={"decoder": "gaussian"}), r"sweep-elu-cb.decoder = 'gaussian': expected one of"),
        (changed(data={"binarize": "dynamic"}, train_d2={"decoder": "continuous-bernoulli"}),
         r"train-d2.decoder = 'continuous-bernoulli' with data.binarize = 'dynamic'"),
        (changed(sweep={"cb_clips": [1e-4, 1e-4]}), r"sweep.cb_clips = \[0.0001, 0.0001\]: expected a non-empty list"),
        (changed(data={"test_size": 100}, embed={"decoded_images": 100}),
         r"sweep.decoded_images = 1000: expected at most the 100 prepared test images"),
        (changed(sweep={"seeds": [1, True]}), r"sweep.seeds = \[1, True\]: expected a non-empty list of distinct"),
        (changed(data={"train_size": 4}), r"embed.knn_k = 5: expected at most the 4 prepared training images"),
        (changed(data={"train_size": 4}, embed={"knn_k": 1}),
         r"sweep.knn_k = 5: expected at most the 4 prepared training images"),
    ],
    ids=lambda value: "" if isinstance(value, dict) else value[:40],
)
def test_a_bad_value_anywhere_is_one_error_naming_it(params: dict[str, Any], message: str) -> None:
    with pytest.raises(ParamError, match=message):
        check_params.check(params, DIMS, "params.yaml")


def test_an_unknown_or_missing_block_is_named() -> None:
    with pytest.raises(ParamError, match=r"unknown block 'trian-d64'; allowed blocks: data, train, train-d1"):
        check_params.check({**GOOD, "trian-d64": GOOD["train-d64"]}, DIMS, "params.yaml")
    with pytest.raises(ParamError, match=r"unknown block 'swep-gelu'; allowed blocks: .* \(a recipe of the sweep"):
        check_params.check({**GOOD, "swep-gelu": GOOD["sweep-elu"]}, DIMS, "params.yaml")
    without_embed = {name: block for name, block in GOOD.items() if name != "embed"}
    with pytest.raises(ParamError, match=r"block 'embed' is missing; it needs keys knn_k, tsne_perplexity"):
        check_params.check(without_embed, DIMS, "params.yaml")


def test_a_device_this_machine_lacks_is_refused_before_anything_runs() -> None:
    if torch.cuda.is_available():
        pytest.skip("this machine has a GPU")
    with pytest.raises(PipelineError, match="train.device is 'cuda' but torch sees no CUDA device"):
        check_params.check(changed(train={"device": "cuda"}), DIMS, "params.yaml")


def test_a_recipe_left_out_of_the_sweep_keeps_its_block_and_it_is_still_checked() -> None:
    unlisted = {**GOOD, "sweep": {**GOOD["sweep"], "recipes": ["relu"]}}
    assert "sweep-elu-cb.decoder" in check_params.check(unlisted, DIMS, "params.yaml")
    with pytest.raises(ParamError, match=r"sweep-elu.lr = 0: expected a finite number > 0"):
        check_params.check({**unlisted, "sweep-elu": {**GOOD["sweep-elu"], "lr": 0}}, DIMS, "params.yaml")


def test_binarized_pixels_with_a_continuous_bernoulli_recipe_warn_here_and_stop_its_cells(
        caplog: pytest.LogCaptureFixture) -> None:
    """An experiment on binarized MNIST trains no cell, so check-params lets it through, saying which cells will
    refuse; a main model with the continuous Bernoulli is refused here."""
    binarized = {**GOOD, "data": {**GOOD["data"], "binarize": "dynamic"}}
    check_params.check(binarized, DIMS, "params.yaml")
    assert "sweep-elu-cb.decoder = 'continuous-bernoulli' with data.binarize = 'dynamic': expected data.binarize " \
           "'none' (the continuous Bernoulli models grey levels) or decoder 'bernoulli'; its cells will refuse to run" \
           in caplog.text
