"""The VAE: an MLP encoder to a diagonal Gaussian q(z|x), an MLP decoder to one logit per pixel, which the
decoder's likelihood (vae/decoders.py: Bernoulli or continuous Bernoulli) reads."""

from __future__ import annotations

import io
import pickle
from collections.abc import Mapping, Sequence
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

import torch
from torch import nn

from vae.data import N_PIXELS
from vae.decoders import DECODERS
from vae.errors import PipelineError
from vae.io import require, write_bytes


class ELU(nn.Module):
    """ELU (alpha 1): x from zero up, exp(x) - 1 below.

    Not nn.ELU, which computes expm1: torch's AVX-512 expm1 is much slower than exp on some CPUs (the
    benchmark keeps nn.ELU as a lever; docs/speed.md). Near 0, exp(x) - 1 loses the relative precision
    expm1 keeps, which costs at most an fp32 ulp of 1 in absolute terms. The clamp keeps
    exp from overflowing on the branch `where` does not take, whose gradient would otherwise be
    0 * inf = NaN.
    """

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return torch.where(x >= 0, x, torch.exp(x.clamp(max=0)) - 1)


# ELU keeps a gradient for negative inputs (docs/study.md, What moved the loss, compares it with ReLU).
ACTIVATION_MODULES: dict[str, type[nn.Module]] = {"relu": nn.ReLU, "elu": ELU, "silu": nn.SiLU}
ACTIVATIONS = tuple(ACTIVATION_MODULES)


@dataclass(frozen=True)
class ModelConfig:
    latent_dim: int
    hidden: tuple[int, ...]  # encoder widths, input side first; the decoder mirrors them
    activation: str = "relu"  # between linear layers: one of ACTIVATIONS
    decoder: str = "bernoulli"  # the likelihood the decoder's logits parameterise: one of DECODERS

    def __post_init__(self) -> None:
        if self.activation not in ACTIVATIONS:
            raise ValueError(f"activation must be one of {ACTIVATIONS}, got {self.activation!r}")
        if self.decoder not in DECODERS:
            raise ValueError(f"decoder must be one of {DECODERS}, got {self.decoder!r}")


def reparameterize(mu: torch.Tensor, logvar: torch.Tensor, eps: torch.Tensor) -> torch.Tensor:
    """z = mu + sigma * eps: a draw from q(z|x) as a differentiable function of its mean and log-variance, with
    the standard normal noise ``eps`` drawn by the caller from a generator of its own."""
    return mu + eps * torch.exp(0.5 * logvar)


def mlp(widths: Sequence[int], activation: str) -> nn.Sequential:
    """Linear layers between consecutive widths, the activation between them but not after the last."""
    layers: list[nn.Module] = []
    for i, (n_in, n_out) in enumerate(zip(widths[:-1], widths[1:])):
        if i:
            layers.append(ACTIVATION_MODULES[activation]())
        layers.append(nn.Linear(n_in, n_out))
    return nn.Sequential(*layers)


class VAE(nn.Module):
    def __init__(self, config: ModelConfig) -> None:
        super().__init__()
        self.config = config
        widths = [N_PIXELS, *config.hidden]
        # The encoder's last layer emits mean and log-variance side by side.
        self.encoder = nn.Sequential(mlp(widths, config.activation), ACTIVATION_MODULES[config.activation](),
                                     nn.Linear(widths[-1], 2 * config.latent_dim))
        self.decoder = mlp([config.latent_dim, *reversed(widths)], config.activation)

    def encode(self, x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """Return the mean and log-variance of q(z|x) for flattened images ``x`` in [0, 1]."""
        mu, logvar = self.encoder(x).chunk(2, dim=-1)
        return mu, logvar

    def decode(self, z: torch.Tensor) -> torch.Tensor:
        """Return the logits of p(x|z), one per pixel."""
        return self.decoder(z)

    def forward(self, x: torch.Tensor, eps: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
        """Logits of p(x|z) at z = :func:`reparameterize` (mu, logvar, eps), with the mean and log-variance."""
        mu, logvar = self.encode(x)
        return self.decode(reparameterize(mu, logvar, eps)), mu, logvar


def save(model: VAE, path: Path, settings: Mapping[str, Any]) -> None:
    """Write weights, architecture and the training ``settings`` they came from.

    Serialised to memory first: torch.save to a path embeds the (random) temporary file
    name in the archive, and identical weights must give identical bytes.
    """
    buffer = io.BytesIO()
    torch.save({"config": asdict(model.config), "settings": dict(settings), "state_dict": model.state_dict()},
               buffer)
    write_bytes(path, buffer.getvalue())


def load(path: Path, device: torch.device | str = "cpu") -> tuple[VAE, dict[str, Any]]:
    """Load a model written by :func:`save`, with the training settings it was saved with."""
    require(path)  # a missing file says how to make it; only a file that exists can be incomplete
    try:
        checkpoint: dict[str, Any] = torch.load(path, map_location=device, weights_only=True)
    except (OSError, RuntimeError, EOFError, pickle.UnpicklingError) as exc:
        raise PipelineError(f"{path} is not a complete checkpoint ({' '.join(str(exc).split())[:200]}); "
                            "rerun the stage that trains it (dvc repro)") from None
    config = checkpoint["config"]
    model = VAE(ModelConfig(latent_dim=config["latent_dim"], hidden=tuple(config["hidden"]),
                            activation=config["activation"], decoder=config["decoder"]))
    model.load_state_dict(checkpoint["state_dict"])
    return model.to(device).eval(), checkpoint["settings"]
