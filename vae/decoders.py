"""The per-pixel likelihoods a VAE decoder can have, computed from the decoder's logits (one per pixel).

Two decoders, both parametrized by a logit eta per pixel with lambda = sigmoid(eta):

* ``bernoulli``: the project's original decoder, -log p(x|eta) = softplus(eta) - x eta. For grey levels x in
  [0, 1] it is not a normalized density (Loaiza-Ganem and Cunningham's "pervasive error"), but it is what the
  existing models were trained and evaluated with, so its arithmetic is kept bit for bit.
* ``continuous-bernoulli``: the continuous Bernoulli of Loaiza-Ganem and Cunningham (NeurIPS 2019),
  p(x|lambda) = C(lambda) lambda^x (1 - lambda)^(1 - x) on [0, 1], the Bernoulli term renormalized by
  log C(eta) = log(eta / tanh(eta / 2)). Its mean is not lambda, hence :func:`cb_mean` and its inverse
  :func:`cb_logits_for_mean`, which maps a mean (such as a Bernoulli decoder's output) to the CB logit that has it.

Why a module of its own rather than ``torch.distributions.ContinuousBernoulli``: torch's version parametrizes the
normalizer by lambda, goes through log1p (slow on some CPUs, docs/speed.md) and has no inverse of the mean map;
here everything is written in eta, with Taylor branches around eta = 0 where the closed forms cancel.
"""

from __future__ import annotations

import math

import torch
import torch.nn.functional as F

DECODERS = ("bernoulli", "continuous-bernoulli")

# Where the closed forms give way to their Taylor series, for log C, its slope and the mean. The closed forms
# cancel near 0: log C's slope is 1/eta - 1/sinh(eta) and the mean 1/(1 - e^-eta) - 1/eta, differences of terms
# of size 1/|eta| that float32 holds only to a relative 6e-8, so their absolute error grows like 2e-7/|eta| as
# |eta| shrinks (about 2e-6 at 0.1, 2e-5 at 0.01). The series, kept to eta^6 (log C) and eta^5 (mean), are off by
# their next terms, about 2.6e-5 eta^8 and 8e-7 eta^7, and so by 8 * 2.6e-5 eta^7 in log C's slope: 2e-11 at 0.1,
# 4e-8 at 0.3. At 0.1 the two branches meet within about 2e-6 of exact in float32 (log C's value within 3e-7),
# and the series are within 2e-11 of exact in float64 (values 3e-13), so float64 callers lose nothing either.
# Raising the cut towards 0.3 would trim the float32 error of the closed forms by a factor of 3 at most, at the
# price of three orders of magnitude in float64.
TAYLOR_CUT = 0.1

# log C(eta) - log 2 = sum_k _LOG_C_SERIES[k] eta^(2k+2); mean - 1/2 = sum_k _MEAN_SERIES[k] eta^(2k+1). Module
# constants (not literals in the formulas) so that the tests can plant a wrong coefficient and see themselves fail.
_LOG_C_SERIES = (1 / 12, -7 / 1440, 31 / 90720)
_MEAN_SERIES = (1 / 12, -1 / 720, 1 / 30240)

# What cb_logits_for_mean returns, with no clip, for the means 0 and 1 that no finite logit has: finite so that
# x * eta, softplus(eta) and log C(eta) stay finite (a log-density of about -1e300 per pixel, not NaN), and small
# enough that sums of ten million such terms do not overflow float64. Means within 1e-300 of 0 or 1 map to it too.
_MAX_ABS_LOGIT = 1e300
_NEWTON_STEPS = 6
_CHUNK = 1 << 16


def bernoulli_nll(logits: torch.Tensor, x: torch.Tensor) -> torch.Tensor:
    """-log p(x|z) per row: Bernoulli cross-entropy from logits, softplus(l) - x l, summed over pixels."""
    # softplus(l) = max(l, 0) + log(1 + exp(-|l|)), stable for any l. Not F.binary_cross_entropy_with_logits
    # or F.softplus: both go through log1p, whose AVX-512 kernel is much slower than log's on some CPUs
    # (the benchmark keeps torch's version as a lever; docs/speed.md). Rounding 1 + exp(-|l|) costs at most
    # half an fp32 ulp of 1 per pixel. -|l| is written with `where` so that its slope at l = 0 is 1, not
    # abs's 0, and the gradient there is sigmoid(0) - x, as torch's.
    minus_abs = torch.where(logits > 0, -logits, logits)
    return (F.relu(logits) - x * logits + torch.log(1 + torch.exp(minus_abs))).sum(dim=-1)


def _taylor_and_direct(logits: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    """(small, eta for the series, eta for the closed form): the "double where" inputs of both branches.

    Each branch only ever sees logits it is finite on (0 outside the cut for the series, whose eta^6 would
    overflow float32 beyond 1e6; 1 inside it for the closed form, which is 0/0 at 0), so that the branch
    torch.where discards contributes 0, not 0 * inf = NaN, to the gradient.
    """
    small = logits.abs() < TAYLOR_CUT
    return small, torch.where(small, logits, 0.0), torch.where(small, 1.0, logits)


def cb_log_normalizer(logits: torch.Tensor) -> torch.Tensor:
    """Elementwise log C(eta) = log(eta / tanh(eta / 2)) of the continuous Bernoulli, log 2 at eta = 0."""
    small, near, far = _taylor_and_direct(logits)
    s = near * near
    c1, c2, c3 = _LOG_C_SERIES
    series = math.log(2.0) + s * (c1 + s * (c2 + s * c3))
    # eta and tanh(eta / 2) share their sign, so the ratio is positive without abs, and it cannot overflow where
    # eta does not: tanh rounds to +-1 long before. One log of the ratio, not a difference of two: fewer kernels.
    closed = torch.log(far / torch.tanh(0.5 * far))
    return torch.where(small, series, closed)


def cb_nll(logits: torch.Tensor, x: torch.Tensor) -> torch.Tensor:
    """-log p(x|z) per row under the continuous Bernoulli: the Bernoulli term minus log C, summed over pixels."""
    return bernoulli_nll(logits, x) - cb_log_normalizer(logits).sum(dim=-1)


def reconstruction_nll(logits: torch.Tensor, x: torch.Tensor, decoder: str) -> torch.Tensor:
    """-log p(x|z) per row under ``decoder``, one of :data:`DECODERS`."""
    if decoder == "bernoulli":
        return bernoulli_nll(logits, x)
    if decoder == "continuous-bernoulli":
        return cb_nll(logits, x)
    raise ValueError(f"unknown decoder {decoder!r}; expected one of {DECODERS}")


def cb_mean(logits: torch.Tensor) -> torch.Tensor:
    """Elementwise mean of the continuous Bernoulli, 1/(1 - e^-eta) - 1/eta: 1/2 at 0, ~1/|eta| as eta -> -inf."""
    small, near, far = _taylor_and_direct(logits)
    s = near * near
    c1, c2, c3 = _MEAN_SERIES
    series = 0.5 + near * (c1 + s * (c2 + s * c3))
    # 1/(1 - e^-eta) as sigmoid(eta) / tanh(eta / 2): no exp overflow for large negative eta, where sigmoid
    # underflows to 0 and the mean is left as -1/eta, its asymptote.
    closed = torch.sigmoid(far) / torch.tanh(0.5 * far) - 1.0 / far
    return torch.where(small, series, closed)


def decoder_mean(logits: torch.Tensor, decoder: str) -> torch.Tensor:
    """The mean image a decoder's logits stand for: sigmoid for the Bernoulli, :func:`cb_mean` for the CB."""
    if decoder == "bernoulli":
        return torch.sigmoid(logits)
    if decoder == "continuous-bernoulli":
        return cb_mean(logits)
    raise ValueError(f"unknown decoder {decoder!r}; expected one of {DECODERS}")


def _reciprocal_mean_of_minus(t: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    """g(t) = 1 / cb_mean(-t) and its slope, for float64 t >= 0 up to the dtype's max.

    With r = t / (e^t - 1), cb_mean(-t) = (1 - r) / t, so g = t / (1 - r) and g' = (1 - r t - r^2) / (1 - r)^2:
    for large t, r underflows to 0 and g = t, g' = 1 exactly, where the mean and its slope (1/t, -1/t^2) would
    underflow to 0 and make a Newton step 0/0.
    """
    small = t < TAYLOR_CUT
    near = torch.where(small, t, 0.0)
    far = torch.where(small, 1.0, t)
    s = near * near
    c1, c2, c3 = _MEAN_SERIES
    h = 0.5 - near * (c1 + s * (c2 + s * c3))
    h_slope = -(c1 + s * (3 * c2 + s * 5 * c3))
    r = far / (torch.exp(far) - 1.0)
    one_minus_r = 1.0 - r
    g = far / one_minus_r
    g_slope = (1.0 - r * far - r * r) / (one_minus_r * one_minus_r)
    return torch.where(small, 1.0 / h, g), torch.where(small, -h_slope / (h * h), g_slope)


def cb_logits_for_mean(mean: torch.Tensor, clip: float) -> torch.Tensor:
    """The continuous-Bernoulli logit eta whose :func:`cb_mean` is ``mean``, in float64, any shape.

    With ``clip`` > 0, lambda = sigmoid(eta) is clipped to [clip, 1 - clip] (the paper's code clips at 1e-4), so
    eta to [-L, L] with L = log((1 - clip) / clip): means below cb_mean(-L) map to -L, means above cb_mean(L) to L,
    exact 0 and 1 included. With ``clip`` = 0 nothing is clipped: m maps to the logit with that mean, about -1/m
    near 0 and 1/(1 - m) near 1, and the means 0 and 1, which no finite logit has, map to -1e300 and +1e300 (as do
    means within 1e-300 of them). Finite on purpose: log-densities computed from the result in float64 are finite
    (about -1e300 per pixel whose value is not at that end, about +690 per pixel that is), never NaN as 0 * inf
    would make them. Keep the result in float64: cast to float32, 1e300 becomes inf and the NaN comes back.

    Accuracy: cb_mean of the result equals m to within ~1e-13 of min(m, 1 - m), relative to the nearer end, so
    1e-9 maps to -1e9 to 13 digits. Vectorized, in cache-sized slices: a test set's worth of means, 10,000 x 784,
    takes seconds on one CPU core.

    How: cb_mean(-eta) = 1 - cb_mean(eta), so it solves h(t) = cb_mean(-t) = s for t >= 0 with s = min(m, 1 - m)
    (1 - m is exact for m >= 1/2) and sets eta = -t or t. g(t) = 1/h(t) rises from 2 (slope 1/3) to t (slope 1)
    and is convex, so Newton's method on g(t) = 1/s, started at t = 1/s (where g(t) > t = 1/s: above the root),
    descends monotonically onto the root, quadratically once close; five steps reach float64 rounding for every s
    from 1e-300 to 1/2, and a sixth is margin.
    """
    if not 0.0 <= clip < 0.5:
        raise ValueError(f"clip must be in [0, 0.5), got {clip}")
    m = torch.as_tensor(mean, dtype=torch.float64)
    if torch.isnan(m).any() or (m < 0).any() or (m > 1).any():
        raise ValueError("means must lie in [0, 1]")
    t_max = math.log((1.0 - clip) / clip) if clip > 0 else _MAX_ABS_LOGIT
    flat = m.reshape(-1)
    eta = torch.empty_like(flat)
    # In slices that fit in cache: a whole-tensor pass allocates and faults in fresh pages for every one of the
    # dozens of temporaries per Newton step, an order of magnitude slower than the arithmetic itself.
    for part, out in zip(flat.split(_CHUNK), eta.split(_CHUNK)):
        upper = part > 0.5
        target = (1.0 / torch.where(upper, 1.0 - part, part)).clamp(max=_MAX_ABS_LOGIT)
        t = target
        for _ in range(_NEWTON_STEPS):
            g, g_slope = _reciprocal_mean_of_minus(t)
            t = (t - (g - target) / g_slope).clamp(min=0.0)
        t = t.clamp(max=t_max)
        out.copy_(torch.where(upper, t, -t))
    return eta.reshape(m.shape)


def cb_logits_for_bernoulli(logits: torch.Tensor) -> torch.Tensor:
    """The continuous-Bernoulli logit whose mean is a Bernoulli decoder's mean sigmoid(logit), unclipped, float64.

    Computed from the logit rather than from the mean: sigmoid(l) rounds to exactly 1 for l above about 37 in
    float64, where :func:`cb_logits_for_mean` would have to treat it as a point mass at 1. The smaller of m and
    1 - m, sigmoid(-|l|), is exact for any l down to float64's smallest numbers, and the map is odd about 1/2."""
    l = logits.double()
    low = cb_logits_for_mean(torch.sigmoid(-l.abs()), clip=0.0)
    return torch.where(l > 0, -low, low)
