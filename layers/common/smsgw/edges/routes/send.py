"""Route of SendFunction: KPN's Nexmo send (`POST /communication/nexmo/sms/send`).

The route reads its body itself (smsgw.edges.request_body's parser; the parameters are checked by
smsgw.messages.params, each refusal naming its field) instead of declaring a pydantic model: the
send function then starts without pydantic and Powertools' validation (docs/decisions.md, cold
start). The OpenAPI document still describes the body and the answers by the models of
smsgw.messages.models, which the docs function registers as components (smsgw.edges.app).
"""

from __future__ import annotations

import json
from typing import Any

from aws_lambda_powertools.event_handler import Response, content_types
from aws_lambda_powertools.event_handler.api_gateway import Router

from smsgw.core.wire import wire_fields
from smsgw.edges.errors import Wire
from smsgw.edges.request import event_body, header, send_route_guard
from smsgw.edges.resolver import ApiRouter, accepted_status, component, component_body
from smsgw.messages import service

SEND_PATH = "/communication/nexmo/sms/send"
SEND_ANSWER: Any = component("SendResponse")
NEXMO_ERROR: Any = component("NexmoErrorResponse")
ERROR_BODY: Any = component("ErrorResponse")
SEND_REQUEST: dict[str, Any] = component_body("SendRequest")


def send_router() -> Router:
    router = ApiRouter(Wire.NEXMO, forms=[SEND_PATH], requests={SEND_PATH: SEND_REQUEST})

    @router.post(
        SEND_PATH,
        summary="Send an SMS (KPN / Nexmo)",
        description=(
            "Accepts the message for delivery and answers at once; the carrier is called by the dispatcher, "
            "paced at its allowed rate. Form-encoded or JSON. One element per SMS part. Header "
            "`Idempotency-Key` makes retries safe: the same key and body return the first answer and send "
            "nothing; the same key with another body answers 400. Header `inbound: yes` routes the "
            "recipient's replies to the callback registered for the sender's number."
        ),
        tags=["SMS"],
        middlewares=[send_route_guard],
        responses={
            200: {
                "description": 'Accepted (`status` "0"), or refused by Vonage status (e.g. "9": balance too low, '
                "or the account's daily spend cap)",
                "content": SEND_ANSWER,
            },
            202: {
                "description": "Held for later (`send_at`, or the account's quiet hours): `message-status` "
                '"scheduled" and `send-at`; charged when it is sent',
                "content": SEND_ANSWER,
            },
            400: {
                "description": "Bad input: `error-text` and `field` name the parameter to fix; a destination "
                'country the account may not send to (status "29"); nothing is stored',
                "content": NEXMO_ERROR,
            },
            401: {"description": "Missing, malformed, unknown or expired token"},
            403: {
                "description": "The account is disabled",
                "content": ERROR_BODY,
            },
            409: {"description": "The same Idempotency-Key is still being processed"},
            412: {
                "description": "Header `inbound: yes` but the sender's number has no registered callback",
                "content": ERROR_BODY,
            },
            429: {
                "description": 'Over the account\'s request rate, or (Nexmo body, status "1") over its velocity '
                "limit for one number range; see Retry-After. Nothing stored or charged"
            },
            503: {"description": "The queue is unavailable; nothing was charged. See Retry-After"},
        },
    )
    def send():  # no return annotation: Powertools cannot model a bare Response
        body = service.accept_send(
            router.context["account"],
            wire_fields(event_body(router)),
            header(router, "Idempotency-Key"),
            router.lambda_context,
            inbound_replies=(header(router, "inbound") or "").strip().lower() == "yes",
            count_request=True,
        )
        return Response(
            status_code=accepted_status(body),
            content_type=content_types.APPLICATION_JSON,
            body=json.dumps(body),
        )

    return router
