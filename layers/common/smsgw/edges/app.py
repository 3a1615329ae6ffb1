"""The whole API in one resolver: the source of the OpenAPI document that ApiFunction serves.

`make openapi` (`python -m smsgw.edges.app`) writes it to smsgw/edges/openapi.json; the docs function
(smsgw.edges.docs) serves that file, so its cold start loads none of this. tests/integration/test_api_docs.py
fails while the file differs from what the routes generate.

The document says what the API does (tests/integration/test_api_fuzz.py runs schemathesis with all its
checks over it): each operation names the authentication it really uses (bearer, Vonage's credentials,
the carrier's token or signature, or none), and every error status has the body it is answered with;
`servers` is added when it is served (where it was fetched).
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from aws_lambda_powertools.event_handler import content_types
from aws_lambda_powertools.event_handler.openapi.models import (
    APIKey,
    APIKeyIn,
    HTTPBase,
    HTTPBearer,
    OpenAPI,
    PathItem,
    SecurityScheme,
)
from pydantic import BaseModel, Field
from pydantic.json_schema import JsonSchemaMode, models_json_schema

from smsgw.core.error_body import ErrorResponse
from smsgw.edges.docs import DOCUMENT
from smsgw.edges.errors import Wire
from smsgw.edges.request import GUARDS
from smsgw.edges.request_body import FORM, MULTIPART
from smsgw.edges.resolver import API_DESCRIPTION, API_TITLE, API_VERSION, SmsgwResolver, create_plain_resolver
from smsgw.edges.routes.accounts import token_router
from smsgw.edges.routes.inbound import (
    CARRIER_INBOUND_PATH,
    CONNECTOR_INBOUND_PATH,
    carrier_inbound_router,
    inbound_router,
)
from smsgw.edges.routes.messages import messages_router
from smsgw.edges.routes.numbers import numbers_router
from smsgw.edges.routes.receipts import CONNECTOR_DLR_PATH, DLR_PATH, receipts_router
from smsgw.edges.routes.schedules import schedules_router
from smsgw.edges.routes.send import send_router
from smsgw.edges.routes.vonage import SMS_JSON_PATH, sms_json_router
from smsgw.messages.models import (
    NexmoErrorResponse,
    SendRequest,
    SendResponse,
    VonageSendRequest,
    VonageSmsResponse,
)
from smsgw.numbers.models import (
    AvailableNumbers,
    NumberRequest,
    NumbersError,
    NumbersResult,
    RegisterRequest,
    RegisterResponse,
    UpdateNumberRequest,
)
from smsgw.schedules.models import ScheduleRequest, ScheduleUpdate

DOCUMENT_PATH = Path(__file__).with_name(DOCUMENT)

SECURITY_SCHEMES: dict[str, SecurityScheme] = {
    "bearer": HTTPBearer(description="The access_token from /oauth/client_credential/accesstoken"),
    "vonageBasic": HTTPBase(
        scheme="basic", description="/sms/json: `Authorization: Basic base64(api_key:api_secret)`"
    ),
    "vonageApiKey": APIKey.model_validate(
        {"in": APIKeyIn.query, "name": "api_key", "description": "/sms/json: your api_key (also in the body)"}
    ),
    "vonageApiSecret": APIKey.model_validate(
        {
            "in": APIKeyIn.query,
            "name": "api_secret",
            "description": "/sms/json: your api_secret (also in the body). Or sign the request instead: "
            "`api_key`, `timestamp` and `sig` (see the operation)",
        }
    ),
    "carrierToken": APIKey.model_validate(
        {
            "in": APIKeyIn.query,
            "name": "token",
            "description": "Carrier webhooks: the `webhook_token` of the carrier secret, in the URL the "
            "carrier's dashboard calls",
        }
    ),
    "carrierSignature": APIKey.model_validate(
        {
            "in": APIKeyIn.query,
            "name": "sig",
            "description": "Carrier webhooks: Vonage's signature over the other parameters (with `timestamp`), "
            "made with the carrier secret's `signature_secret`; in the query or the body",
        }
    ),
}

# Operations without the bearer guard, and what authenticates them instead. `{}` in /sms/json's list:
# Vonage answers every request HTTP 200, a missing or wrong credential with `status` 2 or 4 in the body.
CARRIER_SECURITY: list[dict[str, list[str]]] = [{"carrierToken": []}, {"carrierSignature": []}]
SECURITY: dict[str, list[dict[str, list[str]]]] = {
    SMS_JSON_PATH: [{"vonageBasic": []}, {"vonageApiKey": [], "vonageApiSecret": []}, {}],
    DLR_PATH: CARRIER_SECURITY,
    CARRIER_INBOUND_PATH: CARRIER_SECURITY,
    CONNECTOR_DLR_PATH: CARRIER_SECURITY,  # with that connector's secret
    CONNECTOR_INBOUND_PATH: CARRIER_SECURITY,
}
CARRIER_PATHS = (DLR_PATH, CARRIER_INBOUND_PATH, CONNECTOR_DLR_PATH, CONNECTOR_INBOUND_PATH)

GATEWAY_ERROR = "GatewayError"
_GATEWAY_ERROR_SCHEMA: dict[str, Any] = {
    "title": GATEWAY_ERROR,
    "type": "object",
    "description": "API Gateway's own answer, before the gateway's code runs (its authorizer refused the "
    "token, or no such route)",
    "properties": {"message": {"type": "string"}},
    "required": ["message"],
}
_ERROR_REF = {"$ref": "#/components/schemas/ErrorResponse"}
_GATEWAY_REF = {"$ref": f"#/components/schemas/{GATEWAY_ERROR}"}
_NEXMO_REF = {"$ref": "#/components/schemas/NexmoErrorResponse"}

# Carrier webhook fields (form, JSON or query), documented for the POST routes.
_CARRIER_FIELDS = (
    "messageId",
    "status",
    "err-code",
    "msisdn",
    "to",
    "network-code",
    "price",
    "scts",
    "text",
    "type",
    "keyword",
    "message-timestamp",
    "concat",
    "concat-ref",
    "concat-total",
    "concat-part",
    "client-ref",
    "timestamp",
    "sig",
)
_CARRIER_BODY: dict[str, Any] = {
    "required": False,
    "description": "The carrier's fields, form-encoded or JSON (or in the query string)",
    "content": {
        media: {
            "schema": {
                "type": "object",
                "properties": {name: {"type": "string"} for name in _CARRIER_FIELDS},
                "additionalProperties": {"type": "string"},
            }
        }
        for media in (FORM, content_types.APPLICATION_JSON)
    },
}


def _same_as_success(content: dict[str, Any], responses: dict[str, Any]) -> bool:
    """Powertools gives a response declared without content the route's return model: not an error's."""
    return any(
        str(status).startswith("2") and answer.get("content") == content
        for status, answer in responses.items()
    )


def _media(schema: dict[str, Any]) -> dict[str, Any]:
    return {content_types.APPLICATION_JSON: {"schema": schema}}


# The carrier's receipt webhooks' answer (smsgw.edges.routes.receipts answers it as a dict). No
# docstring: it would become the schema's description.
class ReceiptAck(BaseModel):
    result: str = Field(description="applied | duplicate (nothing changed) | pending (id not recorded yet)")


# Models of routes that read their body themselves (smsgw.edges.routes.send): they name them with
# `component(...)`, and the document carries them (with the models they nest) as components.
DOCUMENTED_MODELS: tuple[tuple[type[BaseModel], JsonSchemaMode], ...] = (
    (SendRequest, "validation"),
    (SendResponse, "serialization"),
    (NexmoErrorResponse, "serialization"),
    (VonageSendRequest, "validation"),
    (VonageSmsResponse, "serialization"),
    (ReceiptAck, "serialization"),
    (ScheduleRequest, "validation"),
    (ScheduleUpdate, "validation"),
    (RegisterRequest, "validation"),
    (UpdateNumberRequest, "validation"),
    (NumberRequest, "validation"),
    (RegisterResponse, "serialization"),
    (NumbersResult, "serialization"),
    (NumbersError, "serialization"),
    (AvailableNumbers, "serialization"),
)


def _documented_components() -> dict[str, Any]:
    _, top = models_json_schema(DOCUMENTED_MODELS, ref_template="#/components/schemas/{model}")
    return dict(top.get("$defs", {}))


class DocumentedApi(SmsgwResolver):
    """The docs app's resolver: the document as the API answers (see the module docstring)."""

    def get_openapi_schema(self, **kwargs: Any) -> OpenAPI:
        kwargs.pop("security", None)  # per operation, below
        document = super().get_openapi_schema(**kwargs).model_dump(by_alias=True, exclude_none=True)
        guarded = {
            (route.openapi_path, route.method.lower())
            for route in self._static_routes + self._dynamic_routes
            if GUARDS & set(route.middlewares)
        }
        schemas = document.setdefault("components", {}).setdefault("schemas", {})
        schemas.setdefault("ErrorResponse", ErrorResponse.model_json_schema())
        for name, model_schema in _documented_components().items():
            schemas.setdefault(name, model_schema)
        schemas[GATEWAY_ERROR] = _GATEWAY_ERROR_SCHEMA
        for path, item in (document.get("paths") or {}).items():
            for method, operation in item.items():
                is_guarded = (path, method) in guarded
                operation["security"] = [{"bearer": []}] if is_guarded else SECURITY.get(path, [])
                self._document_errors(operation, is_guarded, self.wires.get(path))
                content = (operation.get("requestBody") or {}).get("content")
                if self.wires.get(path) is Wire.VONAGE and path in self.form_paths and content:
                    media = next(iter(content.values()))
                    content.setdefault(FORM, media)
                    content.setdefault(MULTIPART, media)
                if path in CARRIER_PATHS and method == "post":
                    operation.setdefault("requestBody", _CARRIER_BODY)
        schema = OpenAPI.model_validate(document)
        schema.paths = {path: PathItem.model_validate(item) for path, item in document["paths"].items()}
        return schema

    @staticmethod
    def _document_errors(operation: dict[str, Any], guarded: bool, wire: Wire | None) -> None:
        """Every error status with its body: the gateway's `ErrorResponse` unless the route says otherwise;
        API Gateway's own for 401/403 before a bearer route's code runs; Nexmo's for a refused send; the
        gateway's for a malformed request to the Numbers API (its own refusals are Vonage's shape)."""
        nexmo = wire is Wire.NEXMO
        responses: dict[str, Any] = operation.setdefault("responses", {})
        if guarded:
            responses.setdefault("429", {"description": "Over the account's request rate; see Retry-After"})
        for status, answer in responses.items():
            if int(status) < 400:
                continue
            content = answer.get("content") or {}
            schema = (content.get(content_types.APPLICATION_JSON) or {}).get("schema") or {}
            if not schema or _same_as_success(content, responses):
                schema = _ERROR_REF
            choices = list(schema.get("anyOf", [schema]))
            if nexmo and int(status) in (403, 413, 415):  # a barred recipient; the body parser's refusals
                choices = [_NEXMO_REF] if int(status) != 403 else [*choices, _NEXMO_REF]
            if guarded and int(status) in (401, 403):
                choices = [_GATEWAY_REF, *choices]
            if wire is Wire.NUMBERS and int(status) == 400:
                choices = [*choices, _ERROR_REF]
            unique = [choice for n, choice in enumerate(choices) if choice not in choices[:n]]
            answer["content"] = _media(unique[0] if len(unique) == 1 else {"anyOf": unique})


def create_api() -> SmsgwResolver:
    """The whole API in one resolver (every router), documented as the module docstring says."""
    return create_plain_resolver(
        token_router(),
        send_router(),
        sms_json_router(),
        messages_router(),
        inbound_router(),
        receipts_router(),
        carrier_inbound_router(),
        numbers_router(),
        schedules_router(),
        resolver=DocumentedApi,
    )


def openapi_document() -> dict[str, Any]:
    """The document ApiFunction serves (smsgw.edges.docs), without `servers`: it adds where it was fetched."""
    document = create_api().get_openapi_schema(
        title=API_TITLE,
        version=API_VERSION,
        description=API_DESCRIPTION,
        security_schemes=SECURITY_SCHEMES,
    )
    generated: dict[str, Any] = json.loads(document.model_dump_json(by_alias=True, exclude_none=True))
    generated.pop("servers", None)
    return generated


def write_document(path: Path = DOCUMENT_PATH) -> None:
    # Sorted: a route's change is a small diff, whatever order Powertools generates in.
    text = json.dumps(openapi_document(), indent=1, ensure_ascii=False, sort_keys=True)
    path.write_text(text + "\n", encoding="utf-8")


if __name__ == "__main__":  # make openapi
    write_document()
    print(f"wrote {DOCUMENT_PATH}")
