"""Routes of SendFunction (KPN's Nexmo send) and MessagesFunction (reading messages).

Routers are built per resolver: a Powertools Router delegates its request state to the last
resolver that included it, so one Router object must not serve two apps (the docs app includes all).
"""

import json
from typing import Annotated

from aws_lambda_powertools.event_handler import Response, content_types
from aws_lambda_powertools.event_handler.api_gateway import Router
from aws_lambda_powertools.event_handler.openapi.params import Body, Path, Query

from smsgw.core.error_body import ErrorResponse
from smsgw.edges.errors import Wire
from smsgw.edges.request import account_route_guard, header, send_route_guard
from smsgw.edges.resolver import ApiRouter, accepted_status
from smsgw.messages import reading, service
from smsgw.messages.models import (
    MessagePage,
    MessageView,
    NexmoErrorResponse,
    SendRequest,
    SendResponse,
)
from smsgw.pagination import MAX_PAGE

SEND_PATH = "/communication/nexmo/sms/send"

MESSAGES_PATH = "/messages"


def send_router() -> Router:
    router = ApiRouter(Wire.NEXMO, forms=[SEND_PATH])

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
                "content": {"application/json": {"model": SendResponse}},
            },
            202: {
                "description": "Held for later (`send_at`, or the account's quiet hours): `message-status` "
                '"scheduled" and `send-at`; charged when it is sent',
                "content": {"application/json": {"model": SendResponse}},
            },
            400: {
                "description": "Bad input: `error-text` and `field` name the parameter to fix; a destination "
                'country the account may not send to (status "29"); nothing is stored',
                "content": {"application/json": {"model": NexmoErrorResponse}},
            },
            401: {"description": "Missing, malformed, unknown or expired token"},
            403: {
                "description": "The account is disabled",
                "content": {"application/json": {"model": ErrorResponse}},
            },
            409: {"description": "The same Idempotency-Key is still being processed"},
            412: {
                "description": "Header `inbound: yes` but the sender's number has no registered callback",
                "content": {"application/json": {"model": ErrorResponse}},
            },
            429: {
                "description": 'Over the account\'s request rate, or (Nexmo body, status "1") over its velocity '
                "limit for one number range; see Retry-After. Nothing stored or charged"
            },
            503: {"description": "The queue is unavailable; nothing was charged. See Retry-After"},
        },
    )
    def send(request: Annotated[SendRequest, Body(media_type=content_types.APPLICATION_JSON)]):
        # No return annotation: Powertools cannot model a bare Response.
        body = service.accept_send(
            router.context["account"],
            request.wire_fields(),
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


def messages_router() -> Router:
    router = ApiRouter()

    @router.get(
        f"{MESSAGES_PATH}/<message_id>",
        summary="A message: status, parts, price, timeline",
        description="`message_id` may be the message id or any part id from the send answer.",
        tags=["Messages"],
        middlewares=[account_route_guard],
        responses={
            200: {"description": "The message", "content": {"application/json": {"model": MessageView}}},
            401: {"description": "Missing, malformed, unknown or expired token"},
            403: {"description": "The account is disabled"},
            404: {
                "description": "No such message for this account",
                "content": {"application/json": {"model": ErrorResponse}},
            },
        },
    )
    def get_message(message_id: Annotated[str, Path(max_length=64)]) -> MessageView:
        return reading.get_message(router.context["account"].account_id, message_id)

    @router.delete(
        f"{MESSAGES_PATH}/<message_id>",
        summary="Cancel a scheduled message",
        description=(
            "A message with `send_at` (or held by quiet hours) that has not been sent yet is cancelled and "
            "its schedule deleted; nothing is charged. Cancelling a cancelled message answers the same."
        ),
        tags=["Messages"],
        middlewares=[account_route_guard],
        responses={
            200: {
                "description": "Cancelled (`status` cancelled)",
                "content": {"application/json": {"model": MessageView}},
            },
            401: {"description": "Missing, malformed, unknown or expired token"},
            403: {"description": "The account is disabled"},
            404: {
                "description": "No such message for this account",
                "content": {"application/json": {"model": ErrorResponse}},
            },
            409: {
                "description": "The message is already queued, sent or failed: it cannot be cancelled",
                "content": {"application/json": {"model": ErrorResponse}},
            },
        },
    )
    def cancel_message(message_id: Annotated[str, Path(max_length=64)]) -> MessageView:
        return reading.cancel_message(router.context["account"].account_id, message_id)

    @router.get(
        MESSAGES_PATH,
        summary="The account's messages, newest first",
        description=(
            "Filter by `status`, `to`, `from`, `schedule_id` (the messages of a recurring schedule) and a "
            "`since`/`until` date-time range; page with `cursor`."
        ),
        tags=["Messages"],
        middlewares=[account_route_guard],
        responses={
            200: {
                "description": "A page of messages",
                "content": {"application/json": {"model": MessagePage}},
            },
            400: {
                "description": "A bad filter (an unknown `status`, a `since`/`until` that is no date-time), limit "
                "or cursor; `field` names it",
                "content": {"application/json": {"model": ErrorResponse}},
            },
            401: {"description": "Missing, malformed, unknown or expired token"},
            403: {"description": "The account is disabled"},
        },
    )
    def list_messages(
        status: Annotated[str | None, Query(description=f"One of: {', '.join(reading.STATUSES)}")] = None,
        to: Annotated[str | None, Query()] = None,
        sender: Annotated[str | None, Query(alias="from")] = None,
        since: Annotated[str | None, Query(description="ISO 8601, inclusive")] = None,
        until: Annotated[str | None, Query(description="ISO 8601, inclusive")] = None,
        schedule_id: Annotated[str | None, Query(max_length=64)] = None,
        limit: Annotated[int, Query(ge=1, le=MAX_PAGE)] = 50,
        cursor: Annotated[str | None, Query()] = None,
    ) -> MessagePage:
        return reading.list_messages(
            router.context["account"].account_id,
            status=status,
            to=to,
            sender=sender,
            since=since,
            until=until,
            schedule_id=schedule_id,
            limit=limit,
            cursor=cursor,
        )

    return router
