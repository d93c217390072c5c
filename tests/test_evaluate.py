"""Evaluation: the importance-weighted likelihood and active units."""

from __future__ import annotations

import math

import pytest
import torch

from vae import evaluate
from vae.evaluate import active_units, elbo_terms, importance_weighted_nll
from vae.loss import reconstruction_nll
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
        exact = float(reconstruction_nll(model.decode(torch.zeros(1, 2)).expand_as(x), x).mean())
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
