"""MessagesFunction: GET /messages/{id} and GET /messages (the caller's messages only)."""

from typing import Any

from aws_lambda_powertools.logging import correlation_paths

from smsgw.http import create_resolver
from smsgw.messages.api import messages_router
from smsgw.observability import logger

app = create_resolver(messages_router())


@logger.inject_lambda_context(correlation_id_path=correlation_paths.API_GATEWAY_REST)
def lambda_handler(event: dict[str, Any], context: Any) -> dict[str, Any]:
    return app.resolve(event, context)
