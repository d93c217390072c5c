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
    # At least one epoch, and one before it: a single epoch cannot be judged.
    assert stats.convergence([3.0, 2.0]).window == 1
    assert stats.convergence([3.0]) is None


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


def test_steps_along_d_compare_each_gain_with_twice_the_larger_spread() -> None:
    curve = {1: Spread(150.0, 0.5, 3), 2: Spread(135.0, 0.4, 3), 4: Spread(134.5, 0.3, 3)}
    first, second = stats.steps(curve)
    assert (first.start, first.end, first.gain, first.noise) == (1, 2, 15.0, 1.0) and first.beyond_noise
    assert (second.gain, second.noise) == (pytest.approx(0.5), 0.8) and not second.beyond_noise
    with pytest.raises(ValueError, match="at least two seeds"):
        stats.steps({1: Spread(150.0, math.nan, 1), 2: Spread(140.0, math.nan, 1)})


def step(start: int, gain: float, noise: float = 1.0) -> stats.Step:
    return stats.Step(start, 2 * start, gain, noise)


def test_the_bend_is_where_every_later_step_stays_within_the_noise() -> None:
    assert stats.bend([step(1, 15), step(2, 5), step(4, 0.5), step(8, -0.2)]) == 4
    # A step beyond the noise after a small one moves the bend past it.
    assert stats.bend([step(1, 15), step(2, 0.5), step(4, 3), step(8, 0.1)]) == 8
    # A curve still falling at its end has not bent; a flat one bends at its start.
    assert stats.bend([step(1, 15), step(2, 0.5), step(4, 3)]) is None
    assert stats.bend([step(1, 0.2), step(2, -0.1)]) == 1


def test_active_units_stop_growing_where_no_larger_d_adds_a_whole_unit() -> None:
    assert stats.growth_stops({1: 1, 2: 2, 4: 4, 8: 7.7, 16: 12.3, 32: 13.0, 64: 12.7}) == 16
    assert stats.growth_stops({1: 1, 2: 2, 4: 4}) == 4  # still growing at the largest d
    assert stats.growth_stops({1: 1, 2: 1.3, 4: 1.0}) == 1
