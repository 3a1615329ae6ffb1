"""MessagesFunction: GET /messages, /messages/{id}, /inbound, /inbound/{id} (the caller's own only)."""

from typing import Any

from aws_lambda_powertools.logging import correlation_paths

from smsgw.edges.resolver import create_plain_resolver
from smsgw.edges.routes.inbound import inbound_router
from smsgw.edges.routes.messages import messages_router
from smsgw.observability import logger

app = create_plain_resolver(messages_router(), inbound_router())


@logger.inject_lambda_context(correlation_id_path=correlation_paths.API_GATEWAY_HTTP)
def lambda_handler(event: dict[str, Any], context: Any) -> dict[str, Any]:
    return app.resolve(event, context)
