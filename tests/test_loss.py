"""The loss math: analytic KL and the reconstruction term against independent computations."""

from __future__ import annotations

import math

import torch

from vae.loss import gaussian_kl, log_normal, negative_elbo


def test_kl_matches_a_monte_carlo_estimate() -> None:
    torch.manual_seed(0)
    mu = torch.tensor([[0.5, -1.0, 2.0]])
    logvar = torch.tensor([[-0.5, 0.3, -1.2]])
    z = mu + torch.randn(400_000, 3) * torch.exp(0.5 * logvar)
    standard = torch.zeros_like(mu)
    monte_carlo = (log_normal(z, mu, logvar) - log_normal(z, standard, standard)).mean()
    assert torch.allclose(gaussian_kl(mu, logvar), monte_carlo, atol=0.01)


def test_kl_of_the_prior_is_zero_and_of_a_shifted_unit_gaussian_is_half_the_squared_shift() -> None:
    zeros = torch.zeros(1, 4)
    assert gaussian_kl(zeros, zeros).item() == 0.0
    assert gaussian_kl(torch.full((1, 4), 2.0), zeros).item() == 4 * 0.5 * 2.0**2


def test_loss_of_a_hand_computed_input() -> None:
    # Two pixels of grey level 0.25 and 1.0 against decoder means 0.5 and sigmoid(2):
    # BCE = -[0.25 ln 0.5 + 0.75 ln 0.5] - ln sigmoid(2) = ln 2 + ln(1 + e^-2).
    x = torch.tensor([[0.25, 1.0]])
    logits = torch.tensor([[0.0, 2.0]])
    mu, logvar = torch.tensor([[1.0]]), torch.tensor([[0.0]])
    recon, kl = negative_elbo(logits, x, mu, logvar)
    assert math.isclose(recon.item(), math.log(2) + math.log1p(math.exp(-2)), rel_tol=1e-6)
    assert math.isclose(kl.item(), 0.5, rel_tol=1e-6)


def test_uninformative_decoder_costs_784_ln_2_on_any_image() -> None:
    x = torch.rand(3, 784)
    recon, _ = negative_elbo(torch.zeros(3, 784), x, torch.zeros(3, 2), torch.zeros(3, 2))
    assert torch.allclose(recon, torch.full((3,), 784 * math.log(2)))
