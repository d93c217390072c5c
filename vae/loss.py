"""The loss, defined once: negative ELBO in nats per image.

Reconstruction is -log p(x|z) under the decoder's likelihood (vae/decoders.py), summed over the 784 pixels:
with the Bernoulli decoder the binary cross-entropy of the grey-level image in [0, 1] (not binarized) against
the decoder's means, which is not the log of a density over grey levels; with the continuous Bernoulli the same
term plus its log-normalizer, a density over [0, 1]^784. KL is the analytic KL(q(z|x) || N(0, I)). Both are
summed per image, so a batch mean is "nats per image".
"""

from __future__ import annotations

import math

import torch

from vae.decoders import reconstruction_nll


def gaussian_kl(mu: torch.Tensor, logvar: torch.Tensor) -> torch.Tensor:
    """KL(N(mu, exp(logvar)) || N(0, I)) per row, summed over latent dimensions."""
    return 0.5 * (mu.pow(2) + logvar.exp() - 1.0 - logvar).sum(dim=-1)


def negative_elbo(logits: torch.Tensor, x: torch.Tensor, mu: torch.Tensor, logvar: torch.Tensor,
                  decoder: str) -> tuple[torch.Tensor, torch.Tensor]:
    """Per-image reconstruction term and KL term; their sum is the negative ELBO."""
    return reconstruction_nll(logits, x, decoder), gaussian_kl(mu, logvar)


def log_normal(z: torch.Tensor, mu: torch.Tensor, logvar: torch.Tensor) -> torch.Tensor:
    """log N(z; mu, diag(exp(logvar))), summed over the last dimension."""
    return -0.5 * (math.log(2 * math.pi) + logvar + (z - mu).pow(2) / logvar.exp()).sum(dim=-1)
