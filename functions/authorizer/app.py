"""AuthorizerFunction: the HTTP API's REQUEST authorizer (Bearer token → the caller in the context)."""

from typing import Any

from smsgw.edges.authorizer import authorize
from smsgw.observability import logger


@logger.inject_lambda_context
def lambda_handler(event: dict[str, Any], context: Any) -> dict[str, Any]:
    return authorize(event)
