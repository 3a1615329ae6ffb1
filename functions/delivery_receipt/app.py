"""DeliveryReceiptFunction: GET|POST /carrier/dlr and /carrier/{connector}/dlr (carrier delivery receipts)."""

from typing import Any

from aws_lambda_powertools.logging import correlation_paths

from smsgw.edges.resolver import create_plain_resolver
from smsgw.edges.routes.receipts import receipts_router
from smsgw.observability import logger, metrics

app = create_plain_resolver(receipts_router())  # the HTTP API and the function URL (both payload 2.0)


@metrics.log_metrics
@logger.inject_lambda_context(correlation_id_path=correlation_paths.API_GATEWAY_HTTP)
def lambda_handler(event: dict[str, Any], context: Any) -> dict[str, Any]:
    return app.resolve(event, context)
