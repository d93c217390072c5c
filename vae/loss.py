"""The loss, defined once: negative ELBO in nats per image.

Reconstruction is the binary cross-entropy of the grey-level image in [0, 1] (not
binarized) against the decoder's Bernoulli means, summed over the 784 pixels;
KL is the analytic KL(q(z|x) || N(0, I)). Both are summed per image, so a batch
mean is "nats per image".
"""

from __future__ import annotations

import math

import torch
import torch.nn.functional as F


def gaussian_kl(mu: torch.Tensor, logvar: torch.Tensor) -> torch.Tensor:
    """KL(N(mu, exp(logvar)) || N(0, I)) per row, summed over latent dimensions."""
    return 0.5 * (mu.pow(2) + logvar.exp() - 1.0 - logvar).sum(dim=-1)


def reconstruction_nll(logits: torch.Tensor, x: torch.Tensor) -> torch.Tensor:
    """-log p(x|z) per row: Bernoulli cross-entropy from logits, softplus(l) - x l, summed over pixels."""
    # softplus(l) = max(l, 0) + log(1 + exp(-|l|)), stable for any l. Not F.binary_cross_entropy_with_logits
    # or F.softplus: both go through log1p, whose AVX-512 kernel is much slower than log's on some CPUs
    # (the benchmark keeps torch's version as a lever; README, Speed). Rounding 1 + exp(-|l|) costs at most
    # half an fp32 ulp of 1 per pixel. -|l| is written with `where` so that its slope at l = 0 is 1, not
    # abs's 0, and the gradient there is sigmoid(0) - x, as torch's.
    minus_abs = torch.where(logits > 0, -logits, logits)
    return (F.relu(logits) - x * logits + torch.log(1 + torch.exp(minus_abs))).sum(dim=-1)


def negative_elbo(
    logits: torch.Tensor, x: torch.Tensor, mu: torch.Tensor, logvar: torch.Tensor
) -> tuple[torch.Tensor, torch.Tensor]:
    """Per-image reconstruction term and KL term; their sum is the negative ELBO."""
    return reconstruction_nll(logits, x), gaussian_kl(mu, logvar)


def log_normal(z: torch.Tensor, mu: torch.Tensor, logvar: torch.Tensor) -> torch.Tensor:
    """log N(z; mu, diag(exp(logvar))), summed over the last dimension."""
    return -0.5 * (math.log(2 * math.pi) + logvar + (z - mu).pow(2) / logvar.exp()).sum(dim=-1)
