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


def reserve_slot(pacer: str, rate_per_second: float, now: float, max_wait: float) -> Slot | Deferred:
    interval = 1.0 / rate_per_second
    for _ in range(10):
        # Busy pacer: take the slot at tat, if it is not too far ahead.
        old_tat = repository.advance_pacer(pacer, interval, now, now + max_wait)
        if old_tat is not None:
            return Slot(at=old_tat)
        # Idle pacer (tat in the past or no item yet): the slot is now.
        if repository.restart_pacer(pacer, now, interval):
            return Slot(at=now)
        tat = repository.read_pacer(pacer)
        if tat is not None and tat > now + max_wait:
            return Deferred(seconds=tat - now - max_wait)
        # Lost a race with another Lambda: try again.
    return Deferred(seconds=interval)
