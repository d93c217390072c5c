"""The training loop: Adam on the negative ELBO, model selection on validation loss."""

from __future__ import annotations

import copy
import logging
import math
import os
import time
from collections.abc import Callable
from dataclasses import dataclass

import torch

from vae.errors import PipelineError
from vae.evaluate import elbo_terms
from vae.loss import negative_elbo
from vae.model import VAE, ModelConfig
from vae.progress import bars_enabled, progress

log = logging.getLogger(__name__)

DEVICES = ("auto", "cpu", "cuda")
LR_SCHEDULES = ("constant", "cosine")
# Of the training forward pass: "bf16" is autocast, with fp32 weights, loss and optimizer.
PRECISION_DTYPES = {"fp32": torch.float32, "bf16": torch.bfloat16}
PRECISIONS = tuple(PRECISION_DTYPES)


class TrainingDiverged(PipelineError):
    """The loss became NaN or infinite."""

    def __init__(self, epoch: int, loss: float) -> None:
        super().__init__(
            f"loss is {loss} at epoch {epoch}: training diverged (most often a learning rate too large for this model)"
        )
        self.epoch = epoch


@dataclass(frozen=True)
class TrainConfig:
    epochs: int
    batch_size: int
    lr: float
    seed: int
    lr_schedule: str = "constant"  # "cosine" decays the rate from lr to 0 over all steps
    kl_warmup_epochs: int = 0  # W: the KL term is weighted e / (W + 1) in epoch e <= W, then 1
    compile: bool = False  # torch.compile the forward pass and loss (fuses the element-wise work)
    precision: str = "fp32"  # "bf16": the forward pass under bfloat16 autocast; weights, loss and Adam stay fp32
    binarize: bool = False  # train on a fresh Bernoulli(grey level) sample of each batch (dynamic binarization)

    def __post_init__(self) -> None:
        if self.lr_schedule not in LR_SCHEDULES:
            raise ValueError(f"lr_schedule must be one of {LR_SCHEDULES}, got {self.lr_schedule!r}")
        if self.precision not in PRECISIONS:
            raise ValueError(f"precision must be one of {PRECISIONS}, got {self.precision!r}")

    def kl_weight(self, epoch: int) -> float:
        """Weight of the KL term during ``epoch`` (1-based), stepped once per epoch; the loss reported is
        always the unweighted ELBO."""
        return min(1.0, epoch / (self.kl_warmup_epochs + 1))


@dataclass(frozen=True)
class EpochRecord:
    """One row of the loss curve (columns of ``plots/loss-d{d}.csv``)."""

    epoch: int
    train_loss: float
    val_loss: float
    val_recon: float
    val_kl: float
    seconds: float


@dataclass(frozen=True)
class TrainResult:
    model: VAE  # the weights of the epoch with the lowest validation loss
    history: list[EpochRecord]
    best_epoch: int
    train_seconds: float


def resolve_device(name: str) -> torch.device:
    """``auto`` is CUDA when present, else the CPU."""
    if name == "auto":
        return torch.device("cuda" if torch.cuda.is_available() else "cpu")
    if name == "cuda" and not torch.cuda.is_available():
        raise PipelineError("train.device is 'cuda' but torch sees no CUDA device; use 'auto' or 'cpu'")
    return torch.device(name)


LossTerms = Callable[[VAE, torch.Tensor], tuple[torch.Tensor, torch.Tensor]]


def batch_loss_terms(model: VAE, batch: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    """Batch means of the reconstruction and KL terms, one z sample per image."""
    # The loss in fp32 whatever precision the model ran in: summing 784 bfloat16 terms would lose the
    # decimals the loss curves and model selection rely on.
    logits, mu, logvar = (t.float() for t in model(batch))
    recon, kl = negative_elbo(logits, batch, mu, logvar)
    return recon.mean(), kl.mean()


def under_autocast(loss_terms: LossTerms, dtype: torch.dtype) -> LossTerms:
    """``loss_terms`` under torch.autocast to ``dtype``: matmuls, and the element-wise work between them
    on a CPU, run in ``dtype``; the weights stay fp32."""
    def terms(model: VAE, batch: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        with torch.autocast(batch.device.type, dtype=dtype):
            return loss_terms(model, batch)
    return terms


def step_loss_terms(config: TrainConfig, loss_terms: LossTerms = batch_loss_terms) -> LossTerms:
    """``loss_terms`` as a training step runs it: under autocast for ``precision: bf16``, compiled for
    ``compile``."""
    if config.precision != "fp32":
        loss_terms = under_autocast(loss_terms, PRECISION_DTYPES[config.precision])
    # dynamic=False: two static graphs (full and last partial batch) run faster than one symbolic one.
    return torch.compile(loss_terms, dynamic=False) if config.compile else loss_terms


def binarized(batch: torch.Tensor, generator: torch.Generator) -> torch.Tensor:
    """A Bernoulli(grey level) sample of every pixel of ``batch``, as 0.0 or 1.0."""
    # Drawn from the CPU generator that also orders the batches, then moved: one stream, on any device.
    return (torch.rand(batch.shape, generator=generator).to(batch.device) < batch).to(batch.dtype)


def train_epoch(model: VAE, optimizer: torch.optim.Optimizer, scheduler: torch.optim.lr_scheduler.LRScheduler,
                x: torch.Tensor, batch_size: int, kl_weight: float, generator: torch.Generator,
                loss_terms: LossTerms = batch_loss_terms, binarize: bool = False) -> float:
    """One pass over ``x`` in a seeded random order; returns the mean (unweighted) negative ELBO. With
    ``binarize`` each batch is a fresh binary sample of its images."""
    model.train()
    order = torch.randperm(len(x), generator=generator).to(x.device)
    # Accumulate on the device: a .item() per step would sync and slow the loop.
    total = torch.zeros((), device=x.device)
    for idx in order.split(batch_size):
        batch = binarized(x[idx], generator) if binarize else x[idx]
        recon, kl = loss_terms(model, batch)
        optimizer.zero_grad(set_to_none=True)
        (recon + kl_weight * kl).backward()
        optimizer.step()
        scheduler.step()
        total += (recon + kl).detach() * len(idx)
    return total.item() / len(x)


def lr_scheduler(optimizer: torch.optim.Optimizer, config: TrainConfig,
                 steps_per_epoch: int) -> torch.optim.lr_scheduler.LRScheduler:
    """Per-step learning-rate factor: constant, or a cosine from 1 to 0 over the whole run."""
    total = config.epochs * steps_per_epoch
    if config.lr_schedule == "cosine":
        return torch.optim.lr_scheduler.LambdaLR(optimizer, lambda step: 0.5 * (1 + math.cos(math.pi * step / total)))
    return torch.optim.lr_scheduler.LambdaLR(optimizer, lambda step: 1.0)


def adam_with_schedule(model: VAE, config: TrainConfig,
                       n_train: int) -> tuple[torch.optim.Optimizer, torch.optim.lr_scheduler.LRScheduler]:
    """Adam at ``config.lr`` and its per-step schedule, for epochs of ``n_train`` images."""
    # The fused kernel does the whole parameter update in one pass instead of one kernel per tensor.
    optimizer = torch.optim.Adam(model.parameters(), lr=config.lr, fused=True)
    return optimizer, lr_scheduler(optimizer, config, steps_per_epoch=math.ceil(n_train / config.batch_size))


def fit(model_config: ModelConfig, x_train: torch.Tensor, x_val: torch.Tensor, config: TrainConfig) -> TrainResult:
    """Build a VAE on ``x_train``'s device, train it for ``config.epochs`` epochs, and keep the
    weights of the epoch with the lowest validation loss."""
    torch.manual_seed(config.seed)  # before the model exists, so its initial weights are seeded too
    # cuBLAS is deterministic only with a fixed workspace; without it CUDA matmuls raise under this flag.
    os.environ.setdefault("CUBLAS_WORKSPACE_CONFIG", ":4096:8")
    torch.use_deterministic_algorithms(True)
    model = VAE(model_config).to(x_train.device)
    generator = torch.Generator().manual_seed(config.seed)
    optimizer, scheduler = adam_with_schedule(model, config, len(x_train))
    loss_terms = step_loss_terms(config)
    history: list[EpochRecord] = []
    best_state, best_epoch, best_val = copy.deepcopy(model.state_dict()), 0, math.inf
    start = time.perf_counter()
    bar = progress(range(1, config.epochs + 1), desc=f"train d={model.config.latent_dim}", unit="epoch")
    for epoch in bar:
        epoch_start = time.perf_counter()
        train_loss = train_epoch(model, optimizer, scheduler, x_train, config.batch_size, config.kl_weight(epoch),
                                 generator, loss_terms, config.binarize)
        if not math.isfinite(train_loss):
            raise TrainingDiverged(epoch, train_loss)
        val = elbo_terms(model, x_val, seed=config.seed)
        if not math.isfinite(val.loss):
            raise TrainingDiverged(epoch, val.loss)
        record = EpochRecord(epoch, train_loss, val.loss, val.recon, val.kl, time.perf_counter() - epoch_start)
        history.append(record)
        if val.loss < best_val:
            best_state, best_epoch, best_val = copy.deepcopy(model.state_dict()), epoch, val.loss
        bar.set_postfix(train=f"{train_loss:.2f}", val=f"{val.loss:.2f}", best=f"{best_val:.2f}")
        if not bars_enabled():
            log.info("d=%d epoch %d/%d: train %.2f, val %.2f (recon %.2f, KL %.2f), %.1fs", model.config.latent_dim,
                     epoch, config.epochs, train_loss, val.loss, val.recon, val.kl, record.seconds)
    train_seconds = time.perf_counter() - start
    model.load_state_dict(best_state)
    return TrainResult(model.eval(), history, best_epoch, train_seconds)
