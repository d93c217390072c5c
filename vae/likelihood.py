"""The exact likelihood of a low-dimensional VAE by quadrature over z, and the floor of its reconstruction term.

For d <= 2 the integral p(x) = integral p(x|z) p(z) dz can be computed on a grid: every grid point's decoded
image is shared by all test images, so log p(x|z) for all images and points is one matrix product. This checks
the importance-weighted estimate against a number that involves no sampling.
"""

from __future__ import annotations

import math

import torch

from vae.decoders import reconstruction_nll
from vae.model import VAE

# The (images x grid points) log-likelihood matrix is built in blocks: the whole of it, for the test set
# and a d = 2 grid, would take gigabytes; one block takes tens of megabytes.
IMAGES_PER_CHUNK = 500
GRID_POINTS_PER_CHUNK = 10_000


def prior_grid(latent_dim: int, points: int, limit: float) -> tuple[torch.Tensor, torch.Tensor]:
    """Midpoints of ``points`` cells per axis on [-limit, limit]^d, and each cell's log prior mass
    log N(z; 0, I) + d log(cell width). The prior's mass outside +-6 is below 1e-8 per axis."""
    width = 2 * limit / points
    axis = -limit + width * (torch.arange(points, dtype=torch.float64) + 0.5)
    z = torch.cartesian_prod(*[axis] * latent_dim).reshape(-1, latent_dim)
    log_mass = (-0.5 * z.pow(2) - 0.5 * math.log(2 * math.pi)).sum(dim=1) + latent_dim * math.log(width)
    return z.float(), log_mass


@torch.inference_mode()
def exact_nll(model: VAE, x: torch.Tensor, points: int, limit: float) -> torch.Tensor:
    """-log p(x) per image of ``x``, by the midpoint rule on a grid of ``points`` per latent axis."""
    model.eval()
    z, log_mass = prior_grid(model.config.latent_dim, points, limit)
    log_px = torch.full((len(x),), -math.inf, device=x.device)
    for z_block, mass_block in zip(z.split(GRID_POINTS_PER_CHUNK), log_mass.split(GRID_POINTS_PER_CHUNK)):
        logits = model.decode(z_block.to(x.device))  # (grid points, pixels)
        # Both decoders are exponential families in the logit l with sufficient statistic x: log p(x|z) =
        # sum_i x_i l_i - a(l_i), a(l) = -log p(0|l), so one matrix product scores every image at once.
        log_partition = reconstruction_nll(logits, torch.zeros_like(logits), model.config.decoder)
        mass = mass_block.float().to(x.device)
        block = torch.cat([torch.logsumexp(batch @ logits.T - log_partition + mass, dim=1)
                           for batch in x.split(IMAGES_PER_CHUNK)])
        log_px = torch.logaddexp(log_px, block)  # the sum over grid blocks, in log space
    return -log_px.double()


def binary_entropy_floor(x: torch.Tensor) -> float:
    """Mean over images of sum_i H(x_i), H the entropy of Bernoulli(x_i) in nats: the lowest value the
    reconstruction term can take on grey levels, reached only by decoding every pixel's grey level exactly."""
    x = x.double()
    entropy = -(torch.xlogy(x, x) + torch.xlogy(1 - x, 1 - x))
    return float(entropy.sum(dim=1).mean())
