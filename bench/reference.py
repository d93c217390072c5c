"""The reference loop the benchmark compares against: pytorch/examples' vae/main.py, kept as written there
(model, loss, and a DataLoader over torchvision's MNIST with ``ToTensor``), minus its CLI and test loop."""

from __future__ import annotations

from pathlib import Path

import torch
import torch.nn.functional as F
from torch import nn
from torchvision import datasets, transforms

from vae.mnist import FILES, read_checksums, read_verified


class ExampleVAE(nn.Module):
    def __init__(self) -> None:
        super().__init__()
        self.fc1 = nn.Linear(784, 400)
        self.fc21 = nn.Linear(400, 20)
        self.fc22 = nn.Linear(400, 20)
        self.fc3 = nn.Linear(20, 400)
        self.fc4 = nn.Linear(400, 784)

    def encode(self, x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        h1 = F.relu(self.fc1(x))
        return self.fc21(h1), self.fc22(h1)

    def reparameterize(self, mu: torch.Tensor, logvar: torch.Tensor) -> torch.Tensor:
        std = torch.exp(0.5 * logvar)
        eps = torch.randn_like(std)
        return mu + eps * std

    def decode(self, z: torch.Tensor) -> torch.Tensor:
        h3 = F.relu(self.fc3(z))
        return torch.sigmoid(self.fc4(h3))

    def forward(self, x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
        mu, logvar = self.encode(x.view(-1, 784))
        z = self.reparameterize(mu, logvar)
        return self.decode(z), mu, logvar


def loss_function(recon_x: torch.Tensor, x: torch.Tensor, mu: torch.Tensor, logvar: torch.Tensor) -> torch.Tensor:
    bce = F.binary_cross_entropy(recon_x, x.view(-1, 784), reduction="sum")
    kld = -0.5 * torch.sum(1 + logvar - mu.pow(2) - logvar.exp())
    return bce + kld


def torchvision_mnist(raw_dir: Path, root: Path) -> datasets.MNIST:
    """torchvision's MNIST training set from the vendored files, verified, without a download:
    torchvision reads the uncompressed IDX files from ``root/MNIST/raw``."""
    sums = read_checksums(raw_dir / "SHA256SUMS")
    target = root / "MNIST" / "raw"
    target.mkdir(parents=True, exist_ok=True)
    for name in FILES.values():
        (target / name).write_bytes(read_verified(raw_dir / f"{name}.gz", sums[name]))
    return datasets.MNIST(str(root), train=True, download=False, transform=transforms.ToTensor())


def train_epoch(model: ExampleVAE, optimizer: torch.optim.Optimizer, loader: torch.utils.data.DataLoader) -> float:
    """pytorch/examples' ``train(epoch)``: returns the mean loss per image."""
    model.train()
    train_loss = 0.0
    for data, _ in loader:
        optimizer.zero_grad()
        recon_batch, mu, logvar = model(data)
        loss = loss_function(recon_batch, data, mu, logvar)
        loss.backward()
        train_loss += loss.item()
        optimizer.step()
    return train_loss / len(loader.dataset)
