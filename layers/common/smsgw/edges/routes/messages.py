"""Routes of MessagesFunction (reading messages; KPN's send is in smsgw.edges.routes.send).

Routers are built per resolver: a Powertools Router delegates its request state to the last
resolver that included it, so one Router object must not serve two apps (the docs app includes all).
The routes read their parameters themselves (smsgw.edges.params) and answer their views as dicts.
"""

from aws_lambda_powertools.event_handler.api_gateway import Router

from smsgw.core.views import wire_dict
from smsgw.edges.params import ID, ID_LENGTH, NUMBER, PAGE, SENDER, Param, documented, read_params
from smsgw.edges.request import account_route_guard
from smsgw.edges.resolver import ApiRouter, component, view_content
from smsgw.messages import reading
from smsgw.messages.views import MessagePage, MessageView

MESSAGES_PATH = "/messages"
MESSAGE_PATH = f"{MESSAGES_PATH}/{{message_id}}"  # as OpenAPI writes it
MESSAGE_ID = Param("message_id", where="path", max_length=ID_LENGTH)
LIST_FILTERS = (
    Param("status", description=f"One of: {', '.join(reading.STATUSES)}"),
    Param("to", pattern=NUMBER, hint="a phone number: up to 15 digits, optionally after +"),
    Param("from", pattern=SENDER, hint="a sender: up to 11 letters and digits, or a number"),
    Param("since", description="ISO 8601, inclusive"),
    Param("until", description="ISO 8601, inclusive"),
    Param("schedule_id", max_length=ID_LENGTH, pattern=ID, hint="a schedule id: letters, digits, - and _"),
    *PAGE,
)


def messages_router() -> Router:
    router = ApiRouter(
        requests={MESSAGE_PATH: documented([MESSAGE_ID]), MESSAGES_PATH: documented(LIST_FILTERS)}
    )

    @router.get(
        f"{MESSAGES_PATH}/<message_id>",
        summary="A message: status, parts, price, timeline",
        description="`message_id` may be the message id or any part id from the send answer.",
        tags=["Messages"],
        middlewares=[account_route_guard],
        responses={
            200: {"description": "The message", "content": view_content(MessageView)},
            401: {"description": "Missing, malformed, unknown or expired token"},
            403: {"description": "The account is disabled"},
            404: {
                "description": "No such message for this account",
                "content": component("ErrorResponse"),
            },
        },
    )
    def get_message(message_id: str):  # no return annotation: answered as a dict
        account_id = router.context["account"].account_id
        return wire_dict(reading.get_message(account_id, MESSAGE_ID.read(message_id)))

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
                "content": view_content(MessageView),
            },
            401: {"description": "Missing, malformed, unknown or expired token"},
            403: {"description": "The account is disabled"},
            404: {
                "description": "No such message for this account",
                "content": component("ErrorResponse"),
            },
            409: {
                "description": "The message is already queued, sent or failed: it cannot be cancelled",
                "content": component("ErrorResponse"),
            },
        },
    )
    def cancel_message(message_id: str):
        account_id = router.context["account"].account_id
        return wire_dict(reading.cancel_message(account_id, MESSAGE_ID.read(message_id)))

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
                "content": view_content(MessagePage),
            },
            400: {
                "description": "A bad filter (an unknown `status`, a `since`/`until` that is no date-time), limit "
                "or cursor; `field` names it",
                "content": component("ErrorResponse"),
            },
            401: {"description": "Missing, malformed, unknown or expired token"},
            403: {"description": "The account is disabled"},
        },
    )
    def list_messages():
        filters = read_params(router, LIST_FILTERS)
        filters["sender"] = filters.pop("from")
        return wire_dict(reading.list_messages(router.context["account"].account_id, **filters))

    return router
