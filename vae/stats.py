"""Statistics the report draws across epochs and runs: how much a loss curve still fell at its end, and
the spread of a result across seeds."""

from __future__ import annotations

import math
from collections.abc import Sequence
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


def convergence(val_losses: Sequence[float], fraction: float = CONVERGENCE_FRACTION) -> Convergence:
    """How much the validation loss fell over the last ``fraction`` of the epochs (at least one)."""
    epochs = len(val_losses)
    window = max(1, round(fraction * epochs))
    if epochs <= window:
        raise ValueError(f"a loss curve of {epochs} epochs has no epoch before its last {window}: "
                         f"judging convergence needs at least {window + 1}")
    return Convergence(epochs, window, val_losses[epochs - window - 1], val_losses[-1])


@dataclass(frozen=True)
class Spread:
    mean: float
    std: float  # sample standard deviation (n - 1), NaN for a single run
    runs: int

    def tex(self) -> str:
        return f"{self.mean:.2f} $\\pm$ {self.std:.2f}"


def spreads(runs: pd.DataFrame, column: str, by: Sequence[str]) -> dict[tuple, Spread]:
    """Mean, standard deviation and count of ``column`` in each group of ``runs`` by the columns ``by``."""
    grouped = runs.groupby(list(by))[column].agg(["mean", "std", "count"])
    return {key if isinstance(key, tuple) else (key,): Spread(row["mean"], row["std"], int(row["count"]))
            for key, row in grouped.iterrows()}


def exceeds_twice_the_spread(a: Spread, b: Spread) -> bool:
    """Whether two means differ by more than twice the larger of their standard deviations."""
    if math.isnan(a.std) or math.isnan(b.std):
        raise ValueError("the spread of a single run is unknown: at least two seeds per group are needed")
    return abs(a.mean - b.mean) > 2 * max(a.std, b.std)
