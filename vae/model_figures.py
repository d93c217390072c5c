"""The figures a trained model draws, written under fixed names ``<kind>-d<d>.png``."""

from __future__ import annotations

from pathlib import Path

import torch

from vae import figures, sampling
from vae.data import IMAGE_SIDE
from vae.model import VAE

RECON_COLUMNS = 16
N_SAMPLES = 64
MANIFOLD_STEPS = 20
TRAVERSAL_STEPS = 20


def write_model_figures(model: VAE, x_test: torch.Tensor, out_dir: Path, seed: int) -> None:
    """Reconstructions and prior samples for every d; the decoded manifold for d=2; the decoded traversal
    for d=1."""
    d = model.config.latent_dim
    originals = x_test[:RECON_COLUMNS].reshape(-1, IMAGE_SIDE, IMAGE_SIDE).cpu()
    recon = sampling.reconstruct(model, x_test[:RECON_COLUMNS])
    figures.image_grid(torch.cat([originals, recon]).numpy(), RECON_COLUMNS,
                       f"d={d}: test images (top) and reconstructions (bottom)", out_dir / f"recon-d{d}.png")
    figures.image_grid(sampling.sample_prior(model, N_SAMPLES, seed).numpy(), 8,
                       f"d={d}: samples from the prior", out_dir / f"samples-d{d}.png")
    if d == 1:
        figures.image_grid(sampling.decode_quantile_grid(model, TRAVERSAL_STEPS).numpy(), TRAVERSAL_STEPS,
                           "d=1: decoded z at prior quantiles 5%..95%", out_dir / "traversal-d1.png")
    if d == 2:
        figures.image_grid(sampling.decode_quantile_grid(model, MANIFOLD_STEPS).numpy(), MANIFOLD_STEPS,
                           "d=2: decoded manifold over prior quantiles 5%..95%", out_dir / "manifold-d2.png")
