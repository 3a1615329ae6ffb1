"""DispatchFunction's record handler (an edge): a send-queue record → `dispatch_one`."""

from __future__ import annotations

from typing import Any

from smsgw.config import get_settings
from smsgw.dispatch.pacing import expecting
from smsgw.dispatch.service import dispatch_one
from smsgw.edges.sqs_batch import RecordInfo, process_batch
from smsgw.observability import logger

# A batch's records are dispatched at once (settings.dispatch_records_at_once, default 10 = the event
# source's BatchSize): each mostly waits, for its connector's pacing slot and then for the carrier.
# One after the other, a batch holding both connectors' messages left one connector's slots unused
# while a record waited for the other's (docs/benchmarks.md §1b).


def dispatch_record(body: dict[str, Any], record: RecordInfo) -> str:
    """`{"message_id"[, "first_sent_at" (ms)]}`: a look-again record carries its first record's time."""
    message_id = body["message_id"]
    first_sent_ms = body.get("first_sent_at")
    outcome = dispatch_one(
        message_id,
        record.receive_count,
        record.receipt_handle,
        record.deadline,
        sent_at=float(first_sent_ms) / 1000 if first_sent_ms else record.sent_at,
    )
    logger.info("dispatched", extra={"message_id": message_id, "outcome": outcome})
    return outcome


def dispatch_batch(event: dict[str, Any], context: Any) -> dict[str, Any]:
    """A send-queue batch, its records at once; the partial batch response."""
    at_once = get_settings().dispatch_records_at_once
    starting = min(at_once, len(event.get("Records") or [])) if at_once > 1 else 0
    with expecting(starting):  # the first record to reserve takes the others' slots in the same write
        return process_batch(event, context, dispatch_record, concurrency=at_once)
