"""InboundFunction: GET|POST /carrier/inbound and /carrier/{connector}/inbound (inbound SMS parts from the carriers)."""

from typing import Any

from aws_lambda_powertools.logging import correlation_paths

from smsgw.edges.resolver import create_plain_resolver
from smsgw.edges.routes.inbound import carrier_inbound_router
from smsgw.observability import logger, metrics

app = create_plain_resolver(carrier_inbound_router())  # the HTTP API and the function URL (both payload 2.0)


@metrics.log_metrics
@logger.inject_lambda_context(correlation_id_path=correlation_paths.API_GATEWAY_HTTP)
def lambda_handler(event: dict[str, Any], context: Any) -> dict[str, Any]:
    return app.resolve(event, context)
