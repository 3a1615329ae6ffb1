"""DispatchFunction: send-queue batches → carrier (paced, partial batch failures)."""

from typing import Any

from smsgw.dispatch.entry import dispatch_record
from smsgw.observability import logger, metrics
from smsgw.sqs_batch import process_batch


@metrics.log_metrics
@logger.inject_lambda_context
def lambda_handler(event: dict[str, Any], context: Any) -> dict[str, Any]:
    return process_batch(event, context, dispatch_record)
