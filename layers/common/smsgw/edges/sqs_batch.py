"""The SQS batch entry every queue-driven function shares (an edge: domains never import it).

`process_batch(event, context, handle)` runs `handle(body, record)` on each record of an SQS event
and returns the partial batch response (`{"batchItemFailures": [...]}`): a record whose handler
raises is reported, SQS delivers it again (after the queue's visibility timeout, or the delay the
handler set on it), and after the queue's maxReceiveCount it moves to the dead-letter queue. The
other records are acknowledged. The functions' event source mappings set ReportBatchItemFailures.

`concurrency` > 1 runs up to that many records at once, on threads (for handlers that mostly wait:
the dispatcher waits for its connector's pacing slot, then for the carrier). A batch's records are
independent; each is still handled exactly as alone, and a crash (a BaseException) still fails the
whole invocation.
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from typing import Any

from smsgw.observability import logger

# Without a Lambda context (a direct call), a batch may take this long.
DEFAULT_BUDGET_MS = 60_000


@dataclass(frozen=True)
class RecordInfo:
    """What a handler may need of its SQS record besides the body."""

    message_id: str
    receive_count: int  # 1 on the first delivery
    receipt_handle: str  # to change the record's visibility (a retry's backoff)
    sent_at: float | None  # when SQS received the record (seconds since the epoch), if it says
    deadline: float  # time.time() when the invocation runs out of time

    def seconds_left(self) -> float:
        return self.deadline - time.time()


RecordHandler = Callable[[dict[str, Any], RecordInfo], object]


def process_batch(
    event: dict[str, Any], context: Any, handle: RecordHandler, concurrency: int = 1
) -> dict[str, Any]:
    """Run `handle` on each record (its body parsed as a JSON object), up to `concurrency` at once;
    returns the partial batch response naming every record whose handler (or body) failed."""
    budget_ms = context.get_remaining_time_in_millis() if context is not None else DEFAULT_BUDGET_MS
    deadline = time.time() + budget_ms / 1000
    records = event.get("Records") or []

    def run(record: dict[str, Any]) -> str | None:
        """The record's SQS message id if it failed, else None."""
        message_id = str(record.get("messageId", ""))
        try:
            body = json.loads(record["body"])
            if not isinstance(body, dict):
                raise ValueError("the record's body is not a JSON object")
            # SQS always sets both; a hand-made event (tests, `sam local invoke`) may not.
            attributes = record.get("attributes") or {}
            sent = attributes.get("SentTimestamp")
            info = RecordInfo(
                message_id=message_id,
                receive_count=int(attributes.get("ApproximateReceiveCount") or 1),
                receipt_handle=str(record.get("receiptHandle", "")),
                sent_at=int(sent) / 1000 if sent else None,
                deadline=deadline,
            )
            handle(body, info)
        except Exception as error:
            # Report every failed record, even when all of them failed, instead of failing the
            # invocation: a failed invocation makes SQS deliver the whole batch again, records already
            # handled included (a message submitted twice), and without backoff.
            logger.warning(
                "SQS record failed; it will be delivered again",
                extra={"sqs_message_id": message_id, "error": f"{type(error).__name__}: {error}"},
            )
            return message_id
        return None

    if concurrency <= 1 or len(records) <= 1:
        failed = [run(record) for record in records]
    else:
        with ThreadPoolExecutor(max_workers=min(concurrency, len(records))) as pool:
            # map re-raises a record's BaseException (a crash) here: records not started yet are
            # cancelled, the running ones end before the `with` does (as if the function had died).
            failed = list(pool.map(run, records))
    return {"batchItemFailures": [{"itemIdentifier": m} for m in failed if m is not None]}
