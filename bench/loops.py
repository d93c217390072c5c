"""Timed training loops: the reference DataLoader loop, the project's loop and its levers, the machine's
matmul peak, and what the default model achieves against it."""

from __future__ import annotations

import math
import statistics
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager

import torch
from torch import nn

from bench import reference
from vae.evaluate import elbo_terms
from vae.loss import negative_elbo
from vae.model import VAE, ModelConfig
from vae.train import LossTerms, TrainConfig, batch_loss_terms, lr_scheduler, train_epoch


def matmul_gflops(n: int = 4096, repeats: int = 5) -> float:
    """Best fp32 ``torch.matmul`` rate on two n x n matrices: the machine's practical peak."""
    a, b = torch.randn(n, n), torch.randn(n, n)
    torch.matmul(a, b)  # warm-up: thread pool and kernel selection
    best = math.inf
    for _ in range(repeats):
        start = time.perf_counter()
        torch.matmul(a, b)
        best = min(best, time.perf_counter() - start)
    return 2 * n**3 / best / 1e9


def train_flops_per_image(model: nn.Module) -> int:
    """Floating-point operations of one training step per image, from the linear layers alone: 2 per
    multiply-add forward, the same again backward for the weight gradient and, except in the first layer
    (whose input is the data), for the input gradient."""
    shapes = [(layer.in_features, layer.out_features) for layer in model.modules() if isinstance(layer, nn.Linear)]
    macs = sum(n_in * n_out for n_in, n_out in shapes)
    return 2 * (3 * macs - shapes[0][0] * shapes[0][1])


@contextmanager
def threads(n: int) -> Iterator[None]:
    before = torch.get_num_threads()
    torch.set_num_threads(n)
    try:
        yield
    finally:
        torch.set_num_threads(before)


def seconds_per_epoch(run_epoch: Callable[[], object], epochs: int) -> float:
    """Median wall time of ``epochs`` epochs after one untimed warm-up epoch (allocator, compilation)."""
    run_epoch()
    times = []
    for _ in range(epochs):
        start = time.perf_counter()
        run_epoch()
        times.append(time.perf_counter() - start)
    return statistics.median(times)


def reference_epoch_seconds(dataset: torch.utils.data.Dataset, epochs: int, seed: int = 1) -> float:
    """(a) pytorch/examples: DataLoader over torchvision's MNIST, batch 128, Adam 1e-3."""
    torch.manual_seed(seed)
    model = reference.ExampleVAE()
    optimizer = torch.optim.Adam(model.parameters(), lr=1e-3)
    loader = torch.utils.data.DataLoader(dataset, batch_size=128, shuffle=True)
    return seconds_per_epoch(lambda: reference.train_epoch(model, optimizer, loader), epochs)


def synced(model: VAE, batch: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    """The project's loss terms plus a ``.item()`` each step, as loops that log every step's loss do."""
    recon, kl = batch_loss_terms(model, batch)
    (recon + kl).item()
    return recon, kl


def project_epoch_seconds(x: torch.Tensor, model_config: ModelConfig, epochs: int, *, batch_size: int = 128,
                          compile: bool = False, loss_terms: LossTerms = batch_loss_terms, seed: int = 1) -> float:
    """(b) the project's loop (vae.train.train_epoch): images as one tensor, fused Adam."""
    torch.manual_seed(seed)
    model = VAE(model_config)
    optimizer = torch.optim.Adam(model.parameters(), lr=1e-3, fused=True)
    config = TrainConfig(epochs=epochs + 1, batch_size=batch_size, lr=1e-3, seed=seed)
    scheduler = lr_scheduler(optimizer, config, steps_per_epoch=math.ceil(len(x) / batch_size))
    if compile:
        loss_terms = torch.compile(loss_terms, dynamic=False)
    generator = torch.Generator().manual_seed(seed)
    return seconds_per_epoch(
        lambda: train_epoch(model, optimizer, scheduler, x, batch_size, 1.0, generator, loss_terms), epochs)


def evaluation_seconds(model: VAE, x: torch.Tensor) -> tuple[float, float]:
    """Seconds for the ELBO over ``x``: in training-size batches with autograd on, and as the project
    evaluates (batches of EVAL_BATCH under inference_mode)."""
    start = time.perf_counter()
    for batch in x.split(128):
        logits, mu, logvar = model(batch)
        recon, kl = negative_elbo(logits, batch, mu, logvar)
        (recon + kl).sum().item()
    naive = time.perf_counter() - start
    start = time.perf_counter()
    elbo_terms(model, x, seed=0)
    return naive, time.perf_counter() - start

