"""What the model sees of an image: grey levels, a binary sample, or dequantized pixels."""

from __future__ import annotations

import math

import pytest
import torch

from vae.pixels import bits_per_dimension, dequantized, evaluation_images, presented


def grey(n: int) -> torch.Tensor:
    return torch.randint(0, 256, (n, 784), generator=torch.Generator().manual_seed(n)) / 255.0


def test_dequantized_pixels_stay_in_their_bin_and_fill_it() -> None:
    x = grey(50)
    y = dequantized(x, torch.Generator().manual_seed(0))
    k = (x * 255).round()
    assert torch.equal((y * 256).floor(), k)
    assert (y * 256 - k).mean().item() == pytest.approx(0.5, abs=0.01)  # u ~ U(0, 1) within the bin


def test_training_draws_afresh_and_evaluation_is_one_fixed_draw() -> None:
    x, generator = grey(10), torch.Generator().manual_seed(0)
    assert not torch.equal(presented(x, "dequantized", generator), presented(x, "dequantized", generator))
    assert torch.equal(evaluation_images(x, "dequantized"), evaluation_images(x, "dequantized"))
    assert torch.equal(presented(x, "grey", generator), x) and torch.equal(evaluation_images(x, "binarized"), x)
    with pytest.raises(ValueError, match=r"pixels must be one of \('grey', 'binarized', 'dequantized'\), got 'raw'"):
        presented(x, "raw", generator)


def test_bits_per_dimension_of_the_uniform_density_is_eight() -> None:
    """The uniform density on [0, 1]^784 has -log p = 0: spread over 256 levels per pixel, 8 bits each."""
    assert bits_per_dimension(0.0, 784) == pytest.approx(8.0)
    assert bits_per_dimension(-784 * math.log(256), 784) == pytest.approx(0.0)
