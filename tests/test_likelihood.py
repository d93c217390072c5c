"""The exact likelihood by quadrature: right where the answer is known in closed form, converged, and the
bound every estimate must respect."""

from __future__ import annotations

import math

import pytest
import torch
from conftest import ROOT
from torch.distributions import Normal

from vae import data, likelihood, mnist
from vae.evaluate import elbo_terms, importance_weighted_nll, split_tensors
from vae.likelihood import binary_entropy_floor, exact_nll, prior_grid
from vae.decoders import reconstruction_nll
from vae.model import VAE, ModelConfig
from vae.train import TrainConfig, fit


@pytest.fixture(scope="module")
def trained_d1() -> tuple[VAE, torch.Tensor]:
    """A small d=1 model trained briefly on real digits, and test digits it has not seen."""
    splits = mnist.load_split(ROOT / "data/mnist", "train", mnist.read_checksums(ROOT / "data/mnist/SHA256SUMS"))
    # Copies: the parsed IDX arrays are read-only views of the file's bytes, which torch warns about.
    first = data.Split(splits.images[:1200].copy(), splits.labels[:1200].copy())
    x = split_tensors({"all": first}, torch.device("cpu"))["all"]
    result = fit(ModelConfig(1, (64,)), x[:1000], x[1000:1100], TrainConfig(3, 32, 3e-3, seed=0))
    return result.model, x[1100:1200]


@pytest.mark.parametrize("latent_dim", [1, 2])
def test_the_grid_carries_the_prior_mass(latent_dim: int) -> None:
    z, log_mass = prior_grid(latent_dim, 200, 6.0)
    assert z.shape == (200**latent_dim, latent_dim)
    assert float(torch.logsumexp(log_mass, dim=0)) == pytest.approx(0.0, abs=1e-6)


@pytest.mark.parametrize("decoder", ["bernoulli", "continuous-bernoulli"])
@pytest.mark.parametrize("latent_dim", [1, 2])
def test_quadrature_is_exact_for_a_decoder_that_ignores_z(latent_dim: int, decoder: str) -> None:
    torch.manual_seed(0)
    model = VAE(ModelConfig(latent_dim, (16,), decoder=decoder)).eval()
    with torch.no_grad():
        model.decoder[0].weight.zero_()  # p(x|z) is the same for every z, so p(x) = p(x|z)
    x = torch.rand(10, 784, generator=torch.Generator().manual_seed(1))
    with torch.no_grad():
        known = reconstruction_nll(model.decode(torch.zeros(1, latent_dim)).expand_as(x), x, decoder)
    assert torch.allclose(exact_nll(model, x, 100, 6.0).float(), known, atol=1e-3)


def test_quadrature_agrees_with_importance_sampling_from_a_wide_proposal(trained_d1: tuple[VAE, torch.Tensor]) -> None:
    """An independent estimate, written out here with torch.distributions: p(x) = E_r[p(x|z) p(z) / r(z)] with
    r = N(mean of q(z|x), (3 x its std)^2), wider than the posterior so that the weights stay bounded, and
    50,000 draws per image. A wrong cell width or sign in the quadrature would cost nats."""
    model, x = trained_d1
    x = x[:5]
    torch.manual_seed(0)
    with torch.no_grad():
        mu, logvar = model.encode(x)
        proposal = Normal(mu.squeeze(1), 3 * torch.exp(0.5 * logvar).squeeze(1))
        z = proposal.sample((50_000,))  # (draws, images)
        logits = model.decode(z.reshape(-1, 1)).reshape(50_000, len(x), -1)
        log_px_z = -reconstruction_nll(logits, x.expand_as(logits), "bernoulli")
        log_w = log_px_z + Normal(0.0, 1.0).log_prob(z) - proposal.log_prob(z)
    sampled = -(torch.logsumexp(log_w, dim=0) - math.log(len(z)))
    assert torch.allclose(exact_nll(model, x, 4000, 6.0).float(), sampled, atol=0.02)


def test_quadrature_has_converged(trained_d1: tuple[VAE, torch.Tensor]) -> None:
    model, x = trained_d1
    fine, coarse = (float(exact_nll(model, x, points, 6.0).mean()) for points in (4000, 2000))
    assert abs(fine - coarse) < 0.01  # halving the grid spacing moves it by less than a hundredth of a nat


def test_the_grid_in_blocks_sums_to_the_grid_in_one(trained_d1: tuple[VAE, torch.Tensor],
                                                    monkeypatch: pytest.MonkeyPatch) -> None:
    model, x = trained_d1
    whole = exact_nll(model, x, 4000, 6.0)  # one block: 4000 points fit in GRID_POINTS_PER_CHUNK
    monkeypatch.setattr(likelihood, "GRID_POINTS_PER_CHUNK", 333)  # 13 blocks, the last a short one
    assert torch.allclose(exact_nll(model, x, 4000, 6.0), whole, atol=1e-4)


def test_every_estimate_bounds_the_exact_likelihood(trained_d1: tuple[VAE, torch.Tensor]) -> None:
    model, x = trained_d1
    exact = float(exact_nll(model, x, 4000, 6.0).mean())
    iw = [importance_weighted_nll(model, x, k, seed=0) for k in (1, 10, 100, 1000)]
    # Importance weighting tightens with k and never passes the exact value (up to the noise of 100 images).
    assert exact <= iw[3] + 0.01
    assert iw[3] <= iw[2] <= iw[1] <= iw[0]
    assert iw[0] == pytest.approx(elbo_terms(model, x, seed=1).loss, abs=1.0)  # k = 1 is the ELBO


def test_binary_entropy_floor() -> None:
    assert binary_entropy_floor(torch.full((3, 784), 0.5)) == pytest.approx(784 * math.log(2))
    assert binary_entropy_floor(torch.randint(0, 2, (3, 784)).float()) == 0.0
