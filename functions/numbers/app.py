"""NumbersFunction: POST /communication/nexmo/sms/register and the Phone Numbers API
(/communication/nexmo/phone-numbers/: number/update, account/numbers, number/search, number/buy, number/cancel)."""

from typing import Any

from aws_lambda_powertools.logging import correlation_paths

from smsgw.edges.resolver import create_plain_resolver
from smsgw.edges.routes.numbers import numbers_router
from smsgw.observability import logger

app = create_plain_resolver(numbers_router())


@logger.inject_lambda_context(correlation_id_path=correlation_paths.API_GATEWAY_HTTP)
def lambda_handler(event: dict[str, Any], context: Any) -> dict[str, Any]:
    return app.resolve(event, context)
