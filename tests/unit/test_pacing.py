"""The shared carrier pacer: slots 1/rate apart across callers, deferral beyond max_wait (moto)."""

from __future__ import annotations

import itertools
import threading
from collections.abc import Callable
from functools import partial

import pytest

from local.testing import poll
from smsgw.dispatch.pacing import Deferred, Slot, reserve_slot
from smsgw.dispatch.service import _wait_for_slot as wait_for_slot


def test_slots_are_spaced_by_the_rate_for_simultaneous_callers(aws):
    now = 1_800_000_000.0
    slots = [reserve_slot("carrier", 50, now, max_wait=10) for _ in range(100)]
    assert all(isinstance(slot, Slot) for slot in slots)
    times = [slot.at for slot in slots]  # type: ignore[union-attr]
    assert times[0] - now == pytest.approx(0.02, abs=1e-6)  # an idle pacer's first slot: an interval on
    gaps = [b - a for a, b in itertools.pairwise(times)]
    assert all(gap == pytest.approx(0.02, abs=0.0011) for gap in gaps)
    # No 1-second window holds more than the rate.
    assert max(sum(1 for t in times if start <= t < start + 1) for start in times) <= 50


@pytest.mark.parametrize("rate", [48.5, 14.55, 970.0])
def test_a_busy_pacer_hands_out_exactly_its_rate_of_slots(aws, rate):
    # Not a whole number of milliseconds apart: 48.5/s is 20.62 ms (rounded to 21 ms, the carrier saw
    # 47.6/s = 0.952 of 50), 970/s is 1.03 ms (rounded to 1 ms: 1000/s, over a carrier's limit of 1000).
    now = 1_800_000_000.0
    slots = [reserve_slot("carrier", rate, now, max_wait=1_000) for _ in range(1000)]
    times = [slot.at for slot in slots]  # type: ignore[union-attr]
    assert (times[-1] - times[0]) == pytest.approx(999 / rate, rel=1e-4)


def test_a_slot_too_far_ahead_is_deferred_not_taken(aws):
    now = 1_800_000_000.0
    for _ in range(9):  # now + 1 … now + 9
        assert isinstance(reserve_slot("carrier", 1, now, max_wait=9), Slot)
    deferred = reserve_slot("carrier", 1, now, max_wait=9)
    assert isinstance(deferred, Deferred)
    assert deferred.seconds == pytest.approx(1, abs=0.01)
    # Deferring took no slot: once time moves on, the next slot is the one after the last taken.
    later = reserve_slot("carrier", 1, now + 5, max_wait=9)
    assert isinstance(later, Slot)
    assert later.at == pytest.approx(now + 10)


def test_an_idle_pacer_starts_one_interval_after_now(aws):
    """Not at now: the write that restarts it takes time, and a slot at now would be reached late while
    the next holder sends on time (tests/unit/test_pacing.py, benchmark 1b)."""
    reserve_slot("carrier", 10, 1_800_000_000.0, max_wait=5)
    slot = reserve_slot("carrier", 10, 1_800_000_100.0, max_wait=5)
    assert isinstance(slot, Slot)
    assert slot.at - 1_800_000_100.0 == pytest.approx(0.1, abs=1e-6)


@pytest.fixture
def writes(aws, monkeypatch) -> list[str]:
    """The pacer writes made (advance or restart), by a process that has taken no slot yet."""
    from smsgw.dispatch import pacing, repository

    monkeypatch.setattr(pacing, "_pacers", {})  # what earlier tests' slots taught this process
    monkeypatch.setattr(pacing, "_on_the_way", pacing._OnTheWay())  # records a failed test left on their way
    made: list[str] = []
    # One write at a time, as DynamoDB applies each item's writes atomically (moto, from threads, does not).
    atomic = threading.Lock()

    def recorded(*arguments: object, real: Callable[..., object], name: str) -> object:
        with atomic:
            made.append(name)
            return real(*arguments)

    for name in ("advance_pacer", "restart_pacer"):
        monkeypatch.setattr(repository, name, partial(recorded, real=getattr(repository, name), name=name))
    return made


def test_an_idle_pacer_costs_one_write_and_a_busy_one_too(writes):
    from smsgw.dispatch import repository

    now = 1_800_000_000.0
    reserve_slot("carrier", 10, now, max_wait=5)
    assert writes == ["restart_pacer"]  # never used by this process: idle, restarted at once
    reserve_slot("carrier", 10, now, max_wait=5)
    assert writes == ["restart_pacer", "advance_pacer"]  # just used: busy, advanced at once
    writes.clear()
    reserve_slot("carrier", 10, now + 60, max_wait=5)
    assert writes == ["restart_pacer"]  # unused for a minute: idle again
    writes.clear()
    # Alone on the pacer, this process knows its tat (now + 60.1): idle as soon as that has passed.
    reserve_slot("carrier", 10, now + 60.3, max_wait=5)
    assert writes == ["restart_pacer"]
    writes.clear()
    # Another process takes slots too: its tat moves on without this one knowing. Once seen, the next
    # guess is "busy" for a second (right here: the other's slots are ahead).
    repository.advance_pacer("carrier", 0.1, now + 60.3, now + 70)
    repository.advance_pacer("carrier", 0.1, now + 60.3, now + 70)
    writes.clear()
    reserve_slot("carrier", 10, now + 60.35, max_wait=5)
    assert writes == ["advance_pacer"]  # known tat (60.4) not passed: busy, and the tat seen was another's
    writes.clear()
    reserve_slot("carrier", 10, now + 60.9, max_wait=5)
    # Its known tat passed, but others are about: still a busy guess (wrong this time, the others
    # stopped: one write more, as before this process told the two cases apart).
    assert writes == ["advance_pacer", "restart_pacer"]
    writes.clear()
    reserve_slot("carrier", 10, now + 63, max_wait=5)
    assert writes == ["restart_pacer"]  # nobody for over a second: idle


def test_pacers_are_independent(aws):
    now = 1_800_000_000.0
    reserve_slot("a", 1, now, max_wait=0)
    assert isinstance(reserve_slot("a", 1, now, max_wait=0), Deferred)
    assert isinstance(reserve_slot("b", 1, now, max_wait=0), Slot)


def _sleep_that_oversleeps(clock: list[float], late_by: list[float]) -> Callable[[float], None]:
    """Advances a fake clock by the wait, plus the next of `late_by` (a busy machine wakes late)."""

    def sleep(seconds: float) -> None:
        clock[0] += seconds + (late_by.pop(0) if late_by else 0.0)

    return sleep


def test_a_slot_reached_too_late_is_left_unused_and_the_next_one_is_taken(aws):
    """Sent 40 ms after its slot, a message lands right before the next slot's holder: at R = 24 with 3 %
    headroom that is 25 in one second at the carrier, which throttles. The late slot is skipped."""
    clock = [1_800_000_000.0]
    reserve_slot("carrier", 20, clock[0], max_wait=5)  # the pacer is busy: the next slots are ahead
    sleep = _sleep_that_oversleeps(clock, late_by=[0.040, 0.002])

    slot = wait_for_slot("carrier", 20, 10, clock[0] + 60, sleep, lambda: clock[0])

    assert isinstance(slot, Slot)
    assert slot.at == pytest.approx(1_800_000_000.10)  # the one at +0.05 was reached at +0.09: skipped
    assert clock[0] - slot.at == pytest.approx(0.002, abs=1e-6)  # on time for the one it uses


def test_a_slot_reached_in_time_is_used_and_an_idle_pacers_first_slot_is_an_interval_after_its_write(aws):
    clock = [1_800_000_000.0]
    # The pacer write takes 30 ms: every reading after the first two (the caller's, and the pacer's
    # when its turn comes) is 30 ms on. The restarted pacer's first slot is 50 ms after the write's
    # start: reached on time, where a slot at the write's start would be reached 30 ms late.
    readings = itertools.chain([clock[0], clock[0]], itertools.repeat(clock[0] + 0.03))
    idle = wait_for_slot(
        "carrier", 20, 10, clock[0] + 60, _sleep_that_oversleeps(clock, []), lambda: next(readings)
    )
    assert isinstance(idle, Slot)
    assert idle.at == pytest.approx(1_800_000_000.05)

    busy = wait_for_slot(
        "carrier", 20, 10, clock[0] + 60, _sleep_that_oversleeps(clock, late_by=[0.010]), lambda: clock[0]
    )
    assert isinstance(busy, Slot)
    assert busy.at == pytest.approx(1_800_000_000.10)  # 10 ms late: within LATE_SLOT_SECONDS, used


def _reserve_together(pacer: str, threads: int, now: float, max_wait: float = 5) -> list[Slot | Deferred]:
    """`threads` reservations from threads of this process that all ask before the first write is made
    (a batch's records: they claim their messages, then reserve, within milliseconds)."""
    from concurrent.futures import ThreadPoolExecutor

    from smsgw.dispatch import pacing

    known = pacing._pacer(pacer)
    with ThreadPoolExecutor(max_workers=threads) as pool:
        with known.turn:  # the first write waits until every thread asks
            futures = [pool.submit(reserve_slot, pacer, 30, now, max_wait) for _ in range(threads)]
            poll(lambda: known.waiting == threads, timeout=10, what="every thread to ask")
        return [future.result() for future in futures]


def test_a_batch_reserving_at_once_on_an_idle_pacer_writes_once_for_all(writes):
    """The thread whose turn it is reserves for every thread waiting behind it: one write, ten slots."""
    now = 1_800_000_000.0
    slots = _reserve_together("batch", 10, now)
    assert sorted(round((slot.at - now) * 30) for slot in slots) == list(range(1, 11))
    assert writes == ["restart_pacer"]
    # The pacer is busy now: the next batch advances it, once.
    writes.clear()
    later = _reserve_together("batch", 10, now)
    assert sorted(round((slot.at - now) * 30) for slot in later) == list(range(11, 21))
    assert writes == ["advance_pacer"]


def test_a_batch_takes_only_the_slots_that_fit_before_its_max_wait(writes):
    """Slots beyond max_wait are not taken: as many as fit, the others deferred (not slept past it)."""
    now = 1_800_000_000.0
    reserve_slot("full", 30, now, max_wait=5)  # busy from now on: its slot +1/30, the next +2/30
    results = _reserve_together("full", 10, now, max_wait=0.11)  # room for slots at +2/30 and +3/30
    slots = sorted(result.at for result in results if isinstance(result, Slot))
    assert [round((at - now) * 30) for at in slots] == [2, 3]
    assert all(isinstance(result, Deferred) for result in results if not isinstance(result, Slot))


def test_threads_of_one_batch_never_look_like_another_process(writes):
    """They take turns, so each knows the tat the previous one left: the next reservation is guessed
    right (advance), with no failed write."""
    now = 1_800_000_000.0
    _reserve_together("own", 10, now)
    _reserve_together("own", 3, now + 0.2)
    writes.clear()
    reserve_slot("own", 30, now + 0.3, max_wait=5)
    assert writes == ["advance_pacer"]


def test_a_thread_that_waited_for_its_turn_restarts_an_idle_pacer_from_the_moment_of_its_write(writes):
    """Its `now` is from before it waited for other threads' writes: slots from then would be reached
    late, and skipped."""
    asked, turn = 1_800_000_000.0, 1_800_000_000.04
    slot = reserve_slot("stale", 24, asked, max_wait=5, clock=lambda: turn)
    assert isinstance(slot, Slot)
    assert slot.at == pytest.approx(turn + 1 / 24)
    following = reserve_slot("stale", 24, turn, max_wait=5)
    assert isinstance(following, Slot)
    assert following.at == pytest.approx(turn + 2 / 24)


def test_an_idle_pacer_restarted_near_the_deadline_reserves_only_what_fits(writes):
    """A batch that restarts an idle pacer with little time left takes no slot past its max_wait; the
    first slot is always taken (the pacer was idle: nobody sent within an interval of it)."""
    now = 1_800_000_000.0
    slots = [s for s in _reserve_together("late", 10, now, max_wait=0.11) if isinstance(s, Slot)]
    assert sorted(round((slot.at - now) * 30) for slot in slots) == [1, 2, 3]
    assert all(slot.at <= now + 0.11 for slot in slots)
    nothing_left = reserve_slot("soon", 30, now, max_wait=0.0)
    assert isinstance(nothing_left, Slot)
    assert nothing_left.at == now


class _Batch:
    """Records of one batch on threads (`pacing.expecting`), each on its way to the pacer (claiming its
    message) until `go(n)`, then reserving a slot, unless it needs none (`reserving[n]` False)."""

    def __init__(self, reserving: list[bool]) -> None:
        from smsgw.dispatch import pacing

        self.reserving = reserving
        self.released = [threading.Event() for _ in reserving]
        self.done = [threading.Event() for _ in reserving]
        self.results: list[Slot | Deferred | None] = [None] * len(reserving)
        self.expected = pacing.expecting(len(reserving))
        self.expected.__enter__()
        self.threads = [
            threading.Thread(target=self._record, args=(n,), daemon=True) for n in range(len(reserving))
        ]
        for thread in self.threads:
            thread.start()

    def _record(self, n: int) -> None:
        from smsgw.dispatch import pacing

        with pacing.on_the_way():
            self.released[n].wait(timeout=30)
            if self.reserving[n]:
                self.results[n] = reserve_slot("gathered", 30, 1_800_000_000.0, max_wait=5)
        self.done[n].set()

    def go(self, n: int) -> None:
        self.released[n].set()

    def finish(self) -> list[Slot | Deferred | None]:
        for thread in self.threads:
            thread.join(timeout=30)
        self.expected.__exit__(None, None, None)
        return self.results


def _first_to_ask(what: str = "the first record to ask") -> None:
    from smsgw.dispatch import pacing

    poll(lambda: pacing._pacer("gathered").waiting == 1, timeout=10, what=what)


def test_records_that_reach_the_pacer_one_after_another_reserve_in_one_write(writes, monkeypatch):
    """A batch's claims finish one at a time: the first record to reach the pacer waits for the others
    still on their way and reserves for all of them at once."""
    from smsgw.dispatch import pacing

    monkeypatch.setattr(pacing, "GATHER_SECONDS", 30.0)  # longer than the test: arrival decides
    batch = _Batch([True, True, True])
    batch.go(0)
    _first_to_ask()
    assert not batch.done[0].is_set()  # waiting for the two still claiming
    assert writes == []
    batch.go(1)
    batch.go(2)
    slots = batch.finish()
    assert writes == ["restart_pacer"]
    assert sorted(round((slot.at - 1_800_000_000.0) * 30) for slot in slots if slot is not None) == [1, 2, 3]


def test_a_record_that_needs_no_slot_is_not_waited_for(writes, monkeypatch):
    """A record done without reserving (a duplicate, a deferral) stops counting as on its way."""
    from smsgw.dispatch import pacing

    monkeypatch.setattr(pacing, "GATHER_SECONDS", 30.0)
    batch = _Batch([True, False])
    batch.go(0)
    _first_to_ask()
    assert not batch.done[0].is_set()
    batch.go(1)  # turns back without a slot: the first one's write goes ahead at once
    poll(batch.done[0].is_set, timeout=10, what="the first record's slot")
    results = batch.finish()
    assert isinstance(results[0], Slot)
    assert writes == ["restart_pacer"]
    assert pacing._on_the_way.count == 0


def test_a_slow_record_is_waited_for_no_longer_than_the_gathering_time(writes, monkeypatch):
    from smsgw.dispatch import pacing

    monkeypatch.setattr(pacing, "GATHER_SECONDS", 0.01)
    batch = _Batch([True, True])
    batch.go(0)
    poll(batch.done[0].is_set, timeout=10, what="the first record's slot, without the second")
    assert writes == ["restart_pacer"]
    batch.go(1)
    batch.finish()
    assert writes == ["restart_pacer", "advance_pacer"]
    assert (pacing._on_the_way.count, pacing._on_the_way.unclaimed) == (0, 0)
