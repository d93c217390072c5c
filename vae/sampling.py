"""Images a trained model produces: reconstructions, prior samples, decoded latent grids.

Each shows, per pixel, what the decoder expects the pixel to be: its mean. For the Bernoulli that is its
parameter lambda = sigmoid(logit); a continuous Bernoulli's mean is not its lambda but lies between lambda and 1/2,
so its pictures look greyer than the lambda that Loaiza-Ganem and Cunningham (2019) draw. ``show="lambda"`` draws
lambda instead, to set beside the mean.
"""

from __future__ import annotations

import torch
from torch.distributions import Normal

from vae.data import IMAGE_SIDE
from vae.decoders import decoder_mean
from vae.model import VAE

SHOWN = ("mean", "lambda")


def as_images(logits: torch.Tensor, decoder: str, show: str = "mean") -> torch.Tensor:
    """Decoder logits to (n, 28, 28) images in [0, 1] on the CPU: the decoder's mean, or its lambda."""
    if show not in SHOWN:
        raise ValueError(f"show must be one of {SHOWN}, got {show!r}")
    pixels = decoder_mean(logits, decoder) if show == "mean" else torch.sigmoid(logits)
    return pixels.reshape(-1, IMAGE_SIDE, IMAGE_SIDE).cpu()


@torch.inference_mode()
def reconstruct(model: VAE, x: torch.Tensor, show: str = "mean") -> torch.Tensor:
    """Decode the posterior mean of each image: the model's deterministic reconstruction."""
    return as_images(model.decode(model.encode(x)[0]), model.config.decoder, show)


@torch.inference_mode()
def sample_prior(model: VAE, n: int, seed: int, show: str = "mean") -> torch.Tensor:
    """Decode ``n`` draws z ~ N(0, I)."""
    device = next(model.parameters()).device
    generator = torch.Generator(device=device).manual_seed(seed)
    z = torch.randn(n, model.config.latent_dim, generator=generator, device=device)
    return as_images(model.decode(z), model.config.decoder, show)


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
    return as_images(model.decode(z.to(device)), model.config.decoder)
