"""DispatchFunction: send-queue batches → carrier (paced, partial batch failures)."""

from typing import Any

from smsgw.edges.records.dispatch import dispatch_batch
from smsgw.observability import logger, metrics


@metrics.log_metrics
@logger.inject_lambda_context
def lambda_handler(event: dict[str, Any], context: Any) -> dict[str, Any]:
    return dispatch_batch(event, context)
