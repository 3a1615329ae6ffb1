"""SQS access: the send queue that feeds DispatchFunction."""

from __future__ import annotations

import json

from smsgw import db
from smsgw.config import get_settings


def enqueue_dispatch(message_id: str, delay_seconds: int = 0, first_sent_at: float | None = None) -> None:
    """`first_sent_at` (unix seconds): the time of the message's first record, carried by a look-again
    record for a message that was not stored yet (dispatch drops it once that is long past)."""
    body: dict[str, object] = {"message_id": message_id}
    if first_sent_at is not None:
        body["first_sent_at"] = int(first_sent_at * 1000)
    db.sqs().send_message(
        QueueUrl=get_settings().send_queue_url,
        MessageBody=json.dumps(body),
        DelaySeconds=max(0, min(delay_seconds, 900)),
    )


def postpone(receipt_handle: str, seconds: int) -> None:
    """Make a received message visible again after `seconds` (the retry backoff)."""
    db.sqs().change_message_visibility(
        QueueUrl=get_settings().send_queue_url,
        ReceiptHandle=receipt_handle,
        VisibilityTimeout=max(0, min(int(seconds), 43_200)),
    )


def schedule_inbound_check(body: dict[str, str], delay_seconds: int) -> None:
    """Look at an incomplete concatenated inbound message again after `delay_seconds` (≤ 15 min)."""
    db.sqs().send_message(
        QueueUrl=get_settings().inbound_queue_url,
        MessageBody=json.dumps(body),
        DelaySeconds=max(0, min(delay_seconds, 900)),
    )
