"""SmsJsonFunction: POST /sms/json, Vonage's SMS API (Vonage auth in the request; always HTTP 200)."""

from typing import Any

from aws_lambda_powertools.logging import correlation_paths

from smsgw.edges.resolver import create_plain_resolver
from smsgw.edges.routes.vonage import sms_json_router
from smsgw.observability import logger, metrics

app = create_plain_resolver(sms_json_router())


@metrics.log_metrics
@logger.inject_lambda_context(correlation_id_path=correlation_paths.API_GATEWAY_HTTP)
def lambda_handler(event: dict[str, Any], context: Any) -> dict[str, Any]:
    return app.resolve(event, context)
