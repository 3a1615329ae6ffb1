"""Carrier pacing shared by every concurrent DispatchFunction: a GCRA slot reservation in DynamoDB.

Each submission takes the next free slot `tat` (theoretical arrival time); slots are 1/rate apart,
so the carrier never sees more than `rate` submissions in any second, however many Lambdas run.
A slot further ahead than `max_wait` is not taken: the message is deferred instead of sleeping.

A batch's records reserve from threads of one process at about the same moment. They take turns on
the pacer (one write at a time per process), and the thread whose turn it is reserves for every thread
waiting behind it too: one write moves the tat by all their slots and the others take theirs from what
it reserved (`_Pacer.spare`) without a write of their own. No slot is reserved for a record that does
not ask for one.

A batch's records claim their messages before they reserve, and those claims finish one after another
(each thread's write returns at its own moment): the first thread at the pacer would write for itself
alone, the next for the two behind it, and so on. So a thread whose turn it is first waits, at most
GATHER_SECONDS, until no record of this process is still on its way to a pacer (`expecting` counts a
batch's records before their threads start, `on_the_way` each record until it reserves or is done): a
batch of ten whose claims return within that time costs one pacer write, not one for each arrival.
"""

from __future__ import annotations

import threading
from collections import deque
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field

from smsgw.dispatch import repository


@dataclass(frozen=True)
class Slot:
    at: float  # when to submit (unix seconds)


@dataclass(frozen=True)
class Deferred:
    seconds: float  # try again after this long


# What this process knows of each pacer: the tat its latest reservation left (`known_tat`) and when it
# last saw another process's reservations (a tat further on than its own: `others_seen`). Each
# reservation first tries the case it guesses (a wrong guess costs a failed conditional write, one write
# unit). Alone on a pacer this process knows the tat exactly: idle once it has passed. With others
# about, its knowledge lags theirs: it guesses idle only after IDLE_GUESS_SECONDS without a slot.
IDLE_GUESS_SECONDS = 1.0


@dataclass
class _Pacer:
    """One pacer as this process sees it."""

    turn: threading.Lock = field(default_factory=threading.Lock)  # whose write it is
    state: threading.Lock = field(default_factory=threading.Lock)  # guards the fields below
    waiting: int = 0  # threads in reserve_slot that have no slot yet
    spare: deque[float] = field(default_factory=deque)  # slots reserved for the waiting threads
    known_tat: float = 0.0
    others_seen: float = float("-inf")

    def guess_idle(self, now: float) -> bool:
        if now <= self.others_seen + IDLE_GUESS_SECONDS:
            return now > self.known_tat + IDLE_GUESS_SECONDS
        return now > self.known_tat


_pacers: dict[str, _Pacer] = {}
_pacers_lock = threading.Lock()


def _pacer(name: str) -> _Pacer:
    with _pacers_lock:
        return _pacers.setdefault(name, _Pacer())


# The longest a thread whose turn it is waits for the others on their way (their claims: one DynamoDB
# write each, a few milliseconds); a slow one is not waited for longer.
GATHER_SECONDS = 0.05


class _OnTheWay:
    """Records of this process on their way to a pacer: expected by their batch (`expecting`), or set out
    (`on_the_way`), until they first reserve or are done."""

    def __init__(self) -> None:
        self.count = 0
        self.unclaimed = 0  # expected, and no thread has set out as one of them yet
        self.changed = threading.Condition()
        self.this_thread = threading.local()

    def expect(self, records: int) -> None:
        with self.changed:
            self.count += records
            self.unclaimed += records

    def expect_no_more(self) -> None:
        with self.changed:
            self.count -= self.unclaimed
            self.unclaimed = 0
            self.changed.notify_all()

    def set_out(self) -> None:
        if getattr(self.this_thread, "travelling", False):
            return
        with self.changed:
            if self.unclaimed:
                self.unclaimed -= 1  # counted by its batch already
            else:
                self.count += 1
        self.this_thread.travelling = True

    def arrive(self) -> None:
        if getattr(self.this_thread, "travelling", False):
            self.this_thread.travelling = False
            with self.changed:
                self.count -= 1
                self.changed.notify_all()

    def wait_for_all(self, timeout: float) -> None:
        with self.changed:
            self.changed.wait_for(lambda: self.count == 0, timeout=timeout)


_on_the_way = _OnTheWay()


@contextmanager
def expecting(records: int) -> Iterator[None]:
    """Around a batch whose first `records` records start at once (threads, each in `on_the_way`): they
    count as on their way before their threads start, so the first to reserve waits for the others."""
    _on_the_way.expect(records)
    try:
        yield
    finally:
        _on_the_way.expect_no_more()


@contextmanager
def on_the_way() -> Iterator[None]:
    """Around a record's work that may end in `reserve_slot` (claiming its message, choosing its
    connector): a reservation made meanwhile by another thread waits for this one to ask too, and takes
    its slot in the same write."""
    _on_the_way.set_out()
    try:
        yield
    finally:
        _on_the_way.arrive()


def reserve_slot(
    pacer: str,
    rate_per_second: float,
    now: float,
    max_wait: float,
    clock: Callable[[], float] | None = None,
) -> Slot | Deferred:
    """The next slot; `now` is read again from `clock` when this thread's turn comes (it may have waited
    for other threads' writes): an idle pacer restarts from the moment of the write, not before it."""
    known = _pacer(pacer)
    with known.state:
        known.waiting += 1
    _on_the_way.arrive()  # after counting as waiting: a gathering thread reserves for this one
    served = False  # `waiting` counts this thread until it has its answer, no longer
    try:
        with known.turn:
            with known.state:
                if known.spare:
                    known.waiting -= 1
                    served = True
                    return Slot(at=known.spare.popleft())
            _on_the_way.wait_for_all(GATHER_SECONDS)
            with known.state:
                wanted = known.waiting
            if clock is not None:
                now = max(now, clock())
            taken = _reserve(pacer, known, 1.0 / rate_per_second, now, max_wait, wanted)
            with known.state:
                known.waiting -= 1
                served = True
                if isinstance(taken, Deferred):
                    return taken
                known.spare.extend(taken[1:])
            return Slot(at=taken[0])
    finally:
        if not served:
            with known.state:
                known.waiting -= 1


def _reserve(
    pacer: str, known: _Pacer, interval: float, now: float, max_wait: float, wanted: int
) -> list[float] | Deferred:
    """`wanted` consecutive slots (fewer when only fewer fit within `max_wait`), or Deferred.

    An idle pacer (tat in the past or no item yet) restarts with its first slot one interval after the
    write, not at it: a slot at the moment of the write is reached only when the write returns, late
    by its latency, while the next slot's holder sends on time — two sends closer than an interval,
    which at these rates is one more than the carrier allows in some second (benchmark 1b)."""
    if known.guess_idle(now):
        restarted = _restart(pacer, known, interval, now, max_wait, wanted)
        if restarted is not None:
            return restarted
    count = wanted
    for _ in range(10):
        # Busy pacer: take the slots from tat on, the last of them not too far ahead.
        latest = now + max_wait - (count - 1) * interval
        old_tat = repository.advance_pacer(pacer, interval * count, now, latest) if latest >= now else None
        if old_tat is not None:
            if old_tat > known.known_tat + interval / 2:  # moved by another process
                known.others_seen = now
            return _taken(known, old_tat, interval, count)
        restarted = _restart(pacer, known, interval, now, max_wait, count)
        if restarted is not None:
            return restarted
        tat = repository.read_pacer(pacer)
        known.others_seen = now  # the tat was not where this process left it
        if tat is not None and tat > now + max_wait:
            return Deferred(seconds=tat - now - max_wait)
        if tat is not None and count > 1:
            # Not all of them fit before max_wait: as many as do (at least one, as tat <= now + max_wait).
            count = max(1, min(count, int((now + max_wait - max(tat, now)) / interval) + 1))
        # Else lost a race with another Lambda: try again.
    return Deferred(seconds=interval)


def _restart(
    pacer: str, known: _Pacer, interval: float, now: float, max_wait: float, wanted: int
) -> list[float] | None:
    """Restart an idle pacer with up to `wanted` slots from one interval on (sooner, and fewer, within a
    shorter max_wait: the first slot is always taken; the pacer was idle, so it is far enough from the
    last one sent); None when the pacer was not idle."""
    first = now + min(interval, max_wait)
    count = max(1, min(wanted, int((now + max_wait - first) / interval) + 1))
    if not repository.restart_pacer(pacer, now, first - now + count * interval):
        return None
    return _taken(known, first, interval, count)


def _taken(known: _Pacer, first: float, interval: float, count: int) -> list[float]:
    slots = [first + n * interval for n in range(count)]
    known.known_tat = max(slots[-1] + interval, known.known_tat)
    return slots
