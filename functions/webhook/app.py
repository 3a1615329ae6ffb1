"""WebhookFunction: webhook-queue batches → signed POSTs to customer URLs (retries, attempts recorded, DLQ)."""

from typing import Any

from smsgw.config import get_settings
from smsgw.edges.records.webhooks import delivery_handler
from smsgw.edges.sqs_batch import process_batch
from smsgw.observability import logger, metrics


@metrics.log_metrics
@logger.inject_lambda_context
def lambda_handler(event: dict[str, Any], context: Any) -> dict[str, Any]:
    return process_batch(
        event, context, delivery_handler(), concurrency=get_settings().webhook_records_at_once
    )
