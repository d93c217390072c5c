"""Evaluation: the importance-weighted likelihood and active units."""

from __future__ import annotations

import pytest
import torch

from vae import evaluate
from vae.evaluate import active_units, elbo_terms, importance_weighted_nll
from vae.model import VAE, ModelConfig


@pytest.fixture(scope="module")
def model_and_images() -> tuple[VAE, torch.Tensor]:
    torch.manual_seed(0)
    return VAE(ModelConfig(4, (32,))).eval(), torch.rand(400, 784, generator=torch.Generator().manual_seed(1))


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
