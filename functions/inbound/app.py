"""InboundFunction: GET|POST /carrier/inbound and /carrier/{connector}/inbound (inbound SMS parts from the carriers)."""

from typing import Any

from aws_lambda_powertools.logging import correlation_paths

from smsgw.edges.http import RestOrFunctionUrl
from smsgw.edges.routes.inbound import carrier_inbound_router
from smsgw.observability import logger, metrics

app = RestOrFunctionUrl(carrier_inbound_router)  # API Gateway and the function URL


@metrics.log_metrics
@logger.inject_lambda_context(correlation_id_path=correlation_paths.API_GATEWAY_REST)
def lambda_handler(event: dict[str, Any], context: Any) -> dict[str, Any]:
    return app.resolve(event, context)
