"""DispatchFunction: send-queue batches → carrier (paced, partial batch failures)."""

from typing import Any

from smsgw.config import get_settings
from smsgw.edges.records.dispatch import dispatch_record
from smsgw.edges.sqs_batch import process_batch
from smsgw.observability import logger, metrics


@metrics.log_metrics
@logger.inject_lambda_context
def lambda_handler(event: dict[str, Any], context: Any) -> dict[str, Any]:
    return process_batch(event, context, dispatch_record, concurrency=get_settings().dispatch_records_at_once)
