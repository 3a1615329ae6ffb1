"""The shared carrier pacer: slots 1/rate apart across callers, deferral beyond max_wait (moto)."""

from __future__ import annotations

import itertools

import pytest

from smsgw.dispatch.pacing import Deferred, Slot, reserve_slot


def test_slots_are_spaced_by_the_rate_for_simultaneous_callers(aws):
    now = 1_800_000_000.0
    slots = [reserve_slot("carrier", 50, now, max_wait=10) for _ in range(100)]
    assert all(isinstance(slot, Slot) for slot in slots)
    times = [slot.at for slot in slots]  # type: ignore[union-attr]
    assert times[0] == pytest.approx(now)
    gaps = [b - a for a, b in itertools.pairwise(times)]
    assert all(gap == pytest.approx(0.02, abs=0.0011) for gap in gaps)
    # No 1-second window holds more than the rate.
    assert max(sum(1 for t in times if start <= t < start + 1) for start in times) <= 50


def test_a_slot_too_far_ahead_is_deferred_not_taken(aws):
    now = 1_800_000_000.0
    for _ in range(10):
        assert isinstance(reserve_slot("carrier", 1, now, max_wait=9), Slot)
    deferred = reserve_slot("carrier", 1, now, max_wait=9)
    assert isinstance(deferred, Deferred)
    assert deferred.seconds == pytest.approx(1, abs=0.01)
    # Deferring took no slot: once time moves on, the next slot is the one after the last taken.
    later = reserve_slot("carrier", 1, now + 5, max_wait=9)
    assert isinstance(later, Slot)
    assert later.at == pytest.approx(now + 10)


def test_an_idle_pacer_starts_at_now(aws):
    reserve_slot("carrier", 10, 1_800_000_000.0, max_wait=5)
    slot = reserve_slot("carrier", 10, 1_800_000_100.0, max_wait=5)
    assert isinstance(slot, Slot)
    assert slot.at == pytest.approx(1_800_000_100.0)


def test_pacers_are_independent(aws):
    now = 1_800_000_000.0
    reserve_slot("a", 1, now, max_wait=0)
    assert isinstance(reserve_slot("a", 1, now, max_wait=0), Deferred)
    assert isinstance(reserve_slot("b", 1, now, max_wait=0), Slot)
