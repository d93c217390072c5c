"""What the model sees of an image. The prepared images are grey levels k/255; a recipe trains on them as they
are, on a fresh binary sample of each batch (dynamic binarization, ``data.binarize: dynamic``), or on
dequantized pixels (k + u)/256 with u ~ U(0, 1) drawn afresh for each batch.

The continuous Bernoulli needs dequantized pixels: its likelihood of data with exact zeros, which most MNIST
pixels are, grows without bound as its parameter goes to 0. A density on dequantized pixels also bounds the
likelihood of the 8-bit images themselves (Theis, van den Oord and Bethge, 2016), so its loss reads in bits per
dimension as density models report theirs.
"""

from __future__ import annotations

import math

import torch

PIXELS = ("grey", "binarized", "dequantized")
# The one draw of u that every model is validated and tested on, whatever its seed: the same images for all.
EVALUATION_SEED = 0
LEVELS = 256  # of an 8-bit pixel


def binarized(x: torch.Tensor, generator: torch.Generator) -> torch.Tensor:
    """A Bernoulli(grey level) sample of every pixel of ``x``, as 0.0 or 1.0."""
    # Drawn on the CPU from the caller's generator, then moved: one stream, on any device.
    return (torch.rand(x.shape, generator=generator).to(x.device) < x).to(x.dtype)


def dequantized(x: torch.Tensor, generator: torch.Generator) -> torch.Tensor:
    """Grey levels k/255 as (k + u)/256, u ~ U(0, 1) per pixel: a point inside the pixel's 8-bit bin."""
    # x * 255 recovers k exactly in float32 for every k/255.
    u = torch.rand(x.shape, generator=generator).to(x.device)
    return (x * (LEVELS - 1) + u) / LEVELS


def presented(x: torch.Tensor, pixels: str, generator: torch.Generator) -> torch.Tensor:
    """A training batch as the model sees it under ``pixels`` (one of PIXELS), with fresh noise."""
    if pixels == "grey":
        return x
    if pixels == "binarized":
        return binarized(x, generator)
    if pixels == "dequantized":
        return dequantized(x, generator)
    raise ValueError(f"pixels must be one of {PIXELS}, got {pixels!r}")


def evaluation_images(x: torch.Tensor, pixels: str) -> torch.Tensor:
    """Validation or test images as every model trained under ``pixels`` is evaluated on them: one fixed draw.
    Binarized evaluation images are drawn once by prepare-data, so they come in as they are."""
    if pixels == "dequantized":
        return dequantized(x, torch.Generator().manual_seed(EVALUATION_SEED))
    if pixels in ("grey", "binarized"):
        return x
    raise ValueError(f"pixels must be one of {PIXELS}, got {pixels!r}")


def bits_per_dimension(nll_nats: float, pixels: int) -> float:
    """-log p of dequantized pixels in [0, 1] (nats per image) as bits per 8-bit pixel: the density on [0, 256)
    that scales each bin to width 1 is lower by log 256 per pixel."""
    return (nll_nats + pixels * math.log(LEVELS)) / (pixels * math.log(2))
