"""SQS for webhooks: the webhook queue (what WebhookFunction consumes) and its dead-letter queue."""

from __future__ import annotations

import json
from typing import Any

from smsgw import db
from smsgw.config import get_settings

SQS_MAX_DELAY_SECONDS = 900


def send(body: dict[str, Any], delay_seconds: int = 0) -> None:
    """Queue one delivery attempt; longer waits are chained by the consumer (see `not_before`)."""
    url = get_settings().webhook_queue_url
    if not url:
        raise RuntimeError("WEBHOOK_QUEUE_URL is not set: this function cannot queue webhooks")
    db.sqs().send_message(
        QueueUrl=url,
        MessageBody=json.dumps(body),
        DelaySeconds=max(0, min(int(delay_seconds), SQS_MAX_DELAY_SECONDS)),
    )


def dead_letter(body: dict[str, Any]) -> None:
    """Tell the operator a delivery gave up (the delivery item holds the details and the payload)."""
    url = get_settings().webhook_dlq_url
    if not url:
        raise RuntimeError("WEBHOOK_DLQ_URL is not set: this function cannot dead-letter webhooks")
    db.sqs().send_message(QueueUrl=url, MessageBody=json.dumps(body))
