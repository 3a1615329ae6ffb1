"""ApiFunction: GET /openapi.json, GET /docs (Swagger UI), GET / → /docs, and every unmatched
path or method (404, or 405 with Allow)."""

from typing import Any

from aws_lambda_powertools.logging import correlation_paths

from smsgw.edges.app import create_api
from smsgw.observability import logger

app = create_api()


@logger.inject_lambda_context(correlation_id_path=correlation_paths.API_GATEWAY_HTTP)
def lambda_handler(event: dict[str, Any], context: Any) -> dict[str, Any]:
    return app.resolve(event, context)
