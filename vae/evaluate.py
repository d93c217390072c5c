"""Evaluation without autograd, in large batches: ELBO terms, importance-weighted likelihood,
latent means, active units."""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass

import torch

from vae.data import Split
from vae.loss import log_normal, negative_elbo, reconstruction_nll
from vae.model import VAE
from vae.progress import progress

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


def split_tensors(splits: Mapping[str, Split], device: torch.device) -> dict[str, torch.Tensor]:
    """Every split's images as float rows on ``device``: the whole dataset is a few hundred MB, and holding
    it as one tensor lets training index batches directly instead of going through a DataLoader."""
    return {name: to_float_images(torch.from_numpy(split.images)).to(device) for name, split in splits.items()}


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
def importance_weighted_nll(model: VAE, x: torch.Tensor, samples: int, seed: int) -> float:
    """Estimate of -log p(x) in nats per image, averaged over ``x`` (Burda et al., 2016).

    With z_1..z_k drawn from q(z|x), log (1/k) sum_i p(x|z_i) p(z_i) / q(z_i|x) is a lower bound on
    log p(x) that equals the ELBO at k = 1 and tightens as k grows.
    """
    model.eval()
    generator = torch.Generator(device=x.device).manual_seed(seed)
    # About EVAL_BATCH * 10 decoded images per chunk: a few hundred MB of activations at most.
    images_per_chunk = max(1, EVAL_BATCH * 10 // samples)
    total = 0.0
    for batch in progress(x.split(images_per_chunk), desc=f"-log p(x), k={samples}", unit="chunk", leave=False):
        mu, logvar = model.encode(batch)
        eps = torch.randn((samples, *mu.shape), generator=generator, device=x.device, dtype=mu.dtype)
        z = mu + eps * torch.exp(0.5 * logvar)  # (samples, images, d)
        logits = model.decode(z)
        log_w = (-reconstruction_nll(logits, batch.expand_as(logits))
                 + log_normal(z, torch.zeros_like(z), torch.zeros_like(z))
                 - log_normal(z, mu, logvar))
        total -= (torch.logsumexp(log_w, dim=0) - math.log(samples)).sum().item()
    return total / len(x)


@torch.inference_mode()
def latent_means(model: VAE, x: torch.Tensor) -> torch.Tensor:
    """E_q[z|x] for every row of ``x``."""
    model.eval()
    return torch.cat([model.encode(batch)[0] for batch in x.split(EVAL_BATCH)])


def active_units(means: torch.Tensor, threshold: float = 0.01) -> int:
    """Latent dimensions whose E_q[z|x] varies across the data by more than ``threshold`` (Burda et al.)."""
    return int((means.var(dim=0) > threshold).sum().item())
