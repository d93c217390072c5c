"""Evaluation without autograd, in large batches: ELBO terms, latent means, active units."""

from __future__ import annotations

from dataclasses import dataclass

import torch

from vae.loss import negative_elbo
from vae.model import VAE

# Large batches amortise per-call overhead; 2,000 images of activations are a few MB.
EVAL_BATCH = 2000


@dataclass(frozen=True)
class ElboTerms:
    """Means over a set of images, in nats per image."""

    loss: float
    recon: float
    kl: float


def to_float_images(images: torch.Tensor) -> torch.Tensor:
    """uint8 (n, 28, 28) images to float rows in [0, 1], the input every model sees."""
    return images.reshape(len(images), -1).float().div_(255.0)


@torch.inference_mode()
def elbo_terms(model: VAE, x: torch.Tensor, seed: int) -> ElboTerms:
    """Negative ELBO and its two terms averaged over ``x``, one z sample per image.

    The sample noise comes from its own seeded generator so that validation losses
    do not depend on, or disturb, the training random stream.
    """
    model.eval()
    generator = torch.Generator(device=x.device).manual_seed(seed)
    recon_sum = kl_sum = 0.0
    for batch in x.split(EVAL_BATCH):
        mu, logvar = model.encode(batch)
        eps = torch.randn(mu.shape, generator=generator, device=x.device, dtype=mu.dtype)
        recon, kl = negative_elbo(model.decode(mu + eps * torch.exp(0.5 * logvar)), batch, mu, logvar)
        recon_sum += recon.sum().item()
        kl_sum += kl.sum().item()
    n = len(x)
    return ElboTerms(loss=(recon_sum + kl_sum) / n, recon=recon_sum / n, kl=kl_sum / n)


@torch.inference_mode()
def latent_means(model: VAE, x: torch.Tensor) -> torch.Tensor:
    """E_q[z|x] for every row of ``x``."""
    model.eval()
    return torch.cat([model.encode(batch)[0] for batch in x.split(EVAL_BATCH)])


def active_units(means: torch.Tensor, threshold: float = 0.01) -> int:
    """Latent dimensions whose E_q[z|x] varies across the data by more than ``threshold`` (Burda et al.)."""
    return int((means.var(dim=0) > threshold).sum().item())
