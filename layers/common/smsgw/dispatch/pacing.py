"""Carrier pacing shared by every concurrent DispatchFunction: a GCRA slot reservation in DynamoDB.

Each submission reserves the next free slot `tat` (theoretical arrival time); slots are 1/rate apart,
so the carrier never sees more than `rate` submissions in any second, however many Lambdas run.
A slot further ahead than `max_wait` is not taken: the message is deferred instead of sleeping.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass

from smsgw.dispatch import repository


@dataclass(frozen=True)
class Slot:
    at: float  # when to submit (unix seconds)


@dataclass(frozen=True)
class Deferred:
    seconds: float  # try again after this long


# What this process knows of each pacer: the tat its latest reservation left (`_known_tat`) and when it
# last saw another process's reservations (a tat further on than its own: `_others_seen`). Each
# reservation first tries the case it guesses (a wrong guess costs a failed conditional write, one write
# unit). Alone on a pacer this process knows the tat exactly: idle once it has passed. With others
# about, its knowledge lags theirs: it guesses idle only after IDLE_GUESS_SECONDS without a slot.
_known_tat: dict[str, float] = {}
_others_seen: dict[str, float] = {}
IDLE_GUESS_SECONDS = 1.0


def _guess_idle(pacer: str, now: float) -> bool:
    known = _known_tat.get(pacer, 0.0)
    if now <= _others_seen.get(pacer, float("-inf")) + IDLE_GUESS_SECONDS:
        return now > known + IDLE_GUESS_SECONDS
    return now > known


# A batch's records reserve at once (threads): one of them restarts an idle pacer, the others wait for
# it and then know the pacer is busy (else each would guess idle, and all but one guess wrong).
_restarting = threading.Lock()


def reserve_slot(pacer: str, rate_per_second: float, now: float, max_wait: float) -> Slot | Deferred:
    interval = 1.0 / rate_per_second
    if _guess_idle(pacer, now):
        with _restarting:
            # Idle pacer (tat in the past or no item yet): the slot is now.
            if _guess_idle(pacer, now) and repository.restart_pacer(pacer, now, interval):
                return _taken(pacer, now, interval)
    for _ in range(10):
        # Busy pacer: take the slot at tat, if it is not too far ahead.
        old_tat = repository.advance_pacer(pacer, interval, now, now + max_wait)
        if old_tat is not None:
            if old_tat > _known_tat.get(pacer, 0.0) + interval / 2:  # moved by another process
                _others_seen[pacer] = now
            return _taken(pacer, old_tat, interval)
        if repository.restart_pacer(pacer, now, interval):
            return _taken(pacer, now, interval)
        tat = repository.read_pacer(pacer)
        if tat is not None and tat > now + max_wait:
            _others_seen[pacer] = now
            return Deferred(seconds=tat - now - max_wait)
        # Lost a race with another Lambda: try again.
        _others_seen[pacer] = now
    return Deferred(seconds=interval)


def _taken(pacer: str, at: float, interval: float) -> Slot:
    _known_tat[pacer] = max(at + interval, _known_tat.get(pacer, 0.0))
    return Slot(at=at)
