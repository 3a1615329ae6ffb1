"""Routes of SendFunction: KPN's Nexmo send."""

import json
from typing import Annotated

from aws_lambda_powertools.event_handler import Response, content_types
from aws_lambda_powertools.event_handler.api_gateway import Router
from aws_lambda_powertools.event_handler.openapi.params import Body

from smsgw.http import NEXMO_PATHS, header, kpn_route_guard
from smsgw.messages import service
from smsgw.messages.models import ErrorResponse, NexmoErrorResponse, SendRequest, SendResponse

SEND_PATH = "/communication/nexmo/sms/send"
NEXMO_PATHS.add(SEND_PATH)

router = Router()


@router.post(
    SEND_PATH,
    summary="Send an SMS (KPN / Nexmo)",
    description=(
        "Accepts the message for delivery and answers at once; the carrier is called by the dispatcher, "
        "paced at its allowed rate. Form-encoded or JSON. One element per SMS part. Header "
        "`Idempotency-Key` makes retries safe: the same key and body return the first answer and send "
        "nothing; the same key with another body answers 400."
    ),
    tags=["SMS"],
    middlewares=[kpn_route_guard],
    responses={
        200: {
            "description": 'Accepted (`status` "0"), or refused by Vonage status (e.g. "9": balance too low)',
            "content": {"application/json": {"model": SendResponse}},
        },
        400: {
            "description": "Bad input: `error-text` and `field` name the parameter to fix; nothing is stored",
            "content": {"application/json": {"model": NexmoErrorResponse}},
        },
        401: {"description": "Missing, malformed, unknown or expired token"},
        403: {
            "description": "The account is disabled",
            "content": {"application/json": {"model": ErrorResponse}},
        },
        409: {"description": "The same Idempotency-Key is still being processed"},
        429: {"description": "Over the account's request rate; see Retry-After. Nothing stored or charged"},
        503: {"description": "The queue is unavailable; nothing was charged. See Retry-After"},
    },
)
def send(request: Annotated[SendRequest, Body(media_type=content_types.APPLICATION_JSON)]):
    # No return annotation: Powertools cannot model a bare Response.
    body = service.accept_send(
        router.context["account"],
        request.wire_fields(),
        header(router, "Idempotency-Key"),  # type: ignore[arg-type]
        router.lambda_context,
    )
    return Response(status_code=200, content_type=content_types.APPLICATION_JSON, body=json.dumps(body))
