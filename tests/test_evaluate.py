"""Evaluation: the importance-weighted likelihood and active units."""

from __future__ import annotations

import math

import pytest
import torch

from vae import evaluate
from vae.evaluate import (active_units, clip_logits, continuous_bernoulli_nll, elbo_terms, importance_weighted_nll,
                          reconstruction_mse)
from vae.decoders import cb_logits_for_mean, cb_nll, decoder_mean, reconstruction_nll
from vae.model import VAE, ModelConfig


@pytest.fixture(scope="module")
def model_and_images() -> tuple[VAE, torch.Tensor]:
    torch.manual_seed(0)
    return VAE(ModelConfig(4, (32,))).eval(), torch.rand(400, 784, generator=torch.Generator().manual_seed(1))


def decoder_ignoring_z(q_mean: float, q_std: float) -> VAE:
    """A model whose likelihood is known in closed form: the decoder's output does not depend on z, so
    p(x) = p(x | z) = prod_i Bernoulli(x_i; sigmoid(b_i)); the encoder returns q(z|x) = N(q_mean, q_std^2)
    for every image, away from the prior, so that only the importance weights p(z)/q(z|x) make the
    estimate exact."""
    torch.manual_seed(0)
    model = VAE(ModelConfig(2, (8,))).eval()
    with torch.no_grad():
        for layer in (model.encoder[-1], model.decoder[0]):
            layer.weight.zero_()
        model.encoder[-1].bias.copy_(torch.tensor([q_mean, q_mean, 2 * math.log(q_std), 2 * math.log(q_std)]))
    return model


def test_importance_weighting_recovers_a_known_likelihood() -> None:
    # q wider than the prior keeps the weights p(z)/q(z|x) bounded, so the estimate converges quickly.
    model = decoder_ignoring_z(q_mean=0.5, q_std=1.5)
    x = torch.rand(20, 784, generator=torch.Generator().manual_seed(2))
    with torch.no_grad():
        exact = float(reconstruction_nll(model.decode(torch.zeros(1, 2)).expand_as(x), x, "bernoulli").mean())
    estimate = importance_weighted_nll(model, x, samples=5000, seed=0)
    assert estimate == pytest.approx(exact, abs=0.02)
    # The ELBO is worse by the KL of q from the prior, which is what importance weighting removes.
    kl = 2 * (math.log(1 / 1.5) + (1.5**2 + 0.5**2) / 2 - 0.5)
    assert elbo_terms(model, x, seed=0).kl == pytest.approx(kl, rel=1e-5)
    assert elbo_terms(model, x, seed=0).loss == pytest.approx(exact + kl, abs=1e-3)


def test_one_sample_is_the_elbo(model_and_images: tuple[VAE, torch.Tensor]) -> None:
    model, x = model_and_images
    # Both are one-sample estimates of the same expectation, from different noise.
    assert importance_weighted_nll(model, x, samples=1, seed=0) == pytest.approx(elbo_terms(model, x, 0).loss, rel=0.01)


def test_more_samples_tighten_the_bound(model_and_images: tuple[VAE, torch.Tensor]) -> None:
    model, x = model_and_images
    k1, k10, k100 = (importance_weighted_nll(model, x, samples=k, seed=0) for k in (1, 10, 100))
    assert k100 < k10 < k1


def test_chunking_does_not_change_the_estimate(model_and_images: tuple[VAE, torch.Tensor],
                                               monkeypatch: pytest.MonkeyPatch) -> None:
    model, x = model_and_images
    one_chunk = importance_weighted_nll(model, x[:50], samples=200, seed=0)
    monkeypatch.setattr(evaluate, "EVAL_BATCH", 70)  # 700 decoded images: 3 images per chunk
    many_chunks = importance_weighted_nll(model, x[:50], samples=200, seed=0)
    # Different chunks draw different noise; the estimates agree up to that noise.
    assert many_chunks == pytest.approx(one_chunk, rel=0.01)


def test_active_units_count_dimensions_whose_mean_varies() -> None:
    means = torch.zeros(1000, 3)
    means[:, 0] = torch.linspace(-1, 1, 1000)  # variance about 0.33
    means[:, 1] = torch.linspace(-0.1, 0.1, 1000)  # variance about 0.0033
    assert active_units(means) == 1


def test_a_continuous_bernoulli_model_read_as_one_unclipped_scores_its_own_elbo() -> None:
    torch.manual_seed(0)
    model = VAE(ModelConfig(3, (32,), decoder="continuous-bernoulli")).eval()
    x = torch.rand(300, 784, generator=torch.Generator().manual_seed(3))
    read = continuous_bernoulli_nll(model, x, [1e-4, 0.0], seed=5)
    assert read[0.0] == pytest.approx(elbo_terms(model, x, seed=5).loss, rel=1e-5)
    assert read[1e-4] != read[0.0] or torch.all(model.decode(torch.zeros(1, 3)).abs() < 9.2)


def test_a_bernoulli_model_is_read_through_the_inverse_mean_map() -> None:
    """A Bernoulli decoder whose output ignores z has mean sigmoid(b) per pixel: read as a continuous Bernoulli it
    is the density with that mean, and its ELBO is that density's -log p(x) plus the KL, for any clip that does
    not bind; clipping moves it."""
    model = decoder_ignoring_z(q_mean=0.5, q_std=1.5)
    with torch.no_grad():  # means sigmoid(b) in [0.12, 0.88]: no clip at 1e-4 binds (it would below 0.109)
        model.decoder[-1].weight.zero_()
        model.decoder[-1].bias.uniform_(-2.0, 2.0, generator=torch.Generator().manual_seed(4))
    x = torch.rand(20, 784, generator=torch.Generator().manual_seed(2))
    read = continuous_bernoulli_nll(model, x, [1e-4, 0.3, 0.0], seed=0)
    with torch.no_grad():
        mean = torch.sigmoid(model.decode(torch.zeros(1, 2)).double())
        logits = cb_logits_for_mean(mean, clip=0.0).expand(len(x), -1)
        nll = float(cb_nll(logits, x.double()).mean())
    kl = elbo_terms(model, x, seed=0).kl
    assert read[0.0] == pytest.approx(nll + kl, rel=1e-6) and read[1e-4] == pytest.approx(read[0.0], rel=1e-7)
    assert read[0.3] != pytest.approx(read[0.0], rel=1e-3)


def test_clipping_bounds_lambda() -> None:
    logits = torch.tensor([-50.0, -1.0, 0.0, 3.0, 50.0])
    clipped = torch.sigmoid(clip_logits(logits, 0.01))
    assert clipped.min() == pytest.approx(0.01) and clipped.max() == pytest.approx(0.99)
    assert torch.equal(clip_logits(logits, 0.0), logits) and torch.equal(clip_logits(logits, 0.01)[1:4], logits[1:4])


@pytest.mark.parametrize("decoder", ["bernoulli", "continuous-bernoulli"])
def test_the_pixel_error_is_that_of_the_decoders_mean(decoder: str) -> None:
    torch.manual_seed(0)
    model = VAE(ModelConfig(2, (16,), decoder=decoder)).eval()
    x = torch.rand(50, 784, generator=torch.Generator().manual_seed(1))
    with torch.no_grad():
        mean = decoder_mean(model.decode(model.encode(x)[0]), decoder)
    assert reconstruction_mse(model, x, x) == pytest.approx(float((mean - x).pow(2).mean()), rel=1e-6)
