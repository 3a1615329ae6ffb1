"""DeliveryReceiptFunction: GET|POST /carrier/dlr and /carrier/{connector}/dlr (carrier delivery receipts)."""

from typing import Any

from aws_lambda_powertools.logging import correlation_paths

from smsgw.edges.http import RestOrFunctionUrl
from smsgw.edges.routes.receipts import receipts_router
from smsgw.observability import logger, metrics

app = RestOrFunctionUrl(receipts_router)  # API Gateway and the function URL


@metrics.log_metrics
@logger.inject_lambda_context(correlation_id_path=correlation_paths.API_GATEWAY_REST)
def lambda_handler(event: dict[str, Any], context: Any) -> dict[str, Any]:
    return app.resolve(event, context)
