"""Training one VAE: Adam on the negative ELBO, model selection on validation loss.

A model's whole training state between two epochs is a :class:`Run`: its weights and Adam's moments as flat
tensors, the state of its own generator (batch order, pixel noise, the reparameterisation noise), its history.
An epoch is a function of a Run and the data, computed by a :class:`Trainer`, so a model can train its next
epoch wherever a core is free: that is how vae/group.py trains the seeds of a recipe side by side.
"""

from __future__ import annotations

import copy
import logging
import math
import os
import time
from collections.abc import Callable
from dataclasses import dataclass, field

import torch
from torch.nn.utils import parameters_to_vector, vector_to_parameters

from vae.errors import PipelineError
from vae.evaluate import elbo_terms
from vae.loss import negative_elbo
from vae.model import VAE, ModelConfig, reparameterize
from vae.pixels import PIXELS, presented
from vae.progress import bars_enabled, progress

log = logging.getLogger(__name__)

DEVICES = ("auto", "cpu", "cuda")
LR_SCHEDULES = ("constant", "cosine")
# What the training step multiplies in: "bf16" keeps a bfloat16 copy of the weights for the step's matmuls, while
# the weights Adam updates, the loss and every evaluation stay fp32.
PRECISION_DTYPES = {"fp32": torch.float32, "bf16": torch.bfloat16}
PRECISIONS = tuple(PRECISION_DTYPES)
# Adam's defaults (Kingma and Ba, 2015), as torch.optim.Adam has them.
BETA1, BETA2, ADAM_EPS = 0.9, 0.999, 1e-8


class TrainingDiverged(PipelineError):
    """The loss became NaN or infinite."""

    def __init__(self, epoch: int, loss: float) -> None:
        super().__init__(
            f"loss is {loss} at epoch {epoch}: training diverged (most often a learning rate too large for this model)"
        )
        self.epoch, self.loss = epoch, loss

    def __reduce__(self) -> tuple[type, tuple[int, float]]:
        # Raised in a worker process and re-raised here: rebuilt from its fields, not from its message.
        return TrainingDiverged, (self.epoch, self.loss)


@dataclass(frozen=True)
class TrainConfig:
    epochs: int
    batch_size: int
    lr: float
    seed: int
    lr_schedule: str = "constant"  # "cosine" decays the rate from lr to 0 over all steps
    kl_warmup_epochs: int = 0  # W: the KL term is weighted e / (W + 1) in epoch e <= W, then 1
    compile: bool = False  # torch.compile the loss and the Adam update (fuses the element-wise work)
    precision: str = "fp32"  # "bf16": the step's matmuls on a bfloat16 copy of the weights; Adam and the loss in fp32
    pixels: str = "grey"  # what a training batch shows the model: one of vae.pixels.PIXELS

    def __post_init__(self) -> None:
        if self.lr_schedule not in LR_SCHEDULES:
            raise ValueError(f"lr_schedule must be one of {LR_SCHEDULES}, got {self.lr_schedule!r}")
        if self.precision not in PRECISIONS:
            raise ValueError(f"precision must be one of {PRECISIONS}, got {self.precision!r}")
        if self.pixels not in PIXELS:
            raise ValueError(f"pixels must be one of {PIXELS}, got {self.pixels!r}")

    def kl_weight(self, epoch: int) -> float:
        """Weight of the KL term during ``epoch`` (1-based), stepped once per epoch; the loss reported is
        always the unweighted ELBO."""
        return min(1.0, epoch / (self.kl_warmup_epochs + 1))

    def lr_at(self, step: int, steps_per_epoch: int) -> float:
        """The learning rate of optimizer step ``step`` (0-based): constant, or a cosine from lr to 0 over the run."""
        if self.lr_schedule == "cosine":
            return self.lr * 0.5 * (1 + math.cos(math.pi * step / (self.epochs * steps_per_epoch)))
        return self.lr


@dataclass(frozen=True)
class EpochRecord:
    """One row of the loss curve (columns of ``plots/loss-d{d}.csv``)."""

    epoch: int
    train_loss: float
    val_loss: float
    val_recon: float
    val_kl: float
    seconds: float


@dataclass
class Run:
    """One model's training between two epochs: all the next epoch needs, and the record of the ones before.
    Its tensors live on the CPU, flat, in the order of ``VAE.parameters()``."""

    seed: int  # of its initial weights and its generator, and of its validation noise
    weights: torch.Tensor
    exp_avg: torch.Tensor
    exp_avg_sq: torch.Tensor
    rng_state: torch.Tensor  # of the model's own generator
    best_weights: torch.Tensor  # of the epoch with the lowest validation loss so far
    steps: int = 0
    best_epoch: int = 0
    best_val: float = math.inf
    history: list[EpochRecord] = field(default_factory=list)


@dataclass(frozen=True)
class TrainResult:
    model: VAE  # the weights of the epoch with the lowest validation loss
    history: list[EpochRecord]
    best_epoch: int
    train_seconds: float  # the epochs', validation included


def deterministic_torch() -> None:
    """Process-wide switches for repeatable training: deterministic kernels, and cuBLAS, which is deterministic
    only with a fixed workspace (without one, CUDA matmuls raise under the flag). Called by every entry point
    that trains: a stage's main, and each worker process of vae/group.py."""
    os.environ.setdefault("CUBLAS_WORKSPACE_CONFIG", ":4096:8")
    torch.use_deterministic_algorithms(True)


def resolve_device(name: str) -> torch.device:
    """``auto`` is CUDA when present, else the CPU."""
    if name == "auto":
        return torch.device("cuda" if torch.cuda.is_available() else "cpu")
    if name == "cuda" and not torch.cuda.is_available():
        raise PipelineError("train.device is 'cuda' but torch sees no CUDA device; use 'auto' or 'cpu'")
    return torch.device(name)


def start(model_config: ModelConfig, config: TrainConfig) -> Run:
    """A model's run before its first epoch: its initial weights and its generator, both from ``config.seed``."""
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(config.seed)  # nn.Linear draws its initial weights from torch's global generator
        weights = parameters_to_vector(VAE(model_config).parameters()).detach()
    return Run(seed=config.seed, weights=weights, exp_avg=torch.zeros_like(weights),
               exp_avg_sq=torch.zeros_like(weights), rng_state=torch.Generator().manual_seed(config.seed).get_state(),
               best_weights=weights.clone())


LossTerms = Callable[[VAE, torch.Tensor, torch.Tensor], tuple[torch.Tensor, torch.Tensor]]


def batch_loss_terms(model: VAE, batch: torch.Tensor, eps: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    """Batch means of the reconstruction and KL terms, one z sample per image (noise ``eps``), the matmuls in the
    dtype of the model's weights."""
    dtype = model.decoder[-1].weight.dtype
    # The loss in fp32 whatever precision the model ran in: summing 784 bfloat16 terms would lose the decimals
    # the loss curves and model selection rely on.
    mu, logvar = (t.float() for t in model.encode(batch.to(dtype)))
    logits = model.decode(reparameterize(mu, logvar, eps).to(dtype)).float()
    recon, kl = negative_elbo(logits, batch, mu, logvar, model.config.decoder)
    return recon.mean(), kl.mean()


def adam_update(weights: torch.Tensor, grads: list[torch.Tensor], exp_avg: torch.Tensor, exp_avg_sq: torch.Tensor,
                compute: torch.Tensor | None, step_size: torch.Tensor, eps: torch.Tensor) -> None:
    """One Adam step on the flat fp32 ``weights`` and moments, from ``grads`` (one per parameter, in the weights'
    order, in any dtype), rewriting the flat ``compute`` copy of the weights, if any, in the same pass. The bias
    corrections are folded into ``step_size`` and ``eps`` (see :func:`adam_constants`). Compiled, this is one loop
    over the flat buffers: reading the weights, moments and gradients once is most of a step's time outside the
    matmuls, and one tensor in place of a dozen is fewer guards to check per call."""
    g = torch.cat([grad.reshape(-1) for grad in grads]).float()
    exp_avg.lerp_(g, 1 - BETA1)
    exp_avg_sq.mul_(BETA2).addcmul_(g, g, value=1 - BETA2)
    weights.sub_(step_size * exp_avg / (exp_avg_sq.sqrt() + eps))
    if compute is not None:
        compute.copy_(weights)


def adam_constants(lr: float, step: int) -> tuple[float, float]:
    """Step size and epsilon of Adam's ``step``-th update (1-based) with the bias corrections folded in:
    lr / (1 - b1^t) * m / (sqrt(v / (1 - b2^t)) + eps) = step_size * m / (sqrt(v) + eps')."""
    root = math.sqrt(1 - BETA2**step)
    return lr * root / (1 - BETA1**step), ADAM_EPS * root


def as_views(params: list[torch.nn.Parameter], flat: torch.Tensor) -> list[torch.Tensor]:
    """Views of ``flat``, one per parameter and shaped like it, in order."""
    views, offset = [], 0
    for p in params:
        views.append(flat[offset:offset + p.numel()].view_as(p))
        offset += p.numel()
    return views


class Trainer:
    """What trains models of one architecture and recipe, any seed (``config.seed`` is not read): the fp32 weights
    and Adam's moments as flat buffers, the copy of the weights the step multiplies in, and the compiled step. A
    :class:`Run` is loaded into it for an epoch and taken out after.

    Under precision bf16 the step's model holds bfloat16 weights that Adam's update rewrites from the fp32 ones
    in the same pass (mixed precision with fp32 master weights): torch.autocast instead casts every weight to
    bfloat16 at every step and every gradient back, two more passes over memory."""

    def __init__(self, model_config: ModelConfig, config: TrainConfig, device: torch.device,
                 loss_terms: LossTerms = batch_loss_terms) -> None:
        self.model_config, self.config, self.device = model_config, config, device
        self.model = VAE(model_config).to(device)  # fp32: what validation evaluates
        params = list(self.model.parameters())
        self.weights = parameters_to_vector(params).detach().clone()
        for p, view in zip(params, as_views(params, self.weights)):
            p.data = view
        self.exp_avg, self.exp_avg_sq = torch.zeros_like(self.weights), torch.zeros_like(self.weights)
        dtype = PRECISION_DTYPES[config.precision]
        if dtype == torch.float32:
            self.step_model, self.compute = self.model, None
        else:
            self.step_model = copy.deepcopy(self.model).to(dtype)
            self.compute = self.weights.to(dtype)
            for p, view in zip(self.step_model.parameters(), as_views(params, self.compute)):
                p.data = view
        self.step_params = list(self.step_model.parameters())
        # dynamic=False: two static graphs (full and last partial batch) run faster than one symbolic one.
        self.loss_terms = torch.compile(loss_terms, dynamic=False) if config.compile else loss_terms
        self.update = torch.compile(adam_update, dynamic=False) if config.compile else adam_update

    def load(self, run: Run) -> torch.Generator:
        """Put ``run``'s weights and moments into the buffers; return its generator."""
        with torch.no_grad():
            for name in ("weights", "exp_avg", "exp_avg_sq"):
                getattr(self, name).copy_(getattr(run, name))
            if self.compute is not None:
                self.compute.copy_(self.weights)
        generator = torch.Generator()
        generator.set_state(run.rng_state)
        return generator

    def epoch(self, run: Run, x_train: torch.Tensor, x_val: torch.Tensor) -> Run:
        """``run`` after one more epoch over ``x_train`` and its validation on ``x_val`` (evaluation images: see
        vae.pixels.evaluation_images); the weights kept are those of its best validation epoch so far."""
        start_time = time.perf_counter()
        epoch = len(run.history) + 1
        generator = self.load(run)
        steps, train_loss = self.train_epoch(x_train, epoch, run.steps, generator)
        if not math.isfinite(train_loss):
            raise TrainingDiverged(epoch, train_loss)
        val = elbo_terms(self.model, x_val, seed=run.seed)
        if not math.isfinite(val.loss):
            raise TrainingDiverged(epoch, val.loss)
        record = EpochRecord(epoch, train_loss, val.loss, val.recon, val.kl, time.perf_counter() - start_time)
        # Copies: the buffers train the next epoch, of this model or another.
        weights = self.weights.to("cpu", copy=True)
        improved = val.loss < run.best_val
        return Run(seed=run.seed, weights=weights, exp_avg=self.exp_avg.to("cpu", copy=True),
                   exp_avg_sq=self.exp_avg_sq.to("cpu", copy=True),
                   rng_state=generator.get_state(), steps=steps,
                   best_weights=weights if improved else run.best_weights,
                   best_epoch=epoch if improved else run.best_epoch, best_val=min(val.loss, run.best_val),
                   history=[*run.history, record])

    def train_epoch(self, x: torch.Tensor, epoch: int, steps: int, generator: torch.Generator) -> tuple[int, float]:
        """One pass over ``x`` in the generator's random order, each batch presented as ``config.pixels`` asks;
        returns the optimizer steps taken so far and the epoch's mean (unweighted) negative ELBO."""
        config, latent_dim = self.config, self.model_config.latent_dim
        self.step_model.train()
        steps_per_epoch = math.ceil(len(x) / config.batch_size)
        kl_weight = config.kl_weight(epoch)
        order = torch.randperm(len(x), generator=generator).to(x.device)
        # Accumulate on the device: a .item() per step would sync and slow the loop.
        total = torch.zeros((), device=x.device)
        for idx in order.split(config.batch_size):
            batch = presented(x.index_select(0, idx), config.pixels, generator)
            eps = torch.randn(len(idx), latent_dim, generator=generator).to(x.device)
            recon, kl = self.loss_terms(self.step_model, batch, eps)
            for p in self.step_params:
                p.grad = None
            (recon + kl_weight * kl).backward()
            step_size, eps_hat = adam_constants(config.lr_at(steps, steps_per_epoch), steps + 1)
            steps += 1
            with torch.no_grad():
                # As tensors: a compiled function would be recompiled for every new Python float.
                self.update(self.weights, [p.grad for p in self.step_params], self.exp_avg, self.exp_avg_sq,
                            self.compute, torch.tensor(step_size, device=x.device),
                            torch.tensor(eps_hat, device=x.device))
            total += (recon + kl).detach() * len(idx)
        return steps, total.item() / len(x)


def result(model_config: ModelConfig, run: Run, device: torch.device) -> TrainResult:
    """The model of ``run``'s best validation epoch, in a VAE of its own on ``device``, with the run's history."""
    model = VAE(model_config)
    vector_to_parameters(run.best_weights, model.parameters())
    return TrainResult(model.to(device).eval(), run.history, run.best_epoch, sum(r.seconds for r in run.history))


def log_epoch(model_config: ModelConfig, config: TrainConfig, record: EpochRecord) -> None:
    """One line per epoch where no progress bar is drawn (CI, logs)."""
    if not bars_enabled():
        log.info("d=%d seed %d epoch %d/%d: train %.2f, val %.2f (recon %.2f, KL %.2f), %.1fs",
                 model_config.latent_dim, config.seed, record.epoch, config.epochs, record.train_loss, record.val_loss,
                 record.val_recon, record.val_kl, record.seconds)


def fit(model_config: ModelConfig, x_train: torch.Tensor, x_val: torch.Tensor, config: TrainConfig) -> TrainResult:
    """Train one model in this process, on ``x_train``'s device and every torch thread, for ``config.epochs``
    epochs, and keep the weights of the epoch with the lowest validation loss."""
    trainer = Trainer(model_config, config, x_train.device)
    run = start(model_config, config)
    bar = progress(range(config.epochs), desc=f"train d={model_config.latent_dim}", unit="epoch")
    for _ in bar:
        run = trainer.epoch(run, x_train, x_val)
        record = run.history[-1]
        bar.set_postfix(train=f"{record.train_loss:.2f}", val=f"{record.val_loss:.2f}", best=f"{run.best_val:.2f}")
        log_epoch(model_config, config, record)
    return result(model_config, run, x_train.device)
