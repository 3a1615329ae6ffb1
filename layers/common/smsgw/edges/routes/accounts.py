"""Routes of TokenFunction: KPN's (Apigee's) OAuth client-credentials endpoint.

The route reads its form itself (smsgw.edges.request_body's parser, the same limits as every route) and
documents it in `TOKEN_REQUEST`, instead of declaring annotated parameters: those make Powertools
validate with pydantic, which the token function would load on every cold start for three strings
(docs/benchmarks.md §3).
"""

from __future__ import annotations

from dataclasses import asdict
from typing import Any

from aws_lambda_powertools.event_handler.api_gateway import Router

from smsgw.accounts import service
from smsgw.core.errors import BadRequest
from smsgw.edges.request import event_body
from smsgw.edges.resolver import ApiRouter, component

TOKEN_PATH = "/oauth/client_credential/accesstoken"
FORM_FIELDS = ("client_id", "client_secret")
ERROR_BODY: Any = component("ErrorResponse")
TOKEN_BODY = {
    "type": "object",
    "properties": {
        "access_token": {"type": "string"},
        "token_type": {"type": "string", "example": "Bearer"},
        "expires_in": {"type": "string", "description": "seconds, as a string (as KPN's)"},
        "issued_at": {"type": "string", "description": "unix milliseconds, as a string"},
        "client_id": {"type": "string"},
        "status": {"type": "string", "example": "approved"},
        "scope": {"type": "string"},
        "refresh_token": {"type": "string"},
        "refresh_token_expires_in": {"type": "string"},
        "refresh_count": {"type": "string"},
    },
    "required": ["access_token", "token_type", "expires_in", "issued_at", "client_id"],
}
TOKEN_REQUEST: dict[str, Any] = {
    "parameters": [
        {
            "name": "grant_type",
            "in": "query",
            "required": True,
            "description": "must be client_credentials",
            "schema": {"type": "string", "enum": ["client_credentials"]},
        }
    ],
    "requestBody": {
        "required": True,
        "content": {
            "application/json": {
                "schema": {
                    "type": "object",
                    "properties": {name: {"type": "string"} for name in FORM_FIELDS},
                    "required": list(FORM_FIELDS),
                }
            }
        },
    },
}


def _text(form: dict[str, Any], name: str) -> str | None:
    value = form.get(name)
    if value is not None and not isinstance(value, str):
        raise BadRequest(f"{name} must be a string", name)
    return value


def token_router() -> Router:
    router = ApiRouter(forms=[TOKEN_PATH], requests={TOKEN_PATH: TOKEN_REQUEST})

    @router.post(
        TOKEN_PATH,
        summary="Get an access token (OAuth 2 client credentials, as KPN)",
        description="Form fields `client_id` and `client_secret`; the token is valid for `expires_in` seconds.",
        tags=["Auth"],
        responses={
            200: {"description": "A bearer token", "content": {"application/json": {"schema": TOKEN_BODY}}},
            400: {"description": "Missing field", "content": ERROR_BODY},
            401: {
                "description": "Unknown client or wrong secret, or the account is disabled",
                "content": ERROR_BODY,
            },
        },
    )
    def access_token() -> dict[str, str]:
        form = event_body(router)
        grant_type = router.current_event.get_query_string_value("grant_type")
        token = service.issue_token(_text(form, "client_id"), _text(form, "client_secret"), grant_type)
        return asdict(token)

    return router
