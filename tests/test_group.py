"""Seeds trained side by side (vae/group.py): a model's results are what they would be alone, bit for bit."""

from __future__ import annotations

import pytest
import torch

from vae.group import fit_group, workers_for
from vae.model import ModelConfig
from vae.train import TrainConfig, TrainResult

MODEL = ModelConfig(3, (32,), "elu")


def images(n: int, seed: int) -> torch.Tensor:
    return torch.rand(n, 784, generator=torch.Generator().manual_seed(seed))


def configs(*seeds: int, pixels: str = "grey", compile_: bool = False) -> list[TrainConfig]:
    return [TrainConfig(3, 32, 1e-3, seed=s, lr_schedule="cosine", precision="bf16", pixels=pixels, compile=compile_)
            for s in seeds]


def assert_same(a: TrainResult, b: TrainResult) -> None:
    assert [r.val_loss for r in a.history] == [r.val_loss for r in b.history]
    assert [r.train_loss for r in a.history] == [r.train_loss for r in b.history]
    for x, y in zip(a.model.state_dict().values(), b.model.state_dict().values()):
        assert torch.equal(x, y)


@pytest.mark.parametrize("pixels", ["grey", "dequantized"])
def test_a_model_trained_in_a_group_is_the_model_trained_alone(pixels: str) -> None:
    """Three seeds on two workers, so that epochs of different models follow each other in one worker and a
    model's epochs move between workers: any state shared between the models (a generator, Adam's moments, the
    step's buffers) or left over from the model before would change a result."""
    x, x_val = images(256, 0), images(64, 1)
    group = fit_group(MODEL, configs(1, 2, 3, pixels=pixels), x, x_val, workers=2)
    alone = [fit_group(MODEL, [config], x, x_val, workers=1)[0] for config in configs(1, 2, 3, pixels=pixels)]
    for together, apart in zip(group, alone):
        assert_same(together, apart)
    assert group[0].history[-1].val_loss != group[1].history[-1].val_loss  # the seeds do differ


def test_compiled_in_a_group_is_compiled_alone() -> None:
    x, x_val = images(256, 0), images(64, 1)
    group = fit_group(MODEL, configs(4, 5, compile_=True), x, x_val, workers=2)
    alone = fit_group(MODEL, configs(5, compile_=True), x, x_val, workers=1)
    assert_same(group[1], alone[0])


def test_a_group_is_one_recipe() -> None:
    mixed = [configs(1)[0], TrainConfig(3, 64, 1e-3, seed=2)]
    with pytest.raises(ValueError, match="differ only by seed"):
        fit_group(MODEL, mixed, images(64, 0), images(16, 1), workers=2)


def test_no_more_workers_than_models_or_cores() -> None:
    assert workers_for(1) == 1
    assert 1 <= workers_for(100) <= 100
