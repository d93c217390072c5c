"""The loss math: analytic KL and the reconstruction term against independent computations."""

from __future__ import annotations

import math

import torch
import torch.nn.functional as F

from vae.decoders import bernoulli_nll as reconstruction_nll
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
    recon, kl = negative_elbo(logits, x, mu, logvar, "bernoulli")
    assert math.isclose(recon.item(), math.log(2) + math.log1p(math.exp(-2)), rel_tol=1e-6)
    assert math.isclose(kl.item(), 0.5, rel_tol=1e-6)


def test_uninformative_decoder_costs_784_ln_2_on_any_image() -> None:
    x = torch.rand(3, 784)
    recon, _ = negative_elbo(torch.zeros(3, 784), x, torch.zeros(3, 2), torch.zeros(3, 2), "bernoulli")
    assert torch.allclose(recon, torch.full((3,), 784 * math.log(2)))


def test_reconstruction_term_matches_torchs_cross_entropy_from_logits_at_any_scale() -> None:
    # Logits from saturated to near zero, where log(1 + exp(-|l|)) replaces log1p: 784 pixels per row.
    logits = torch.linspace(-100, 100, 784 * 4, dtype=torch.float64).reshape(4, 784)
    x = torch.rand(4, 784, generator=torch.Generator().manual_seed(0), dtype=torch.float64)
    exact = F.binary_cross_entropy_with_logits(logits, x, reduction="none").sum(dim=-1)
    ours = reconstruction_nll(logits.float(), x.float()).double()
    # float32 against float64 on sums of thousands of nats: within 1e-6 relative.
    assert torch.allclose(ours, exact, rtol=1e-6, atol=1e-3)
    assert torch.isfinite(reconstruction_nll(torch.tensor([[-1e4, 1e4]]), torch.tensor([[0.0, 1.0]]))).all()


def test_reconstruction_gradient_is_sigmoid_minus_target_including_at_zero() -> None:
    logits = torch.tensor([[-30.0, -2.0, 0.0, 0.0, 3.0, 30.0]], requires_grad=True)
    x = torch.tensor([[0.0, 0.5, 0.25, 1.0, 1.0, 0.75]])
    reconstruction_nll(logits, x).sum().backward()
    assert torch.allclose(logits.grad, torch.sigmoid(logits.detach()) - x, atol=1e-7)


def test_the_continuous_bernoulli_loss_is_the_bernoulli_loss_minus_its_log_normalizer() -> None:
    """With the continuous-Bernoulli decoder the same ELBO carries log C per pixel: at logit 0 (lambda = 1/2) the
    density is uniform on [0, 1], so the reconstruction term is 0 for any image, 784 ln 2 less than the Bernoulli's."""
    x = torch.rand(3, 784)
    zeros = torch.zeros(3, 2)
    recon, kl = negative_elbo(torch.zeros(3, 784), x, zeros, zeros, "continuous-bernoulli")
    assert torch.allclose(recon, torch.zeros(3), atol=1e-4) and torch.equal(kl, torch.zeros(3))
