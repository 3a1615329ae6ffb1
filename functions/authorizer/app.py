"""AuthorizerFunction: API Gateway REQUEST authorizer (Bearer token → policy + caller context)."""

from typing import Any

from smsgw.edges.authorizer import authorize
from smsgw.observability import logger


@logger.inject_lambda_context
def lambda_handler(event: dict[str, Any], context: Any) -> dict[str, Any]:
    return authorize(event)
