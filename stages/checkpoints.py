"""Loading the trained models for the stages that read them (embed, figures), with the check that each was
trained under the settings params.yaml holds now."""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any

from vae import model
from vae.errors import PipelineError


def load_current(models_dir: Path, latent_dim: int, all_params: Mapping[str, Any]) -> model.VAE:
    """``<models_dir>/vae-d<latent_dim>.pt``, refused when block train-d<latent_dim> has changed since it was
    trained: a stage run outside ``dvc repro`` would otherwise draw stale results."""
    path = models_dir / f"vae-d{latent_dim}.pt"
    vae, settings = model.load(path)
    if settings != (expected := all_params.get(f"train-d{latent_dim}")):
        raise PipelineError(f"{path} was trained with {settings}, but params.yaml block train-d{latent_dim} is "
                            f"now {expected}; run `dvc repro` to retrain it")
    return vae
