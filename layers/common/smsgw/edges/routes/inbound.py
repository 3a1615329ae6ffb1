"""Routes: the carrier's inbound webhook (InboundFunction) and the account's inbound messages (MessagesFunction)."""

from typing import Any

from aws_lambda_powertools.event_handler.api_gateway import Router

from smsgw.core.views import wire_dict
from smsgw.edges.params import ID_LENGTH, PAGE, Param, documented, read_params
from smsgw.edges.request import account_route_guard, request_params
from smsgw.edges.resolver import ApiRouter, component, view_content
from smsgw.inbound import service
from smsgw.inbound.models import InboundAck, InboundPage, InboundView

CARRIER_INBOUND_PATH = "/carrier/inbound"
CONNECTOR_INBOUND_PATH = "/carrier/{connector}/inbound"  # as OpenAPI writes it
_CONNECTOR_INBOUND_ROUTE = "/carrier/<connector>/inbound"
INBOUND_PATH = "/inbound"
INBOUND_ID = Param("inbound_id", where="path", max_length=ID_LENGTH)

CARRIER_RESPONSES: dict[int, Any] = {
    200: {"description": "Acknowledged", "content": view_content(InboundAck)},
    400: {
        "description": "A required field is missing or malformed",
        "content": component("ErrorResponse"),
    },
    401: {
        "description": "Not authenticated: no valid carrier signature and no valid `?token=` "
        "(or forged, or stale); nothing is stored"
    },
    503: {"description": "A resend of a part another attempt is still processing: send it again later"},
}
CONNECTOR_RESPONSES: dict[int, Any] = {
    **CARRIER_RESPONSES,
    401: {
        "description": "Not authenticated with this connector's secret, as its webhook_auth says "
        "(signature or `?token=`); nothing is stored"
    },
    404: {"description": "No such connector"},
}
CONNECTOR_DESCRIPTION = (
    "The inbound SMS webhook of one connector (docs/routing.md), as /carrier/inbound is the default's: "
    "authenticated with that connector's secret as its webhook_auth says (its carrier's signature, or "
    "the `token` query parameter of the URL registered with it). The message is then handled and routed "
    "as on /carrier/inbound (to the owner of the number it was sent to)."
)
CARRIER_DESCRIPTION = (
    "Called by the carrier only (signed, or with the URL's `token`), one call per SMS part, with "
    "Vonage's inbound fields (msisdn, to, "
    "messageId, text, type, keyword, message-timestamp, concat, concat-ref, concat-total, concat-part). "
    "Resends are acknowledged and ignored; parts are reassembled; the message is forwarded, signed, "
    "to the callback of the conversation, number or registered phone it belongs to."
)


def carrier_inbound_router() -> Router:
    router = ApiRouter()

    @router.route(
        CARRIER_INBOUND_PATH,
        method=["GET", "POST"],
        summary="Inbound SMS (carrier webhook)",
        description=CARRIER_DESCRIPTION,
        tags=["Carrier"],
        responses=CARRIER_RESPONSES,
    )
    def inbound():  # no return annotation: answered as a dict
        return wire_dict(InboundAck(result=service.receive(request_params(router))))

    @router.route(
        _CONNECTOR_INBOUND_ROUTE,
        method=["GET", "POST"],
        summary="Inbound SMS of a connector (carrier webhook)",
        description=CONNECTOR_DESCRIPTION,
        tags=["Carrier"],
        responses=CONNECTOR_RESPONSES,
    )
    def connector_inbound(connector: str):
        return wire_dict(InboundAck(result=service.receive(request_params(router), connector=connector)))

    return router


def inbound_router() -> Router:
    router = ApiRouter(
        requests={INBOUND_PATH: documented(PAGE), f"{INBOUND_PATH}/{{inbound_id}}": documented([INBOUND_ID])}
    )

    @router.get(
        INBOUND_PATH,
        summary="The account's inbound SMS, newest first",
        tags=["Inbound"],
        middlewares=[account_route_guard],
        responses={
            200: {"description": "A page", "content": view_content(InboundPage)},
            400: {
                "description": "A bad limit or cursor",
                "content": component("ErrorResponse"),
            },
            401: {"description": "Missing, malformed, unknown or expired token"},
            403: {"description": "The account is disabled"},
        },
    )
    def list_inbound():
        page = read_params(router, PAGE)
        return wire_dict(service.list_inbound(router.context["account"].account_id, **page))

    @router.get(
        f"{INBOUND_PATH}/<inbound_id>",
        summary="An inbound SMS and its deliveries to your callback",
        tags=["Inbound"],
        middlewares=[account_route_guard],
        responses={
            200: {"description": "The message", "content": view_content(InboundView)},
            401: {"description": "Missing, malformed, unknown or expired token"},
            403: {"description": "The account is disabled"},
            404: {
                "description": "No such inbound message for this account",
                "content": component("ErrorResponse"),
            },
        },
    )
    def get_inbound(inbound_id: str):
        account_id = router.context["account"].account_id
        return wire_dict(service.get_inbound(account_id, INBOUND_ID.read(inbound_id)))

    return router
