"""The training loop on its own: seeded, and the same code on a GPU when one is present."""

from __future__ import annotations

import pytest
import torch

from vae.evaluate import elbo_terms
from vae.model import VAE, ModelConfig
from vae.train import (TrainConfig, TrainingDiverged, adam_with_schedule, batch_loss_terms, fit, lr_scheduler,
                       train_epoch)


def images(n: int, device: str = "cpu") -> torch.Tensor:
    return torch.rand(n, 784, generator=torch.Generator().manual_seed(n)).to(device)


def test_same_seed_same_weights() -> None:
    runs = [fit(ModelConfig(2, (32,)), images(256), images(64), TrainConfig(2, 32, 1e-3, seed=5)) for _ in range(2)]
    for a, b in zip(runs[0].model.state_dict().values(), runs[1].model.state_dict().values()):
        assert torch.equal(a, b)
    assert [r.val_loss for r in runs[0].history] == [r.val_loss for r in runs[1].history]


def test_huge_learning_rate_raises_divergence() -> None:
    with pytest.raises(TrainingDiverged, match=r"at epoch \d+: training diverged"):
        fit(ModelConfig(2, (32,)), images(256), images(64), TrainConfig(5, 32, 1e6, seed=0))


@pytest.mark.skipif(not torch.cuda.is_available(), reason="needs a CUDA device")
def test_trains_deterministically_on_cuda() -> None:
    runs = [fit(ModelConfig(64, (64,)), images(512, "cuda"), images(128, "cuda"), TrainConfig(2, 64, 1e-3, seed=0))
            for _ in range(2)]
    assert [r.val_loss for r in runs[0].history] == [r.val_loss for r in runs[1].history]
    assert next(runs[0].model.parameters()).device.type == "cuda"


def test_kl_weight_rises_linearly_over_the_warm_up_then_stays_at_one() -> None:
    config = TrainConfig(10, 32, 1e-3, seed=0, kl_warmup_epochs=3)
    assert [config.kl_weight(e) for e in range(1, 6)] == [0.25, 0.5, 0.75, 1.0, 1.0]
    assert TrainConfig(10, 32, 1e-3, seed=0).kl_weight(1) == 1.0


def test_cosine_schedule_decays_the_rate_to_zero_over_the_run() -> None:
    optimizer = torch.optim.SGD([torch.zeros(1, requires_grad=True)], lr=0.1)
    scheduler = lr_scheduler(optimizer, TrainConfig(2, 32, 0.1, seed=0, lr_schedule="cosine"), steps_per_epoch=5)
    rates = []
    for _ in range(10):
        rates.append(optimizer.param_groups[0]["lr"])
        optimizer.step()
        scheduler.step()
    assert rates[0] == pytest.approx(0.1) and rates[5] == pytest.approx(0.05)
    assert rates == sorted(rates, reverse=True) and optimizer.param_groups[0]["lr"] == pytest.approx(0.0)


def test_unknown_schedule_or_precision_is_refused() -> None:
    with pytest.raises(ValueError, match="lr_schedule must be one of"):
        TrainConfig(1, 32, 1e-3, seed=0, lr_schedule="step")
    with pytest.raises(ValueError, match=r"precision must be one of \('fp32', 'bf16'\), got 'fp16'"):
        TrainConfig(1, 32, 1e-3, seed=0, precision="fp16")


def test_warm_up_lets_the_code_carry_more_information_early() -> None:
    """With the KL term down-weighted, the first epoch ends with a larger (unweighted) KL than without."""
    plain, warm = (fit(ModelConfig(2, (32,)), images(256), images(64), TrainConfig(3, 32, 1e-2, seed=0, kl_warmup_epochs=w))
                   for w in (0, 2))
    assert warm.history[0].val_kl > plain.history[0].val_kl


def test_cosine_schedule_changes_what_is_learned() -> None:
    constant, cosine = (fit(ModelConfig(2, (32,)), images(256), images(64), TrainConfig(3, 32, 1e-2, seed=0,
                                                                                        lr_schedule=schedule))
                        for schedule in ("constant", "cosine"))
    assert [r.val_loss for r in constant.history] != [r.val_loss for r in cosine.history]


def test_the_weights_kept_are_those_of_the_best_validation_epoch() -> None:
    """Train on bright images and validate on dark ones: the more the model learns, the worse it fits the
    validation set, so the best epoch is an early one and the last weights are not the ones kept."""
    bright, dark = 0.5 + 0.5 * images(256), 0.1 * images(64)
    result = fit(ModelConfig(2, (32,)), bright, dark, TrainConfig(4, 32, 1e-2, seed=0))
    losses = [r.val_loss for r in result.history]
    assert result.best_epoch == losses.index(min(losses)) + 1 < len(losses)
    assert elbo_terms(result.model, dark, seed=0).loss == pytest.approx(min(losses), abs=1e-4)


@pytest.mark.parametrize("precision", ["fp32", "bf16"])
def test_compiled_loss_is_deterministic_and_trains_like_the_eager_one(precision: str) -> None:
    eager, compiled, again = (
        fit(ModelConfig(2, (32,), "elu"), images(256), images(64),
            TrainConfig(2, 32, 1e-3, seed=3, compile=c, precision=precision))
        for c in (False, True, True))
    assert [r.val_loss for r in compiled.history] == [r.val_loss for r in again.history]
    # Fused kernels round differently, and the compiled graph draws its own noise: close, not equal.
    assert compiled.history[-1].val_loss == pytest.approx(eager.history[-1].val_loss, rel=0.05)


def test_bf16_training_is_deterministic_keeps_fp32_weights_and_trains_like_fp32() -> None:
    fp32, bf16, again = (
        fit(ModelConfig(2, (32,)), images(256), images(64), TrainConfig(3, 32, 1e-3, seed=4, precision=p))
        for p in ("fp32", "bf16", "bf16"))
    assert [r.val_loss for r in bf16.history] == [r.val_loss for r in again.history]
    assert all(t.dtype == torch.float32 for t in bf16.model.state_dict().values())
    # Matmuls round to 8 bits of mantissa: the same training, not the same numbers.
    assert bf16.history[-1].val_loss != fp32.history[-1].val_loss
    assert bf16.history[-1].val_loss == pytest.approx(fp32.history[-1].val_loss, rel=0.02)


def test_dynamic_binarization_trains_on_a_fresh_binary_sample_of_each_batch() -> None:
    seen: list[torch.Tensor] = []

    def spy(model, batch):
        seen.append(batch.clone())
        return batch_loss_terms(model, batch)

    x = images(64)
    model = VAE(ModelConfig(2, (32,)))
    config = TrainConfig(2, 64, 1e-3, seed=0)
    optimizer, scheduler = adam_with_schedule(model, config, len(x))
    generator = torch.Generator().manual_seed(0)
    for _ in range(2):
        train_epoch(model, optimizer, scheduler, x, 64, 1.0, generator, spy, binarize=True)
    first, second = seen
    assert set(first.unique().tolist()) == {0.0, 1.0}
    assert not torch.equal(first, second)  # each epoch a new sample
    # Each pixel is on with probability its grey level.
    assert first.mean().item() == pytest.approx(x.mean().item(), abs=0.02)
    plain = fit(ModelConfig(2, (32,)), images(256), images(64), TrainConfig(2, 32, 1e-3, seed=0))
    binary, again = (fit(ModelConfig(2, (32,)), images(256), images(64), TrainConfig(2, 32, 1e-3, seed=0,
                                                                                     binarize=True)) for _ in range(2))
    assert [r.val_loss for r in binary.history] == [r.val_loss for r in again.history]
    assert [r.val_loss for r in binary.history] != [r.val_loss for r in plain.history]
