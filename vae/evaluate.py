"""Evaluation without autograd, in large batches: ELBO terms, importance-weighted likelihood, latent means,
active units, and the measures that compare decoders (the ELBO read as a continuous Bernoulli, the pixel error
of reconstructions)."""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import torch

from vae.data import Split
from vae.decoders import cb_logits_for_bernoulli, cb_nll, decoder_mean, reconstruction_nll
from vae.loss import gaussian_kl, log_normal, negative_elbo
from vae.model import VAE, reparameterize
from vae.progress import progress

# Large batches amortise per-call overhead; 2,000 images of activations are a few MB.
EVAL_BATCH = 2000
# Decoded images per chunk of the importance-weighted estimate (samples x images): enough rows for efficient
# matmuls, few enough that the chunk's logits stay in the CPU's cache for the element-wise passes that score them.
IW_ROWS = 5000


@dataclass(frozen=True)
class ElboTerms:
    """Means over a set of images, in nats per image."""

    loss: float
    recon: float
    kl: float


def to_float_images(images: torch.Tensor) -> torch.Tensor:
    """uint8 (n, 28, 28) images to float rows in [0, 1], the input every model sees."""
    return images.reshape(len(images), -1).float().div_(255.0)


def split_tensors(splits: Mapping[str, Split], device: torch.device) -> dict[str, torch.Tensor]:
    """Every split's images as float rows on ``device``: the whole dataset is a few hundred MB, and holding
    it as one tensor lets training index batches directly instead of going through a DataLoader."""
    return {name: to_float_images(torch.from_numpy(split.images)).to(device) for name, split in splits.items()}


@torch.inference_mode()
def elbo_terms(model: VAE, x: torch.Tensor, seed: int) -> ElboTerms:
    """Negative ELBO and its two terms averaged over ``x``, one z sample per image.

    The sample noise comes from its own seeded generator so that validation losses
    do not depend on, or disturb, the training random stream.
    """
    model.eval()
    generator = torch.Generator(device=x.device).manual_seed(seed)
    recon_sum = kl_sum = 0.0
    for batch in x.split(EVAL_BATCH):
        mu, logvar = model.encode(batch)
        eps = torch.randn(mu.shape, generator=generator, device=x.device, dtype=mu.dtype)
        recon, kl = negative_elbo(model.decode(reparameterize(mu, logvar, eps)), batch, mu, logvar,
                                  model.config.decoder)
        recon_sum += recon.sum().item()
        kl_sum += kl.sum().item()
    n = len(x)
    return ElboTerms(loss=(recon_sum + kl_sum) / n, recon=recon_sum / n, kl=kl_sum / n)


@torch.inference_mode()
def importance_weighted_nll(model: VAE, x: torch.Tensor, samples: int, seed: int) -> float:
    """Estimate of -log p(x) in nats per image, averaged over ``x`` (Burda et al., 2016).

    With z_1..z_k drawn from q(z|x), log (1/k) sum_i p(x|z_i) p(z_i) / q(z_i|x) is a lower bound on
    log p(x) that equals the ELBO at k = 1 and tightens as k grows.
    """
    model.eval()
    generator = torch.Generator(device=x.device).manual_seed(seed)
    images_per_chunk = max(1, IW_ROWS // samples)
    total = 0.0
    for batch in progress(x.split(images_per_chunk), desc=f"-log p(x), k={samples}", unit="chunk", leave=False):
        mu, logvar = model.encode(batch)
        eps = torch.randn((samples, *mu.shape), generator=generator, device=x.device, dtype=mu.dtype)
        z = reparameterize(mu, logvar, eps)  # (samples, images, d)
        logits = model.decode(z)
        log_w = (-reconstruction_nll(logits, batch.expand_as(logits), model.config.decoder)
                 + log_normal(z, torch.zeros_like(z), torch.zeros_like(z))
                 - log_normal(z, mu, logvar))
        total -= (torch.logsumexp(log_w, dim=0) - math.log(samples)).sum().item()
    return total / len(x)


@torch.inference_mode()
def latent_means(model: VAE, x: torch.Tensor) -> torch.Tensor:
    """E_q[z|x] for every row of ``x``."""
    model.eval()
    return torch.cat([model.encode(batch)[0] for batch in x.split(EVAL_BATCH)])


def active_units(means: torch.Tensor, threshold: float = 0.01) -> int:
    """Latent dimensions whose E_q[z|x] varies across the data by more than ``threshold`` (Burda et al.)."""
    return int((means.var(dim=0) > threshold).sum().item())


def clip_logits(logits: torch.Tensor, clip: float) -> torch.Tensor:
    """``logits`` with lambda = sigmoid(logit) clipped to [clip, 1 - clip]; ``clip`` 0 leaves them as they are."""
    if clip == 0:
        return logits
    bound = math.log((1 - clip) / clip)
    return logits.clamp(-bound, bound)


@torch.inference_mode()
def continuous_bernoulli_nll(model: VAE, x: torch.Tensor, clips: Sequence[float], seed: int) -> dict[float, float]:
    """The negative ELBO of ``model`` read as a continuous Bernoulli on ``x`` (dequantized pixels), nats per image,
    for each clip of lambda to [clip, 1 - clip]: a continuous-Bernoulli decoder's own logits, and a Bernoulli
    decoder's means read through the inverse of the continuous Bernoulli's mean map (Loaiza-Ganem and
    Cunningham, 2019), so that both decoders are scored as densities over the same images. One z sample per image
    from the generator ``elbo_terms`` uses with the same seed: with clip 0 a continuous-Bernoulli model scores
    its own negative ELBO."""
    model.eval()
    generator = torch.Generator(device=x.device).manual_seed(seed)
    totals = dict.fromkeys(clips, 0.0)
    for batch in x.split(EVAL_BATCH):
        mu, logvar = model.encode(batch)
        eps = torch.randn(mu.shape, generator=generator, device=x.device, dtype=mu.dtype)
        logits = model.decode(reparameterize(mu, logvar, eps)).double()
        if model.config.decoder == "bernoulli":
            logits = cb_logits_for_bernoulli(logits)
        kl = gaussian_kl(mu, logvar).double()
        for clip in clips:
            totals[clip] += float((cb_nll(clip_logits(logits, clip), batch.double()) + kl).sum())
    return {clip: total / len(x) for clip, total in totals.items()}


@torch.inference_mode()
def reconstruction_mse(model: VAE, x_in: torch.Tensor, x_target: torch.Tensor) -> float:
    """Mean squared error per pixel of the decoder's mean at z = E_q[z|x] (what the model expects each pixel to
    be) against ``x_target``: a pixel error that compares across decoders, whose likelihoods do not."""
    model.eval()
    total = 0.0
    for batch, target in zip(x_in.split(EVAL_BATCH), x_target.split(EVAL_BATCH)):
        mean = decoder_mean(model.decode(model.encode(batch)[0]), model.config.decoder)
        total += float((mean - target).pow(2).sum())
    return total / x_target.numel()
