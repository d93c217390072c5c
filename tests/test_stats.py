"""Convergence of a loss curve and the spread of a result across seeds."""

from __future__ import annotations

import math

import pandas as pd
import pytest

from study import stats
from study.stats import Spread


def test_convergence_is_the_fall_over_the_last_fifth_of_the_epochs() -> None:
    curve = [10.0, 8.0, 7.0, 6.5, 6.0, 5.8, 5.7, 5.65, 5.6, 5.5]
    c = stats.convergence(curve)
    assert (c.epochs, c.window, c.start, c.end) == (10, 2, 5.65, 5.5)
    assert c.fall == pytest.approx(0.15)
    # At least one epoch, and one before it.
    assert stats.convergence([3.0, 2.0]).window == 1
    with pytest.raises(ValueError, match="a loss curve of 1 epochs has no epoch before its last 1"):
        stats.convergence([3.0])


def test_a_loss_that_rose_at_the_end_has_a_negative_fall() -> None:
    assert stats.convergence([5.0, 4.0, 3.0, 3.0, 3.5]).fall == pytest.approx(-0.5)


def test_spreads_group_mean_and_sample_standard_deviation() -> None:
    runs = pd.DataFrame({"recipe": ["a", "a", "a", "b", "b", "b"], "latent_dim": [1, 1, 1, 1, 1, 2],
                         "test_loss": [1.0, 2.0, 3.0, 10.0, 12.0, 7.0]})
    spread = stats.spreads(runs, "test_loss", ["recipe", "latent_dim"])
    assert spread[("a", 1)] == Spread(2.0, 1.0, 3)
    assert spread[("b", 1)].mean == 11.0 and spread[("b", 1)].std == pytest.approx(math.sqrt(2))
    assert spread[("b", 2)].runs == 1 and math.isnan(spread[("b", 2)].std)
    assert spread[("a", 1)].tex() == "2.00 $\\pm$ 1.00"


def test_twice_the_larger_spread_decides_what_is_beyond_noise() -> None:
    assert stats.exceeds_twice_the_spread(Spread(10.0, 0.5, 3), Spread(11.1, 0.2, 3))
    assert not stats.exceeds_twice_the_spread(Spread(10.0, 0.5, 3), Spread(10.9, 0.2, 3))
    assert not stats.exceeds_twice_the_spread(Spread(10.9, 0.2, 3), Spread(10.0, 0.5, 3))
    with pytest.raises(ValueError, match="at least two seeds"):
        stats.exceeds_twice_the_spread(Spread(10.0, math.nan, 1), Spread(20.0, 0.1, 3))
