"""ApiFunction: GET /openapi.json, GET /docs (Swagger UI), GET / → /docs, and every unmatched
path or method (404, or 405 with Allow). It serves the committed document (smsgw.edges.docs)."""

from typing import Any

from aws_lambda_powertools.logging import correlation_paths

from smsgw.edges.docs import create_docs_app
from smsgw.observability import logger

app = create_docs_app()


@logger.inject_lambda_context(correlation_id_path=correlation_paths.API_GATEWAY_HTTP)
def lambda_handler(event: dict[str, Any], context: Any) -> dict[str, Any]:
    return app.resolve(event, context)
