"""Routes of NumbersFunction: KPN's `POST /communication/nexmo/sms/register` and the Phone Numbers API
under `/communication/nexmo/phone-numbers/` (Vonage's names and answer shapes).

The Phone Numbers API answers errors as Vonage does, `{"error-code": …, "error-code-label": …}` plus
our `field`, through this router's handler for `NumbersApiError`. Errors of the gateway itself
(401 token, 403 disabled account, 429 rate limit, a malformed body) keep the gateway's shape.
One Router object per resolver (see `smsgw.edges.routes.messages`).
"""

import json
from typing import Any

from aws_lambda_powertools.event_handler import Response, content_types
from aws_lambda_powertools.event_handler.api_gateway import Router

from smsgw.core.views import wire_dict
from smsgw.edges.errors import Wire
from smsgw.edges.params import Param, documented
from smsgw.edges.request import event_body, kpn_route_guard
from smsgw.edges.request_body import BadBody
from smsgw.edges.resolver import ApiRouter, component, component_body, view_content
from smsgw.messages import service as messages
from smsgw.numbers import register as registration
from smsgw.numbers import service
from smsgw.numbers.views import (
    CODE_SENT_MESSAGE,
    NUMBER_FIELDS,
    REGISTER_FIELDS,
    REGISTERED_MESSAGE,
    UPDATE_FIELDS,
    NotAString,
    OwnedNumbers,
    request_fields,
    success,
)

REGISTER_PATH = "/communication/nexmo/sms/register"
PHONE_NUMBERS = "/communication/nexmo/phone-numbers"
UPDATE_PATH = f"{PHONE_NUMBERS}/number/update"
OWNED_PATH = f"{PHONE_NUMBERS}/account/numbers"
SEARCH_PATH = f"{PHONE_NUMBERS}/number/search"
BUY_PATH = f"{PHONE_NUMBERS}/number/buy"
CANCEL_PATH = f"{PHONE_NUMBERS}/number/cancel"

TAGS = ["Phone numbers"]


def _json(status: int, body: Any, headers: dict[str, str] | None = None) -> Response:
    return Response(
        status_code=status,
        content_type=content_types.APPLICATION_JSON,
        body=json.dumps(body),
        headers=headers,
    )


def _vonage(description: str) -> Any:  # a Powertools OpenAPIResponse
    return {"description": description, "content": component("NumbersError")}


def _gateway(description: str) -> Any:
    return {"description": description, "content": component("ErrorResponse")}


def _fields(router: Router, documented_fields: frozenset[str]) -> dict[str, str]:
    """The body's parameters as strings (smsgw.numbers.views.request_fields); a documented one that is a
    list or an object is a malformed body: 400 in the gateway's shape, as the models' validation was."""
    try:
        return request_fields(event_body(router), documented_fields)
    except NotAString as error:
        raise BadBody(str(error), error.field) from None


PATTERN = Param("pattern", description="Digits to match (1–15)")
SEARCH_PATTERN = Param("search_pattern", description="0 starts with (default), 1 contains, 2 ends with")
SIZE = Param("size", description="Page size, 1–100 (default 10)")
INDEX = Param("index", description="Page, from 1 (default 1)")
# Documented only: the service checks them from the query string, so that a bad or unknown one is
# answered in Vonage's shape.
OWNED_QUERY = (
    PATTERN,
    SEARCH_PATTERN,
    SIZE,
    INDEX,
    Param("country", description="Only numbers of this ISO 3166-1 country"),
    Param("application_id", description="Only numbers with this app_id"),
    Param("has_application", description="true: with an app_id; false: without"),
)
SEARCH_QUERY = (
    Param("country", description="Required: ISO 3166-1 alpha-2, e.g. GB"),
    Param("type", description="landline | landline-toll-free | mobile-lvn"),
    PATTERN,
    SEARCH_PATTERN,
    Param("features", description="SMS, VOICE, MMS, comma-separated"),
    SIZE,
    INDEX,
)
REQUESTS: dict[str, dict[str, Any]] = {
    REGISTER_PATH: component_body("RegisterRequest"),
    UPDATE_PATH: component_body("UpdateNumberRequest"),
    OWNED_PATH: documented(OWNED_QUERY),
    SEARCH_PATH: documented(SEARCH_QUERY),
    BUY_PATH: component_body("NumberRequest"),
    CANCEL_PATH: component_body("NumberRequest"),
}


GUARD_RESPONSES: dict[int, Any] = {
    401: _gateway("Missing, malformed, unknown or expired token"),
    403: _gateway("The account is disabled"),
    429: _gateway("Over the account's request rate; see Retry-After. Nothing changed"),
}
BAD_INPUT = _vonage("Bad input: `field` names the parameter to fix; nothing changed")
CARRIER_RESPONSES: dict[int, Any] = {
    420: _vonage('The carrier refused (`error-code` is the carrier\'s code, e.g. 420 "Action failed")'),
    502: _vonage("The carrier failed or did not answer; nothing was recorded. Retry later"),
    503: _vonage("The carrier is throttling the gateway; see Retry-After"),
}


def _query(router: Router) -> dict[str, str]:
    return {k: str(v) for k, v in (router.current_event.query_string_parameters or {}).items()}


def numbers_router() -> Router:
    router = ApiRouter(
        Wire.NUMBERS, forms=[REGISTER_PATH, UPDATE_PATH, BUY_PATH, CANCEL_PATH], requests=REQUESTS
    )

    @router.post(
        REGISTER_PATH,
        summary="Register a callback for your phone number (KPN demo webhook)",
        description=(
            'KPN\'s "Register webhook - Demo testing": `to` is your own phone (E.164 digits, e.g. 31612345678) '
            "and `callback_url` your webhook. You prove the phone is yours first: the first call sends a "
            "6-digit code to it by SMS (202, charged as a message); call again with the same `to`, "
            "`callback_url` and `code` within 10 minutes (201). Then SMS from that phone (e.g. replies to a "
            "send with header `inbound: yes`) are delivered to the callback, and the account may send `from` "
            "that number. Registering a phone you hold again replaces the callback (200). "
            "Form-encoded or JSON."
        ),
        tags=TAGS,
        middlewares=[kpn_route_guard],
        responses={
            200: {
                "description": "Registered again: the callback replaced the previous one",
                "content": component("RegisterResponse"),
            },
            201: {
                "description": "Registered: the code was right (a new number for this account)",
                "content": component("RegisterResponse"),
            },
            202: {
                "description": "A code was sent to `to` by SMS: call again with `code` to register",
                "content": component("RegisterResponse"),
            },
            400: _gateway(
                "Bad `to`, `callback_url` (https, public host) or `code` (wrong, expired, none waiting), or an "
                "unknown parameter; `field` names it. Nothing stored"
            ),
            **GUARD_RESPONSES,
            403: _gateway(
                "The number is registered by another account, the gateway receives SMS on it, or the account "
                "is disabled"
            ),
            412: _gateway("The balance does not cover the code SMS, or the phone replied STOP to its sender"),
            429: _gateway("Over the account's request rate, or too many codes for this phone today"),
        },
    )
    def register():
        account = router.context["account"]
        fields = _fields(router, REGISTER_FIELDS)
        outcome = registration.register_callback(
            account.account_id,
            fields,
            send_code=lambda msisdn, text: messages.send_verification_code(account, msisdn, text),
        )
        if outcome is registration.RegisterOutcome.CODE_SENT:
            to = fields.get("to", "").strip().removeprefix("+")
            return _json(202, {"message": CODE_SENT_MESSAGE.format(to=to)})
        created = outcome is registration.RegisterOutcome.CREATED
        return _json(201 if created else 200, {"message": REGISTERED_MESSAGE})

    @router.post(
        UPDATE_PATH,
        summary="Change a number's settings (inbound URL, voice, application)",
        description=(
            "Only a number this account bought through the gateway. A parameter left out is unchanged; one "
            "sent empty is removed (`moHttpUrl=` stops delivering inbound SMS). `moHttpUrl` must be https on a "
            "public host. The voice settings and `app_id` are kept on the number for Vonage compatibility; "
            "the gateway handles no calls."
        ),
        tags=TAGS,
        middlewares=[kpn_route_guard],
        responses={
            200: {"description": "Updated", "content": component("NumbersResult")},
            400: BAD_INPUT,
            **GUARD_RESPONSES,
            404: _vonage("Not a number this account owns (another account's number answers the same)"),
        },
    )
    def update():
        service.update_number(router.context["account"].account_id, _fields(router, UPDATE_FIELDS))
        return _json(200, success())

    @router.get(
        OWNED_PATH,
        summary="The account's numbers",
        description=(
            "Numbers this account bought through the gateway, by msisdn, a page at a time; `count` is the "
            "number of all matches. Registered phones (`/sms/register`) are not listed."
        ),
        tags=TAGS,
        middlewares=[kpn_route_guard],
        responses={
            200: {
                "description": "A page of numbers",
                "content": view_content(OwnedNumbers),
            },
            400: BAD_INPUT,
            **GUARD_RESPONSES,
        },
    )
    def owned_numbers():
        page = service.list_numbers(router.context["account"].account_id, _query(router))
        return _json(200, wire_dict(page, exclude_none=True))

    @router.get(
        SEARCH_PATH,
        summary="Numbers for sale",
        description="Asks the carrier for numbers available to buy and answers its list.",
        tags=TAGS,
        middlewares=[kpn_route_guard],
        responses={
            200: {
                "description": "The carrier's numbers for sale",
                "content": component("AvailableNumbers"),
            },
            400: BAD_INPUT,
            **GUARD_RESPONSES,
            **CARRIER_RESPONSES,
        },
    )
    def search():
        found = service.search_numbers(_query(router))
        return _json(200, found)

    @router.post(
        BUY_PATH,
        summary="Buy a number",
        description=(
            "Buys the number from the carrier for this account. Buying a number the account already owns "
            "succeeds again without buying it twice; a number the gateway gave another account answers 420 "
            "without asking the carrier."
        ),
        tags=TAGS,
        middlewares=[kpn_route_guard],
        responses={
            200: {"description": "Bought", "content": component("NumbersResult")},
            400: BAD_INPUT,
            **GUARD_RESPONSES,
            **CARRIER_RESPONSES,
        },
    )
    def buy():
        service.buy_number(router.context["account"].account_id, _fields(router, NUMBER_FIELDS))
        return _json(200, success())

    @router.post(
        CANCEL_PATH,
        summary="Cancel a number",
        description="Cancels a number this account owns at the carrier and forgets it.",
        tags=TAGS,
        middlewares=[kpn_route_guard],
        responses={
            200: {"description": "Cancelled", "content": component("NumbersResult")},
            400: BAD_INPUT,
            **GUARD_RESPONSES,
            404: _vonage("Not a number this account owns (another account's number answers the same)"),
            **CARRIER_RESPONSES,
        },
    )
    def cancel():
        service.cancel_number(router.context["account"].account_id, _fields(router, NUMBER_FIELDS))
        return _json(200, success())

    return router
