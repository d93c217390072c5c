"""Images a trained model produces: reconstructions, prior samples, decoded latent grids."""

from __future__ import annotations

import torch
from torch.distributions import Normal

from vae.data import IMAGE_SIDE
from vae.model import VAE


def _as_images(logits: torch.Tensor) -> torch.Tensor:
    """Decoder logits to (n, 28, 28) Bernoulli means in [0, 1] on the CPU."""
    return torch.sigmoid(logits).reshape(-1, IMAGE_SIDE, IMAGE_SIDE).cpu()


@torch.inference_mode()
def reconstruct(model: VAE, x: torch.Tensor) -> torch.Tensor:
    """Decode the posterior mean of each image: the model's deterministic reconstruction."""
    return _as_images(model.decode(model.encode(x)[0]))


@torch.inference_mode()
def sample_prior(model: VAE, n: int, seed: int) -> torch.Tensor:
    """Decode ``n`` draws z ~ N(0, I)."""
    device = next(model.parameters()).device
    generator = torch.Generator(device=device).manual_seed(seed)
    z = torch.randn(n, model.config.latent_dim, generator=generator, device=device)
    return _as_images(model.decode(z))


@torch.inference_mode()
def decode_quantile_grid(model: VAE, steps: int) -> torch.Tensor:
    """Decode z on an evenly spaced grid of prior quantiles (5% to 95%), ``steps`` per latent axis.

    For d=1 this is a traversal strip of ``steps`` images; for d=2 a ``steps`` x ``steps``
    manifold, row-major with z2 decreasing down the rows so the grid reads like the scatter plot.
    Quantiles rather than even z spacing give each image equal prior mass.
    """
    d = model.config.latent_dim
    if d not in (1, 2):
        raise ValueError(f"a decoded grid needs latent_dim 1 or 2, got {d}")
    device = next(model.parameters()).device
    axis = Normal(0.0, 1.0).icdf(torch.linspace(0.05, 0.95, steps))
    if d == 1:
        z = axis[:, None]
    else:
        z2, z1 = torch.meshgrid(axis.flip(0), axis, indexing="ij")
        z = torch.stack([z1.reshape(-1), z2.reshape(-1)], dim=1)
    return _as_images(model.decode(z.to(device)))
