"""The training loop on its own: seeded, its Adam step torch's, and the same code on a GPU when one is present."""

from __future__ import annotations

import math

import pytest
import torch

from vae.evaluate import elbo_terms
from vae.model import VAE, ModelConfig
from vae.train import (TrainConfig, Trainer, TrainingDiverged, adam_constants, adam_update, batch_loss_terms, fit,
                       start)


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
    config = TrainConfig(2, 32, 0.1, seed=0, lr_schedule="cosine")
    rates = [config.lr_at(step, steps_per_epoch=5) for step in range(11)]
    assert rates[0] == pytest.approx(0.1) and rates[5] == pytest.approx(0.05) and rates[10] == pytest.approx(0.0)
    assert rates == sorted(rates, reverse=True)
    assert TrainConfig(2, 32, 0.1, seed=0).lr_at(7, steps_per_epoch=5) == 0.1


def test_unknown_schedule_precision_or_pixels_is_refused() -> None:
    with pytest.raises(ValueError, match="lr_schedule must be one of"):
        TrainConfig(1, 32, 1e-3, seed=0, lr_schedule="step")
    with pytest.raises(ValueError, match=r"precision must be one of \('fp32', 'bf16'\), got 'fp16'"):
        TrainConfig(1, 32, 1e-3, seed=0, precision="fp16")
    with pytest.raises(ValueError, match=r"pixels must be one of \('grey', 'binarized', 'dequantized'\), got 'x'"):
        TrainConfig(1, 32, 1e-3, seed=0, pixels="x")


def test_the_adam_update_is_torchs_adam() -> None:
    """Five steps of the folded update on flat buffers against torch.optim.Adam on the same gradients: equal to
    float32 rounding (the bias corrections sit elsewhere in the arithmetic). Gradients may come in bfloat16, as the
    bf16 step makes them; the compute copy follows the weights."""
    torch.manual_seed(0)
    reference = [torch.randn(7, 5, requires_grad=True), torch.randn(5, requires_grad=True)]
    optimizer = torch.optim.Adam(reference, lr=0.01)
    weights = torch.cat([r.detach().reshape(-1) for r in reference])
    exp_avg, exp_avg_sq = torch.zeros_like(weights), torch.zeros_like(weights)
    compute = weights.to(torch.bfloat16)
    for step in range(1, 6):
        grads = [torch.randn_like(r).to(torch.bfloat16) for r in reference]
        for r, g in zip(reference, grads):
            r.grad = g.float()
        optimizer.step()
        step_size, eps = adam_constants(0.01, step)
        adam_update(weights, grads, exp_avg, exp_avg_sq, compute, torch.tensor(step_size), torch.tensor(eps))
    assert torch.allclose(weights, torch.cat([r.detach().reshape(-1) for r in reference]), rtol=0, atol=1e-6)
    assert torch.equal(compute, weights.to(torch.bfloat16))


def test_adam_constants_fold_the_bias_corrections() -> None:
    step_size, eps = adam_constants(1e-3, 1)
    # After the first step m / sqrt(v) = sign(g): the step is lr, whatever the gradient's size.
    assert step_size == pytest.approx(1e-3 * math.sqrt(1 - 0.999) / (1 - 0.9))
    assert eps == pytest.approx(1e-8 * math.sqrt(1 - 0.999))


def test_bf16_steps_on_a_bfloat16_copy_that_follows_the_fp32_weights() -> None:
    config = TrainConfig(1, 32, 1e-2, seed=0, precision="bf16")
    trainer = Trainer(ModelConfig(2, (32,)), config, torch.device("cpu"))
    run = trainer.epoch(start(ModelConfig(2, (32,)), config), images(128), images(32))
    assert all(p.dtype == torch.float32 for p in trainer.model.parameters())
    assert all(p.dtype == torch.bfloat16 for p in trainer.step_model.parameters())
    for fp32, bf16 in zip(trainer.model.parameters(), trainer.step_model.parameters()):
        assert torch.equal(fp32.detach().to(torch.bfloat16), bf16.detach())
    assert torch.equal(run.weights, trainer.weights) and run.weights.data_ptr() != trainer.weights.data_ptr()


def test_warm_up_lets_the_code_carry_more_information_early() -> None:
    """With the KL term down-weighted, the first epoch ends with a larger (unweighted) KL than without."""
    plain, warm = (fit(ModelConfig(2, (32,)), images(256), images(64),
                       TrainConfig(3, 32, 1e-2, seed=0, kl_warmup_epochs=w)) for w in (0, 2))
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
def test_compiled_step_is_deterministic_and_trains_like_the_eager_one(precision: str) -> None:
    eager, compiled, again = (
        fit(ModelConfig(2, (32,), "elu"), images(256), images(64),
            TrainConfig(2, 32, 1e-3, seed=3, compile=c, precision=precision))
        for c in (False, True, True))
    assert [r.val_loss for r in compiled.history] == [r.val_loss for r in again.history]
    # Fused kernels round differently: close, not equal.
    assert compiled.history[-1].val_loss == pytest.approx(eager.history[-1].val_loss, rel=1e-3)


def test_bf16_training_is_deterministic_keeps_fp32_weights_and_trains_like_fp32() -> None:
    fp32, bf16, again = (
        fit(ModelConfig(2, (32,)), images(256), images(64), TrainConfig(3, 32, 1e-3, seed=4, precision=p))
        for p in ("fp32", "bf16", "bf16"))
    assert [r.val_loss for r in bf16.history] == [r.val_loss for r in again.history]
    assert all(t.dtype == torch.float32 for t in bf16.model.state_dict().values())
    # Matmuls round to 8 bits of mantissa: the same training, not the same numbers.
    assert bf16.history[-1].val_loss != fp32.history[-1].val_loss
    assert bf16.history[-1].val_loss == pytest.approx(fp32.history[-1].val_loss, rel=0.02)


@pytest.mark.parametrize(("pixels", "values"), [("binarized", {0.0, 1.0}), ("dequantized", None)])
def test_each_batch_is_presented_afresh_as_the_recipe_asks(pixels: str, values: set[float] | None) -> None:
    seen: list[torch.Tensor] = []

    def spy(model: VAE, batch: torch.Tensor, eps: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        seen.append(batch.clone())
        return batch_loss_terms(model, batch, eps)

    grey = (torch.randint(0, 256, (64, 784), generator=torch.Generator().manual_seed(0)) / 255.0)
    config = TrainConfig(2, 64, 1e-3, seed=0, pixels=pixels)
    trainer = Trainer(ModelConfig(2, (32,)), config, torch.device("cpu"), loss_terms=spy)
    trainer.epoch(trainer.epoch(start(ModelConfig(2, (32,)), config), grey, grey[:8]), grey, grey[:8])
    first, second = seen
    assert not torch.equal(first, second)  # each epoch a new sample
    if values is not None:
        assert set(first.unique().tolist()) == values
        assert first.mean().item() == pytest.approx(grey.mean().item(), abs=0.02)  # on with probability its grey
    else:
        # (k + u) / 256 stays inside pixel k's bin of width 1/256 (the batch is the images in another order).
        bins = (first * 256).floor().flatten().sort().values
        assert torch.equal(bins, (grey * 255).round().flatten().sort().values)
        assert not torch.equal(first * 256, (first * 256).floor())


def test_a_run_trained_an_epoch_at_a_time_anywhere_is_the_run_trained_at_once() -> None:
    """Two Trainers (as in two worker processes) taking turns on one model's epochs give what one Trainer gives."""
    config = TrainConfig(3, 32, 1e-3, seed=9, lr_schedule="cosine")
    model_config = ModelConfig(3, (32,))
    x, x_val = images(200), images(50)
    here, there = Trainer(model_config, config, torch.device("cpu")), Trainer(model_config, config, torch.device("cpu"))
    alternating = start(model_config, config)
    for trainer in (here, there, here):
        alternating = trainer.epoch(alternating, x, x_val)
    together = fit(model_config, x, x_val, config)
    assert [r.val_loss for r in alternating.history] == [r.val_loss for r in together.history]
    assert torch.equal(alternating.best_weights, torch.nn.utils.parameters_to_vector(together.model.parameters()))
