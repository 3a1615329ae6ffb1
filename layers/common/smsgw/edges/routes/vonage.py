"""The route of SmsJsonFunction: `POST /sms/json`, Vonage's SMS API, so the official SDKs work unchanged.

Same acceptance as KPN's send (validate, charge, persist, enqueue; the same answer body), but
authenticated the Vonage way (smsgw.accounts.vonage_auth) instead of a bearer token, and every
outcome is HTTP 200 with Vonage's body (`Wire.VONAGE` in smsgw.edges.errors), as Vonage answers.
"""

import json
from typing import Annotated, Any

from aws_lambda_powertools.event_handler import Response, content_types
from aws_lambda_powertools.event_handler.api_gateway import Router
from aws_lambda_powertools.event_handler.openapi.params import Body
from pydantic import BaseModel, ConfigDict, Field

from smsgw.accounts import vonage_auth
from smsgw.edges.errors import Wire
from smsgw.edges.request import header
from smsgw.edges.resolver import ApiRouter, accepted_status
from smsgw.messages import service
from smsgw.messages.models import NexmoErrorElement, SendRequest, SentPart, WireStr

SMS_JSON_PATH = "/sms/json"


class VonageSendRequest(SendRequest):
    """`POST /sms/json`: KPN's send parameters plus Vonage's credentials (form-encoded or JSON)."""

    api_key: WireStr | None = Field(default=None, description="Your api_key (or use Basic auth)")
    api_secret: WireStr | None = Field(
        default=None, description="Your api_secret; never together with sig (status 32)"
    )
    sig: WireStr | None = Field(
        default=None,
        description="Signature over every other parameter with your signature secret and method "
        "(hex, any case); needs api_key and timestamp",
    )
    timestamp: WireStr | None = Field(
        default=None, description="Unix seconds, with sig; within 5 minutes of the server's clock"
    )
    nonce: WireStr | None = Field(
        default=None, description="Optional, signed: makes identical requests differ"
    )


class VonageSmsResponse(BaseModel):
    """HTTP 200 (202 when held for later). Accepted: one element per part with `status` "0". Refused: one
    element with the Vonage `status` and `error-text` (and `field`, the parameter at fault, when there is one)."""

    model_config = ConfigDict(populate_by_name=True)

    message_count: str = Field(alias="message-count")
    messages: list[SentPart | NexmoErrorElement]


DESCRIPTION = """Vonage's SMS API (`https://rest.nexmo.com/sms/json`): point an official Vonage SDK or any
Vonage client at this host. Accepted for delivery and answered at once, like the KPN send. Form-encoded
or JSON; parameters may also be in the query string. No bearer token: authenticate with
`api_key` + `api_secret`, `Authorization: Basic base64(api_key:api_secret)`, or a signature
(`api_key`, `timestamp`, `sig`). Every answer is HTTP 200 as Vonage's (202 when the message is held for
later: `send_at` or quiet hours): refusals carry the Vonage
status: 1 throttled (over the account's request rate; nothing stored or charged), 2 missing
parameter or credentials, 3 invalid parameter, 4 bad credentials, 5 internal or temporary error,
8 account disabled, 9 balance too low, 12 message too long, 14 invalid, stale or reused signature,
15 sender not allowed, 16 invalid ttl, 20 invalid message-class, 23 invalid callback,
32 signature together with a secret. Header `Idempotency-Key` works as on the KPN send."""


def _query_params(router: Router) -> dict[str, str]:
    return {k: str(v) for k, v in (router.current_event.query_string_parameters or {}).items()}


def _as_string(value: Any) -> str:
    return value if isinstance(value, str) else json.dumps(value)


def sms_json_router() -> Router:
    router = ApiRouter(Wire.VONAGE, forms=[SMS_JSON_PATH])

    @router.post(
        SMS_JSON_PATH,
        summary="Send an SMS (Vonage SMS API, for the official SDKs)",
        description=DESCRIPTION,
        tags=["SMS"],
        responses={
            200: {
                "description": 'Accepted (`status` "0", one element per part) or refused (a Vonage `status`)',
                "content": {"application/json": {"model": VonageSmsResponse}},
            },
            202: {
                "description": "Held for later (`send_at`, or the account's quiet hours): `message-status` "
                '"scheduled" and `send-at`; charged when it is sent',
                "content": {"application/json": {"model": VonageSmsResponse}},
            },
        },
    )
    def sms_json(
        request: Annotated[VonageSendRequest | None, Body(media_type=content_types.APPLICATION_JSON)] = None,
    ):
        # No return annotation: Powertools cannot model a bare Response.
        body_params = request.wire_fields() if request is not None else {}
        params = {
            **_query_params(router),
            **{key: _as_string(value) for key, value in body_params.items() if value is not None},
        }
        caller = vonage_auth.authenticate_request(params, header(router, "Authorization"))
        idempotency_key = header(router, "Idempotency-Key")
        with vonage_auth.single_use(caller, idempotency_key):
            body = service.accept_send(
                caller.account,
                vonage_auth.without_credentials(params),
                idempotency_key,
                router.lambda_context,
                count_request=True,  # the account's rate limit, counted in the send's charge
            )
        return Response(
            status_code=accepted_status(body),
            content_type=content_types.APPLICATION_JSON,
            body=json.dumps(body),
        )

    return router
