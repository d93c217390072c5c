"""Timed training loops: the reference DataLoader loop, the project's loop and its levers, the machine's
matmul peak, and what the default model achieves against it."""

from __future__ import annotations

import math
import statistics
import time
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager

import torch
import torch.nn.functional as F
from torch import nn

from bench import reference
from vae.evaluate import elbo_terms
from vae.loss import gaussian_kl, negative_elbo
from vae.model import ELU, VAE, ModelConfig
from vae.train import LossTerms, TrainConfig, adam_with_schedule, batch_loss_terms, step_loss_terms, train_epoch

EpochRun = Callable[[], object]  # trains one more epoch of a loop set up beforehand


def matmul_gflops(dtype: torch.dtype = torch.float32, n: int = 4096, repeats: int = 5) -> float:
    """Best ``torch.matmul`` rate on two n x n matrices of ``dtype``: the machine's practical peak."""
    a, b = torch.randn(n, n, dtype=dtype), torch.randn(n, n, dtype=dtype)
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


def on_threads(n: int, run: EpochRun) -> EpochRun:
    """``run`` on ``n`` torch threads, the previous count restored after each epoch."""
    def run_on_n_threads() -> object:
        with threads(n):
            return run()
    return run_on_n_threads


def interleaved_seconds(runs: Mapping[str, EpochRun], epochs: int) -> dict[str, float]:
    """Median seconds per epoch of each run, after one untimed warm-up epoch each (allocator, compilation).

    The runs take turns, one epoch each, so that a shared machine's speed, which drifts by tens of percent
    from minute to minute, weighs on all of them alike and their ratios hold.
    """
    for run in runs.values():
        run()
    times: dict[str, list[float]] = {name: [] for name in runs}
    for _ in range(epochs):
        for name, run in runs.items():
            start = time.perf_counter()
            run()
            times[name].append(time.perf_counter() - start)
    return {name: statistics.median(t) for name, t in times.items()}


def reference_run(dataset: torch.utils.data.Dataset, seed: int = 1) -> EpochRun:
    """(a) pytorch/examples: DataLoader over torchvision's MNIST, batch 128, Adam 1e-3."""
    torch.manual_seed(seed)
    model = reference.ExampleVAE()
    optimizer = torch.optim.Adam(model.parameters(), lr=1e-3)
    loader = torch.utils.data.DataLoader(dataset, batch_size=128, shuffle=True)
    return lambda: reference.train_epoch(model, optimizer, loader)


def project_run(x: torch.Tensor, model_config: ModelConfig, config: TrainConfig,
                loss_terms: LossTerms = batch_loss_terms, build: Callable[[ModelConfig], VAE] = VAE) -> EpochRun:
    """(b) the project's loop as ``fit`` sets it up (vae.train): images as one tensor, fused Adam, the
    step's loss built by ``step_loss_terms`` (autocast, compile) from ``loss_terms``."""
    torch.manual_seed(config.seed)
    model = build(model_config)
    optimizer, scheduler = adam_with_schedule(model, config, len(x))
    step = step_loss_terms(config, loss_terms)
    generator = torch.Generator().manual_seed(config.seed)
    return lambda: train_epoch(model, optimizer, scheduler, x, config.batch_size, 1.0, generator, step)


def with_torch_elu(model_config: ModelConfig) -> VAE:
    """The VAE with torch's nn.ELU (which computes expm1) in place of vae.model.ELU."""
    model = VAE(model_config)
    swapped = 0
    for block in (m for m in model.modules() if isinstance(m, nn.Sequential)):
        for i, layer in enumerate(block):
            if isinstance(layer, ELU):
                block[i] = nn.ELU()
                swapped += 1
    if not swapped:
        raise ValueError(f"no vae.model.ELU to replace in a model with activation {model_config.activation!r}")
    return model


def synced(model: VAE, batch: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    """The project's loss terms plus a ``.item()`` each step, as loops that log every step's loss do."""
    recon, kl = batch_loss_terms(model, batch)
    (recon + kl).item()
    return recon, kl


def through_log1p(model: VAE, batch: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    """The project's loss terms with the reconstruction term from ``F.binary_cross_entropy_with_logits``
    (which goes through log1p) instead of vae.loss's log(1 + exp)."""
    logits, mu, logvar = (t.float() for t in model(batch))
    recon = F.binary_cross_entropy_with_logits(logits, batch, reduction="none").sum(dim=-1)
    return recon.mean(), gaussian_kl(mu, logvar).mean()


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
