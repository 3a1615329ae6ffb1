"""A message's status lifecycle: every status, which are final, and the moves allowed between them.

The one definition the send path, dispatch, receipts, schedules and the API share (issue 11 d: a gap
between three copies once sent a replayed record to the dead-letter queue). It imports nothing of
ours, so any layer may use it.

    scheduled ─► queued ─► submitting ─► submitted ─► accepted ─► buffered ─► delivered | expired |
        │          ▲           │                                              failed | rejected | unknown
        └► cancelled └─────────┘ (released: throttled, transient error, reconciling)
    scheduled | submitting ─► failed (unpaid at send time, rejected by the carrier)

`Status` names them (a StrEnum: each member is its own string); the module-level names below are the
same members and the sets of them. Receipt statuses (submitted and after) carry a rank; a part or
message only moves to a higher rank.
"""

from __future__ import annotations

from enum import StrEnum
from typing import Final


class Status(StrEnum):
    """A message's status. A StrEnum: each member is its value (`Status.QUEUED == "queued"`), so it is
    stored, compared, logged and serialised as the plain string."""

    SCHEDULED = "scheduled"  # send_at or quiet hours: stored, not yet charged or queued
    QUEUED = "queued"  # charged, waiting for dispatch
    SUBMITTING = "submitting"  # claimed by a dispatcher (leased)
    SUBMITTED = "submitted"  # the carrier took it
    ACCEPTED = "accepted"  # receipts from here on
    BUFFERED = "buffered"
    DELIVERED = "delivered"
    EXPIRED = "expired"
    FAILED = "failed"  # also: unpaid at its send time, rejected by the carrier
    REJECTED = "rejected"
    UNKNOWN = "unknown"
    CANCELLED = "cancelled"


SCHEDULED: Final = Status.SCHEDULED
QUEUED: Final = Status.QUEUED
SUBMITTING: Final = Status.SUBMITTING
SUBMITTED: Final = Status.SUBMITTED
CANCELLED: Final = Status.CANCELLED
FAILED: Final = Status.FAILED

# What receipts report, by rank (a part or a message only ever moves to a higher rank).
INTERMEDIATE: Final[dict[Status, int]] = {Status.ACCEPTED: 1, Status.BUFFERED: 2}
FINAL_RECEIPT: Final = (Status.DELIVERED, Status.EXPIRED, Status.FAILED, Status.REJECTED, Status.UNKNOWN)
RANK: Final[dict[Status, int]] = {SUBMITTED: 0, **INTERMEDIATE, **dict.fromkeys(FINAL_RECEIPT, 3)}
# When parts end differently, the message takes the worst outcome.
FINAL_SEVERITY: Final[dict[Status, int]] = {
    Status.DELIVERED: 0,
    Status.UNKNOWN: 1,
    Status.EXPIRED: 2,
    Status.FAILED: 3,
    Status.REJECTED: 4,
}

# Before the carrier: dispatch may (still) act on the message.
BEFORE_CARRIER: Final = frozenset({SCHEDULED, QUEUED, SUBMITTING})
# The carrier has it (or it ended): a send-queue record for such a message is a replay, acknowledged.
HANDED_OVER: Final = frozenset(RANK) | {CANCELLED, FAILED}
# Nothing will change it any more.
FINAL: Final = frozenset(FINAL_RECEIPT) | {CANCELLED, FAILED}
ALL: Final = BEFORE_CARRIER | HANDED_OVER

TRANSITIONS: Final[dict[Status, frozenset[Status]]] = {
    SCHEDULED: frozenset({SUBMITTING, CANCELLED, FAILED}),
    QUEUED: frozenset({SUBMITTING}),
    SUBMITTING: frozenset({QUEUED, SUBMITTED, FAILED, SUBMITTING}),  # SUBMITTING: a lease taken over
    **{
        status: frozenset(later for later, rank in RANK.items() if rank > RANK[status])
        for status in RANK
        if status not in FINAL
    },
    **{status: frozenset() for status in FINAL},
}


def allowed(source: str, target: str) -> bool:
    """May a message move from `source` to `target`? (Plain strings compare equal to their Status.)"""
    return source in ALL and target in TRANSITIONS[Status(source)]


def is_final(status: str) -> bool:
    return status in FINAL
