"""WebhookFunction's record handler (an edge): a webhook-queue record → `Deliverer.handle`."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from smsgw.edges.sqs_batch import RecordInfo
from smsgw.webhooks.delivery import Deliverer, RetryLater


def delivery_handler(deliverer: Deliverer | None = None) -> Callable[[dict[str, Any], RecordInfo], str]:
    """A record handler delivering with `deliverer` (by default one configured from the settings)."""
    worker = deliverer or Deliverer()

    def deliver_record(body: dict[str, Any], record: RecordInfo) -> str:
        if record.seconds_left() < worker.attempt_budget_seconds:
            raise RetryLater("too little time left in this invocation for another attempt")
        return worker.handle(body)

    return deliver_record
