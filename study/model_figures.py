"""The figures a trained model draws, written under fixed names ``<kind>-d<d>.png``."""

from __future__ import annotations

from pathlib import Path

import torch

from study import figures

from vae import sampling
from vae.data import IMAGE_SIDE
from vae.model import VAE

RECON_COLUMNS = 16
N_SAMPLES = 64
MANIFOLD_STEPS = 20
TRAVERSAL_STEPS = 20


def write_model_figures(model: VAE, x_test: torch.Tensor, out_dir: Path, seed: int) -> list[Path]:
    """Reconstructions and prior samples for every d; the decoded manifold for d=2; the decoded traversal
    for d=1. Returns the paths written."""
    d = model.config.latent_dim
    originals = x_test[:RECON_COLUMNS].reshape(-1, IMAGE_SIDE, IMAGE_SIDE).cpu()
    grids = [(torch.cat([originals, sampling.reconstruct(model, x_test[:RECON_COLUMNS])]), RECON_COLUMNS,
              f"d={d}: test images (top) and reconstructions (bottom)", f"recon-d{d}.png"),
             (sampling.sample_prior(model, N_SAMPLES, seed), 8, f"d={d}: samples from the prior", f"samples-d{d}.png")]
    if d == 1:
        grids.append((sampling.decode_quantile_grid(model, TRAVERSAL_STEPS), TRAVERSAL_STEPS,
                      "d=1: decoded z at prior quantiles 5%..95%", "traversal-d1.png"))
    if d == 2:
        grids.append((sampling.decode_quantile_grid(model, MANIFOLD_STEPS), MANIFOLD_STEPS,
                      "d=2: decoded manifold over prior quantiles 5%..95%", "manifold-d2.png"))
    for images, cols, title, name in grids:
        figures.image_grid(images, cols, title, out_dir / name)
    return [out_dir / name for *_, name in grids]
