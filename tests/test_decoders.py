"""The decoders' per-pixel likelihoods (vae/decoders.py) against torch, exact float64 references and quadrature."""

from __future__ import annotations

import math
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager

import pytest
import torch
import torch.nn.functional as F
from torch.distributions import ContinuousBernoulli

from vae import decoders
from vae.decoders import (
    DECODERS,
    TAYLOR_CUT,
    bernoulli_nll,
    cb_log_normalizer,
    cb_logits_for_mean,
    cb_mean,
    cb_nll,
    decoder_mean,
    reconstruction_nll,
)

# The window of lambda the tests cover, from 1e-6 to 1 - 1e-6, dense around 1/2 (torch's Taylor window is
# (0.499, 0.501)), plus logits just either side of the cut and at, or next to, 0.
LAMBDAS = [1e-6, 1e-4, 1e-2, 0.1, 0.3, 0.45, 0.48, 0.49, 0.498, 0.499, 0.4995, 0.5 - 1e-5, 0.5]
_NEAR_CUT = [f * TAYLOR_CUT for f in (0.5, 0.9, 0.99, 0.999, 1.0, 1.001, 1.01, 1.1, 2.0)]
ETAS = sorted(
    {math.log(lam / (1 - lam)) for lam in LAMBDAS}
    | {-math.log(lam / (1 - lam)) for lam in LAMBDAS}
    | {s * e for s in (-1, 1) for e in _NEAR_CUT + [1e-30, 1e-8, 1e-3, 0.02]}
    | {0.0}
)

# Float64 accuracy the tests hold the CB to: some 10^4 ulps of log 2, far finer than float32. The series' truncation
# (next term of log C ~2.6e-5 eta^8, 3e-13 at the cut) stays below it; a wrong coefficient anywhere in them does not.
F64_ATOL = 1e-12


def _etas(dtype: torch.dtype = torch.float64) -> torch.Tensor:
    return torch.tensor(ETAS, dtype=dtype)


def _exact_log_c(eta: torch.Tensor) -> torch.Tensor:
    """log(eta / tanh(eta / 2)) in float64, independent of the module: the closed form, which has no cancellation
    in its value (only in its slope) down to |eta| ~ 1e-300; a series to eta^8 at 0, where it is 0/0."""
    eta = eta.double()
    s = eta * eta
    series = math.log(2) + s / 12 - 7 * s**2 / 1440 + 31 * s**3 / 90720 - 127 * s**4 / 4838400
    safe = torch.where(eta == 0, 1.0, eta)
    return torch.where(eta == 0, series, torch.log(safe.abs()) - torch.log(torch.tanh(safe / 2).abs()))


def _exact_mean(eta: torch.Tensor) -> torch.Tensor:
    """1/(1 - e^-eta) - 1/eta in float64: the closed form from |eta| = 0.3, where its cancellation costs ~1e-15;
    below, the Bernoulli-number series to eta^9, whose truncation there is ~1e-15."""
    eta = eta.double()
    small = eta.abs() < 0.3
    near = torch.where(small, eta, 0.0)
    far = torch.where(small, 1.0, eta)
    series = 0.5 + near / 12 - near**3 / 720 + near**5 / 30240 - near**7 / 1209600 + near**9 / 47900160
    return torch.where(small, series, 1 / (1 - torch.exp(-far)) - 1 / far)


def _pixels(dtype: torch.dtype) -> tuple[torch.Tensor, torch.Tensor]:
    """Every logit of ETAS against grey levels 0, 1 and ten random ones: shape (len(ETAS), 12, 1)."""
    x = torch.cat([torch.tensor([0.0, 1.0]), torch.rand(10, generator=torch.Generator().manual_seed(0))])
    eta, x = torch.broadcast_tensors(_etas(dtype)[:, None], x.to(dtype)[None, :])
    return eta[..., None].clone(), x[..., None].clone()


def _nll_gradient_error(dtype: torch.dtype) -> float:
    """Largest |d cb_nll / d eta - (E[x] - x)| over the pixels: the CB is an exponential family in eta with
    log-partition softplus(eta) - log C(eta), so the gradient of -log p is the mean minus the observation."""
    eta, x = _pixels(dtype)
    eta.requires_grad_()
    cb_nll(eta, x).sum().backward()
    assert eta.grad is not None and torch.isfinite(eta.grad).all()
    expected = _exact_mean(eta.detach()) - x.double()
    return (eta.grad.double() - expected).abs().max().item()


def _log_c_error() -> float:
    return (cb_log_normalizer(_etas()) - _exact_log_c(_etas())).abs().max().item()


def _mean_error(dtype: torch.dtype) -> float:
    return (cb_mean(_etas(dtype)).double() - _exact_mean(_etas())).abs().max().item()


@contextmanager
def _one_thread() -> Iterator[None]:
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    try:
        yield
    finally:
        torch.set_num_threads(threads)


# 1. The log-density against torch and an exact reference.


def test_cb_log_density_matches_torchs_continuous_bernoulli_in_float64() -> None:
    """-cb_nll per pixel equals ContinuousBernoulli(logits).log_prob over lambda in [1e-6, 1 - 1e-6] and x in
    [0, 1], to 1e-10 nats. Torch is the less accurate one where they differ: it works from lambda, whose rounded
    1 - lambda costs it ~1e-16 / min(lambda, 1 - lambda) (2e-12 at lambda = 1 - 1e-6); its Taylor window,
    lambda in (0.499, 0.501), truncates at O((lambda - 1/2)^6), below 1e-15. The strict comparison, to 1e-12,
    is against the exact log C in the next test."""
    eta, x = _pixels(torch.float64)
    ours = -cb_nll(eta, x)
    theirs = ContinuousBernoulli(logits=eta[..., 0]).log_prob(x[..., 0])
    assert torch.allclose(ours, theirs, rtol=0, atol=1e-10)


def test_cb_log_normalizer_matches_the_exact_value_and_torchs() -> None:
    """log C against the closed form in float64, exact to ~1e-15 everywhere but at 0, to 1e-12 (what the series
    are held to just below the cut); against torch's normalizer to 1e-10 (its rounding of 1 - lambda, above)."""
    eta = _etas()
    assert _log_c_error() < F64_ATOL
    assert torch.allclose(cb_log_normalizer(eta), ContinuousBernoulli(logits=eta)._cont_bern_log_norm(), atol=1e-10)
    assert cb_log_normalizer(torch.zeros(1)).item() == pytest.approx(math.log(2), abs=1e-7)


def test_cb_log_density_in_float32_is_within_float32_rounding_of_the_exact_one() -> None:
    """The float32 path (what training runs) agrees with the float64 reference to 2e-6 nats per pixel, on both
    sides of the cut, and is finite at saturated logits."""
    eta, x = _pixels(torch.float32)
    exact = (F.binary_cross_entropy_with_logits(eta.double(), x.double(), reduction="none") - _exact_log_c(eta))[..., 0]
    assert torch.allclose(cb_nll(eta, x).double(), exact, rtol=1e-6, atol=2e-6)
    huge = torch.tensor([[-1e30], [-1e4], [1e4], [1e30]])
    assert torch.isfinite(cb_nll(huge, torch.tensor([[0.0], [0.0], [1.0], [1.0]]))).all()


# 2. Normalization.


def _simpson(values: torch.Tensor, width: float) -> torch.Tensor:
    weights = torch.ones(values.shape[-1], dtype=values.dtype)
    weights[1:-1:2], weights[2:-1:2] = 4.0, 2.0
    return (values * weights).sum(dim=-1) * width / 3


@pytest.mark.parametrize("lam", [1e-4, 0.5 - 1e-5, 0.5, 0.5 + 1e-5, 1 - 1e-4])
def test_cb_density_integrates_to_one(lam: float) -> None:
    """Simpson's rule over x in [0, 1] with 4000 intervals: the density's steepest case, e^(eta x) with
    |eta| = 9.2 at lambda = 1e-4, has a quadrature error ~ (|eta| h)^4 / 180 ~ 1e-11, so 1e-8 is a real test.
    The Bernoulli "density" of the same logit does not integrate to 1 (the error the CB fixes)."""
    x = torch.linspace(0, 1, 4001, dtype=torch.float64)[:, None]
    eta = torch.full_like(x, math.log(lam) - math.log(1 - lam))
    assert _simpson(torch.exp(-cb_nll(eta, x)), 1 / 4000).item() == pytest.approx(1.0, abs=1e-8)
    assert _simpson(torch.exp(-bernoulli_nll(eta, x)), 1 / 4000).item() < 0.99


# 3. Gradients.


@pytest.mark.parametrize(("dtype", "atol"), [(torch.float64, 1e-9), (torch.float32, 5e-6)])
def test_cb_nll_gradient_is_finite_and_is_the_mean_minus_the_observation(dtype: torch.dtype, atol: float) -> None:
    """d(-log p)/d eta = E[x] - x on both sides of the cut and at eta = 0 exactly, finite everywhere. The float64
    tolerance is the series' truncation at the cut (~2e-11) with margin, the float32 one the closed form's
    cancellation there (~2e-6): a wrong series coefficient moves the slope by far more than either."""
    assert _nll_gradient_error(dtype) < atol


def test_cb_nll_gradient_matches_a_float64_finite_difference() -> None:
    """Autograd through both `where` branches against central differences of the value (step 1e-6, error
    ~1e-9): the discarded branch leaks nothing into the gradient, including at and next to eta = 0. Logits within
    a step of the cut are left out: there the difference straddles the branches' ~1e-13 mismatch, / 2e-6."""
    eta, x = _pixels(torch.float64)
    eta.requires_grad_()
    cb_nll(eta, x).sum().backward()
    assert eta.grad is not None
    h = 1e-6
    with torch.no_grad():
        difference = (cb_nll(eta + h, x) - cb_nll(eta - h, x)) / (2 * h)
    away_from_cut = (eta.detach().abs() - TAYLOR_CUT).abs()[..., 0] > 2 * h
    assert torch.allclose(eta.grad[..., 0][away_from_cut], difference[away_from_cut], rtol=0, atol=1e-7)


def test_cb_gradients_are_finite_at_zero_and_at_saturated_logits_in_both_dtypes() -> None:
    """No NaN or inf from the untaken branch: eta = 0 (0/0 in the closed form), eta = +-1e30 (inf in the series
    in float32), through cb_nll, cb_log_normalizer and cb_mean."""
    for dtype in (torch.float32, torch.float64):
        eta = torch.tensor([[0.0, -0.0, 1e-30, -1e30, 1e30, TAYLOR_CUT, -TAYLOR_CUT]], dtype=dtype, requires_grad=True)
        x = torch.full_like(eta, 0.5)
        (cb_nll(eta, x).sum() + cb_log_normalizer(eta).sum() + cb_mean(eta).sum()).backward()
        assert eta.grad is not None and torch.isfinite(eta.grad).all(), dtype
        # At 0 the slope of log C is 0 and the mean is 1/2, so the gradient of the nll is 1/2 - x = 0; of the mean
        # it is 1/12, so the total is 1/12 there.
        assert eta.grad[0, 0].item() == pytest.approx(1 / 12, abs=1e-6)


# 4. The tests catch a wrong Taylor coefficient.


@pytest.mark.parametrize(
    ("series", "index", "wrong", "check"),
    [
        ("_LOG_C_SERIES", 0, 1 / 10, lambda: _nll_gradient_error(torch.float32) > 5e-6),
        ("_LOG_C_SERIES", 1, -8 / 1440, lambda: _nll_gradient_error(torch.float64) > 1e-9),
        ("_LOG_C_SERIES", 2, 0.0, lambda: _log_c_error() > F64_ATOL),
        ("_MEAN_SERIES", 0, 1 / 10, lambda: _mean_error(torch.float32) > 4e-6),
        ("_MEAN_SERIES", 1, -1 / 700, lambda: _mean_error(torch.float64) > F64_ATOL),
        ("_MEAN_SERIES", 2, 0.0, lambda: _mean_error(torch.float64) > F64_ATOL),
    ],
)
def test_a_wrong_taylor_coefficient_fails_the_checks(
    monkeypatch: pytest.MonkeyPatch, series: str, index: int, wrong: float, check: Callable[[], bool]
) -> None:
    """Plant a wrong coefficient in a series (the first one wrong as 1/10 for 1/12, the later ones off by a few
    percent or dropped): the check the tests above make against the exact reference then fails."""
    coefficients = list(getattr(decoders, series))
    coefficients[index] = wrong
    monkeypatch.setattr(decoders, series, tuple(coefficients))
    assert check()


# 5. The mean.


def test_cb_mean_matches_the_exact_mean_and_torchs_away_from_its_unstable_region() -> None:
    """cb_mean against the float64 reference to 1e-12 everywhere, and in float32 to 4e-6 (the closed form's
    cancellation just above the cut, ~2e-6, with margin); against torch's mean, which, parametrized by lambda,
    cancels as lambda -> 1/2 (~1e-16 / |lambda - 1/2|), where lambda is outside [0.49, 0.51]."""
    eta = _etas()
    assert _mean_error(torch.float64) < F64_ATOL
    assert _mean_error(torch.float32) < 4e-6
    lam = torch.sigmoid(eta)
    stable = (lam < 0.49) | (lam > 0.51)
    torch_mean = ContinuousBernoulli(logits=eta[stable]).mean
    assert torch.allclose(cb_mean(eta[stable]), torch_mean, rtol=0, atol=1e-12)
    assert cb_mean(torch.zeros(1)).item() == 0.5


@pytest.mark.parametrize(("dtype", "atol"), [(torch.float64, 1e-13), (torch.float32, 4e-6)])
def test_cb_mean_is_continuous_across_the_cut(dtype: torch.dtype, atol: float) -> None:
    """The two branches agree where they meet: the last logit below the cut and the first at it (1e-13 in float64;
    in float32 4e-6, twice the closed form's cancellation error there)."""
    cut = torch.tensor(TAYLOR_CUT, dtype=dtype)
    below = torch.nextafter(cut, torch.zeros_like(cut))
    for sign in (1, -1):
        jump = (cb_mean(sign * cut) - cb_mean(sign * below)).abs().item()
        assert jump < atol


def test_cb_mean_is_monotone_symmetric_and_has_the_right_tails() -> None:
    """Strictly increasing in float64 over [-50, 50] in steps of 5e-4 and through the cut in steps of 1e-5 (each
    step moves the mean by far more than its rounding); cb_mean(-eta) = 1 - cb_mean(eta); ~1/|eta| as
    eta -> -inf and 1 - 1/eta as eta -> +inf, in both dtypes, up to the dtypes' extremes."""
    for eta in (torch.linspace(-50, 50, 200_001, dtype=torch.float64), torch.linspace(-0.2, 0.2, 40_001).double()):
        mean = cb_mean(eta)
        assert (mean.diff() > 0).all() and mean[0] > 0 and mean[-1] < 1
        assert torch.allclose(cb_mean(-eta), 1 - mean, rtol=0, atol=1e-13)
    for dtype in (torch.float32, torch.float64):
        big = torch.tensor([1e3, 1e6, 1e30], dtype=dtype)
        assert torch.allclose(cb_mean(-big) * big, torch.ones_like(big), rtol=1e-6)
        assert torch.allclose(cb_mean(big), 1 - 1 / big, rtol=1e-7)
        assert cb_mean(torch.tensor([-math.inf, math.inf], dtype=dtype)).tolist() == [0.0, 1.0]


def test_decoder_mean_is_sigmoid_for_the_bernoulli_and_cb_mean_for_the_cb() -> None:
    """The mean image of each decoder, for the same logits: the CB's is pulled towards 1/2."""
    eta = torch.linspace(-5, 5, 11)
    assert torch.equal(decoder_mean(eta, "bernoulli"), torch.sigmoid(eta))
    assert torch.equal(decoder_mean(eta, "continuous-bernoulli"), cb_mean(eta))
    assert (cb_mean(eta[eta > 0]) < torch.sigmoid(eta[eta > 0])).all()


# 6. The inverse of the mean map.


def _round_trip_error(mean: torch.Tensor) -> float:
    """|cb_mean(cb_logits_for_mean(m)) - m| relative to the distance min(m, 1 - m) to the nearer end."""
    back = cb_mean(cb_logits_for_mean(mean, clip=0.0))
    return ((back - mean).abs() / torch.minimum(mean, 1 - mean)).max().item()


def test_inverse_mean_map_round_trips_to_1e_12_relative_from_1e_9_to_1_minus_1e_9() -> None:
    """cb_mean(cb_logits_for_mean(m, 0)) = m within 1e-12 of min(m, 1 - m) (stricter than relative in m), on a
    grid dense in log scale towards both ends and through 1/2; unclipped, m = 1e-9 maps to eta = -1e9."""
    tail = torch.logspace(-9, math.log10(0.5), 20_001, dtype=torch.float64)
    mean = torch.cat([tail, torch.linspace(0, 1, 20_001, dtype=torch.float64)[1:-1], 1 - tail])
    assert _round_trip_error(mean) < 1e-12
    eta = cb_logits_for_mean(torch.tensor([1e-9, 0.5, 1 - 1e-9], dtype=torch.float64), clip=0.0)
    assert eta.dtype == torch.float64
    assert eta.tolist() == pytest.approx([-1e9, 0.0, 1e9], rel=1e-6, abs=1e-15)


def test_inverse_mean_map_with_a_clip_keeps_lambda_in_bounds() -> None:
    """With clip = 1e-4 lambda = sigmoid(eta) stays in [1e-4, 1 - 1e-4]; means beyond the mean at lambda = 1e-4
    (or its mirror) map to that bound, 0 and 1 included; means inside still round-trip."""
    clip = 1e-4
    bound = math.log((1 - clip) / clip)
    edge = cb_mean(torch.tensor(-bound, dtype=torch.float64)).item()
    mean = torch.cat([torch.tensor([0.0, 1e-12, 0.5 * edge, 1.0, 1 - 1e-12, 1 - 0.5 * edge]), torch.rand(1000)])
    eta = cb_logits_for_mean(mean, clip=clip)
    lam = torch.sigmoid(eta)
    assert (lam >= clip * (1 - 1e-12)).all() and (lam <= 1 - clip * (1 - 1e-12)).all()
    assert eta[:3].tolist() == [-bound] * 3 and eta[3:6].tolist() == [bound] * 3
    inside = (mean.double() > edge) & (mean.double() < 1 - edge)
    assert torch.allclose(cb_mean(eta[inside]), mean.double()[inside], rtol=1e-12, atol=0)


def test_inverse_mean_map_sends_exact_0_and_1_to_finite_logits_whose_log_density_is_never_nan() -> None:
    """Unclipped, 0 and 1 (and means closer to them than 1e-300) map to -1e300 and +1e300, as documented: finite,
    so the log-density in float64 is finite for every x in [0, 1] (huge and negative away from the mean's end)."""
    eta = cb_logits_for_mean(torch.tensor([0.0, 1e-310, 1.0]), clip=0.0)
    assert eta.tolist() == [-1e300, -1e300, 1e300]
    x = torch.tensor([0.0, 1e-9, 0.5, 1.0], dtype=torch.float64)
    log_density = -cb_nll(eta[:, None, None].expand(3, 4, 1), x[None, :, None].expand(3, 4, 1))
    assert torch.isfinite(log_density).all()
    assert log_density[0, 0] > 600 and log_density[0, 2] < -1e299 and log_density[2, 3] > 600


def test_inverse_mean_map_rejects_bad_input() -> None:
    """Means outside [0, 1] (or NaN) and clips outside [0, 1/2) are errors, not silent garbage."""
    for bad in ([-0.1], [1.1], [math.nan]):
        with pytest.raises(ValueError, match="means"):
            cb_logits_for_mean(torch.tensor(bad), clip=0.0)
    with pytest.raises(ValueError, match="clip"):
        cb_logits_for_mean(torch.tensor([0.5]), clip=0.5)


def test_inverse_mean_map_of_a_test_set_of_means_takes_seconds_on_one_core() -> None:
    """10,000 x 784 means (a test set of Bernoulli decoder outputs) in under 5 s on one thread, shape kept, and
    the round trip holds on them too."""
    mean = torch.rand(10_000, 784, generator=torch.Generator().manual_seed(1), dtype=torch.float64)
    with _one_thread():
        start = time.perf_counter()
        eta = cb_logits_for_mean(mean, clip=0.0)
        elapsed = time.perf_counter() - start
    assert elapsed < 5.0, elapsed
    assert eta.shape == mean.shape
    sample = mean.reshape(-1)[::97]
    assert _round_trip_error(sample) < 1e-12


# 7. The Bernoulli and the dispatch.


def _old_reconstruction_nll(logits: torch.Tensor, x: torch.Tensor) -> torch.Tensor:
    """vae/loss.py's reconstruction term as it was before the decoders module, verbatim."""
    minus_abs = torch.where(logits > 0, -logits, logits)
    return (F.relu(logits) - x * logits + torch.log(1 + torch.exp(minus_abs))).sum(dim=-1)


def test_bernoulli_is_the_old_code_bit_for_bit_and_torchs_cross_entropy() -> None:
    """reconstruction_nll(..., "bernoulli") equals the old expression exactly, values and gradients, in float32
    from saturated to near-zero logits; and torch's cross-entropy from logits to 1e-5 nats per row."""
    generator = torch.Generator().manual_seed(2)
    logits = torch.cat([torch.randn(8, 784, generator=generator) * 4, torch.linspace(-100, 100, 784)[None]])
    x = torch.rand(9, 784, generator=generator)
    ours_in, old_in = logits.clone().requires_grad_(), logits.clone().requires_grad_()
    ours, old = reconstruction_nll(ours_in, x, "bernoulli"), _old_reconstruction_nll(old_in, x)
    assert torch.equal(ours, old)
    ours.sum().backward()
    old.sum().backward()
    assert torch.equal(ours_in.grad, old_in.grad)
    reference = F.binary_cross_entropy_with_logits(logits.double(), x.double(), reduction="none").sum(dim=-1)
    assert torch.allclose(ours.double(), reference, rtol=1e-7, atol=1e-5 * 784)
    assert torch.equal(bernoulli_nll(logits, x), ours)


def test_cb_dispatch_is_cb_nll() -> None:
    """reconstruction_nll(..., "continuous-bernoulli") is cb_nll; at eta = 0 the CB is uniform, so it is 0."""
    logits, x = torch.randn(3, 784), torch.rand(3, 784)
    assert torch.equal(reconstruction_nll(logits, x, "continuous-bernoulli"), cb_nll(logits, x))
    assert torch.allclose(cb_nll(torch.zeros(3, 784), x), torch.zeros(3), atol=1e-4)
    assert DECODERS == ("bernoulli", "continuous-bernoulli")


@pytest.mark.parametrize("function", [reconstruction_nll, decoder_mean])
def test_an_unknown_decoder_is_a_value_error_naming_it_and_the_allowed_ones(function: Callable[..., object]) -> None:
    """A typo is an error that says what was given and what is allowed, not a silent fallback."""
    args = (torch.zeros(1, 2), torch.zeros(1, 2)) if function is reconstruction_nll else (torch.zeros(1, 2),)
    with pytest.raises(ValueError) as error:
        function(*args, "gaussian")
    assert "'gaussian'" in str(error.value)
    assert all(name in str(error.value) for name in DECODERS)


def test_a_bernoulli_logit_maps_to_the_cb_logit_of_its_mean_even_where_the_mean_rounds_to_one() -> None:
    """sigmoid(40) is exactly 1.0 in float64, yet its CB logit is finite: about 1 / sigmoid(-40) = 2.4e17."""
    logits = torch.tensor([-40.0, -3.0, 0.0, 3.0, 40.0], dtype=torch.float64)
    eta = decoders.cb_logits_for_bernoulli(logits)
    assert torch.allclose(decoders.cb_mean(eta[1:4]), torch.sigmoid(logits[1:4]), rtol=1e-12, atol=0)
    assert torch.equal(eta[:2], -eta.flip(0)[:2]) and eta[2] == 0
    assert eta[4] == pytest.approx(1 / torch.sigmoid(torch.tensor(-40.0, dtype=torch.float64)).item(), rel=1e-9)
