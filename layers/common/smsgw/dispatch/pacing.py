"""Carrier pacing shared by every concurrent DispatchFunction: a GCRA slot reservation in DynamoDB.

Each submission reserves the next free slot `tat` (theoretical arrival time); slots are 1/rate apart,
so the carrier never sees more than `rate` submissions in any second, however many Lambdas run.
A slot further ahead than `max_wait` is not taken: the message is deferred instead of sleeping.
"""

from __future__ import annotations

from dataclasses import dataclass

from smsgw.dispatch import repository


@dataclass(frozen=True)
class Slot:
    at: float  # when to submit (unix seconds)


@dataclass(frozen=True)
class Deferred:
    seconds: float  # try again after this long


# The last slot this process took per pacer. A pacer this process has not used for IDLE_GUESS_SECONDS
# is probably idle: it tries the idle case first (a wrong first guess costs a failed conditional write,
# one write unit, whichever case it guessed).
_last_slot: dict[str, float] = {}
IDLE_GUESS_SECONDS = 1.0


def reserve_slot(pacer: str, rate_per_second: float, now: float, max_wait: float) -> Slot | Deferred:
    interval = 1.0 / rate_per_second
    idle_first = now > _last_slot.get(pacer, 0.0) + IDLE_GUESS_SECONDS
    for _ in range(10):
        # Idle pacer (tat in the past or no item yet): the slot is now.
        if idle_first and repository.restart_pacer(pacer, now, interval):
            return _taken(pacer, now)
        # Busy pacer: take the slot at tat, if it is not too far ahead.
        old_tat = repository.advance_pacer(pacer, interval, now, now + max_wait)
        if old_tat is not None:
            return _taken(pacer, old_tat)
        if not idle_first and repository.restart_pacer(pacer, now, interval):
            return _taken(pacer, now)
        tat = repository.read_pacer(pacer)
        if tat is not None and tat > now + max_wait:
            return Deferred(seconds=tat - now - max_wait)
        # Lost a race with another Lambda: try again.
    return Deferred(seconds=interval)


def _taken(pacer: str, at: float) -> Slot:
    _last_slot[pacer] = max(at, _last_slot.get(pacer, 0.0))
    return Slot(at=at)
