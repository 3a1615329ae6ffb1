"""WebhookFunction: webhook-queue batches → signed POSTs to customer URLs (retries, attempts recorded, DLQ)."""

from typing import Any

from smsgw.observability import logger, metrics
from smsgw.sqs_batch import process_batch
from smsgw.webhooks.entry import delivery_handler


@metrics.log_metrics
@logger.inject_lambda_context
def lambda_handler(event: dict[str, Any], context: Any) -> dict[str, Any]:
    return process_batch(event, context, delivery_handler())
