"""Routes of DeliveryReceiptFunction: the carriers' DLR webhooks (GET, POST form, POST JSON) — the
default connector's /carrier/dlr and each other connector's /carrier/{connector}/dlr.

They read their parameters themselves (`request_params`) and answer dicts, documented by components
(`ReceiptAck` is registered by smsgw.edges.app): the function starts without pydantic and Powertools'
validation, like the send routes (docs/decisions.md, cold start).
"""

from typing import Any

from aws_lambda_powertools.event_handler.api_gateway import Router

from smsgw.edges.request import request_params
from smsgw.edges.resolver import ApiRouter, component
from smsgw.receipts import service

DLR_PATH = "/carrier/dlr"
CONNECTOR_DLR_PATH = "/carrier/{connector}/dlr"  # as OpenAPI writes it
_CONNECTOR_DLR_ROUTE = "/carrier/<connector>/dlr"


RESPONSES: dict[int, Any] = {
    200: {"description": "Acknowledged", "content": component("ReceiptAck")},
    400: {"description": "No messageId or an unknown status", "content": component("ErrorResponse")},
    401: {
        "description": "Not authenticated: no valid carrier signature and no valid `?token=` "
        "(or forged, or stale); nothing is stored"
    },
}
CONNECTOR_RESPONSES: dict[int, Any] = {
    **RESPONSES,
    401: {
        "description": "Not authenticated with this connector's secret, as its webhook_auth says "
        "(signature or `?token=`); nothing is stored"
    },
    404: {"description": "No such connector"},
}
CONNECTOR_DESCRIPTION = (
    "The delivery receipt webhook of one connector (docs/routing.md), as /carrier/dlr is the default's: "
    "authenticated with that connector's secret as its webhook_auth says (its carrier's signature, or "
    "the `token` query parameter of the URL the gateway gave it)."
)
DESCRIPTION = (
    "Called by the carrier only, with Vonage's DLR fields (messageId, status, err-code, network-code, "
    "price, msisdn, to, scts, message-timestamp, client-ref). Authenticated by the carrier's signature "
    "or the `token` query parameter of the URL the gateway gave the carrier. Duplicates and out-of-order "
    "receipts are acknowledged and change nothing."
)


def receipts_router() -> Router:
    router = ApiRouter()

    @router.route(
        DLR_PATH,
        method=["GET", "POST"],
        summary="Delivery receipt (carrier webhook)",
        description=DESCRIPTION,
        tags=["Carrier"],
        responses=RESPONSES,
    )
    def receipt():  # no return annotation: the answer is documented by its component
        return {"result": service.receive(request_params(router))}

    @router.route(
        _CONNECTOR_DLR_ROUTE,
        method=["GET", "POST"],
        summary="Delivery receipt of a connector (carrier webhook)",
        description=CONNECTOR_DESCRIPTION,
        tags=["Carrier"],
        responses=CONNECTOR_RESPONSES,
    )
    def connector_receipt(connector: str):
        return {"result": service.receive(request_params(router), connector=connector)}

    return router
