"""The bench's pure statistics: the sliding 1-second window, per-second bins, achieved rate."""

import math

import pytest

from bench import stats


def test_the_window_counts_events_in_any_half_open_second():
    # 0.0, 0.5 and 0.99 share a second; 1.0 starts the next one (half-open window).
    assert stats.max_in_window([0.0, 0.5, 0.99, 1.0, 1.2]) == 4  # 0.5, 0.99, 1.0, 1.2 < 1.5
    assert stats.max_in_window([0.0, 1.0, 2.0, 3.0]) == 1


def test_the_window_finds_a_burst_that_straddles_a_second_boundary():
    # Per whole-second bins show 3 and 3, but 0.7–1.6 holds 6: a sliding window is what a carrier counts.
    times = [0.1, 0.7, 0.8, 0.9, 1.1, 1.2, 1.6]
    assert stats.per_second(times, 0.0) == [4, 3]
    assert stats.max_in_window(times) == 6


def test_the_window_of_nothing_is_zero_and_order_does_not_matter():
    assert stats.max_in_window([]) == 0
    assert stats.max_in_window([3.0, 0.2, 0.1, 0.3]) == 3


def test_per_second_bins_skip_events_before_the_origin():
    assert stats.per_second([9.5, 10.0, 10.4, 12.9], 10.0) == [2, 0, 1]


def test_achieved_rate_is_intervals_over_the_span():
    assert stats.achieved_rate([0.0, 0.5, 1.0]) == pytest.approx(2.0)
    assert stats.achieved_rate([5.0]) == 0.0
    assert math.isinf(stats.achieved_rate([1.0, 1.0]))


def test_ratio_and_spread():
    assert stats.ratio(3.0, 2.0) == 1.5
    assert math.isinf(stats.ratio(1.0, 0.0))
    assert stats.spread([1.0, 1.0, 1.0, 1.0]) == 0.0
    assert math.isnan(stats.spread([1.0, 2.0]))
