"""The webhook retry schedule: exponential backoff from 5 s, capped at 15 min, ±20 % jitter, a horizon."""

from __future__ import annotations

import itertools

import pytest

from smsgw.webhooks.retry import RetryPolicy


def low(a: float, b: float) -> float:
    return a


def high(a: float, b: float) -> float:
    return b


def middle(a: float, b: float) -> float:
    return (a + b) / 2


def test_nominal_waits_start_at_5_seconds_double_and_stop_at_15_minutes():
    policy = RetryPolicy()
    assert [policy.nominal_wait(k) for k in range(1, 13)] == [
        5,
        10,
        20,
        40,
        80,
        160,
        320,
        640,
        900,
        900,
        900,
        900,
    ]
    assert policy.nominal_wait(10_000) == 900  # no overflow however long a delivery retries


def test_jitter_stays_within_20_percent_and_never_above_the_cap():
    assert RetryPolicy(uniform=low).wait(1) == pytest.approx(4.0)
    assert RetryPolicy(uniform=high).wait(1) == pytest.approx(6.0)
    assert RetryPolicy(uniform=middle).wait(3) == pytest.approx(20.0)
    assert RetryPolicy(uniform=low).wait(9) == pytest.approx(720.0)
    assert RetryPolicy(uniform=high).wait(9) == 900.0  # 1080 jittered, capped
    # With the real random source every wait is inside the bounds.
    policy = RetryPolicy()
    for failed in range(1, 20):
        nominal = policy.nominal_wait(failed)
        for _ in range(50):
            assert 0.8 * nominal <= policy.wait(failed) <= min(900.0, 1.2 * nominal)


def test_the_jitter_source_is_asked_for_the_20_percent_band():
    asked: list[tuple[float, float]] = []

    def spy(a: float, b: float) -> float:
        asked.append((a, b))
        return 1.0

    assert RetryPolicy(uniform=spy).wait(2) == 10.0
    assert asked == [(pytest.approx(0.8), pytest.approx(1.2))]


def test_retry_after_lengthens_a_wait_but_never_past_the_cap():
    policy = RetryPolicy(uniform=middle)
    assert policy.wait(1, retry_after=60) == 60
    assert policy.wait(1, retry_after=1) == 5  # shorter than the backoff: the backoff wins
    assert policy.wait(1, retry_after=86_400) == 900


def schedule(policy: RetryPolicy) -> list[float]:
    """Times of every attempt of a delivery that always fails, the first at t=0."""
    times = [0.0]
    while (
        next_at := policy.next_attempt_at(round_started_at=0.0, now=times[-1], failed_attempts=len(times))
    ) is not None:
        times.append(next_at)
    return times


def test_attempts_stop_at_the_horizon_measured_from_the_first_attempt():
    times = schedule(RetryPolicy(horizon_seconds=86_400, uniform=middle))
    waits = [b - a for a, b in itertools.pairwise(times)]
    assert waits[:9] == [5, 10, 20, 40, 80, 160, 320, 640, 900]
    assert set(waits[8:]) == {900}
    assert times[-1] <= 86_400 < times[-1] + 900
    # 9 attempts by t = 1275 s (5 + 10 + … + 640), then one every 15 min until a day has passed: 103.
    assert times[8] == 1275
    assert len(times) == 9 + (86_400 - 1275) // 900 == 103


def test_a_short_horizon_and_a_zero_horizon():
    assert schedule(RetryPolicy(horizon_seconds=60, uniform=middle)) == [0, 5, 15, 35]
    assert schedule(RetryPolicy(horizon_seconds=0)) == [0]
    policy = RetryPolicy(horizon_seconds=60, uniform=middle)
    # The horizon counts from the round's first attempt, not from now.
    assert policy.next_attempt_at(round_started_at=0, now=50, failed_attempts=1) == 55
    assert policy.next_attempt_at(round_started_at=0, now=56, failed_attempts=1) is None
