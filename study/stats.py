"""Statistics the report draws across epochs and runs: how much a loss curve still fell at its end, and
the spread of a result across seeds."""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import pandas as pd

# The end of a run that convergence is judged on (a share of its epochs), and the fall of the validation
# loss over it, in nats, below which a run counts as settled. The report states both beside its verdicts.
CONVERGENCE_FRACTION = 0.2
SETTLED_FALL = 0.3


@dataclass(frozen=True)
class Convergence:
    epochs: int
    window: int  # the last ``window`` epochs
    start: float  # validation loss at the epoch before the window
    end: float  # validation loss at the last epoch

    @property
    def fall(self) -> float:
        return self.start - self.end


def convergence(val_losses: Sequence[float], fraction: float = CONVERGENCE_FRACTION) -> Convergence | None:
    """How much the validation loss fell over the last ``fraction`` of the epochs (at least one); None for a
    run of one epoch, which has no epoch before its last to compare with."""
    epochs = len(val_losses)
    window = max(1, round(fraction * epochs))
    if epochs <= window:
        return None
    return Convergence(epochs, window, val_losses[epochs - window - 1], val_losses[-1])


@dataclass(frozen=True)
class Spread:
    mean: float
    std: float  # sample standard deviation (n - 1), NaN for a single run
    runs: int

    @property
    def known(self) -> bool:
        """Whether the spread was measured: one run has none."""
        return not math.isnan(self.std)

    def text(self, decimals: int = 2, plus_minus: str = " ± ") -> str:
        """The mean and standard deviation, or the mean alone where one run has no spread."""
        return f"{self.mean:.{decimals}f}" + (f"{plus_minus}{self.std:.{decimals}f}" if self.known else "")

    def tex(self, decimals: int = 2) -> str:
        return self.text(decimals, " $\\pm$ ")


def spreads(runs: pd.DataFrame, column: str, by: Sequence[str]) -> dict[tuple, Spread]:
    """Mean, standard deviation and count of ``column`` in each group of ``runs`` by the columns ``by``."""
    grouped = runs.groupby(list(by))[column].agg(["mean", "std", "count"])
    return {key if isinstance(key, tuple) else (key,): Spread(row["mean"], row["std"], int(row["count"]))
            for key, row in grouped.iterrows()}


def twice_the_spread(a: Spread, b: Spread) -> float:
    """The noise a difference between two means is judged against: twice the larger standard deviation."""
    if not (a.known and b.known):
        raise ValueError("the spread of a single run is unknown: at least two seeds per group are needed")
    return 2 * max(a.std, b.std)


def exceeds_twice_the_spread(a: Spread, b: Spread) -> bool:
    """Whether two means differ by more than twice the larger of their standard deviations."""
    return abs(a.mean - b.mean) > twice_the_spread(a, b)


@dataclass(frozen=True)
class Step:
    """From one latent dimension of a sweep to the next: what the step bought, and the noise to judge it by."""

    start: int
    end: int
    gain: float  # mean at start minus mean at end: how much the measure fell
    noise: float  # twice the larger standard deviation

    @property
    def beyond_noise(self) -> bool:
        return abs(self.gain) > self.noise


def steps(spread: Mapping[int, Spread]) -> list[Step]:
    """Each step between consecutive latent dimensions of ``spread`` (d -> mean and spread over seeds)."""
    dims = sorted(spread)
    return [Step(a, b, spread[a].mean - spread[b].mean, twice_the_spread(spread[a], spread[b]))
            for a, b in zip(dims, dims[1:])]


def bend(loss_steps: Sequence[Step]) -> int | None:
    """The latent dimension from which on every step lowers the loss by less than twice the spread (a rise
    counts as less); None when the last step still buys more, so the curve has not flattened yet."""
    flat_from = None
    for step in loss_steps:
        if step.gain > step.noise:
            flat_from = None
        elif flat_from is None:
            flat_from = step.start
    return flat_from


def growth_stops(counts: Mapping[int, float]) -> int:
    """The latent dimension from which no larger one has a count higher by one or more: where the number of
    active units (a mean over seeds) stops growing."""
    dims = sorted(counts)
    return next(d for i, d in enumerate(dims) if all(counts[e] < counts[d] + 1 for e in dims[i + 1:]))
