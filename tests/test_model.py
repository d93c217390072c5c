"""The model: shapes for every latent dimension of the study, and a save/load round trip."""

from __future__ import annotations

import math
from pathlib import Path

import pytest
import torch

from vae import model


@pytest.mark.parametrize("d", [1, 2, 64])
def test_output_shapes(d: int) -> None:
    vae = model.VAE(model.ModelConfig(latent_dim=d, hidden=(32, 16)))
    logits, mu, logvar = vae(torch.rand(5, 784), torch.randn(5, d))
    assert logits.shape == (5, 784)
    assert mu.shape == logvar.shape == (5, d)
    assert vae.decode(torch.zeros(3, d)).shape == (3, 784)


def test_the_reparameterisation_moves_the_noise_by_the_mean_and_scales_it_by_the_standard_deviation() -> None:
    mu, logvar, eps = torch.tensor([[1.0, -2.0]]), torch.tensor([[0.0, 2 * math.log(3.0)]]), torch.tensor([[0.5, 1.0]])
    assert torch.allclose(model.reparameterize(mu, logvar, eps), torch.tensor([[1.5, 1.0]]))


def test_an_unknown_decoder_or_activation_is_refused() -> None:
    with pytest.raises(ValueError, match=r"decoder must be one of \('bernoulli', 'continuous-bernoulli'\), got 'g'"):
        model.ModelConfig(2, (16,), decoder="g")
    with pytest.raises(ValueError, match="activation must be one of"):
        model.ModelConfig(2, (16,), activation="tanh")


@pytest.mark.parametrize("decoder", ["bernoulli", "continuous-bernoulli"])
def test_save_and_load_keep_architecture_and_weights(tmp_path: Path, decoder: str) -> None:
    vae = model.VAE(model.ModelConfig(latent_dim=2, hidden=(16,), decoder=decoder))
    model.save(vae, tmp_path / "m.pt", settings={"epochs": 3})
    loaded, settings = model.load(tmp_path / "m.pt")
    assert loaded.config == vae.config and settings == {"epochs": 3}
    x = torch.rand(4, 784)
    assert torch.equal(loaded.encode(x)[0], vae.eval().encode(x)[0])


def test_saving_the_same_weights_twice_gives_identical_bytes(tmp_path: Path) -> None:
    vae = model.VAE(model.ModelConfig(latent_dim=2, hidden=(16,)))
    model.save(vae, tmp_path / "a.pt", settings={})
    model.save(vae, tmp_path / "b.pt", settings={})
    assert (tmp_path / "a.pt").read_bytes() == (tmp_path / "b.pt").read_bytes()


def test_elu_matches_torchs_and_keeps_finite_gradients_at_extremes() -> None:
    x = torch.linspace(-20, 20, 100_001)
    assert torch.allclose(model.ELU()(x), torch.nn.ELU()(x), rtol=0, atol=2e-7)
    extremes = torch.tensor([-1e4, -200.0, 0.0, 100.0, 1e4], requires_grad=True)
    model.ELU()(extremes).sum().backward()
    assert torch.equal(extremes.grad, torch.tensor([0.0, 0.0, 1.0, 1.0, 1.0]))
