"""Routes of MessagesFunction (reading messages; KPN's send is in smsgw.edges.routes.send).

Routers are built per resolver: a Powertools Router delegates its request state to the last
resolver that included it, so one Router object must not serve two apps (the docs app includes all).
"""

from typing import Annotated

from aws_lambda_powertools.event_handler.api_gateway import Router
from aws_lambda_powertools.event_handler.openapi.params import Path, Query

from smsgw.core.error_body import ErrorResponse
from smsgw.edges.request import account_route_guard
from smsgw.edges.resolver import ApiRouter
from smsgw.messages import reading
from smsgw.messages.models import MessagePage, MessageView
from smsgw.pagination import MAX_PAGE

MESSAGES_PATH = "/messages"


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
