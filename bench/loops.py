"""Timed training loops: the reference DataLoader loop, the project's loop and its levers (the step as it was
before among them), the machine's matmul peak, what the default model achieves against it, and the seeds of a
sweep cell trained side by side against one after another."""

from __future__ import annotations

import math
import statistics
import time
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager

import torch
import torch.nn.functional as F
from torch import nn
from torch.distributions import ContinuousBernoulli

from bench import reference
from vae.evaluate import elbo_terms
from vae.group import fit_group, workers_for
from vae.loss import gaussian_kl, negative_elbo
from vae.model import ELU, VAE, ModelConfig, reparameterize
from vae.train import PRECISION_DTYPES, LossTerms, Trainer, TrainConfig, batch_loss_terms, start

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
                loss_terms: LossTerms = batch_loss_terms, torch_elu: bool = False) -> EpochRun:
    """(b) the project's loop as ``fit`` runs it (vae.train): images as one tensor, the step's loss built from
    ``loss_terms`` and the Adam update, both compiled for ``compile``, on a bf16 copy of the weights for
    ``precision: bf16``. Validation is left out: it is the same for every lever."""
    trainer = Trainer(model_config, config, x.device, loss_terms)
    if torch_elu:
        swap_in_torch_elu(trainer.step_model)
    generator = trainer.load(start(model_config, config))
    steps = 0

    def run() -> object:
        nonlocal steps
        steps, loss = trainer.train_epoch(x, 1, steps, generator)
        return loss
    return run


def before_run(x: torch.Tensor, model_config: ModelConfig, config: TrainConfig) -> EpochRun:
    """The project's step as it was before its training loop wrote its own update: the forward pass under
    torch.autocast (every weight cast to bfloat16 each step, every gradient back), torch's fused Adam, a
    LambdaLR schedule, the noise drawn inside the compiled graph. Kept to measure what the change bought."""
    torch.manual_seed(config.seed)
    model = VAE(model_config)
    optimizer = torch.optim.Adam(model.parameters(), lr=config.lr, fused=True)
    total = config.epochs * math.ceil(len(x) / config.batch_size)
    scheduler = torch.optim.lr_scheduler.LambdaLR(
        optimizer, lambda step: 0.5 * (1 + math.cos(math.pi * step / total)) if config.lr_schedule == "cosine" else 1.0)

    def terms(model: VAE, batch: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        with torch.autocast(batch.device.type, dtype=PRECISION_DTYPES[config.precision],
                            enabled=config.precision != "fp32"):
            eps = torch.randn(len(batch), model_config.latent_dim, device=batch.device)
            logits, mu, logvar = (t.float() for t in model(batch, eps))
        recon, kl = negative_elbo(logits, batch, mu, logvar, model_config.decoder)
        return recon.mean(), kl.mean()

    step = torch.compile(terms, dynamic=False) if config.compile else terms
    generator = torch.Generator().manual_seed(config.seed)

    def run() -> object:
        model.train()
        for idx in torch.randperm(len(x), generator=generator).split(config.batch_size):
            recon, kl = step(model, x[idx])
            optimizer.zero_grad(set_to_none=True)
            (recon + kl).backward()
            optimizer.step()
            scheduler.step()
        return model
    return run


def seeds_one_after_another(x: torch.Tensor, x_val: torch.Tensor, model_config: ModelConfig,
                            configs: list[TrainConfig]) -> float:
    """Seconds to train each config's model in turn the way the sweep's cells did before they were grouped, on
    every thread: the step of :func:`before_run`, ``epochs`` epochs each, validated after every epoch."""
    start_time = time.perf_counter()
    for config in configs:
        run = before_run(x, model_config, config)
        for _ in range(config.epochs):
            model = run()
            elbo_terms(model, x_val, seed=config.seed)
    return time.perf_counter() - start_time


def seeds_side_by_side(x: torch.Tensor, x_val: torch.Tensor, model_config: ModelConfig,
                       configs: list[TrainConfig]) -> float:
    """Seconds to train the configs' models as a sweep cell does now: side by side, one worker per core."""
    start_time = time.perf_counter()
    fit_group(model_config, configs, x, x_val, workers_for(len(configs)))
    return time.perf_counter() - start_time


def swap_in_torch_elu(model: VAE) -> None:
    """Replace every vae.model.ELU of ``model`` with torch's nn.ELU (which computes expm1), in place."""
    swapped = 0
    for block in (m for m in model.modules() if isinstance(m, nn.Sequential)):
        for i, layer in enumerate(block):
            if isinstance(layer, ELU):
                block[i] = nn.ELU()
                swapped += 1
    if not swapped:
        raise ValueError(f"no vae.model.ELU to replace in a model with activation {model.config.activation!r}")


def synced(model: VAE, batch: torch.Tensor, eps: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    """The project's loss terms plus a ``.item()`` each step, as loops that log every step's loss do."""
    recon, kl = batch_loss_terms(model, batch, eps)
    (recon + kl).item()
    return recon, kl


def through_log1p(model: VAE, batch: torch.Tensor, eps: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    """The project's loss terms with the reconstruction term from ``F.binary_cross_entropy_with_logits``
    (which goes through log1p) instead of vae.decoders' log(1 + exp)."""
    dtype = model.decoder[-1].weight.dtype
    mu, logvar = (t.float() for t in model.encode(batch.to(dtype)))
    logits = model.decode(reparameterize(mu, logvar, eps).to(dtype)).float()
    recon = F.binary_cross_entropy_with_logits(logits, batch, reduction="none").sum(dim=-1)
    return recon.mean(), gaussian_kl(mu, logvar).mean()


def through_torch_continuous_bernoulli(model: VAE, batch: torch.Tensor,
                                       eps: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    """The project's loss terms with the continuous-Bernoulli term from torch.distributions.ContinuousBernoulli
    (log1p, and its normaliser in lambda) instead of vae.decoders' (in the logit)."""
    dtype = model.decoder[-1].weight.dtype
    mu, logvar = (t.float() for t in model.encode(batch.to(dtype)))
    logits = model.decode(reparameterize(mu, logvar, eps).to(dtype)).float()
    recon = -ContinuousBernoulli(logits=logits).log_prob(batch).sum(dim=-1)
    return recon.mean(), gaussian_kl(mu, logvar).mean()


def evaluation_seconds(model: VAE, x: torch.Tensor) -> tuple[float, float]:
    """Seconds for the ELBO over ``x``: in training-size batches with autograd on, and as the project
    evaluates (batches of EVAL_BATCH under inference_mode)."""
    start = time.perf_counter()
    for batch in x.split(128):
        logits, mu, logvar = model(batch, torch.randn(len(batch), model.config.latent_dim))
        recon, kl = negative_elbo(logits, batch, mu, logvar, model.config.decoder)
        (recon + kl).sum().item()
    naive = time.perf_counter() - start
    start = time.perf_counter()
    elbo_terms(model, x, seed=0)
    return naive, time.perf_counter() - start
