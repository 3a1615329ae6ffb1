"""A message's status lifecycle: every status, which are final, and the moves allowed between them.

The one definition the send path, dispatch, receipts, schedules and the API share (issue 11 d: a gap
between three copies once sent a replayed record to the dead-letter queue). It imports nothing of
ours, so any layer may use it.

    scheduled ─► queued ─► submitting ─► submitted ─► accepted ─► buffered ─► delivered | expired |
        │          ▲           │                                              failed | rejected | unknown
        └► cancelled └─────────┘ (released: throttled, transient error, reconciling)
    scheduled | submitting ─► failed (unpaid at send time, rejected by the carrier)

Receipt statuses (submitted and after) carry a rank; a part or message only moves to a higher rank.
"""

from __future__ import annotations

from typing import Final

SCHEDULED: Final = "scheduled"  # send_at or quiet hours: stored, not yet charged or queued
QUEUED: Final = "queued"  # charged, waiting for dispatch
SUBMITTING: Final = "submitting"  # claimed by a dispatcher (leased)
SUBMITTED: Final = "submitted"  # the carrier took it
CANCELLED: Final = "cancelled"
FAILED: Final = "failed"

# What receipts report, by rank (a part or a message only ever moves to a higher rank).
INTERMEDIATE: Final = {"accepted": 1, "buffered": 2}
FINAL_RECEIPT: Final = ("delivered", "expired", "failed", "rejected", "unknown")
RANK: Final = {SUBMITTED: 0, **INTERMEDIATE, **dict.fromkeys(FINAL_RECEIPT, 3)}
# When parts end differently, the message takes the worst outcome.
FINAL_SEVERITY: Final = {"delivered": 0, "unknown": 1, "expired": 2, "failed": 3, "rejected": 4}

# Before the carrier: dispatch may (still) act on the message.
BEFORE_CARRIER: Final = frozenset({SCHEDULED, QUEUED, SUBMITTING})
# The carrier has it (or it ended): a send-queue record for such a message is a replay, acknowledged.
HANDED_OVER: Final = frozenset(RANK) | {CANCELLED, FAILED}
# Nothing will change it any more.
FINAL: Final = frozenset(FINAL_RECEIPT) | {CANCELLED, FAILED}
ALL: Final = BEFORE_CARRIER | HANDED_OVER

TRANSITIONS: Final = {
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
    """May a message move from `source` to `target`?"""
    return target in TRANSITIONS.get(source, frozenset())


def is_final(status: str) -> bool:
    return status in FINAL
